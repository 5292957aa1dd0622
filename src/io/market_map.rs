//! `market_map.csv`'s syntax (formats.md §3): columns found by name, rows handed to the core's
//! [`MarketTableBuilder`], which checks them.

use crate::billing::markets::{MarketRow, MarketTable, MarketTableBuilder, MarketTableError};

/// Parse `market_map.csv` (columns by name: country_iso2, market, network_prefixes, valid_from,
/// valid_to; a `*` country is the fallback market).
pub fn parse_market_map(text: &str) -> Result<MarketTable, MarketTableError> {
    let mut rdr = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let headers = rdr
        .headers()
        .map_err(|e| MarketTableError::Csv(e.to_string()))?
        .clone();
    let col = |name: &str| -> Result<usize, MarketTableError> {
        headers
            .iter()
            .position(|h| h.trim() == name)
            .ok_or_else(|| MarketTableError::Csv(format!("missing column `{name}`")))
    };
    let (c_country, c_market, c_prefix, c_from, c_to) = (
        col("country_iso2")?,
        col("market")?,
        col("network_prefixes")?,
        col("valid_from")?,
        col("valid_to")?,
    );
    let c_name = col("country_name").ok();
    let mut table = MarketTableBuilder::default();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| MarketTableError::Csv(e.to_string()))?;
        let cell = |c: usize| rec.get(c).unwrap_or("");
        table.add(MarketRow {
            row: i + 1,
            country_iso2: cell(c_country),
            market: cell(c_market),
            network_prefixes: cell(c_prefix),
            valid_from: cell(c_from),
            valid_to: cell(c_to),
            country_name: c_name.map_or("", cell),
        })?;
    }
    Ok(table.finish())
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::billing::types::Country;

    #[test]
    fn columns_are_found_by_name_and_quoted_cells_read() {
        let t = parse_market_map(
            "market,valid_to,country_iso2,network_prefixes,valid_from\n\
             \"Rest of Latin America\",,DO,809 829,\n\
             India,,IN,,2025-01-01\n\
             Other,,*,,\n",
        )
        .unwrap();
        let d = NaiveDate::from_ymd_opt(2025, 8, 1).unwrap();
        assert_eq!(t.country_of_number("18095550123").unwrap(), Country(*b"DO"));
        assert_eq!(t.name(t.market_of(Country(*b"IN"), d)), "India");
        assert_eq!(t.name(t.market_of(Country(*b"FR"), d)), "Other");
        let e = parse_market_map("country_iso2,market\nIN,India\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "market table: missing column `network_prefixes`"
        );
        let e =
            parse_market_map("country_iso2,market,network_prefixes,valid_from,valid_to\nIN,,,,\n")
                .unwrap_err();
        assert_eq!(e.to_string(), "market table, row 1: empty market");
    }
}
