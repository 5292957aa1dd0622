//! The breakdown's sums (formats.md §4): charged and free units and cost per WABA, month, market,
//! category and rulebook, and the lines they make.

use super::calendar::{month_label, WabaCalendar};
use super::context::Context;
use super::markets::MarketId;
use super::model::{Line, Outcome, Unit};
use super::money::{Money, Overflow};
use super::rulebook::Rulebook;
use super::types::Billed;

type TotalsKey = (u16, u32, MarketId, Billed, Rulebook);

/// Breakdown sums per (WABA, month, market, category, rulebook). Integer sums commute, so
/// totals built in any order or partition and merged give the same lines. Costs are summed in
/// `i128` micro-units (no message count can overflow them) and checked against [`Money::MAX`]
/// once, when the lines are made.
#[derive(Debug, Default, Clone)]
pub struct Totals(rustc_hash::FxHashMap<TotalsKey, Sums>);

/// One key's sums: charged, free and unpriced units, cost in micro-units.
type Sums = (u64, u64, u64, i128);

impl Totals {
    /// Count one outcome (rows that are not units are ignored).
    pub fn add(&mut self, waba: u16, calendars: &[WabaCalendar], o: &Outcome) {
        if o.unit == Unit::None {
            return;
        }
        let month = calendars[waba as usize].info[o.period as usize].month;
        let key = (
            waba,
            month,
            o.market,
            o.billed.expect("units have a category"),
            o.rulebook.expect("units have a rulebook"),
        );
        let a = self.0.entry(key).or_insert((0, 0, 0, 0));
        match o.unit {
            Unit::Charged => a.0 += 1,
            Unit::Free => a.1 += 1,
            Unit::Unpriced => a.2 += 1,
            Unit::None => {}
        }
        a.3 += i128::from(o.price.micros());
    }

    pub fn merge(&mut self, other: Totals) {
        for (k, v) in other.0 {
            let x = self.0.entry(k).or_insert((0, 0, 0, 0));
            x.0 += v.0;
            x.1 += v.1;
            x.2 += v.2;
            x.3 += v.3;
        }
    }

    /// The breakdown lines in the contract's order, and their total; an [`Overflow`] naming the
    /// line or the total when one is beyond [`Money::MAX`].
    pub fn lines(self, ctx: &Context) -> Result<(Vec<Line>, Money), Overflow> {
        let mut lines: Vec<Line> = self
            .0
            .into_iter()
            .map(|((w, m, mk, b, rb), (c, f, u, cost))| {
                let line = Line {
                    month: month_label(m),
                    waba: ctx.accounts.wabas[w as usize].id.clone(),
                    market: ctx.markets.name(mk).to_string(),
                    category: b.id(),
                    rulebook: rb.id(),
                    charged: c,
                    free: f,
                    unpriced: u,
                    cost: Money::ZERO,
                };
                match i64::try_from(cost) {
                    Ok(micros) => Ok(Line {
                        cost: Money(micros),
                        ..line
                    }),
                    Err(_) => Err(Overflow(format!(
                        "the cost of {} {} messages in {} ({}, {})",
                        c, line.category, line.market, line.waba, line.month
                    ))),
                }
            })
            .collect::<Result<_, _>>()?;
        lines.sort_by(|a, b| {
            (&a.month, &a.waba, &a.market, a.category, a.rulebook)
                .cmp(&(&b.month, &b.waba, &b.market, b.category, b.rulebook))
        });
        let total = Money::checked_sum(lines.iter().map(|l| l.cost))
            .ok_or_else(|| Overflow(format!("the total of {} line(s)", lines.len())))?;
        Ok((lines, total))
    }
}
