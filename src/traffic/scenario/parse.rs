//! Reading a scenario file: serde reads the shape into raw tables (unknown keys refused, with
//! the line), then each section is read and checked value by value, in file order, so that the
//! first error a reader meets is the one reported.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveTime};
use chrono_tz::Tz;
use serde::Deserialize;
use toml::Value;

use super::audience::audience;
use super::values::{
    boolean, count, country, date, non_negative, plausible_rate, probability, reengagement,
    span_f64, span_u32, string, Res,
};
use super::{
    Account, Agent, Audience, Authentication, Calls, Campaign, Groups, LogShape, Period,
    Reengagement, Scenario, ScenarioError, Support, Utility, DEFAULT_AGENT_LATENCY_MINUTES,
    DEFAULT_AGENT_MESSAGES, DEFAULT_CAMPAIGN_DURATION_MINUTES, DEFAULT_CAMPAIGN_REPLY_RATE,
    DEFAULT_CAMPAIGN_TIME, DEFAULT_CONTACTS_PER_USER_MONTH, DEFAULT_CTWA_SHARE,
    DEFAULT_FAILURE_RATE, DEFAULT_FCR, DEFAULT_FOLLOWUP_GAP_HOURS, DEFAULT_FOLLOWUP_RESOLUTION,
    DEFAULT_FOLLOWUP_SESSIONS, DEFAULT_LOGINS_PER_USER_MONTH, DEFAULT_MESSAGES_PER_ORDER,
    DEFAULT_MESSAGE_GAP_HOURS, DEFAULT_ORDERS_PER_USER_MONTH, DEFAULT_REPLY_DELAY_MINUTES,
    DEFAULT_TURN_GAP_SECONDS, DEFAULT_USER_MESSAGES, DEFAULT_WABA,
};
use crate::traffic::countries::Country;

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
    log: Option<RawLog>,
    agent: Option<RawAgent>,
    calls: Option<RawCalls>,
    groups: Option<RawGroups>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawGroups {
    groups: Option<Value>,
    members: Option<Value>,
    broadcasts_per_month: Option<Value>,
    utility_share: Option<Value>,
    reply_share: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawAgent {
    share: Option<Value>,
    tokens_per_reply: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawCalls {
    share: Option<Value>,
    callback_share: Option<Value>,
    duration_seconds: Option<Value>,
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
pub(super) struct RawAudience {
    pub users: Option<BTreeMap<String, Value>>,
    pub total: Option<Value>,
    pub shares: Option<BTreeMap<String, Value>>,
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
    wait_return_share: Option<Value>,
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

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawLog {
    bsuid_share: Option<Value>,
    bsuid_only: Option<Value>,
    from: Option<Value>,
    inbound: Option<Value>,
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
        .map_err(|e| ScenarioError::Syntax(crate::toml_text::toml_error(text, &e)))?;
    let name = match &raw.name {
        Some(v) => string("name", v)?.to_string(),
        None => String::new(),
    };
    let period = period(raw.period.as_ref())?;
    // The audience comes before the account: number_country defaults to the largest country.
    let a = raw
        .audience
        .as_ref()
        .ok_or_else(|| ScenarioError::Missing {
            key: "audience.users (or audience.total and audience.shares)".into(),
        })?;
    let audience = audience(a)?;
    let account = account(raw.account.unwrap_or_default(), &audience)?;
    let support = support(raw.support.unwrap_or_default())?;
    let campaigns = raw
        .campaign
        .iter()
        .enumerate()
        .map(|(i, c)| campaign(i, c, &period, &audience))
        .collect::<Res<Vec<_>>>()?;
    let utility = utility(raw.utility.unwrap_or_default())?;
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
        plausible_rate(key, x)?;
    }
    let log = log_shape(raw.log.unwrap_or_default(), &period)?;
    let a = raw.agent.unwrap_or_default();
    let agent = Agent {
        share: probability("agent.share", a.share.as_ref(), 0.0)?,
        tokens_per_reply: span_u32(
            "agent.tokens_per_reply",
            a.tokens_per_reply.as_ref(),
            Agent::default().tokens_per_reply,
            1,
            1_000_000,
        )?,
    };
    let c = raw.calls.unwrap_or_default();
    let d = Calls::default();
    let calls = Calls {
        share: probability("calls.share", c.share.as_ref(), 0.0)?,
        callback_share: probability(
            "calls.callback_share",
            c.callback_share.as_ref(),
            d.callback_share,
        )?,
        duration_seconds: span_f64(
            "calls.duration_seconds",
            c.duration_seconds.as_ref(),
            d.duration_seconds,
            1.0,
            86_400.0,
        )?,
    };
    let g = raw.groups.unwrap_or_default();
    let gd = Groups::default();
    let groups = Groups {
        groups: match &g.groups {
            Some(v) => count("groups.groups", v, 0, 65_535)?,
            None => 0,
        },
        members: span_u32("groups.members", g.members.as_ref(), gd.members, 1, 8)?,
        broadcasts_per_month: plausible_rate(
            "groups.broadcasts_per_month",
            non_negative(
                "groups.broadcasts_per_month",
                g.broadcasts_per_month.as_ref(),
                gd.broadcasts_per_month,
            )?,
        )?,
        utility_share: probability(
            "groups.utility_share",
            g.utility_share.as_ref(),
            gd.utility_share,
        )?,
        reply_share: probability("groups.reply_share", g.reply_share.as_ref(), gd.reply_share)?,
    };
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
        log,
        agent,
        calls,
        groups,
    })
}

/// `[log]`: shares are probabilities, `from` a date inside the period, `inbound` a boolean.
fn log_shape(l: RawLog, period: &Period) -> Res<LogShape> {
    let from = match &l.from {
        Some(v) => {
            let d = date("log.from", Some(v))?;
            if d < period.start || d > period.end {
                return Err(ScenarioError::invalid(
                    "log.from",
                    v,
                    format!(
                        "the log must start inside the period ({} to {})",
                        period.start, period.end
                    ),
                ));
            }
            Some(d)
        }
        None => None,
    };
    let inbound = match &l.inbound {
        Some(v) => boolean("log.inbound", v)?,
        None => true,
    };
    Ok(LogShape {
        bsuid_share: probability("log.bsuid_share", l.bsuid_share.as_ref(), 0.0)?,
        bsuid_only: probability("log.bsuid_only", l.bsuid_only.as_ref(), 0.0)?,
        from,
        inbound,
    })
}

/// `[period]`: both dates, in order, of years the time functions handle.
fn period(p: Option<&RawPeriod>) -> Res<Period> {
    let p = p.ok_or_else(|| ScenarioError::Missing {
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
    Ok(Period { start, end })
}

/// `[account]`: every key has a default; `number_country` is the largest audience's.
fn account(acc: RawAccount, audience: &[Audience]) -> Res<Account> {
    let waba = match &acc.waba {
        Some(v) => waba_id(v)?,
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
        Some(v) => currency_code(v)?,
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
            for x in audience {
                if x.users > best.users {
                    best = *x;
                }
            }
            best.country
        }
    };
    Ok(Account {
        waba,
        timezone,
        currency,
        numbers,
        number_country,
    })
}

/// `account.waba`: letters, digits and `_ - . :` (the writers never quote or escape it).
fn waba_id(v: &Value) -> Res<String> {
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
    Ok(s.to_string())
}

/// `account.currency`: an ISO 4217 code.
fn currency_code(v: &Value) -> Res<String> {
    let s = string("account.currency", v)?;
    if s.len() != 3 || !s.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(ScenarioError::invalid(
            "account.currency",
            v,
            "expected an ISO 4217 code such as \"USD\"",
        ));
    }
    Ok(s.to_string())
}

/// `[support]`.
fn support(s: RawSupport) -> Res<Support> {
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
        reengagement: s
            .reengagement
            .as_ref()
            .map_or(Ok(Reengagement::UtilityTemplate), |v| {
                reengagement("support.reengagement", v)
            })?,
        ctwa_share: probability(
            "support.ctwa_share",
            s.ctwa_share.as_ref(),
            DEFAULT_CTWA_SHARE,
        )?,
        page_cta_share: probability("support.page_cta_share", s.page_cta_share.as_ref(), 0.0)?,
        wait_return_share: probability(
            "support.wait_return_share",
            s.wait_return_share.as_ref(),
            1.0,
        )?,
    };
    check_entry_shares(&support, s.page_cta_share.as_ref())?;
    Ok(support)
}

