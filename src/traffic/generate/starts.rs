//! Activity starts: when each user contacts support, orders, logs in, or receives a campaign.
//! Contacts, orders and logins follow a Poisson process per user over the period (daytime in the
//! user's local time); campaigns pick an exact number of recipients. Starts are 16-byte records,
//! sorted once.

use rand::RngExt;

use super::sampling::{daytime_instant, stream, Poisson};
use super::{
    CampaignSummary, STREAM_CAMPAIGN, STREAM_CONTACT_STARTS, STREAM_LOGIN_STARTS,
    STREAM_ORDER_STARTS,
};
use crate::traffic::model::User;
use crate::traffic::scenario::{local_instant, Scenario};

/// What a start begins; the order breaks ties between starts at the same second.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub(super) enum Activity {
    Contact,
    Order,
    Login,
    Campaign,
    /// GRP-1: a template to a group (`campaign` holds the group).
    Broadcast,
}

/// One activity of one user, expanded into rows later.
#[derive(Clone, Copy, Debug)]
pub(super) struct Start {
    pub ts: i64,
    pub user: u32,
    pub kind: Activity,
    /// Index of the campaign (campaign starts only).
    pub campaign: u16,
}

/// Every activity start of the period `[start, end)` (Unix seconds, `months` long), sorted,
/// and the campaigns' recipient counts.
pub(super) fn draw_starts(
    sc: &Scenario,
    seed: u64,
    users: &[User],
    start: i64,
    end: i64,
    months: f64,
) -> (Vec<Start>, Vec<CampaignSummary>) {
    let mut starts = Vec::new();
    activity_starts(sc, seed, users, start, end, months, &mut starts);
    let summaries = campaign_starts(sc, seed, users, start, end, &mut starts);
    group_starts(sc, seed, start, end, months, &mut starts);
    // Equal keys are equal starts, so an unstable sort is still deterministic.
    starts.sort_unstable_by_key(|s| (s.ts, s.kind, s.campaign, s.user));
    (starts, summaries)
}

/// Contacts, orders and logins: a Poisson count per user, each at a daytime instant.
fn activity_starts(
    sc: &Scenario,
    seed: u64,
    users: &[User],
    start: i64,
    end: i64,
    months: f64,
    starts: &mut Vec<Start>,
) {
    let kinds = [
        (
            Activity::Contact,
            STREAM_CONTACT_STARTS,
            sc.support.contacts_per_user_month,
        ),
        (
            Activity::Order,
            STREAM_ORDER_STARTS,
            sc.utility.orders_per_user_month,
        ),
        (
            Activity::Login,
            STREAM_LOGIN_STARTS,
            sc.authentication.logins_per_user_month,
        ),
    ];
    for (kind, s, rate) in kinds {
        let mut rng = stream(seed, s);
        let poisson = Poisson::new(rate * months);
        if poisson.is_zero() {
            continue;
        }
        for (i, u) in users.iter().enumerate() {
            let n = poisson.sample(&mut rng);
            let offset = i64::from(u.country.info().utc_offset_min) * 60;
            for _ in 0..n {
                if let Some(ts) = daytime_instant(&mut rng, offset, start, end) {
                    starts.push(Start {
                        ts,
                        user: i as u32,
                        kind,
                        campaign: 0,
                    });
                }
            }
        }
    }
}

/// GRP-1: each group's broadcasts, a Poisson count per group, at daytime instants of the
/// account's zone (its own stream).
fn group_starts(
    sc: &Scenario,
    seed: u64,
    start: i64,
    end: i64,
    months: f64,
    starts: &mut Vec<Start>,
) {
    let g = &sc.groups;
    let poisson = Poisson::new(g.broadcasts_per_month * months);
    if g.groups == 0 || poisson.is_zero() {
        return;
    }
    use chrono::{Offset, TimeZone};
    let mut rng = stream(seed, super::STREAM_GROUP_STARTS);
    let offset = sc
        .account
        .timezone
        .offset_from_utc_datetime(
            &chrono::DateTime::from_timestamp(start, 0)
                .expect("instant")
                .naive_utc(),
        )
        .fix()
        .local_minus_utc() as i64;
    for group in 0..g.groups {
        for _ in 0..poisson.sample(&mut rng) {
            if let Some(ts) = daytime_instant(&mut rng, offset, start, end) {
                starts.push(Start {
                    ts,
                    user: 0,
                    kind: Activity::Broadcast,
                    campaign: group as u16,
                });
            }
        }
    }
}

/// Campaign recipients: an exact-size uniform sample of the eligible users, sends spread over
/// the campaign's duration.
fn campaign_starts(
    sc: &Scenario,
    seed: u64,
    users: &[User],
    start: i64,
    end: i64,
    starts: &mut Vec<Start>,
) -> Vec<CampaignSummary> {
    let mut summaries = Vec::with_capacity(sc.campaigns.len());
    let mut eligible: Vec<u32> = Vec::new();
    for (ci, c) in sc.campaigns.iter().enumerate() {
        let mut rng = stream(seed, STREAM_CAMPAIGN + 2 * ci as u64);
        eligible.clear();
        eligible.extend(
            users
                .iter()
                .enumerate()
                .filter(|(_, u)| c.countries.is_empty() || c.countries.contains(&u.country))
                .map(|(i, _)| i as u32),
        );
        let k = ((eligible.len() as f64) * c.share).round() as usize;
        let k = k.min(eligible.len());
        // Partial Fisher–Yates: an exact-size uniform sample.
        for j in 0..k {
            let r = rng.random_range(j as u64..eligible.len() as u64) as usize;
            eligible.swap(j, r);
        }
        let t0 = local_instant(sc.account.timezone, c.date, c.time);
        let dur = (c.duration_minutes * 60.0).round() as i64;
        let mut recipients = 0;
        for &u in &eligible[..k] {
            let ts = if dur > 0 {
                t0 + rng.random_range(0..dur)
            } else {
                t0
            };
            if ts >= start && ts < end {
                starts.push(Start {
                    ts,
                    user: u,
                    kind: Activity::Campaign,
                    campaign: ci as u16,
                });
                recipients += 1;
            }
        }
        summaries.push(CampaignSummary {
            name: c.name.clone(),
            eligible: eligible.len() as u64,
            recipients,
            ..CampaignSummary::default()
        });
    }
    summaries
}
