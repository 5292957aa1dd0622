//! Issue 19, the readers: rows in = rows billed + rows rejected, always (a stray quote never
//! drops the rows after it), and a file of which nothing could be read is an error.

use serde_json::Value;

use crate::common::stderr;

const HEADER: &str = "timestamp,direction,user,type,category,status,waba,id\n";

fn row(k: usize) -> String {
    format!(
        "2025-08-04T10:{:02}:{:02}Z,out,+919800000001,template,utility,delivered,default,wamid.{k}\n",
        (k / 60) % 60,
        k % 60
    )
}

/// Replay `csv` (written to a temp file) with `extra` arguments and `env`; exit code, JSON and
/// the rejects file.
fn replay(csv: &str, extra: &[&str], env: &[(&str, &str)]) -> (i32, Value, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.csv");
    std::fs::write(&log, csv).unwrap();
    let rejects = dir.path().join("rejects.csv");
    let mut args = vec![
        "replay",
        log.to_str().unwrap(),
        "--format",
        "json",
        "--rejects",
        rejects.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_wabill"));
    cmd.args(&args).current_dir(crate::common::root());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let o = cmd.output().unwrap();
    let json = serde_json::from_slice(&o.stdout).unwrap_or(Value::Null);
    let rejects = std::fs::read_to_string(&rejects).unwrap_or_default();
    (o.status.code().unwrap_or(-1), json, rejects, stderr(&o))
}

/// The same numbers whichever reader reads the file and whether it is partitioned.
fn every_path(csv: &str) -> Vec<(i32, Value, String, String)> {
    vec![
        replay(csv, &[], &[]),
        replay(csv, &[], &[("WABILL_PLAIN_READER", "1")]),
        replay(csv, &["--partitions", "2"], &[]),
    ]
}

#[test]
fn unterminated_quote_keeps_later_rows_as_rejects() {
    // 5 rows; row 3's `type` opens a quote that never closes.
    let mut csv = String::from(HEADER);
    for k in 1..=5 {
        let r = row(k);
        csv.push_str(&if k == 3 {
            r.replace(",template,", ",\"template,")
        } else {
            r
        });
    }
    for (code, json, rejects, err) in every_path(&csv) {
        assert_eq!(code, 0, "{err}");
        let m = &json["messages"];
        assert_eq!(m["rows"], 5, "{json}");
        assert_eq!(m["rejected"], 1, "{json}");
        assert_eq!(m["outbound"], 4, "{json}");
        assert!(rejects.contains(",3,type,"), "{rejects}");
        assert!(rejects.contains("unterminated quote"), "{rejects}");
    }
}

#[test]
fn unterminated_quote_in_a_large_log_drops_nothing_after_it() {
    // About 1.5 MB: the block reader splits it into pieces read in parallel; the stray quote sits
    // in the middle, and a second one on the last line, which ends without a newline.
    let n = 20_000;
    let mut csv = String::from(HEADER);
    for k in 1..=n {
        let r = row(k);
        if k == n / 2 {
            csv.push_str(&r.replace("wamid.", "\"wamid."));
        } else if k == n {
            csv.push_str(r.trim_end().replace(",default,", ",\"default,").as_str());
        } else {
            csv.push_str(&r);
        }
    }
    for (code, json, rejects, err) in every_path(&csv) {
        assert_eq!(code, 0, "{err}");
        let m = &json["messages"];
        assert_eq!(m["rows"], n, "{json}");
        assert_eq!(m["rejected"], 2, "{json}");
        assert_eq!(m["outbound"], n - 2, "{json}");
        assert_eq!(rejects.lines().count(), 3, "{rejects}");
    }
}

#[test]
fn a_log_of_which_nothing_could_be_read_is_an_error() {
    let csv = format!(
        "{HEADER}not-a-time,out,+919800000001,template,utility,delivered,default,a\n\
         2025-08-04T10:00:00Z,sideways,+919800000001,text,,,default,b\n"
    );
    for (code, json, rejects, err) in every_path(&csv) {
        assert_eq!(code, 2, "{json} {err}");
        assert!(
            err.contains("nothing could be billed: all 2 row(s) were rejected"),
            "{err}"
        );
        assert!(err.contains("unknown direction"), "{err}");
        assert_eq!(
            rejects.lines().count(),
            3,
            "the rejects file is still written: {rejects}"
        );
    }
}