/// Click-to-WhatsApp and Page-button contacts are shares of the same contacts: at most all.
fn check_entry_shares(support: &Support, page_cta_share: Option<&Value>) -> Res<()> {
    if support.ctwa_share + support.page_cta_share > 1.0 + 1e-9 {
        return Err(ScenarioError::invalid(
            "support.page_cta_share",
            page_cta_share.unwrap(),
            format!(
                "support.ctwa_share + support.page_cta_share must not exceed 1 (ctwa_share = {})",
                support.ctwa_share
            ),
        ));
    }
    Ok(())
}

/// `[utility]`: order notifications.
fn utility(u: RawUtility) -> Res<Utility> {
    Ok(Utility {
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
    })
}

/// `[[campaign]]` number `i` (from 0, in file order).
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
    let time = campaign_time(&k("time"), c.time.as_ref())?;
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
    let countries = match &c.countries {
        Some(v) => campaign_countries(&k("countries"), v, audience)?,
        None => Vec::new(),
    };
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

/// `campaign[i].time`: a local time `"HH:MM"` (or a TOML local time); default 10:00.
fn campaign_time(key: &str, v: Option<&Value>) -> Res<NaiveTime> {
    let Some(v) = v else {
        return Ok(NaiveTime::parse_from_str(DEFAULT_CAMPAIGN_TIME, "%H:%M").unwrap());
    };
    let text = match v {
        Value::String(s) => s.clone(),
        Value::Datetime(d) if d.date.is_none() && d.time.is_some() => d.to_string(),
        _ => {
            return Err(ScenarioError::invalid(
                key,
                v,
                "expected a local time \"HH:MM\"",
            ))
        }
    };
    NaiveTime::parse_from_str(&text, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(&text, "%H:%M:%S"))
        .map_err(|_| ScenarioError::invalid(key, v, "expected a local time \"HH:MM\""))
}

/// `campaign[i].countries`: country codes, sorted, without repeats; at least one must have
/// users (an empty list means everyone).
fn campaign_countries(key: &str, v: &Value, audience: &[Audience]) -> Res<Vec<Country>> {
    let Value::Array(items) = v else {
        return Err(ScenarioError::invalid(
            key,
            v,
            "expected a list of country codes, e.g. [\"BR\"]",
        ));
    };
    let mut countries = Vec::new();
    for item in items {
        let code = string(key, item)?;
        countries.push(country(key, code, item)?);
    }
    countries.sort();
    countries.dedup();
    if !countries.is_empty()
        && !audience
            .iter()
            .any(|a| a.users > 0 && countries.contains(&a.country))
    {
        return Err(ScenarioError::invalid(
            key,
            v,
            "no users of these countries in the audience",
        ));
    }
    Ok(countries)
}
