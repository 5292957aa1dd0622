//! The fast paths against the plain one: the parallel CSV reader and the partitioned
//! replay give the same breakdown, rejects, issues and ledger as the csv crate read row by row,
//! whatever the number of partitions, on generated logs with duplicate ids, rejected rows and
//! numbers without a country.

use std::path::Path;

use proptest::prelude::*;

use wabill::billing::types::Rulebook;
use wabill::io::log::{read_log, read_log_plain, LogFormat, ReadOptions, Reject};
use wabill::replay::partitioned::{replay_partitioned, Request};
use wabill::report::breakdown;
use wabill_testing::*;

use crate::common::{root, stderr, wabill, wabill_ok};

type Outcome = Result<(String, Vec<Reject>), String>;

type Ledger = Option<Vec<u8>>;

/// The in-memory replay's JSON and rejects, and its ledger (CSV bytes).
fn in_memory(
    path: &Path,
    log: &TestLog,
    forced: Option<Rulebook>,
    plain: bool,
) -> (Outcome, Ledger) {
    let read = if plain {
        read_log_plain(path, &log.accounts, &log.markets, forced.is_none())
    } else {
        let read = ReadOptions {
            auto_rulebook: forced.is_none(),
            ..ReadOptions::default()
        };
        let format = LogFormat::from_path(path);
        read_log(path, format, &log.accounts, &log.markets, &read, &|_| {})
    };
    let read = match read {
        Ok(r) => r,
        Err(e) => return (Err(e.to_string()), None),
    };
    let (r, summary) = match wabill::replay::memory::replay(&read, &log.context(forced)) {
        Ok(r) => r,
        Err(e) => return (Err(e.to_string()), None),
    };
    let json = breakdown::json(&summary, &log.accounts, forced, Vec::new()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger.csv");
    wabill::replay::ledger::write(&ledger, &read, &r, &log.markets, &log.accounts).unwrap();
    (
        Ok((serde_json::to_string_pretty(&json).unwrap(), read.rejects)),
        Some(std::fs::read(&ledger).unwrap()),
    )
}

/// The partitioned replay's JSON and rejects, and its ledger (CSV bytes) when it succeeds.
fn partitioned(
    path: &Path,
    log: &TestLog,
    forced: Option<Rulebook>,
    parts: usize,
) -> (Outcome, Ledger) {
    let spill = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let ledger = out.path().join("ledger.csv");
    let p = match replay_partitioned(
        &Request {
            path,
            format: LogFormat::Csv,
            accounts: &log.accounts,
            parts,
            spill: spill.path(),
            ledger: Some(&ledger),
            progress: &|_, _, _| {},
            read: ReadOptions::default(),
        },
        &log.context(forced),
    ) {
        Ok(p) => p,
        Err(e) => return (Err(e.to_string()), None),
    };
    let json = breakdown::json(&p, &log.accounts, forced, Vec::new()).unwrap();
    // The spill folder is gone once the replay returns.
    assert_eq!(std::fs::read_dir(spill.path()).unwrap().count(), 0);
    (
        Ok((serde_json::to_string_pretty(&json).unwrap(), p.rejects)),
        Some(std::fs::read(&ledger).unwrap()),
    )
}

/// The generated log as CSV with an `id` column (some ids repeated, some empty), some rows
/// without an explicit country (resolved from the number), an unreadable row and a row whose
/// number has no country that repeats the first row's id.
fn messy_csv(log: &TestLog, salt: usize) -> String {
    let csv = log.to_csv();
    let mut lines = csv.lines();
    let mut out = format!("{},id\n", lines.next().unwrap());
    for (k, line) in lines.enumerate() {
        let k = k + 1;
        let mut cells: Vec<String> = line.split(',').map(String::from).collect();
        if (k + salt).is_multiple_of(3) {
            cells[9].clear();
        }
        let id = match (k + salt) % 7 {
            0 => String::new(),
            1 | 4 => format!("wamid.{}", k / 2),
            _ => format!("wamid.{k}"),
        };
        out.push_str(&format!("{},{id}\n", cells.join(",")));
        if k == 1 {
            let mut bad = cells.clone();
            bad[2] = "+99912345678".into();
            bad[9].clear();
            out.push_str(&format!("{},{id}\n", bad.join(",")));
            out.push_str("yesterday,in,+5511999999999,,,,,,,,wamid.x\n");
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
    #[test]
    /// The three readers on one generated log: the plain path (csv crate, row by row), the
    /// fast parallel reader and the partitioned replay give the same JSON, rejects and ledger,
    /// byte for byte.
    fn fast_and_partitioned_replays_equal_the_plain_path(
        log in arb_log(LogSpec::default()),
        forced in arb_rulebook(),
        parts in 1usize..5,
        salt in 0usize..7,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.csv");
        std::fs::write(&path, messy_csv(&log, salt)).unwrap();
        let (plain, plain_ledger) = in_memory(&path, &log, forced, true);
        let (fast, fast_ledger) = in_memory(&path, &log, forced, false);
        prop_assert_eq!(&plain, &fast);
        prop_assert_eq!(&plain_ledger, &fast_ledger);
        let (got, got_ledger) = partitioned(&path, &log, forced, parts);
        prop_assert_eq!(plain, got);
        prop_assert_eq!(plain_ledger, got_ledger);
    }
}

#[test]
fn cli_partitions_give_the_same_breakdown_and_rejects() {
    let d = tempfile::tempdir().unwrap();
    let log = d.path().join("log.csv");
    // The sample with a duplicated row and an unreadable one.
    let sample = std::fs::read_to_string(root().join("data/sample.csv")).unwrap();
    let second = sample.lines().nth(2).unwrap();
    std::fs::write(&log, format!("{sample}{second}\nnot,a,row\n")).unwrap();
    let run = |extra: &[&str], rejects: &Path| {
        let mut args = vec![
            "replay",
            log.to_str().unwrap(),
            "--accounts",
            "data/accounts-bsp.toml",
            "--format",
            "json",
            "--rejects",
            rejects.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let o = wabill(&args);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        (o.stdout, std::fs::read(rejects).unwrap())
    };
    let memory = run(&[], &d.path().join("a.csv"));
    let parts = run(&["--partitions", "3"], &d.path().join("b.csv"));
    assert_eq!(
        String::from_utf8(memory.0).unwrap(),
        String::from_utf8(parts.0).unwrap()
    );
    assert_eq!(memory.1, parts.1);
    assert_eq!(String::from_utf8_lossy(&parts.1).lines().count(), 3);
    // The report needs every message's outcome in memory.
    let o = wabill(&[
        "replay",
        log.to_str().unwrap(),
        "--partitions",
        "2",
        "--report",
        d.path().join("r").to_str().unwrap(),
    ]);
    assert_ne!(o.status.code(), Some(0));
    assert!(
        stderr(&o).contains("--report and --emit-webhooks need"),
        "{}",
        stderr(&o)
    );
}

/// Counters that span chats (CBP-7 free tier: the month's first 1,000 service conversations;
/// PMP-4 tiers; PMP-5) decide *which* units are free, so the partitions' units must be priced
/// in one CONV-1 order: a cbp-2023 month with about 2,000 service conversations in 8 markets
/// shows it (which markets' conversations are the free ones).
#[test]
fn cli_partitions_keep_the_global_order_of_counters() {
    let d = tempfile::tempdir().unwrap();
    let scenario = d.path().join("cbp.toml");
    let text = std::fs::read_to_string(root().join("data/scenarios/support.toml"))
        .unwrap()
        .replace("start = 2025-05-01", "start = 2024-03-01")
        .replace("end = 2025-09-30", "end = 2024-03-31");
    std::fs::write(&scenario, text).unwrap();
    let log = d.path().join("support.csv");
    let o = wabill(&[
        "synth",
        scenario.to_str().unwrap(),
        "--rows",
        "20000",
        "--seed",
        "3",
        "--out",
        log.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let run = |extra: &[&str]| {
        // The 2023-06 reference card lacks these markets: price at the 2024-11 card.
        let mut args = vec![
            "replay",
            log.to_str().unwrap(),
            "--format",
            "json",
            "--rates-at",
            "2024-11-01",
        ];
        args.extend_from_slice(extra);
        wabill_ok(&args)
    };
    let memory = run(&[]);
    let json: serde_json::Value = serde_json::from_str(&memory).unwrap();
    let split = json["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["category"] == "service" && l["charged"] != 0 && l["free"] != 0)
        .count();
    assert!(
        split >= 2,
        "the CBP-7 free tier must end inside the month: {memory}"
    );
    for parts in ["2", "5"] {
        assert_eq!(memory, run(&["--partitions", parts]), "{parts} partitions");
    }
    // RATE-4: at the message dates' own card the same missing rates (first date in CONV-1
    // order, message counts) are named either way.
    let missing = |extra: &[&str]| {
        let mut args = vec!["replay", log.to_str().unwrap()];
        args.extend_from_slice(extra);
        let o = wabill(&args);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        stderr(&o)
            .lines()
            .filter(|l| l.contains("RATE-4"))
            .map(String::from)
            .collect::<Vec<_>>()
    };
    let want = missing(&["--partitions", "0"]);
    assert!(want.len() > 3, "{want:?}");
    assert_eq!(want, missing(&["--partitions", "3"]));
}

/// PMP-5 (pmp-2026): the month's first 1,000 otherwise-charged service messages per business
/// number are free, across all its chats: where the allowance runs out inside the month, the
/// partitions' units must again be counted in one CONV-1 order, and the ledger (CSV and
/// Parquet) must name the same free and charged messages.
#[test]
fn cli_partitions_keep_the_service_allowance_exact() {
    let d = tempfile::tempdir().unwrap();
    let log = d.path().join("support-2026.csv");
    let log = log.to_str().unwrap();
    wabill_ok(&[
        "synth",
        "data/scenarios/support-2026.toml",
        "--rows",
        "40000",
        "--seed",
        "3",
        "--out",
        log,
    ]);
    let ledger = |name: &str| d.path().join(name).to_str().unwrap().to_string();
    let run = |parts: &str, out: &str| {
        wabill_ok(&[
            "replay",
            log,
            "--format",
            "csv",
            "--partitions",
            parts,
            "--ledger",
            &ledger(out),
        ])
    };
    let memory = run("0", "memory.csv");
    let split = memory
        .lines()
        .filter(|l| {
            let f: Vec<&str> = l.split(',').collect();
            f[3] == "service" && f[4] == "pmp-2026" && f[5] != "0" && f[6] != "0"
        })
        .count();
    assert!(
        split >= 2,
        "the PMP-5 allowance must end inside a month: {memory}"
    );
    let want = std::fs::read(ledger("memory.csv")).unwrap();
    for parts in ["3", "8"] {
        assert_eq!(memory, run(parts, "parts.csv"), "{parts} partitions");
        // Which units the allowance made free, message by message.
        assert!(
            want == std::fs::read(ledger("parts.csv")).unwrap(),
            "ledger, {parts} partitions"
        );
    }
    // A Parquet ledger holds the same table.
    use polars::prelude::*;
    let frame = |name: &str| {
        ParquetReader::new(std::fs::File::open(ledger(name)).unwrap())
            .finish()
            .unwrap()
    };
    run("0", "memory.parquet");
    run("3", "parts.parquet");
    let (a, b) = (frame("memory.parquet"), frame("parts.parquet"));
    assert!(a.height() > 20_000, "{}", a.height());
    assert!(a.equals(&b), "{a:?}\n{b:?}");
}

/// `compare --log` reads a large log once in partitions and prices it under every rulebook:
/// the same comparison as in memory.
#[test]
fn cli_compare_partitioned_equals_in_memory() {
    let run = |parts: &str| {
        wabill_ok(&[
            "compare",
            "--log",
            "data/sample.csv",
            "--accounts",
            "data/accounts-bsp.toml",
            "--rulebook",
            "auto,cbp-2024,pmp-2025",
            "--format",
            "json",
            "--partitions",
            parts,
        ])
    };
    let memory = run("0");
    assert!(memory.contains("pmp-2025"), "{memory}");
    assert_eq!(memory, run("3"));
}

/// Parquet logs are read in slices of row groups, row group by row group: many small row
/// groups, with string or Parquet-timestamp instants (whose column is rebuilt in one chunk, so
/// chunks no longer line up), bill as the CSV does, in memory and partitioned.
#[test]
fn parquet_row_groups_read_as_the_csv() {
    use polars::prelude::*;
    let d = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root().join("data/sample.csv")).unwrap();
    let csv_path = d.path().join("log.csv");
    std::fs::write(&csv_path, &text).unwrap();
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let names: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    let mut cols: Vec<Vec<String>> = vec![Vec::new(); names.len()];
    for rec in rdr.records() {
        for (c, v) in cols.iter_mut().zip(rec.unwrap().iter()) {
            c.push(v.to_string());
        }
    }
    let height = cols[0].len();
    let write = |path: &Path, timestamps: Column| {
        let mut columns = vec![timestamps];
        for (n, v) in names.iter().zip(&cols).skip(1) {
            columns.push(Column::new(n.as_str().into(), v));
        }
        let mut df = DataFrame::new(height, columns).unwrap();
        ParquetWriter::new(std::fs::File::create(path).unwrap())
            .with_row_group_size(Some(97))
            .finish(&mut df)
            .unwrap();
    };
    let strings = d.path().join("strings.parquet");
    write(&strings, Column::new("timestamp".into(), &cols[0]));
    let micros: Vec<i64> = cols[0]
        .iter()
        .map(|t| {
            chrono::DateTime::parse_from_rfc3339(t)
                .unwrap()
                .timestamp_micros()
        })
        .collect();
    let typed = d.path().join("typed.parquet");
    write(
        &typed,
        Column::new("timestamp".into(), micros)
            .cast(&DataType::Datetime(TimeUnit::Microseconds, None))
            .unwrap(),
    );
    let run = |log: &Path, parts: &str| {
        wabill_ok(&[
            "replay",
            log.to_str().unwrap(),
            "--accounts",
            "data/accounts.toml",
            "--format",
            "json",
            "--partitions",
            parts,
        ])
    };
    let want = run(&csv_path, "0");
    for log in [&strings, &typed] {
        for parts in ["0", "3"] {
            assert_eq!(
                want,
                run(log, parts),
                "{} with {parts} partitions",
                log.display()
            );
        }
    }
}
