//! The rate cards for people (`wabill rates list | show | check`): the cards of a rates
//! directory, the rates of one card for some markets with their volume-tier bands, and what a
//! check of the directory found.

use std::fmt::Write;
use std::path::Path;

use chrono::NaiveDate;

use crate::billing::markets::MarketId;
use crate::billing::rates::{Cell, RateBook, RateCard};
use crate::billing::types::RateColumn;
use crate::io::rates_dir::Check;

/// `rates list`: one line per card (currency, date, markets, tier tables, columns).
pub fn list(root: &Path, book: &RateBook) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "rates directory: {}", root.display());
    let _ = writeln!(
        out,
        "{:<8} {:<10} {:>7} {:>6}  columns",
        "currency", "effective", "markets", "tiers"
    );
    for c in &book.cards {
        let cols: Vec<&str> = RateColumn::ALL
            .iter()
            .filter(|col| c.columns[col.index()])
            .map(|col| col.id())
            .collect();
        let _ = writeln!(
            out,
            "{:<8} {:<10} {:>7} {:>6}  {}",
            c.currency,
            c.effective,
            c.markets().count(),
            c.tier_tables().count(),
            cols.join(" ")
        );
    }
    out
}

/// `rates check`: one line per problem (file, line, column, value, why), one per note, then a
/// count.
pub fn check(root: &Path, check: &Check) -> String {
    let mut out = String::new();
    for p in &check.findings.problems {
        let _ = writeln!(out, "{p}");
    }
    for n in &check.findings.notes {
        let _ = writeln!(out, "note: {n}");
    }
    let problems = check.findings.problems.len();
    let _ = writeln!(
        out,
        "rates directory {}: {} card(s) load, {} problem(s){}",
        root.display(),
        check.cards,
        problems,
        if problems == 0 {
            ""
        } else {
            ": replays refuse this directory until they are fixed"
        }
    );
    out
}

/// `rates show`, first line: which `currency` card is in force on `date`, and how cells read.
pub fn card_heading(currency: &str, card: &RateCard, date: NaiveDate) -> String {
    format!(
        "{currency} card effective {} ({}), in force on {date}; `?` = unknown, n/a = not offered\n",
        card.effective, card.source
    )
}

/// `rates show`, the table: one line per market (`(name, id)`, in the order given) with a
/// cell per column the card has, then the market's tier bands.
pub fn card_table(card: &RateCard, markets: &[(String, MarketId)]) -> String {
    let cols: Vec<RateColumn> = RateColumn::ALL
        .into_iter()
        .filter(|c| card.columns[c.index()])
        .collect();
    let mut out = String::new();
    let _ = write!(out, "{:<34}", "market");
    for c in &cols {
        let _ = write!(
            out,
            " {:>12}",
            c.id().replace("authentication_international", "auth_intl")
        );
    }
    out.push('\n');
    for (name, m) in markets {
        let _ = write!(out, "{name:<34}");
        for c in &cols {
            let _ = write!(out, " {:>12}", cell(card.cell(*m, *c)));
        }
        out.push('\n');
        for c in &cols {
            for b in card.tiers(*m, *c).unwrap_or_default() {
                let _ = writeln!(
                    out,
                    "    {} tier {:>10}..{:<10} {}",
                    c.id(),
                    b.from,
                    b.to.map(|t| t.to_string()).unwrap_or_else(|| "".into()),
                    b.rate
                );
            }
        }
    }
    out
}

fn cell(c: Cell) -> String {
    match c {
        Cell::Rate(m) => m.to_decimal_string(),
        Cell::NotOffered => "n/a".into(),
        Cell::Unknown => "?".into(),
    }
}
