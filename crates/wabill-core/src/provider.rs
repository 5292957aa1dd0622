//! Provider fees: what a Business Solution Provider (BSP) charges on top of Meta's bill.
//!
//! Meta bills the WABA's messages; most businesses reach WhatsApp through a provider that adds
//! its own fees: a price per message sent, received or failed, and a markup on Meta's charge per
//! category. They come from the optional `[provider]` section of the accounts file and are kept
//! apart from Meta's charges everywhere (separate lines, a separate total, then a grand total),
//! so the Meta figures never change because a provider is configured.
//!
//! Exactness: per-message fees are micro-units (like rates, at most 6 decimal places), so
//! `fee × count` is exact. A markup is a decimal fraction (`0.06` = 6 %): the product with
//! Meta's charge is computed exactly and rounded once per month and category, half to even to
//! 6 places ([`crate::money::ROUNDING`]).

use rust_decimal::Decimal;

use super::calendar::{month_label, WabaCalendar};
use super::model::{ChatKey, Event, Line, Outcome, Replay};
use super::money::{Money, Overflow};
use super::types::Kind;

/// The `[provider]` section of the accounts file (a typed value of [`crate::accounts`]).
pub use super::accounts::Provider;

/// Messages of one month (WABA-local) that per-message fees apply to.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MonthTally {
    /// `YYYY-MM`.
    pub month: String,
    /// Business messages delivered.
    pub sent: u64,
    /// Inbound messages.
    pub received: u64,
    /// Business messages not delivered.
    pub failed: u64,
}

/// One provider fee of one month: `amount` = `basis` × `rate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fee {
    pub month: String,
    /// `per_message_sent`, `per_message_received`, `per_failed_message` or
    /// `markup:<category>`.
    pub fee: String,
    /// What the rate multiplies: the message count, or Meta's charge for the category.
    pub basis: Decimal,
    /// Messages counted, or Meta's charged units of the category.
    pub count: u64,
    /// The unit fee, or the markup fraction.
    pub rate: Decimal,
    pub amount: Money,
}

/// The provider's side of a bill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderBill {
    pub name: String,
    /// By month, then in the order sent, received, failed, markups by category.
    pub fees: Vec<Fee>,
    pub total: Money,
}

/// Per-message fee counts of a replayed log, by WABA-local month (the month of each message in
/// its WABA's time zone, like the breakdown's lines), sorted by month.
pub fn tally(events: &[Event], chats: &[ChatKey], replay: &Replay) -> Vec<MonthTally> {
    tally_outcomes(events, chats, &replay.outcomes, &replay.calendars)
}

/// [`tally`] over outcomes indexed like `events`.
pub fn tally_outcomes(
    events: &[Event],
    chats: &[ChatKey],
    outcomes: &[Outcome],
    calendars: &[WabaCalendar],
) -> Vec<MonthTally> {
    let mut by_month: std::collections::BTreeMap<u32, MonthTally> = Default::default();
    for (e, o) in events.iter().zip(outcomes) {
        let waba = chats[e.chat as usize].waba as usize;
        let m = calendars[waba].info[o.period as usize].month;
        let t = by_month.entry(m).or_insert_with(|| MonthTally {
            month: month_label(m),
            ..MonthTally::default()
        });
        match e.kind {
            Kind::In { .. } => t.received += 1,
            Kind::Out { status, .. } | Kind::Bot { status, .. } if status.is_delivered() => {
                t.sent += 1
            }
            Kind::Out { .. } | Kind::Bot { .. } => t.failed += 1,
            // Calls are not messages: a provider's message fees do not count them.
            Kind::Call { .. } => {}
        }
    }
    by_month.into_values().collect()
}

