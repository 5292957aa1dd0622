//! The charges of billing-rules.md §4b, from file to bill through the real binary: groups
//! (GRP-1…3), calls (CALL-1…3), Meta Business Agent (MBA-1), AI providers (AIP-1), max-price
//! marketing (MAXP-1) and currencies (CUR-1). Every replay runs in memory and partitioned, which
//! must agree byte for byte (one pipeline). The rates are the illustrative `XTS` cards of
//! `tests/fixtures/charges/rates` (no real currency), so every figure here is worked by hand.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::common::{stderr, wabill};

const RATES: &str = "tests/fixtures/charges/rates";
const ACCOUNTS: &str = "tests/fixtures/charges/accounts.toml";
const HEADER: &str =
    "timestamp,direction,user,type,category,status,waba,group,duration,tokens,price,id";

/// A bill: the JSON, the ledger's rows (as maps) and stderr.
struct Bill {
    json: Value,
    ledger: Vec<std::collections::BTreeMap<String, String>>,
    stderr: String,
}

impl Bill {
    fn total(&self) -> &str {
        self.json["total"].as_str().unwrap()
    }
    /// The line of `market` and `category` (all months): (charged, free, unpriced, cost).
    fn line(&self, market: &str, category: &str) -> (u64, u64, u64, String) {
        let lines: Vec<&Value> = self.json["lines"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["market"] == market && l["category"] == category)
            .collect();
        assert_eq!(
            lines.len(),
            1,
            "{market} {category}: {:#}",
            self.json["lines"]
        );
        let l = lines[0];
        (
            l["charged"].as_u64().unwrap(),
            l["free"].as_u64().unwrap(),
            l["unpriced"].as_u64().unwrap_or(0),
            l["cost"].as_str().unwrap().to_string(),
        )
    }
    /// The ledger row of log row `row`: (price, reason, rule, billed_as).
    fn row(&self, row: u32) -> (String, String, String, String) {
        let r = self
            .ledger
            .iter()
            .find(|r| r["row"] == row.to_string())
            .unwrap_or_else(|| panic!("no ledger row {row}"));
        (
            r["price"].clone(),
            r["reason"].clone(),
            r["rule"].clone(),
            r["billed_as"].clone(),
        )
    }
    fn issues(&self, code: &str) -> Vec<u64> {
        self.json["issues"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["code"] == code)
            .map(|i| i["row"].as_u64().unwrap())
            .collect()
    }
}

fn write_log(dir: &Path, rows: &[&str]) -> PathBuf {
    let path = dir.join("log.csv");
    std::fs::write(&path, format!("{HEADER}\n{}\n", rows.join("\n"))).unwrap();
    path
}

/// Replay `rows` (after [`HEADER`]) with `extra` arguments, in memory and partitioned (which
/// must give the same JSON and ledger); the run must succeed.
fn bill(rows: &[&str], extra: &[&str]) -> Bill {
    let dir = tempfile::tempdir().unwrap();
    let log = write_log(dir.path(), rows);
    let run = |parts: Option<&str>| {
        let ledger = dir
            .path()
            .join(format!("ledger{}.csv", parts.unwrap_or("")));
        let rejects = dir.path().join("rejects.csv");
        let mut args = vec![
            "replay",
            log.to_str().unwrap(),
            "--rates",
            RATES,
            "--format",
            "json",
            "--ledger",
            ledger.to_str().unwrap(),
            "--rejects",
            rejects.to_str().unwrap(),
        ];
        if !extra.contains(&"--accounts") {
            args.extend(["--accounts", ACCOUNTS]);
        }
        args.extend(extra);
        if let Some(p) = parts {
            args.extend(["--partitions", p]);
        }
        let o = wabill(&args);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        (o, std::fs::read_to_string(&ledger).unwrap())
    };
    let (memory, ledger) = run(None);
    let (parted, parted_ledger) = run(Some("3"));
    assert_eq!(
        String::from_utf8_lossy(&memory.stdout),
        String::from_utf8_lossy(&parted.stdout),
        "partitioned JSON differs"
    );
    assert_eq!(ledger, parted_ledger, "partitioned ledger differs");
    let mut rd = csv::Reader::from_reader(ledger.as_bytes());
    let headers = rd.headers().unwrap().clone();
    Bill {
        json: serde_json::from_slice(&memory.stdout).unwrap(),
        ledger: rd
            .records()
            .map(|r| {
                let r = r.unwrap();
                headers
                    .iter()
                    .zip(r.iter())
                    .map(|(h, v)| (h.to_string(), v.to_string()))
                    .collect()
            })
            .collect(),
        stderr: stderr(&memory),
    }
}

/// Replay `rows`, which must fail with exit code `code`; stderr and the rejects file.
fn fails(rows: &[&str], extra: &[&str], code: i32) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let log = write_log(dir.path(), rows);
    let rejects = dir.path().join("rejects.csv");
    let mut args = vec![
        "replay",
        log.to_str().unwrap(),
        "--rates",
        RATES,
        "--rejects",
        rejects.to_str().unwrap(),
    ];
    if !extra.contains(&"--accounts") {
        args.extend(["--accounts", ACCOUNTS]);
    }
    args.extend(extra);
    let o = wabill(&args);
    assert_eq!(o.status.code(), Some(code), "{}", stderr(&o));
    (
        stderr(&o),
        std::fs::read_to_string(&rejects).unwrap_or_default(),
    )
}

