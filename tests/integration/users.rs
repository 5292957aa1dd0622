//! MKT-4: users known by a business-scoped user id (BSUID), alone or beside their number.
//!
//! The example tests run the command line on small logs (in memory and partitioned, which must
//! agree byte for byte); the property rewrites generated logs so that each user appears by
//! number, by BSUID or by both, and checks that the bill does not change: one person is one
//! user whichever form a row uses.

use proptest::prelude::*;

use wabill::billing::engine::{self, Context};
use wabill::io::log::{read_log, LogFormat, ReadOptions};
use wabill_testing::{arb_log, LogSpec, TestLog};

use super::common::{stderr, wabill};

/// Writes `files` into a fresh folder.
fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

/// `replay` of `log` in `dir` as JSON with a ledger, in memory and with 3 partitions; both
/// must give the same bytes. Returns (JSON, ledger, stderr).
fn replay_both(dir: &std::path::Path, log: &str) -> (String, String, String) {
    let run = |parts: &str, ledger: &str| {
        let o = wabill(&[
            "replay",
            dir.join(log).to_str().unwrap(),
            "--format",
            "json",
            "--partitions",
            parts,
            "--ledger",
            dir.join(ledger).to_str().unwrap(),
        ]);
        assert!(o.status.code().unwrap_or(9) <= 1, "{}", stderr(&o));
        let ledger = std::fs::read_to_string(dir.join(ledger)).unwrap();
        let err = stderr(&o);
        (String::from_utf8(o.stdout).unwrap(), ledger, err)
    };
    let (json, ledger, err) = run("0", "mem.csv");
    let (pjson, pledger, _) = run("3", "part.csv");
    assert_eq!(json, pjson, "partitioned JSON differs");
    assert_eq!(ledger, pledger, "partitioned ledger differs");
    (json, ledger, err)
}

/// The ledger's rows as `(row, user, market, reason, price)`.
fn ledger_rows(ledger: &str) -> Vec<[String; 5]> {
    let mut lines = ledger.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |n: &str| header.iter().position(|h| *h == n).unwrap();
    let c = [
        col("row"),
        col("user"),
        col("market"),
        col("reason"),
        col("price"),
    ];
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            c.map(|i| f[i].to_string())
        })
        .collect()
}

fn row<'a>(rows: &'a [[String; 5]], n: &str) -> &'a [String; 5] {
    rows.iter().find(|r| r[0] == n).expect("row in the ledger")
}

#[test]
fn mkt4_a_bsuid_only_user_is_billed_at_its_prefix_country_unless_the_row_names_one() {
    let dir = folder(&[(
        "log.csv",
        "timestamp,direction,user,type,category,status,country\n\
         2026-11-04T10:00:00Z,out,US.13491208655302741918,template,marketing,delivered,\n\
         2026-11-04T10:00:00Z,out,BR.ENT.77,template,marketing,delivered,\n\
         2026-11-04T10:00:00Z,out,US.55,template,marketing,delivered,IN\n",
    )]);
    let (_, ledger, _) = replay_both(dir.path(), "log.csv");
    let rows = ledger_rows(&ledger);
    assert_eq!(
        row(&rows, "1")[1..3],
        ["US.13491208655302741918", "North America"]
    );
    assert_eq!(row(&rows, "2")[1..3], ["BR.ENT.77", "Brazil"]);
    // MKT-3: the explicit country wins over the prefix.
    assert_eq!(row(&rows, "3")[1..3], ["US.55", "India"]);
}

#[test]
fn mkt4_a_row_giving_both_links_the_number_and_the_bsuid_into_one_user() {
    // The user writes by number; the business answers the BSUID (no number on the row); a
    // later row gives both. All three are one user: the reply is inside the window (free).
    let dir = folder(&[(
        "log.csv",
        "timestamp,direction,user,user_id,type,category,status\n\
         2026-11-03T10:00:00Z,in,+919812345601,,text,,\n\
         2026-11-03T10:05:00Z,out,IN.1111,,text,,delivered\n\
         2026-11-05T09:00:00Z,out,+919812345601,IN.1111,template,utility,delivered\n\
         2026-11-05T09:30:00Z,out,+919812345601,,template,utility,delivered\n",
    )]);
    let (json, ledger, _) = replay_both(dir.path(), "log.csv");
    let rows = ledger_rows(&ledger);
    // The service reply counts as inside the window (no outside-csw issue): same chat.
    assert!(!json.contains("outside-csw"), "{json}");
    assert_eq!(row(&rows, "2")[1..3], ["IN.1111", "India"]);
    assert_ne!(row(&rows, "2")[3], "charged");
    // Rows that give the number take its country (MKT-1) and belong to the BSUID's user.
    assert_eq!(row(&rows, "3")[1..3], ["IN.1111", "India"]);
    assert_eq!(row(&rows, "4")[1], "IN.1111");
}

#[test]
fn mkt4_a_number_linked_to_several_bsuids_follows_the_first_link_in_conv1_order() {
    // Row 2 links the number to IN.B2 first in the file, row 3 to IN.B1 earlier in time: the
    // number-only rows belong to IN.B1 (CONV-1: instant, then row).
    let dir = folder(&[(
        "log.csv",
        "timestamp,direction,user,user_id,type,category,status\n\
         2026-11-10T10:00:00Z,in,+919812345601,,text,,\n\
         2026-11-10T12:00:00Z,out,+919812345601,IN.B2,template,utility,delivered\n\
         2026-11-10T08:00:00Z,out,+919812345601,IN.B1,template,utility,delivered\n\
         2026-11-10T10:10:00Z,out,IN.B1,,text,,delivered\n\
         2026-11-10T10:20:00Z,out,IN.B2,,text,,delivered\n",
    )]);
    let (_, ledger, err) = replay_both(dir.path(), "log.csv");
    let rows = ledger_rows(&ledger);
    assert_eq!(row(&rows, "3")[1], "IN.B1");
    assert_eq!(row(&rows, "2")[1], "IN.B2");
    // IN.B1's reply is inside the window the number's inbound opened; IN.B2's is not (CONV-4:
    // delivered anyway, so reported and billed as if the window were open).
    assert!(err.contains("outside-csw (CONV-4) at row 5"), "{err}");
    assert!(!err.contains("at row 4"), "{err}");
}

