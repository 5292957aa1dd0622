//! Property-test generators and a small flow builder for the billing rules (feature `testing`).
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
//! - [`TestLog::replay`] runs the real engine; [`TestLog::bill`] turns a [`Replay`] into a
//!   [`Bill`] that compares with `==` across replays (no indices into per-replay tables).
//!
//! Generated logs use the project's market table (`rates/market_map.csv`, compiled in) and
//! rate books keyed by its market ids ([`market_table`]); the currency is always USD.
//! Like the billing core, nothing here reads files, the clock or the environment.

use std::fmt;
use std::sync::OnceLock;

use chrono::{DateTime, NaiveDate, SecondsFormat, TimeDelta, Utc};
use chrono_tz::Tz;
use proptest::prelude::*;
use proptest::sample::{select, Index};
use proptest::strategy::Union;

use crate::billing::accounts::{Accounts, Portfolio, Waba};

use crate::billing::engine::{self, BillingError, ChatKey, Context, Event, Line, Replay, Unit};
use crate::billing::markets::{normalize_number, MarketId, MarketTable};
use crate::billing::money::Money;
use crate::billing::rates::{Band, Cell, RateBook, RateCard};
use crate::billing::types::*;
use crate::io::market_map::parse_market_map;

const MARKET_MAP: &str = include_str!("../rates/market_map.csv");

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
        .get_or_init(|| parse_market_map(MARKET_MAP).expect("rates/market_map.csv parses"))
        .clone()
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

// ---------------------------------------------------------------------------------------------
// The spec
// ---------------------------------------------------------------------------------------------

/// What [`arb_log`] generates. Start from [`LogSpec::default`] (everything on, around the edges)
/// or [`LogSpec::steady`] (one rate card, mid-period anchors, no market moves or eligibility
/// change) and switch parts off with the builder methods.
#[derive(Debug, Clone)]
pub struct LogSpec {
    /// Distinct users: 1 ..= `users`, each of a country drawn from `countries`.
    pub users: usize,
    /// ISO 3166 alpha-2 codes the users' countries are drawn from.
    pub countries: Vec<&'static str>,
    /// WABAs: 1 ..= `wabas` (at most 3), each in a time zone drawn from `time_zones`.
    pub wabas: usize,
    pub time_zones: Vec<Tz>,
    /// Business numbers per WABA: 1 ..= `numbers` (CONV-3).
    pub numbers: usize,
    /// Rows per log: 1 ..= `max_events`.
    pub max_events: usize,
    /// RFC 3339 instants a log is placed around.
    pub anchors: Vec<&'static str>,
    /// Rows are placed from a day before the anchor to `span_days` after it (rows placed at an
    /// edge of an earlier row may fall up to four days later).
    pub span_days: i64,
    /// Inbound rows may come through an entry point (CBP-6, PMP-3).
    pub entry_points: bool,
    /// Business rows may be `sent` or `failed` (not delivered).
    pub failures: bool,
    /// Rate cards may carry volume-tier tables (PMP-4), with small thresholds most of the time
    /// so that small logs reach them.
    pub tiers: bool,
    /// Tier tables may end before an open band (a count beyond is a missing rate, RATE-4).
    pub partial_tiers: bool,
    /// Up to two more cards take effect one to three days after the anchor (RATE-1).
    pub card_switches: bool,
    /// The portfolio may be eligible for authentication-international (PMP-6), with India as its
    /// primary country.
    pub auth_international: bool,
    /// When eligible, the eligibility start (and an exception for Indonesia) falls inside the
    /// log's span; otherwise eligibility starts long before it.
    pub eligibility_changes: bool,
}

impl Default for LogSpec {
    fn default() -> Self {
        LogSpec {
            users: 4,
            countries: STEADY_COUNTRIES
                .iter()
                .chain(MOVING_COUNTRIES.iter())
                .copied()
                .collect(),
            wabas: 2,
            time_zones: time_zones(),
            numbers: 2,
            max_events: 40,
            anchors: EDGE_ANCHORS.to_vec(),
            span_days: 5,
            entry_points: true,
            failures: true,
            tiers: true,
            partial_tiers: false,
            card_switches: true,
            auth_international: true,
            eligibility_changes: true,
        }
    }
}

