//! Scenario files: what traffic to generate, read from TOML and checked before use.
//!
//! Parsing happens in two steps (`parse`, with `audience` for the one section that has two
//! forms). serde reads the file's *shape* into raw tables whose leaves are untyped TOML values
//! (unknown keys are refused there, with the line); then [`parse_scenario`] reads each value
//! itself (`values`), so that every error names the full key and the offending value
//! (`support.fcr = 1.5: …`), which serde's own messages do not. Every optional key has a
//! realistic default, listed in the README and in the `DEFAULT_*` constants below.
//! [`Scenario::set`] (`vary`) changes one key of a checked scenario with the same checks.

use std::fmt;

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use chrono_tz::Tz;

use crate::billing::accounts::{Accounts, Portfolio, Waba};
use crate::traffic::countries::Country;

mod audience;
mod parse;
mod values;
mod vary;

pub use parse::parse_scenario;
pub use vary::settings_grid;

/// Why a scenario was refused. The message names the key (dotted path) and the value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScenarioError {
    /// Not TOML, or a key that scenarios do not have (the message has the line and column).
    #[error("scenario: {0}")]
    Syntax(String),
    /// A required key is absent.
    #[error("scenario: missing key `{key}`")]
    Missing {
        /// Dotted path, e.g. `period.start`.
        key: String,
    },
    /// A key has a value that cannot be used.
    #[error("scenario: `{key}` = {value}: {reason}")]
    Invalid {
        /// Dotted path, e.g. `support.fcr` or `campaign[0].countries`.
        key: String,
        /// The value as written (TOML syntax).
        value: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl ScenarioError {
    fn invalid(
        key: impl Into<String>,
        value: impl fmt::Display,
        reason: impl Into<String>,
    ) -> Self {
        ScenarioError::Invalid {
            key: key.into(),
            value: value.to_string(),
            reason: reason.into(),
        }
    }
}

/// A closed interval `[min, max]` from which a value is drawn uniformly.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Span<T> {
    /// Smallest value.
    pub min: T,
    /// Largest value.
    pub max: T,
}

impl<T: Copy> Span<T> {
    /// `[min, max]`.
    pub const fn new(min: T, max: T) -> Self {
        Span { min, max }
    }
}

/// What the business does when it must write but the customer service window is closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reengagement {
    /// Send a `utility` template (e.g. "an update on your request"); the user usually replies,
    /// which opens the window again.
    UtilityTemplate,
    /// Send nothing; wait until the user writes again.
    WaitForUser,
}

impl Reengagement {
    /// The scenario spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Reengagement::UtilityTemplate => "utility_template",
            Reengagement::WaitForUser => "wait_for_user",
        }
    }
}

/// The dates covered, inclusive, in the WABA's time zone.
#[derive(Clone, Debug, PartialEq)]
pub struct Period {
    /// First day.
    pub start: NaiveDate,
    /// Last day (inclusive).
    pub end: NaiveDate,
}

/// The WABA the traffic belongs to.
#[derive(Clone, Debug, PartialEq)]
pub struct Account {
    /// WABA id (`waba` column).
    pub waba: String,
    /// IANA time zone: period boundaries and campaign times are read in it.
    pub timezone: Tz,
    /// ISO 4217 currency code (passed through for the accounts file; traffic does not use it).
    pub currency: String,
    /// How many business phone numbers share the users.
    pub numbers: u16,
    /// The country of the business numbers.
    pub number_country: Country,
}

/// How many users a country has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Audience {
    /// The users' country.
    pub country: Country,
    /// Number of users.
    pub users: u32,
}

