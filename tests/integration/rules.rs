//! Example tests of the billing model: every worked example of billing-rules.md (EX-1 … EX-7) and
//! the rules most likely to be read differently (CBP-5/7/10, PMP-3/4/5/6/7, CONV-1/2/4, RATE-4).
//! Each test names the rule it protects.

use std::collections::BTreeMap;

use super::adapter::{both, RateSource};
use super::model::*;
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;
use rust_decimal::{dec, Decimal};

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

type Bands = Vec<(u64, Option<u64>, Decimal)>;

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

fn accounts(wabas: &[(&str, Tz)]) -> MAccounts {
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

fn utc_waba() -> MAccounts {
    accounts(&[("w", chrono_tz::UTC)])
}

fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .expect("test timestamp")
        .with_timezone(&Utc)
}

fn hours(h: i64) -> TimeDelta {
    TimeDelta::hours(h)
}

/// Builds a log row by row; rows are numbered from 1 in the order they are added.
/// The "current" waba / number / user / country / market apply to the rows added next.
struct Log {
    events: Vec<MEvent>,
    waba: String,
    number: String,
    user: String,
    country: String,
    market: String,
}

impl Log {
    fn new() -> Log {
        Log {
            events: Vec::new(),
            waba: "w".into(),
            number: "n1".into(),
            user: "+910000000001".into(),
            country: "IN".into(),
            market: "India".into(),
        }
    }

    fn user(&mut self, user: &str, country: &str, market: &str) -> &mut Log {
        self.user = user.into();
        self.country = country.into();
        self.market = market.into();
        self
    }

    fn waba(&mut self, waba: &str) -> &mut Log {
        self.waba = waba.into();
        self
    }

    fn number(&mut self, number: &str) -> &mut Log {
        self.number = number.into();
        self
    }