impl LogSpec {
    /// Logs inside one rate card, one rulebook period and one market table: mid-period anchors,
    /// steady countries, a single card, no eligibility change. Tiers, entry points and failures
    /// stay on.
    pub fn steady() -> Self {
        LogSpec {
            countries: STEADY_COUNTRIES.to_vec(),
            anchors: STEADY_ANCHORS.to_vec(),
            card_switches: false,
            eligibility_changes: false,
            ..LogSpec::default()
        }
    }
    pub fn users(mut self, n: usize) -> Self {
        self.users = n.max(1);
        self
    }
    pub fn wabas(mut self, n: usize) -> Self {
        self.wabas = n.clamp(1, 3);
        self
    }
    pub fn numbers(mut self, n: usize) -> Self {
        self.numbers = n.max(1);
        self
    }
    pub fn max_events(mut self, n: usize) -> Self {
        self.max_events = n.max(1);
        self
    }
    pub fn anchors(mut self, anchors: &[&'static str]) -> Self {
        self.anchors = anchors.to_vec();
        self
    }
    /// Rows from a day before the anchor to `days` after it.
    pub fn span_days(mut self, days: i64) -> Self {
        self.span_days = days.max(1);
        self
    }
    pub fn countries(mut self, countries: &[&'static str]) -> Self {
        self.countries = countries.to_vec();
        self
    }
    pub fn without_tiers(mut self) -> Self {
        self.tiers = false;
        self.partial_tiers = false;
        self
    }
    pub fn with_partial_tiers(mut self) -> Self {
        self.tiers = true;
        self.partial_tiers = true;
        self
    }
    pub fn without_entry_points(mut self) -> Self {
        self.entry_points = false;
        self
    }
    pub fn without_failures(mut self) -> Self {
        self.failures = false;
        self
    }
    pub fn single_card(mut self) -> Self {
        self.card_switches = false;
        self
    }
    pub fn without_auth_international(mut self) -> Self {
        self.auth_international = false;
        self
    }

    /// Every market the spec's countries belong to on some date.
    fn markets(&self, table: &MarketTable) -> Vec<MarketId> {
        let mut dates = vec![NaiveDate::MIN];
        dates.extend(table.change_dates());
        let mut out: Vec<MarketId> = Vec::new();
        for c in &self.countries {
            let c = Country::parse(c).unwrap_or_else(|| panic!("`{c}` is not an ISO2 code"));
            for d in &dates {
                let m = table.market_of(c, *d);
                if !out.contains(&m) {
                    out.push(m);
                }
            }
        }
        out.sort();
        out
    }
}

// ---------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------

/// The `--rulebook` of a replay: `None` (by date) half of the time, else any rulebook.
pub fn arb_rulebook() -> impl Strategy<Value = Option<Rulebook>> {
    prop_oneof![Just(None), select(Rulebook::ALL.to_vec()).prop_map(Some)]
}

/// What a generated row is; turned into a [`Kind`] once the status is known.
#[derive(Debug, Clone, Copy)]
enum Shape {
    In,
    EntryPoint,
    Template(TemplateCategory),
    Text,
}

#[derive(Debug, Clone)]
struct EventGen {
    /// Seconds from the anchor.
    base: i64,
    /// `(earlier event, seconds)`: placed that long after an earlier event instead (an edge of
    /// its windows, or a reply), and with `follow` in the same chat.
    edge: Option<(Index, i64)>,
    follow: bool,
    waba: Index,
    number: Index,
    user: Index,
    shape: Shape,
    status: Status,
}

fn base_offset(span_days: i64) -> impl Strategy<Value = i64> {
    let d = span_days.max(1);
    prop_oneof![
        // whole hours: many events share instants and hit each other's 24 h / 72 h edges
        (-24i64..24 * d).prop_map(|h| h * 3600),
        // whole days ± one second around the anchor (month ends, switches at local midnight)
        (-1i64..=d, -1i64..=1).prop_map(|(d, s)| d * 86_400 + s),
        // anywhere
        -86_400i64..d * 86_400,
    ]
}

fn edge_delta() -> impl Strategy<Value = i64> {
    const D: i64 = 86_400;
    prop_oneof![
        3 => select(vec![
            0,
            1,
            D - 1,
            D,
            D + 1,
            2 * D,
            3 * D - 1,
            3 * D,
            3 * D + 1,
            4 * D
        ]),
        1 => (1i64..30).prop_map(|h| h * 3600),
        1 => (1i64..120).prop_map(|m| m * 60),
    ]
}

fn shape(spec: &LogSpec) -> impl Strategy<Value = Shape> {
    let mut arms: Vec<(u32, BoxedStrategy<Shape>)> = vec![
        (3, Just(Shape::In).boxed()),
        (
            2,
            Just(Shape::Template(TemplateCategory::Marketing)).boxed(),
        ),
        (3, Just(Shape::Template(TemplateCategory::Utility)).boxed()),
        (
            2,
            Just(Shape::Template(TemplateCategory::Authentication)).boxed(),
        ),
        (3, Just(Shape::Text).boxed()),
    ];
    if spec.entry_points {
        arms.push((1, Just(Shape::EntryPoint).boxed()));
    }
    Union::new_weighted(arms)
}

fn status(spec: &LogSpec) -> impl Strategy<Value = Status> {
    let mut arms: Vec<(u32, BoxedStrategy<Status>)> = vec![
        (8, Just(Status::Delivered).boxed()),
        (1, Just(Status::Read).boxed()),
    ];
    if spec.failures {
        arms.push((1, Just(Status::Sent).boxed()));
        arms.push((1, Just(Status::Failed).boxed()));
    }
    Union::new_weighted(arms)
}

fn event_gen(spec: &LogSpec) -> impl Strategy<Value = EventGen> {
    (
        base_offset(spec.span_days),
        proptest::option::weighted(0.6, (any::<Index>(), edge_delta())),
        proptest::bool::weighted(0.7),
        (any::<Index>(), any::<Index>(), any::<Index>()),
        shape(spec),
        status(spec),
    )
        .prop_map(
            |(base, edge, follow, (waba, number, user), shape, status)| EventGen {
                base,
                edge,
                follow,
                waba,
                number,
                user,
                shape,
                status,
            },
        )
}

/// One volume-tier table before it meets its list rate.
#[derive(Debug, Clone)]
struct TierGen {
    from_one: bool,
    /// Band widths; the first band pays the list rate.
    widths: Vec<u64>,
    /// Per band after the first: cut of the previous band's rate, in per mille.
    cuts: Vec<u32>,
    open_end: bool,
}

fn tier_gen(partial: bool) -> impl Strategy<Value = TierGen> {
    let width = prop_oneof![4 => 1u64..=5, 1 => 500u64..=100_000];
    (
        any::<bool>(),
        proptest::collection::vec(width, 1..=4),
        proptest::collection::vec(0u32..=300, 3),
        if partial {
            prop_oneof![3 => Just(true), 1 => Just(false)].boxed()
        } else {
            Just(true).boxed()
        },
    )
        .prop_map(|(from_one, widths, cuts, open_end)| TierGen {
            from_one,
            widths,
            cuts,
            open_end,
        })
}

#[derive(Debug, Clone)]
struct CardGen {
    /// Days after the anchor's UTC date; `None` = the base card (2000-01-01).
    after: Option<i64>,
    /// Per market (in `LogSpec::markets` order) and rate column: micro-units.
    rates: Vec<[u32; 7]>,
    /// Per market: whether authentication-international is `n/a`.
    no_intl: Vec<bool>,
    /// Per market and tiered column (utility, authentication, authentication-international).
    tiers: Vec<[Option<TierGen>; 3]>,
}

fn rate_micros() -> impl Strategy<Value = u32> {
    prop_oneof![1 => Just(0u32), 12 => 1u32..=200_000]
}

fn card_gen(spec: &LogSpec, n_markets: usize, base: bool) -> impl Strategy<Value = CardGen> {
    let tiers = if spec.tiers {
        let t = || proptest::option::weighted(0.6, tier_gen(spec.partial_tiers));
        proptest::collection::vec([t(), t(), t()], n_markets).boxed()
    } else {
        Just(vec![[None, None, None]; n_markets]).boxed()
    };
    (
        if base {
            Just(None).boxed()
        } else {
            (1i64..=3).prop_map(Some).boxed()
        },
        proptest::collection::vec(proptest::array::uniform7(rate_micros()), n_markets),
        proptest::collection::vec(proptest::bool::weighted(0.25), n_markets),
        tiers,
    )
        .prop_map(|(after, rates, no_intl, tiers)| CardGen {
            after,
            rates,
            no_intl,
            tiers,
        })
}

fn cards_gen(spec: &LogSpec, n_markets: usize) -> impl Strategy<Value = Vec<CardGen>> {
    let extra = if spec.card_switches {
        0..=2usize
    } else {
        0..=0
    };
    (
        card_gen(spec, n_markets, true),
        proptest::collection::vec(card_gen(spec, n_markets, false), extra),
    )
        .prop_map(|(base, mut extra)| {
            extra.insert(0, base);
            extra
        })
}

fn build_book(cards: &[CardGen], markets: &[MarketId], anchor: i64) -> RateBook {
    let anchor_date = DateTime::<Utc>::from_timestamp_micros(anchor)
        .expect("anchor in range")
        .date_naive();
    let mut out: Vec<RateCard> = Vec::new();
    for g in cards {
        let effective = match g.after {
            None => ymd(2000, 1, 1),
            Some(d) => anchor_date + TimeDelta::days(d),
        };
        if out.iter().any(|c| c.effective == effective) {
            continue; // one card per currency and date
        }
        let mut card = RateCard::new(CURRENCY, effective, &format!("generated/{effective}"));
        for (k, &m) in markets.iter().enumerate() {
            for col in RateColumn::ALL {
                let cell = if col == RateColumn::AuthenticationInternational && g.no_intl[k] {
                    Cell::NotOffered
                } else {
                    Cell::Rate(Money(g.rates[k][col.index()] as i64))
                };
                card.set(m, col, cell);
            }
            let tiered = [
                RateColumn::Utility,
                RateColumn::Authentication,
                RateColumn::AuthenticationInternational,
            ];
            for (t, col) in tiered.into_iter().enumerate() {
                let Some(tg) = &g.tiers[k][t] else { continue };
                let Some(list) = card.rate(m, col) else {
                    continue; // n/a: no table either
                };
                card.set_tiers(m, col, bands(tg, list));
            }
        }
        out.push(card);
    }
    RateBook::new(out)
}

/// PMP-4 bands: contiguous, the first at the list rate, rates never increasing.
fn bands(g: &TierGen, list: Money) -> Vec<Band> {
    let mut out = Vec::new();
    let mut from = u64::from(g.from_one);
    let mut rate = list.0;
    for (i, w) in g.widths.iter().enumerate() {
        if i > 0 {
            rate -= rate * i64::from(g.cuts[(i - 1) % g.cuts.len()]) / 1000;
        }
        // A first band from 0 covers counts 1..=w; later bands w counts each.
        let to = if i == 0 && from == 0 {
            *w
        } else {
            from + w - 1
        };
        out.push(Band {
            from,
            to: Some(to),
            rate: Money(rate),
        });
        from = to + 1;
    }
    if g.open_end {
        if let Some(last) = out.last_mut() {
            last.to = None;
        }
    }
    out
}

/// Rate books like [`arb_log`]'s, for hand-built flows: a base card for the spec's countries'
/// markets, plus (with `card_switches`) cards a few days after one of the spec's anchors.
/// Keyed by [`market_table`]'s ids.
pub fn arb_rates(spec: &LogSpec) -> impl Strategy<Value = RateBook> {
    assert!(!spec.anchors.is_empty(), "LogSpec needs anchors");
    let table = market_table();
    let markets = spec.markets(&table);
    let anchors: Vec<i64> = spec.anchors.iter().map(|a| instant(a)).collect();
    (select(anchors), cards_gen(spec, markets.len()))
        .prop_map(move |(anchor, cards)| build_book(&cards, &markets, anchor))
}

#[derive(Debug, Clone)]
struct Eligibility {
    /// Hours from the anchor (or `None`: eligible since 2020).
    start: Option<i64>,
    /// Indonesia's exception, hours after the general start.
    exception: Option<i64>,
}

fn eligibility(spec: &LogSpec) -> BoxedStrategy<Option<Eligibility>> {
    if !spec.auth_international {
        return Just(None).boxed();
    }
    let changes = spec.eligibility_changes;
    proptest::option::of(
        (
            if changes {
                (-48i64..120).prop_map(Some).boxed()
            } else {
                Just(None).boxed()
            },
            if changes {
                proptest::option::of(0i64..72).boxed()
            } else {
                Just(None).boxed()
            },
        )
            .prop_map(|(start, exception)| Eligibility { start, exception }),
    )
    .boxed()
}

/// Random logs as the spec says; see [`LogSpec`]. Shrinks by dropping rows and simplifying them.
pub fn arb_log(spec: LogSpec) -> impl Strategy<Value = TestLog> {
    assert!(
        !spec.anchors.is_empty() && !spec.countries.is_empty() && !spec.time_zones.is_empty(),
        "LogSpec needs anchors, countries and time zones"
    );
    let table = market_table();
    let markets = spec.markets(&table);
    let anchors: Vec<i64> = spec.anchors.iter().map(|a| instant(a)).collect();
    let countries: Vec<Country> = spec
        .countries
        .iter()
        .map(|c| Country::parse(c).expect("ISO2"))
        .collect();
    let users = spec.users.max(1);
    let wabas = spec.wabas.clamp(1, 3);
    let numbers = spec.numbers.max(1);
    let span_days = spec.span_days.max(1);
    (
        select(anchors),
        proptest::collection::vec(select(countries), users),
        proptest::collection::vec(select(spec.time_zones.clone()), 1..=wabas),
        proptest::collection::vec(event_gen(&spec), 1..=spec.max_events.max(1)),
        cards_gen(&spec, markets.len()),
        eligibility(&spec),
    )
        .prop_map(move |(anchor, users, tzs, evs, cards, elig)| {
            let rates = build_book(&cards, &markets, anchor);
            assemble(anchor, span_days, &users, &tzs, numbers, &evs, rates, elig)
        })
}

fn user_number(country: Country, k: usize) -> String {
    let (code, width) = match country.as_str() {
        "IN" => ("91980000", 4),
        "BR" => ("5511900", 6),
        "US" => ("1202555", 4),
        "ID" => ("6281200", 6),
        "GB" => ("4477009", 5),
        "ZW" => ("2637712", 5),
        "SG" => ("6581", 4),
        "KZ" => ("7701234", 4),
        _ => ("999", 8),
    };
    format!("+{code}{:0width$}", k + 1)
}

#[allow(clippy::too_many_arguments)]
fn assemble(
    anchor: i64,
    span_days: i64,
    user_countries: &[Country],
    tzs: &[Tz],
    numbers_per_waba: usize,
    evs: &[EventGen],
    rates: RateBook,
    elig: Option<Eligibility>,
) -> TestLog {
    let ids = ["a", "b", "c"];
    let accounts = Accounts {
        portfolio: Portfolio {
            name: "generated".into(),
            primary_country: elig.as_ref().map(|_| Country(*b"IN")),
            auth_international_start: elig.as_ref().map(|e| match e.start {
                Some(h) => anchor + h * HOUR,
                None => instant("2020-01-01T00:00:00Z"),
            }),
            auth_international_exceptions: elig
                .as_ref()
                .and_then(|e| {
                    let start = anchor + e.start? * HOUR;
                    Some((Country(*b"ID"), start + e.exception? * HOUR))
                })
                .into_iter()
                .collect(),
        },
        wabas: tzs
            .iter()
            .enumerate()
            .map(|(i, tz)| Waba {
                id: ids[i].into(),
                tz: *tz,
                currency: CURRENCY.into(),
            })
            .collect(),
        provider: None,
    };
    let numbers: Vec<String> = (0..tzs.len())
        .flat_map(|w| (0..numbers_per_waba).map(move |n| format!("{}-{}", ids[w], n + 1)))
        .collect();
    let mut log = TestLog {
        events: Vec::with_capacity(evs.len()),
        chats: Vec::new(),
        countries: user_countries.to_vec(),
        users: user_countries
            .iter()
            .enumerate()
            .map(|(k, c)| user_number(*c, k))
            .collect(),
        numbers,
        accounts,
        rates,
        markets: market_table(),
    };
    // Seconds from the anchor, and (waba, number, user), of each row so far.
    let mut placed: Vec<(i64, usize, usize, usize)> = Vec::with_capacity(evs.len());
    for (i, g) in evs.iter().enumerate() {
        let earlier = g
            .edge
            .filter(|_| i > 0)
            .map(|(ix, delta)| (placed[ix.index(i)], delta));
        // Chains of edges stay within four days after the span.
        let secs = match earlier {
            Some(((at, ..), delta)) if at + delta <= (span_days + 4) * 86_400 => at + delta,
            _ => g.base,
        };
        let (waba, number, user) = match earlier {
            Some(((_, w, n, u), _)) if g.follow => (w, n, u),
            _ => {
                let w = g.waba.index(tzs.len());
                (
                    w,
                    w * numbers_per_waba + g.number.index(numbers_per_waba),
                    g.user.index(user_countries.len()),
                )
            }
        };
        placed.push((secs, waba, number, user));
        let kind = match g.shape {
            Shape::In => Kind::In { entry_point: false },
            Shape::EntryPoint => Kind::In { entry_point: true },
            Shape::Template(c) => Kind::Out {
                template: Some(c),
                status: g.status,
            },
            Shape::Text => Kind::Out {
                template: None,
                status: g.status,
            },
        };
        let chat = log.chat(waba as u16, number as u32, user as u32);
        log.events.push(Event {
            ts: anchor + secs * SECOND,
            row: i as u32 + 1,
            chat,
            country: user as u16,
            kind,
        });
    }
    log
}

// ---------------------------------------------------------------------------------------------
// Test logs
// ---------------------------------------------------------------------------------------------

/// A log with everything the engine needs to replay it. `events[i].chat` indexes `chats`,
/// `events[i].country` indexes `countries`; `chats[c].user` indexes `users` (numbers as written
/// in a log) and `chats[c].number` indexes `numbers`. In generated and built logs `countries` is
/// parallel to `users` (user `u`'s rows have country `u`).
#[derive(Clone)]
pub struct TestLog {
    pub events: Vec<Event>,
    pub chats: Vec<ChatKey>,
    pub countries: Vec<Country>,
    pub users: Vec<String>,
    pub numbers: Vec<String>,
    pub accounts: Accounts,
    pub rates: RateBook,
    pub markets: MarketTable,
}

/// One business message's bill, comparable across replays: names instead of table indices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageBill {
    pub row: u32,
    pub reason: Option<Reason>,
    pub rule: Option<&'static str>,
    pub rulebook: Option<Rulebook>,
    pub billed: Option<Billed>,
    pub unit: Unit,
    /// Opening instant of the conversation or free entry point window it belongs to.
    pub conversation: Option<i64>,
    pub price: Money,
    pub market: String,
    /// `YYYY-MM` in the WABA's time zone.
    pub month: String,
}

/// A replay's bill: total, lines, one [`MessageBill`] per event (indexed like the events; inbound
/// rows have no reason), issues as `(row, code)` in CONV-1 order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bill {
    pub total: Money,
    pub lines: Vec<Line>,
    pub messages: Vec<MessageBill>,
    pub issues: Vec<(u32, &'static str)>,
}

impl TestLog {
    /// An empty log with one WABA `default` in UTC, the project's market table and no rates.
    pub fn empty() -> TestLog {
        TestLog {
            events: Vec::new(),
            chats: Vec::new(),
            countries: Vec::new(),
            users: Vec::new(),
            numbers: Vec::new(),
            accounts: Accounts::default_single(),
            rates: RateBook::default(),
            markets: market_table(),
        }
    }

