//! Rate books for generated and hand-built logs: [`arb_rates`] (random cards with tier tables, as
//! [`arb_log`](super::arb_log) uses) and [`flat_rates`] (one card of round rates).

use chrono::{DateTime, TimeDelta, Utc};
use proptest::prelude::*;
use proptest::sample::select;

use wabill_core::markets::{MarketId, MarketTable};
use wabill_core::money::Money;
use wabill_core::rates::{Band, Cell, RateBook, RateCard};
use wabill_core::types::RateColumn;

use super::{instant, market_table, ymd, LogSpec, CURRENCY};

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
pub(super) struct CardGen {
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

pub(super) fn cards_gen(spec: &LogSpec, n_markets: usize) -> impl Strategy<Value = Vec<CardGen>> {
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

pub(super) fn build_book(cards: &[CardGen], markets: &[MarketId], anchor: i64) -> RateBook {
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
            // The message columns (the generator draws no agent, AI-provider or call rates).
            for col in RateColumn::ALL.into_iter().take(7) {
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

/// Rate books like [`arb_log`](super::arb_log)'s, for hand-built flows: a base card for the
/// spec's countries' markets, plus (with `card_switches`) cards a few days after one of the
/// spec's anchors. Keyed by [`market_table`]'s ids.
pub fn arb_rates(spec: &LogSpec) -> impl Strategy<Value = RateBook> {
    assert!(!spec.anchors.is_empty(), "LogSpec needs anchors");
    let table = market_table();
    let markets = spec.markets(&table);
    let anchors: Vec<i64> = spec.anchors.iter().map(|a| instant(a)).collect();
    (select(anchors), cards_gen(spec, markets.len()))
        .prop_map(move |(anchor, cards)| build_book(&cards, &markets, anchor))
}

/// A rate book with one card (USD, effective 2000-01-01) giving every market of `markets` the
/// same round rates: marketing 0.05, utility 0.02, authentication 0.01, authentication-international
/// 0.03, service 0.02, business-initiated 0.04, user-initiated 0.03. No tiers.
pub fn flat_rates(markets: &MarketTable) -> RateBook {
    let mut card = RateCard::new(CURRENCY, ymd(2000, 1, 1), "flat");
    let rates = [50_000, 20_000, 10_000, 30_000, 20_000, 40_000, 30_000];
    for m in 0..markets.len() as MarketId {
        for col in RateColumn::ALL.into_iter().take(7) {
            card.set(m, col, Cell::Rate(Money(rates[col.index()])));
        }
    }
    RateBook::new(vec![card])
}
