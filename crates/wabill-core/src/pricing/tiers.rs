//! PMP-4, the volume tiers (billing-rules.md §3): utility and authentication messages are counted
//! per portfolio × market × category group × WABA-local month (authentication and
//! authentication-international share one counter), and the n-th charged message of the month
//! pays the rate of the band whose inclusive range holds n. A market without a tier table pays
//! the list rate; a count beyond the last band of a partial table is a missing rate (RATE-4).
//!
//! The replay prices one message at a time, an estimate a whole volume at once: both count with
//! [`TierCounters`] and find bands with [`band_at`].

use std::collections::HashMap;

use crate::markets::MarketId;
use crate::money::{Money, Overflow};
use crate::rates::{Band, RateCard, TierRate};
use crate::types::RateColumn;

/// PMP-4: the messages counted so far per market, category group and WABA-local month, across
/// the portfolio's WABAs.
#[derive(Debug, Default)]
pub struct TierCounters(HashMap<(MarketId, bool, u32), u64>);

impl TierCounters {
    /// Count the next `n` charged messages of `col` in `market` and `month`: the 1-based monthly
    /// count of the first of them.
    pub fn take(&mut self, market: MarketId, col: RateColumn, month: u32, n: u64) -> u64 {
        let auth = matches!(
            col,
            RateColumn::Authentication | RateColumn::AuthenticationInternational
        );
        let count = self.0.entry((market, auth, month)).or_insert(0);
        let first = count.saturating_add(1);
        *count = count.saturating_add(n);
        first
    }
}

/// PMP-4: the band holding the `count`-th (1-based) message of the month; `None` beyond the
/// last band of a partial table.
pub fn band_at(bands: &[Band], count: u64) -> Option<&Band> {
    bands
        .iter()
        .find(|b| b.from <= count && b.to.is_none_or(|t| count <= t))
}

impl RateCard {
    /// PMP-4: the rate of the `n`-th (1-based) charged message of the month.
    pub fn tier_rate(&self, market: MarketId, col: RateColumn, n: u64) -> TierRate {
        match self.tiers(market, col) {
            None => TierRate::NoTable,
            Some(bands) => band_at(bands, n)
                .map(|b| TierRate::Rate(b.rate))
                .unwrap_or(TierRate::BeyondTable),
        }
    }
}

/// Messages of one line priced in one band of a tier table, or at the list rate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BandUse {
    /// For a tier band: the first and last monthly counts (1-based) these messages took;
    /// `None` at the list rate of a market without a tier table.
    pub counts: Option<(u64, u64)>,
    pub rate: Money,
    pub messages: u64,
    pub amount: Money,
}

/// Why [`graduated`] could not price a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unpriced {
    /// The first monthly count no band covers (RATE-4).
    Beyond(u64),
    /// A band's amount beyond [`Money::MAX`].
    Overflow(Overflow),
}

/// PMP-4: price the messages `first..first + n` (1-based monthly counts, `n` ≥ 1) with a
/// graduated table; every amount checked.
pub fn graduated(bands: &[Band], first: u64, n: u64) -> Result<Vec<BandUse>, Unpriced> {
    let mut out = Vec::new();
    let last = first.saturating_add(n - 1);
    let mut c = first;
    while c <= last {
        let Some(b) = band_at(bands, c) else {
            return Err(Unpriced::Beyond(c));
        };
        let end = b.to.map_or(last, |t| t.min(last));
        let k = end - c + 1;
        out.push(BandUse {
            counts: Some((c, end)),
            rate: b.rate,
            messages: k,
            amount: b.rate.times_or_overflow(k).map_err(Unpriced::Overflow)?,
        });
        if end == u64::MAX {
            break;
        }
        c = end + 1;
    }
    Ok(out)
}

/// The price of one tiered message of the replay, the `count`-th of its month.
pub(crate) enum TierPrice {
    /// The list rate (`None`: the card has none, or no card is in force): a market without a
    /// tier table, or the month's first message at a band rate equal to the list rate.
    List(Option<Money>),
    /// A band's rate, which the ledger names PMP-4.
    Band(Money),
    /// Beyond the last band of a partial table (RATE-4).
    Beyond,
}

/// PMP-4 for one message of the replay.
pub(crate) fn pmp4_price(
    card: Option<&RateCard>,
    market: MarketId,
    col: RateColumn,
    count: u64,
) -> TierPrice {
    let list = || card.and_then(|c| c.rate(market, col));
    match card.map(|c| c.tier_rate(market, col, count)) {
        None => TierPrice::List(None),
        Some(TierRate::NoTable) => TierPrice::List(list()),
        Some(TierRate::Rate(r)) => {
            if count > 1 || r != list().unwrap_or(r) {
                TierPrice::Band(r)
            } else {
                TierPrice::List(Some(r))
            }
        }
        Some(TierRate::BeyondTable) => TierPrice::Beyond,
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    fn m(s: &str) -> Money {
        Money::parse(s).unwrap()
    }

    #[test]
    fn pmp4_bands_are_inclusive_and_partial_tables_end() {
        let mut c = RateCard::new("USD", NaiveDate::from_ymd_opt(2026, 10, 1).unwrap(), "x");
        c.set_tiers(
            1,
            RateColumn::Utility,
            vec![
                Band {
                    from: 0,
                    to: Some(3),
                    rate: m("0.0040"),
                },
                Band {
                    from: 4,
                    to: None,
                    rate: m("0.0038"),
                },
            ],
        );
        c.set_tiers(
            2,
            RateColumn::Utility,
            vec![Band {
                from: 0,
                to: Some(2),
                rate: m("0.0091"),
            }],
        );
        assert_eq!(
            c.tier_rate(1, RateColumn::Utility, 1),
            TierRate::Rate(m("0.0040"))
        );
        assert_eq!(
            c.tier_rate(1, RateColumn::Utility, 3),
            TierRate::Rate(m("0.0040"))
        );
        assert_eq!(
            c.tier_rate(1, RateColumn::Utility, 4),
            TierRate::Rate(m("0.0038"))
        );
        assert_eq!(
            c.tier_rate(2, RateColumn::Utility, 3),
            TierRate::BeyondTable
        );
        assert_eq!(c.tier_rate(3, RateColumn::Utility, 3), TierRate::NoTable);
    }

    #[test]
    fn pmp4_graduated_splits_a_row_across_bands_and_stops_beyond_a_partial_table() {
        let bands = [
            Band {
                from: 0,
                to: Some(100),
                rate: m("0.004"),
            },
            Band {
                from: 101,
                to: Some(200),
                rate: m("0.0038"),
            },
        ];
        let b = graduated(&bands, 91, 20).unwrap();
        assert_eq!(
            b.iter()
                .map(|b| (b.counts, b.messages, b.amount))
                .collect::<Vec<_>>(),
            vec![
                (Some((91, 100)), 10, m("0.04")),
                (Some((101, 110)), 10, m("0.038")),
            ]
        );
        assert_eq!(graduated(&bands, 150, 100), Err(Unpriced::Beyond(201)));
    }

    #[test]
    fn pmp4_authentication_and_international_share_a_counter_per_market_and_month() {
        let mut t = TierCounters::default();
        assert_eq!(t.take(1, RateColumn::Authentication, 7, 10), 1);
        assert_eq!(t.take(1, RateColumn::AuthenticationInternational, 7, 1), 11);
        assert_eq!(t.take(1, RateColumn::Utility, 7, 1), 1);
        assert_eq!(t.take(2, RateColumn::Authentication, 7, 1), 1);
        assert_eq!(t.take(1, RateColumn::Authentication, 8, 1), 1);
    }
}
