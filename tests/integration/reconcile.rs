//! `wabill reconcile` and the webhook round trip (billing-rules.md §6), run as a user would.

use super::common::{root, stderr, wabill};
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

fn fixture(name: &str) -> String {
    root()
        .join("tests/fixtures")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn json_of(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "one JSON object on stdout ({e}): {}\n{}",
            String::from_utf8_lossy(&o.stdout),
            stderr(o)
        )
    })
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `wabill replay LOG --emit-webhooks OUT`.
fn emit_webhooks(log: &str, accounts: &str, out: &Path) {
    let o = wabill(&[
        "replay",
        log,
        "--accounts",
        accounts,
        "--format",
        "json",
        "--rejects",
        path_str(&out.with_extension("rejects.csv")),
        "--emit-webhooks",
        path_str(out),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

/// `wabill reconcile --format json`: (exit code, report).
fn reconcile(log: &str, accounts: &str, webhooks: &Path, extra: &[&str]) -> (i32, Value) {
    let mut args = vec![
        "reconcile",
        "--log",
        log,
        "--accounts",
        accounts,
        "--webhooks",
        path_str(webhooks),
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let o = wabill(&args);
    let code = o.status.code().expect("exit code");
    assert!(code == 0 || code == 1, "exit {code}: {}", stderr(&o));
    (code, json_of(&o))
}

/// Apply `edit` to every webhook line that mentions `id`.
fn edit_lines(text: &str, id: &str, edit: impl Fn(&mut Value)) -> String {
    let mut out = String::new();
    for l in text.lines() {
        if l.contains(&format!("\"{id}\"")) {
            let mut v: Value = serde_json::from_str(l).unwrap();
            edit(&mut v);
            out.push_str(&v.to_string());
        } else {
            out.push_str(l);
        }
        out.push('\n');
    }
    out
}

fn status_of(v: &mut Value) -> &mut Value {
    &mut v["entry"][0]["changes"][0]["value"]["statuses"][0]
}

/// Replay small.csv to webhooks, change them with `edit`, and reconcile the log against them.
fn reconcile_small_edited(edit: impl FnOnce(&str) -> String) -> (i32, Value) {
    let d = tempfile::tempdir().unwrap();
    let wh = d.path().join("wh.jsonl");
    let (log, acc) = (fixture("small.csv"), fixture("accounts.toml"));
    emit_webhooks(&log, &acc, &wh);
    let changed = d.path().join("changed.jsonl");
    std::fs::write(&changed, edit(&std::fs::read_to_string(&wh).unwrap())).unwrap();
    reconcile(&log, &acc, &changed, &[])
}

fn message_ids(report: &Value) -> Vec<String> {
    report["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Round trip: replay → webhooks → reconcile
// ---------------------------------------------------------------------------------------------

#[test]
fn round_trip_small_log_reconciles_with_zero_differences() {
    let d = tempfile::tempdir().unwrap();
    let wh = d.path().join("small.webhooks.jsonl");
    let (log, acc) = (fixture("small.csv"), fixture("accounts.toml"));
    emit_webhooks(&log, &acc, &wh);
    let (code, r) = reconcile(&log, &acc, &wh, &[]);
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(r["differences"], 0);
    let s = &r["summary"];
    assert_eq!(s["messages"]["wabill"], s["messages"]["meta"]);
    assert_eq!(s["messages"]["wabill"], 16);
    assert_eq!(s["delivered"]["difference"], 0);
    assert_eq!(s["billable"]["difference"], 0);

    // Meta's webhooks arrive out of order and twice: still one report per message.
    let text = std::fs::read_to_string(&wh).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.reverse();
    let doubled: Vec<&str> = lines.iter().flat_map(|l| [*l, *l]).collect();
    let shuffled = d.path().join("shuffled.jsonl");
    std::fs::write(&shuffled, doubled.join("\n") + "\n").unwrap();
    let (code, r2) = reconcile(&log, &acc, &shuffled, &[]);
    assert_eq!(code, 0, "{r2:#}");
    assert_eq!(r2["summary"], r["summary"]);
}

#[test]
fn round_trip_a_changed_category_is_reported_once_with_the_message_id() {
    // w019: a marketing template charged per message (PMP-1). Meta says utility.
    let (code, r) = reconcile_small_edited(|text| {
        edit_lines(text, "w019", |v| {
            status_of(v)["pricing"]["category"] = "utility".into();
        })
    });
    assert_eq!(code, 1);
    assert_eq!(r["differences"], 1, "{r:#}");
    assert_eq!(message_ids(&r), ["w019"]);
    let m = &r["messages"][0];
    assert_eq!(m["kind"], "pricing");
    assert_eq!(m["row"], 19);
    assert_eq!(m["fields"].as_array().unwrap().len(), 1);
    assert_eq!(m["fields"][0]["field"], "category");
    assert_eq!(m["fields"][0]["wabill"], "marketing");
    assert_eq!(m["fields"][0]["meta"], "utility");
}

#[test]
fn round_trip_a_flipped_billable_flag_is_reported_once_with_the_message_id() {
    // w005 rides in the utility conversation w004 opened before the switch (CBP-9): billable.
    let (code, r) = reconcile_small_edited(|text| {
        edit_lines(text, "w005", |v| {
            status_of(v)["pricing"]["billable"] = false.into();
        })
    });
    assert_eq!(code, 1);
    assert_eq!(r["differences"], 1, "{r:#}");
    assert_eq!(message_ids(&r), ["w005"]);
    let f = &r["messages"][0]["fields"];
    assert_eq!(f.as_array().unwrap().len(), 1);
    assert_eq!(f[0]["field"], "billable");
    assert_eq!(
        (f[0]["wabill"].as_str(), f[0]["meta"].as_str()),
        (Some("true"), Some("false"))
    );
}

#[test]
fn round_trip_messages_on_one_side_only_are_listed() {
    // Drop every status of w016; rename w003 to an id the log does not have.
    let (code, r) = reconcile_small_edited(|text| {
        text.lines()
            .filter(|l| !l.contains("\"w016\""))
            .map(|l| l.replace("\"w003\"", "\"wamid.unknown\"") + "\n")
            .collect()
    });
    assert_eq!(code, 1);
    let kinds: Vec<(String, String)> = r["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["id"].as_str().unwrap().into(),
                m["kind"].as_str().unwrap().into(),
            )
        })
        .collect();
    let mut kinds = kinds;
    kinds.sort();
    assert_eq!(
        kinds,
        [
            ("w003".to_string(), "only_in_log".to_string()),
            ("w016".into(), "only_in_log".into()),
            ("wamid.unknown".into(), "only_in_webhooks".into()),
        ]
    );
}

/// A few hundred rows across the cbp-2024 → pmp-2025 switch, two WABAs in different time zones,
/// entry points, failures and non-template messages outside the window (CONV-4).
fn generated_log(rows: usize) -> String {
    let mut s: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move |n: u64| {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s % n
    };
    let users = [
        "+919812345601",
        "+919812345602",
        "+5511987650002",
        "+5511987650003",
        "+6281234567803",
        "+447700900105",
        "+12025550104",
        "+971501234567",
    ];
    let start = 1_749_600_000i64; // 2025-06-11
    let mut out =
        String::from("timestamp,direction,user,type,category,status,entry_point,waba,number,id\n");
    let mut t = start;
    for i in 0..rows {
        t += 600 + next(7_200) as i64;
        let user = users[next(users.len() as u64) as usize];
        let waba = if user.starts_with("+55") {
            "shop-br"
        } else {
            "shop-in"
        };
        let (dir, ty, cat, status, ep) = match next(10) {
            0..=2 => ("in", "", "", "", if next(4) == 0 { "ctwa" } else { "" }),
            3 => ("out", "text", "", "delivered", ""),
            _ => {
                let cat = ["marketing", "utility", "authentication"][next(3) as usize];
                let status = match next(12) {
                    0 => "failed",
                    1 => "sent",
                    2 => "read",
                    _ => "delivered",
                };
                ("out", "template", cat, status, "")
            }
        };
        out.push_str(&format!(
            "{t},{dir},{user},{ty},{cat},{status},{ep},{waba},,g{i:04}\n"
        ));
    }
    out
}

#[test]
fn round_trip_a_generated_log_across_the_switch_reconciles_with_zero_differences() {
    let d = tempfile::tempdir().unwrap();
    let log = d.path().join("generated.csv");
    std::fs::write(&log, generated_log(600)).unwrap();
    let (log, acc) = (path_str(&log).to_string(), fixture("accounts.toml"));
    let wh = d.path().join("generated.webhooks.jsonl");
    emit_webhooks(&log, &acc, &wh);
    let (code, r) = reconcile(&log, &acc, &wh, &[]);
    assert_eq!(code, 0, "{:#}", r["messages"]);
    assert!(r["summary"]["billable"]["wabill"].as_u64().unwrap() > 100);
    // …and forcing another rulebook on the log is seen everywhere the rules differ.
    let (code, r) = reconcile(&log, &acc, &wh, &["--rulebook", "pmp-2026"]);
    assert_eq!(code, 1);
    assert!(r["messages"].as_array().unwrap().len() > 10);
}

// ---------------------------------------------------------------------------------------------
// Meta's documented payload shapes (tests/fixtures/webhooks)
// ---------------------------------------------------------------------------------------------

fn wh_fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures/webhooks").join(name)
}

#[test]
fn metas_payloads_reconcile_with_the_business_log_and_pricing_analytics() {
    let (log, acc) = (
        fixture("webhooks/business.csv"),
        fixture("webhooks/accounts.toml"),
    );
    let analytics = fixture("webhooks/pricing_analytics.json");
    let (code, r) = reconcile(
        &log,
        &acc,
        &wh_fixture("statuses.jsonl"),
        &["--analytics", &analytics],
    );
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(r["differences"], 0);
    let s = &r["summary"];
    assert_eq!(
        (
            s["messages"]["wabill"].as_u64(),
            s["messages"]["meta"].as_u64()
        ),
        (Some(13), Some(13))
    );
    assert_eq!(
        (
            s["delivered"]["wabill"].as_u64(),
            s["delivered"]["meta"].as_u64()
        ),
        (Some(12), Some(12))
    );
    // One CBP marketing conversation (2 messages), P06 and P12 (marketing_lite): 3 marketing;
    // P04 and P05 (both spellings of authentication-international); P11 utility.
    let cats: Vec<(String, u64, u64)> = s["billable_by_category"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["category"].as_str().unwrap().into(),
                c["wabill"].as_u64().unwrap(),
                c["meta"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        cats,
        [
            ("marketing".to_string(), 3, 3),
            ("utility".into(), 1, 1),
            ("authentication_international".into(), 2, 2),
        ]
    );
    let a = &s["analytics"][0];
    assert_eq!(a["source"], "pricing_analytics");
    assert_eq!(a["waba"], "102290129340398");
    assert_eq!(a["days"], serde_json::json!(["2025-07-10", "2025-07-15"]));
    assert_eq!(
        (a["volume"]["wabill"].as_u64(), a["volume"]["meta"].as_u64()),
        (Some(9), Some(9))
    );
    assert_eq!(a["cost"]["wabill"], "0.2948");
    assert_eq!(a["cost"]["meta"], "0.2948");
}

#[test]
fn a_changed_analytics_cost_is_found_beyond_the_tolerance_only() {
    let d = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(wh_fixture("pricing_analytics.json")).unwrap();
    assert!(text.contains("\"cost\": 0.272"));
    let changed = d.path().join("pa.json");
    std::fs::write(
        &changed,
        text.replace("\"cost\": 0.272", "\"cost\": 0.2735"),
    )
    .unwrap();
    let (log, acc) = (
        fixture("webhooks/business.csv"),
        fixture("webhooks/accounts.toml"),
    );
    let wh = wh_fixture("statuses.jsonl");
    let (code, r) = reconcile(&log, &acc, &wh, &["--analytics", path_str(&changed)]);
    assert_eq!(code, 1);
    assert_eq!(r["differences"], 1, "{r:#}");
    let row = &r["analytics"][0];
    assert_eq!(row["day"], "2025-07-11");
    assert_eq!(row["country"], "ID");
    assert_eq!(row["pricing_type"], "REGULAR");
    assert_eq!(row["category"], "AUTHENTICATION_INTERNATIONAL");
    assert_eq!(
        (row["wabill_volume"].as_u64(), row["meta_volume"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(row["wabill_cost"], "0.2720");
    assert_eq!(row["meta_cost"], "0.2735");
    assert_eq!(r["summary"]["analytics"][0]["cost"]["difference"], "0.0015");
    // Within the stated tolerance it is no difference.
    let (code, _) = reconcile(
        &log,
        &acc,
        &wh,
        &["--analytics", path_str(&changed), "--tolerance", "0.002"],
    );
    assert_eq!(code, 0);
    // A volume that differs is always one.
    let vol = d.path().join("vol.json");
    std::fs::write(
        &vol,
        text.replace(
            "\"volume\": 2,\n            \"cost\": 0.272",
            "\"volume\": 3,\n            \"cost\": 0.272",
        ),
    )
    .unwrap();
    let (code, r) = reconcile(
        &log,
        &acc,
        &wh,
        &[
            "--analytics",
            &format!("102290129340398={}", path_str(&vol)),
        ],
    );
    assert_eq!(code, 1);
    assert_eq!(r["analytics"][0]["meta_volume"], 3);
}

#[test]
fn a_split_conversation_is_reported_once_for_the_message_that_splits_it() {
    let d = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(wh_fixture("statuses.jsonl")).unwrap();
    // C02 rides in C01's marketing conversation (CBP-4); Meta puts it in a new one.
    let text = edit_lines(&text, "wamid.C02", |v| {
        if let Some(c) = status_of(v).get_mut("conversation") {
            c["id"] = "another-conversation".into();
        }
    });
    let changed = d.path().join("split.jsonl");
    std::fs::write(&changed, text).unwrap();
    let (code, r) = reconcile(
        &fixture("webhooks/business.csv"),
        &fixture("webhooks/accounts.toml"),
        &changed,
        &[],
    );
    assert_eq!(code, 1);
    assert_eq!(message_ids(&r), ["wamid.C02"], "{r:#}");
    assert_eq!(r["messages"][0]["fields"][0]["field"], "conversation");
    // Meta now counts two billable marketing conversations, wabill one.
    let m = &r["summary"]["billable_by_category"][0];
    assert_eq!(
        (
            m["category"].as_str(),
            m["wabill"].as_u64(),
            m["meta"].as_u64()
        ),
        (Some("marketing"), Some(3), Some(4))
    );
}

#[test]
fn malformed_lines_are_reported_with_their_line_and_never_stop_the_others() {
    let d = tempfile::tempdir().unwrap();
    let log = d.path().join("business.csv");
    std::fs::write(
        &log,
        "timestamp,direction,user,type,category,status,entry_point,id\n\
         1752138000,in,+919812345601,,,,ctwa,wamid.M01\n\
         1752138400,out,+919812345601,template,marketing,delivered,,wamid.M03\n\
         1752138600,out,+919812345601,template,utility,delivered,,wamid.M05\n\
         1752138700,out,+919812345601,template,marketing,delivered,,wamid.M06\n\
         1752138800,out,+919812345601,template,utility,delivered,,wamid.M07\n",
    )
    .unwrap();
    let o = wabill(&[
        "reconcile",
        "--log",
        path_str(&log),
        "--webhooks",
        path_str(&wh_fixture("malformed.jsonl")),
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("problem(s) in Meta's files"));
    let r = json_of(&o);
    let problems: Vec<(u64, String)> = r["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["line"].as_u64().unwrap(),
                p["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let lines: Vec<u64> = problems.iter().map(|p| p.0).collect();
    assert_eq!(lines, [2, 3, 4, 5, 6, 7, 9], "{problems:#?}");
    assert!(problems[0].1.starts_with("not valid JSON"));
    assert_eq!(problems[1].1, "missing `timestamp`");
    assert!(problems[2].1.starts_with("unknown category"));
    assert_eq!(r["problems"][2]["value"], "promotional");
    assert_eq!(
        r["problems"][2]["path"],
        "entry[0].changes[0].value.statuses[0].pricing.category"
    );
    assert_eq!(problems[4].1, "missing `id`");
    assert_eq!(problems[5].1, "not a boolean");
    // The good lines after the bad ones were read: M06 and M07 agree, M03 and M05 (whose pricing
    // could not be read) are not reported a second time.
    assert_eq!(r["messages"], serde_json::json!([]));
    assert_eq!(r["summary"]["messages"]["meta"], 4);
    assert_eq!(r["differences"], 7);
}

#[test]
fn webhooks_are_a_log_source_for_replay() {
    let acc = fixture("webhooks/accounts.toml");
    let replay = |args: &[&str]| {
        let d = tempfile::tempdir().unwrap();
        let rejects = d.path().join("rejects.csv");
        let mut a = vec![
            "replay",
            "--accounts",
            &acc,
            "--format",
            "json",
            "--rejects",
            path_str(&rejects),
        ];
        a.extend_from_slice(args);
        let o = wabill(&a);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let rejects = std::fs::read_to_string(&rejects).unwrap_or_default();
        (json_of(&o), rejects)
    };
    let (from_log, _) = replay(&[&fixture("webhooks/business.csv")]);
    let (from_webhooks, rejects) = replay(&[
        path_str(&wh_fixture("statuses.jsonl")),
        "--input-format",
        "webhooks",
    ]);
    assert_eq!(rejects, "");
    assert_eq!(from_webhooks["total"], from_log["total"]);
    assert_eq!(from_webhooks["lines"], from_log["lines"]);
    assert_eq!(from_webhooks["messages"]["outbound"], 13);
    assert_eq!(from_webhooks["messages"]["inbound"], 3);

    // Malformed lines become rejects naming the line; the rest is read.
    let (r, rejects) = replay(&[
        path_str(&wh_fixture("malformed.jsonl")),
        "--input-format",
        "webhooks",
    ]);
    for line in [2, 3, 4, 5, 6, 7, 9] {
        assert!(
            rejects.contains(&format!("line {line}: ")),
            "line {line}: {rejects}"
        );
    }
    assert_eq!(r["messages"]["inbound"], 1);
    assert_eq!(r["messages"]["outbound"], 2);
}

#[test]
fn webhooks_round_trip_through_replay_gives_the_same_bill() {
    let d = tempfile::tempdir().unwrap();
    let wh = d.path().join("wh.jsonl");
    let (log, acc) = (fixture("small.csv"), fixture("accounts.toml"));
    emit_webhooks(&log, &acc, &wh);
    let run = |args: &[&str]| {
        let mut a = vec![
            "replay",
            "--accounts",
            &acc,
            "--format",
            "json",
            "--rejects",
        ];
        let rej = d.path().join("r.csv");
        let rej = path_str(&rej).to_string();
        a.push(&rej);
        a.extend_from_slice(args);
        let o = wabill(&a);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        json_of(&o)
    };
    let a = run(&[&log]);
    let b = run(&[path_str(&wh), "--input-format", "webhooks"]);
    assert_eq!(a["total"], b["total"]);
    assert_eq!(a["lines"], b["lines"]);
}

#[test]
fn reconcile_table_names_the_message_and_exit_codes_follow_the_contract() {
    let d = tempfile::tempdir().unwrap();
    let text = edit_lines(
        &std::fs::read_to_string(wh_fixture("statuses.jsonl")).unwrap(),
        "wamid.P06",
        |v| status_of(v)["pricing"]["billable"] = false.into(),
    );
    let changed = d.path().join("t.jsonl");
    std::fs::write(&changed, text).unwrap();
    let args = [
        "reconcile",
        "--log",
        &fixture("webhooks/business.csv"),
        "--accounts",
        &fixture("webhooks/accounts.toml"),
        "--webhooks",
        path_str(&changed),
    ];
    let o = wabill(&args);
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(out.contains("wamid.P06"), "{out}");
    assert!(out.contains("billable: true ≠ false"), "{out}");
    assert!(out.contains("1 difference(s)"), "{out}");
    // A missing webhook file is an error (2), not a difference.
    let mut missing = args.to_vec();
    missing[6] = "no-such-file.jsonl";
    assert_eq!(wabill(&missing).status.code(), Some(2));
}

/// Issue 13: a `granularity: MONTHLY` pricing_analytics response (Meta's headline example, and
/// what finance pulls) is reconciled per month × country × category, not refused.
#[test]
fn monthly_pricing_analytics_reconcile_per_month() {
    let d = tempfile::tempdir().unwrap();
    let (log, acc) = (
        fixture("webhooks/business.csv"),
        fixture("webhooks/accounts.toml"),
    );
    // July 2025 in Asia/Kolkata (the WABA's time zone): 2025-07-01 00:00 to 2025-08-01 00:00.
    let month = |volume: u64, cost: &str| {
        let f = d.path().join(format!("monthly-{volume}.json"));
        std::fs::write(
            &f,
            format!(
                r#"{{"pricing_analytics": {{"granularity": "MONTHLY", "data": [{{"data_points": [{{"start": 1751308200, "end": 1753986600, "volume": {volume}, "cost": {cost}}}]}}]}}}}"#
            ),
        )
        .unwrap();
        f
    };
    let wh = wh_fixture("statuses.jsonl");
    let (code, r) = reconcile(
        &log,
        &acc,
        &wh,
        &["--analytics", path_str(&month(9, "0.2948"))],
    );
    assert_eq!(code, 0, "{r:#}");
    let a = &r["summary"]["analytics"][0];
    assert_eq!(
        a["days"],
        serde_json::json!(["2025-07-01", "2025-07-31"]),
        "{r:#}"
    );
    assert_eq!(
        (a["volume"]["wabill"].as_u64(), a["volume"]["meta"].as_u64()),
        (Some(9), Some(9))
    );
    assert_eq!(a["cost"]["meta"], "0.2948");
    assert!(r.to_string().contains("granularity MONTHLY"), "{r:#}");
    // A month whose volume differs is one difference, dated by the month's first day.
    let (code, r) = reconcile(
        &log,
        &acc,
        &wh,
        &["--analytics", path_str(&month(10, "0.2948"))],
    );
    assert_eq!(code, 1, "{r:#}");
    let row = &r["analytics"][0];
    assert_eq!(row["day"], "2025-07-01", "{r:#}");
    assert_eq!(row["meta_volume"], 10, "{r:#}");
    assert_eq!(row["wabill_volume"], 9, "{r:#}");
}

/// Issue 13: Meta's published example of a cbp-2024 service conversation says `billable: true`
/// where wabill says `false`; both price it at zero, so the flag is a note, not a difference. A
/// flag that differs on a charged unit (P06, marketing) stays a difference (see
/// `reconcile_table_names_the_message_and_exit_codes_follow_the_contract`).
#[test]
fn billable_flag_on_a_free_service_conversation_is_a_note_not_a_difference() {
    let d = tempfile::tempdir().unwrap();
    let text = edit_lines(
        &std::fs::read_to_string(wh_fixture("statuses.jsonl")).unwrap(),
        "wamid.C04",
        |v| status_of(v)["pricing"]["billable"] = true.into(),
    );
    let changed = d.path().join("t.jsonl");
    std::fs::write(&changed, text).unwrap();
    let (code, r) = reconcile(
        &fixture("webhooks/business.csv"),
        &fixture("webhooks/accounts.toml"),
        &changed,
        &[],
    );
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(r["differences"], 0, "{r:#}");
    assert!(
        r.to_string().contains(
            "message wamid.C04: billable false (wabill) ≠ true (Meta), but both price it at zero"
        ),
        "{r:#}"
    );
}