    /// The index of a chat, added if new (CONV-3).
    pub fn chat(&mut self, waba: u16, number: u32, user: u32) -> u32 {
        let key = ChatKey { waba, number, user };
        match self.chats.iter().position(|c| *c == key) {
            Some(i) => i as u32,
            None => {
                self.chats.push(key);
                self.chats.len() as u32 - 1
            }
        }
    }

    /// Adds a row at `ts` in chat `chat` (an index into `chats`) as the last row of the file;
    /// returns its event index. The user's country is the one of the user's other rows.
    pub fn add_row(&mut self, ts: i64, chat: u32, kind: Kind) -> usize {
        let user = self.chats[chat as usize].user;
        let country = self
            .events
            .iter()
            .find(|e| self.chats[e.chat as usize].user == user)
            .map(|e| e.country)
            .unwrap_or(user as u16);
        let row = self.events.iter().map(|e| e.row).max().unwrap_or(0) + 1;
        self.events.push(Event {
            ts,
            row,
            chat,
            country,
            kind,
        });
        self.events.len() - 1
    }

    /// The engine's context for this log.
    pub fn context(&self, forced: Option<Rulebook>) -> Context<'_> {
        Context {
            accounts: &self.accounts,
            rates: &self.rates,
            markets: &self.markets,
            forced,
            rates_at: None,
        }
    }