// Users: an Indian, a Brazilian and a US number.
const IN: &str = "+919876543210";
const BR: &str = "+5511987654321";
const US: &str = "+14155550100";

fn row(ts: &str, dir: &str, user: &str, ty: &str, cat: &str, status: &str, rest: &str) -> String {
    format!("{ts},{dir},{user},{ty},{cat},{status},main,{rest}")
}

#[test]
fn grp1_each_member_delivery_is_charged_at_the_members_market() {
    let rows = [
        row(
            "2026-11-02T10:00:00Z",
            "out",
            IN,
            "template",
            "marketing",
            "delivered",
            "g1,,,,",
        ),
        row(
            "2026-11-02T10:00:00Z",
            "out",
            BR,
            "template",
            "marketing",
            "delivered",
            "g1,,,,",
        ),
        row(
            "2026-11-02T10:00:00Z",
            "out",
            US,
            "template",
            "marketing",
            "failed",
            "g1,,,,",
        ),
    ];
    let b = bill(&rows.iter().map(String::as_str).collect::<Vec<_>>(), &[]);
    // One charge per member delivered to, at the member's market: India 0.01, Brazil 0.06;
    // the US member's copy failed and costs nothing.
    assert_eq!(
        b.line("India", "group_marketing"),
        (1, 0, 0, "0.0100".into())
    );
    assert_eq!(
        b.line("Brazil", "group_marketing"),
        (1, 0, 0, "0.0600".into())
    );
    assert_eq!(b.total(), "0.0700");
    assert_eq!(
        b.row(1),
        (
            "0.0100".into(),
            "charged".into(),
            "GRP-1".into(),
            "group_marketing".into()
        )
    );
    assert_eq!(b.row(3).1, "not_delivered");
    // The ledger names the member, not the group.
    let users: Vec<&str> = b.ledger.iter().map(|r| r["user"].as_str()).collect();
    assert_eq!(users, [IN, BR, US]);
}

#[test]
fn grp2_a_window_opened_by_one_member_frees_the_whole_group() {
    let rows = [
        // The Brazilian member writes; everyone's copy of the reply is free for 24 h.
        row("2026-11-02T11:00:00Z", "in", BR, "text", "", "", "g1,,,,"),
        row(
            "2026-11-02T12:00:00Z",
            "out",
            IN,
            "text",
            "",
            "delivered",
            "g1,,,,",
        ),
        row(
            "2026-11-02T12:00:00Z",
            "out",
            US,
            "text",
            "",
            "delivered",
            "g1,,,,",
        ),
        row(
            "2026-11-02T13:00:00Z",
            "out",
            IN,
            "template",
            "utility",
            "delivered",
            "g1,,,,",
        ),
        // Marketing and authentication are charged inside the window too.
        row(
            "2026-11-02T14:00:00Z",
            "out",
            IN,
            "template",
            "marketing",
            "delivered",
            "g1,,,,",
        ),
        row(
            "2026-11-02T14:00:00Z",
            "out",
            IN,
            "template",
            "authentication",
            "delivered",
            "g1,,,,",
        ),
        // 24 h after the member's message the window has closed (CONV-2): charged.
        row(
            "2026-11-03T11:00:00Z",
            "out",
            IN,
            "template",
            "utility",
            "delivered",
            "g1,,,,",
        ),
        row(
            "2026-11-03T11:00:00Z",
            "out",
            IN,
            "text",
            "",
            "delivered",
            "g1,,,,",
        ),
        // Another group's window is its own.
        row(
            "2026-11-02T12:30:00Z",
            "out",
            IN,
            "text",
            "",
            "delivered",
            "g2,,,,",
        ),
    ];
    let b = bill(&rows.iter().map(String::as_str).collect::<Vec<_>>(), &[]);
    for r in [2, 3, 4] {
        assert_eq!(b.row(r).1, "free_group_customer_service", "row {r}");
        assert_eq!(b.row(r).2, "GRP-2", "row {r}");
    }
    assert_eq!(
        b.row(5),
        (
            "0.0100".into(),
            "charged".into(),
            "GRP-1".into(),
            "group_marketing".into()
        )
    );
    assert_eq!(b.row(6).3, "authentication");
    assert_eq!(b.row(6).1, "charged");
    assert_eq!(
        b.row(7),
        (
            "0.0020".into(),
            "charged".into(),
            "GRP-3".into(),
            "group_utility".into()
        )
    );
    assert_eq!(
        b.row(8),
        (
            "0.0020".into(),
            "charged".into(),
            "GRP-1".into(),
            "group_service".into()
        )
    );
    assert_eq!(b.row(9).1, "charged");
    // Groups have no CONV-4 issue: a group message needs no member's window.
    assert!(b.issues("outside-csw").is_empty());
}

