//! wabill-testing: property-test generators and a small flow builder for the billing rules,
//! over the pure core (`wabill-core`) only — no polars, plotters or I/O.
//!
//! Why it exists: the rules have sharp edges (24 h conversations and windows, 72 h free entry
//! points, month ends in each WABA's time zone, rulebook and rate-card switches, volume tiers), and
//! the cheapest way to find where an implementation — or a messaging flow — falls off one is to
//! generate many small logs packed around those edges. This module gives the crate's own tests
//! and engineers' tests the same generators:
//!
//! - [`arb_log`]: random [`TestLog`]s (events, accounts, rate cards, market table) shaped by a
//!   [`LogSpec`]: few users, timestamps packed around the 24 h and 72 h edges and around month
//!   ends and switches, every message kind and category, entry points, failures, several WABAs in
//!   different time zones, rate cards with arbitrary but valid rates and tier tables.
//! - [`arb_rates`] and [`arb_rulebook`]: the rate cards and the forced rulebook alone.
//! - [`FlowBuilder`]: a hand-written flow (`FlowBuilder::new().inbound(hours(0)).template(hours(1),
//!   "utility")…`) for an engineer's own property tests.
//! - [`TestLog::replay`] runs the real engine; [`TestLog::bill`] turns a
//!   [`Replay`](wabill_core::engine::Replay) into a [`Bill`] that compares with `==` across
//!   replays (no indices into per-replay tables).
//!
//! Generated logs use the project's market table (`rates/market_map.csv`, compiled in) and
//! rate books keyed by its market ids ([`market_table`]); the currency is always USD.
//! Like the billing core, nothing here reads files, the clock or the environment, and it uses
//! only the billing core (`wabill_core`), plus csv and serde_json to write logs the CLI reads.
//!
//! The parts: `spec` ([`LogSpec`]), `generate` ([`arb_log`], [`arb_rulebook`]), `rate_books`
//! ([`arb_rates`], [`flat_rates`]), `log` ([`TestLog`], [`Bill`]), `debug` (a [`TestLog`] printed
//! as a log) and `flow` ([`FlowBuilder`]).

/// The pure core the generators build on (types, money, the engine), for tests that depend on
/// this crate alone.
pub use wabill_core as billing;

use std::sync::OnceLock;

use chrono::{DateTime, NaiveDate, SecondsFormat, TimeDelta, Utc};
use chrono_tz::Tz;

use wabill_core::markets::MarketTable;
use wabill_core::markets::{MarketRow, MarketTableBuilder};

mod debug;
mod flow;
mod generate;
mod log;
mod rate_books;
mod spec;

pub use flow::FlowBuilder;
pub use generate::{arb_log, arb_rulebook};
pub use log::{Bill, MessageBill, TestLog};
pub use rate_books::{arb_rates, flat_rates};
pub use spec::LogSpec;

const MARKET_MAP: &str = include_str!("../../../rates/market_map.csv");

/// The currency of every generated rate book and WABA.
pub const CURRENCY: &str = "USD";

/// Microseconds per second (event instants are UTC microseconds).
pub const SECOND: i64 = 1_000_000;
/// Microseconds per hour.
pub const HOUR: i64 = 3_600 * SECOND;

/// Instants (UTC) around the edges where bills change: month ends, rulebook switches (§1),
/// market moves (MKT-2), the US marketing pause (PMP-7). A generated log starts about a day
/// before its anchor and spans about ten days, so every WABA time zone crosses the edge.
pub const EDGE_ANCHORS: [&str; 9] = [
    "2022-03-31T12:00:00Z", // cbp-2022, month end
    "2023-05-31T12:00:00Z", // cbp-2022 → cbp-2023 (CBP-10)
    "2024-10-31T12:00:00Z", // cbp-2023 → cbp-2024
    "2025-03-31T12:00:00Z", // PMP-7 US marketing pause
    "2025-06-30T12:00:00Z", // cbp-2024 → pmp-2025 (CBP-9)
    "2025-09-30T12:00:00Z", // Zimbabwe joins Rest of Africa (MKT-2)
    "2026-06-30T12:00:00Z", // Singapore becomes a market (MKT-2)
    "2026-09-30T12:00:00Z", // pmp-2025 → pmp-2026, Kazakhstan becomes a market
    "2026-12-31T12:00:00Z", // year end
];

