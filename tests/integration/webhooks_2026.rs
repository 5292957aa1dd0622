//! Meta's webhooks as businesses store them in 2026 (billing-rules.md §6): statuses without
//! `billable`, relayed bodies with Meta's id in `meta_msg_id`, and the 2026 categories, read by
//! `replay --input-format webhooks` and by `reconcile`.

use serde_json::Value;

use crate::common::{stderr, wabill};

const FIXTURE: &str = "tests/fixtures/webhooks/statuses-2026.jsonl";
const ACCOUNTS: &str = "tests/fixtures/webhooks/accounts.toml";

fn replay_json() -> (i32, Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let rejects = dir.path().join("rejects.csv");
    let o = wabill(&[
        "replay",
        FIXTURE,
        "--input-format",
        "webhooks",
        "--accounts",
        ACCOUNTS,
        "--format",
        "json",
        "--rejects",
        rejects.to_str().unwrap(),
    ]);
    let json = serde_json::from_slice(&o.stdout).unwrap_or(Value::Null);
    let rejects = std::fs::read_to_string(&rejects).unwrap_or_default();
    assert!(o.status.code().is_some(), "{}", stderr(&o));
    (o.status.code().unwrap(), json, rejects)
}

/// §6: a status without `billable` is read (billable = pricing type `regular`) and billed; a
/// relayed status is one message under Meta's id; the Meta Business Agent's message is billed as
/// one (MBA-1: October 2025, before Meta charged them); a group status that does not say it is a
/// group's is a reject naming GRP-1, never silently dropped.
#[test]
fn webhooks_of_2026_are_read_and_billed() {
    let (code, json, rejects) = replay_json();
    assert_eq!(code, 0, "{json}");
    let lines = json["lines"].as_array().unwrap();
    let units = |category: &str| -> u64 {
        lines
            .iter()
            .filter(|l| l["category"] == category)
            .map(|l| l["charged"].as_u64().unwrap() + l["free"].as_u64().unwrap())
            .sum()
    };
    assert_eq!(units("utility"), 1, "{json}");
    assert_eq!(units("marketing"), 1, "{json}");
    assert_eq!(units("meta_business_agent"), 1, "{json}");
    assert_eq!(json["messages"]["outbound"], 3, "{json}");
    assert!(
        rejects.contains("recipient_type: group") && rejects.contains("GRP-1"),
        "{rejects}"
    );
}

/// GRP-1, GRP-2 from Meta's webhooks: one status per member, each a delivery at the member's
/// market; a member's message (`group_id`) opens the group's window for the reply.
#[test]
fn grp1_group_webhooks_bill_one_delivery_per_member() {
    let fixture = crate::common::root().join("tests/fixtures/webhooks/groups-2026.jsonl");
    let (json, err) = replay_webhooks(&fixture, None);
    let line = |market: &str, category: &str| {
        json["lines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["market"] == market && l["category"] == category)
            .map(|l| (l["charged"].as_u64().unwrap(), l["free"].as_u64().unwrap()))
    };
    assert_eq!(line("India", "group_marketing"), Some((1, 0)), "{json}");
    assert_eq!(line("Brazil", "group_marketing"), Some((1, 0)), "{json}");
    assert_eq!(line("India", "group_service"), Some((0, 1)), "{json}");
    assert_eq!(line("Brazil", "group_service"), Some((0, 1)), "{json}");
    assert_eq!(json["messages"]["inbound"], 1, "{json}");
    assert!(
        issues_of(&json, "meta-category").is_empty(),
        "{json}\n{err}"
    );
}

/// §6: reconciling the statuses without `billable` against the business's own log: Meta's
/// `billable` is derived from the pricing type, so no difference arises from its absence.
#[test]
fn webhooks_without_billable_reconcile_as_regular() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.csv");
    std::fs::write(
        &log,
        "timestamp,direction,user,type,category,waba,number,id\n\
         2025-10-09T08:53:25Z,out,+919812345601,template,utility,102290129340398,106540352242922,wamid.N01\n",
    )
    .unwrap();
    let wh = dir.path().join("wh.jsonl");
    let first_two: Vec<&str> = std::fs::read_to_string(crate::common::root().join(FIXTURE))
        .unwrap()
        .leak()
        .lines()
        .take(2)
        .collect();
    std::fs::write(&wh, first_two.join("\n") + "\n").unwrap();
    let o = wabill(&[
        "reconcile",
        "--log",
        log.to_str().unwrap(),
        "--webhooks",
        wh.to_str().unwrap(),
        "--accounts",
        ACCOUNTS,
        "--format",
        "json",
    ]);
    let json: Value = serde_json::from_slice(&o.stdout).unwrap_or(Value::Null);
    assert_eq!(o.status.code(), Some(0), "{}\n{json}", stderr(&o));
}

/// `replay --input-format webhooks` of `file` (text written to a temp file, or a path) with
/// optional accounts; (JSON, stderr).
fn replay_webhooks(file: &std::path::Path, accounts: Option<&str>) -> (Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let rejects = dir.path().join("rejects.csv");
    let mut args = vec![
        "replay",
        file.to_str().unwrap(),
        "--input-format",
        "webhooks",
        "--format",
        "json",
        "--rejects",
        rejects.to_str().unwrap(),
    ];
    if let Some(a) = accounts {
        args.extend(["--accounts", a]);
    }
    let o = wabill(&args);
    assert!(o.status.code().unwrap_or(9) <= 1, "{}", stderr(&o));
    (serde_json::from_slice(&o.stdout).unwrap(), stderr(&o))
}

fn issues_of(json: &Value, code: &str) -> Vec<Value> {
    json["issues"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["code"] == code)
        .cloned()
        .collect()
}

