//! §2 of the spec: conversation-based pricing (CBP-1 … CBP-10): conversations per category,
//! service conversations, free entry points, the free tier and the switches between rulebooks.

use chrono::TimeDelta;
use rust_decimal::{dec, Decimal};

use super::*;

#[test]
fn cbp1_a_failed_message_opens_nothing() {
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

#[test]
fn cbp9_a_carried_utility_conversation_covers_an_entry_point_reply_which_still_opens_the_window() {
    // CBP-9 (as settled 2026-12): a utility template covered by a conversation carried across
    // 2025-07-01 is in_conversation, not a unit, also when it answers an entry point; the reply
    // still opens the PMP-3 window, which frees what the carried conversation no longer covers.
    let mut log = Log::new();
    let opener = log.template(at("2025-06-30T20:00:00Z"), "utility"); // open to 07-01 20:00
    log.entry_point(at("2025-07-01T01:00:00Z"));
    let reply = log.template(at("2025-07-01T02:00:00Z"), "utility");
    let marketing = log.template(at("2025-07-01T03:00:00Z"), "marketing");
    let covered = log.template(at("2025-07-01T04:00:00Z"), "utility");
    let after_carried = log.template(at("2025-07-01T21:00:00Z"), "utility");
    let result = run(&log, &utc_waba(), &Rates::standard());
    check(&result, opener, "charged", "utility", CHARGED, dec!(0.0014));
    check(
        &result,
        reply,
        "in_conversation",
        "utility",
        NOT_A_UNIT,
        Decimal::ZERO,
    );
    assert_eq!(outcome(&result, reply).rulebook, "cbp-2024");
    check(
        &result,
        marketing,
        "free_entry_point",
        "free_entry_point",
        FREE,
        Decimal::ZERO,
    );
    check(
        &result,
        covered,
        "in_conversation",
        "utility",
        NOT_A_UNIT,
        Decimal::ZERO,
    );
    check(
        &result,
        after_carried,
        "free_entry_point",
        "free_entry_point",
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
