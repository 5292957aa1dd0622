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
/// relayed status is one message under Meta's id; the Meta Business Agent and group rows are
/// rejects that name their rule, never silently dropped.
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
    assert_eq!(json["messages"]["outbound"], 2, "{json}");
    assert!(
        rejects.contains("meta_business_agent") && rejects.contains("MBA-1"),
        "{rejects}"
    );
    assert!(
        rejects.contains("free_group_customer_service") && rejects.contains("GRP-1"),
        "{rejects}"
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
