//! Providers' exports from file to bill (issue 14): each fixture in `tests/fixtures/providers/`
//! (layouts from the providers' documentation, see its README) is detected, mapped, replayed and
//! its unmappable record rejected with the field and the reason; the template catalogue gives a
//! template the category in force when it was sent (CBP-8) and rejects a template it does not
//! know; `--map` / `--map-value` read any other CSV.

use serde_json::Value;

use super::common::{root, stderr, wabill};

const DIR: &str = "tests/fixtures/providers";

fn fixture(name: &str) -> String {
    format!("{DIR}/{name}")
}

/// `replay FILE ARGS… --format json`: (exit code, JSON, stderr, rejects file).
fn replay(file: &str, args: &[&str]) -> (i32, Value, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let rejects = dir.path().join("rejects.csv");
    let mut all = vec![
        "replay",
        file,
        "--format",
        "json",
        "--rejects",
        rejects.to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    let o = wabill(&all);
    let json = serde_json::from_slice(&o.stdout).unwrap_or(Value::Null);
    let rejects = std::fs::read_to_string(&rejects).unwrap_or_default();
    (o.status.code().unwrap_or(-1), json, stderr(&o), rejects)
}

/// Charged units per category over the whole bill.
fn charged(json: &Value, category: &str) -> u64 {
    json["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["category"] == category)
        .map(|l| l["charged"].as_u64().unwrap())
        .sum()
}

const TEMPLATES: &str = "tests/fixtures/providers/templates.json";

/// Every provider layout is recognised from its header or first record, read into the same
/// messages of the fixtures' day, and the record it cannot map is a reject naming field and
/// value.
#[test]
fn each_provider_export_is_detected_and_billed() {
    // (file, layout, rows read, inbound, outbound, rejected, a reject's column and value)
    let cases = [
        (
            "twilio-console.csv",
            "twilio-console",
            11,
            2,
            8,
            1,
            "user",
            "",
        ),
        (
            "twilio-bulkexport.jsonl",
            "twilio-bulkexport",
            11,
            2,
            8,
            1,
            "status",
            "partially_delivered",
        ),
        (
            "gupshup-v2.jsonl",
            "gupshup-v2",
            7,
            1,
            5,
            1,
            "status",
            "expired",
        ),
        ("ycloud.jsonl", "ycloud", 10, 2, 7, 1, "status", "expired"),
        ("infobip-reports.jsonl", "infobip", 11, 2, 7, 2, "user", ""),
    ];
    for (file, layout, rows, inbound, outbound, rejected, col, value) in cases {
        let (code, json, err, rejects) = replay(&fixture(file), &["--templates", TEMPLATES]);
        assert_eq!(code, 0, "{file}: {err}");
        assert!(err.contains(&format!("as {layout} (")), "{file}: {err}");
        let m = &json["messages"];
        assert_eq!(
            (
                m["rows"].as_u64(),
                m["inbound"].as_u64(),
                m["outbound"].as_u64(),
                m["rejected"].as_u64()
            ),
            (Some(rows), Some(inbound), Some(outbound), Some(rejected)),
            "{file}: {json}"
        );
        assert!(
            rejects.contains(&format!(",{col},{value},")),
            "{file}: {rejects}"
        );
        // The Brazilian marketing template and the Indian login are delivered and charged.
        assert_eq!(charged(&json, "marketing"), 1, "{file}: {json}");
        assert_eq!(charged(&json, "authentication"), 1, "{file}: {json}");
    }
}

/// Twilio's export names no template: without a catalogue every business message is read as a
/// non-template message, and the output says so; with Meta's templates response each template
/// is recognised by its text and billed at its category. In memory and partitioned alike.
#[test]
fn twilio_templates_are_recognised_by_their_text() {
    let file = fixture("twilio-console.csv");
    let (_, plain, err, _) = replay(&file, &[]);
    assert!(
        err.contains("name no template or category") && err.contains("--templates"),
        "{err}"
    );
    assert_eq!(charged(&plain, "marketing"), 0, "{plain}");
    let (_, json, err, _) = replay(&file, &["--templates", TEMPLATES]);
    assert!(
        err.contains("re-categorised from marketing to utility"),
        "{err}"
    );
    assert_eq!(charged(&json, "marketing"), 1, "{json}");
    assert_eq!(charged(&json, "utility"), 2, "{json}");
    assert_eq!(charged(&json, "authentication"), 1, "{json}");
    assert_eq!(json["total"], "0.0687", "{json}");
    let (_, parts, _, _) = replay(&file, &["--templates", TEMPLATES, "--partitions", "2"]);
    assert_eq!(parts, json);
    // The same file through an explicit --input-format gives the same bill.
    let (_, explicit, _, _) = replay(
        &file,
        &["--templates", TEMPLATES, "--input-format", "twilio-console"],
    );
    assert_eq!(explicit, json);
}

/// A template the catalogue does not know is a reject naming the template, never a guess; a
/// record that is not a message (a seen report) is skipped and counted.
#[test]
fn cbp8_unknown_template_is_a_reject_naming_it() {
    let (code, json, err, rejects) = replay(
        &fixture("infobip-reports.jsonl"),
        &["--templates", TEMPLATES],
    );
    assert_eq!(code, 0, "{err}");
    assert!(rejects.contains(",template,spring_sale_2026,"), "{rejects}");
    assert!(
        rejects.contains("not in the template catalogue"),
        "{rejects}"
    );
    assert!(err.contains("are not messages"), "{err}");
    assert_eq!(charged(&json, "marketing"), 1, "{json}");
    // Without a catalogue, a named template cannot be billed by guess either.
    let (_, _, _, rejects) = replay(&fixture("infobip-reports.jsonl"), &[]);
    assert!(
        rejects.contains("give the template catalogue with --templates"),
        "{rejects}"
    );
}

/// CBP-8: a template re-categorised mid-month is billed by the category in force when each
/// message was sent (CSV catalogue with `from`); any CSV export is read with `--map`.
#[test]
fn cbp8_template_recategorised_mid_month_and_a_mapping_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export.csv");
    std::fs::write(
        &export,
        "When,Kind,Customer,Template,Lang,Result\n\
         2026-11-10T10:00:00Z,OUT,+919812345601,order_update,en_US,OK\n\
         2026-11-20T10:00:00Z,OUT,+919812345601,order_update,en_US,OK\n\
         2026-11-21T10:00:00Z,OUT,+919812345601,order_update,en_US,BOUNCED\n\
         2026-11-22T10:00:00Z,SIDEWAYS,+919812345601,order_update,en_US,OK\n",
    )
    .unwrap();
    let catalogue = dir.path().join("templates.csv");
    std::fs::write(
        &catalogue,
        "name,language,category,from\norder_update,en_US,utility,\norder_update,en_US,marketing,2026-11-15\n",
    )
    .unwrap();
    let file = export.to_str().unwrap();
    let (code, json, err, rejects) = replay(
        file,
        &[
            "--map",
            "timestamp=When",
            "--map",
            "direction=Kind",
            "--map",
            "user=Customer",
            "--map",
            "template=Template",
            "--map",
            "language=Lang",
            "--map",
            "status.out=Result",
            "--map-value",
            "direction:OUT=out",
            "--map-value",
            "status:ok=delivered",
            "--map-value",
            "status:bounced=failed",
            "--templates",
            catalogue.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(charged(&json, "utility"), 1, "{json}");
    assert_eq!(charged(&json, "marketing"), 1, "{json}");
    assert_eq!(json["messages"]["not_delivered"], 1, "{json}");
    // The unmapped direction is a reject naming the column and the value.
    assert!(rejects.contains(",direction,SIDEWAYS,"), "{rejects}");
    // A mapping that misses a required column says which.
    let (code, _, err, _) = replay(file, &["--map", "timestamp=When", "--map", "user=Customer"]);
    assert_eq!(code, 2);
    assert!(err.contains("gives no `direction`"), "{err}");
}

/// `inspect` tells what wabill sees before a replay; `compare --log` reads an export too.
#[test]
fn inspect_and_compare_read_provider_exports() {
    let o = wabill(&[
        "inspect",
        &fixture("ycloud.jsonl"),
        "--templates",
        TEMPLATES,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8(o.stdout).unwrap();
    for want in [
        "format         ycloud (YCloud WhatsApp webhook events)",
        "  user         `whatsappInboundMessage.from` (inbound), `whatsappMessage.to` (business)",
        "rows           10 read, 9 kept, 1 rejected (10.0%)",
        "instants       2026-11-03T09:14:05Z to 2026-11-03T14:06:13Z (UTC)",
        "status: unknown status",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
    let o = wabill(&[
        "compare",
        "--log",
        &fixture("gupshup-v2.jsonl"),
        "--rulebook",
        "pmp-2025,pmp-2026",
        "--format",
        "csv",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8(o.stdout).unwrap();
    assert_eq!(out.lines().count(), 3, "{out}");
    let _ = root();
}