    /// Replays the log with the real engine; `forced` is `--rulebook` (`None` = by date).
    pub fn replay(&self, forced: Option<Rulebook>) -> Result<Replay, BillingError> {
        engine::replay(
            &self.events,
            &self.chats,
            &self.countries,
            &self.context(forced),
        )
    }

    /// [`TestLog::replay`] and [`TestLog::bill`] in one.
    pub fn bill_of(&self, forced: Option<Rulebook>) -> Result<Bill, BillingError> {
        self.replay(forced).map(|r| self.bill(&r))
    }

    /// The comparable view of a replay of this log.
    pub fn bill(&self, r: &Replay) -> Bill {
        let messages = self
            .events
            .iter()
            .zip(&r.outcomes)
            .map(|(e, o)| {
                let waba = self.chats[e.chat as usize].waba;
                MessageBill {
                    row: e.row,
                    reason: o.reason,
                    rule: o.rule.map(|r| r.id()),
                    rulebook: o.rulebook,
                    billed: o.billed,
                    unit: o.unit,
                    conversation: o.conv_start,
                    price: o.price,
                    market: self.markets.name(o.market).to_string(),
                    month: r.month_of(waba, o),
                }
            })
            .collect();
        Bill {
            total: r.total,
            lines: r.lines.clone(),
            messages,
            issues: r
                .issues
                .iter()
                .map(|i| (self.events[i.event as usize].row, i.code))
                .collect(),
        }
    }

