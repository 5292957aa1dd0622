//! Reader for the rate-card files that Meta publishes for the WhatsApp Business Platform
//! (formats.md §3): `Pricing.csv` (one row per market, one column per rate) and
//! `Tier Pricing.csv` (volume bands per market for the tiered rate columns).
//!
//! The files are read as Meta ships them: title and note lines above the header are skipped,
//! the header row is found by its content (never by its line number), columns are matched by
//! name (case-insensitively, with whitespace, line breaks and punctuation normalized), and
//! the Tier Pricing groups are located by the row of group names above the header.
//!
//! This module only reads the layout. It does not know effective dates or ISO currency codes
//! (neither is reliably inside the files), and it does not check market names: the caller
//! decides those.
//!
//! Every error names the 1-based physical line of the file (a record whose quoted cell holds a
//! line break starts on the line given), and, for a cell, the column and the offending value.
//!
//! `records` reads the CSV with its lines, `cells` checks values, `pricing` and `tiers` read one
//! file each, `currency` finds the currency a file names; this file detects which file a text
//! is. The rates directory's own files are read with the same records and cells.

mod cells;
mod currency;
mod pricing;
mod records;
mod tiers;

pub use crate::billing::types::RateColumn;
pub(crate) use cells::{is_open_end, parse_decimal_rate, parse_rate_cell, parse_volume};
pub use cells::{RateCell, MAX_RATE_DECIMALS};
pub use currency::{currency_code, currency_mentions, CurrencyMention};
pub use pricing::{parse_pricing, PricingRow};
pub use records::MetaLayoutError;
pub(crate) use records::{read_records, Record};
pub use tiers::{parse_tier_pricing, TierRow};

use crate::billing::types::normalize_name;

use records::is_market_header;
use tiers::is_tier_header;

/// Which of Meta's rate-card files a text is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetaFileKind {
    /// `Pricing.csv`: one row per market.
    Pricing,
    /// `Tier Pricing.csv`: volume bands.
    TierPricing,
}

/// Which file is it? Looks at the content (the header rows), not the file name: a row with a
/// `Market …` cell, `From` and `Rate type` makes a Tier Pricing file; a row with a `Market`
/// cell and a rate-column name (`Marketing`, `Utility`, …) makes a Pricing file. `None` if
/// neither is found (or the text is not CSV).
pub fn detect_kind(text: &str) -> Option<MetaFileKind> {
    let records = read_records(text).ok()?;
    for record in &records.records {
        let names: Vec<String> = record.cells.iter().map(|c| normalize_name(c)).collect();
        if is_tier_header(&names) {
            return Some(MetaFileKind::TierPricing);
        }
        if names.iter().any(|n| is_market_header(n))
            && names.iter().any(|n| RateColumn::from_id(n).is_some())
        {
            return Some(MetaFileKind::Pricing);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_column_ids_round_trip() {
        for c in RateColumn::ALL {
            assert_eq!(RateColumn::from_id(c.id()), Some(c));
        }
        assert_eq!(RateColumn::from_id("Utility"), None);
        assert_eq!(
            RateColumn::from_header("User-Initiated"),
            Some(RateColumn::UserInitiated)
        );
    }
}
