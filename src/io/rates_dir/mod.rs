//! The rates directory: rate cards and the market table, as data files (RATE-1, RATE-2, MKT-2).
//!
//! ```text
//! rates/market_map.csv                 country → market, effective-dated (MKT-2)
//! rates/<CUR>/<YYYY-MM-DD>/rates.csv   market,currency,<rate columns…>,source
//! rates/<CUR>/<YYYY-MM-DD>/tiers.csv   market,category,tier,volume_from,volume_to,rate,source
//! rates/ai_provider.csv                AIP-1: market,from,until,source (optional)
//! ```
//! A card's `rates.csv` may also carry `meta_business_agent` (per million tokens, MBA-1),
//! `general_purpose_ai` (per message, AIP-1) and `call` (per minute of a business-initiated
//! call, CALL-3); its `tiers.csv` may give `call` bands in minutes.
//! The effective date and currency come from the folder names (Meta's files do not reliably
//! carry them). `wabill rates import` turns Meta's own `Pricing.csv` / `Tier Pricing.csv` into
//! this layout, so a new card is one command, and writes a card as a unit (`unit`).
//!
//! Rate data is never trusted blindly: [`check`] looks at the whole directory and names every
//! problem (file, line, column, value, why): folder names (`folders`), each file's shape
//! (`table`), each card's rows (`card`) and tier tables (`tiers`). [`load`] refuses a
//! directory with a problem; notes (leftovers of an interrupted import, a market no number
//! maps to) change no bill and are handed to the caller to print.

mod ai_provider;
mod card;
mod findings;
mod folders;
mod import;
mod render;
mod table;
mod tiers;
mod unit;

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::billing::markets::MarketTable;
use crate::billing::rates::RateBook;
use crate::io::market_map::parse_market_map;

pub use findings::{Findings, Problem};
pub use import::{import, ImportOptions, ImportReport};

use card::{read_card, Markets};
use findings::problems_error;

pub const MARKET_MAP: &str = "market_map.csv";
pub const RATES_FILE: &str = "rates.csv";
pub const TIERS_FILE: &str = "tiers.csv";
/// How wabill's own temporary folders in a rates directory begin (`rates import` builds a card
/// there before renaming it into place); [`load`] leaves them aside with a note.
pub const TEMP_PREFIX: &str = ".wabill-";

/// Everything loaded from a rates directory.
pub struct RatesDir {
    pub root: PathBuf,
    pub markets: MarketTable,
    pub book: RateBook,
    /// What was left aside without changing a bill (print them as notices).
    pub notes: Vec<String>,
}

/// What [`check`] found: the cards that load, every problem and every note.
pub struct Check {
    pub cards: usize,
    pub findings: Findings,
}

/// The market table of `root`, or the problem with it.
fn market_table(root: &Path, f: &mut Findings) -> Option<MarketTable> {
    let path = root.join(MARKET_MAP);
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            f.problem(Problem::at(&path, format!("cannot read: {e}")));
            return None;
        }
    };
    match parse_market_map(&text) {
        Ok(t) => Some(t),
        Err(e) => {
            f.problem(Problem::at(&path, e.to_string()));
            None
        }
    }
}

/// Everything under `root`, each problem and note found.
fn scan(root: &Path) -> (Option<(MarketTable, RateBook)>, Findings) {
    let mut f = Findings::default();
    if !root.is_dir() {
        f.problem(Problem::at(root, "rates directory does not exist"));
        return (None, f);
    }
    let markets = market_table(root, &mut f);
    let folders = folders::card_folders(root, &mut f);
    let Some(mut table) = markets else {
        return (None, f);
    };
    ai_provider::read_ai_provider(root, &mut table, &mut f);
    let mut markets = Markets {
        mapped: table.len(),
        table: &mut table,
    };
    let cards: Vec<_> = folders
        .iter()
        .filter_map(|folder| read_card(root, folder, &mut markets, &mut f))
        .collect();
    (Some((table, RateBook::new(cards))), f)
}

/// `wabill rates check`: every problem and note of the rates directory `root`.
pub fn check(root: &Path) -> Check {
    let (loaded, findings) = scan(root);
    Check {
        cards: loaded.map_or(0, |(_, book)| book.cards.len()),
        findings,
    }
}

/// Load `market_map.csv` and every card under `root`; an error naming every problem (up to a
/// screenful) if there is one.
pub fn load(root: &Path) -> Result<RatesDir> {
    let (loaded, findings) = scan(root);
    match loaded {
        Some((markets, book)) if findings.problems.is_empty() => Ok(RatesDir {
            root: root.to_path_buf(),
            markets,
            book,
            notes: findings.notes,
        }),
        _ => Err(problems_error(root, &findings.problems)),
    }
}