    /// The same accounts, rates and tables with other events (e.g. a subset, or shuffled).
    pub fn with_events(&self, events: Vec<Event>) -> TestLog {
        TestLog {
            events,
            ..self.clone()
        }
    }

    /// The users (indices into `users`) that have rows.
    pub fn users_with_rows(&self) -> Vec<u32> {
        let mut u: Vec<u32> = self
            .events
            .iter()
            .map(|e| self.chats[e.chat as usize].user)
            .collect();
        u.sort_unstable();
        u.dedup();
        u
    }

    /// Only one user's rows (over all WABAs and business numbers).
    pub fn only_user(&self, user: u32) -> TestLog {
        self.with_events(
            self.events
                .iter()
                .filter(|e| self.chats[e.chat as usize].user == user)
                .copied()
                .collect(),
        )
    }

    /// Every instant moved by `micros`.
    pub fn shifted(&self, micros: i64) -> TestLog {
        self.with_events(
            self.events
                .iter()
                .map(|e| Event {
                    ts: e.ts + micros,
                    ..*e
                })
                .collect(),
        )
    }

    /// The same cards without their volume-tier tables: everything at list price.
    pub fn without_tiers(&self) -> TestLog {
        let cards = self
            .rates
            .cards
            .iter()
            .map(|c| {
                let mut n = RateCard::new(&c.currency, c.effective, &c.source);
                for (m, cells) in c.markets() {
                    for col in RateColumn::ALL {
                        if c.columns[col.index()] {
                            n.set(*m, col, cells[col.index()]);
                        }
                    }
                }
                n.columns = c.columns;
                n
            })
            .collect();
        TestLog {
            rates: RateBook::new(cards),
            ..self.clone()
        }
    }

