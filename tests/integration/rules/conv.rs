//! §0.1 of the spec, the conventions that apply everywhere (CONV-1 … CONV-6: half-open windows,
//! chats per business number, deliveries as facts), and §1, a forced rulebook.

use chrono::TimeDelta;
use rust_decimal::{dec, Decimal};

use super::*;

#[test]
fn conv2_the_csw_is_half_open() {
    // CONV-2, CONV-4 (pmp-2025 and cbp-2024): a text exactly 24 h after the inbound is outside
    // the window (reported), one a second earlier is inside (not reported).
    for start in ["2025-08-04T00:00:00Z", "2025-02-03T00:00:00Z"] {
        let t = at(start);
        let mut log = Log::new();
        log.inbound(t);
        log.text(t + hours(24) - TimeDelta::seconds(1));
        let at_end = log.text(t + hours(24));
        let result = run(&log, &utc_waba(), &Rates::standard());
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
    // CONV-3: a CSW opened on one number does not open it on another: the text on the other
    // number is outside the window the log shows (CONV-4: reported, billed as if open).
    let t = at("2025-08-04T00:00:00Z");
    let mut log = Log::new();
    log.inbound(t);
    log.number("n2");
    let other_number = log.text(t + hours(1));
    let result = run(&log, &utc_waba(), &Rates::standard());
    assert_eq!(
        issues(&result),
        vec![("outside-csw".to_string(), other_number)]
    );
}

#[test]
fn conv4_a_non_template_outside_the_csw_is_reported_and_billed_as_if_the_window_were_open() {
    // CONV-4 (amended 2026-12-02): deliveries are facts. No inbound in the log yet, so the log
    // lacks the user's message: the text is reported and billed as an in-window non-template.
    let cases = [
        // pmp-2025: PMP-2 free service.
        (
            at("2025-08-04T00:00:00Z"),
            "free_customer_service",
            FREE,
            Decimal::ZERO,
        ),
        // pmp-2026: PMP-5 service, the number's allowance used first.
        (at("2026-10-05T00:00:00Z"), "free_tier", FREE, Decimal::ZERO),
        // cbp-2023: CBP-3 opens a service conversation (CBP-7: within the free tier).
        (at("2024-03-04T00:00:00Z"), "free_tier", FREE, Decimal::ZERO),
    ];
    for (h0, reason, unit, price) in cases {
        let mut log = Log::new();
        let r1 = log.text(h0);
        let result = run(&log, &utc_waba(), &Rates::standard());
        check(&result, r1, reason, "service", unit, price);
        assert_eq!(issues(&result), vec![("outside-csw".to_string(), r1)]);
    }
}

#[test]
fn conv4_an_outside_message_opens_no_csw() {
    // CONV-4: the reported message does not open or refresh the window itself: a second text an
    // hour later is outside it too (reported again), and a utility template is not in-window.
    let h0 = at("2025-08-04T00:00:00Z");
    let mut log = Log::new();
    let r1 = log.text(h0);
    let r2 = log.text(h0 + hours(1));
    let utility = log.template(h0 + hours(2), "utility");
    let result = run(&log, &utc_waba(), &Rates::standard());
    assert_eq!(
        issues(&result),
        vec![
            ("outside-csw".to_string(), r1),
            ("outside-csw".to_string(), r2)
        ]
    );
    check(
        &result,
        utility,
        "charged",
        "utility",
        CHARGED,
        dec!(0.0014),
    );
}

#[test]
fn conv4_outside_service_messages_are_charged_after_the_allowance_under_pmp_2026() {
    // CONV-4 + PMP-5: a store of status webhooks (no inbound rows) under pmp-2026: 1,001 texts
    // on one number in one month; the first 1,000 use the allowance, the last is charged.
    let h0 = at("2026-10-05T00:00:00Z");
    let mut log = Log::new();
    let mut last = 0;
    for k in 0..1001 {
        last = log.text(h0 + TimeDelta::minutes(k));
    }
    let result = run(&log, &utc_waba(), &Rates::standard());
    let o = outcome(&result, last);
    assert_eq!(
        (o.reason.as_str(), o.billed_as.as_str(), o.unit),
        ("charged", "service", CHARGED)
    );
    assert!(o.price > Decimal::ZERO, "{o:?}");
    assert_eq!(result.issues.len(), 1001);
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
