//! The real binary, run as a user would: outputs, exit codes, rejects, determinism.

use super::common::{root, stderr, wabill, wabill_ok, wabill_with};
use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures").join(name)
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

fn replay_json(log: &Path, extra: &[&str], threads: &str) -> (serde_json::Value, String) {
    let mut args = vec!["replay", log.to_str().unwrap(), "--format", "json"];
    args.extend_from_slice(extra);
    let o = wabill_with(&args, threads);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = String::from_utf8(o.stdout).unwrap();
    (
        serde_json::from_str(&text).expect("one JSON object on stdout"),
        text,
    )
}

fn write_log(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    p
}

const HEADER: &str = "timestamp,direction,user,type,category,status\n";

#[test]
fn conv1_output_is_identical_whatever_the_thread_count_and_row_order() {
    let d = tmp();
    let acc = fixture("accounts.toml");
    let acc = acc.to_str().unwrap();
    let l1 = d.path().join("l1.csv");
    let l2 = d.path().join("l2.csv");
    let l3 = d.path().join("l3.csv");
    let (_, a) = replay_json(
        &fixture("small.csv"),
        &["--accounts", acc, "--ledger", l1.to_str().unwrap()],
        "1",
    );
    let (_, b) = replay_json(
        &fixture("small.csv"),
        &["--accounts", acc, "--ledger", l2.to_str().unwrap()],
        "2",
    );
    assert_eq!(a, b);
    assert_eq!(std::fs::read(&l1).unwrap(), std::fs::read(&l2).unwrap());
    // Reverse the rows (keeping rows with equal timestamps in file order): same bill.
    let text = std::fs::read_to_string(fixture("small.csv")).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    let header = lines.remove(0);
    let mut groups: Vec<Vec<&str>> = Vec::new();
    for l in lines {
        let ts = l.split(',').next().unwrap();
        match groups.last_mut() {
            Some(g) if g[0].split(',').next().unwrap() == ts => g.push(l),
            _ => groups.push(vec![l]),
        }
    }
    groups.reverse();
    let reversed = format!("{header}\n{}\n", groups.concat().join("\n"));
    let rev = write_log(d.path(), "reversed.csv", &reversed);
    let (mut jc, _) = replay_json(
        &rev,
        &["--accounts", acc, "--ledger", l3.to_str().unwrap()],
        "2",
    );
    // Same bill; issues name file rows, which moved (w019's invalid number: row 19 → 1).
    let mut ja: serde_json::Value = serde_json::from_str(&a).unwrap();
    for j in [&mut ja, &mut jc] {
        for i in j["issues"].as_array_mut().unwrap() {
            i["row"] = serde_json::Value::Null;
        }
    }
    assert_eq!(ja, jc);
    // The ledger differs only in the `row` column (file rows moved).
    let strip = |p: &Path| -> Vec<String> {
        std::fs::read_to_string(p)
            .unwrap()
            .lines()
            .map(|l| l.split_once(',').unwrap().1.to_string())
            .collect()
    };
    assert_eq!(strip(&l1), strip(&l3));
}

#[test]
fn total_equals_lines_and_ledger_prices() {
    use rust_decimal::Decimal;
    let d = tmp();
    let ledger = d.path().join("ledger.csv");
    let (j, _) = replay_json(
        &fixture("small.csv"),
        &[
            "--accounts",
            fixture("accounts.toml").to_str().unwrap(),
            "--ledger",
            ledger.to_str().unwrap(),
        ],
        "2",
    );
    let dec = |v: &serde_json::Value| -> Decimal { v.as_str().unwrap().parse().unwrap() };
    let total = dec(&j["total"]);
    let lines: Decimal = j["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| dec(&l["cost"]))
        .sum();
    let mut rdr = csv::Reader::from_path(&ledger).unwrap();
    let pi = rdr
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "price")
        .unwrap();
    let ledger_sum: Decimal = rdr
        .records()
        .map(|r| r.unwrap()[pi].parse::<Decimal>().unwrap())
        .sum();
    assert_eq!(total, lines);
    assert_eq!(total, ledger_sum);
    assert_eq!(total.to_string(), "0.2502");
}

#[test]
fn missing_file_is_exit_2() {
    let o = wabill_with(&["replay", "no/such/log.csv"], "1");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).starts_with("wabill: "), "{}", stderr(&o));
    assert!(stderr(&o).contains("no/such/log.csv"));
}

