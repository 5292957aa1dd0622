//! Scenario files: errors name the key and the value; defaults, shares, the shipped scenarios,
//! and `Scenario::set`.

use std::collections::HashMap;

use super::*;

#[test]
fn missing_key_is_named() {
    let e = err("[period]\nend = 2025-05-31\n[audience]\nusers = { IN = 10 }\n");
    assert!(e.contains("missing key `period.start`"), "{e}");
    let e = err("[period]\nstart = 2025-05-01\nend = 2025-05-31\n");
    assert!(e.contains("missing key") && e.contains("audience"), "{e}");
    let e = err(&minimal("[[campaign]]\nshare = 0.5\n"));
    assert!(e.contains("missing key `campaign[0].date`"), "{e}");
}

#[test]
fn probability_out_of_range_is_named() {
    let e = err(&minimal("[support]\nfcr = 1.5\n"));
    assert!(
        e.contains("support.fcr") && e.contains("1.5") && e.contains("between 0 and 1"),
        "{e}"
    );
    let e = err(&minimal("[delivery]\nfailure_rate = -0.1\n"));
    assert!(
        e.contains("delivery.failure_rate") && e.contains("-0.1"),
        "{e}"
    );
    let e = err(&minimal("[[campaign]]\ndate = 2025-05-10\nshare = 2\n"));
    assert!(e.contains("campaign[0].share") && e.contains('2'), "{e}");
}

#[test]
fn unknown_country_is_named() {
    let e =
        err("[period]\nstart = 2025-05-01\nend = 2025-05-31\n[audience]\nusers = { XX = 10 }\n");
    assert!(
        e.contains("audience.users") && e.contains("\"XX\"") && e.contains("unknown"),
        "{e}"
    );
    let e = err(&minimal(
        "[[campaign]]\ndate = 2025-05-10\ncountries = [\"XX\"]\n",
    ));
    assert!(
        e.contains("campaign[0].countries") && e.contains("XX"),
        "{e}"
    );
    let e = err("[period]\nstart = 2025-05-01\nend = 2025-05-31\n[audience]\ntotal = 10\nshares = { XX = 1.0 }\n");
    assert!(e.contains("audience.shares") && e.contains("XX"), "{e}");
}

#[test]
fn end_before_start_is_named() {
    let e =
        err("[period]\nstart = 2025-05-01\nend = 2025-04-01\n[audience]\nusers = { IN = 10 }\n");
    assert!(
        e.contains("period.end") && e.contains("2025-04-01") && e.contains("before"),
        "{e}"
    );
}

#[test]
fn other_bad_values_are_named() {
    let e = err(&minimal("[account]\ntimezone = \"Mars/Olympus\"\n"));
    assert!(
        e.contains("account.timezone") && e.contains("Mars/Olympus"),
        "{e}"
    );
    let e =
        err("[period]\nstart = 2025-05-01\nend = 2025-05-31\n[audience]\nusers = { IN = -5 }\n");
    assert!(
        e.contains("audience.users.IN") && e.contains("-5") && e.contains("negative"),
        "{e}"
    );
    let e = err(&minimal("[support]\nfollowup_sessions = [3, 1]\n"));
    assert!(
        e.contains("support.followup_sessions") && e.contains("min"),
        "{e}"
    );
    let e = err(&minimal("[support]\ncontacts_per_user_month = -1\n"));
    assert!(
        e.contains("support.contacts_per_user_month") && e.contains("-1"),
        "{e}"
    );
    let e = err(&minimal("[support]\nreengagement = \"spam\"\n"));
    assert!(
        e.contains("support.reengagement") && e.contains("spam"),
        "{e}"
    );
    let e = err(&minimal("[support]\nfcr = \"high\"\n"));
    assert!(e.contains("support.fcr") && e.contains("high"), "{e}");
    let e = err(&minimal("[[campaign]]\ndate = 2025-06-10\n"));
    assert!(
        e.contains("campaign[0].date") && e.contains("outside"),
        "{e}"
    );
    let e = err("[period]\nstart = 2025-05-01\nend = 2025-05-31\n[audience]\ntotal = 10\nshares = { IN = 0.5, BR = 0.2 }\n");
    assert!(e.contains("audience.shares") && e.contains("0.7"), "{e}");
    // serde refuses unknown keys, with the line.
    let e = err(&minimal("[support]\nfrc = 0.5\n"));
    assert!(e.contains("frc") && e.contains("line"), "{e}");
}