/// Customer-service contacts.
#[derive(Clone, Debug, PartialEq)]
pub struct Support {
    /// New contacts (issues) per user per month (a month is 1/12 of 365.2425 days).
    pub contacts_per_user_month: f64,
    /// Probability that the first session resolves the issue.
    pub fcr: f64,
    /// Of the issues not resolved at first contact, the share resolved by the follow-ups.
    pub followup_resolution: f64,
    /// Follow-up sessions of an issue not resolved at first contact.
    pub followup_sessions: Span<u32>,
    /// Hours from the end of a session to the next follow-up (values past 24 let the window close).
    pub followup_gap_hours: Span<f64>,
    /// Minutes before the agent's first reply in a session.
    pub agent_latency_minutes: Span<f64>,
    /// Seconds between later messages of a session.
    pub turn_gap_seconds: Span<f64>,
    /// Minutes before a user answers a business-opened message (follow-up, re-engagement
    /// template, campaign).
    pub reply_delay_minutes: Span<f64>,
    /// Messages the user sends per session.
    pub user_messages: Span<u32>,
    /// Messages the agent sends per session.
    pub agent_messages: Span<u32>,
    /// What happens when the business must write after the window closed.
    pub reengagement: Reengagement,
    /// Share of contacts whose first message comes from a Click-to-WhatsApp ad.
    pub ctwa_share: f64,
    /// Share of contacts whose first message comes from a Facebook Page button.
    pub page_cta_share: f64,
    /// Under `wait_for_user`: the probability that a user the business waits for comes back
    /// (each follow-up); one who does not leaves the issue unresolved and sends nothing more.
    /// 1 (the default): every user comes back.
    pub wait_return_share: f64,
}

/// A marketing campaign: one template to a share of the audience.
#[derive(Clone, Debug, PartialEq)]
pub struct Campaign {
    /// Label for summaries.
    pub name: String,
    /// Day it is sent (WABA time zone).
    pub date: NaiveDate,
    /// Local time sending starts.
    pub time: NaiveTime,
    /// Sends are spread evenly over this many minutes.
    pub duration_minutes: f64,
    /// Share of the eligible users that receive it (exact: rounded to a whole number of users).
    pub share: f64,
    /// Only users of these countries are eligible (empty: everyone).
    pub countries: Vec<Country>,
    /// Probability that a user who got the template writes back (a short support session).
    pub reply_rate: f64,
}

/// Order notifications (utility templates).
#[derive(Clone, Debug, PartialEq)]
pub struct Utility {
    /// Orders per user per month.
    pub orders_per_user_month: f64,
    /// Utility templates per order (confirmation, shipping, delivery…).
    pub messages_per_order: Span<u32>,
    /// Hours between two messages of the same order.
    pub message_gap_hours: Span<f64>,
}

/// Logins with a one-time password (one authentication template each).
#[derive(Clone, Debug, PartialEq)]
pub struct Authentication {
    /// Logins per user per month.
    pub logins_per_user_month: f64,
}

/// Meta's own agent answering chats (`[agent]`, MBA-1): in a share of the support contacts
/// every business reply inside the window is Meta Business Agent's (category
/// `meta_business_agent`, with its tokens) instead of a person's. The traffic is the same;
/// only who writes the replies changes.
#[derive(Clone, Debug, PartialEq)]
pub struct Agent {
    /// Share of support contacts the agent answers.
    pub share: f64,
    /// Tokens per agent reply.
    pub tokens_per_reply: Span<u32>,
}

impl Default for Agent {
    fn default() -> Self {
        Agent {
            share: 0.0,
            tokens_per_reply: Span::new(200, 800),
        }
    }
}

/// Calls (`[calls]`, CALL-1…3): a share of support contacts start with a call from the user
/// instead of a message (free, CALL-2; it opens the window, CALL-1); the business calls back a
/// share of them (charged by pulses, CALL-3) and settles the issue on the phone; the others
/// write after the call, as any contact.
#[derive(Clone, Debug, PartialEq)]
pub struct Calls {
    /// Share of support contacts that begin with a call.
    pub share: f64,
    /// Of those, the share the business calls back (the user accepts).
    pub callback_share: f64,
    /// Seconds of a call.
    pub duration_seconds: Span<f64>,
}

impl Default for Calls {
    fn default() -> Self {
        Calls {
            share: 0.0,
            callback_share: 0.5,
            duration_seconds: Span::new(30.0, 600.0),
        }
    }
}

/// Group broadcasts (`[groups]`, GRP-1…3): the business writes templates to groups of its users;
/// a member sometimes answers, and the business replies to the whole group inside the window
/// the member opened.
#[derive(Clone, Debug, PartialEq)]
pub struct Groups {
    /// How many groups (0: none).
    pub groups: u32,
    /// Members per group (Meta allows 8).
    pub members: Span<u32>,
    /// Templates to each group per month.
    pub broadcasts_per_month: f64,
    /// Share of broadcasts that are utility templates (the rest marketing).
    pub utility_share: f64,
    /// Share of broadcasts a member answers.
    pub reply_share: f64,
}

