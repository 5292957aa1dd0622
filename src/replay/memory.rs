//! The in-memory replay: the whole log's events at once (what the report, the webhooks and
//! `compare` of generated traffic need), summarised by the same sink as the partitioned path.

use crate::billing::accounts::Accounts;
use crate::billing::engine::{self, BillingError, Context, Replay};
use crate::billing::markets::MarketTable;
use crate::io::log::Log;
use crate::replay::sink::{invalid_number_issues, Outcomes, Summary, Tally};

/// Replay a read log: every outcome, and the summary.
pub fn replay(log: &Log, ctx: &Context) -> Result<(Replay, Summary), BillingError> {
    let replay = engine::replay(&log.events, &log.chats, &log.countries, &log.extras, ctx)?;
    let summary = summarize(log, &replay, ctx.markets, ctx.accounts);
    Ok((replay, summary))
}

/// The summary of an in-memory replay (with the provider's monthly tallies when the accounts
/// have a provider); the issues are the replay's, the log's invalid numbers (MKT-1) and, for
/// Meta's webhooks, where Meta billed otherwise (PMP-6, PMP-3).
pub fn summarize(
    log: &Log,
    replay: &Replay,
    markets: &MarketTable,
    accounts: &Accounts,
) -> Summary {
    let mut tally = Tally::new(accounts.provider.is_some());
    tally.absorb(&Outcomes {
        events: &log.events,
        chats: &log.chats,
        outcomes: &replay.outcomes,
        issues: &replay.issues,
        calendars: &replay.calendars,
    });
    let numbers = invalid_number_issues(
        &log.invalid_numbers,
        &log.events,
        &log.countries,
        &replay.outcomes,
        markets,
    );
    tally.absorb_issues(&log.events, &numbers);
    let mut meta = crate::billing::meta::meta_pricing_issues(
        &log.events,
        &replay.outcomes,
        &log.countries,
        &log.meta_pricing,
        accounts,
    );
    for i in &mut meta {
        i.message = format!("message {}: {}", log.id_of(i.event as usize), i.message);
    }
    tally.absorb_issues(&log.events, &meta);
    let mut summary = tally.finish(
        replay.currency.clone(),
        log.rows,
        log.rejects.clone(),
        (replay.lines.clone(), replay.total),
    );
    summary.messages.other_currency = log.other_currency;
    summary
}
