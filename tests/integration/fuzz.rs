//! Fuzzing of the input parsers with proptest: message logs (CSV, JSON Lines), Meta's
//! rate-card files (`Pricing.csv`, `Tier Pricing.csv`), the accounts file and the market table.
//! Inputs are raw bytes, valid files with random edits (bytes inserted or deleted, a cell
//! replaced by a nasty value, lines dropped or repeated) and files assembled from nasty cells.
//! Each parser must never panic and either succeed or fail with an error that says where; a log
//! that reads must account for every row (an event or a reject) and replay without panicking.
//!
//! A short run is part of `cargo test`; a longer one:
//! `PROPTEST_CASES=100000 cargo test --test integration fuzz_`. The cases they found are kept as
//! tests in `regression.rs`.

use proptest::prelude::*;
use proptest::sample::{select, Index};
use rust_decimal::Decimal;

use wabill::billing::engine::{self, Context};
use wabill::billing::markets::MarketTable;
use wabill::billing::money::Money;
use wabill::billing::types::Rulebook;
use wabill::io::accounts_file::parse_accounts;
use wabill::io::log::{read_log, CsvReader, LogFormat, ReadOptions};
use wabill::io::market_map::parse_market_map;
use wabill::io::meta_layout::{detect_kind, parse_pricing, parse_tier_pricing};
use wabill_testing::{arb_log, flat_rates, LogSpec};

const MARKET_MAP: &str = include_str!("../../rates/market_map.csv");
const PRICING: &str = include_str!("../fixtures/meta-layout/USD-2026-10-01/Pricing.csv");
const TIERS: &str = include_str!("../fixtures/meta-layout/USD-2026-10-01/Tier Pricing.csv");
const ACCOUNTS: &str = include_str!("../fixtures/accounts.toml");
/// The WABAs of generated logs (`a`, `b`, `c`), `default` (rows without a WABA) and the
/// fixture's, in assorted time zones.
pub(crate) const LOG_ACCOUNTS: &str = r#"
[portfolio]
primary_country = "IN"
auth_international_start = "2024-07-01T00:00:00Z"
[[waba]]
id = "default"
[[waba]]
id = "a"
timezone = "Asia/Kolkata"
[[waba]]
id = "b"
timezone = "America/Los_Angeles"
[[waba]]
id = "c"
timezone = "Pacific/Auckland"
[[waba]]
id = "shop-in"
timezone = "Asia/Kolkata"
"#;

/// Cells that have broken parsers before, or could: separators, quotes, BOM, empty, signs,
/// huge and out-of-range numbers and instants, near-miss keywords, non-ASCII.
const NASTY: &[&str] = &[
    "",
    " ",
    "\"",
    "\"\"",
    ",",
    "\n",
    "\r\n",
    "\r",
    "\u{feff}",
    "\0",
    "é",
    "🙂",
    "n/a",
    "N/A",
    "--",
    "—",
    "-",
    "+",
    "0",
    "-0",
    "-1",
    "1e3",
    "1e308",
    "NaN",
    "0.1234567",
    "0.000001",
    ".5",
    "5.",
    "99999999999999999999",
    "99999999999999999999999999999999",
    "18446744073709551616",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854",
    "-9223372036854",
    "253402300800",
    "-62135596801",
    "1751536800",
    "2025-07-03T10:00:00Z",
    "2025-07-03T15:30:00+05:30",
    "0000-01-01T00:00:00+01:00",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59-23:59",
    "2025-02-30T00:00:00Z",
    "2025-07-01T24:00:00Z",
    "2025-07-01T10:00:00.123456789Z",
    "2025-07-01",
    "2021-12-31T23:59:59Z",
    "+1",
    "+7",
    "+0",
    "+00000",
    "+999999999999999",
    "+1 (787) 555-0100",
    "+7 701 234 5678",
    "+44 1481 256789",
    "+91 98000 00001",
    "1111111111111111111",
    "in",
    "out",
    "inbound",
    "OUTBOUND",
    "template",
    "text",
    "marketing",
    "utility",
    "authentication",
    "authentication_international",
    "service",
    "delivered",
    "read",
    "sent",
    "failed",
    "ctwa",
    "page_cta",
    "default",
    "shop-in",
    "US",
    "ZZ",
    "X",
    "USD",
    "$US",
    "₹",
    "100,000",
    "1,00",
    "0%",
    "-5%",
    "%",
    "List rate",
    "Tier 1",
    "Tier 99999999999",
    "Market",
    "Market\n(per rate card)",
    "Currency",
    "Marketing",
    "Utility",
    "Authentication",
    "Authentication-\nInternational",
    "Service",
    "Business-Initiated",
    "From",
    "To",
    "Rate type",
    "Rate",
    "vs. List rate",
    "*",
    "UTC",
    "Mars/Base",
    "Asia/Kolkata",
    "2026-10-01",
    "9999-99-99",
];