#[test]
fn defaults_and_shares() {
    let s = scenario("[period]\nstart = 2025-05-01\nend = 2025-05-31\n[audience]\ntotal = 1001\nshares = { IN = 0.5, BR = 0.25, MX = 0.25 }\n");
    let users: HashMap<&str, u32> = s
        .audience
        .iter()
        .map(|a| (a.country.iso(), a.users))
        .collect();
    assert_eq!(users.values().sum::<u32>(), 1001);
    assert_eq!(users["IN"], 501); // the left-over user goes to the largest remainder (0.5)
    assert_eq!(s.account.timezone, chrono_tz::Tz::UTC);
    assert_eq!(s.account.waba, "default");
    assert_eq!(s.support.reengagement, Reengagement::UtilityTemplate);
    assert_eq!(s.failure_rate, scenario::DEFAULT_FAILURE_RATE);
    assert_eq!(s.account.number_country.iso(), "IN");
}

#[test]
fn shipped_scenarios_parse() {
    for text in [SUPPORT, SAMPLE, CAMPAIGN_BRAZIL, SUPPORT_2026] {
        scenario(text);
    }
    let s = scenario(SUPPORT);
    assert_eq!(s.support.fcr, 0.7);
    assert_eq!(s.support.ctwa_share, 0.2);
    assert_eq!(s.support.reengagement, Reengagement::UtilityTemplate);
    assert_eq!(
        (s.period.start.to_string(), s.period.end.to_string()),
        ("2025-05-01".into(), "2025-09-30".into())
    );
}

#[test]
fn set_changes_one_key_with_the_file_checks() {
    let mut s = scenario(SAMPLE);
    let before = s.clone();
    s.set("support.fcr", "0.9").unwrap();
    assert_eq!(s.support.fcr, 0.9);
    s.set("support.reengagement", "wait_for_user").unwrap();
    assert_eq!(s.support.reengagement, Reengagement::WaitForUser);
    s.set("support.reengagement", "\"utility_template\"")
        .unwrap();
    assert_eq!(s.support.reengagement, Reengagement::UtilityTemplate);
    s.set("campaign.share", "0.25").unwrap();
    assert!(s.campaigns.iter().all(|c| c.share == 0.25));
    s.set("campaign[1].reply_rate", "0.5").unwrap();
    assert_eq!(s.campaigns[1].reply_rate, 0.5);
    assert_eq!(s.campaigns[0].reply_rate, before.campaigns[0].reply_rate);
    s.set("delivery.failure_rate", "0").unwrap();
    assert_eq!(s.failure_rate, 0.0);
    s.set("support.contacts_per_user_month", "2").unwrap();
    assert_eq!(s.support.contacts_per_user_month, 2.0);

    let e = |k: &str, v: &str| scenario(SAMPLE).set(k, v).unwrap_err().to_string();
    assert_eq!(
        e("support.fcr", "1.5"),
        "scenario: `support.fcr` = 1.5: a probability or share must be between 0 and 1"
    );
    assert!(e("support.fcr", "high").contains("expected a number"));
    assert!(e("support.ctwa_share", "0.95").contains("must not exceed 1"));
    assert!(e("support.reengagement", "ask_nicely").contains("utility_template"));
    assert!(e("campaign[9].share", "0.5").contains("4 campaign(s)"));
    assert!(e("support.nope", "1").contains("not a key that can be varied"));
    assert!(e("utility.orders_per_user_month", "5000").contains("not plausible"));
}
