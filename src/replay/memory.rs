//! The in-memory replay: the whole log's events at once (what the report, the webhooks and
//! `compare` of generated traffic need), summarised by the same sink as the partitioned path.

use crate::billing::engine::{self, BillingError, Context, Replay};
use crate::io::log::Log;
use crate::replay::sink::{Outcomes, Summary, Tally};

/// Replay a read log: every outcome, and the summary.
pub fn replay(log: &Log, ctx: &Context) -> Result<(Replay, Summary), BillingError> {
    let replay = engine::replay(&log.events, &log.chats, &log.countries, ctx)?;
    let summary = summarize(log, &replay, ctx.accounts.provider.is_some());
    Ok((replay, summary))
}

/// The summary of an in-memory replay (`provider`: keep the provider's monthly tallies).
pub fn summarize(log: &Log, replay: &Replay, provider: bool) -> Summary {
    let mut tally = Tally::new(provider);
    tally.absorb(&Outcomes {
        events: &log.events,
        chats: &log.chats,
        outcomes: &replay.outcomes,
        issues: &replay.issues,
        calendars: &replay.calendars,
    });
    tally.finish(
        replay.currency.clone(),
        log.rows,
        log.rejects.clone(),
        (replay.lines.clone(), replay.total),
    )
}