#[test]
fn mkt4_bad_bsuids_and_a_user_id_naming_another_bsuid_are_rejects() {
    let dir = folder(&[(
        "log.csv",
        "timestamp,direction,user,user_id,type,category,status\n\
         2026-11-04T10:00:00Z,out,ZZ.1,,template,marketing,delivered\n\
         2026-11-04T10:00:00Z,out,us.1,,template,marketing,delivered\n\
         2026-11-04T10:00:00Z,out,US.1,US.2,template,marketing,delivered\n\
         2026-11-04T10:00:00Z,out,+919812345601,919812345601,template,marketing,delivered\n\
         2026-11-04T10:00:00Z,out,US.1,US.1,template,marketing,delivered\n",
    )]);
    let rejects = dir.path().join("rejects.csv");
    let o = wabill(&[
        "replay",
        dir.path().join("log.csv").to_str().unwrap(),
        "--rejects",
        rejects.to_str().unwrap(),
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    for (r, col) in [(1, "user"), (2, "user"), (3, "user_id"), (4, "user_id")] {
        assert!(
            err.contains(&format!("row {r}, column `{col}`")),
            "row {r}: {err}"
        );
    }
    assert!(
        !err.contains("row 5,"),
        "a user_id equal to the BSUID is fine: {err}"
    );
    let rejects = std::fs::read_to_string(rejects).unwrap();
    assert_eq!(rejects.lines().count(), 5, "{rejects}");
}

#[test]
fn mkt4_webhooks_with_bsuid_only_users_are_read() {
    let dir = folder(&[]);
    let fixture = super::common::root().join("tests/fixtures/webhooks/bsuid-2026.jsonl");
    let o = wabill(&[
        "replay",
        fixture.to_str().unwrap(),
        "--input-format",
        "webhooks",
        "--ledger",
        dir.path().join("l.csv").to_str().unwrap(),
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(!err.contains("rejected"), "{err}");
    let rows = ledger_rows(&std::fs::read_to_string(dir.path().join("l.csv")).unwrap());
    let users: Vec<&str> = rows.iter().map(|r| r[1].as_str()).collect();
    // The BSUID-only reply shares the chat of the inbound that gave number and BSUID.
    assert!(users.contains(&"US.13491208655302741918"), "{users:?}");
    assert!(users.iter().all(|u| !u.starts_with('+')), "{users:?}");
    assert!(!err.contains("outside-csw"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// The property: number, BSUID or both, one bill
// ---------------------------------------------------------------------------------------------

/// The log's CSV with each user's rows rewritten by `forms` (0 number, 1 BSUID, 2 both; the
/// first row of each user gives both, so that every form links to the same person). The
/// BSUID is the row's country, a dot and the number's digits.
fn rewritten(log: &TestLog, forms: &[u8]) -> String {
    let csv = log.to_csv();
    let mut lines = csv.lines();
    let header = lines.next().unwrap();
    let cols: Vec<&str> = header.split(',').collect();
    let (u, c) = (
        cols.iter().position(|h| *h == "user").unwrap(),
        cols.iter().position(|h| *h == "country").unwrap(),
    );
    let mut out = format!("{header},user_id\n");
    let mut seen = std::collections::HashSet::new();
    for (i, line) in lines.enumerate() {
        let mut f: Vec<String> = line.split(',').map(str::to_string).collect();
        let number = f[u].clone();
        let bsuid = format!("{}.{}", f[c], number.trim_start_matches('+'));
        let form = if seen.insert(number.clone()) {
            2
        } else {
            forms[i % forms.len()] % 3
        };
        let user_id = match form {
            0 => String::new(),
            1 => {
                f[u] = bsuid;
                String::new()
            }
            _ => bsuid,
        };
        out.push_str(&f.join(","));
        out.push(',');
        out.push_str(&user_id);
        out.push('\n');
    }
    out
}

/// The bill of a log file: total, lines, per-row outcomes and issues, or the error.
fn bill_of(log: &TestLog, text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.csv");
    std::fs::write(&path, text).unwrap();
    let read = ReadOptions::default();
    let read = read_log(
        &path,
        LogFormat::Csv,
        &log.accounts,
        &log.markets,
        &read,
        &|_| {},
    )
    .expect("a generated log reads");
    assert!(read.rejects.is_empty(), "{:?}", read.rejects);
    let ctx = Context {
        accounts: &log.accounts,
        rates: &log.rates,
        markets: &log.markets,
        forced: None,
        rates_at: None,
    };
    match engine::replay(
        &read.events,
        &read.chats,
        &read.countries,
        &read.extras,
        &ctx,
    ) {
        Ok(r) => format!(
            "{}\n{:?}\n{:?}\n{:?}",
            r.total, r.lines, r.outcomes, r.issues
        ),
        Err(e) => format!("error: {e}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn mkt4_number_bsuid_or_both_give_the_same_bill(
        log in arb_log(LogSpec::default()),
        forms in proptest::collection::vec(any::<u8>(), 1..16),
    ) {
        let plain = bill_of(&log, &log.to_csv());
        let linked = bill_of(&log, &rewritten(&log, &forms));
        prop_assert_eq!(plain, linked);
    }
}
