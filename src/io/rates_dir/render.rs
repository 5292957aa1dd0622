//! Meta's rows in the rates directory's own layout: `rates.csv` and `tiers.csv` as text.

use std::collections::BTreeSet;

use crate::billing::types::RateColumn;
use crate::io::meta_layout::{PricingRow, RateCell, TierRow};

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// `rates.csv`: `market,currency,<the rate columns present, in id order>,source`.
pub(super) fn rates_csv(rows: &[PricingRow], currency: &str, source: &str) -> String {
    let mut cols: Vec<RateColumn> = Vec::new();
    for r in rows {
        for (c, _) in &r.cells {
            if !cols.contains(c) {
                cols.push(*c);
            }
        }
    }
    cols.sort();
    let mut out = String::from("market,currency");
    for c in &cols {
        out.push(',');
        out.push_str(c.id());
    }
    out.push_str(",source\n");
    for r in rows {
        out.push_str(&csv_field(&r.market));
        out.push(',');
        out.push_str(currency);
        for c in &cols {
            out.push(',');
            match r.cell(*c) {
                Some(RateCell::Rate(d)) => out.push_str(&d.to_string()),
                Some(RateCell::NotOffered) => out.push_str("n/a"),
                Some(RateCell::Unknown) | None => {}
            }
        }
        out.push(',');
        out.push_str(&csv_field(&format!("{source} line {}", r.line)));
        out.push('\n');
    }
    out
}

/// `tiers.csv`, and how many tier tables (market × category) it holds.
pub(super) fn tiers_csv(rows: &[TierRow], source: &str) -> (String, usize) {
    let mut out =
        String::from("market,category,tier,volume_from,volume_to,rate,discount_vs_list,source\n");
    let mut tables = BTreeSet::new();
    for r in rows {
        tables.insert((r.market.clone(), r.column));
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{}\n",
            csv_field(&r.market),
            r.column.id(),
            r.tier,
            r.from,
            r.to.map(|t| t.to_string()).unwrap_or_default(),
            r.rate,
            r.vs_list.clone().unwrap_or_default(),
            csv_field(&format!("{source} line {}", r.line)),
        ));
    }
    (out, tables.len())
}