#[test]
fn empty_file_and_header_without_timestamp_are_exit_2() {
    let d = tmp();
    let empty = write_log(d.path(), "empty.csv", "");
    let o = wabill_with(&["replay", empty.to_str().unwrap()], "1");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("empty file"), "{}", stderr(&o));
    let only_header = write_log(d.path(), "header.csv", HEADER);
    let o = wabill_with(&["replay", only_header.to_str().unwrap()], "1");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no messages"), "{}", stderr(&o));
    let no_ts = write_log(
        d.path(),
        "nots.csv",
        "time,direction,user\n1,in,+919812345601\n",
    );
    let o = wabill_with(&["replay", no_ts.to_str().unwrap()], "1");
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("no `timestamp` column"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn bad_rows_are_rejected_with_row_column_and_value() {
    let d = tmp();
    let log = write_log(
        d.path(),
        "bad.csv",
        &format!(
            "{HEADER}\
2025-07-03T10:00:00Z,out,+919812345601,template,marketing,delivered
yesterday,out,+919812345601,template,marketing,delivered
2025-07-03T10:00:00Z,sideways,+919812345601,template,marketing,delivered
2025-07-03T10:00:00Z,out,+919812345601,template,,delivered
2025-07-03T10:00:00Z,out,+91-abc,template,marketing,delivered
"
        ),
    );
    let rejects = d.path().join("rejects.csv");
    let args = [
        "replay",
        log.to_str().unwrap(),
        "--format",
        "json",
        "--rejects",
        rejects.to_str().unwrap(),
    ];
    let o = wabill_with(&args, "1");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["messages"]["rejected"], 4);
    assert_eq!(j["total"], "0.0107");
    let err = stderr(&o);
    for want in [
        "row 2, column `timestamp`, value `yesterday`",
        "row 3, column `direction`, value `sideways`",
        "row 4, column `category`, value ``: template without category",
        "row 5, column `user`, value `+91-abc`",
    ] {
        assert!(err.contains(want), "missing `{want}` in {err}");
    }
    let kept = std::fs::read_to_string(&rejects).unwrap();
    assert_eq!(kept.lines().count(), 5, "{kept}");
    assert!(kept.contains("yesterday,out,+919812345601"));
    let mut strict = args.to_vec();
    strict.push("--strict");
    assert_eq!(wabill_with(&strict, "1").status.code(), Some(1));
}

#[test]
fn rate4_missing_rate_names_market_category_and_date() {
    let d = tmp();
    // Saudi Arabia has no known utility rate on the 2025-07-01 card.
    let log = write_log(
        d.path(),
        "sa.csv",
        &format!("{HEADER}2025-07-03T10:00:00Z,out,+966501234567,template,utility,delivered\n"),
    );
    let o = wabill_with(&["replay", log.to_str().unwrap()], "1");
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("no rate for market `Saudi Arabia`, category `utility` on 2025-07-03"),
        "{err}"
    );
    assert!(err.contains("RATE-4"));
}

#[test]
fn conv6_mixed_currencies_stop_before_reading() {
    let d = tmp();
    let acc = write_log(
        d.path(),
        "acc.toml",
        "[[waba]]\nid='a'\ncurrency='USD'\n[[waba]]\nid='b'\ncurrency='EUR'\n",
    );
    let o = wabill_with(
        &["replay", "no/such.csv", "--accounts", acc.to_str().unwrap()],
        "1",
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("a (USD), b (EUR)"), "{}", stderr(&o));
}

#[test]
fn rate2_meta_files_import_and_replay_against_them() {
    let d = tmp();
    let rates = d.path().join("rates");
    std::fs::create_dir_all(&rates).unwrap();
    std::fs::copy(
        root().join("rates/market_map.csv"),
        rates.join("market_map.csv"),
    )
    .unwrap();
    let meta = fixture("meta-layout/USD-2026-10-01");
    let o = wabill_with(
        &[
            "rates",
            "import",
            meta.join("Pricing.csv").to_str().unwrap(),
            meta.join("Tier Pricing.csv").to_str().unwrap(),
            "--currency",
            "USD",
            "--effective",
            "2026-10-01",
            "--rates",
            rates.to_str().unwrap(),
        ],
        "1",
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("imported 47 market(s) and 1 tier table(s)")
    );
    // Importing again replaces the card only with --replace (and, as the card has a tier
    // table, with its Tier Pricing.csv too: issue 19), with a notice.
    let again = wabill_with(
        &[
            "rates",
            "import",
            meta.join("Pricing.csv").to_str().unwrap(),
            meta.join("Tier Pricing.csv").to_str().unwrap(),
            "--currency",
            "usd",
            "--effective",
            "2026-10-01",
            "--rates",
            rates.to_str().unwrap(),
            "--replace",
        ],
        "1",
    );
    assert!(
        stderr(&again).contains("replaced the existing card"),
        "{}",
        stderr(&again)
    );
    let log = write_log(
        d.path(),
        "k.csv",
        &format!("{HEADER}2026-10-05T10:00:00Z,out,+77012345678,template,marketing,delivered\n"),
    );
    let (j, _) = replay_json(&log, &["--rates", rates.to_str().unwrap()], "1");
    // MKT-1/MKT-2: +7 7xx is Kazakhstan, its own market from 2026-10-01.
    assert_eq!(j["lines"][0]["market"], "Kazakhstan");
    assert_eq!(j["total"], "0.0604");
}