    fn push(&mut self, ts: DateTime<Utc>, dir: MDir) -> usize {
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

    fn inbound(&mut self, ts: DateTime<Utc>) -> usize {
        self.push(ts, MDir::In { entry_point: false })
    }

    fn entry_point(&mut self, ts: DateTime<Utc>) -> usize {
        self.push(ts, MDir::In { entry_point: true })
    }

    fn template(&mut self, ts: DateTime<Utc>, category: &str) -> usize {
        self.push(
            ts,
            MDir::Out {
                template: Some(category.into()),
                delivered: true,
            },
        )
    }

    fn failed_template(&mut self, ts: DateTime<Utc>, category: &str) -> usize {
        self.push(
            ts,
            MDir::Out {
                template: Some(category.into()),
                delivered: false,
            },
        )
    }

    fn text(&mut self, ts: DateTime<Utc>) -> usize {
        self.push(
            ts,
            MDir::Out {
                template: None,
                delivered: true,
            },
        )
    }
}

fn run(log: &Log, accounts: &MAccounts, rates: &Rates) -> MResult {
    both(&log.events, accounts, rates, None).expect("no missing rate")
}

fn outcome(result: &MResult, row: usize) -> &MOutcome {
    result
        .outcomes
        .iter()
        .find(|o| o.row == row)
        .unwrap_or_else(|| panic!("no outcome for row {row}"))
}

/// Asserts (reason, billed_as, unit, price) of one row's outcome.
fn check(
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

type LineTuple = (String, String, String, String, String, u64, u64, Decimal);

fn lines(result: &MResult) -> Vec<LineTuple> {
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
fn line(
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

fn issues(result: &MResult) -> Vec<(String, usize)> {
    result
        .issues
        .iter()
        .map(|i| (i.code.clone(), i.row))
        .collect()
}

const NOT_A_UNIT: Option<bool> = None;
const CHARGED: Option<bool> = Some(true);
const FREE: Option<bool> = Some(false);

// ---------------------------------------------------------------------------------------------
// Worked examples
// ---------------------------------------------------------------------------------------------

#[test]
fn ex1_cbp_templates_open_one_conversation_per_category() {
    // EX-1, CBP-2, CBP-4 (cbp-2023)
    let h0 = at("2024-03-04T00:00:00Z");
    let mut log = Log::new();
    let r1 = log.template(h0, "marketing");
    let r2 = log.template(h0 + hours(4), "utility");
    let r3 = log.template(h0 + hours(10), "utility");
    let result = run(&log, &utc_waba(), &Rates::standard());

    check(&result, r1, "charged", "marketing", CHARGED, dec!(0.0107));
    check(&result, r2, "charged", "utility", CHARGED, dec!(0.0014));
    check(
        &result,
        r3,
        "in_conversation",
        "utility",
        NOT_A_UNIT,
        Decimal::ZERO,
    );
    assert!(result.outcomes.iter().all(|o| o.rulebook == "cbp-2023"));
    assert_eq!(
        lines(&result),
        vec![
            line(
                "2024-03",
                "w",
                "India",
                "marketing",
                "cbp-2023",
                1,
                0,
                dec!(0.0107)
            ),
            line(
                "2024-03",
                "w",
                "India",
                "utility",
                "cbp-2023",
                1,
                0,
                dec!(0.0014)
            ),
        ]
    );
    assert_eq!(result.total, dec!(0.0121));
}

/// EX-2 steps; returns the rows (H5 text, H25 text, H26 text).
fn ex2_log(h0: DateTime<Utc>) -> (Log, usize, usize, usize) {
    let mut log = Log::new();
    log.template(h0, "marketing");
    log.inbound(h0 + hours(4));
    let r5 = log.text(h0 + hours(5));
    let r25 = log.text(h0 + hours(25));
    let r26 = log.text(h0 + hours(26));
    (log, r5, r25, r26)
}

#[test]
fn ex2_cbp_service_conversation_only_when_nothing_is_open_cbp_2023() {
    // EX-2, CBP-3, CBP-7 (cbp-2023: the first service conversations of the month are free tier)
    let (log, r5, r25, r26) = ex2_log(at("2024-03-04T00:00:00Z"));
    let result = run(&log, &utc_waba(), &Rates::standard());
    check(
        &result,
        r5,
        "in_conversation",
        "marketing",
        NOT_A_UNIT,
        Decimal::ZERO,
    );
    check(&result, r25, "free_tier", "service", FREE, Decimal::ZERO);
    check(
        &result,
        r26,
        "in_conversation",
        "service",
        NOT_A_UNIT,
        Decimal::ZERO,
    );
    assert_eq!(
        lines(&result),
        vec![
            line(
                "2024-03",
                "w",
                "India",
                "marketing",
                "cbp-2023",
                1,
                0,
                dec!(0.0107)
            ),
            line(
                "2024-03",
                "w",
                "India",
                "service",
                "cbp-2023",
                0,
                1,
                Decimal::ZERO
            ),
        ]
    );
}

#[test]
fn ex2_cbp_service_conversations_are_free_from_cbp_2024() {
    // EX-2, CBP-7 (cbp-2024: all service conversations free)
    let (log, r5, r25, r26) = ex2_log(at("2024-12-02T00:00:00Z"));
    let result = run(&log, &utc_waba(), &Rates::standard());
    check(
        &result,
        r5,
        "in_conversation",
        "marketing",
        NOT_A_UNIT,
        Decimal::ZERO,
    );
    check(&result, r25, "free_service", "service", FREE, Decimal::ZERO);
    check(
        &result,
        r26,
        "in_conversation",
        "service",
        NOT_A_UNIT,
        Decimal::ZERO,
    );
    assert_eq!(result.total, dec!(0.0107));
}

#[test]
fn ex3_cbp_free_entry_point_closes_others_and_covers_everything_for_72h() {
    // EX-3, CBP-6, CONV-4 (cbp-2024)
    let t0 = at("2025-01-06T10:00:00Z");
    let mut log = Log::new();
    let before = log.template(t0 - hours(1), "marketing");
    log.entry_point(t0);
    let reply = log.template(t0 + hours(12), "marketing");
    let late_text = log.text(t0 + hours(24)); // CSW ended exactly now (CONV-2)
    let inside = log.template(t0 + hours(37), "marketing");
    log.entry_point(t0 + hours(46));
    let second_reply = log.template(t0 + hours(47), "utility");
    let text_inside = log.text(t0 + hours(48));
    let after = log.template(t0 + hours(12 + 72), "marketing");
    let result = run(&log, &utc_waba(), &Rates::standard());

    check(
        &result,
        before,
        "charged",
        "marketing",
        CHARGED,
        dec!(0.0107),
    );
    check(
        &result,
        reply,
        "free_entry_point",
        "free_entry_point",
        FREE,
        Decimal::ZERO,
    );
    check(
        &result,
        late_text,
        "outside_csw",
        "",
        NOT_A_UNIT,
        Decimal::ZERO,
    );
    check(
        &result,
        inside,
        "in_conversation",
        "free_entry_point",
        NOT_A_UNIT,
        Decimal::ZERO,
    );
    // A second entry point answered while the free entry point is open opens nothing new.
    check(
        &result,
        second_reply,
        "in_conversation",
        "free_entry_point",
        NOT_A_UNIT,
        Decimal::ZERO,
    );
    check(
        &result,
        text_inside,
        "in_conversation",
        "free_entry_point",
        NOT_A_UNIT,
        Decimal::ZERO,
    );
    // The earlier marketing conversation was closed by the free entry point: a new one opens.
    check(
        &result,
        after,
        "charged",
        "marketing",
        CHARGED,
        dec!(0.0107),
    );
    assert_eq!(
        issues(&result),
        vec![("outside-csw".to_string(), late_text)]
    );
    assert_eq!(
        lines(&result),
        vec![
            line(
                "2025-01",
                "w",
                "India",
                "free_entry_point",
                "cbp-2024",
                0,
                1,
                Decimal::ZERO
            ),
            line(
                "2025-01",
                "w",
                "India",
                "marketing",
                "cbp-2024",
                2,
                0,
                dec!(0.0214)
            ),
        ]
    );
}

#[test]
fn ex4_pmp_only_templates_outside_the_csw_are_charged() {
    // EX-4, PMP-1, PMP-2 (pmp-2025)
    let h0 = at("2025-08-04T00:00:00Z");
    let mut log = Log::new();
    let r0 = log.template(h0, "marketing");
    log.inbound(h0 + hours(2));
    let r3 = log.text(h0 + hours(3));
    let r4 = log.template(h0 + hours(4), "utility");
    let r30 = log.template(h0 + hours(30), "utility");
    let result = run(&log, &utc_waba(), &Rates::standard());

    check(&result, r0, "charged", "marketing", CHARGED, dec!(0.0107));
    check(
        &result,
        r3,
        "free_customer_service",
        "service",
        FREE,
        Decimal::ZERO,
    );
    check(
        &result,
        r4,
        "free_customer_service",
        "utility",
        FREE,
        Decimal::ZERO,
    );
    check(&result, r30, "charged", "utility", CHARGED, dec!(0.0014));
    assert_eq!(
        lines(&result),
        vec![
            line(
                "2025-08",
                "w",
                "India",
                "marketing",
                "pmp-2025",
                1,
                0,
                dec!(0.0107)
            ),
            line(
                "2025-08",
                "w",
                "India",
                "service",
                "pmp-2025",
                0,
                1,
                Decimal::ZERO
            ),
            line(
                "2025-08",
                "w",
                "India",
                "utility",
                "pmp-2025",
                1,
                1,
                dec!(0.0014)
            ),
        ]
    );
    assert_eq!(result.total, dec!(0.0121));
}

#[test]
fn ex5_pmp_free_entry_point_window_is_72h_from_the_reply() {
    // EX-5, PMP-3, CONV-2, CONV-4 (pmp-2025)
    let t0 = at("2025-08-04T10:00:00Z");
    let t1 = t0 + hours(10);
    let mut log = Log::new();
    log.entry_point(t0);
    let reply = log.text(t1);
    let text_after_csw = log.text(t0 + hours(24)); // the CSW stays independent
    let template_inside = log.template(t1 + hours(30), "marketing");
    let auth_inside = log.template(t1 + hours(72) - TimeDelta::seconds(1), "authentication");
    let at_end = log.template(t1 + hours(72), "authentication");
    let result = run(&log, &utc_waba(), &Rates::standard());

    check(
        &result,
        reply,
        "free_entry_point",
        "free_entry_point",
        FREE,
        Decimal::ZERO,
    );
    check(
        &result,
        text_after_csw,
        "outside_csw",
        "",
        NOT_A_UNIT,
        Decimal::ZERO,
    );
    check(
        &result,
        template_inside,
        "free_entry_point",
        "free_entry_point",
        FREE,
        Decimal::ZERO,
    );
    check(
        &result,
        auth_inside,
        "free_entry_point",
        "free_entry_point",
        FREE,
        Decimal::ZERO,
    );
    check(
        &result,
        at_end,
        "charged",
        "authentication",
        CHARGED,
        dec!(0.0014),
    );
    assert_eq!(
        lines(&result),
        vec![
            line(
                "2025-08",
                "w",
                "India",
                "authentication",
                "pmp-2025",
                1,
                0,
                dec!(0.0014)
            ),
            line(
                "2025-08",
                "w",
                "India",
                "free_entry_point",
                "pmp-2025",
                0,
                3,
                Decimal::ZERO
            ),
        ]
    );
}

#[test]
fn pmp3_a_later_entry_point_opens_a_new_window_and_failed_replies_do_not_count() {
    // PMP-3 (contrast CBP-6), "Delivered"
    let t0 = at("2025-08-04T10:00:00Z");
    let mut log = Log::new();
    log.entry_point(t0);
    let failed = log.failed_template(t0 + TimeDelta::minutes(30), "utility");
    let reply = log.template(t0 + hours(1), "utility"); // window to t0 + 73 h
    log.entry_point(t0 + hours(30));
    let reply2 = log.template(t0 + hours(31), "marketing"); // new window to t0 + 103 h
    let after_first = log.template(t0 + hours(80), "marketing");
    let at_end = log.template(t0 + hours(103), "marketing");
    let result = run(&log, &utc_waba(), &Rates::standard());

    let f = outcome(&result, failed);
    assert_eq!(
        (
            f.reason.as_str(),
            f.billed_as.as_str(),
            f.unit,
            f.rulebook.as_str(),
            f.month.as_str()
        ),
        ("not_delivered", "", None, "pmp-2025", "2025-08")
    );
    check(
        &result,
        reply,
        "free_entry_point",
        "free_entry_point",
        FREE,
        Decimal::ZERO,
    );
    check(
        &result,
        reply2,
        "free_entry_point",
        "free_entry_point",
        FREE,
        Decimal::ZERO,
    );
    check(
        &result,
        after_first,
        "free_entry_point",
        "free_entry_point",
        FREE,
        Decimal::ZERO,
    );
    check(
        &result,
        at_end,
        "charged",
        "marketing",
        CHARGED,
        dec!(0.0107),
    );
}

#[test]
fn ex6_tiers_count_per_waba_local_month_across_time_zones() {
    // EX-6, PMP-4, CONV-1 (pmp-2025)
    let accounts = accounts(&[
        ("A", chrono_tz::America::Los_Angeles), // UTC-7 in summer: still July 31
        ("B", chrono_tz::Asia::Tokyo),          // UTC+9: already August 1
        ("C", chrono_tz::Europe::Berlin),       // UTC+2: already August 1
    ]);
    let mut rates = Rates::standard();
    rates.set_tiers(
        "India",
        "utility",
        vec![
            (1, Some(2), dec!(0.0014)),
            (3, Some(4), dec!(0.0012)),
            (5, None, dec!(0.0010)),
        ],
    );
    let instant = at("2025-08-01T02:00:00Z");
    let mut log = Log::new();
    log.waba("A").user("+910000000001", "IN", "India");
    let a1 = log.template(at("2025-07-10T12:00:00Z"), "utility");
    let a2 = log.template(at("2025-07-20T12:00:00Z"), "utility");
    let a3 = log.template(instant, "utility");
    log.waba("B");
    let b1 = log.template(instant, "utility");
    log.waba("C");
    let c1 = log.template(instant, "utility");
    log.waba("A");
    let a4 = log.template(instant, "utility");
    let a5 = log.template(at("2025-08-01T06:59:59Z"), "utility"); // 23:59:59 July 31 in A
    let a6 = log.template(at("2025-08-01T07:00:00Z"), "utility"); // 00:00 August 1 in A
    log.waba("B");
    let b_marketing = log.template(at("2025-08-01T08:00:00Z"), "marketing"); // no tiers, not counted
    log.user("+910000000002", "IN", "India");
    log.inbound(at("2025-08-02T00:00:00Z"));
    let b_free = log.template(at("2025-08-02T01:00:00Z"), "utility"); // free in CSW: not counted
    log.waba("C");
    let c2 = log.template(at("2025-08-03T00:00:00Z"), "utility");

    // CONV-1: the replay sorts; equal instants keep row order whatever the input order.
    let mut events = log.events.clone();
    events.reverse();
    let result = both(&events, &accounts, &rates, None).expect("rates present");

    check(&result, a1, "charged", "utility", CHARGED, dec!(0.0014)); // July #1
    check(&result, a2, "charged", "utility", CHARGED, dec!(0.0014)); // July #2
    check(&result, a3, "charged", "utility", CHARGED, dec!(0.0012)); // July #3: next band
    check(&result, b1, "charged", "utility", CHARGED, dec!(0.0014)); // August #1
    check(&result, c1, "charged", "utility", CHARGED, dec!(0.0014)); // August #2
    check(&result, a4, "charged", "utility", CHARGED, dec!(0.0012)); // July #4
    check(&result, a5, "charged", "utility", CHARGED, dec!(0.0010)); // July #5
    check(&result, a6, "charged", "utility", CHARGED, dec!(0.0012)); // August #3
    check(
        &result,
        b_marketing,
        "charged",
        "marketing",
        CHARGED,
        dec!(0.0107),
    );
    check(
        &result,
        b_free,
        "free_customer_service",
        "utility",
        FREE,
        Decimal::ZERO,
    );
    check(&result, c2, "charged", "utility", CHARGED, dec!(0.0012)); // August #4
    assert_eq!(outcome(&result, a3).month, "2025-07");
    assert_eq!(outcome(&result, b1).month, "2025-08");

    let rows: Vec<usize> = result.outcomes.iter().map(|o| o.row).collect();
    assert_eq!(
        rows,
        vec![a1, a2, a3, b1, c1, a4, a5, a6, b_marketing, b_free, c2]
    );
    assert_eq!(
        lines(&result),
        vec![
            line(
                "2025-07",
                "A",
                "India",
                "utility",
                "pmp-2025",
                5,
                0,
                dec!(0.0062)
            ),
            line(
                "2025-08",
                "A",
                "India",
                "utility",
                "pmp-2025",
                1,
                0,
                dec!(0.0012)
            ),
            line(
                "2025-08",
                "B",
                "India",
                "marketing",
                "pmp-2025",
                1,
                0,
                dec!(0.0107)
            ),
            line(
                "2025-08",
                "B",
                "India",
                "utility",
                "pmp-2025",
                1,
                1,
                dec!(0.0014)
            ),
            line(
                "2025-08",
                "C",
                "India",
                "utility",
                "pmp-2025",
                2,
                0,
                dec!(0.0026)
            ),
        ]
    );
    assert_eq!(result.total, dec!(0.0221));
}

#[test]
fn pmp4_a_count_beyond_the_last_band_is_a_missing_rate() {
    // PMP-4, RATE-4
    let mut rates = Rates::standard();
    rates.set_tiers("India", "utility", vec![(1, Some(2), dec!(0.0014))]);
    let mut log = Log::new();
    for day in 4..7 {
        log.template(at(&format!("2025-08-0{day}T12:00:00Z")), "utility");
    }
    let error = both(&log.events, &utc_waba(), &rates, None).unwrap_err();
    assert_eq!(
        error,
        MissingRate {
            market: "India".into(),
            column: "utility".into(),
            date: NaiveDate::from_ymd_opt(2025, 8, 6).unwrap(),
        }
    );
}

#[test]
fn pmp4_authentication_and_international_share_a_counter_but_not_a_table() {
    // PMP-4, PMP-6 (pmp-2025)
    let mut accounts = utc_waba();
    accounts.primary_country = Some("IN".into());
    accounts.auth_intl_start = Some(at("2024-07-01T00:00:00Z"));
    let mut rates = Rates::standard();
    rates.set_tiers(
        "India",
        "authentication",
        vec![(1, Some(1), dec!(0.0014)), (2, None, dec!(0.0010))],
    );
    rates.set_tiers(
        "India",
        "authentication_international",
        vec![(1, Some(1), dec!(0.0280)), (2, None, dec!(0.0200))],
    );
    let mut log = Log::new();
    log.user("+910000000001", "IN", "India");
    let domestic1 = log.template(at("2025-08-04T00:00:00Z"), "authentication");
    log.user("+975000000001", "BT", "India"); // a foreign user priced in the India market
    let international = log.template(at("2025-08-04T01:00:00Z"), "authentication");
    log.user("+910000000001", "IN", "India");
    let domestic2 = log.template(at("2025-08-04T02:00:00Z"), "authentication");
    let result = run(&log, &accounts, &rates);

    check(
        &result,
        domestic1,
        "charged",
        "authentication",
        CHARGED,
        dec!(0.0014),
    ); // #1
    check(
        &result,
        international,
        "charged",
        "authentication_international",
        CHARGED,
        dec!(0.0200),
    ); // #2
    check(
        &result,
        domestic2,
        "charged",
        "authentication",
        CHARGED,
        dec!(0.0010),
    ); // #3
}

#[test]
fn ex7_cbp_utility_conversation_carries_across_the_switch_to_pmp() {
    // EX-7, CBP-9, §1 (switch at 00:00 WABA time)
    let accounts = accounts(&[("w", chrono_tz::Asia::Kolkata)]); // UTC+05:30
    let mut log = Log::new();
    let utility_open = log.template(at("2025-06-30T14:30:00Z"), "utility"); // 20:00 IST June 30
    let marketing_open = log.template(at("2025-06-30T15:00:00Z"), "marketing"); // 20:30 IST
    let marketing_after = log.template(at("2025-06-30T18:30:00Z"), "marketing"); // 00:00 IST July 1
    let utility_carried = log.template(at("2025-07-01T04:30:00Z"), "utility"); // 10:00 IST
    let utility_at_end = log.template(at("2025-07-01T14:30:00Z"), "utility"); // 20:00 IST: ended
    let result = run(&log, &accounts, &Rates::standard());

    check(
        &result,
        utility_open,
        "charged",
        "utility",
        CHARGED,
        dec!(0.0014),
    );
    check(
        &result,
        marketing_open,
        "charged",
        "marketing",
        CHARGED,
        dec!(0.0107),
    );
    // No other conversation carries across: marketing is charged per message from the switch.
    check(
        &result,
        marketing_after,
        "charged",
        "marketing",
        CHARGED,
        dec!(0.0107),
    );
    check(
        &result,
        utility_carried,
        "in_conversation",
        "utility",
        NOT_A_UNIT,
        Decimal::ZERO,
    );
    check(
        &result,
        utility_at_end,
        "charged",
        "utility",
        CHARGED,
        dec!(0.0014),
    );

    let carried = outcome(&result, utility_carried);
    assert_eq!(
        (carried.rulebook.as_str(), carried.month.as_str()),
        ("cbp-2024", "2025-06")
    );
    assert_eq!(outcome(&result, marketing_after).rulebook, "pmp-2025");
    assert_eq!(
        lines(&result),
        vec![
            line(
                "2025-06",
                "w",
                "India",
                "marketing",
                "cbp-2024",
                1,
                0,
                dec!(0.0107)
            ),
            line(
                "2025-06",
                "w",
                "India",
                "utility",
                "cbp-2024",
                1,
                0,
                dec!(0.0014)
            ),
            line(
                "2025-07",
                "w",
                "India",
                "marketing",
                "pmp-2025",
                1,
                0,
                dec!(0.0107)
            ),
            line(
                "2025-07",
                "w",
                "India",
                "utility",
                "pmp-2025",
                1,
                0,
                dec!(0.0014)
            ),
        ]
    );
}

#[test]
fn cbp9_a_cbp_free_entry_point_does_not_carry_across_the_switch() {
    // CBP-9 ("no other conversation carries across"), PMP-3: a pending entry point does.
    let mut log = Log::new();
    log.entry_point(at("2025-06-30T10:00:00Z"));
    let cbp_reply = log.template(at("2025-06-30T12:00:00Z"), "marketing"); // FEP to 07-03 12:00
    let after_switch = log.template(at("2025-07-01T12:00:00Z"), "marketing");
    log.user("+910000000002", "IN", "India");
    log.entry_point(at("2025-06-30T20:00:00Z"));
    let pmp_reply = log.template(at("2025-07-01T01:00:00Z"), "marketing");
    let result = run(&log, &utc_waba(), &Rates::standard());
    check(
        &result,
        cbp_reply,
        "free_entry_point",
        "free_entry_point",
        FREE,
        Decimal::ZERO,
    );
    assert_eq!(outcome(&result, cbp_reply).rulebook, "cbp-2024");
    check(
        &result,
        after_switch,
        "charged",
        "marketing",
        CHARGED,
        dec!(0.0107),
    );
    check(
        &result,
        pmp_reply,
        "free_entry_point",
        "free_entry_point",
        FREE,
        Decimal::ZERO,
    );
    assert_eq!(outcome(&result, pmp_reply).rulebook, "pmp-2025");
}

// ---------------------------------------------------------------------------------------------
// CBP rules
// ---------------------------------------------------------------------------------------------

#[test]
fn cbp5_cbp7_first_conversations_of_a_month_are_free_under_cbp_2022() {
    // CBP-5: user- vs business-initiated; CBP-7: per WABA, all numbers, both kinds, per month.
    let accounts = accounts(&[("w", chrono_tz::UTC), ("w2", chrono_tz::UTC)]);
    let start = at("2023-03-01T00:00:00Z");
    let mut log = Log::new();
    log.user("+910000000000", "IN", "India");
    log.inbound(start);
    let user_initiated = log.text(start + TimeDelta::seconds(1));
    let rider = log.template(start + TimeDelta::seconds(2), "marketing"); // CBP-5: covered
    let mut business_initiated = Vec::new();
    for i in 1..=CBP_FREE_TIER {
        log.user(&format!("+91{i:010}"), "IN", "India");
        log.number(if i % 2 == 0 { "n1" } else { "n2" });
        business_initiated.push(log.template(start + TimeDelta::minutes(i as i64), "utility"));
    }
    log.waba("w2");
    let other_waba = log.template(at("2023-03-20T00:00:00Z"), "marketing");
    log.waba("w");
    let next_month = log.template(at("2023-04-01T00:00:00Z"), "marketing");
    let result = run(&log, &accounts, &Rates::standard());

    check(
        &result,
        user_initiated,
        "free_tier",
        "user_initiated",
        FREE,
        Decimal::ZERO,
    );
    check(
        &result,
        rider,
        "in_conversation",
        "user_initiated",
        NOT_A_UNIT,
        Decimal::ZERO,
    );
    for &row in &business_initiated[..business_initiated.len() - 1] {
        check(
            &result,
            row,
            "free_tier",
            "business_initiated",
            FREE,
            Decimal::ZERO,
        );
    }
    // The 1,001st conversation of the month in WABA w is charged.
    let last = *business_initiated.last().unwrap();
    check(
        &result,
        last,
        "charged",
        "business_initiated",
        CHARGED,
        dec!(0.0099),
    );
    check(
        &result,
        other_waba,
        "free_tier",
        "business_initiated",
        FREE,
        Decimal::ZERO,
    );
    check(
        &result,
        next_month,
        "free_tier",
        "business_initiated",
        FREE,
        Decimal::ZERO,
    );
    assert!(result.outcomes.iter().all(|o| o.rulebook == "cbp-2022"));
    assert_eq!(
        lines(&result),
        vec![
            line(
                "2023-03",
                "w",
                "India",
                "business_initiated",
                "cbp-2022",
                1,
                999,
                dec!(0.0099)
            ),
            line(
                "2023-03",
                "w",
                "India",
                "user_initiated",
                "cbp-2022",
                0,
                1,
                Decimal::ZERO
            ),
            line(
                "2023-03",
                "w2",
                "India",
                "business_initiated",
                "cbp-2022",
                0,
                1,
                Decimal::ZERO
            ),
            line(
                "2023-04",
                "w",
                "India",
                "business_initiated",
                "cbp-2022",
                0,
                1,
                Decimal::ZERO
            ),
        ]
    );
}

#[test]
fn cbp7_cbp_2023_free_tier_is_for_service_conversations_only() {
    // CBP-7 (cbp-2023)
    let t = at("2024-03-04T00:00:00Z");
    let mut log = Log::new();
    log.inbound(t);
    let marketing = log.template(t + hours(1), "marketing");
    log.user("+910000000002", "IN", "India");
    log.inbound(t);
    let service = log.text(t + hours(1));
    let result = run(&log, &utc_waba(), &Rates::standard());
    check(
        &result,
        marketing,
        "charged",
        "marketing",
        CHARGED,
        dec!(0.0107),
    );
    check(
        &result,
        service,
        "free_tier",
        "service",
        FREE,
        Decimal::ZERO,
    );
}

#[test]
fn cbp10_open_cbp_2022_conversation_keeps_non_templates_but_covers_no_template() {
    // CBP-10, CBP-3, CONV-2
    let mut log = Log::new();
    log.inbound(at("2023-05-31T19:00:00Z"));
    let opened = log.text(at("2023-05-31T20:00:00Z")); // cbp-2022 user-initiated to 06-01 20:00
    let text_rides = log.text(at("2023-06-01T01:00:00Z"));
    let marketing = log.template(at("2023-06-01T02:00:00Z"), "marketing"); // to 06-02 02:00
    let utility = log.template(at("2023-06-01T03:00:00Z"), "utility"); // to 06-02 03:00
    log.inbound(at("2023-06-01T19:00:00Z"));
    let text_in_marketing = log.text(at("2023-06-01T20:00:00Z")); // user-initiated just ended
    let text_in_utility = log.text(at("2023-06-02T02:00:00Z")); // marketing just ended
    let service = log.text(at("2023-06-02T03:00:00Z")); // everything ended
    let result = run(&log, &utc_waba(), &Rates::standard());

    check(
        &result,
        opened,
        "free_tier",
        "user_initiated",
        FREE,
        Decimal::ZERO,
    );
    check(
        &result,
        text_rides,
        "in_conversation",
        "user_initiated",
        NOT_A_UNIT,
        Decimal::ZERO,
    );
    let rides = outcome(&result, text_rides);
    assert_eq!(
        (rides.rulebook.as_str(), rides.month.as_str()),
        ("cbp-2022", "2023-05")
    );
    check(
        &result,
        marketing,
        "charged",
        "marketing",
        CHARGED,
        dec!(0.0107),
    );
    check(
        &result,
        utility,
        "charged",
        "utility",
        CHARGED,
        dec!(0.0014),
    );
    check(
        &result,
        text_in_marketing,
        "in_conversation",
        "marketing",
        NOT_A_UNIT,
        Decimal::ZERO,
    );
    check(
        &result,
        text_in_utility,
        "in_conversation",
        "utility",
        NOT_A_UNIT,
        Decimal::ZERO,
    );
    check(
        &result,
        service,
        "free_tier",
        "service",
        FREE,
        Decimal::ZERO,
    );
    assert_eq!(outcome(&result, service).rulebook, "cbp-2023");
}

#[test]
fn cbp3_a_non_template_rides_in_the_first_opened_of_conversations_opened_at_one_instant() {
    // CBP-3, CONV-1. Regression (found by model_props): when several conversations opened at the
    // same instant, the engine gave a non-template to the first by category (marketing, utility,
    // authentication) instead of the first opened in CONV-1 order (row order).
    let t = at("2025-06-30T12:00:00Z");
    for (first, second) in [("authentication", "marketing"), ("marketing", "utility")] {
        let mut log = Log::new();
        log.template(t, first);
        log.template(t, second);
        log.inbound(t);
        let text = log.text(t);
        let result = run(&log, &utc_waba(), &Rates::standard());
        check(
            &result,
            text,
            "in_conversation",
            first,
            NOT_A_UNIT,
            Decimal::ZERO,
        );
    }
}

#[test]
fn cbp_failed_message_opens_nothing() {
    // "Delivered", CBP-1
    let t = at("2024-03-04T00:00:00Z");
    let mut log = Log::new();
    let failed = log.failed_template(t, "marketing");
    let opens = log.template(t + hours(1), "marketing");
    let rides = log.template(t + hours(2), "marketing");
    let result = run(&log, &utc_waba(), &Rates::standard());
    check(
        &result,
        failed,
        "not_delivered",
        "",
        NOT_A_UNIT,
        Decimal::ZERO,
    );
    check(
        &result,
        opens,
        "charged",
        "marketing",
        CHARGED,
        dec!(0.0107),
    );
    check(
        &result,
        rides,
        "in_conversation",
        "marketing",
        NOT_A_UNIT,
        Decimal::ZERO,
    );
}

// ---------------------------------------------------------------------------------------------
// PMP rules
// ---------------------------------------------------------------------------------------------

#[test]
fn pmp5_service_allowance_per_number_per_month() {
    // PMP-5 (pmp-2026)
    let base = at("2026-10-05T00:00:00Z");
    let mut log = Log::new();
    // A free entry point conversation first: its messages do not use up the allowance.
    log.user("+919999999999", "IN", "India");
    log.entry_point(base - hours(3));
    let ep_reply = log.text(base - hours(2));
    let ep_inside = log.text(base - hours(1));
    let mut service = Vec::new();
    for i in 0..=PMP_SERVICE_ALLOWANCE {
        log.user(&format!("+91{i:010}"), "IN", "India");
        log.inbound(base + TimeDelta::seconds(i as i64));
        service.push(log.text(base + hours(1) + TimeDelta::seconds(i as i64)));
    }
    log.user("+910000000000", "IN", "India");
    let utility_in_csw = log.template(base + hours(2), "utility");
    log.number("n2");
    log.inbound(base + hours(3));
    let other_number = log.text(base + hours(4));
    log.number("n1");
    log.inbound(at("2026-11-01T00:00:00Z"));
    let next_month = log.text(at("2026-11-01T01:00:00Z"));
    let result = run(&log, &utc_waba(), &Rates::standard());

    check(
        &result,
        ep_reply,
        "free_entry_point",
        "free_entry_point",
        FREE,
        Decimal::ZERO,
    );
    check(
        &result,
        ep_inside,
        "free_entry_point",
        "free_entry_point",
        FREE,
        Decimal::ZERO,
    );
    for &row in &service[..service.len() - 1] {
        check(&result, row, "free_tier", "service", FREE, Decimal::ZERO);
    }
    let last = *service.last().unwrap();
    check(&result, last, "charged", "service", CHARGED, dec!(0.0040));
    // PMP-5: utility templates are charged inside the CSW too.
    check(
        &result,
        utility_in_csw,
        "charged",
        "utility",
        CHARGED,
        dec!(0.0014),
    );
    check(
        &result,
        other_number,
        "free_tier",
        "service",
        FREE,
        Decimal::ZERO,
    );
    check(
        &result,
        next_month,
        "free_tier",
        "service",
        FREE,
        Decimal::ZERO,
    );
    assert!(result.outcomes.iter().all(|o| o.rulebook == "pmp-2026"));
    assert_eq!(result.total, dec!(0.0054));
}

#[test]
fn pmp6_authentication_international_both_ways() {
    // PMP-6 (pmp-2025): eligibility start, per-country exception, same country, no such rate.
    let mut accounts = utc_waba();
    accounts.primary_country = Some("IN".into());
    accounts.auth_intl_start = Some(at("2025-08-10T00:00:00Z"));
    accounts.auth_intl_exceptions = vec![("ID".into(), at("2025-08-20T00:00:00Z"))];
    let mut log = Log::new();
    log.user("+971500000001", "AE", "Other");
    let before_start = log.template(at("2025-08-09T23:59:59Z"), "authentication");
    let at_start = log.template(at("2025-08-10T00:00:00Z"), "authentication");
    log.user("+62800000001", "ID", "Indonesia");
    let before_exception = log.template(at("2025-08-15T00:00:00Z"), "authentication");
    let at_exception = log.template(at("2025-08-20T00:00:00Z"), "authentication");
    log.user("+910000000001", "IN", "India");
    let same_country = log.template(at("2025-08-15T00:00:00Z"), "authentication");
    log.user("+5511900000001", "BR", "Brazil");
    let no_such_rate = log.template(at("2025-08-15T00:00:00Z"), "authentication");
    let rates = Rates::standard();
    let result = run(&log, &accounts, &rates);

    check(
        &result,
        before_start,
        "charged",
        "authentication",
        CHARGED,
        dec!(0.0077),
    );
    check(
        &result,
        at_start,
        "charged",
        "authentication_international",
        CHARGED,
        dec!(0.0750),
    );
    check(
        &result,
        before_exception,
        "charged",
        "authentication",
        CHARGED,
        dec!(0.0250),
    );
    check(
        &result,
        at_exception,
        "charged",
        "authentication_international",
        CHARGED,
        dec!(0.1360),
    );
    check(
        &result,
        same_country,
        "charged",
        "authentication",
        CHARGED,
        dec!(0.0014),
    );
    check(
        &result,
        no_such_rate,
        "charged",
        "authentication",
        CHARGED,
        dec!(0.0315),
    );

    // A portfolio that is not eligible always pays the domestic rate.
    let mut not_eligible = accounts.clone();
    not_eligible.auth_intl_start = None;
    let result = run(&log, &not_eligible, &rates);
    assert!(result
        .outcomes
        .iter()
        .all(|o| o.billed_as == "authentication"));
    let mut no_primary = accounts.clone();
    no_primary.primary_country = None;
    let result = run(&log, &no_primary, &rates);
    assert!(result
        .outcomes
        .iter()
        .all(|o| o.billed_as == "authentication"));
}

#[test]
fn pmp6_applies_to_cbp_authentication_conversations() {
    // PMP-6, CBP-2, CBP-4 (cbp-2024)
    let mut accounts = utc_waba();
    accounts.primary_country = Some("IN".into());
    accounts.auth_intl_start = Some(at("2024-07-01T00:00:00Z"));
    let mut log = Log::new();
    log.user("+971500000001", "AE", "Other");
    let opens = log.template(at("2025-01-10T00:00:00Z"), "authentication");
    let rides = log.template(at("2025-01-10T01:00:00Z"), "authentication");
    log.user("+910000000001", "IN", "India");
    let domestic = log.template(at("2025-01-10T00:00:00Z"), "authentication");
    let result = run(&log, &accounts, &Rates::standard());
    check(
        &result,
        opens,
        "charged",
        "authentication_international",
        CHARGED,
        dec!(0.0750),
    );
    check(
        &result,
        rides,
        "in_conversation",
        "authentication_international",
        NOT_A_UNIT,
        Decimal::ZERO,
    );
    check(
        &result,
        domestic,
        "charged",
        "authentication",
        CHARGED,
        dec!(0.0014),
    );
}

#[test]
fn pmp7_us_marketing_delivered_from_april_2025_is_reported_and_billed() {
    // PMP-7, CONV-4: the pause starts at 00:00 WABA time.
    let accounts = accounts(&[("w", chrono_tz::America::New_York)]);
    let mut log = Log::new();
    log.user("+12125550100", "US", "North America");
    let before = log.template(at("2025-04-01T02:00:00Z"), "marketing"); // March 31, 22:00 local
    let after = log.template(at("2025-04-02T05:00:00Z"), "marketing"); // April 2, 01:00 local
    let failed = log.failed_template(at("2025-04-03T05:00:00Z"), "marketing");
    log.user("+17875550100", "PR", "Rest of Latin America");
    let not_us = log.failed_template(at("2025-04-03T05:00:00Z"), "marketing");
    let result = run(&log, &accounts, &Rates::standard());

    check(
        &result,
        before,
        "charged",
        "marketing",
        CHARGED,
        dec!(0.0250),
    );
    check(
        &result,
        after,
        "charged",
        "marketing",
        CHARGED,
        dec!(0.0250),
    );
    check(
        &result,
        failed,
        "not_delivered",
        "",
        NOT_A_UNIT,
        Decimal::ZERO,
    );
    check(
        &result,
        not_us,
        "not_delivered",
        "",
        NOT_A_UNIT,
        Decimal::ZERO,
    );
    assert_eq!(
        issues(&result),
        vec![("us-marketing-delivered".to_string(), after)]
    );
}

// ---------------------------------------------------------------------------------------------
// Conventions
// ---------------------------------------------------------------------------------------------

#[test]
fn conv2_the_csw_is_half_open() {
    // CONV-2, CONV-4 (pmp-2025 and cbp-2024)
    for start in ["2025-08-04T00:00:00Z", "2025-02-03T00:00:00Z"] {
        let t = at(start);
        let mut log = Log::new();
        log.inbound(t);
        let last_second = log.text(t + hours(24) - TimeDelta::seconds(1));
        let at_end = log.text(t + hours(24));
        let result = run(&log, &utc_waba(), &Rates::standard());
        assert_ne!(
            outcome(&result, last_second).reason,
            "outside_csw",
            "{start}"
        );
        check(
            &result,
            at_end,
            "outside_csw",
            "",
            NOT_A_UNIT,
            Decimal::ZERO,
        );
        assert_eq!(issues(&result), vec![("outside-csw".to_string(), at_end)]);
    }
}

#[test]
fn conv2_a_conversation_ends_exactly_24h_after_opening() {
    // CONV-2, CBP-1 (cbp-2023): later messages never extend it.
    let t = at("2024-03-04T00:00:00Z");
    let mut log = Log::new();
    let opens = log.template(t, "utility");
    let inside = log.template(t + hours(24) - TimeDelta::seconds(1), "utility");
    let reopens = log.template(t + hours(24), "utility");
    log.template(t + hours(31), "marketing");
    log.inbound(t + hours(40));
    let text_at_marketing_end = log.text(t + hours(31 + 24));
    let result = run(&log, &utc_waba(), &Rates::standard());
    check(&result, opens, "charged", "utility", CHARGED, dec!(0.0014));
    check(
        &result,
        inside,
        "in_conversation",
        "utility",
        NOT_A_UNIT,
        Decimal::ZERO,
    );
    check(
        &result,
        reopens,
        "charged",
        "utility",
        CHARGED,
        dec!(0.0014),
    );
    // The utility conversation reopened at t+24h ended at t+48h; marketing ends now: service.
    check(
        &result,
        text_at_marketing_end,
        "free_tier",
        "service",
        FREE,
        Decimal::ZERO,
    );
}

#[test]
fn conv2_an_entry_point_reply_must_come_before_24h() {
    // CONV-2, CBP-6, PMP-3
    for (start, expected) in [
        ("2025-08-04T00:00:00Z", "pmp-2025"),
        ("2025-02-03T00:00:00Z", "cbp-2024"),
    ] {
        let t = at(start);
        let mut log = Log::new();
        log.entry_point(t);
        let too_late = log.template(t + hours(24), "utility");
        log.user("+910000000002", "IN", "India");
        log.entry_point(t);
        let just_in_time = log.template(t + hours(24) - TimeDelta::seconds(1), "utility");
        let result = run(&log, &utc_waba(), &Rates::standard());
        check(
            &result,
            too_late,
            "charged",
            "utility",
            CHARGED,
            dec!(0.0014),
        );
        check(
            &result,
            just_in_time,
            "free_entry_point",
            "free_entry_point",
            FREE,
            Decimal::ZERO,
        );
        assert_eq!(outcome(&result, just_in_time).rulebook, expected);
    }
}

#[test]
fn conv3_chats_are_per_business_number() {
    // CONV-3: a CSW opened on one number does not open it on another.
    let t = at("2025-08-04T00:00:00Z");
    let mut log = Log::new();
    log.inbound(t);
    log.number("n2");
    let other_number = log.text(t + hours(1));
    let result = run(&log, &utc_waba(), &Rates::standard());
    check(
        &result,
        other_number,
        "outside_csw",
        "",
        NOT_A_UNIT,
        Decimal::ZERO,
    );
}

#[test]
fn rate4_charged_units_need_a_rate_free_ones_do_not() {
    // RATE-4
    let t = at("2025-08-04T00:00:00Z");
    let mut log = Log::new();
    log.user("+999000000001", "XX", "Nowhere");
    log.inbound(t);
    log.text(t + hours(1)); // free: no rate needed
    let result = run(&log, &utc_waba(), &Rates::standard());
    assert_eq!(result.total, Decimal::ZERO);

    log.template(t + hours(2), "marketing");
    let error = both(&log.events, &utc_waba(), &Rates::standard(), None).unwrap_err();
    assert_eq!(
        error,
        MissingRate {
            market: "Nowhere".into(),
            column: "marketing".into(),
            date: NaiveDate::from_ymd_opt(2025, 8, 4).unwrap(),
        }
    );
}

#[test]
fn forced_rulebook_applies_to_every_message() {
    // §1: EX-4's traffic under cbp-2023.
    let h0 = at("2025-08-04T00:00:00Z");
    let mut log = Log::new();
    let r0 = log.template(h0, "marketing");
    log.inbound(h0 + hours(2));
    let r3 = log.text(h0 + hours(3));
    let r4 = log.template(h0 + hours(4), "utility");
    let r30 = log.template(h0 + hours(30), "utility");
    let result = both(
        &log.events,
        &utc_waba(),
        &Rates::standard(),
        Some("cbp-2023"),
    )
    .unwrap();
    check(&result, r0, "charged", "marketing", CHARGED, dec!(0.0107));
    check(
        &result,
        r3,
        "in_conversation",
        "marketing",
        NOT_A_UNIT,
        Decimal::ZERO,
    );
    check(&result, r4, "charged", "utility", CHARGED, dec!(0.0014));
    check(&result, r30, "charged", "utility", CHARGED, dec!(0.0014));
    assert!(result.outcomes.iter().all(|o| o.rulebook == "cbp-2023"));
}

#[test]
fn conv4_a_non_template_outside_the_csw_is_an_issue_costs_nothing_and_changes_nothing() {
    // CONV-4 under pmp-2025 and cbp-2023: no inbound yet, so the window is closed.
    for h0 in [at("2025-08-04T00:00:00Z"), at("2024-03-04T00:00:00Z")] {
        let mut log = Log::new();
        let r1 = log.text(h0);
        // Had it changed state (opened a service conversation), this one would ride in it.
        let r2 = log.inbound(h0 + hours(1));
        let r3 = log.text(h0 + hours(2));
        let result = run(&log, &utc_waba(), &Rates::standard());
        check(&result, r1, "outside_csw", "", NOT_A_UNIT, Decimal::ZERO);
        assert_eq!(
            result
                .issues
                .iter()
                .map(|i| (i.code.as_str(), i.row))
                .collect::<Vec<_>>(),
            vec![("outside-csw", r1)]
        );
        let _ = r2;
        let o = outcome(&result, r3);
        assert_ne!(o.reason, "outside_csw");
        assert_ne!(o.reason, "in_conversation", "{o:?}");
    }
}

#[test]
fn cbp4_templates_of_the_same_category_ride_free_until_the_conversation_ends() {
    // CBP-4 (cbp-2023), CONV-2: the conversation is [opening, +24 h).
    let h0 = at("2024-03-04T00:00:00Z");
    let mut log = Log::new();
    let r1 = log.template(h0, "marketing");
    let r2 = log.template(h0 + hours(23), "marketing");
    let r3 = log.template(h0 + hours(24), "marketing");
    let result = run(&log, &utc_waba(), &Rates::standard());
    check(&result, r1, "charged", "marketing", CHARGED, dec!(0.0107));
    check(
        &result,
        r2,
        "in_conversation",
        "marketing",
        NOT_A_UNIT,
        Decimal::ZERO,
    );
    check(&result, r3, "charged", "marketing", CHARGED, dec!(0.0107));
}

#[test]
fn cbp8_the_category_is_the_one_the_log_gives_at_sending() {
    // CBP-8: two templates a minute apart, logged as different categories, open two
    // conversations; the same template logged as utility rides in the utility one.
    let h0 = at("2024-03-04T00:00:00Z");
    let mut log = Log::new();
    let r1 = log.template(h0, "utility");
    let r2 = log.template(h0 + TimeDelta::minutes(1), "marketing");
    let r3 = log.template(h0 + TimeDelta::minutes(2), "utility");
    let result = run(&log, &utc_waba(), &Rates::standard());
    check(&result, r1, "charged", "utility", CHARGED, dec!(0.0014));
    check(&result, r2, "charged", "marketing", CHARGED, dec!(0.0107));
    check(
        &result,
        r3,
        "in_conversation",
        "utility",
        NOT_A_UNIT,
        Decimal::ZERO,
    );
}