#[test]
fn grp3_group_utility_is_outside_the_volume_tiers() {
    // India's illustrative utility tiers: messages 1-2 of the month at 0.0020, then 0.0010.
    let one_to_one = "+919812345678";
    let rows = [
        row(
            "2026-11-02T10:00:00Z",
            "out",
            IN,
            "template",
            "utility",
            "delivered",
            "g1,,,,",
        ),
        row(
            "2026-11-02T10:01:00Z",
            "out",
            IN,
            "template",
            "utility",
            "delivered",
            "g1,,,,",
        ),
        row(
            "2026-11-02T10:02:00Z",
            "out",
            IN,
            "template",
            "utility",
            "delivered",
            "g1,,,,",
        ),
        row(
            "2026-11-02T11:00:00Z",
            "out",
            one_to_one,
            "template",
            "utility",
            "delivered",
            ",,,,",
        ),
        row(
            "2026-11-02T11:01:00Z",
            "out",
            one_to_one,
            "template",
            "utility",
            "delivered",
            ",,,,",
        ),
        row(
            "2026-11-02T11:02:00Z",
            "out",
            one_to_one,
            "template",
            "utility",
            "delivered",
            ",,,,",
        ),
    ];
    let b = bill(&rows.iter().map(String::as_str).collect::<Vec<_>>(), &[]);
    // Every group utility message pays the list rate and none counts towards the tiers: the
    // 1:1 messages are the month's first, second and third.
    for r in 1..=3 {
        assert_eq!(b.row(r).0, "0.0020", "row {r}");
    }
    assert_eq!(b.row(4).0, "0.0020");
    assert_eq!(b.row(5).0, "0.0020");
    assert_eq!(
        b.row(6),
        (
            "0.0010".into(),
            "charged".into(),
            "PMP-4".into(),
            "utility".into()
        )
    );
}

#[test]
fn grp1_a_group_row_under_a_conversation_rulebook_is_priced_per_message() {
    let rows = [
        row(
            "2026-11-02T10:00:00Z",
            "out",
            IN,
            "template",
            "marketing",
            "delivered",
            "g1,,,,",
        ),
        row(
            "2026-11-02T10:05:00Z",
            "out",
            IN,
            "template",
            "marketing",
            "delivered",
            "g1,,,,",
        ),
    ];
    let b = bill(
        &rows.iter().map(String::as_str).collect::<Vec<_>>(),
        &["--rulebook", "cbp-2023"],
    );
    // No conversation: two deliveries, two charges, on lines of the forced rulebook.
    assert_eq!(
        b.line("India", "group_marketing"),
        (2, 0, 0, "0.0200".into())
    );
    assert_eq!(b.json["lines"][0]["rulebook"], "cbp-2023");
}

#[test]
fn call1_a_call_from_the_user_opens_the_customer_service_window() {
    let rows = [
        row("2026-09-05T09:00:00Z", "in", IN, "call", "", "", ",,,,"),
        row(
            "2026-09-05T10:00:00Z",
            "out",
            IN,
            "text",
            "",
            "delivered",
            ",,,,",
        ),
        row(
            "2026-09-05T10:01:00Z",
            "out",
            IN,
            "template",
            "utility",
            "delivered",
            ",,,,",
        ),
    ];
    let b = bill(&rows.iter().map(String::as_str).collect::<Vec<_>>(), &[]);
    // pmp-2025: inside the window opened by the call, service and utility are free (PMP-2),
    // and the log does not lack the user's message (no CONV-4 issue).
    assert_eq!(b.row(2).1, "free_customer_service");
    assert_eq!(b.row(3).1, "free_customer_service");
    assert!(b.issues("outside-csw").is_empty(), "{:#}", b.json["issues"]);
}

#[test]
fn call1_an_accepted_business_call_opens_the_window_a_missed_one_does_not() {
    let rows = [
        row(
            "2026-09-05T09:00:00Z",
            "out",
            IN,
            "call",
            "",
            "missed",
            ",,,,",
        ),
        row(
            "2026-09-05T09:01:00Z",
            "out",
            IN,
            "template",
            "utility",
            "delivered",
            ",,,,",
        ),
        row(
            "2026-09-06T09:00:00Z",
            "out",
            IN,
            "call",
            "",
            "accepted",
            ",12,,,",
        ),
        row(
            "2026-09-06T09:01:00Z",
            "out",
            IN,
            "template",
            "utility",
            "delivered",
            ",,,,",
        ),
    ];
    let b = bill(&rows.iter().map(String::as_str).collect::<Vec<_>>(), &[]);
    assert_eq!(b.row(1).1, "not_answered");
    assert_eq!(b.row(2).1, "charged");
    assert_eq!(b.row(4).1, "free_customer_service");
    let statuses: Vec<&str> = b.ledger.iter().map(|r| r["status"].as_str()).collect();
    assert_eq!(
        statuses,
        ["not_answered", "delivered", "accepted", "delivered"]
    );
}

