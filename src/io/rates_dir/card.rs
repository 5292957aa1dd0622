//! One card folder (`<CUR>/<YYYY-MM-DD>/`) into a [`RateCard`]: `rates.csv`, one row per
//! market, and the optional `tiers.csv` (`tiers`). Every cell is checked as it is read; a card
//! with a problem is not used at all.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use crate::billing::markets::{MarketId, MarketTable};
use crate::billing::money::Money;
use crate::billing::rates::{Cell, RateCard};
use crate::billing::types::RateColumn;
use crate::io::meta_layout::{currency_code, parse_rate_cell, RateCell};

use super::findings::{Findings, Problem};
use super::table::{read_table, Shape, Table};
use super::tiers::read_tiers;
use super::{RATES_FILE, TIERS_FILE};

/// A card folder: its currency and date (from the folder names) and where it is.
#[derive(Debug, Clone)]
pub(super) struct CardFolder {
    pub currency: String,
    pub date: NaiveDate,
    pub path: PathBuf,
}

/// The markets a card names, by lower-case name: the id, the name as written and its line.
pub(super) type CardMarkets = HashMap<String, (MarketId, String, usize)>;

/// The market table of the directory, and how many of its names came from `market_map.csv`
/// (ids below that are mapped; cards may add others).
pub(super) struct Markets<'a> {
    pub table: &'a mut MarketTable,
    pub mapped: usize,
}

impl Markets<'_> {
    pub fn is_mapped(&self, id: MarketId) -> bool {
        (id as usize) < self.mapped
    }
}

/// `rates.csv`'s columns: the rate columns by id, besides these.
const RATES_REQUIRED: &[&str] = &["market"];
const RATES_OPTIONAL: &[&str] = &[
    "currency",
    "marketing",
    "utility",
    "authentication",
    "authentication_international",
    "service",
    "business_initiated",
    "user_initiated",
    "meta_business_agent",
    "general_purpose_ai",
    "call",
    "source",
];

/// Reads the card in `folder`; `None` when it has a problem (all of them in `f`).
pub(super) fn read_card(
    root: &Path,
    folder: &CardFolder,
    markets: &mut Markets,
    f: &mut Findings,
) -> Option<RateCard> {
    let before = f.problems.len();
    let rel = folder.path.strip_prefix(root).unwrap_or(&folder.path);
    let mut card = RateCard::new(&folder.currency, folder.date, &rel.display().to_string());
    let shape = Shape {
        required: RATES_REQUIRED,
        optional: RATES_OPTIONAL,
    };
    let table = read_table(&folder.path.join(RATES_FILE), &shape, f)?;
    let names = read_rates(&table, folder, markets, &mut card, f);
    let tiers = folder.path.join(TIERS_FILE);
    if tiers.exists() {
        read_tiers(&tiers, folder, &names, markets, &mut card, f);
    }
    (f.problems.len() == before).then_some(card)
}

/// The rows of `rates.csv` into `card`; the markets it names.
fn read_rates(
    table: &Table,
    folder: &CardFolder,
    markets: &mut Markets,
    card: &mut RateCard,
    f: &mut Findings,
) -> CardMarkets {
    let market_ix = table.col("market").expect("required column");
    let currency_ix = table.col("currency");
    let cols: Vec<(usize, RateColumn)> = (0..table.columns.len())
        .filter_map(|i| RateColumn::from_id(&table.columns[i]).map(|c| (i, c)))
        .collect();
    if cols.is_empty() {
        f.problem(Problem::line(
            &table.path,
            table.header_line,
            "the header names no rate column (marketing, utility, authentication, …)",
        ));
    }
    let mut names = CardMarkets::new();
    for row in &table.rows {
        let market = row.get(market_ix);
        if market.is_empty() {
            f.problem(table.cell_problem(
                row,
                market_ix,
                "missing market name in a row with values",
            ));
            continue;
        }
        let twice = names
            .get(&market.to_lowercase())
            .map(|(_, _, first)| *first);
        if let Some(first) = twice {
            f.problem(table.cell_problem(
                row,
                market_ix,
                format!(
                    "market appears twice in this card (first on line {first}): one row would \
                     silently replace the other"
                ),
            ));
        }
        if let Some(i) = currency_ix {
            check_currency(table, row, i, &folder.currency, f);
        }
        let id = markets.table.intern(market);
        if twice.is_some() {
            // Its cells are still checked, so that every problem is named at once.
            for &(i, _) in &cols {
                if let Err(why) = rate_cell(row.get(i)) {
                    f.problem(table.cell_problem(row, i, why));
                }
            }
            continue;
        }
        if !markets.is_mapped(id) {
            f.note(format!(
                "{}: line {}: market `{market}` is not in market_map.csv: no number maps to it",
                table.path.display(),
                row.line
            ));
        }
        names.insert(market.to_lowercase(), (id, market.to_string(), row.line));
        for &(i, col) in &cols {
            match rate_cell(row.get(i)) {
                Ok(cell) => card.set(id, col, cell),
                Err(why) => f.problem(table.cell_problem(row, i, why)),
            }
        }
    }
    if table.rows.is_empty() {
        f.problem(Problem::at(&table.path, "no market rows under the header"));
    }
    names
}

/// A currency cell must name the folder's currency (blank is allowed).
pub(super) fn check_currency(
    table: &Table,
    row: &crate::io::meta_layout::Record,
    col: usize,
    currency: &str,
    f: &mut Findings,
) {
    let v = row.get(col);
    if v.is_empty() {
        return;
    }
    match currency_code(v) {
        Some(code) if code == currency => {}
        Some(code) => f.problem(table.cell_problem(
            row,
            col,
            format!("the cell says {code}, but the card is in the folder of {currency}"),
        )),
        None => f.problem(table.cell_problem(
            row,
            col,
            format!("not a currency code (the card's folder says {currency})"),
        )),
    }
}

/// A rate cell as the rates directory writes it: a rate (exact to 6 places, at most
/// `Money::MAX_RATE`), `n/a` or blank (unknown).
fn rate_cell(v: &str) -> Result<Cell, String> {
    match parse_rate_cell(v)? {
        RateCell::Rate(d) => Money::from_decimal(d)
            .map(Cell::Rate)
            .map_err(|e| e.to_string()),
        RateCell::NotOffered => Ok(Cell::NotOffered),
        RateCell::Unknown => Ok(Cell::Unknown),
    }
}