/// Mid-month instants, each well inside one rulebook period and away from market moves, so
/// that a log around one, shifted by a week either way, stays in the same period.
pub const STEADY_ANCHORS: [&str; 6] = [
    "2022-08-12T00:00:00Z", // cbp-2022
    "2023-09-12T00:00:00Z", // cbp-2023
    "2025-01-14T00:00:00Z", // cbp-2024
    "2025-08-12T00:00:00Z", // pmp-2025
    "2026-02-10T00:00:00Z", // pmp-2025
    "2026-11-12T00:00:00Z", // pmp-2026
];

/// User countries whose market never changes (India, Brazil, North America, Indonesia, United
/// Kingdom). India is the primary business country of generated portfolios (PMP-6).
pub const STEADY_COUNTRIES: [&str; 5] = ["IN", "BR", "US", "ID", "GB"];
/// User countries that change market on a date (MKT-2): ZW 2025-10-01, SG 2026-07-01,
/// KZ 2026-10-01.
pub const MOVING_COUNTRIES: [&str; 3] = ["ZW", "SG", "KZ"];

/// WABA time zones: UTC, half-hour and whole-hour offsets on both sides, DST on both hemispheres.
pub fn time_zones() -> Vec<Tz> {
    vec![
        chrono_tz::UTC,
        chrono_tz::Asia::Kolkata,
        chrono_tz::America::Los_Angeles,
        chrono_tz::Asia::Tokyo,
        chrono_tz::Pacific::Auckland,
        chrono_tz::America::Sao_Paulo,
    ]
}

/// The project's country → market table (`rates/market_map.csv`). Rate books made here are keyed
/// by its market ids.
pub fn market_table() -> MarketTable {
    static TABLE: OnceLock<MarketTable> = OnceLock::new();
    TABLE
        .get_or_init(|| shipped_market_table(MARKET_MAP))
        .clone()
}

/// The shipped `market_map.csv` through the core's builder (the same checks as wabill's
/// `io::market_map`, which reads any such file; a wabill test holds the two tables equal).
fn shipped_market_table(text: &str) -> MarketTable {
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let headers = rdr.headers().expect("market_map.csv header").clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim() == name)
            .unwrap_or_else(|| panic!("market_map.csv has no `{name}` column"))
    };
    let cols = [
        col("country_iso2"),
        col("market"),
        col("network_prefixes"),
        col("valid_from"),
        col("valid_to"),
    ];
    let mut table = MarketTableBuilder::default();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.expect("market_map.csv row");
        let cell = |k: usize| rec.get(cols[k]).unwrap_or("");
        table
            .add(MarketRow {
                row: i + 1,
                country_iso2: cell(0),
                market: cell(1),
                network_prefixes: cell(2),
                valid_from: cell(3),
                valid_to: cell(4),
                country_name: "",
            })
            .expect("rates/market_map.csv is valid");
    }
    table.finish()
}

/// Whole hours, days… as offsets for [`FlowBuilder`].
pub fn hours(h: i64) -> TimeDelta {
    TimeDelta::hours(h)
}
pub fn minutes(m: i64) -> TimeDelta {
    TimeDelta::minutes(m)
}
pub fn seconds(s: i64) -> TimeDelta {
    TimeDelta::seconds(s)
}
pub fn days(d: i64) -> TimeDelta {
    TimeDelta::days(d)
}

/// The UTC instant of `rfc3339` in microseconds, for tests that place events by hand.
pub fn at(rfc3339: &str) -> i64 {
    instant(rfc3339)
}

fn instant(rfc3339: &str) -> i64 {
    DateTime::parse_from_rfc3339(rfc3339)
        .unwrap_or_else(|e| panic!("`{rfc3339}` is not an RFC 3339 instant: {e}"))
        .timestamp_micros()
}

fn rfc3339(ts: i64) -> String {
    DateTime::<Utc>::from_timestamp_micros(ts)
        .map(|d| d.to_rfc3339_opts(SecondsFormat::AutoSi, true))
        .unwrap_or_else(|| ts.to_string())
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}