#[test]
fn call2_calls_from_the_user_are_free_and_not_units() {
    let rows = [row(
        "2026-11-05T09:00:00Z",
        "in",
        IN,
        "call",
        "",
        "",
        ",300,,,",
    )];
    let b = bill(&rows.iter().map(String::as_str).collect::<Vec<_>>(), &[]);
    assert_eq!(b.total(), "0.0000");
    assert!(b.json["lines"].as_array().unwrap().is_empty());
    assert!(b.ledger.is_empty());
    assert_eq!(b.json["messages"]["inbound"], 1);
}

#[test]
fn call3_pulses_of_six_seconds_and_a_call_that_crosses_a_tier() {
    // India's illustrative calling table: minutes 1-10 of the month at 0.0100 a minute, then
    // 0.0050.
    let rows = [
        // 56 s = 10 pulses = one minute: 0.0100.
        row(
            "2026-11-06T10:00:00Z",
            "out",
            IN,
            "call",
            "",
            "accepted",
            ",56,,,",
        ),
        // 61 s = 11 pulses; the month's pulses 11-21, the last in minute 3: 11 × 0.001 = 0.0110.
        row(
            "2026-11-06T11:00:00Z",
            "out",
            IN,
            "call",
            "",
            "accepted",
            ",61,,,",
        ),
        // 480 s = 80 pulses: pulses 22-101, the last in minute 11, beyond the first band: the
        // whole call at 0.0050 a minute = 0.0400 (not 79 pulses at 0.001 and one at 0.0005).
        row(
            "2026-11-06T12:00:00Z",
            "out",
            IN,
            "call",
            "",
            "accepted",
            ",480,,,",
        ),
        // 1 s = 1 pulse, in minute 11: 0.0005.
        row(
            "2026-11-06T13:00:00Z",
            "out",
            IN,
            "call",
            "",
            "accepted",
            ",1,,,",
        ),
        // Brazil has no table: the list rate 0.0300 a minute, 7 pulses = 0.0210.
        row(
            "2026-11-06T14:00:00Z",
            "out",
            BR,
            "call",
            "",
            "accepted",
            ",37,,,",
        ),
        row(
            "2026-11-06T15:00:00Z",
            "out",
            BR,
            "call",
            "",
            "rejected",
            ",,,,",
        ),
    ];
    let b = bill(&rows.iter().map(String::as_str).collect::<Vec<_>>(), &[]);
    let prices: Vec<String> = (1..=6).map(|r| b.row(r).0).collect();
    assert_eq!(
        prices,
        ["0.0100", "0.0110", "0.0400", "0.0005", "0.0210", "0.0000"]
    );
    assert_eq!(b.row(3).2, "CALL-3");
    assert_eq!(b.row(6).1, "not_answered");
    assert_eq!(b.line("India", "call"), (4, 0, 0, "0.0615".into()));
    assert_eq!(b.line("Brazil", "call"), (1, 0, 0, "0.0210".into()));
}

#[test]
fn call3_an_unknown_call_rate_stops_with_rate4() {
    // The card has no row for New Zealand's market: the call is never priced at 0.
    let rows = [row(
        "2026-11-06T10:00:00Z",
        "out",
        "+6491234567",
        "call",
        "",
        "accepted",
        ",56,,,",
    )];
    let (err, _) = fails(&rows.iter().map(String::as_str).collect::<Vec<_>>(), &[], 2);
    assert!(
        err.contains("no rate for market `Rest of Asia Pacific`, category `call`"),
        "{err}"
    );
    assert!(err.contains("RATE-4"), "{err}");
}

#[test]
fn call3_an_accepted_business_call_needs_its_duration() {
    let rows = [
        row(
            "2026-11-06T10:00:00Z",
            "out",
            IN,
            "call",
            "",
            "accepted",
            ",,,,",
        ),
        row(
            "2026-11-06T10:00:00Z",
            "out",
            IN,
            "call",
            "",
            "ringing",
            ",,,,",
        ),
        row(
            "2026-11-06T10:00:00Z",
            "out",
            IN,
            "text",
            "",
            "delivered",
            ",30,,,",
        ),
        row("2026-11-06T11:00:00Z", "in", IN, "text", "", "", ",,,,"),
    ];
    let (err, rejects) = fails(
        &rows.iter().map(String::as_str).collect::<Vec<_>>(),
        &["--strict"],
        1,
    );
    assert!(
        rejects.contains("accepted business call without duration"),
        "{rejects}"
    );
    assert!(rejects.contains("unknown call status"), "{rejects}");
    assert!(
        rejects.contains("a duration is only for call rows"),
        "{rejects}"
    );
    assert!(
        err.contains("3 row(s) rejected") || err.contains("rejected"),
        "{err}"
    );
}