fn nasty() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => select(NASTY).prop_map(String::from),
        2 => "[ -~]{0,12}",
        1 => ".{0,8}",
    ]
}

/// One edit of a valid file.
#[derive(Debug, Clone)]
enum Edit {
    Insert(Index, Vec<u8>),
    Delete(Index, usize),
    Byte(Index, u8),
    /// Replace a cell (a span between `,` / line breaks) by a nasty value.
    Cell(Index, String),
    RepeatLine(Index),
    DropLine(Index),
    Truncate(Index),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        1 => (any::<Index>(), proptest::collection::vec(any::<u8>(), 1..4)).prop_map(|(i, b)| Edit::Insert(i, b)),
        1 => (any::<Index>(), 1usize..8).prop_map(|(i, n)| Edit::Delete(i, n)),
        1 => (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Edit::Byte(i, b)),
        5 => (any::<Index>(), nasty()).prop_map(|(i, s)| Edit::Cell(i, s)),
        1 => any::<Index>().prop_map(Edit::RepeatLine),
        1 => any::<Index>().prop_map(Edit::DropLine),
        1 => any::<Index>().prop_map(Edit::Truncate),
    ]
}

fn spans(b: &[u8], seps: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in b.iter().enumerate() {
        if seps.contains(c) {
            out.push((start, i));
            start = i + 1;
        }
    }
    out.push((start, b.len()));
    out
}

fn apply(base: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut b = base.to_vec();
    for e in edits {
        let n = b.len();
        match e {
            Edit::Insert(i, bytes) => {
                let at = i.index(n + 1);
                b.splice(at..at, bytes.iter().copied());
            }
            Edit::Delete(i, len) if n > 0 => {
                let at = i.index(n);
                b.drain(at..(at + len).min(n));
            }
            Edit::Byte(i, byte) if n > 0 => {
                let at = i.index(n);
                b[at] = *byte;
            }
            Edit::Cell(i, s) => {
                let cells = spans(&b, b",\n");
                let (s0, s1) = cells[i.index(cells.len())];
                b.splice(s0..s1, s.bytes());
            }
            Edit::RepeatLine(i) | Edit::DropLine(i) => {
                let lines = spans(&b, b"\n");
                let (s0, s1) = lines[i.index(lines.len())];
                let end = (s1 + 1).min(n);
                let line = b[s0..end].to_vec();
                if matches!(e, Edit::RepeatLine(_)) {
                    b.splice(s0..s0, line);
                } else {
                    b.drain(s0..end);
                }
            }
            Edit::Truncate(i) => {
                let at = i.index(n + 1);
                b.truncate(at);
            }
            _ => {}
        }
    }
    b
}

fn edited(text: &'static str) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(edit(), 0..6).prop_map(move |edits| apply(text.as_bytes(), &edits))
}

/// Raw file content, shown as (lossy) text in failure output.
#[derive(Clone)]
struct Bytes(Vec<u8>);

impl std::fmt::Debug for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(&self.0))
    }
}

fn lossy(b: Vec<u8>) -> String {
    String::from_utf8_lossy(&b).into_owned()
}

/// Cells joined into CSV lines, as is (no quoting: nasty cells break the structure too).
fn csv_from(cells: Vec<Vec<String>>) -> String {
    cells
        .into_iter()
        .map(|r| r.join(","))
        .collect::<Vec<_>>()
        .join("\n")
}

pub(crate) fn markets() -> MarketTable {
    parse_market_map(MARKET_MAP).expect("rates/market_map.csv")
}

