//! Issue 19, hostile text and numbers (r-text): formula injection in every CSV for a spreadsheet,
//! control characters on the terminal, unassigned and invalid country data, conflicting Meta
//! statuses, overflowing amounts and unusable WABA ids. Each test runs the real binary on a small
//! file written for it.

use std::path::Path;

use super::common::{root, stderr, wabill};

const HEADER: &str =
    "timestamp,direction,user,type,category,status,entry_point,waba,number,country,id";

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_string_lossy().into_owned()
}

/// A log of `rows` under the full header.
fn log(dir: &Path, rows: &[&str]) -> String {
    let mut text = format!("{HEADER}\n");
    for r in rows {
        text.push_str(r);
        text.push('\n');
    }
    write(dir, "log.csv", &text)
}

/// The cells of a CSV file, header included.
fn csv_cells(path: &str) -> Vec<Vec<String>> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(path)
        .unwrap();
    r.records()
        .map(|rec| rec.unwrap().iter().map(String::from).collect())
        .collect()
}

fn str_of(p: &Path) -> &str {
    p.to_str().unwrap()
}

// ---------------------------------------------------------------------------------------------
// 3. CSV formula injection
// ---------------------------------------------------------------------------------------------

/// Cells that a spreadsheet would run as formulas reach no CSV unquoted; numbers stay numbers.
#[test]
fn csv_formula_cells_are_neutralised_in_ledger_rejects_and_breakdown() {
    let d = tmp();
    let acc = write(
        d.path(),
        "acc.toml",
        "[[waba]]\nid = \"@acme\"\ntimezone = \"UTC\"\ncurrency = \"USD\"\n",
    );
    let log = log(
        d.path(),
        &[
            "2025-07-01T10:00:00Z,out,+919800000001,template,utility,delivered,,@acme,+911100000001,IN,=HYPERLINK(\"http://x\")",
            "2025-07-01T11:00:00Z,out,+919800000002,-2+3,utility,delivered,,@acme,+911100000001,IN,w2",
            "=1+2,out,+919800000003,template,utility,delivered,,@acme,+911100000001,IN,w3",
        ],
    );
    let (ledger, rejects, report) = (
        d.path().join("ledger.csv"),
        d.path().join("rejects.csv"),
        d.path().join("report"),
    );
    let o = wabill(&[
        "replay",
        &log,
        "--accounts",
        &acc,
        "--ledger",
        str_of(&ledger),
        "--rejects",
        str_of(&rejects),
        "--report",
        str_of(&report),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let l = csv_cells(str_of(&ledger));
    assert_eq!(l[1][1], "'=HYPERLINK(\"http://x\")");
    assert_eq!(l[1][3], "'@acme");
    assert_eq!(l[2][9], "'-2+3");
    // Phone numbers and prices are plain numbers: unchanged.
    assert_eq!(
        (l[1][4].as_str(), l[1][5].as_str()),
        ("+911100000001", "+919800000001")
    );
    assert!(l[1][15].parse::<f64>().is_ok(), "{:?}", l[1]);
    let r = csv_cells(str_of(&rejects));
    assert_eq!(r[1][3], "'=1+2");
    assert!(r[1][5].starts_with("'=1+2,out,"), "{:?}", r[1]);
    let b = csv_cells(str_of(&report.join("breakdown.csv")));
    assert_eq!(b[1][1], "'@acme");
    let o = wabill(&["replay", &log, "--accounts", &acc, "--format", "csv"]);
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(out.lines().nth(1).unwrap().contains(",'@acme,"), "{out}");
    assert!(!out.contains(",@acme"), "{out}");
}

/// `estimate --format csv`: a WABA id that looks like a formula is quoted; numbers are not.
#[test]
fn csv_formula_cells_are_neutralised_in_estimate_csv() {
    let d = tmp();
    let acc = write(
        d.path(),
        "acc.toml",
        "[[waba]]\nid = \"+cmd\"\ncurrency = \"USD\"\n",
    );
    let o = wabill(&[
        "estimate",
        "--accounts",
        &acc,
        "--volume",
        "2026-10,India,utility,1000",
        "--format",
        "csv",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8(o.stdout).unwrap();
    let row: Vec<&str> = out.lines().nth(1).unwrap().split(',').collect();
    assert_eq!(row[1], "'+cmd", "{out}");
    assert_eq!(row[5], "1000");
}

// ---------------------------------------------------------------------------------------------
// 12. Terminal and table injection
// ---------------------------------------------------------------------------------------------

/// A rejected value with an escape sequence and a line break: escaped on stderr, so it neither
/// drives the terminal nor forges a `wabill:` line.
#[test]
fn terminal_control_characters_in_rejected_values_are_escaped() {
    let d = tmp();
    let log = log(
        d.path(),
        &[
            "2025-07-01T10:00:00Z,out,+919800000001,template,utility,delivered,,default,,IN,w1",
            "\"\u{1b}]0;owned\u{7}\u{1b}[2J\nwabill: 0 row(s) rejected\",out,+919800000002,template,utility,delivered,,default,,IN,w2",
        ],
    );
    let rejects = d.path().join("rejects.csv");
    let o = wabill(&["replay", &log, "--rejects", str_of(&rejects)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(!err.contains('\u{1b}') && !err.contains('\u{7}'), "{err:?}");
    // A log record is one line, so the line break ends the row: the escape sequence is the
    // unterminated quoted field of row 2, and the forged text row 3's timestamp.
    assert!(
        err.contains("value `\"\\x1b]0;owned\\x07\\x1b[2J`"),
        "{err}"
    );
    for line in err.lines() {
        assert!(line.starts_with("wabill: "), "{line:?}");
        assert!(!line.starts_with("wabill: 0 row(s)"), "{err}");
    }
}

/// Ids with line breaks and escapes in the reconcile table: one row per message, escaped.
#[test]
fn terminal_control_characters_in_ids_keep_the_reconcile_table_whole() {
    let d = tmp();
    let fixture = |n: &str| {
        root()
            .join("tests/fixtures")
            .join(n)
            .to_string_lossy()
            .into_owned()
    };
    let (small, acc) = (fixture("small.csv"), fixture("accounts.toml"));
    let wh = d.path().join("wh.jsonl");
    let o = wabill(&[
        "replay",
        &small,
        "--accounts",
        &acc,
        "--format",
        "json",
        "--emit-webhooks",
        str_of(&wh),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = std::fs::read_to_string(&small).unwrap();
    let edited = text.replace(",w016", ",w016\u{1b}[31m");
    let log = write(d.path(), "edited.csv", &edited);
    let o = wabill(&[
        "reconcile",
        "--log",
        &log,
        "--accounts",
        &acc,
        "--webhooks",
        str_of(&wh),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(!out.contains('\u{1b}'), "{out:?}");
    assert!(out.contains("w016\\x1b[31m"), "{out}");
}

// ---------------------------------------------------------------------------------------------
// 11. Overflow: an error naming the value, never a panic
// ---------------------------------------------------------------------------------------------

/// Exit 2 with `wabill: …` naming `needle`, and no panic.
fn refused(o: &std::process::Output, needle: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.starts_with("wabill: ") && err.contains(needle), "{err}");
}

#[test]
fn overflow_of_an_estimate_volume_is_refused_naming_it() {
    let o = wabill(&[
        "estimate",
        "--volume",
        "2026-10,India,utility,1000000000000",
        "--volume",
        "2026-10,India,utility,1000000000000000000",
    ]);
    refused(
        &o,
        "`--volume #2.messages` = `1000000000000000000`: more than 1000000000000",
    );
}

#[test]
fn overflow_of_provider_fees_and_markups_is_refused_naming_the_value() {
    let d = tmp();
    let acc = |name: &str, provider: &str| {
        write(
            d.path(),
            name,
            &format!("[[waba]]\nid = \"default\"\n[provider]\n{provider}\n"),
        )
    };
    let fee = acc("fee.toml", "per_message_sent = 9223372036854");
    refused(
        &wabill(&["replay", "data/sample.csv", "--accounts", &fee]),
        "`provider.per_message_sent` = `9223372036854`: above the largest fee",
    );
    let markup = acc(
        "markup.toml",
        "markup = { marketing = \"79228162514264337593543950335\" }",
    );
    refused(
        &wabill(&["replay", "data/sample.csv", "--accounts", &markup]),
        "79228162514264337593543950335",
    );
    // Within the bounds, a product beyond what wabill holds is an error naming it.
    let max = acc("max.toml", "per_message_sent = 1000000");
    refused(
        &wabill(&[
            "estimate",
            "--accounts",
            &max,
            "--volume",
            "2026-10,India,marketing,1000000000000",
        ]),
        "1000000.0000 × 1000000000000 exceeds the largest amount wabill can hold",
    );
}

/// A rate-card rate so large that the bill cannot be held: refused when the card is read (rate
/// cards, r-rates) or when the lines are summed; never a panic.
#[test]
fn overflow_of_a_replay_total_is_an_error_not_a_panic() {
    let d = tmp();
    let rates = d.path().join("rates");
    let card = rates.join("USD/2025-07-01");
    std::fs::create_dir_all(&card).unwrap();
    std::fs::copy(
        root().join("rates/market_map.csv"),
        rates.join("market_map.csv"),
    )
    .unwrap();
    let text = std::fs::read_to_string(root().join("rates/USD/2025-07-01/rates.csv")).unwrap();
    let text = text.replace("India,USD,0.0107,", "India,USD,9000000000000,");
    std::fs::write(card.join("rates.csv"), text).unwrap();
    let o = wabill(&[
        "replay",
        "data/sample.csv",
        "--rates",
        str_of(&rates),
        "--rulebook",
        "pmp-2025",
        "--rates-at",
        "2025-07-01",
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        err.contains("exceeds the largest amount wabill can hold") || err.contains("9000000000000"),
        "{err}"
    );
}

// ---------------------------------------------------------------------------------------------
// 13 (part). WABA ids no row could name
// ---------------------------------------------------------------------------------------------

#[test]
fn accounts_with_an_empty_or_padded_waba_id_are_refused_at_load() {
    let d = tmp();
    for (i, id) in ["", "default ", " \t"].iter().enumerate() {
        let acc = write(
            d.path(),
            &format!("acc{i}.toml"),
            &format!("[[waba]]\nid = \"{}\"\n", id.replace('\t', "\\t")),
        );
        let o = wabill(&["replay", "data/sample.csv", "--accounts", &acc]);
        refused(&o, "`waba[0].id`");
        assert!(stderr(&o).contains("WABA id"), "{}", stderr(&o));
    }
}

// ---------------------------------------------------------------------------------------------
// 7. Conflicting duplicate statuses
// ---------------------------------------------------------------------------------------------

/// Two `delivered` statuses of one message with different pricing: one difference, whichever
/// line comes first.
#[test]
fn reconcile_conflicting_duplicate_statuses_are_a_difference_whatever_the_order() {
    let d = tmp();
    let fixture = |n: &str| {
        root()
            .join("tests/fixtures")
            .join(n)
            .to_string_lossy()
            .into_owned()
    };
    let (small, acc) = (fixture("small.csv"), fixture("accounts.toml"));
    let wh = d.path().join("wh.jsonl");
    let o = wabill(&[
        "replay",
        &small,
        "--accounts",
        &acc,
        "--format",
        "json",
        "--emit-webhooks",
        str_of(&wh),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = std::fs::read_to_string(&wh).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains("\"w019\"") && l.contains("\"delivered\""))
        .expect("w019 delivered");
    let mut v: serde_json::Value = serde_json::from_str(lines[at]).unwrap();
    v["entry"][0]["changes"][0]["value"]["statuses"][0]["pricing"]["category"] = "utility".into();
    let copy = v.to_string();
    let mut results = Vec::new();
    for copy_first in [false, true] {
        let mut out: Vec<String> = Vec::new();
        for (i, l) in lines.iter().enumerate() {
            if i == at && copy_first {
                out.push(copy.clone());
            }
            out.push(l.to_string());
            if i == at && !copy_first {
                out.push(copy.clone());
            }
        }
        let path = d.path().join(format!("wh-{copy_first}.jsonl"));
        std::fs::write(&path, out.join("\n") + "\n").unwrap();
        let o = wabill(&[
            "reconcile",
            "--log",
            &small,
            "--accounts",
            &acc,
            "--webhooks",
            str_of(&path),
            "--format",
            "json",
        ]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(r["differences"], 1, "{r:#}");
        assert_eq!(r["messages"][0]["id"], "w019");
        results.push(r["messages"].clone());
    }
    assert_eq!(results[0], results[1]);
    let meta = results[0][0]["fields"][0]["meta"].as_str().unwrap();
    assert!(meta.starts_with("conflicting statuses: "), "{meta}");
}

// ---------------------------------------------------------------------------------------------
// 5. Unassigned country codes and invalid numbers
// ---------------------------------------------------------------------------------------------

/// `country` = `ZZ` (or `UK`) would override a +91 number and bill `Other`: a reject instead.
#[test]
fn unassigned_country_codes_are_rejected_not_billed_as_other() {
    let d = tmp();
    let log = log(
        d.path(),
        &[
            "2025-07-01T10:00:00Z,out,+919800000001,template,utility,delivered,,default,,ZZ,w1",
            "2025-07-01T11:00:00Z,out,+919800000002,template,utility,delivered,,default,,UK,w2",
            "2025-07-01T12:00:00Z,out,+919800000003,template,utility,delivered,,default,,in,w3",
        ],
    );
    let rejects = d.path().join("rejects.csv");
    let o = wabill(&[
        "replay",
        &log,
        "--format",
        "json",
        "--rejects",
        str_of(&rejects),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["messages"]["rejected"], 2);
    let lines = j["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 1, "{j:#}");
    assert_eq!(lines[0]["market"], "India");
    let r = csv_cells(str_of(&rejects));
    assert_eq!((r[1][2].as_str(), r[1][3].as_str()), ("country", "ZZ"));
    assert_eq!((r[2][2].as_str(), r[2][3].as_str()), ("country", "UK"));
    assert!(r[1][4].contains("not an assigned ISO 3166"), "{:?}", r[1]);
}

/// Numbers valid for no country are billed (Meta delivered them) in the market MKT-1 gives, and
/// each thread's is an `invalid-number` issue (MKT-1) with the library's reason and the market:
/// in the JSON, counted in the table, failing `--strict`, the same from the partitioned replay.
#[test]
fn invalid_numbers_are_billed_and_reported_as_issues() {
    let d = tmp();
    let log = log(
        d.path(),
        &[
            "2025-07-01T10:00:00Z,out,98000 00001,template,utility,delivered,,default,,,w1",
            "2025-07-01T10:30:00Z,out,+1 555 0100,template,utility,delivered,,default,,,w2",
            "2025-07-01T11:00:00Z,out,98000 00001,template,utility,delivered,,default,,,w3",
            "2025-07-01T12:00:00Z,out,+919800000001,template,utility,delivered,,default,,,w4",
            // An explicit country wins (MKT-3): the number is not used, no issue.
            "2025-07-01T13:00:00Z,out,+1 555 0199,template,utility,delivered,,default,,US,w5",
        ],
    );
    let json = |extra: &[&str]| {
        let mut args = vec!["replay", &log, "--format", "json"];
        args.extend_from_slice(extra);
        let o = wabill(&args);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        String::from_utf8(o.stdout).unwrap()
    };
    let memory = json(&[]);
    assert_eq!(memory, json(&["--partitions", "3"]));
    let j: serde_json::Value = serde_json::from_str(&memory).unwrap();
    assert_eq!(j["messages"]["rejected"], 0);
    let charged: u64 = j["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["charged"].as_u64().unwrap())
        .sum();
    assert_eq!(charged, 5, "{j:#}");
    let issues = j["issues"].as_array().unwrap();
    assert_eq!(issues.len(), 2, "{j:#}");
    assert_eq!(
        (issues[0]["code"].as_str(), issues[0]["rule"].as_str()),
        (Some("invalid-number"), Some("MKT-1"))
    );
    assert_eq!(
        (issues[0]["row"].as_u64(), issues[1]["row"].as_u64()),
        (Some(1), Some(2))
    );
    let m = issues[0]["message"].as_str().unwrap();
    assert!(
        m.contains("+9800000001") && m.contains("not a valid +98 number"),
        "{m}"
    );
    assert!(m.contains("as IR, market `Other`"), "{m}");
    let m = issues[1]["message"].as_str().unwrap();
    assert!(
        m.contains("where US numbers have 10") && m.contains("`North America`"),
        "{m}"
    );
    let o = wabill(&["replay", &log]);
    let table = String::from_utf8(o.stdout).unwrap();
    assert!(table.contains("2 issue(s) (2 invalid-number)"), "{table}");
    let o = wabill(&["replay", &log, "--strict"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
}
