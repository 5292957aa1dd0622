//! One test per bug found and fixed, each named after what broke and saying what it guards, so
//! that the case stays fixed after the generator or the fuzzer that found it changes. Most were
//! found by the property tests and fuzzers; their seeds in `tests/proptest-regressions/` replay
//! them too, but only while the generators stay the same.

use chrono::{DateTime, TimeDelta, Utc};
use rust_decimal::Decimal;

use wabill::io::accounts_file::parse_accounts;
use wabill::io::log::{read_log, LogFormat, ReadOptions};
use wabill::io::meta_layout::parse_pricing;

use super::adapter::both;
use super::fuzz::{check_log, markets, LOG_ACCOUNTS};
use super::model::*;
use super::rules::{at, check, run, utc_waba, Log, Rates, NOT_A_UNIT};

/// Guards CBP-3 with CONV-1: when several conversations open at one instant, a non-template rides
/// in the first opened in row order, not the first by category (marketing, utility,
/// authentication). Found by `model_props`.
#[test]
fn cbp3_a_non_template_rides_in_the_first_opened_of_conversations_opened_at_one_instant() {
    let t = at("2025-06-30T12:00:00Z");
    for (first, second) in [("authentication", "marketing"), ("marketing", "utility")] {
        let mut log = Log::new();
        log.template(t, first);
        log.template(t, second);
        log.inbound(t);
        let text = log.text(t);
        let result = run(&log, &utc_waba(), &Rates::standard());
        check(
            &result,
            text,
            "in_conversation",
            first,
            NOT_A_UNIT,
            Decimal::ZERO,
        );
    }
}

/// Guards CONV-1 in PMP-2: a utility template (row 1, at 96 h + 1 s) inside a CSW opened at 73 h by
/// a later row (row 2) is free under pmp-2025, because the replay orders by instant, not row.
/// Found by `model_props`; its seed means nothing to today's generator, hence this test.
#[test]
fn pmp2_utility_inside_a_csw_opened_by_a_later_row_is_free() {
    let base: DateTime<Utc> = DateTime::parse_from_rfc3339("2022-03-01T00:00:00Z")
        .unwrap()
        .into();
    let acc = MAccounts {
        wabas: vec![
            MWaba {
                id: "a".into(),
                tz: chrono_tz::UTC,
            },
            MWaba {
                id: "b".into(),
                tz: chrono_tz::UTC,
            },
        ],
        primary_country: None,
        auth_intl_start: None,
        auth_intl_exceptions: vec![],
    };
    let ev = |row, secs, dir| MEvent {
        row,
        ts: base + TimeDelta::seconds(secs),
        waba: "b".into(),
        number: "n1".into(),
        user: "+12025550003".into(),
        country: "US".into(),
        market: "North America".into(),
        dir,
    };
    let events = vec![
        ev(
            1,
            345_601,
            MDir::Out {
                template: Some("utility".into()),
                delivered: true,
            },
        ),
        ev(2, 262_800, MDir::In { entry_point: false }),
    ];
    let r = both(&events, &acc, &Rates::standard(), Some("pmp-2025")).expect("priced");
    assert_eq!(r.outcomes[0].reason, "free_customer_service");
}

/// Guards the readers and the calendar against instants outside the years 0001–9999 UTC (Unix
/// seconds `9223372036854` is the year 292,277): on an inbound or an outbound row they are rejects
/// naming row, column and value, never a panic; the edges themselves read. Found by
/// `fuzz_log_csv_reads_and_replays_without_panic`.
#[test]
fn log_instants_outside_years_1_to_9999_are_rejects_not_a_crash() {
    for ts in [
        "9223372036854",
        "-9223372036854",
        "253402300800",
        "-62135596801",
        "0000-01-01T00:00:00+01:00",
    ] {
        for dir in ["in", "out"] {
            let csv = format!(
                "timestamp,direction,user,type,category,waba\n{ts},{dir},+919800000001,template,utility,a\n2025-07-01T00:00:00Z,out,+919800000001,template,utility,a\n"
            );
            let dir_ = tempfile::tempdir().unwrap();
            let path = dir_.path().join("log.csv");
            std::fs::write(&path, &csv).unwrap();
            let accounts = parse_accounts(LOG_ACCOUNTS).unwrap();
            let markets = markets();
            let log = read_log(
                &path,
                LogFormat::Csv,
                &accounts,
                &markets,
                &ReadOptions::default(),
                &|_| {},
            )
            .unwrap();
            assert_eq!(log.events.len(), 1, "{ts} {dir}");
            let r = &log.rejects[0];
            assert_eq!(
                (r.row, r.column.as_str(), r.value.as_str()),
                (1, "timestamp", ts)
            );
            assert_eq!(r.message, "instant out of range (years 0001 to 9999 UTC)");
            check_log(csv.as_bytes(), "log.csv").unwrap();
        }
    }
    // The edges themselves are fine.
    for ts in [
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "-62135596800",
        "253402300799",
    ] {
        let csv = format!("timestamp,direction,user,type,waba\n{ts},in,+919800000001,,a\n");
        check_log(csv.as_bytes(), "log.csv").unwrap();
        let dir_ = tempfile::tempdir().unwrap();
        let path = dir_.path().join("log.csv");
        std::fs::write(&path, &csv).unwrap();
        let accounts = parse_accounts(LOG_ACCOUNTS).unwrap();
        let log = read_log(
            &path,
            LogFormat::Csv,
            &accounts,
            &markets(),
            &ReadOptions::default(),
            &|_| {},
        )
        .unwrap();
        assert!(log.rejects.is_empty(), "{ts}: {:?}", log.rejects);
    }
}

/// Guards RATE-3 in the importer: a rate too large for exact money (`99999999999999999999`) is
/// refused at import, naming line, column and value, instead of being written to the rates
/// directory where every later load would refuse it. Found by
/// `fuzz_pricing_csv_parses_or_names_the_line`.
#[test]
fn rate3_import_refuses_a_rate_too_large_for_exact_money() {
    let text = "Market,Currency,Marketing,Utility\nIndia,$US,99999999999999999999,0.0014\nBrazil,$US,9223372036854.775807,0.0068\n";
    let e = parse_pricing(text).unwrap_err();
    assert_eq!(
        e.to_string(),
        "line 2, column Marketing: rate out of range (at most 1000000.0000 per message): \
         `99999999999999999999`"
    );
    // Issue 19: a rate that fits exact money but not a product with a count (9223372036854…)
    // is refused too; rates are bounded by Money::MAX_RATE.
    let big = "Market,Currency,Marketing,Utility\nBrazil,$US,9223372036854.775807,0.0068\n";
    assert!(parse_pricing(big).is_err());
    let ok = "Market,Currency,Marketing,Utility\nBrazil,$US,1000000,0.0068\n";
    assert_eq!(parse_pricing(ok).unwrap().len(), 1);
}

/// Guards the one-line CSV reader: a byte-order mark at the start of a data line (not the
/// header) is data in both readers, so a line with quotes elsewhere in its piece reads as in the
/// fast path (csv-core would strip it). Found by `fuzz_log_csv_reads_and_replays_without_panic`.
#[test]
fn byte_order_mark_on_a_data_line_reads_the_same_in_both_readers() {
    for quote in ["", ",\"x\""] {
        let csv = format!(
            "timestamp,direction,user,type,waba,id\n\u{feff},in,+919800000001,,a,z\n\
             2022-03-31T12:00:00Z,in,+919800000001,,a,y{quote}\n"
        );
        check_log(csv.as_bytes(), "log.csv").unwrap();
    }
}