// ---------------------------------------------------------------------------------------------
// Message logs
// ---------------------------------------------------------------------------------------------

/// Header names to draw from: the real columns, and near misses the reader must survive.
fn log_headers() -> Vec<&'static str> {
    let mut v = wabill::io::log::schema::COLUMNS.to_vec();
    v.extend(["Timestamp", " user ", "\u{feff}timestamp", "extra"]);
    v
}

fn csv_log() -> impl Strategy<Value = Bytes> {
    let any = prop_oneof![
        1 => proptest::collection::vec(any::<u8>(), 0..300),
        4 => (arb_log(LogSpec::default().max_events(8)), proptest::collection::vec(edit(), 0..6))
            .prop_map(|(log, edits)| apply(log.to_csv().as_bytes(), &edits)),
        3 => (
            proptest::collection::vec(select(log_headers()).prop_map(String::from), 0..12),
            proptest::collection::vec(proptest::collection::vec(nasty(), 0..12), 0..8),
        )
            .prop_map(|(header, mut rows)| {
                rows.insert(0, header);
                csv_from(rows).into_bytes()
            }),
    ];
    any.prop_map(Bytes)
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    prop_oneof![
        6 => nasty().prop_map(Value::String),
        2 => any::<i64>().prop_map(Value::from),
        1 => any::<f64>().prop_map(Value::from),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => Just(Value::Null),
        1 => proptest::collection::vec(nasty().prop_map(Value::String), 0..3).prop_map(Value::Array),
    ]
}

fn jsonl_log() -> impl Strategy<Value = Bytes> {
    let object = proptest::collection::vec(
        (select(log_headers()).prop_map(String::from), json_value()),
        0..12,
    )
    .prop_map(|kv| serde_json::Value::Object(kv.into_iter().collect()).to_string());
    prop_oneof![
        1 => proptest::collection::vec(any::<u8>(), 0..300),
        4 => (arb_log(LogSpec::default().max_events(8)), proptest::collection::vec(edit(), 0..6))
            .prop_map(|(log, edits)| apply(log.to_jsonl().as_bytes(), &edits)),
        3 => proptest::collection::vec(object, 0..8).prop_map(|lines| lines.join("\n").into_bytes()),
    ]
    .prop_map(Bytes)
}

/// Reads `bytes` as a log file named `name`: no panic; a fatal error names the file; otherwise
/// every row is an event or a reject naming its row, and the events replay without panicking
/// (by date and under a forced rulebook).
pub(crate) fn check_log(bytes: &[u8], name: &str) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    let accounts = parse_accounts(LOG_ACCOUNTS).unwrap();
    let markets = markets();
    let rates = flat_rates(&markets);
    for forced in [None, Some(Rulebook::Pmp2026)] {
        let read = ReadOptions {
            auto_rulebook: forced.is_none(),
            ..ReadOptions::default()
        };
        let format = LogFormat::from_path(&path);
        match read_log(&path, format, &accounts, &markets, &read, &|_| {}) {
            Err(e) => {
                let m = e.to_string();
                prop_assert!(
                    m.starts_with(&path.display().to_string())
                        && m.len() > path.display().to_string().len() + 2,
                    "{m}"
                );
            }
            Ok(log) => {
                prop_assert_eq!(log.events.len() + log.rejects.len(), log.rows as usize);
                // Rows in, counted without wabill: a log record is one line (formats.md §1), so
                // every non-blank line after the header (CSV) or every non-blank line (JSON
                // Lines) is billed or rejected.
                prop_assert_eq!(log.rows, rows_in(bytes, name), "rows in");
                if name.ends_with(".csv") {
                    // The block reader against the plain reference reader.
                    let plain = ReadOptions {
                        reader: CsvReader::Plain,
                        ..read.clone()
                    };
                    let p = read_log(&path, format, &accounts, &markets, &plain, &|_| {})
                        .expect("the plain reader reads what the block reader reads");
                    prop_assert_eq!(format!("{:?}", p.events), format!("{:?}", log.events));
                    prop_assert_eq!(&p.rejects, &log.rejects);
                }
                for r in &log.rejects {
                    prop_assert!(
                        r.row >= 1 && r.row <= log.rows,
                        "reject row {} of {}",
                        r.row,
                        log.rows
                    );
                    prop_assert!(!r.message.is_empty());
                }
                let ctx = Context {
                    accounts: &accounts,
                    rates: &rates,
                    markets: &markets,
                    forced,
                    rates_at: None,
                };
                let _ = engine::replay(&log.events, &log.chats, &log.countries, &log.extras, &ctx);
            }
        }
    }
    Ok(())
}

