//! §7 of the spec: Meta's own worked examples EX-1 … EX-7, restated as logs, each test checking
//! every row's outcome, the lines and the total the example gives.

use chrono::{DateTime, TimeDelta, Utc};
use rust_decimal::{dec, Decimal};

use super::*;

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
    // CONV-4: outside the CSW the log shows (reported below) and billed as if it were open:
    // it rides in the free entry point conversation.
    check(
        &result,
        late_text,
        "in_conversation",
        "free_entry_point",
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
    // CONV-4: outside the CSW the log shows, billed as if it were open: inside the free entry
    // point window, free.
    check(
        &result,
        text_after_csw,
        "free_entry_point",
        "free_entry_point",
        FREE,
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
                4,
                Decimal::ZERO
            ),
        ]
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