    /// Whether any card has a tier table.
    pub fn has_tiers(&self) -> bool {
        self.rates
            .cards
            .iter()
            .any(|c| c.tier_tables().next().is_some())
    }

    /// The highest rate of the given columns on any card and market (list rates; tier rates
    /// never exceed them in generated books).
    pub fn max_rate(&self, columns: &[RateColumn]) -> Money {
        self.rates
            .cards
            .iter()
            .flat_map(|c| {
                c.markets().flat_map(move |(_, cells)| {
                    columns
                        .iter()
                        .filter_map(move |col| match cells[col.index()] {
                            Cell::Rate(m) => Some(m),
                            _ => None,
                        })
                })
            })
            .max()
            .unwrap_or(Money::ZERO)
    }

    /// The WABA of an event.
    pub fn waba_of(&self, event: &Event) -> u16 {
        self.chats[event.chat as usize].waba
    }

    /// Event indices in CONV-1 order (UTC instant, then row).
    pub fn conv1_order(&self) -> Vec<usize> {
        let mut o: Vec<usize> = (0..self.events.len()).collect();
        o.sort_by_key(|&i| (self.events[i].ts, self.events[i].row));
        o
    }

    /// The log as a CSV file (formats.md §1), rows in row order, with an explicit `country`
    /// column (MKT-3): `wabill replay` on it, with the same accounts and rates, bills the same.
    pub fn to_csv(&self) -> String {
        let mut out = String::from(
            "timestamp,direction,user,type,category,status,entry_point,waba,number,country\n",
        );
        for e in self.rows_in_order() {
            let [ts, dir, user, ty, cat, st, ep, waba, number, country] = self.fields(e);
            out.push_str(&format!(
                "{ts},{dir},{user},{ty},{cat},{st},{ep},{waba},{number},{country}\n"
            ));
        }
        out
    }

    /// The log as JSON Lines (formats.md §1), same content as [`TestLog::to_csv`].
    pub fn to_jsonl(&self) -> String {
        let mut out = String::new();
        for e in self.rows_in_order() {
            // Every column but `id`.
            let obj: serde_json::Map<String, serde_json::Value> = LOG_COLUMNS[..10]
                .iter()
                .zip(self.fields(e))
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| (k.to_string(), serde_json::Value::String(v)))
                .collect();
            out.push_str(&serde_json::Value::Object(obj).to_string());
            out.push('\n');
        }
        out
    }

    fn rows_in_order(&self) -> Vec<&Event> {
        let mut rows: Vec<&Event> = self.events.iter().collect();
        rows.sort_by_key(|e| e.row);
        rows
    }

    fn fields(&self, e: &Event) -> [String; 10] {
        let chat = self.chats[e.chat as usize];
        let (dir, ty, cat, st, ep) = match e.kind {
            Kind::In { entry_point } => ("in", "", "", "", if entry_point { "ctwa" } else { "" }),
            Kind::Out { template, status } => (
                "out",
                if template.is_some() {
                    "template"
                } else {
                    "text"
                },
                template.map(|c| c.id()).unwrap_or(""),
                status.id(),
                "",
            ),
        };
        [
            rfc3339(e.ts),
            dir.into(),
            self.users
                .get(chat.user as usize)
                .cloned()
                .unwrap_or_default(),
            ty.into(),
            cat.into(),
            st.into(),
            ep.into(),
            self.accounts.wabas[chat.waba as usize].id.clone(),
            self.numbers
                .get(chat.number as usize)
                .cloned()
                .unwrap_or_default(),
            self.countries[e.country as usize].to_string(),
        ]
    }
}

