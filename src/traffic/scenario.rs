//! Scenario files: what traffic to generate, read from TOML and checked before use.
//!
//! Parsing happens in two steps. serde reads the file's *shape* into raw tables whose leaves are
//! untyped TOML values (unknown keys are refused there, with the line); then [`parse_scenario`]
//! reads each value itself, so that every error names the full key and the offending value
//! (`support.fcr = 1.5: …`), which serde's own messages do not. Every optional key has a
//! realistic default, listed in the README and in the `DEFAULT_*` constants below.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use chrono_tz::Tz;
use serde::Deserialize;
use toml::Value;

use crate::traffic::countries::{supported_list, Country};

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

// ---------------------------------------------------------------------------------------------
// Raw shape (serde). Leaves stay TOML values so that the checks below can quote them.

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: Option<Value>,
    period: Option<RawPeriod>,
    account: Option<RawAccount>,
    audience: Option<RawAudience>,
    support: Option<RawSupport>,
    #[serde(default)]
    campaign: Vec<RawCampaign>,
    utility: Option<RawUtility>,
    authentication: Option<RawAuthentication>,
    delivery: Option<RawDelivery>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawPeriod {
    start: Option<Value>,
    end: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawAccount {
    waba: Option<Value>,
    timezone: Option<Value>,
    currency: Option<Value>,
    numbers: Option<Value>,
    number_country: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawAudience {
    users: Option<BTreeMap<String, Value>>,
    total: Option<Value>,
    shares: Option<BTreeMap<String, Value>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSupport {
    contacts_per_user_month: Option<Value>,
    fcr: Option<Value>,
    followup_resolution: Option<Value>,
    followup_sessions: Option<Value>,
    followup_gap_hours: Option<Value>,
    agent_latency_minutes: Option<Value>,
    turn_gap_seconds: Option<Value>,
    reply_delay_minutes: Option<Value>,
    user_messages: Option<Value>,
    agent_messages: Option<Value>,
    reengagement: Option<Value>,
    ctwa_share: Option<Value>,
    page_cta_share: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawCampaign {
    name: Option<Value>,
    date: Option<Value>,
    time: Option<Value>,
    duration_minutes: Option<Value>,
    share: Option<Value>,
    countries: Option<Value>,
    reply_rate: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawUtility {
    orders_per_user_month: Option<Value>,
    messages_per_order: Option<Value>,
    message_gap_hours: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawAuthentication {
    logins_per_user_month: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDelivery {
    failure_rate: Option<Value>,
}

// ---------------------------------------------------------------------------------------------
// Typed readers: each names its key in errors.

type Res<T> = Result<T, ScenarioError>;

fn number(key: &str, v: &Value) -> Res<f64> {
    match v {
        Value::Float(f) if f.is_finite() => Ok(*f),
        Value::Integer(i) => Ok(*i as f64),
        _ => Err(ScenarioError::invalid(key, v, "expected a number")),
    }
}

fn probability(key: &str, v: Option<&Value>, default: f64) -> Res<f64> {
    let Some(v) = v else { return Ok(default) };
    let p = number(key, v)?;
    if !(0.0..=1.0).contains(&p) {
        return Err(ScenarioError::invalid(
            key,
            v,
            "a probability or share must be between 0 and 1",
        ));
    }
    Ok(p)
}

fn non_negative(key: &str, v: Option<&Value>, default: f64) -> Res<f64> {
    let Some(v) = v else { return Ok(default) };
    let x = number(key, v)?;
    if x < 0.0 {
        return Err(ScenarioError::invalid(key, v, "must not be negative"));
    }
    Ok(x)
}

fn count(key: &str, v: &Value, min: i64, max: i64) -> Res<u32> {
    let Value::Integer(i) = v else {
        return Err(ScenarioError::invalid(key, v, "expected a whole number"));
    };
    if *i < 0 {
        return Err(ScenarioError::invalid(
            key,
            v,
            "a count must not be negative",
        ));
    }
    if *i < min || *i > max {
        return Err(ScenarioError::invalid(
            key,
            v,
            format!("must be between {min} and {max}"),
        ));
    }
    Ok(*i as u32)
}

/// A span is written `[min, max]` or as one number (fixed value).
fn span_f64(
    key: &str,
    v: Option<&Value>,
    default: Span<f64>,
    floor: f64,
    ceil: f64,
) -> Res<Span<f64>> {
    let Some(v) = v else { return Ok(default) };
    let (lo, hi) = span_parts(key, v)?;
    let (min, max) = (number(key, lo)?, number(key, hi)?);
    if min < 0.0 || max < 0.0 {
        return Err(ScenarioError::invalid(key, v, "must not be negative"));
    }
    if min < floor || max > ceil {
        return Err(ScenarioError::invalid(
            key,
            v,
            format!("values must be between {floor} and {ceil}"),
        ));
    }
    if min > max {
        return Err(ScenarioError::invalid(
            key,
            v,
            "the first value (min) is larger than the second (max)",
        ));
    }
    Ok(Span { min, max })
}

fn span_u32(
    key: &str,
    v: Option<&Value>,
    default: Span<u32>,
    floor: i64,
    ceil: i64,
) -> Res<Span<u32>> {
    let Some(v) = v else { return Ok(default) };
    let (lo, hi) = span_parts(key, v)?;
    let (min, max) = (count(key, lo, floor, ceil)?, count(key, hi, floor, ceil)?);
    if min > max {
        return Err(ScenarioError::invalid(
            key,
            v,
            "the first value (min) is larger than the second (max)",
        ));
    }
    Ok(Span { min, max })
}

fn span_parts<'v>(key: &str, v: &'v Value) -> Res<(&'v Value, &'v Value)> {
    match v {
        Value::Array(a) if a.len() == 2 => Ok((&a[0], &a[1])),
        Value::Array(_) => Err(ScenarioError::invalid(
            key,
            v,
            "expected [min, max] or a single number",
        )),
        _ => Ok((v, v)),
    }
}

fn string<'v>(key: &str, v: &'v Value) -> Res<&'v str> {
    v.as_str()
        .ok_or_else(|| ScenarioError::invalid(key, v, "expected a string"))
}

fn date(key: &str, v: Option<&Value>) -> Res<NaiveDate> {
    let Some(v) = v else {
        return Err(ScenarioError::Missing { key: key.into() });
    };
    let text = match v {
        Value::String(s) => s.clone(),
        Value::Datetime(d) if d.date.is_some() && d.time.is_none() => d.to_string(),
        _ => return Err(ScenarioError::invalid(key, v, "expected a date YYYY-MM-DD")),
    };
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| ScenarioError::invalid(key, v, "expected a date YYYY-MM-DD"))
}

fn country(key: &str, code: &str, shown: &dyn fmt::Display) -> Res<Country> {
    Country::from_iso(code).ok_or_else(|| {
        ScenarioError::invalid(
            key,
            shown,
            format!(
                "unknown or unsupported country code {code:?} (supported: {})",
                supported_list()
            ),
        )
    })
}

/// Reads and checks a scenario.
///
/// ```
/// let s = wabill::traffic::parse_scenario(r#"
///     [period]
///     start = 2025-05-01
///     end = 2025-05-31
///     [audience]
///     users = { IN = 100, BR = 50 }
/// "#).unwrap();
/// assert_eq!(s.audience.len(), 2);
/// assert_eq!(s.support.fcr, 0.7); // a default
/// ```
pub fn parse_scenario(text: &str) -> Result<Scenario, ScenarioError> {
    let raw: RawScenario = toml::from_str(text)
        .map_err(|e| ScenarioError::Syntax(e.to_string().trim_end().to_string()))?;

    let name = match &raw.name {
        Some(v) => string("name", v)?.to_string(),
        None => String::new(),
    };

    // period
    let p = raw.period.as_ref().ok_or_else(|| ScenarioError::Missing {
        key: "period.start".into(),
    })?;
    let start = date("period.start", p.start.as_ref())?;
    let end = date("period.end", p.end.as_ref())?;
    if end < start {
        return Err(ScenarioError::invalid(
            "period.end",
            p.end.as_ref().unwrap(),
            format!("the period ends before it starts (period.start = {start})"),
        ));
    }
    for (key, d, v) in [
        ("period.start", start, &p.start),
        ("period.end", end, &p.end),
    ] {
        if !(1971..=9998).contains(&d.year()) {
            return Err(ScenarioError::invalid(
                key,
                v.as_ref().unwrap(),
                "the year must be between 1971 and 9998",
            ));
        }
    }
    let period = Period { start, end };

    // audience (before account: number_country defaults to the largest country)
    let a = raw
        .audience
        .as_ref()
        .ok_or_else(|| ScenarioError::Missing {
            key: "audience.users (or audience.total and audience.shares)".into(),
        })?;
    let audience = audience(a)?;

    // account
    let acc = raw.account.unwrap_or_default();
    let waba = match &acc.waba {
        Some(v) => {
            let s = string("account.waba", v)?;
            if s.is_empty()
                || !s
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_-.:".contains(&b))
            {
                return Err(ScenarioError::invalid(
                    "account.waba",
                    v,
                    "use letters, digits and _ - . : only",
                ));
            }
            s.to_string()
        }
        None => DEFAULT_WABA.to_string(),
    };
    let timezone = match &acc.timezone {
        Some(v) => string("account.timezone", v)?.parse::<Tz>().map_err(|_| {
            ScenarioError::invalid(
                "account.timezone",
                v,
                "unknown IANA time zone (e.g. \"Asia/Kolkata\")",
            )
        })?,
        None => Tz::UTC,
    };
    let currency = match &acc.currency {
        Some(v) => {
            let s = string("account.currency", v)?;
            if s.len() != 3 || !s.bytes().all(|b| b.is_ascii_uppercase()) {
                return Err(ScenarioError::invalid(
                    "account.currency",
                    v,
                    "expected an ISO 4217 code such as \"USD\"",
                ));
            }
            s.to_string()
        }
        None => "USD".to_string(),
    };
    let numbers = match &acc.numbers {
        Some(v) => count("account.numbers", v, 1, 1000)? as u16,
        None => 1,
    };
    let number_country = match &acc.number_country {
        Some(v) => country(
            "account.number_country",
            string("account.number_country", v)?,
            v,
        )?,
        None => {
            // Largest audience; ties go to the first ISO code.
            let mut best = audience[0];
            for x in &audience {
                if x.users > best.users {
                    best = *x;
                }
            }
            best.country
        }
    };
    let account = Account {
        waba,
        timezone,
        currency,
        numbers,
        number_country,
    };

    // support
    let s = raw.support.unwrap_or_default();
    let support = Support {
        contacts_per_user_month: non_negative(
            "support.contacts_per_user_month",
            s.contacts_per_user_month.as_ref(),
            DEFAULT_CONTACTS_PER_USER_MONTH,
        )?,
        fcr: probability("support.fcr", s.fcr.as_ref(), DEFAULT_FCR)?,
        followup_resolution: probability(
            "support.followup_resolution",
            s.followup_resolution.as_ref(),
            DEFAULT_FOLLOWUP_RESOLUTION,
        )?,
        followup_sessions: span_u32(
            "support.followup_sessions",
            s.followup_sessions.as_ref(),
            DEFAULT_FOLLOWUP_SESSIONS,
            0,
            50,
        )?,
        followup_gap_hours: span_f64(
            "support.followup_gap_hours",
            s.followup_gap_hours.as_ref(),
            DEFAULT_FOLLOWUP_GAP_HOURS,
            0.0,
            24.0 * 90.0,
        )?,
        agent_latency_minutes: span_f64(
            "support.agent_latency_minutes",
            s.agent_latency_minutes.as_ref(),
            DEFAULT_AGENT_LATENCY_MINUTES,
            0.0,
            60.0 * 24.0 * 30.0,
        )?,
        turn_gap_seconds: span_f64(
            "support.turn_gap_seconds",
            s.turn_gap_seconds.as_ref(),
            DEFAULT_TURN_GAP_SECONDS,
            0.0,
            86_400.0,
        )?,
        reply_delay_minutes: span_f64(
            "support.reply_delay_minutes",
            s.reply_delay_minutes.as_ref(),
            DEFAULT_REPLY_DELAY_MINUTES,
            0.0,
            60.0 * 24.0 * 30.0,
        )?,
        user_messages: span_u32(
            "support.user_messages",
            s.user_messages.as_ref(),
            DEFAULT_USER_MESSAGES,
            1,
            100,
        )?,
        agent_messages: span_u32(
            "support.agent_messages",
            s.agent_messages.as_ref(),
            DEFAULT_AGENT_MESSAGES,
            1,
            100,
        )?,
        reengagement: match &s.reengagement {
            None => Reengagement::UtilityTemplate,
            Some(v) => match string("support.reengagement", v)? {
                "utility_template" => Reengagement::UtilityTemplate,
                "wait_for_user" => Reengagement::WaitForUser,
                _ => {
                    return Err(ScenarioError::invalid(
                        "support.reengagement",
                        v,
                        "expected \"utility_template\" or \"wait_for_user\"",
                    ))
                }
            },
        },
        ctwa_share: probability(
            "support.ctwa_share",
            s.ctwa_share.as_ref(),
            DEFAULT_CTWA_SHARE,
        )?,
        page_cta_share: probability("support.page_cta_share", s.page_cta_share.as_ref(), 0.0)?,
    };
    if support.ctwa_share + support.page_cta_share > 1.0 + 1e-9 {
        return Err(ScenarioError::invalid(
            "support.page_cta_share",
            s.page_cta_share.as_ref().unwrap(),
            format!(
                "support.ctwa_share + support.page_cta_share must not exceed 1 (ctwa_share = {})",
                support.ctwa_share
            ),
        ));
    }

    // campaigns
    let mut campaigns = Vec::with_capacity(raw.campaign.len());
    for (i, c) in raw.campaign.iter().enumerate() {
        campaigns.push(campaign(i, c, &period, &audience)?);
    }

    let u = raw.utility.unwrap_or_default();
    let utility = Utility {
        orders_per_user_month: non_negative(
            "utility.orders_per_user_month",
            u.orders_per_user_month.as_ref(),
            DEFAULT_ORDERS_PER_USER_MONTH,
        )?,
        messages_per_order: span_u32(
            "utility.messages_per_order",
            u.messages_per_order.as_ref(),
            DEFAULT_MESSAGES_PER_ORDER,
            0,
            50,
        )?,
        message_gap_hours: span_f64(
            "utility.message_gap_hours",
            u.message_gap_hours.as_ref(),
            DEFAULT_MESSAGE_GAP_HOURS,
            0.0,
            24.0 * 90.0,
        )?,
    };
    let au = raw.authentication.unwrap_or_default();
    let authentication = Authentication {
        logins_per_user_month: non_negative(
            "authentication.logins_per_user_month",
            au.logins_per_user_month.as_ref(),
            DEFAULT_LOGINS_PER_USER_MONTH,
        )?,
    };
    let d = raw.delivery.unwrap_or_default();
    let failure_rate = probability(
        "delivery.failure_rate",
        d.failure_rate.as_ref(),
        DEFAULT_FAILURE_RATE,
    )?;

    // Rates beyond anything real would only make the generator slow or huge.
    for (key, x) in [
        (
            "support.contacts_per_user_month",
            support.contacts_per_user_month,
        ),
        (
            "utility.orders_per_user_month",
            utility.orders_per_user_month,
        ),
        (
            "authentication.logins_per_user_month",
            authentication.logins_per_user_month,
        ),
    ] {
        if x > 1000.0 {
            return Err(ScenarioError::invalid(
                key,
                x,
                "more than 1000 a month per user is not plausible",
            ));
        }
    }

    Ok(Scenario {
        name,
        period,
        account,
        audience,
        support,
        campaigns,
        utility,
        authentication,
        failure_rate,
    })
}

fn audience(a: &RawAudience) -> Res<Vec<Audience>> {
    let mut out: Vec<Audience> = Vec::new();
    match (&a.users, &a.total, &a.shares) {
        (Some(users), None, None) => {
            for (code, v) in users {
                let key = format!("audience.users.{code}");
                let c = country("audience.users", code, code)?;
                let n = count(&key, v, 0, max_users(c))?;
                out.push(Audience {
                    country: c,
                    users: n,
                });
            }
        }
        (None, Some(total), Some(shares)) => {
            let total = count("audience.total", total, 0, MAX_USERS as i64)? as u64;
            let mut parts = Vec::new();
            let mut sum = 0.0;
            for (code, v) in shares {
                let c = country("audience.shares", code, code)?;
                let p = probability(&format!("audience.shares.{code}"), Some(v), 0.0)?;
                sum += p;
                parts.push((c, p));
            }
            if (sum - 1.0).abs() > 1e-3 {
                let shown =
                    Value::Table(shares.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
                return Err(ScenarioError::invalid(
                    "audience.shares",
                    shown,
                    format!("shares add up to {sum}, not 1"),
                ));
            }
            // Largest remainder: floors first, then the left-over users to the largest
            // fractional parts (ties: first country code). Exact and deterministic.
            let mut alloc: Vec<(Country, u64, f64)> = parts
                .iter()
                .map(|&(c, p)| {
                    let exact = total as f64 * p / sum;
                    (c, exact.floor() as u64, exact - exact.floor())
                })
                .collect();
            let given: u64 = alloc.iter().map(|x| x.1).sum();
            let mut order: Vec<usize> = (0..alloc.len()).collect();
            order.sort_by(|&i, &j| alloc[j].2.partial_cmp(&alloc[i].2).unwrap().then(i.cmp(&j)));
            for &i in order.iter().take(total.saturating_sub(given) as usize) {
                alloc[i].1 += 1;
            }
            for (c, n, _) in alloc {
                if n as i64 > max_users(c) {
                    return Err(ScenarioError::invalid(
                        format!("audience.shares.{}", c.iso()),
                        n,
                        format!("at most {} users for this country", max_users(c)),
                    ));
                }
                out.push(Audience {
                    country: c,
                    users: n as u32,
                });
            }
        }
        (Some(_), _, _) => {
            return Err(ScenarioError::invalid(
                "audience.users",
                "{…}",
                "give either audience.users or audience.total with audience.shares, not both",
            ))
        }
        (None, None, _) => {
            return Err(ScenarioError::Missing {
                key: "audience.total".into(),
            })
        }
        (None, Some(_), None) => {
            return Err(ScenarioError::Missing {
                key: "audience.shares".into(),
            })
        }
    }
    // Two spellings of one code ("in", "IN") would be two keys in TOML.
    out.sort_by_key(|x| x.country);
    for w in out.windows(2) {
        if w[0].country == w[1].country {
            return Err(ScenarioError::invalid(
                "audience",
                w[0].country.iso(),
                "country given twice",
            ));
        }
    }
    let total: u64 = out.iter().map(|x| u64::from(x.users)).sum();
    if total == 0 {
        return Err(ScenarioError::invalid(
            "audience",
            total,
            "the audience has no users",
        ));
    }
    if total > MAX_USERS {
        return Err(ScenarioError::invalid(
            "audience",
            total,
            format!("at most {MAX_USERS} users"),
        ));
    }
    Ok(out)
}

/// Users of one country are drawn from its number ranges without repeats: keep well below the
/// ranges' size so that drawing stays fast.
fn max_users(c: Country) -> i64 {
    (c.capacity() / 20).min(MAX_USERS) as i64
}

fn campaign(i: usize, c: &RawCampaign, period: &Period, audience: &[Audience]) -> Res<Campaign> {
    let k = |s: &str| format!("campaign[{i}].{s}");
    let name = match &c.name {
        Some(v) => string(&k("name"), v)?.to_string(),
        None => format!("campaign-{}", i + 1),
    };
    let date = date(&k("date"), c.date.as_ref())?;
    if date < period.start || date > period.end {
        return Err(ScenarioError::invalid(
            k("date"),
            c.date.as_ref().unwrap(),
            format!("outside the period {} .. {}", period.start, period.end),
        ));
    }
    let time = match &c.time {
        None => NaiveTime::parse_from_str(DEFAULT_CAMPAIGN_TIME, "%H:%M").unwrap(),
        Some(v) => {
            let text = match v {
                Value::String(s) => s.clone(),
                Value::Datetime(d) if d.date.is_none() && d.time.is_some() => d.to_string(),
                _ => {
                    return Err(ScenarioError::invalid(
                        k("time"),
                        v,
                        "expected a local time \"HH:MM\"",
                    ))
                }
            };
            NaiveTime::parse_from_str(&text, "%H:%M")
                .or_else(|_| NaiveTime::parse_from_str(&text, "%H:%M:%S"))
                .map_err(|_| {
                    ScenarioError::invalid(k("time"), v, "expected a local time \"HH:MM\"")
                })?
        }
    };
    let duration_minutes = non_negative(
        &k("duration_minutes"),
        c.duration_minutes.as_ref(),
        DEFAULT_CAMPAIGN_DURATION_MINUTES,
    )?;
    if duration_minutes > 60.0 * 24.0 * 31.0 {
        return Err(ScenarioError::invalid(
            k("duration_minutes"),
            duration_minutes,
            "at most 31 days",
        ));
    }
    let share = probability(&k("share"), c.share.as_ref(), 1.0)?;
    let reply_rate = probability(
        &k("reply_rate"),
        c.reply_rate.as_ref(),
        DEFAULT_CAMPAIGN_REPLY_RATE,
    )?;
    let mut countries = Vec::new();
    if let Some(v) = &c.countries {
        let Value::Array(items) = v else {
            return Err(ScenarioError::invalid(
                k("countries"),
                v,
                "expected a list of country codes, e.g. [\"BR\"]",
            ));
        };
        for item in items {
            let code = string(&k("countries"), item)?;
            countries.push(country(&k("countries"), code, item)?);
        }
        countries.sort();
        countries.dedup();
        if !countries.is_empty()
            && !audience
                .iter()
                .any(|a| a.users > 0 && countries.contains(&a.country))
        {
            return Err(ScenarioError::invalid(
                k("countries"),
                v,
                "no users of these countries in the audience",
            ));
        }
    }
    Ok(Campaign {
        name,
        date,
        time,
        duration_minutes,
        share,
        countries,
        reply_rate,
    })
}

/// `campaign.share` → (None, "share"); `campaign[2].reply_rate` → (Some(2), "reply_rate").
fn campaign_key(key: &str) -> Option<(Option<usize>, &str)> {
    let rest = key.strip_prefix("campaign")?;
    let (which, field) = if let Some(r) = rest.strip_prefix('.') {
        (None, r)
    } else {
        let r = rest.strip_prefix('[')?;
        let (n, f) = r.split_once("].")?;
        (Some(n.parse().ok()?), f)
    };
    matches!(field, "share" | "reply_rate").then_some((which, field))
}

// ---------------------------------------------------------------------------------------------

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

    /// The keys [`Scenario::set`] accepts (`wabill compare --vary KEY=V1,V2,…`).
    pub const SETTABLE: [&'static str; 13] = [
        "support.fcr",
        "support.followup_resolution",
        "support.contacts_per_user_month",
        "support.ctwa_share",
        "support.page_cta_share",
        "support.reengagement",
        "delivery.failure_rate",
        "utility.orders_per_user_month",
        "authentication.logins_per_user_month",
        "campaign.share",
        "campaign.reply_rate",
        "campaign[N].share",
        "campaign[N].reply_rate",
    ];

    /// Sets one key of a checked scenario to `value` (TOML syntax; a bare word is a string),
    /// with the same checks and error messages as the scenario file: `support.fcr = 1.5` fails
    /// naming the key and the value. `campaign.share` sets every campaign, `campaign[N].share`
    /// one (N from 0, in file order).
    ///
    /// ```
    /// let mut s = wabill::traffic::parse_scenario(
    ///     "[period]\nstart = 2025-05-01\nend = 2025-05-31\n[audience]\nusers = { IN = 10 }\n",
    /// ).unwrap();
    /// s.set("support.fcr", "0.9").unwrap();
    /// assert_eq!(s.support.fcr, 0.9);
    /// assert!(s.set("support.fcr", "1.5").unwrap_err().to_string().contains("support.fcr"));
    /// ```
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), ScenarioError> {
        let val: Value = toml::from_str::<toml::Table>(&format!("v = {value}"))
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| Value::String(value.trim().to_string()));
        let v = Some(&val);
        let plausible = |x: f64| {
            if x > 1000.0 {
                Err(ScenarioError::invalid(
                    key,
                    x,
                    "more than 1000 a month per user is not plausible",
                ))
            } else {
                Ok(x)
            }
        };
        let s = &mut self.support;
        match key {
            "support.fcr" => s.fcr = probability(key, v, 0.0)?,
            "support.followup_resolution" => s.followup_resolution = probability(key, v, 0.0)?,
            "support.contacts_per_user_month" => {
                s.contacts_per_user_month = plausible(non_negative(key, v, 0.0)?)?
            }
            "support.ctwa_share" | "support.page_cta_share" => {
                let p = probability(key, v, 0.0)?;
                let other = if key == "support.ctwa_share" {
                    s.page_cta_share
                } else {
                    s.ctwa_share
                };
                if p + other > 1.0 + 1e-9 {
                    return Err(ScenarioError::invalid(
                        key,
                        &val,
                        format!(
                            "support.ctwa_share + support.page_cta_share must not exceed 1 (the other is {other})"
                        ),
                    ));
                }
                if key == "support.ctwa_share" {
                    s.ctwa_share = p;
                } else {
                    s.page_cta_share = p;
                }
            }
            "support.reengagement" => {
                s.reengagement = match string(key, &val)? {
                    "utility_template" => Reengagement::UtilityTemplate,
                    "wait_for_user" => Reengagement::WaitForUser,
                    _ => {
                        return Err(ScenarioError::invalid(
                            key,
                            &val,
                            "expected \"utility_template\" or \"wait_for_user\"",
                        ))
                    }
                }
            }
            "delivery.failure_rate" => self.failure_rate = probability(key, v, 0.0)?,
            "utility.orders_per_user_month" => {
                self.utility.orders_per_user_month = plausible(non_negative(key, v, 0.0)?)?
            }
            "authentication.logins_per_user_month" => {
                self.authentication.logins_per_user_month = plausible(non_negative(key, v, 0.0)?)?
            }
            _ => {
                let Some((which, field)) = campaign_key(key) else {
                    return Err(ScenarioError::invalid(
                        key,
                        &val,
                        format!(
                            "not a key that can be varied (one of {})",
                            Scenario::SETTABLE.join(", ")
                        ),
                    ));
                };
                if self.campaigns.is_empty() {
                    return Err(ScenarioError::invalid(
                        key,
                        &val,
                        "the scenario has no [[campaign]]",
                    ));
                }
                let range = match which {
                    None => 0..self.campaigns.len(),
                    Some(i) if i < self.campaigns.len() => i..i + 1,
                    Some(_) => {
                        return Err(ScenarioError::invalid(
                            key,
                            &val,
                            format!(
                                "the scenario has {} campaign(s), numbered from 0",
                                self.campaigns.len()
                            ),
                        ))
                    }
                };
                let p = probability(key, v, 0.0)?;
                for c in &mut self.campaigns[range] {
                    match field {
                        "share" => c.share = p,
                        _ => c.reply_rate = p,
                    }
                }
            }
        }
        Ok(())
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
