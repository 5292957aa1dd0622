//! `[audience]` of a scenario file: users per country, or a total split by shares (largest
//! remainder, exact), sorted by country code and checked against what the number plans can
//! draw.

use std::collections::BTreeMap;

use toml::Value;

use super::parse::RawAudience;
use super::values::{count, country, probability, Res};
use super::{Audience, ScenarioError, MAX_USERS};
use crate::traffic::countries::Country;

/// `[audience]`: users per country, or a total split by shares; sorted by country code.
pub(super) fn audience(a: &RawAudience) -> Res<Vec<Audience>> {
    let mut out = match (&a.users, &a.total, &a.shares) {
        (Some(users), None, None) => users_by_country(users)?,
        (None, Some(total), Some(shares)) => users_by_share(total, shares)?,
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
    };
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

/// `audience.users = { IN = 100, BR = 50 }`.
fn users_by_country(users: &BTreeMap<String, Value>) -> Res<Vec<Audience>> {
    let mut out = Vec::new();
    for (code, v) in users {
        let key = format!("audience.users.{code}");
        let c = country("audience.users", code, code)?;
        let n = count(&key, v, 0, max_users(c))?;
        out.push(Audience {
            country: c,
            users: n,
        });
    }
    Ok(out)
}

/// `audience.total` split by `audience.shares` (which must add up to 1).
fn users_by_share(total: &Value, shares: &BTreeMap<String, Value>) -> Res<Vec<Audience>> {
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
        let shown = Value::Table(shares.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
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
    let mut out = Vec::new();
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
    Ok(out)
}

/// Users of one country are drawn from its number ranges without repeats: keep well below the
/// ranges' size so that drawing stays fast.
fn max_users(c: Country) -> i64 {
    (c.capacity() / 20).min(MAX_USERS) as i64
}
