//! Model-based property test (issue 6): random small logs packed around the 24 h and 72 h edges
//! and the rulebook switches, replayed by the engine and by the reference model, which must agree
//! on every message's reason, category and price, on every line and on the total.

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use proptest::prelude::*;
use rust_decimal::dec;

use super::adapter::both;
use super::model::*;
use super::rules::Rates;

const BASES: [&str; 7] = [
    "2022-03-01T00:00:00Z",
    "2023-05-31T12:00:00Z",
    "2024-10-31T12:00:00Z",
    "2025-06-30T12:00:00Z",
    "2025-07-31T20:00:00Z",
    "2026-09-30T12:00:00Z",
    "2026-10-15T00:00:00Z",
];
const TZS: [Tz; 4] = [
    chrono_tz::UTC,
    chrono_tz::Asia::Kolkata,
    chrono_tz::America::Los_Angeles,
    chrono_tz::Asia::Tokyo,
];
const USERS: [(&str, &str, &str); 5] = [
    ("+919800000001", "IN", "India"),
    ("+5511900000002", "BR", "Brazil"),
    ("+12025550003", "US", "North America"),
    ("+6281200000004", "ID", "Indonesia"),
    ("+447700900005", "GB", "Other"),
];

#[derive(Debug, Clone)]
struct Ev {
    offset_s: i64,
    waba: usize,
    number: usize,
    user: usize,
    kind: u8,
}

fn offset() -> impl Strategy<Value = i64> {
    // Packed around the 24 h and 72 h edges: whole hours, and whole days ± one second.
    prop_oneof![
        (0i64..120).prop_map(|h| h * 3600),
        (0i64..6, -1i64..=1).prop_map(|(d, s)| d * 86_400 + s + 86_400),
        (0i64..400_000),
    ]
}

fn event() -> impl Strategy<Value = Ev> {
    (offset(), 0usize..2, 0usize..2, 0usize..5, 0u8..10).prop_map(
        |(offset_s, waba, number, user, kind)| Ev {
            offset_s,
            waba,
            number,
            user,
            kind,
        },
    )
}

fn kind(k: u8) -> MDir {
    let out = |t: Option<&str>, delivered| MDir::Out {
        template: t.map(String::from),
        delivered,
    };
    match k {
        0 => MDir::In { entry_point: false },
        1 => MDir::In { entry_point: true },
        2 => out(Some("marketing"), true),
        3 => out(Some("utility"), true),
        4 => out(Some("authentication"), true),
        5 => out(None, true),
        6 => out(Some("utility"), false),
        7 => out(None, false),
        8 => MDir::In { entry_point: false },
        _ => out(Some("utility"), true),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// Engine ≡ model on every rulebook (CBP-1…10, PMP-1…7, CONV-1…5).
    #[test]
    fn engine_agrees_with_the_model(
        base in 0usize..BASES.len(),
        tz in (0usize..TZS.len(), 0usize..TZS.len()),
        evs in proptest::collection::vec(event(), 1..40),
        forced in prop_oneof![Just(None), (0usize..5).prop_map(Some)],
        eligible in any::<bool>(),
        tiers in any::<bool>(),
    ) {
        let base: DateTime<Utc> = DateTime::parse_from_rfc3339(BASES[base]).unwrap().into();
        let acc = MAccounts {
            wabas: vec![
                MWaba { id: "a".into(), tz: TZS[tz.0] },
                MWaba { id: "b".into(), tz: TZS[tz.1] },
            ],
            primary_country: eligible.then(|| "IN".to_string()),
            auth_intl_start: eligible.then(|| base + TimeDelta::hours(30)),
            auth_intl_exceptions: vec![("ID".into(), base + TimeDelta::hours(60))],
        };
        let mut rates = Rates::standard();
        if tiers {
            rates.set_tiers("India", "utility", vec![(0, Some(2), dec!(0.0014)), (3, Some(4), dec!(0.0010)), (5, None, dec!(0.0007))]);
            rates.set_tiers("Brazil", "authentication", vec![(1, Some(1), dec!(0.0315)), (2, None, dec!(0.0300))]);
            rates.set_tiers("Brazil", "utility", vec![(0, Some(3), dec!(0.0080))]);
        }
        let events: Vec<MEvent> = evs
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let (user, country, market) = USERS[e.user];
                MEvent {
                    row: i + 1,
                    ts: base + TimeDelta::seconds(e.offset_s),
                    waba: ["a", "b"][e.waba].into(),
                    number: ["n1", "n2"][e.number].into(),
                    user: user.into(),
                    country: country.into(),
                    market: market.into(),
                    dir: kind(e.kind),
                }
            })
            .collect();
        let forced = forced.map(|i| ["cbp-2022", "cbp-2023", "cbp-2024", "pmp-2025", "pmp-2026"][i]);
        let _ = both(&events, &acc, &rates, forced);
    }
}