impl Provider {
    /// The fees on a bill: `tallies` per month (any order), Meta's `lines` (any order).
    /// A fee that is not configured, or whose basis is zero, has no line. Every product and sum
    /// is checked: an amount beyond [`Money::MAX`] is an [`Overflow`] naming the fee.
    pub fn bill(&self, tallies: &[MonthTally], lines: &[Line]) -> Result<ProviderBill, Overflow> {
        let mut months: Vec<&str> = tallies
            .iter()
            .map(|t| t.month.as_str())
            .chain(lines.iter().map(|l| l.month.as_str()))
            .collect();
        months.sort_unstable();
        months.dedup();
        let mut fees = Vec::new();
        for month in months {
            let mut t = MonthTally::default();
            for x in tallies.iter().filter(|x| x.month == month) {
                t.sent += x.sent;
                t.received += x.received;
                t.failed += x.failed;
            }
            for (name, rate, count) in [
                ("per_message_sent", self.per_message_sent, t.sent),
                (
                    "per_message_received",
                    self.per_message_received,
                    t.received,
                ),
                ("per_failed_message", self.per_failed_message, t.failed),
            ] {
                if let Some(rate) = rate.filter(|_| count > 0) {
                    let amount = rate.checked_times(count).ok_or_else(|| {
                        Overflow(format!("provider fee {name} of {month}: {rate} × {count}"))
                    })?;
                    fees.push(Fee {
                        month: month.to_string(),
                        fee: name.to_string(),
                        basis: Decimal::from(count),
                        count,
                        rate: rate.to_decimal().normalize(),
                        amount,
                    });
                }
            }
            for (col, factor) in &self.markup {
                let (mut charge, mut units) = (Money::ZERO, 0u64);
                for l in lines
                    .iter()
                    .filter(|l| l.month == month && l.category == col.id())
                {
                    charge = charge.checked_add(l.cost).ok_or_else(|| {
                        Overflow(format!("Meta's {} charges of {month}", col.id()))
                    })?;
                    units += l.charged;
                }
                if charge == Money::ZERO {
                    continue;
                }
                let fee = format!("markup:{}", col.id());
                let amount = charge.checked_times_decimal(*factor).ok_or_else(|| {
                    Overflow(format!(
                        "provider fee {fee} of {month}: {charge} × {factor}"
                    ))
                })?;
                fees.push(Fee {
                    month: month.to_string(),
                    fee,
                    basis: charge.to_decimal(),
                    count: units,
                    rate: *factor,
                    amount,
                });
            }
        }
        let total = Money::checked_sum(fees.iter().map(|f| f.amount))
            .ok_or_else(|| Overflow(format!("the provider's total ({} fees)", fees.len())))?;
        Ok(ProviderBill {
            name: self.name.clone(),
            fees,
            total,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::RateColumn;

    fn m(s: &str) -> Money {
        Money::parse(s).unwrap()
    }

    fn line(month: &str, category: &'static str, charged: u64, cost: &str) -> Line {
        Line {
            month: month.into(),
            waba: "default".into(),
            market: "India".into(),
            category,
            rulebook: "pmp-2025",
            charged,
            free: 0,
            unpriced: 0,
            cost: m(cost),
        }
    }

    #[test]
    fn fees_are_exact_and_markup_rounds_half_even_once_per_month_and_category() {
        let p = Provider {
            name: "BSP".into(),
            per_message_sent: Some(m("0.001")),
            per_message_received: None,
            per_failed_message: Some(m("0.0005")),
            markup: vec![(RateColumn::Marketing, "0.06".parse().unwrap())],
        };
        let tallies = [
            MonthTally {
                month: "2025-07".into(),
                sent: 1000,
                received: 400,
                failed: 3,
            },
            MonthTally {
                month: "2025-08".into(),
                sent: 7,
                received: 0,
                failed: 0,
            },
        ];
        // Two marketing lines in July: 0.0625 + 0.0000083 … the markup applies to the sum.
        let lines = [
            line("2025-07", "marketing", 1, "0.0625"),
            line("2025-07", "marketing", 1, "0.000025"),
            line("2025-07", "utility", 2, "0.0300"),
        ];
        let b = p.bill(&tallies, &lines).unwrap();
        let got: Vec<(String, String, String)> = b
            .fees
            .iter()
            .map(|f| (f.month.clone(), f.fee.clone(), f.amount.to_decimal_string()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("2025-07".into(), "per_message_sent".into(), "1.0000".into()),
                (
                    "2025-07".into(),
                    "per_failed_message".into(),
                    "0.0015".into()
                ),
                // 0.062525 × 0.06 = 0.0037515 → 0.003752 (half to even)
                (
                    "2025-07".into(),
                    "markup:marketing".into(),
                    "0.003752".into()
                ),
                ("2025-08".into(), "per_message_sent".into(), "0.0070".into()),
            ]
        );
        assert_eq!(b.total, m("1.0015") + m("0.003752") + m("0.007"));
        assert_eq!(b.fees[2].count, 2);
        assert_eq!(b.fees[2].basis.to_string(), "0.062525");
    }
}
