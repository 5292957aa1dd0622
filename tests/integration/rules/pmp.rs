//! §3 of the spec: per-message pricing (PMP-1 … PMP-7): free entry point windows, volume tiers,
//! the pmp-2026 service allowance, authentication-international and the US marketing pause.

use chrono::{NaiveDate, TimeDelta};
use rust_decimal::{dec, Decimal};

use super::*;

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