impl Default for Groups {
    fn default() -> Self {
        Groups {
            groups: 0,
            members: Span::new(3, 8),
            broadcasts_per_month: 2.0,
            utility_share: 0.5,
            reply_share: 0.3,
        }
    }
}

/// What the written log holds, beside the traffic itself (`[log]`): users known by a
/// business-scoped user id (MKT-4) and logs that are not the whole story (CONV-4): cut at a
/// date, or a store of statuses without the users' messages. The traffic is generated the same
/// way whatever these are, so a scenario with and without them describes the same messages.
#[derive(Clone, Debug, PartialEq)]
pub struct LogShape {
    /// Share of users known by a business-scoped user id.
    pub bsuid_share: f64,
    /// Of those, the share whose rows carry no phone number at all; the others' own messages
    /// give both the number and the BSUID (`user_id`), their business messages the number.
    pub bsuid_only: f64,
    /// First day written, 00:00 in the account's zone: earlier rows are left out, as in a log
    /// exported from a month start. `None`: the period start.
    pub from: Option<NaiveDate>,
    /// `false`: the users' messages are left out (a store of status webhooks).
    pub inbound: bool,
}

impl Default for LogShape {
    fn default() -> Self {
        LogShape {
            bsuid_share: 0.0,
            bsuid_only: 0.0,
            from: None,
            inbound: true,
        }
    }
}

/// A checked scenario. Build it with [`parse_scenario`]; the fields are public so that tests
/// and the `compare` command can derive variants (e.g. another re-engagement policy).
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    /// Free text, for reports.
    pub name: String,
    /// Dates covered.
    pub period: Period,
    /// The WABA.
    pub account: Account,
    /// Users by country, sorted by ISO code, no duplicates.
    pub audience: Vec<Audience>,
    /// Customer service.
    pub support: Support,
    /// Marketing campaigns, in file order.
    pub campaigns: Vec<Campaign>,
    /// Order notifications.
    pub utility: Utility,
    /// One-time passwords.
    pub authentication: Authentication,
    /// Probability that any business message fails (status `failed`).
    pub failure_rate: f64,
    /// What the written log holds (`[log]`).
    pub log: LogShape,
    /// Meta Business Agent (`[agent]`).
    pub agent: Agent,
    /// Calls (`[calls]`).
    pub calls: Calls,
    /// Group broadcasts (`[groups]`).
    pub groups: Groups,
}

// Defaults: a mid-size retailer on WhatsApp. Sources: typical figures that providers publish
// (first-contact resolution 0.6–0.8, agent first response minutes to a couple of hours,
// 2–4 order updates per order). They only need to be plausible.
/// Default `account.waba`.
pub const DEFAULT_WABA: &str = "default";
/// Default `support.contacts_per_user_month`.
pub const DEFAULT_CONTACTS_PER_USER_MONTH: f64 = 0.3;
/// Default `support.fcr`.
pub const DEFAULT_FCR: f64 = 0.7;
/// Default `support.followup_resolution`.
pub const DEFAULT_FOLLOWUP_RESOLUTION: f64 = 0.9;
/// Default `support.followup_sessions`.
pub const DEFAULT_FOLLOWUP_SESSIONS: Span<u32> = Span::new(1, 3);
/// Default `support.followup_gap_hours`: a third of the gaps exceed 24 h.
pub const DEFAULT_FOLLOWUP_GAP_HOURS: Span<f64> = Span::new(2.0, 72.0);
/// Default `support.agent_latency_minutes`.
pub const DEFAULT_AGENT_LATENCY_MINUTES: Span<f64> = Span::new(1.0, 120.0);
/// Default `support.turn_gap_seconds`.
pub const DEFAULT_TURN_GAP_SECONDS: Span<f64> = Span::new(20.0, 600.0);
/// Default `support.reply_delay_minutes`.
pub const DEFAULT_REPLY_DELAY_MINUTES: Span<f64> = Span::new(2.0, 240.0);
/// Default `support.user_messages`.
pub const DEFAULT_USER_MESSAGES: Span<u32> = Span::new(1, 4);
/// Default `support.agent_messages`.
pub const DEFAULT_AGENT_MESSAGES: Span<u32> = Span::new(1, 4);
/// Default `support.ctwa_share`.
pub const DEFAULT_CTWA_SHARE: f64 = 0.1;
/// Default `campaign.time`.
pub const DEFAULT_CAMPAIGN_TIME: &str = "10:00";
/// Default `campaign.duration_minutes`.
pub const DEFAULT_CAMPAIGN_DURATION_MINUTES: f64 = 60.0;
/// Default `campaign.reply_rate`.
pub const DEFAULT_CAMPAIGN_REPLY_RATE: f64 = 0.03;
/// Default `utility.orders_per_user_month`.
pub const DEFAULT_ORDERS_PER_USER_MONTH: f64 = 0.5;
/// Default `utility.messages_per_order`.
pub const DEFAULT_MESSAGES_PER_ORDER: Span<u32> = Span::new(2, 4);
/// Default `utility.message_gap_hours`.
pub const DEFAULT_MESSAGE_GAP_HOURS: Span<f64> = Span::new(1.0, 48.0);
/// Default `authentication.logins_per_user_month`.
pub const DEFAULT_LOGINS_PER_USER_MONTH: f64 = 0.4;
/// Default `delivery.failure_rate`.
pub const DEFAULT_FAILURE_RATE: f64 = 0.02;
/// Most users a scenario may have (user indices are `u32`; memory is about 24 bytes a user).
pub const MAX_USERS: u64 = 50_000_000;

