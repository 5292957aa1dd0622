//! A card's `tiers.csv` (PMP-4): one row per volume band, grouped by market and category into
//! tier tables. A table is for a market of the card (and of the market table), and its bands
//! cover the month from the first message on, without gaps or overlaps (the core's
//! [`check_bands`]).

use std::collections::BTreeMap;
use std::path::Path;

use crate::billing::markets::MarketId;
use crate::billing::money::Money;
use crate::billing::rates::{check_bands, Band, BandProblem, RateCard};
use crate::billing::types::RateColumn;
use crate::io::meta_layout::{is_open_end, parse_decimal_rate, parse_volume, Record};

use super::card::{check_currency, CardFolder, CardMarkets, Markets};
use super::findings::Findings;
use super::table::{read_table, Shape, Table};

const TIERS_REQUIRED: &[&str] = &["market", "category", "volume_from", "volume_to", "rate"];
const TIERS_OPTIONAL: &[&str] = &[
    "effective_date",
    "currency",
    "tier",
    "discount_vs_list",
    "source",
];

/// The column indices of `tiers.csv`.
struct Cols {
    market: usize,
    category: usize,
    from: usize,
    to: usize,
    rate: usize,
    effective: Option<usize>,
    currency: Option<usize>,
    tier: Option<usize>,
}

impl Cols {
    fn of(t: &Table) -> Cols {
        let req = |n: &str| t.col(n).expect("required column");
        Cols {
            market: req("market"),
            category: req("category"),
            from: req("volume_from"),
            to: req("volume_to"),
            rate: req("rate"),
            effective: t.col("effective_date"),
            currency: t.col("currency"),
            tier: t.col("tier"),
        }
    }
}

/// The bands of one tier table, each with its row.
type Bands<'t> = Vec<(Band, &'t Record)>;

/// Reads `path` into the tier tables of `card`.
pub(super) fn read_tiers(
    path: &Path,
    folder: &CardFolder,
    names: &CardMarkets,
    markets: &Markets,
    card: &mut RateCard,
    f: &mut Findings,
) {
    let shape = Shape {
        required: TIERS_REQUIRED,
        optional: TIERS_OPTIONAL,
    };
    let Some(table) = read_table(path, &shape, f) else {
        return;
    };
    let cols = Cols::of(&table);
    let mut tables: BTreeMap<(MarketId, RateColumn), (String, Bands)> = BTreeMap::new();
    for row in &table.rows {
        let before = f.problems.len();
        let key = table_of(&table, &cols, row, names, markets, f);
        check_row(&table, &cols, row, folder, f);
        let band = band(&table, &cols, row, f);
        if let (Some((id, col, name)), Some(band), true) = (key, band, f.problems.len() == before) {
            tables
                .entry((id, col))
                .or_insert_with(|| (name, Vec::new()))
                .1
                .push((band, row));
        }
    }
    for ((id, col), (name, bands)) in tables {
        check_table(&table, &cols, &name, col, &bands, f);
        card.set_tiers(id, col, bands.into_iter().map(|(b, _)| b).collect());
    }
}

/// Which tier table a row belongs to: a market of the card (and of `market_map.csv`) and a
/// tiered category.
fn table_of(
    t: &Table,
    c: &Cols,
    row: &Record,
    names: &CardMarkets,
    markets: &Markets,
    f: &mut Findings,
) -> Option<(MarketId, RateColumn, String)> {
    let market = row.get(c.market);
    let known = if market.is_empty() {
        f.problem(t.cell_problem(row, c.market, "missing market name"));
        None
    } else if let Some((id, name, _)) = names.get(&market.to_lowercase()) {
        if markets.is_mapped(*id) {
            Some((*id, name.clone()))
        } else {
            f.problem(t.cell_problem(
                row,
                c.market,
                "tier table for a market that is not in market_map.csv: no number maps to it \
                 (misspelled?)",
            ));
            None
        }
    } else {
        f.problem(t.cell_problem(
            row,
            c.market,
            "tier table for a market that is not on this card's rates.csv (misspelled?)",
        ));
        None
    };
    let category = row.get(c.category);
    let col = RateColumn::from_id(category).filter(RateColumn::has_bands);
    if col.is_none() {
        f.problem(t.cell_problem(
            row,
            c.category,
            "not a tiered category (utility, authentication, authentication_international, or call: minutes, CALL-3)",
        ));
    }
    let (id, name) = known?;
    Some((id, col?, name))
}

/// The optional cells: the card's date and currency if written, a tier name.
fn check_row(t: &Table, c: &Cols, row: &Record, folder: &CardFolder, f: &mut Findings) {
    if let Some(i) = c.effective {
        let v = row.get(i);
        let date = folder.date.format("%Y-%m-%d").to_string();
        if !v.is_empty() && v != date {
            f.problem(t.cell_problem(
                row,
                i,
                format!("the row says another date than its card's folder ({date})"),
            ));
        }
    }
    if let Some(i) = c.currency {
        check_currency(t, row, i, &folder.currency, f);
    }
    if let Some(i) = c.tier {
        let v = row.get(i);
        let ok = v.is_empty() || v == "list" || v.bytes().all(|b| b.is_ascii_digit());
        if !ok {
            f.problem(t.cell_problem(row, i, "not a tier (`list` or a tier number)"));
        }
    }
}

/// The band of a row: `volume_from` (blank: 0), `volume_to` (blank or `--`: open-ended), rate.
fn band(t: &Table, c: &Cols, row: &Record, f: &mut Findings) -> Option<Band> {
    let from = match row.get(c.from) {
        "" => Some(0),
        v => parse_volume(v)
            .map_err(|why| f.problem(t.cell_problem(row, c.from, why)))
            .ok(),
    };
    let to = match row.get(c.to) {
        v if v.is_empty() || is_open_end(v) => Some(None),
        v => parse_volume(v)
            .map(Some)
            .map_err(|why| f.problem(t.cell_problem(row, c.to, why)))
            .ok(),
    };
    let rate = match row.get(c.rate) {
        "" => Err("missing rate".to_string()),
        v => parse_decimal_rate(v).and_then(|d| Money::from_decimal(d).map_err(|e| e.to_string())),
    }
    .map_err(|why| f.problem(t.cell_problem(row, c.rate, why)))
    .ok();
    Some(Band {
        from: from?,
        to: to?,
        rate: rate?,
    })
}

/// PMP-4: the bands of one table cover the month without gaps or overlaps.
fn check_table(
    t: &Table,
    c: &Cols,
    market: &str,
    col: RateColumn,
    bands: &Bands,
    f: &mut Findings,
) {
    let plain: Vec<Band> = bands.iter().map(|(b, _)| *b).collect();
    for issue in check_bands(&plain) {
        let row = bands[issue.band].1;
        let cell = match issue.problem {
            BandProblem::EndsBeforeStart => c.to,
            _ => c.from,
        };
        let why = issue.explain(&plain, |i| format!("line {}", bands[i].1.line));
        f.problem(t.cell_problem(row, cell, format!("{market} {}: {why}", col.id())));
    }
}