/// Readable in proptest's failure output: accounts, cards (the markets of the rows only), then
/// one line per row in CONV-1 order with the WABA-local time.
impl fmt::Debug for TestLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = &self.accounts.portfolio;
        let used: Vec<MarketId> = self
            .events
            .iter()
            .map(|e| {
                let tz = self.accounts.wabas[self.waba_of(e) as usize].tz;
                let date = crate::billing::calendar::local_date(tz, e.ts);
                self.markets
                    .market_of(self.countries[e.country as usize], date)
            })
            .collect();
        writeln!(f, "TestLog {{")?;
        for w in &self.accounts.wabas {
            writeln!(f, "  waba {} {} {}", w.id, w.tz, w.currency)?;
        }
        if let (Some(c), Some(s)) = (p.primary_country, p.auth_international_start) {
            write!(f, "  auth-international: primary {c}, from {}", rfc3339(s))?;
            for (c, s) in &p.auth_international_exceptions {
                write!(f, ", {c} from {}", rfc3339(*s))?;
            }
            writeln!(f)?;
        }
        for c in &self.rates.cards {
            write!(f, "  card {} {}:", c.currency, c.effective)?;
            let mut markets: Vec<_> = c.markets().filter(|(m, _)| used.contains(m)).collect();
            markets.sort_by_key(|(m, _)| **m);
            for (m, cells) in markets {
                write!(f, " {}[", self.markets.name(*m))?;
                for col in RateColumn::ALL {
                    match cells[col.index()] {
                        Cell::Rate(r) => write!(f, "{}", r.0)?,
                        Cell::NotOffered => write!(f, "n/a")?,
                        Cell::Unknown => write!(f, "?")?,
                    }
                    if col != RateColumn::UserInitiated {
                        write!(f, " ")?;
                    }
                }
                write!(f, "]")?;
            }
            writeln!(f)?;
            let mut tables: Vec<_> = c
                .tier_tables()
                .filter(|((m, _), _)| used.contains(m))
                .collect();
            tables.sort_by_key(|((m, col), _)| (*m, *col));
            for ((m, col), bands) in tables {
                write!(f, "    tiers {} {}:", self.markets.name(*m), col.id())?;
                for b in bands {
                    let to = b.to.map(|t| t.to_string()).unwrap_or_else(|| "--".into());
                    write!(f, " {}..{}@{}", b.from, to, b.rate.0)?;
                }
                writeln!(f)?;
            }
        }
        for i in self.conv1_order() {
            let e = &self.events[i];
            let chat = self.chats[e.chat as usize];
            let tz = self.accounts.wabas[chat.waba as usize].tz;
            let local = DateTime::<Utc>::from_timestamp_micros(e.ts)
                .map(|d| d.with_timezone(&tz).format("%m-%d %H:%M:%S").to_string())
                .unwrap_or_default();
            let what = match e.kind {
                Kind::In { entry_point: false } => "in".to_string(),
                Kind::In { entry_point: true } => "in entry-point".to_string(),
                Kind::Out { template, status } => format!(
                    "out {} {}",
                    template.map(|c| c.id()).unwrap_or("text"),
                    status.id()
                ),
            };
            writeln!(
                f,
                "  row {:>2} {} (local {}) {} {} user {} ({}) {}",
                e.row,
                rfc3339(e.ts),
                local,
                self.accounts.wabas[chat.waba as usize].id,
                self.numbers
                    .get(chat.number as usize)
                    .map(String::as_str)
                    .unwrap_or("?"),
                chat.user,
                self.countries[e.country as usize],
                what
            )?;
        }
        write!(f, "}}")
    }
}

// ---------------------------------------------------------------------------------------------
// Flow builder
// ---------------------------------------------------------------------------------------------

/// A rate book with one card (USD, effective 2000-01-01) giving every market of `markets` the
/// same round rates: marketing 0.05, utility 0.02, authentication 0.01, authentication-international
/// 0.03, service 0.02, business-initiated 0.04, user-initiated 0.03. No tiers.
pub fn flat_rates(markets: &MarketTable) -> RateBook {
    let mut card = RateCard::new(CURRENCY, ymd(2000, 1, 1), "flat");
    let rates = [50_000, 20_000, 10_000, 30_000, 20_000, 40_000, 30_000];
    for m in 0..markets.len() as MarketId {
        for col in RateColumn::ALL {
            card.set(m, col, Cell::Rate(Money(rates[col.index()])));
        }
    }
    RateBook::new(vec![card])
}

/// Hand-written flows for tests:
///
/// ```
/// use wabill::testing::{hours, FlowBuilder};
/// let log = FlowBuilder::new()                 // 2025-07-01T00:00Z, WABA `default` (UTC)
///     .user("+91 98000 00001")                 // India, from the number (MKT-1)
///     .inbound(hours(0))
///     .template(hours(1), "utility")           // inside the CSW: free under pmp-2025
///     .template(hours(30), "utility")          // outside: charged at the flat 0.02
///     .build();
/// let replay = log.replay(None).unwrap();
/// assert_eq!(replay.total.to_decimal_string(), "0.0200");
/// ```
///
/// Times are offsets from the start ([`hours`], [`minutes`], [`seconds`], [`days`]); rows are
/// numbered in the order the calls are made, so equal instants keep call order (CONV-1). Rates
/// default to [`flat_rates`]. Business messages before 2022-02-01 need a forced rulebook.
#[derive(Clone)]
pub struct FlowBuilder {
    start: i64,
    log: TestLog,
    rates: Option<RateBook>,
    waba: u16,
    number: u32,
    user: u32,
}

impl Default for FlowBuilder {
    fn default() -> Self {
        FlowBuilder::new()
    }
}

impl FlowBuilder {
    /// Starts at 2025-07-01T00:00:00Z, WABA `default` in UTC (USD), business number `""`, user
    /// `+919800000001` (India).
    pub fn new() -> FlowBuilder {
        let mut log = TestLog::empty();
        log.numbers.push(String::new());
        let b = FlowBuilder {
            start: instant("2025-07-01T00:00:00Z"),
            log,
            rates: None,
            waba: 0,
            number: 0,
            user: 0,
        };
        b.user("+919800000001")
    }