/// The instant at 00:00 (or the first existing local time after it) of `date` in `tz`, as Unix
/// seconds.
pub(crate) fn local_instant(tz: Tz, date: NaiveDate, time: NaiveTime) -> i64 {
    let mut local = NaiveDateTime::new(date, time);
    // A local time inside a DST gap does not exist: move forward until it does.
    for _ in 0..48 {
        if let Some(t) = tz.from_local_datetime(&local).earliest() {
            return t.timestamp();
        }
        local += chrono::Duration::minutes(30);
    }
    local.and_utc().timestamp()
}

impl Scenario {
    /// The period as Unix seconds `[start, end)`: 00:00 of the first day to 00:00 after the last
    /// day, in the WABA's time zone.
    pub fn bounds(&self) -> (i64, i64) {
        let tz = self.account.timezone;
        let start = local_instant(tz, self.period.start, NaiveTime::MIN);
        let end = local_instant(
            tz,
            self.period.end.succ_opt().unwrap_or(self.period.end),
            NaiveTime::MIN,
        );
        (start, end.max(start))
    }

    /// The first instant written to the log (`log.from`, else the period start).
    pub fn log_start(&self) -> i64 {
        let (start, _) = self.bounds();
        self.log
            .from
            .map_or(start, |d| {
                local_instant(self.account.timezone, d, NaiveTime::MIN)
            })
            .max(start)
    }

    /// Calendar months touched by the period.
    pub fn calendar_months(&self) -> u64 {
        let m = |d: NaiveDate| d.year() as i64 * 12 + d.month0() as i64;
        (m(self.period.end) - m(self.period.start) + 1).max(1) as u64
    }

    /// The accounts of the generated traffic when no accounts file is given: the scenario's
    /// WABA, with its time zone and currency.
    pub fn accounts(&self) -> Accounts {
        Accounts {
            portfolio: Portfolio::default(),
            wabas: vec![Waba {
                id: self.account.waba.clone(),
                tz: self.account.timezone,
                currency: self.account.currency.clone(),
            }],
            provider: None,
            currency_choice: None,
            max_prices: Vec::new(),
        }
    }

    /// Total number of users.
    pub fn total_users(&self) -> u64 {
        self.audience.iter().map(|a| u64::from(a.users)).sum()
    }

    /// Multiplies every country's user count by `factor` (rounded to nearest, ties up), e.g. to
    /// aim at a number of rows. Countries keep at least one user if they had one.
    pub fn scale_audience(&mut self, factor: f64) {
        for a in &mut self.audience {
            if a.users > 0 {
                let n = (f64::from(a.users) * factor)
                    .round()
                    .clamp(1.0, MAX_USERS as f64);
                a.users = n as u32;
            }
        }
    }
}
