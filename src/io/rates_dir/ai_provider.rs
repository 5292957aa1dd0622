//! AIP-1's data table beside the market table: `ai_provider.csv`, the markets and periods in
//! which a portfolio marked as an AI provider is charged the card's `general_purpose_ai` rate
//! per delivered non-template message (`market,from,until,source`; `from` inclusive, `until`
//! exclusive and optional, both dates in the WABA's time zone). Optional: without the file no
//! market is listed.

use std::path::Path;

use chrono::NaiveDate;

use crate::billing::markets::{AiProviderPeriod, MarketTable};

use super::findings::Findings;
use super::table::{read_table, Shape};

pub const AI_PROVIDER_FILE: &str = "ai_provider.csv";

/// Reads `root/ai_provider.csv` into `markets` when it exists; every problem into `f`.
pub(super) fn read_ai_provider(root: &Path, markets: &mut MarketTable, f: &mut Findings) {
    let path = root.join(AI_PROVIDER_FILE);
    if !path.exists() {
        return;
    }
    let shape = Shape {
        required: &["market", "from"],
        optional: &["until", "source"],
    };
    let Some(table) = read_table(&path, &shape, f) else {
        return;
    };
    let (m, from, until) = (
        table.col("market").expect("required column"),
        table.col("from").expect("required column"),
        table.col("until"),
    );
    let date = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
    let mut periods = Vec::new();
    for row in &table.rows {
        let Some(market) = markets.id(row.get(m)) else {
            f.problem(table.cell_problem(
                row,
                m,
                "not a market of market_map.csv (AIP-1 lists rate-card markets)",
            ));
            continue;
        };
        let Some(start) = date(row.get(from)) else {
            f.problem(table.cell_problem(row, from, "not a date (YYYY-MM-DD)"));
            continue;
        };
        let end = match until.map(|u| row.get(u)).filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => match date(s) {
                Some(d) if d > start => Some(d),
                Some(_) => {
                    let u = until.expect("column");
                    f.problem(table.cell_problem(row, u, "`until` must come after `from`"));
                    continue;
                }
                None => {
                    let u = until.expect("column");
                    f.problem(table.cell_problem(row, u, "not a date (YYYY-MM-DD)"));
                    continue;
                }
            },
        };
        periods.push(AiProviderPeriod {
            market,
            from: start,
            until: end,
        });
    }
    markets.set_ai_provider(periods);
}