#[test]
fn mba1_priced_per_token_rounded_once_and_unpriced_without_tokens() {
    let rows = [
        row("2026-11-07T10:00:00Z", "in", IN, "text", "", "", ",,,,"),
        // 2.00 per million tokens × 1,234 tokens = 0.002468.
        row(
            "2026-11-07T10:01:00Z",
            "out",
            IN,
            "text",
            "meta_business_agent",
            "delivered",
            ",,1234,,",
        ),
        // 2.00 × 3 / 1,000,000 = 0.000006.
        row(
            "2026-11-07T10:02:00Z",
            "out",
            IN,
            "text",
            "meta_business_agent",
            "delivered",
            ",,3,,",
        ),
        // 2.00 × 1 / 1,000,000 = 0.000002.
        row(
            "2026-11-07T10:03:00Z",
            "out",
            IN,
            "text",
            "meta_business_agent",
            "delivered",
            ",,1,,",
        ),
        row(
            "2026-11-07T10:04:00Z",
            "out",
            IN,
            "text",
            "meta_business_agent",
            "delivered",
            ",,,,",
        ),
        row(
            "2026-11-07T10:05:00Z",
            "out",
            IN,
            "text",
            "meta_business_agent",
            "failed",
            ",,,,",
        ),
    ];
    let b = bill(&rows.iter().map(String::as_str).collect::<Vec<_>>(), &[]);
    assert_eq!(b.row(2).0, "0.002468");
    assert_eq!(b.row(3).0, "0.000006");
    assert_eq!(b.row(4).0, "0.000002");
    assert_eq!(
        b.row(5),
        (
            "0.0000".into(),
            "unpriced".into(),
            "MBA-1".into(),
            "meta_business_agent".into()
        )
    );
    assert_eq!(b.row(6).1, "not_delivered");
    assert_eq!(
        b.line("India", "meta_business_agent"),
        (3, 0, 1, "0.002476".into())
    );
    assert_eq!(b.total(), "0.002476");
    assert_eq!(b.issues("unpriced"), [5]);
    // The table says what the total leaves out.
    let dir = tempfile::tempdir().unwrap();
    let log = write_log(
        dir.path(),
        &rows.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let rejects = dir.path().join("r.csv");
    let o = wabill(&[
        "replay",
        log.to_str().unwrap(),
        "--rates",
        RATES,
        "--accounts",
        ACCOUNTS,
        "--rejects",
        rejects.to_str().unwrap(),
    ]);
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(table.contains("0.002476 + 1 unpriced"), "{table}");
    assert!(
        table.contains("the total excludes 1 unpriced unit(s)"),
        "{table}"
    );
}

#[test]
fn mba1_agent_messages_never_use_the_allowance_nor_touch_a_window() {
    let rows = [
        // An entry-point message; the agent answers first: its reply does not answer the entry
        // point, the business's next message does (PMP-3) and opens the free window.
        row("2026-11-07T10:00:00Z", "in", IN, "text", "", "", ",,,,"),
        row(
            "2026-11-07T10:01:00Z",
            "out",
            IN,
            "text",
            "meta_business_agent",
            "delivered",
            ",,100,,",
        ),
        row(
            "2026-11-07T10:02:00Z",
            "out",
            IN,
            "text",
            "",
            "delivered",
            ",,,,",
        ),
        row(
            "2026-11-07T10:03:00Z",
            "out",
            IN,
            "text",
            "meta_business_agent",
            "delivered",
            ",,100,,",
        ),
        // A user with no window: the agent's message is no CONV-4 issue (it touches no window).
        row(
            "2026-11-08T10:00:00Z",
            "out",
            BR,
            "text",
            "meta_business_agent",
            "delivered",
            ",,100,,",
        ),
    ];
    let mut rows: Vec<String> = rows.to_vec();
    // Mark row 1 as an entry point: the header has no entry_point column, so add one.
    let with_ep: Vec<String> = rows
        .drain(..)
        .enumerate()
        .map(|(i, r)| format!("{r},{}", if i == 0 { "ctwa" } else { "" }))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.csv");
    std::fs::write(
        &path,
        format!("{HEADER},entry_point\n{}\n", with_ep.join("\n")),
    )
    .unwrap();
    let ledger = dir.path().join("l.csv");
    let o = wabill(&[
        "replay",
        path.to_str().unwrap(),
        "--rates",
        RATES,
        "--accounts",
        ACCOUNTS,
        "--format",
        "json",
        "--ledger",
        ledger.to_str().unwrap(),
        "--rejects",
        dir.path().join("r.csv").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let json: Value = serde_json::from_slice(&o.stdout).unwrap();
    let text = std::fs::read_to_string(&ledger).unwrap();
    let reasons: Vec<&str> = text
        .lines()
        .skip(1)
        .map(|l| l.rsplit(',').nth(1).unwrap())
        .collect();
    // Agent, free entry point reply, agent (charged inside the free window), agent.
    assert_eq!(
        reasons,
        ["charged", "free_entry_point", "charged", "charged"]
    );
    assert!(json["issues"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["code"] != "outside-csw"));
    // pmp-2026 service after agent messages: the allowance is untouched by them.
    let rows = [
        row("2026-11-07T10:00:00Z", "in", IN, "text", "", "", ",,,,"),
        row(
            "2026-11-07T10:01:00Z",
            "out",
            IN,
            "text",
            "meta_business_agent",
            "delivered",
            ",,100,,",
        ),
        row(
            "2026-11-07T10:02:00Z",
            "out",
            IN,
            "text",
            "",
            "delivered",
            ",,,,",
        ),
    ];
    let b = bill(&rows.iter().map(String::as_str).collect::<Vec<_>>(), &[]);
    assert_eq!(b.row(2).1, "charged");
    assert_eq!(
        b.row(3).1,
        "free_tier",
        "the first service message of the month is in the allowance"
    );
}

#[test]
fn mba1_before_august_2026_meta_did_not_charge_and_a_missing_rate_is_rate4() {
    let rows = [row(
        "2026-07-20T10:00:00Z",
        "out",
        IN,
        "text",
        "meta_business_agent",
        "delivered",
        ",,500,,",
    )];
    let b = bill(&rows.iter().map(String::as_str).collect::<Vec<_>>(), &[]);
    assert_eq!(
        b.row(1),
        (
            "0.0000".into(),
            "not_charged_yet".into(),
            "MBA-1".into(),
            "meta_business_agent".into()
        )
    );
    assert_eq!(
        b.line("India", "meta_business_agent"),
        (0, 1, 0, "0.0000".into())
    );
    let rows = [row(
        "2026-11-20T10:00:00Z",
        "out",
        "+6491234567",
        "text",
        "meta_business_agent",
        "delivered",
        ",,500,,",
    )];
    let (err, _) = fails(&rows.iter().map(String::as_str).collect::<Vec<_>>(), &[], 2);
    assert!(err.contains("category `meta_business_agent`"), "{err}");
}

#[test]
fn aip1_an_ai_providers_messages_in_listed_markets_and_periods() {
    let ai = ["--accounts", "tests/fixtures/charges/accounts-ai.toml"];
    let rows = [
        row("2026-04-01T10:00:00Z", "in", IN, "text", "", "", ",,,,"),
        row(
            "2026-04-01T10:01:00Z",
            "out",
            IN,
            "text",
            "",
            "delivered",
            ",,,,",
        ),
        row("2026-04-01T11:00:00Z", "in", BR, "text", "", "", ",,,,"),
        row(
            "2026-04-01T11:01:00Z",
            "out",
            BR,
            "text",
            "",
            "delivered",
            ",,,,",
        ),
        // Brazil left the table on 2026-05-13: a plain service message again (free, PMP-2)…
        row("2026-06-01T11:00:00Z", "in", BR, "text", "", "", ",,,,"),
        row(
            "2026-06-01T11:01:00Z",
            "out",
            BR,
            "text",
            "",
            "delivered",
            ",,,,",
        ),
        // …unless Meta named the message `general_purpose_ai` itself.
        row(
            "2026-06-01T11:02:00Z",
            "out",
            BR,
            "text",
            "general_purpose_ai",
            "delivered",
            ",,,,",
        ),
        // Templates are not AIP messages.
        row(
            "2026-06-01T11:03:00Z",
            "out",
            BR,
            "template",
            "utility",
            "delivered",
            ",,,,",
        ),
        // A market without a general_purpose_ai rate on the card: RATE-4 below.
    ];
    let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
    let b = bill(&rows, &ai);
    assert_eq!(
        b.row(2),
        (
            "0.0050".into(),
            "charged".into(),
            "AIP-1".into(),
            "general_purpose_ai".into()
        )
    );
    assert_eq!(
        b.row(4),
        (
            "0.0060".into(),
            "charged".into(),
            "AIP-1".into(),
            "general_purpose_ai".into()
        )
    );
    assert_eq!(b.row(6).1, "free_customer_service");
    assert_eq!(b.row(7).2, "AIP-1");
    assert_eq!(b.row(8).1, "free_customer_service");
    // Not marked: only the row Meta named is AIP.
    let b = bill(&rows, &[]);
    assert_eq!(b.row(2).1, "free_customer_service");
    assert_eq!(b.row(7).2, "AIP-1");
    let us = [
        row("2026-04-01T10:00:00Z", "in", US, "text", "", "", ",,,,"),
        row(
            "2026-04-01T10:01:00Z",
            "out",
            US,
            "text",
            "general_purpose_ai",
            "delivered",
            ",,,,",
        ),
    ];
    let (err, _) = fails(&us.iter().map(String::as_str).collect::<Vec<_>>(), &ai, 2);
    assert!(err.contains("category `general_purpose_ai`"), "{err}");
}

#[test]
fn maxp1_the_charged_price_replaces_the_card_rate() {
    let rows = [
        row(
            "2026-11-08T10:00:00Z",
            "out",
            IN,
            "template",
            "marketing",
            "delivered",
            ",,,0.0042,",
        ),
        // Above the card rate (India 0.0100): what Meta charged, as the log says.
        row(
            "2026-11-08T10:01:00Z",
            "out",
            IN,
            "template",
            "marketing",
            "delivered",
            ",,,0.05,",
        ),
        row(
            "2026-11-08T10:02:00Z",
            "out",
            IN,
            "template",
            "marketing",
            "delivered",
            ",,,,",
        ),
        row(
            "2026-11-08T10:03:00Z",
            "out",
            IN,
            "template",
            "marketing",
            "failed",
            ",,,0.05,",
        ),
    ];
    let b = bill(&rows.iter().map(String::as_str).collect::<Vec<_>>(), &[]);
    assert_eq!(
        b.row(1),
        (
            "0.0042".into(),
            "charged".into(),
            "MAXP-1".into(),
            "marketing".into()
        )
    );
    assert_eq!(b.row(2).0, "0.0500");
    assert_eq!(
        b.row(3),
        (
            "0.0100".into(),
            "charged".into(),
            "PMP-1".into(),
            "marketing".into()
        )
    );
    assert_eq!(b.row(4).1, "not_delivered");
    assert_eq!(b.line("India", "marketing"), (3, 0, 0, "0.0642".into()));
}

#[test]
fn maxp1_under_a_conversation_rulebook_the_opened_conversation_is_priced_at_the_row() {
    let rows = [
        row(
            "2026-11-08T10:00:00Z",
            "out",
            IN,
            "template",
            "marketing",
            "delivered",
            ",,,0.0042,",
        ),
        row(
            "2026-11-08T11:00:00Z",
            "out",
            IN,
            "template",
            "marketing",
            "delivered",
            ",,,,",
        ),
        row(
            "2026-11-09T11:00:00Z",
            "out",
            IN,
            "template",
            "marketing",
            "delivered",
            ",,,,",
        ),
    ];
    let b = bill(
        &rows.iter().map(String::as_str).collect::<Vec<_>>(),
        &["--rulebook", "cbp-2023"],
    );
    assert_eq!(b.row(1).0, "0.0042");
    assert_eq!(b.row(2).1, "in_conversation");
    assert_eq!(b.row(3).0, "0.0100");
    assert_eq!(b.line("India", "marketing"), (2, 0, 0, "0.0142".into()));
}

#[test]
fn maxp1_a_price_on_anything_but_a_marketing_template_is_a_reject() {
    let rows = [
        row(
            "2026-11-08T10:00:00Z",
            "out",
            IN,
            "template",
            "utility",
            "delivered",
            ",,,0.001,",
        ),
        row(
            "2026-11-08T10:00:00Z",
            "out",
            IN,
            "template",
            "marketing",
            "delivered",
            ",,,0.0000001,",
        ),
        row(
            "2026-11-08T10:00:00Z",
            "out",
            IN,
            "template",
            "marketing",
            "delivered",
            ",,,0.01,",
        ),
    ];
    let (_, rejects) = fails(
        &rows.iter().map(String::as_str).collect::<Vec<_>>(),
        &["--strict"],
        1,
    );
    assert!(
        rejects.contains("a price is only for a marketing template"),
        "{rejects}"
    );
    assert!(
        rejects.contains("not an amount of at most 6 decimal places"),
        "{rejects}"
    );
}

#[test]
fn cur1_one_currency_at_a_time() {
    let mixed = [
        "replay",
        "tests/fixtures/charges/mixed.csv",
        "--accounts",
        "tests/fixtures/charges/accounts-mixed.toml",
        "--rates",
        RATES,
        "--format",
        "json",
        "--rejects",
    ];
    let dir = tempfile::tempdir().unwrap();
    let rejects = dir.path().join("r.csv");
    let run = |extra: &[&str]| {
        let mut args = mixed.to_vec();
        args.push(rejects.to_str().unwrap());
        args.extend(extra);
        wabill(&args)
    };
    let o = run(&[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("choose one with --currency CODE (CUR-1)"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("xts (XTS), mx (MXN)"), "{}", stderr(&o));
    let o = run(&["--currency", "mxn"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let j: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["currency"], "MXN");
    assert_eq!(j["total"], "0.6000");
    assert_eq!(j["messages"]["other_currency"], 1);
    let o = run(&["--currency", "XTS", "--partitions", "2"]);
    let j: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (j["currency"].as_str(), j["total"].as_str()),
        (Some("XTS"), Some("0.0100"))
    );
    assert_eq!(j["messages"]["other_currency"], 2);
    let o = run(&["--currency", "EUR"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("no WABA of the accounts is billed in EUR"),
        "{}",
        stderr(&o)
    );
    // A single-currency replay's JSON has no `other_currency`.
    let b = bill(
        &[&row(
            "2026-11-08T10:00:00Z",
            "out",
            IN,
            "template",
            "marketing",
            "delivered",
            ",,,,",
        )],
        &[],
    );
    assert!(b.json["messages"].get("other_currency").is_none());
    assert!(b.stderr.is_empty() || !b.stderr.contains("CUR-1"));
}

#[test]
fn cur1_a_card_in_any_of_metas_currencies_imports_as_usd_does() {
    let meta = super::common::root().join("tests/fixtures/meta-layout/USD-2026-10-01");
    for (code, symbol) in [
        ("MXN", "MX$"),
        ("SGD", "S$"),
        ("PEN", "PEN"),
        ("AED", "د.إ"),
    ] {
        let d = tempfile::tempdir().unwrap();
        let rates = d.path().join("rates");
        std::fs::create_dir_all(&rates).unwrap();
        std::fs::copy(
            super::common::root().join("rates/market_map.csv"),
            rates.join("market_map.csv"),
        )
        .unwrap();
        // Meta's file as the currency's card would come: the same layout, its own symbol.
        let pricing = std::fs::read_to_string(meta.join("Pricing.csv"))
            .unwrap()
            .replace("$US", symbol)
            .replace("USD", code);
        let file = d.path().join("Pricing.csv");
        std::fs::write(&file, pricing).unwrap();
        let o = wabill(&[
            "rates",
            "import",
            file.to_str().unwrap(),
            "--currency",
            code,
            "--effective",
            "2026-10-01",
            "--rates",
            rates.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(0), "{code}: {}", stderr(&o));
        let card = rates.join(code).join("2026-10-01").join("rates.csv");
        let text = std::fs::read_to_string(&card).unwrap();
        assert!(
            text.lines().nth(1).unwrap().contains(&format!(",{code},")),
            "{text}"
        );
        // A card whose cells name another currency is refused.
        let o = wabill(&[
            "rates",
            "import",
            file.to_str().unwrap(),
            "--currency",
            "EUR",
            "--effective",
            "2026-11-01",
            "--rates",
            rates.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(2), "{code}: {}", stderr(&o));
    }
}

#[test]
fn mba1_the_html_report_shows_the_new_lines_and_what_the_total_leaves_out() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report");
    let o = wabill(&[
        "replay",
        "tests/fixtures/charges/log.csv",
        "--accounts",
        ACCOUNTS,
        "--rates",
        RATES,
        "--report",
        report.to_str().unwrap(),
        "--rejects",
        dir.path().join("r.csv").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let html = std::fs::read_to_string(report.join("index.html")).unwrap();
    for needle in [
        "group_marketing",
        "group_service",
        "<td>call</td>",
        "meta_business_agent",
        "0.002468 + 1 unpriced",
        "The total excludes 1 unpriced unit(s)",
    ] {
        assert!(html.contains(needle), "{needle} not in the report");
    }
    assert!(report.join("charts/market-cost.png").exists());
}

#[test]
fn maxp1_compare_bounds_marketing_spend_with_a_max_price_per_market() {
    let run = |extra: &[&str]| {
        let mut args = vec![
            "compare",
            "data/scenarios/campaign-brazil.toml",
            "--format",
            "json",
        ];
        args.extend(extra);
        let o = wabill(&args);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        (
            serde_json::from_slice::<Value>(&o.stdout).unwrap(),
            stderr(&o),
        )
    };
    let marketing = |j: &Value| -> (u64, String) {
        let c = j["variants"][0]["categories"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["category"] == "marketing")
            .unwrap()
            .clone();
        (
            c["charged"].as_u64().unwrap(),
            c["cost"].as_str().unwrap().to_string(),
        )
    };
    let (plain, _) = run(&[]);
    let (bounded, err) = run(&["--max-price", "brazil=0.05"]);
    let (n, _) = marketing(&plain);
    let (m, cost) = marketing(&bounded);
    assert_eq!(n, m, "the same messages");
    // Every Brazilian marketing message at the bound (0.05); the campaign's users are Brazilian.
    let want = rust_decimal::Decimal::from(n) * rust_decimal::Decimal::new(5, 2);
    assert_eq!(
        cost.parse::<rust_decimal::Decimal>().unwrap(),
        want,
        "{bounded}"
    );
    assert!(
        err.contains("priced at its max price 0.0500 (MAXP-1"),
        "{err}"
    );
    let o = wabill(&[
        "compare",
        "data/scenarios/campaign-brazil.toml",
        "--max-price",
        "Atlantis=1",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("not a market of the rate cards"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn call3_a_card_with_calling_and_agent_columns_imports_and_prices_calls() {
    let d = tempfile::tempdir().unwrap();
    let rates = d.path().join("rates");
    std::fs::create_dir_all(&rates).unwrap();
    std::fs::copy(
        super::common::root().join("rates/market_map.csv"),
        rates.join("market_map.csv"),
    )
    .unwrap();
    // Meta's Pricing.csv layout with two more columns, as a card of 2026 could carry them.
    let pricing = "WhatsApp rates (illustrative)\n\n\
                   Market,Currency,Marketing,Utility,Authentication,Service,Meta Business Agent,Business-initiated calls\n\
                   India,XTS,0.0100,0.0020,0.0020,0.0020,2.00,0.0100\n";
    let file = d.path().join("Pricing.csv");
    std::fs::write(&file, pricing).unwrap();
    let o = wabill(&[
        "rates",
        "import",
        file.to_str().unwrap(),
        "--currency",
        "XTS",
        "--effective",
        "2026-01-01",
        "--rates",
        rates.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let card = std::fs::read_to_string(rates.join("XTS/2026-01-01/rates.csv")).unwrap();
    assert!(
        card.lines()
            .next()
            .unwrap()
            .contains("meta_business_agent,call"),
        "{card}"
    );
    let dir = tempfile::tempdir().unwrap();
    let log = write_log(
        dir.path(),
        &[&row(
            "2026-11-06T10:00:00Z",
            "out",
            IN,
            "call",
            "",
            "accepted",
            ",56,,,",
        )],
    );
    let o = wabill(&[
        "replay",
        log.to_str().unwrap(),
        "--accounts",
        ACCOUNTS,
        "--rates",
        rates.to_str().unwrap(),
        "--format",
        "json",
        "--rejects",
        dir.path().join("r.csv").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let j: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["total"], "0.0100", "{j}");
}