#[test]
fn jsonl_and_forced_rulebook() {
    let d = tmp();
    let log = write_log(
        d.path(),
        "l.jsonl",
        r#"{"timestamp":"2025-07-03T10:00:00Z","direction":"in","user":"+919812345601"}
{"timestamp":1751540400,"direction":"out","user":"+919812345601","type":"text"}
{"timestamp":"2025-07-03T16:30:00+05:30","direction":"out","user":"+919812345601","type":"template","category":"utility"}
"#,
    );
    let (j, _) = replay_json(&log, &[], "1");
    assert_eq!(j["total"], "0.0000");
    assert_eq!(j["messages"]["rows"], 3);
    // pmp-2026 on the same traffic: service and in-window utility charged (PMP-5) — but the
    // first 1,000 service messages of the month are free.
    let (j, _) = replay_json(&log, &["--rulebook", "pmp-2026"], "1");
    assert_eq!(j["rulebook"], "pmp-2026");
    assert_eq!(j["total"], "0.0014");
}

/// The README's command for the shipped sample, writing to `out` (format by extension).
fn synth_sample(out: &Path) {
    let o = wabill_with(
        &[
            "synth",
            "data/scenarios/sample.toml",
            "--seed",
            "7",
            "--out",
            out.to_str().unwrap(),
        ],
        "2",
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn fast_reader_matches_the_plain_reader_and_parquet() {
    let d = tmp();
    let acc = root().join("data/accounts.toml");
    let sample = root().join("data/sample.csv");
    let run = |log: &Path, ledger: &Path, plain: bool| -> Vec<u8> {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_wabill"));
        cmd.args([
            "replay",
            log.to_str().unwrap(),
            "--accounts",
            acc.to_str().unwrap(),
            "--format",
            "json",
            "--ledger",
            ledger.to_str().unwrap(),
        ])
        .current_dir(root());
        if plain {
            cmd.env("WABILL_PLAIN_READER", "1");
        }
        let o = cmd.output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        o.stdout
    };
    let (l1, l2, l3) = (
        d.path().join("fast.csv"),
        d.path().join("plain.csv"),
        d.path().join("pq.csv"),
    );
    let fast = run(&sample, &l1, false);
    let plain = run(&sample, &l2, true);
    assert_eq!(fast, plain);
    assert_eq!(std::fs::read(&l1).unwrap(), std::fs::read(&l2).unwrap());
    // The same log as Parquet (written by `wabill synth`) bills identically.
    let pq = d.path().join("sample.parquet");
    synth_sample(&pq);
    let from_parquet = run(&pq, &l3, false);
    assert_eq!(
        String::from_utf8(fast).unwrap(),
        String::from_utf8(from_parquet).unwrap()
    );
    assert_eq!(std::fs::read(&l1).unwrap(), std::fs::read(&l3).unwrap());
}

#[test]
fn synth_same_seed_same_bytes_and_sample_is_reproducible() {
    let d = tmp();
    let a = d.path().join("a.csv");
    synth_sample(&a);
    // The shipped sample is exactly what the documented command produces.
    assert_eq!(
        std::fs::read(&a).unwrap(),
        std::fs::read(root().join("data/sample.csv")).unwrap()
    );
}

#[test]
fn mkt3_an_explicit_country_overrides_the_number() {
    let d = tmp();
    let log = write_log(
        d.path(),
        "c.csv",
        "timestamp,direction,user,type,category,status,country\n\
2025-07-03T10:00:00Z,out,+919812345601,template,marketing,delivered,BR\n\
2025-07-03T10:00:00Z,out,+919812345602,template,marketing,delivered,\n",
    );
    let (j, _) = replay_json(&log, &[], "1");
    let markets: Vec<&str> = j["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["market"].as_str().unwrap())
        .collect();
    assert_eq!(markets, ["Brazil", "India"]);
    assert_eq!(j["total"], "0.0732"); // 0.0625 (Brazil) + 0.0107 (India)
}

#[test]
fn rates_at_prices_old_traffic_with_the_card_of_another_date() {
    // A 2025 utility template outside the window: 0.0040 on the 2025-07-01 card for North
    // America, 0.0034 on the 2026-10-01 card (RATE-1 by message date unless --rates-at).
    let d = tmp();
    let log = write_log(
        d.path(),
        "na.csv",
        &format!("{HEADER}2025-08-03T10:00:00Z,out,+12025550123,template,utility,delivered\n"),
    );
    let (j, _) = replay_json(&log, &[], "1");
    assert_eq!(j["total"], "0.0040");
    let (j, _) = replay_json(
        &log,
        &["--rulebook", "pmp-2026", "--rates-at", "2026-10-01"],
        "1",
    );
    assert_eq!(j["total"], "0.0034");
    assert_eq!(j["lines"][0]["rulebook"], "pmp-2026");
}

#[test]
fn pmp4_shipped_egypt_tiers_are_graduated_end_to_end() {
    // 100,002 utility templates to Egypt in July 2026 (no window open): the first 100,000 pay
    // the list band (0.0036), the next two tier 1 (0.0034), per the shipped 2026-07-01 tiers.
    let d = tmp();
    let mut body = String::from(HEADER);
    for i in 0..100_002u64 {
        let ts = 1_783_036_800 + i; // 2026-07-03T00:00:00Z + i seconds
        body.push_str(&format!(
            "{ts},out,+2010{:08},template,utility,delivered\n",
            10_000_000 + i % 50_000
        ));
    }
    let log = write_log(d.path(), "eg.csv", &body);
    let (j, _) = replay_json(&log, &[], "2");
    assert_eq!(j["lines"][0]["market"], "Egypt");
    assert_eq!(j["lines"][0]["charged"], 100_002);
    assert_eq!(j["total"], "360.0068");
}

/// `wabill explain`: a rule by id in the specification's words with its worked example, and the
/// story of one message of a log (its rule, window and rate card), of an inbound row and of a
/// rejected row.
#[test]
fn explain_a_rule_and_a_row() {
    let out = wabill_ok(&["explain", "pmp-3"]);
    assert!(
        out.starts_with("PMP-3 — 3. Per-message pricing (PMP)"),
        "{out}"
    );
    assert!(out.contains("EX-5 PMP free entry point"), "{out}");
    let o = wabill(&["explain", "XYZ-1"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no rule `XYZ-1`"));
    let row = |n: &str| {
        wabill_ok(&[
            "explain",
            "--row",
            n,
            "data/sample.csv",
            "--accounts",
            "data/accounts.toml",
        ])
    };
    let charged = row("1302");
    for want in [
        "market       Mexico",
        "charged USD 0.0085 at the authentication rate for Mexico (2025-07)",
        "rule PMP-1: Each delivered template is one charge",
        "priced from the USD rate card of 2025-07-01",
    ] {
        assert!(charged.contains(want), "missing {want:?} in:\n{charged}");
    }
    let intl = row("121");
    assert!(
        intl.contains("rule PMP-6: Authentication-international"),
        "{intl}"
    );
    assert!(row("1").contains("the user's message at 2025-04-30T18:36:38Z"));
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.csv");
    std::fs::write(&log, "timestamp,direction,user,type\n2026-11-03T10:00:00Z,in,+919812345601,text\nyesterday,in,+919812345601,text\n").unwrap();
    let out = wabill_ok(&["explain", "--row", "2", log.to_str().unwrap()]);
    assert!(
        out.contains("rejected, not billed")
            && out.contains("column `timestamp`, value `yesterday`"),
        "{out}"
    );
    let o = wabill(&["explain", "--row", "9", log.to_str().unwrap()]);
    assert!(stderr(&o).contains("has no row 9"), "{}", stderr(&o));
}

/// `wabill --version` names the rates folder in use and the newest card per currency.
#[test]
fn version_lists_the_newest_card_per_currency() {
    let out = wabill_ok(&["--version"]);
    assert!(out.starts_with("wabill "), "{out}");
    assert!(
        out.contains("rates: ") && out.contains("newest USD card: 2026-10-01"),
        "{out}"
    );
}

/// RATE-4 under a forced rulebook: the error also suggests `--rates-at` (the forced rulebook's
/// categories may be missing from the cards of the log's dates), and `--rates-at` prices it.
#[test]
fn rate4_under_a_forced_rulebook_suggests_rates_at() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.csv");
    let mut text = String::from("timestamp,direction,user,type,category,status\n");
    for i in 0..1002 {
        text.push_str(&format!(
            "2026-11-03T10:00:00Z,out,+551198{i:07},template,utility,delivered\n"
        ));
    }
    std::fs::write(&log, text).unwrap();
    let rejects = dir.path().join("r.csv");
    let args = |extra: &[&str]| {
        let mut a = vec![
            "replay",
            log.to_str().unwrap(),
            "--rulebook",
            "cbp-2022",
            "--rejects",
            rejects.to_str().unwrap(),
        ];
        a.extend_from_slice(extra);
        wabill(&a)
    };
    let o = args(&[]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("category `business_initiated`") && err.contains("`--rates-at DATE`"),
        "{err}"
    );
    assert!(err.contains("market `Brazil`"), "{err}");
    let o = args(&["--rates-at", "2022-06-01"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}
