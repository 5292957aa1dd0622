//! Example tests of the billing rules, one file per section of `docs/spec/billing-rules.md`:
//! `conv` (§0.1 conventions, §1 rulebooks), `cbp` (§2), `pmp` (§3), `mkt` (§4), `rate` (§5)
//! and `examples` (§7, the worked examples EX-1 … EX-7). Each test is named after the rule it
//! protects (`pmp3_…`, `ex2_…`); `tidy.rs` checks that every rule id of the spec has one.
//!
//! This file holds what they share: a fixed rate card, a row-by-row log builder and assertions on
//! one row's outcome. Every log runs on the engine and on the reference model (`model.rs`), which
//! must agree (`adapter::both`).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;
use rust_decimal::{dec, Decimal};

use super::adapter::{both, RateSource};
use super::model::*;

mod cbp;
mod conv;
mod examples;
mod mkt;
mod pmp;
mod rate;

pub(crate) type Bands = Vec<(u64, Option<u64>, Decimal)>;

/// An in-memory rate card that does not change with the date.
#[derive(Default)]
pub(crate) struct Rates {
    list: BTreeMap<(String, String), Option<Decimal>>,
    tiers: BTreeMap<(String, String), Bands>,
}

impl Rates {
    /// Made-up but realistic figures. `None` = n/a.
    pub(crate) fn standard() -> Rates {
        let mut rates = Rates::default();
        let table: [(&str, [Option<Decimal>; 7]); 5] = [
            // marketing, utility, authentication, authentication_international, service,
            // business_initiated, user_initiated
            (
                "India",
                [
                    Some(dec!(0.0107)),
                    Some(dec!(0.0014)),
                    Some(dec!(0.0014)),
                    Some(dec!(0.0280)),
                    Some(dec!(0.0040)),
                    Some(dec!(0.0099)),
                    Some(dec!(0.0042)),
                ],
            ),
            (
                "Indonesia",
                [
                    Some(dec!(0.0411)),
                    Some(dec!(0.0250)),
                    Some(dec!(0.0250)),
                    Some(dec!(0.1360)),
                    Some(dec!(0.0250)),
                    Some(dec!(0.0300)),
                    Some(dec!(0.0200)),
                ],
            ),
            (
                "Other",
                [
                    Some(dec!(0.0604)),
                    Some(dec!(0.0077)),
                    Some(dec!(0.0077)),
                    Some(dec!(0.0750)),
                    Some(dec!(0.0077)),
                    Some(dec!(0.0500)),
                    Some(dec!(0.0300)),
                ],
            ),
            (
                "Brazil",
                [
                    Some(dec!(0.0625)),
                    Some(dec!(0.0080)),
                    Some(dec!(0.0315)),
                    None,
                    Some(dec!(0.0300)),
                    Some(dec!(0.0500)),
                    Some(dec!(0.0300)),
                ],
            ),
            (
                "North America",
                [
                    Some(dec!(0.0250)),
                    Some(dec!(0.0040)),
                    Some(dec!(0.0135)),
                    None,
                    Some(dec!(0.0040)),
                    Some(dec!(0.0147)),
                    Some(dec!(0.0088)),
                ],
            ),
        ];
        let columns = [
            "marketing",
            "utility",
            "authentication",
            "authentication_international",
            "service",
            "business_initiated",
            "user_initiated",
        ];
        for (market, values) in table {
            for (column, value) in columns.iter().zip(values) {
                rates.set(market, column, value);
            }
        }
        rates
    }

    fn set(&mut self, market: &str, column: &str, rate: Option<Decimal>) {
        self.list
            .insert((market.to_string(), column.to_string()), rate);
    }

    pub(crate) fn set_tiers(&mut self, market: &str, column: &str, bands: Bands) {
        self.tiers
            .insert((market.to_string(), column.to_string()), bands);
    }
}

impl RateSource for Rates {
    fn entries(&self) -> Vec<(String, String, Option<Decimal>)> {
        self.list
            .iter()
            .map(|((m, c), r)| (m.clone(), c.clone(), *r))
            .collect()
    }
    fn tier_entries(&self) -> Vec<(String, String, Bands)> {
        self.tiers
            .iter()
            .map(|((m, c), b)| (m.clone(), c.clone(), b.clone()))
            .collect()
    }
}

impl MRates for Rates {
    fn rate(&self, market: &str, column: &str, _local_date: NaiveDate) -> Option<Decimal> {
        self.list
            .get(&(market.to_string(), column.to_string()))
            .copied()
            .flatten()
    }

    fn has_column(&self, market: &str, column: &str, local_date: NaiveDate) -> bool {
        self.rate(market, column, local_date).is_some()
    }

    fn tiers(&self, market: &str, column: &str, _local_date: NaiveDate) -> Option<Bands> {
        self.tiers
            .get(&(market.to_string(), column.to_string()))
            .cloned()
    }
}