    /// The instant offsets count from (RFC 3339).
    pub fn start(mut self, rfc3339: &str) -> Self {
        self.start = instant(rfc3339);
        self
    }

    /// Following rows are for this WABA (added with time zone `tz` if new; `tz` is ignored for
    /// a known id). The default WABA `default` is replaced by the first WABA named.
    pub fn waba(mut self, id: &str, tz: &str) -> Self {
        let tz: Tz = tz
            .parse()
            .unwrap_or_else(|_| panic!("`{tz}` is not an IANA time zone"));
        let wabas = &mut self.log.accounts.wabas;
        if let Some(i) = wabas.iter().position(|w| w.id == id) {
            self.waba = i as u16;
        } else if wabas.len() == 1 && wabas[0].id == "default" && self.log.events.is_empty() {
            wabas[0] = Waba {
                id: id.into(),
                tz,
                currency: CURRENCY.into(),
            };
            self.waba = 0;
        } else {
            wabas.push(Waba {
                id: id.into(),
                tz,
                currency: CURRENCY.into(),
            });
            self.waba = wabas.len() as u16 - 1;
        }
        self
    }

    /// Following rows are from/to this business number (CONV-3).
    pub fn number(mut self, number: &str) -> Self {
        self.number = match self.log.numbers.iter().position(|n| n == number) {
            Some(i) => i as u32,
            None => {
                self.log.numbers.push(number.into());
                self.log.numbers.len() as u32 - 1
            }
        };
        self
    }

    /// Following rows are with this user; the country comes from the number (MKT-1).
    pub fn user(self, number: &str) -> Self {
        let digits =
            normalize_number(number).unwrap_or_else(|| panic!("`{number}` is not a phone number"));
        let country = self
            .log
            .markets
            .country_of_number(&digits)
            .unwrap_or_else(|e| panic!("`{number}`: {e}"));
        self.user_in(number, country.as_str())
    }

    /// Following rows are with this user, of an explicit country (MKT-3).
    pub fn user_in(mut self, number: &str, country_iso2: &str) -> Self {
        let country =
            Country::parse(country_iso2).unwrap_or_else(|| panic!("`{country_iso2}` is not ISO2"));
        let digits =
            normalize_number(number).unwrap_or_else(|| panic!("`{number}` is not a phone number"));
        let name = format!("+{digits}");
        self.user = match self.log.users.iter().position(|u| *u == name) {
            Some(i) => {
                self.log.countries[i] = country;
                i as u32
            }
            None => {
                self.log.users.push(name);
                self.log.countries.push(country);
                self.log.users.len() as u32 - 1
            }
        };
        self
    }

    /// PMP-6: the portfolio's primary country and the instant eligibility starts.
    pub fn auth_international(mut self, primary_iso2: &str, from_rfc3339: &str) -> Self {
        self.log.accounts.portfolio.primary_country = Country::parse(primary_iso2);
        self.log.accounts.portfolio.auth_international_start = Some(instant(from_rfc3339));
        self
    }

    /// Rate cards keyed by [`market_table`]'s ids, e.g. from [`arb_rates`].
    pub fn rates(mut self, rates: RateBook) -> Self {
        self.rates = Some(rates);
        self
    }

    /// A row of any kind at `start + at`.
    pub fn row(mut self, at: TimeDelta, kind: Kind) -> Self {
        let ts = self.start + at.num_microseconds().expect("offset in range");
        let chat = self.log.chat(self.waba, self.number, self.user);
        let row = self.log.events.len() as u32 + 1;
        self.log.events.push(Event {
            ts,
            row,
            chat,
            country: self.user as u16,
            kind,
        });
        self
    }

    /// The user writes.
    pub fn inbound(self, at: TimeDelta) -> Self {
        self.row(at, Kind::In { entry_point: false })
    }

    /// The user writes through a Click-to-WhatsApp ad or Page button (CBP-6, PMP-3).
    pub fn entry_point(self, at: TimeDelta) -> Self {
        self.row(at, Kind::In { entry_point: true })
    }

    /// A delivered template of `category` (`marketing`, `utility`, `authentication`).
    pub fn template(self, at: TimeDelta, category: &str) -> Self {
        self.out(at, Some(category), Status::Delivered)
    }

    /// A template that failed (not delivered: costs nothing, changes nothing).
    pub fn failed_template(self, at: TimeDelta, category: &str) -> Self {
        self.out(at, Some(category), Status::Failed)
    }

    /// A delivered non-template message (text, media, interactive…).
    pub fn text(self, at: TimeDelta) -> Self {
        self.out(at, None, Status::Delivered)
    }

    /// A non-template message that failed.
    pub fn failed_text(self, at: TimeDelta) -> Self {
        self.out(at, None, Status::Failed)
    }

    fn out(self, at: TimeDelta, category: Option<&str>, status: Status) -> Self {
        let template = category.map(|c| {
            TemplateCategory::parse(c).unwrap_or_else(|| {
                panic!("`{c}` is not a template category (marketing, utility, authentication)")
            })
        });
        self.row(at, Kind::Out { template, status })
    }

    pub fn build(self) -> TestLog {
        let mut log = self.log;
        log.rates = match self.rates {
            Some(r) => r,
            None => flat_rates(&log.markets),
        };
        log
    }
}

/// The UTC instant of `rfc3339` in microseconds, for tests that place events by hand.
pub fn at(rfc3339: &str) -> i64 {
    instant(rfc3339)
}