/// PMP-6: where Meta billed `authentication_international` and the replay, for want of an
/// accounts file saying the portfolio is eligible, bills domestic, each such message is an issue
/// naming the row, the message and the accounts keys to add; with the accounts file, none.
#[test]
fn pmp6_meta_billed_international_where_the_accounts_say_domestic() {
    let fixture = crate::common::root().join("tests/fixtures/webhooks/statuses.jsonl");
    let (json, err) = replay_webhooks(&fixture, None);
    let issues = issues_of(&json, "meta-category");
    assert_eq!(issues.len(), 2, "{json}");
    for i in &issues {
        assert_eq!(i["rule"], "PMP-6");
        let m = i["message"].as_str().unwrap();
        assert!(m.starts_with("message wamid.P0"), "{m}");
        assert!(
            m.contains("primary_country") && m.contains("auth_international_start"),
            "{m}"
        );
        assert!(i["row"].as_u64().unwrap() > 0);
    }
    assert!(err.contains("issue meta-category (PMP-6) at row"), "{err}");
    let (json, _) = replay_webhooks(&fixture, Some(ACCOUNTS));
    assert!(issues_of(&json, "meta-category").is_empty(), "{json}");

    // The other way round: the accounts make an Indonesian user international where Meta billed
    // domestic, e.g. before the country's own start.
    let dir = tempfile::tempdir().unwrap();
    let accounts = dir.path().join("accounts.toml");
    std::fs::write(&accounts, "[portfolio]\nprimary_country = \"IN\"\nauth_international_start = \"2024-07-01T00:00:00Z\"\n[[waba]]\nid = \"102290129340398\"\ntimezone = \"UTC\"\n").unwrap();
    let text = std::fs::read_to_string(&fixture)
        .unwrap()
        .replace("authentication-international", "authentication");
    let file = dir.path().join("domestic.jsonl");
    std::fs::write(&file, text).unwrap();
    let (json, _) = replay_webhooks(&file, Some(accounts.to_str().unwrap()));
    let issues = issues_of(&json, "meta-category");
    assert!(!issues.is_empty(), "{json}");
    let m = issues[0]["message"].as_str().unwrap();
    assert!(
        m.contains("domestic authentication, the replay as authentication_international"),
        "{m}"
    );
    assert!(m.contains("auth_international_exceptions = { ID ="), "{m}");
}

/// PMP-3: a message Meta priced free in an entry point window, replayed from statuses without
/// the user's message from the ad, is charged by the replay: an issue says what the log lacks.
#[test]
fn pmp3_meta_free_entry_point_without_the_users_message() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fep.jsonl");
    std::fs::write(&file, concat!(
        r#"{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},"statuses":[{"id":"wamid.FEP1","status":"delivered","timestamp":"1793786700","recipient_id":"919812345601","pricing":{"billable":false,"pricing_model":"PMP","type":"free_entry_point","category":"utility"}}]}}]}]}"#,
        "\n",
        r#"{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},"statuses":[{"id":"wamid.REG1","status":"delivered","timestamp":"1793786800","recipient_id":"919812345602","pricing":{"billable":true,"pricing_model":"PMP","type":"regular","category":"utility"}}]}}]}]}"#,
        "\n",
    )).unwrap();
    let (json, err) = replay_webhooks(&file, None);
    let issues = issues_of(&json, "meta-free-entry-point");
    assert_eq!(issues.len(), 1, "{json}");
    assert_eq!(issues[0]["rule"], "PMP-3");
    assert!(issues[0]["message"]
        .as_str()
        .unwrap()
        .starts_with("message wamid.FEP1:"));
    assert!(err.contains("meta-free-entry-point"), "{err}");
}

/// CALL-1…3 from Meta's `calls` webhooks: a user's call opens the window (its reply is no
/// CONV-4 issue), a business call that completed with a duration is accepted and charged by
/// pulses, one that failed is not answered; the call's `statuses` entry (`type: call`) is not a
/// message.
#[test]
fn call1_call3_calls_webhooks_are_call_rows() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger.csv");
    let o = wabill(&[
        "replay",
        "tests/fixtures/webhooks/calls-2026.jsonl",
        "--input-format",
        "webhooks",
        "--accounts",
        "tests/fixtures/charges/accounts.toml",
        "--rates",
        "tests/fixtures/charges/rates",
        "--format",
        "json",
        "--ledger",
        ledger.to_str().unwrap(),
        "--rejects",
        dir.path().join("rejects.csv").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let json: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["total"], "0.0100", "{json}");
    assert!(issues_of(&json, "outside-csw").is_empty(), "{json}");
    assert_eq!(json["messages"]["inbound"], 1, "{json}");
    assert_eq!(json["messages"]["rejected"], 0, "{json}");
    let text = std::fs::read_to_string(&ledger).unwrap();
    assert!(
        text.contains("wacid.B1,") && text.contains(",0.0100,charged,CALL-3"),
        "{text}"
    );
    assert!(text.contains(",not_answered,CALL-3"), "{text}");
}

/// GRP-1…3 in reconciliation: each member's status is one delivery (`<wamid>/<member>`),
/// matched to the business's own log row for that member: no difference.
#[test]
fn grp1_group_statuses_reconcile_member_by_member() {
    let o = wabill(&[
        "reconcile",
        "--log",
        "tests/fixtures/webhooks/groups-2026.csv",
        "--webhooks",
        "tests/fixtures/webhooks/groups-2026.jsonl",
        "--format",
        "json",
    ]);
    let json: Value = serde_json::from_slice(&o.stdout).unwrap_or(Value::Null);
    assert_eq!(o.status.code(), Some(0), "{}\n{json}", stderr(&o));
    let text = json.to_string();
    assert!(
        !text.contains("only_in_webhooks") && !text.contains("only_in_log"),
        "{json}"
    );
}
