//! What a replay gives besides its totals, gathered from outcomes by one code path for the
//! in-memory and the partitioned replay: message counts, the months spanned, the provider's
//! per-month tallies and the issues. The partitioned replay absorbs each partition and merges
//! the tallies; the in-memory replay absorbs the whole log once. Either way the [`Summary`] is
//! built by [`Tally::finish`].

use serde::Serialize;

use crate::billing::engine::{ChatKey, Event, Issue, Line, Outcome, Rule, WabaCalendar};
use crate::billing::markets::{invalid_number_issue, MarketTable};
use crate::billing::money::Money;
use crate::billing::provider::{tally_outcomes, MonthTally};
use crate::billing::types::{Country, Kind};
use crate::io::log::{InvalidNumber, Reject};

/// Rows read and messages kept, by kind (the JSON's `messages` object, formats.md §4).
#[derive(Debug, Clone, Serialize, PartialEq, Eq, Default)]
pub struct MessageCounts {
    pub rows: u64,
    pub inbound: u64,
    pub outbound: u64,
    pub delivered: u64,
    pub not_delivered: u64,
    pub rejected: u64,
    /// CUR-1: rows of WABAs billed in another currency than the replay's, left out of it.
    #[serde(skip_serializing_if = "is_zero")]
    pub other_currency: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl MessageCounts {
    /// Count one kept message.
    pub fn count(&mut self, kind: Kind) {
        match kind {
            // CALL-1: a call from the user counts as inbound, a business call as outbound,
            // delivered when the user accepted it.
            Kind::In { .. } | Kind::Call { by_user: true, .. } => self.inbound += 1,
            Kind::Out { status, .. } | Kind::Bot { status, .. } => {
                self.outbound += 1;
                if status.is_delivered() {
                    self.delivered += 1;
                } else {
                    self.not_delivered += 1;
                }
            }
            Kind::Call { accepted, .. } => {
                self.outbound += 1;
                if accepted {
                    self.delivered += 1;
                } else {
                    self.not_delivered += 1;
                }
            }
        }
    }

    fn add(&mut self, o: &MessageCounts) {
        self.inbound += o.inbound;
        self.outbound += o.outbound;
        self.delivered += o.delivered;
        self.not_delivered += o.not_delivered;
        self.other_currency += o.other_currency;
    }
}

/// An issue found in pass 1, placed by its row (CONV-4, PMP-7 …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowIssue {
    pub code: &'static str,
    pub rule: Rule,
    /// The log row (1 = first data row).
    pub row: u64,
    pub message: String,
}

/// The breakdown of one replay, whichever way it ran: what every output is made from.
#[derive(Debug, Clone)]
pub struct Summary {
    pub currency: String,
    pub lines: Vec<Line>,
    pub total: Money,
    pub messages: MessageCounts,
    /// In CONV-1 order.
    pub issues: Vec<RowIssue>,
    /// Sorted by row.
    pub rejects: Vec<Reject>,
    /// Per month (WABA-local), for provider fees; empty without a `[provider]`.
    pub tallies: Vec<MonthTally>,
    /// Calendar months spanned by the messages (WABA-local), as `compare` reports them.
    pub months: u64,
}

/// A slice of a replay's events with their outcomes: the whole log, or one partition.
pub struct Outcomes<'a> {
    pub events: &'a [Event],
    pub chats: &'a [ChatKey],
    /// Indexed like `events`.
    pub outcomes: &'a [Outcome],
    /// Issues whose `event` indexes `events`.
    pub issues: &'a [Issue],
    pub calendars: &'a [WabaCalendar],
}

/// MKT-1: the `invalid-number` issue of each thread in `invalid`, naming the country and the
/// market its row was billed in (pass 1's outcome). One function for both replays.
pub fn invalid_number_issues(
    invalid: &[InvalidNumber],
    events: &[Event],
    countries: &[Country],
    outcomes: &[Outcome],
    markets: &MarketTable,
) -> Vec<Issue> {
    invalid
        .iter()
        .map(|n| {
            let (e, o) = (&events[n.event as usize], &outcomes[n.event as usize]);
            invalid_number_issue(
                n.event,
                n.number,
                &n.reason,
                countries[e.country as usize],
                markets.name(o.market),
            )
        })
        .collect()
}

/// The sink every replay feeds: counts, months, tallies and issues.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    messages: MessageCounts,
    /// First and last month index (WABA-local) seen.
    months: Option<(u32, u32)>,
    provider: Option<Vec<MonthTally>>,
    /// With (instant, row) for the CONV-1 order.
    issues: Vec<(i64, u32, RowIssue)>,
}

impl Tally {
    /// An empty tally; `provider`: keep per-month tallies for provider fees.
    pub fn new(provider: bool) -> Tally {
        Tally {
            provider: provider.then(Vec::new),
            ..Tally::default()
        }
    }

    /// Take in a slice of outcomes (pass 1 is enough: counts, periods and issues do not depend
    /// on prices).
    pub fn absorb(&mut self, o: &Outcomes) {
        let (mut lo, mut hi) = self.months.unwrap_or((u32::MAX, 0));
        for (e, out) in o.events.iter().zip(o.outcomes) {
            self.messages.count(e.kind);
            let waba = o.chats[e.chat as usize].waba as usize;
            let m = o.calendars[waba].info[out.period as usize].month;
            lo = lo.min(m);
            hi = hi.max(m);
        }
        if lo <= hi {
            self.months = Some((lo, hi));
        }
        if let Some(t) = &mut self.provider {
            t.extend(tally_outcomes(o.events, o.chats, o.outcomes, o.calendars));
        }
        self.absorb_issues(o.events, o.issues);
    }

    /// Take in issues whose `event` indexes `events`.
    pub fn absorb_issues(&mut self, events: &[Event], issues: &[Issue]) {
        for i in issues {
            let e = &events[i.event as usize];
            let issue = RowIssue {
                code: i.code,
                rule: i.rule,
                row: e.row as u64,
                message: i.message.clone(),
            };
            self.issues.push((e.ts, e.row, issue));
        }
    }

    /// Add another tally (partitions are merged in partition order; every part commutes or is
    /// sorted in [`Tally::finish`]).
    pub fn merge(&mut self, other: Tally) {
        self.messages.add(&other.messages);
        self.months = match (self.months, other.months) {
            (Some(a), Some(b)) => Some((a.0.min(b.0), a.1.max(b.1))),
            (a, b) => a.or(b),
        };
        if let (Some(t), Some(o)) = (&mut self.provider, other.provider) {
            t.extend(o);
        }
        self.issues.extend(other.issues);
    }

    /// The summary: `rows` read, `rejects` (any order), the priced lines and total.
    pub fn finish(
        self,
        currency: String,
        rows: u64,
        mut rejects: Vec<Reject>,
        (lines, total): (Vec<Line>, Money),
    ) -> Summary {
        rejects.sort_by_key(|r| r.row);
        let mut issues = self.issues;
        issues.sort_by(|a, b| (a.0, a.1, a.2.code).cmp(&(b.0, b.1, b.2.code)));
        Summary {
            currency,
            lines,
            total,
            messages: MessageCounts {
                rows,
                rejected: rejects.len() as u64,
                ..self.messages
            },
            issues: issues.into_iter().map(|i| i.2).collect(),
            rejects,
            tallies: self.provider.unwrap_or_default(),
            months: self.months.map_or(0, |(lo, hi)| u64::from(hi - lo) + 1),
        }
    }
}
