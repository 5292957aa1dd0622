//! §0.1 of the spec, the conventions that apply everywhere (CONV-1 … CONV-6: half-open windows,
//! chats per business number, deliveries as facts), and §1, a forced rulebook.

use chrono::TimeDelta;
use rust_decimal::{dec, Decimal};

use super::*;

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
