//! Issue 19, the readers: rows in = rows billed + rows rejected, always (a stray quote never
//! drops the rows after it), rows are checked against the header, and a file of which nothing
//! could be read is an error.

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

/// Replay `csv` (written to a temp file) with `extra` arguments and `env`; exit code, JSON, the
/// rejects file and stderr.
fn replay(csv: &str, extra: &[&str], env: &[(&str, &str)]) -> (i32, Value, String, String) {
    replay_file_with("log.csv", csv.as_bytes(), extra, env)
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

/// Replay a file of any format (written to a temp file named `name`).
fn replay_file(name: &str, bytes: &[u8], extra: &[&str]) -> (i32, Value, String, String) {
    replay_file_with(name, bytes, extra, &[])
}

/// Replay `bytes` (written to a temp file named `name`) with `extra` arguments and `env`; exit
/// code, JSON, the rejects file and stderr.
fn replay_file_with(
    name: &str,
    bytes: &[u8],
    extra: &[&str],
    env: &[(&str, &str)],
) -> (i32, Value, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join(name);
    std::fs::write(&log, bytes).unwrap();
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

#[test]
fn rows_with_more_or_fewer_fields_than_the_header_are_rejects() {
    // Row 2 has two extra fields (13 under an 8-column header), row 4 is the file's last line,
    // cut inside the number.
    let csv = format!(
        "{HEADER}{}{},x,y\n{}2025-08-04T11:00:00Z,out,+91110000",
        row(1),
        row(2).trim_end(),
        row(3)
    );
    for (code, json, rejects, err) in every_path(&csv) {
        assert_eq!(code, 0, "{err}");
        let m = &json["messages"];
        assert_eq!(m["rows"], 4, "{json}");
        assert_eq!(m["rejected"], 2, "{json}");
        assert_eq!(m["outbound"], 2, "{json}");
        assert!(rejects.contains(",2,,10,"), "{rejects}");
        assert!(rejects.contains(",4,,3,"), "{rejects}");
        assert!(
            rejects.contains("the row has 3 field(s), the header 8"),
            "{rejects}"
        );
        assert!(!rejects.contains("+911100000,"), "{rejects}");
    }
}

#[test]
fn duplicate_header_columns_are_a_header_error() {
    let csv = format!(
        "timestamp,direction,user,type,category,status,waba,id,user\n{}",
        row(1).trim_end().to_string() + ",+447700900001\n"
    );
    for (code, _, _, err) in every_path(&csv) {
        assert_eq!(code, 2, "{err}");
        assert!(
            err.contains("the header names column `user` twice (columns 3 and 9)"),
            "{err}"
        );
    }
}

#[test]
fn missing_type_column_is_a_header_error() {
    let csv = "timestamp,direction,user,category,status\n\
               2025-08-04T10:00:00Z,out,+919800000001,utility,delivered\n";
    for (code, _, _, err) in every_path(csv) {
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("the header has no `type` column"), "{err}");
    }
}

#[test]
fn rejects_record_keeps_the_original_quoting() {
    // A quoted id with a comma, on a row rejected for its direction: the rejects file's `record`
    // reads back as the same fields.
    let csv = format!(
        "{HEADER}{}2025-08-04T10:00:00Z,sideways,+919800000001,text,,,default,\"wamid.a,b\"\n",
        row(1)
    );
    for (code, _, rejects, err) in every_path(&csv) {
        assert_eq!(code, 0, "{err}");
        let mut rdr = csv::Reader::from_reader(rejects.as_bytes());
        let headers = rdr.headers().unwrap().clone();
        let at = headers.iter().position(|h| h == "record").unwrap();
        let rec = rdr.records().next().unwrap().unwrap();
        let fields: Vec<String> = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(rec[at].as_bytes())
            .records()
            .next()
            .unwrap()
            .unwrap()
            .iter()
            .map(str::to_string)
            .collect();
        assert_eq!(fields.len(), 8, "{rejects}");
        assert_eq!(fields[7], "wamid.a,b", "{rejects}");
    }
}

const JSONL_ROW: &str = r#"{"timestamp":"2025-08-04T10:00:00Z","direction":"out","user":"+919800000001","type":"template","category":"utility","id":"ID"}"#;

#[test]
fn non_utf8_line_in_json_lines_is_one_reject() {
    let mut bytes = Vec::new();
    bytes.extend_from_slice(JSONL_ROW.replace("ID", "a").as_bytes());
    bytes.extend_from_slice(b"\n{\"timestamp\":\"2025-08-04T10:01:00Z\",\"user\":\"\xff\"}\n");
    bytes.extend_from_slice(JSONL_ROW.replace("ID", "c").as_bytes());
    bytes.push(b'\n');
    let (code, json, rejects, err) = replay_file("log.jsonl", &bytes, &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(json["messages"]["rows"], 3, "{json}");
    assert_eq!(json["messages"]["rejected"], 1, "{json}");
    assert_eq!(json["messages"]["outbound"], 2, "{json}");
    assert!(rejects.contains("line 2 is not valid UTF-8"), "{rejects}");
}

#[test]
fn byte_order_mark_in_json_lines_is_not_part_of_the_first_record() {
    let mut bytes = "\u{feff}".as_bytes().to_vec();
    bytes.extend_from_slice(JSONL_ROW.replace("ID", "a").as_bytes());
    bytes.push(b'\n');
    let (code, json, _, err) = replay_file("log.jsonl", &bytes, &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(json["messages"]["rows"], 1, "{json}");
    assert_eq!(json["messages"]["rejected"], 0, "{json}");
}

const WEBHOOK: &str = r#"{"object":"whatsapp_business_account","entry":[{"id":"WABA","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550001111","phone_number_id":"1"},"statuses":[{"id":"ID","status":"delivered","timestamp":"1754301600","recipient_id":"919800000001","pricing":{"billable":true,"pricing_model":"PMP","category":"utility","type":"regular"}}]}}]}]}"#;

#[test]
fn non_utf8_line_in_webhooks_is_one_reject() {
    let mut bytes = Vec::new();
    bytes.extend_from_slice(WEBHOOK.replace("ID", "wamid.a").as_bytes());
    bytes.extend_from_slice(b"\n{\"object\":\"\xfe\"}\n");
    bytes.extend_from_slice(WEBHOOK.replace("ID", "wamid.c").as_bytes());
    bytes.push(b'\n');
    let (code, json, rejects, err) =
        replay_file("hooks.jsonl", &bytes, &["--input-format", "webhooks"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(json["messages"]["outbound"], 2, "{json}");
    assert_eq!(json["messages"]["rejected"], 1, "{json}");
    assert!(rejects.contains("line 2: not valid UTF-8"), "{rejects}");
}

#[test]
fn byte_order_mark_in_webhooks_is_not_part_of_the_first_body() {
    let mut bytes = "\u{feff}".as_bytes().to_vec();
    bytes.extend_from_slice(WEBHOOK.replace("ID", "wamid.a").as_bytes());
    bytes.push(b'\n');
    let (code, json, _, err) = replay_file("hooks.jsonl", &bytes, &["--input-format", "webhooks"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(json["messages"]["outbound"], 1, "{json}");
    assert_eq!(json["messages"]["rejected"], 0, "{json}");
}

/// Compressed logs (`.csv.gz`, `.jsonl.gz`, a provider's gzip day file) are read as they are,
/// in memory and partitioned, and bill what the uncompressed file bills.
#[test]
fn gzip_logs_bill_as_their_uncompressed_files() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let gz = |src: &str, name: &str| {
        let text = std::fs::read(super::common::root().join(src)).unwrap();
        let path = dir.path().join(name);
        let mut e = flate2::write::GzEncoder::new(
            std::fs::File::create(&path).unwrap(),
            flate2::Compression::fast(),
        );
        e.write_all(&text).unwrap();
        e.finish().unwrap();
        path.to_string_lossy().into_owned()
    };
    let json = |args: &[&str]| {
        let mut all = vec!["replay", "--format", "json", "--rejects", "/dev/null"];
        all.extend_from_slice(args);
        let o = super::common::wabill(&all);
        assert!(
            o.status.code().unwrap_or(9) <= 1,
            "{}",
            super::common::stderr(&o)
        );
        String::from_utf8(o.stdout).unwrap()
    };
    let plain = json(&["data/sample.csv"]);
    let csv = gz("data/sample.csv", "sample.csv.gz");
    assert_eq!(json(&[&csv]), plain);
    assert_eq!(json(&[&csv, "--partitions", "3"]), plain);
    let twilio = "tests/fixtures/providers/twilio-bulkexport.jsonl";
    let t = "tests/fixtures/providers/templates.json";
    let day = gz(twilio, "day.jsonl.gz");
    assert_eq!(
        json(&[&day, "--templates", t]),
        json(&[twilio, "--templates", t])
    );
}
