//! The replay engine: applies the rulebook and rate card in force to every message of a log.
//!
//! Two passes, both pure:
//! 1. **Per chat** (CONV-3: business number × user within a WABA), in CONV-1 order, in parallel
//!    with rayon ([`pass_one`], the rules in `window`): windows (CSW, conversations, free entry
//!    points) decide what each delivered business message is — a rider, a free unit, or a unit
//!    that still needs a price.
//! 2. **Global pricing** in CONV-1 order over all chats ([`Pricer`], the rules in `pricing`): the
//!    counters that span users (CBP-7 free tier, PMP-4 volume tiers, PMP-5 service allowance) and
//!    the rate lookups. Nothing in this pass changes window state, so the split is exact.
//!
//! Results are merged by event index, so the output never depends on the thread count. This
//! module is the entry point ([`replay`]) and names what the passes are made of, wherever it
//! lives.

use rayon::prelude::*;

pub use crate::calendar::{build_calendars, PeriodInfo, WabaCalendar, WabaRanges};
pub use crate::context::{replay_currency, Context};
pub use crate::ids::Rule;
pub use crate::model::{
    BillingError, ChatKey, Event, Extra, Extras, Issue, Line, MissingRate, Outcome, Pending,
    Replay, Unit, MAX_TOKENS,
};
pub use crate::pass::{pass_one, PassOne};
pub use crate::pricing::allowance::PMP_SERVICE_ALLOWANCE;
pub use crate::pricing::free_tier::CBP_FREE_TIER;
pub use crate::pricing::Pricer;
pub use crate::rulebook::{rulebook_on, US_MARKETING_PAUSE};
pub use crate::totals::Totals;
pub use crate::window::FEP_LENGTH;

use crate::types::Country;

/// Replay a log. `events` may be in any order; `chats` and `countries` are the tables the
/// events index into, `extras` the few rows' durations, tokens and prices (by data row).
pub fn replay(
    events: &[Event],
    chats: &[ChatKey],
    countries: &[Country],
    extras: &Extras,
    ctx: &Context,
) -> Result<Replay, BillingError> {
    let currency = replay_currency(ctx);
    let mut ranges = WabaRanges::new(ctx.accounts.wabas.len());
    for e in events {
        ranges.add(chats[e.chat as usize].waba, e.ts);
    }
    let calendars = build_calendars(&ranges, ctx, &currency);
    let PassOne {
        order,
        mut outcomes,
        issues,
    } = pass_one(events, chats, countries, extras, ctx, &calendars);

    // Pass 2: prices and cross-user counters in CONV-1 order.
    let mut pricer = Pricer::new(ctx, &calendars, extras);
    for &ei in &order {
        let o = &mut outcomes[ei as usize];
        if o.is_pending() {
            let ev = &events[ei as usize];
            pricer.apply(ev.ts, ev.row, chats[ev.chat as usize], o);
        }
    }
    pricer.finish()?;

    let totals = events
        .par_iter()
        .zip(outcomes.par_iter())
        .fold(Totals::default, |mut acc, (e, o)| {
            acc.add(chats[e.chat as usize].waba, &calendars, o);
            acc
        })
        .reduce(Totals::default, |mut a, b| {
            a.merge(b);
            a
        });
    let (lines, total) = totals.lines(ctx)?;
    Ok(Replay {
        order,
        outcomes,
        issues,
        lines,
        total,
        calendars,
        currency,
    })
}
