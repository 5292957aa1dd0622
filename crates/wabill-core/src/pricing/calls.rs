//! CALL-3, pass 2: business-initiated calls the user accepted, priced by 6-second pulses at the
//! called number's market rate per minute from the card's calling table (the `call` column and
//! its minute bands in `tiers.csv`). The monthly volume counts pulses per portfolio, market and
//! WABA-local month in CONV-1 order (bands are in minutes: 10 pulses a minute), and a call is
//! priced whole at the rate of the band its **last** pulse falls in (Meta: a call that crosses
//! tiers is priced entirely at the higher-volume tier's rate). The price is the exact product,
//! rounded once, half to even, to 6 decimal places.

use std::collections::HashMap;

use crate::markets::MarketId;
use crate::money::Money;
use crate::rates::{RateCard, TierRate};
use crate::types::RateColumn;

/// CALL-3: a started 6-second pulse counts whole (a 56 s call is 10 pulses).
pub const PULSE_SECONDS: u64 = 6;

/// CALL-3: 10 pulses of 6 seconds make a minute.
pub const PULSES_PER_MINUTE: u64 = 10;

/// CALL-3: the pulses of a call of `seconds`.
pub fn pulses(seconds: u32) -> u64 {
    u64::from(seconds).div_ceil(PULSE_SECONDS)
}

/// CALL-3: pulses counted so far per market and WABA-local month, across the portfolio.
#[derive(Debug, Default)]
pub struct CallCounters(HashMap<(MarketId, u32), u64>);

impl CallCounters {
    /// Count a call of `pulses` in `market` and `month`: the 1-based monthly count of its last
    /// pulse (of the month's previous pulses for a call of none).
    pub fn take(&mut self, market: MarketId, month: u32, pulses: u64) -> u64 {
        let count = self.0.entry((market, month)).or_insert(0);
        *count = count.saturating_add(pulses);
        (*count).max(1)
    }
}

/// The minute (1-based) that holds the month's `pulse`-th pulse.
pub fn minute_of(pulse: u64) -> u64 {
    pulse.div_ceil(PULSES_PER_MINUTE).max(1)
}

/// CALL-3: the price of a call of `pulses` whose last pulse is the month's `last`-th: `None`
/// when the card has no rate for it (RATE-4; `Err` carries the minute beyond the bands).
pub fn call3_price(
    card: Option<&RateCard>,
    market: MarketId,
    pulses: u64,
    last: u64,
) -> Result<Money, Option<u64>> {
    let card = card.ok_or(None)?;
    let minute = minute_of(last);
    let rate = match card.tier_rate(market, RateColumn::Call, minute) {
        TierRate::Rate(r) => r,
        TierRate::NoTable => card.rate(market, RateColumn::Call).ok_or(None)?,
        TierRate::BeyondTable => return Err(Some(minute)),
    };
    rate.times_ratio(pulses, PULSES_PER_MINUTE).ok_or(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rates::{Band, Cell};
    use chrono::NaiveDate;

    fn card() -> RateCard {
        let mut c = RateCard::new("XTS", NaiveDate::from_ymd_opt(2026, 7, 1).unwrap(), "test");
        c.set(0, RateColumn::Call, Cell::Rate(Money(20_000)));
        c.set_tiers(
            0,
            RateColumn::Call,
            vec![
                Band {
                    from: 1,
                    to: Some(10),
                    rate: Money(20_000),
                },
                Band {
                    from: 11,
                    to: None,
                    rate: Money(10_000),
                },
            ],
        );
        c
    }

    #[test]
    fn call3_a_started_pulse_counts_whole() {
        assert_eq!(pulses(56), 10);
        assert_eq!(pulses(60), 10);
        assert_eq!(pulses(61), 11);
        assert_eq!(pulses(1), 1);
        assert_eq!(pulses(0), 0);
    }

    #[test]
    fn call3_a_call_that_crosses_a_tier_is_priced_whole_at_its_last_pulse() {
        let c = card();
        let mut n = CallCounters::default();
        // 95 pulses: minutes 1..10, all in the first band.
        let last = n.take(0, 1, 95);
        assert_eq!(call3_price(Some(&c), 0, 95, last), Ok(Money(190_000)));
        // 10 more pulses: pulses 96..105, the last in minute 11 → the whole call at 0.01.
        let last = n.take(0, 1, 10);
        assert_eq!(last, 105);
        assert_eq!(call3_price(Some(&c), 0, 10, last), Ok(Money(10_000)));
        // Another month starts again at the list band.
        let last = n.take(0, 2, 10);
        assert_eq!(call3_price(Some(&c), 0, 10, last), Ok(Money(20_000)));
    }

    #[test]
    fn call3_without_a_rate_is_rate4() {
        let c = RateCard::new("XTS", NaiveDate::from_ymd_opt(2026, 7, 1).unwrap(), "test");
        assert_eq!(call3_price(Some(&c), 0, 10, 10), Err(None));
        assert_eq!(call3_price(None, 0, 10, 10), Err(None));
    }
}
