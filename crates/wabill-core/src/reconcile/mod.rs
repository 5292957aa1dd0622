//! Reconciliation: where wabill's billing of the business's own log differs from what Meta
//! reports (billing-rules.md §6).
//!
//! Two comparisons, both pure (the files are read in `io::webhooks` and `io::analytics`), one
//! file each:
//! - [`messages()`]: per message id, the engine's decision against the `pricing` (and, for
//!   conversations and free entry point windows, the `conversation`) of Meta's status webhooks,
//!   through the one mapping of [`super::meta::expected`]; plus messages present on one side only;
//! - [`analytics()`]: per day × country × pricing type × category, volumes and costs against a
//!   pricing_analytics (PMP) or conversation_analytics (CBP) response. Days are calendar days in
//!   the WABA's time zone (the accounts file), the same calendar the engine bills months in.

mod analytics;
mod messages;

pub use self::analytics::{
    analytics, Analytics, AnalyticsKind, AnalyticsReport, AnalyticsRow, DataPoint, ReconcileError,
};
pub use self::messages::{
    messages, CategoryCount, DiffKind, FieldDiff, MessageDiff, MessageReport, Side,
};

use super::accounts::Accounts;
use super::meta::{expected, Expected, Openers};
use super::model::{ChatKey, Event, Replay};
use super::types::Country;

/// The replayed business log, as the comparisons need it.
pub struct Ours<'a> {
    pub events: &'a [Event],
    pub chats: &'a [ChatKey],
    pub countries: &'a [Country],
    /// Message id per event (`""` = none).
    pub ids: Vec<&'a str>,
    pub replay: &'a Replay,
    pub accounts: &'a Accounts,
    openers: Openers,
}

impl<'a> Ours<'a> {
    pub fn new(
        events: &'a [Event],
        chats: &'a [ChatKey],
        countries: &'a [Country],
        ids: Vec<&'a str>,
        replay: &'a Replay,
        accounts: &'a Accounts,
    ) -> Ours<'a> {
        Ours {
            events,
            chats,
            countries,
            ids,
            replay,
            accounts,
            openers: Openers::new(events, &replay.outcomes),
        }
    }

    /// What Meta should report for event `ei` (see [`expected`]).
    fn expected(&self, ei: usize) -> Option<Expected> {
        expected(&self.events[ei], &self.replay.outcomes[ei], &self.openers)
    }
}

/// An input problem in one of Meta's files: never fatal, always reported where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// `webhooks` or `analytics`.
    pub source: &'static str,
    /// 1-based line of a JSON Lines file.
    pub line: Option<u64>,
    /// Where in the JSON (`entry[0].changes[0].value.statuses[1].pricing.category`).
    pub path: String,
    pub value: String,
    pub message: String,
}

/// Which WABA of the accounts file an analytics response belongs to: the one named explicitly,
/// else the one whose id is the response's `id`, else the only one.
pub fn analytics_waba(
    accounts: &Accounts,
    explicit: Option<&str>,
    response_id: Option<&str>,
) -> Result<u16, String> {
    let known = || {
        accounts
            .wabas
            .iter()
            .map(|w| w.id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if let Some(name) = explicit {
        return accounts
            .wabas
            .iter()
            .position(|w| w.id == name)
            .map(|i| i as u16)
            .ok_or_else(|| format!("no WABA `{name}` in the accounts file (have: {})", known()));
    }
    if let Some(i) = response_id.and_then(|id| accounts.wabas.iter().position(|w| w.id == id)) {
        return Ok(i as u16);
    }
    if accounts.wabas.len() == 1 {
        return Ok(0);
    }
    Err(format!(
        "the analytics response's id `{}` names no WABA of the accounts file (have: {}); write --analytics WABA=FILE",
        response_id.unwrap_or(""),
        known()
    ))
}
