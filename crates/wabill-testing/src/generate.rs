//! [`arb_log`]: random [`TestLog`]s as a [`LogSpec`] says, and [`arb_rulebook`]. Rows are drawn
//! as offsets from an anchor, many of them at an edge (24 h, 72 h, a second either side) of an
//! earlier row in the same chat, then placed into a log with its accounts and rate book.

use chrono_tz::Tz;
use proptest::prelude::*;
use proptest::sample::{select, Index};
use proptest::strategy::Union;

use wabill_core::accounts::{Accounts, Portfolio, Waba};
use wabill_core::engine::Event;
use wabill_core::markets::MarketId;
use wabill_core::types::*;

use super::rate_books::{build_book, cards_gen, CardGen};
use super::{instant, market_table, LogSpec, TestLog, CURRENCY, HOUR, SECOND};

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
    let layout = Layout {
        markets: spec.markets(&market_table()),
        span_days: spec.span_days.max(1),
        numbers_per_waba: spec.numbers.max(1),
    };
    let anchors: Vec<i64> = spec.anchors.iter().map(|a| instant(a)).collect();
    let countries: Vec<Country> = spec
        .countries
        .iter()
        .map(|c| Country::parse(c).expect("ISO2"))
        .collect();
    let users = spec.users.max(1);
    let wabas = spec.wabas.clamp(1, 3);
    (
        select(anchors),
        proptest::collection::vec(select(countries), users),
        proptest::collection::vec(select(spec.time_zones.clone()), 1..=wabas),
        proptest::collection::vec(event_gen(&spec), 1..=spec.max_events.max(1)),
        cards_gen(&spec, layout.markets.len()),
        eligibility(&spec),
    )
        .prop_map(move |(anchor, users, tzs, rows, cards, eligibility)| {
            Draw {
                anchor,
                users,
                tzs,
                rows,
                cards,
                eligibility,
            }
            .assemble(&layout)
        })
}

/// What a log's placement needs from its [`LogSpec`].
struct Layout {
    /// Every market the spec's countries belong to on some date, keys of the rate book.
    markets: Vec<MarketId>,
    span_days: i64,
    numbers_per_waba: usize,
}

/// One draw of [`arb_log`]'s strategies, before it becomes a [`TestLog`].
struct Draw {
    /// UTC microseconds.
    anchor: i64,
    /// The country of each user.
    users: Vec<Country>,
    /// The time zone of each WABA.
    tzs: Vec<Tz>,
    rows: Vec<EventGen>,
    cards: Vec<CardGen>,
    eligibility: Option<Eligibility>,
}

impl Draw {
    /// The log: WABAs `a`, `b`, `c` with `numbers_per_waba` numbers each (`a-1`, `a-2`…), one
    /// user per drawn country, each row at its offset or at its edge of an earlier row.
    fn assemble(&self, layout: &Layout) -> TestLog {
        let ids = ["a", "b", "c"];
        let per_waba = layout.numbers_per_waba;
        let numbers: Vec<String> = (0..self.tzs.len())
            .flat_map(|w| (0..per_waba).map(move |n| format!("{}-{}", ids[w], n + 1)))
            .collect();
        let mut log = TestLog {
            events: Vec::with_capacity(self.rows.len()),
            chats: Vec::new(),
            countries: self.users.clone(),
            users: self
                .users
                .iter()
                .enumerate()
                .map(|(k, c)| user_number(*c, k))
                .collect(),
            numbers,
            accounts: self.accounts(&ids),
            rates: build_book(&self.cards, &layout.markets, self.anchor),
            markets: market_table(),
        };
        // Seconds from the anchor, and (waba, number, user), of each row so far.
        let mut placed: Vec<(i64, usize, usize, usize)> = Vec::with_capacity(self.rows.len());
        for (i, g) in self.rows.iter().enumerate() {
            let earlier = g
                .edge
                .filter(|_| i > 0)
                .map(|(ix, delta)| (placed[ix.index(i)], delta));
            // Chains of edges stay within four days after the span.
            let secs = match earlier {
                Some(((at, ..), delta)) if at + delta <= (layout.span_days + 4) * 86_400 => {
                    at + delta
                }
                _ => g.base,
            };
            let (waba, number, user) = match earlier {
                Some(((_, w, n, u), _)) if g.follow => (w, n, u),
                _ => {
                    let w = g.waba.index(self.tzs.len());
                    let n = w * per_waba + g.number.index(per_waba);
                    (w, n, g.user.index(self.users.len()))
                }
            };
            placed.push((secs, waba, number, user));
            let chat = log.chat(waba as u16, number as u32, user as u32);
            log.events.push(Event {
                ts: self.anchor + secs * SECOND,
                row: i as u32 + 1,
                chat,
                country: user as u16,
                kind: g.kind(),
            });
        }
        log
    }

    /// The portfolio (India as primary country when eligible for authentication-international,
    /// PMP-6) and one WABA per drawn time zone, named by `ids`.
    fn accounts(&self, ids: &[&str]) -> Accounts {
        let anchor = self.anchor;
        let elig = self.eligibility.as_ref();
        Accounts {
            portfolio: Portfolio {
                name: "generated".into(),
                ai_provider: false,
                primary_country: elig.map(|_| Country(*b"IN")),
                auth_international_start: elig.map(|e| match e.start {
                    Some(h) => anchor + h * HOUR,
                    None => instant("2020-01-01T00:00:00Z"),
                }),
                auth_international_exceptions: elig
                    .and_then(|e| {
                        let start = anchor + e.start? * HOUR;
                        Some((Country(*b"ID"), start + e.exception? * HOUR))
                    })
                    .into_iter()
                    .collect(),
            },
            wabas: self
                .tzs
                .iter()
                .enumerate()
                .map(|(i, tz)| Waba {
                    id: ids[i].into(),
                    tz: *tz,
                    currency: CURRENCY.into(),
                })
                .collect(),
            provider: None,
            currency_choice: None,
            max_prices: Vec::new(),
        }
    }
}

impl EventGen {
    /// The row's kind; `status` applies to business rows only.
    fn kind(&self) -> Kind {
        match self.shape {
            Shape::In => Kind::In { entry_point: false },
            Shape::EntryPoint => Kind::In { entry_point: true },
            Shape::Template(c) => Kind::Out {
                template: Some(c),
                status: self.status,
            },
            Shape::Text => Kind::Out {
                template: None,
                status: self.status,
            },
        }
    }
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