pub(crate) fn accounts(wabas: &[(&str, Tz)]) -> MAccounts {
    MAccounts {
        wabas: wabas
            .iter()
            .map(|(id, tz)| MWaba {
                id: id.to_string(),
                tz: *tz,
            })
            .collect(),
        primary_country: None,
        auth_intl_start: None,
        auth_intl_exceptions: Vec::new(),
    }
}

pub(crate) fn utc_waba() -> MAccounts {
    accounts(&[("w", chrono_tz::UTC)])
}

pub(crate) fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .expect("test timestamp")
        .with_timezone(&Utc)
}

pub(crate) fn hours(h: i64) -> TimeDelta {
    TimeDelta::hours(h)
}

/// Builds a log row by row; rows are numbered from 1 in the order they are added.
/// The "current" waba / number / user / country / market apply to the rows added next.
pub(crate) struct Log {
    pub(crate) events: Vec<MEvent>,
    waba: String,
    number: String,
    user: String,
    country: String,
    market: String,
}

impl Log {
    pub(crate) fn new() -> Log {
        Log {
            events: Vec::new(),
            waba: "w".into(),
            number: "n1".into(),
            user: "+910000000001".into(),
            country: "IN".into(),
            market: "India".into(),
        }
    }

    pub(crate) fn user(&mut self, user: &str, country: &str, market: &str) -> &mut Log {
        self.user = user.into();
        self.country = country.into();
        self.market = market.into();
        self
    }

    pub(crate) fn waba(&mut self, waba: &str) -> &mut Log {
        self.waba = waba.into();
        self
    }

    pub(crate) fn number(&mut self, number: &str) -> &mut Log {
        self.number = number.into();
        self
    }

    pub(crate) fn push(&mut self, ts: DateTime<Utc>, dir: MDir) -> usize {
        let row = self.events.len() + 1;
        self.events.push(MEvent {
            row,
            ts,
            waba: self.waba.clone(),
            number: self.number.clone(),
            user: self.user.clone(),
            country: self.country.clone(),
            market: self.market.clone(),
            dir,
        });
        row
    }

    pub(crate) fn inbound(&mut self, ts: DateTime<Utc>) -> usize {
        self.push(ts, MDir::In { entry_point: false })
    }

    pub(crate) fn entry_point(&mut self, ts: DateTime<Utc>) -> usize {
        self.push(ts, MDir::In { entry_point: true })
    }

    pub(crate) fn template(&mut self, ts: DateTime<Utc>, category: &str) -> usize {
        self.push(
            ts,
            MDir::Out {
                template: Some(category.into()),
                delivered: true,
            },
        )
    }

    pub(crate) fn failed_template(&mut self, ts: DateTime<Utc>, category: &str) -> usize {
        self.push(
            ts,
            MDir::Out {
                template: Some(category.into()),
                delivered: false,
            },
        )
    }

    pub(crate) fn text(&mut self, ts: DateTime<Utc>) -> usize {
        self.push(
            ts,
            MDir::Out {
                template: None,
                delivered: true,
            },
        )
    }
}

pub(crate) fn run(log: &Log, accounts: &MAccounts, rates: &Rates) -> MResult {
    both(&log.events, accounts, rates, None).expect("no missing rate")
}

pub(crate) fn outcome(result: &MResult, row: usize) -> &MOutcome {
    result
        .outcomes
        .iter()
        .find(|o| o.row == row)
        .unwrap_or_else(|| panic!("no outcome for row {row}"))
}

/// Asserts (reason, billed_as, unit, price) of one row's outcome.
pub(crate) fn check(
    result: &MResult,
    row: usize,
    reason: &str,
    billed_as: &str,
    unit: Option<bool>,
    price: Decimal,
) {
    let o = outcome(result, row);
    assert_eq!(
        (o.reason.as_str(), o.billed_as.as_str(), o.unit, o.price),
        (reason, billed_as, unit, price),
        "row {row}: {o:?}"
    );
}

pub(crate) type LineTuple = (String, String, String, String, String, u64, u64, Decimal);

pub(crate) fn lines(result: &MResult) -> Vec<LineTuple> {
    result
        .lines
        .iter()
        .map(|l| {
            (
                l.month.clone(),
                l.waba.clone(),
                l.market.clone(),
                l.category.clone(),
                l.rulebook.clone(),
                l.charged,
                l.free,
                l.cost,
            )
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn line(
    month: &str,
    waba: &str,
    market: &str,
    category: &str,
    rulebook: &str,
    charged: u64,
    free: u64,
    cost: Decimal,
) -> LineTuple {
    (
        month.into(),
        waba.into(),
        market.into(),
        category.into(),
        rulebook.into(),
        charged,
        free,
        cost,
    )
}

pub(crate) fn issues(result: &MResult) -> Vec<(String, usize)> {
    result
        .issues
        .iter()
        .map(|i| (i.code.clone(), i.row))
        .collect()
}

pub(crate) const NOT_A_UNIT: Option<bool> = None;
pub(crate) const CHARGED: Option<bool> = Some(true);
pub(crate) const FREE: Option<bool> = Some(false);