/// The rows of a log file as a reader must count them: its non-blank lines (a trailing `\r`
/// and, in JSON Lines, surrounding whitespace do not count), less the header of a CSV file.
fn rows_in(bytes: &[u8], name: &str) -> u64 {
    let lines = bytes.split(|&c| c == b'\n');
    if name.ends_with(".csv") {
        lines
            .skip(1)
            .filter(|l| !l.strip_suffix(b"\r").unwrap_or(l).is_empty())
            .count() as u64
    } else {
        let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
        bytes
            .split(|&c| c == b'\n')
            .filter(|l| !String::from_utf8_lossy(l).trim().is_empty())
            .count() as u64
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// formats.md §1: CSV logs.
    #[test]
    fn fuzz_log_csv_reads_and_replays_without_panic(bytes in csv_log()) {
        check_log(&bytes.0, "log.csv")?;
    }

    /// formats.md §1: JSON Lines logs.
    #[test]
    fn fuzz_log_jsonl_reads_and_replays_without_panic(bytes in jsonl_log()) {
        check_log(&bytes.0, "log.jsonl")?;
    }
}

// ---------------------------------------------------------------------------------------------
// Rate cards (Meta's layout), accounts, market table
// ---------------------------------------------------------------------------------------------

const PRICING_HEADERS: &[&str] = &[
    "Market",
    "Currency",
    "Marketing",
    "Utility",
    "Authentication",
    "\"Authentication-\nInternational\"",
    "Service",
    "Business-Initiated",
    "User-Initiated",
    "Notes",
];
const TIER_HEADERS: &[&str] = &[
    "\"Market\n(per rate card)\"",
    "Currency",
    "From",
    "To",
    "Rate type",
    "Rate",
    "vs. List rate",
    "Utility",
    "Authentication",
    "Authentication-International",
];

fn layout_text(
    text: &'static str,
    headers: &'static [&'static str],
) -> impl Strategy<Value = String> {
    prop_oneof![
        1 => "(?s).{0,300}",
        4 => edited(text).prop_map(lossy),
        3 => (
            proptest::collection::vec(proptest::collection::vec(select(headers).prop_map(String::from), 0..12), 1..4),
            proptest::collection::vec(proptest::collection::vec(nasty(), 0..12), 0..8),
        )
            .prop_map(|(mut head, rows)| {
                head.extend(rows);
                csv_from(head)
            }),
    ]
}

fn lines_of(text: &str) -> usize {
    text.split(['\n', '\r']).count() + 1
}

/// An accepted rate is exact money the rates directory can load (RATE-3).
fn rate_ok(d: &Decimal) -> Result<(), TestCaseError> {
    prop_assert!(!d.is_sign_negative() && d.scale() <= 6, "rate {d}");
    prop_assert!(
        Money::from_decimal(*d).is_ok(),
        "rate {d} is accepted but not loadable as money"
    );
    Ok(())
}

fn accounts_text() -> impl Strategy<Value = String> {
    let quoted = || prop_oneof![nasty().prop_map(|s| toml_string(&s)), nasty()];
    let structured = (
        proptest::option::of((quoted(), quoted(), quoted(), proptest::collection::vec((nasty(), quoted()), 0..3))),
        proptest::collection::vec((quoted(), proptest::option::of(quoted()), proptest::option::of(quoted())), 0..4),
    )
        .prop_map(|(portfolio, wabas)| {
            let mut t = String::new();
            if let Some((name, primary, start, exceptions)) = portfolio {
                t.push_str(&format!("[portfolio]\nname = {name}\nprimary_country = {primary}\nauth_international_start = {start}\n"));
                let ex: Vec<String> = exceptions.iter().map(|(k, v)| format!("{} = {v}", toml_string(k))).collect();
                t.push_str(&format!("auth_international_exceptions = {{ {} }}\n", ex.join(", ")));
            }
            for (id, tz, cur) in wabas {
                t.push_str(&format!("[[waba]]\nid = {id}\n"));
                if let Some(tz) = tz {
                    t.push_str(&format!("timezone = {tz}\n"));
                }
                if let Some(cur) = cur {
                    t.push_str(&format!("currency = {cur}\n"));
                }
            }
            t
        });
    prop_oneof![
        1 => "(?s).{0,200}",
        3 => edited(ACCOUNTS).prop_map(lossy),
        4 => structured,
    ]
}

fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// RATE-2: Meta's `Pricing.csv`.
    #[test]
    fn fuzz_pricing_csv_parses_or_names_the_line(text in layout_text(PRICING, PRICING_HEADERS)) {
        let _ = detect_kind(&text);
        match parse_pricing(&text) {
            Ok(rows) => {
                for r in rows {
                    prop_assert!(r.line >= 1 && r.line <= lines_of(&text), "line {}", r.line);
                    prop_assert!(!r.market.is_empty());
                    for (_, cell) in &r.cells {
                        if let wabill::io::meta_layout::RateCell::Rate(d) = cell {
                            rate_ok(d)?;
                        }
                    }
                }
            }
            Err(e) => {
                prop_assert!(e.line() >= 1 && e.line() <= lines_of(&text), "{e}");
                prop_assert!(e.to_string().starts_with("line "), "{e}");
            }
        }
    }

    /// RATE-2: Meta's `Tier Pricing.csv`.
    #[test]
    fn fuzz_tier_pricing_csv_parses_or_names_the_line(text in layout_text(TIERS, TIER_HEADERS)) {
        let _ = detect_kind(&text);
        match parse_tier_pricing(&text) {
            Ok(rows) => {
                for r in rows {
                    prop_assert!(r.line >= 1 && r.line <= lines_of(&text), "line {}", r.line);
                    prop_assert!(r.to.is_none_or(|t| t >= r.from));
                    rate_ok(&r.rate)?;
                }
            }
            Err(e) => {
                prop_assert!(e.line() >= 1 && e.line() <= lines_of(&text), "{e}");
                prop_assert!(e.to_string().starts_with("line "), "{e}");
            }
        }
    }

    /// formats.md §2: the accounts file.
    #[test]
    fn fuzz_accounts_toml_parses_or_names_the_key(text in accounts_text()) {
        match parse_accounts(&text) {
            Ok(a) => {
                prop_assert!(!a.wabas.is_empty());
                prop_assert!(a.currency().is_ok());
                for w in &a.wabas {
                    prop_assert_eq!(a.wabas.iter().filter(|x| x.id == w.id).count(), 1);
                }
            }
            Err(e) => prop_assert!(e.to_string().starts_with("accounts: "), "{e}"),
        }
    }

    /// MKT-1 / MKT-2: the market table, and numbers resolved with it.
    #[test]
    fn fuzz_market_table_parses_or_names_the_row(
        text in prop_oneof![
            1 => "(?s).{0,200}",
            4 => edited(MARKET_MAP).prop_map(lossy),
        ],
        numbers in proptest::collection::vec("[0-9]{0,17}", 0..8),
    ) {
        match parse_market_map(&text) {
            Ok(t) => {
                let dates = t.change_dates();
                prop_assert!(dates.windows(2).all(|w| w[0] < w[1]));
                for n in &numbers {
                    if let Ok(c) = t.country_of_number(n) {
                        for d in &dates {
                            let _ = t.name(t.market_of(c, *d));
                        }
                    }
                }
            }
            Err(e) => prop_assert!(e.to_string().starts_with("market table"), "{e}"),
        }
    }

    /// MKT-1: any digits resolve to a country or a clear error with the project's table.
    #[test]
    fn fuzz_user_numbers_resolve_or_fail_cleanly(
        number in prop_oneof!["[0-9]{0,17}", "(1|7|44|91|55|62|263|65)[0-9]{0,13}"],
    ) {
        match markets().country_of_number(&number) {
            Ok(c) => prop_assert!(c.as_str().len() == 2),
            Err(e) => prop_assert!(!e.is_empty()),
        }
    }
}
