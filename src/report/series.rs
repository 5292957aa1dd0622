//! The numbers behind a report's charts and headline figures: aggregations of a replay per
//! month, market, category, day and volume-tier counter.
//!
//! Pure (no files, no drawing): a replay in, small tables out. Charts and pages are drawn from
//! these tables, never from messages, so a log of millions of messages still gives charts of a
//! few dozen points. Money stays exact ([`Money`]) here; charts convert to `f64` at the very end.
//!
//! Two independent routes to the same money are kept on purpose: months, markets and categories
//! are sums of the breakdown lines (the JSON contract), days and tier counters are sums over the
//! per-message outcomes. Tests check that both routes agree.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};
use serde::{Serialize, Serializer};

use crate::billing::accounts::Accounts;
use crate::billing::calendar::{local_date, local_midnight, month_key, month_label};
use crate::billing::engine::{Replay, Unit};
use crate::billing::markets::{MarketId, MarketTable};
use crate::billing::money::Money;
use crate::billing::rates::RateBook;
use crate::billing::types::{Billed, Kind, Rulebook};
use crate::io::log::Log;

/// How many markets the market chart shows by name; the rest are summed as [`OTHERS`].
pub const TOP_MARKETS: usize = 8;
/// The label of the markets beyond the top ones.
pub const OTHERS: &str = "others";

/// Billed categories in the order charts stack and list them (formats.md §4).
pub const CATEGORY_ORDER: [&str; 8] = [
    "marketing",
    "utility",
    "authentication",
    "authentication_international",
    "service",
    "business_initiated",
    "user_initiated",
    "free_entry_point",
];

/// Position of a category in [`CATEGORY_ORDER`] (unknown names sort last, by name).
pub fn category_rank(c: &str) -> usize {
    CATEGORY_ORDER
        .iter()
        .position(|x| *x == c)
        .unwrap_or(CATEGORY_ORDER.len())
}

fn money_str<S: Serializer>(m: &Money, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&m.to_decimal_string())
}

fn date_str<S: Serializer>(d: &NaiveDate, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&d.to_string())
}

/// Units and cost of one group.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub charged: u64,
    pub free: u64,
    #[serde(serialize_with = "money_str")]
    pub cost: Money,
}

impl Tally {
    fn add(&mut self, charged: u64, free: u64, cost: Money) {
        self.charged += charged;
        self.free += free;
        self.cost += cost;
    }
    pub fn units(&self) -> u64 {
        self.charged + self.free
    }
}

/// One bar segment of the monthly chart: a month and a billed category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MonthCategory {
    pub month: String,
    pub category: String,
    #[serde(flatten)]
    pub tally: Tally,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MonthTotal {
    pub month: String,
    #[serde(flatten)]
    pub tally: Tally,
}

/// One bar of the market chart: a market, or [`OTHERS`] with the markets it groups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MarketTotal {
    pub market: String,
    #[serde(flatten)]
    pub tally: Tally,
    /// For [`OTHERS`]: the markets summed into it, by name.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub grouped: Vec<String>,
}

/// One day of the daily series, by the WABA-local date of each unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DayTotal {
    #[serde(serialize_with = "date_str")]
    pub date: NaiveDate,
    #[serde(flatten)]
    pub tally: Tally,
}

/// A rate-card or rulebook switch inside the period of the log.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Change {
    #[serde(serialize_with = "date_str")]
    pub date: NaiveDate,
    /// `rate_card` or `rulebook`.
    pub kind: &'static str,
    pub label: String,
}

/// A volume-tier threshold: from the `from`-th message of the month, `rate` applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Threshold {
    /// 1 for the first band after the list-rate band.
    pub tier: usize,
    pub from: u64,
    #[serde(serialize_with = "money_str")]
    pub rate: Money,
}

/// PMP-4 progress of one counter (market × category group × month) that has a tier table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TierProgress {
    pub month: String,
    pub market: String,
    /// `utility` or `authentication` (authentication-international shares its counter, PMP-4).
    pub category: String,
    /// Where the tier table came from (the card's source path).
    pub card: String,
    pub thresholds: Vec<Threshold>,
    /// (day of month, units counted up to the end of that day), for each day with units.
    pub cumulative: Vec<(u32, u64)>,
}

impl TierProgress {
    pub fn count(&self) -> u64 {
        self.cumulative.last().map(|c| c.1).unwrap_or(0)
    }
    /// The tier the counter has reached (0 = still at the list rate).
    pub fn reached(&self) -> usize {
        self.thresholds
            .iter()
            .filter(|t| t.from <= self.count())
            .map(|t| t.tier)
            .max()
            .unwrap_or(0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CardUsed {
    pub currency: String,
    pub effective: String,
    /// Path of the card relative to the rates directory.
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RulebookUsed {
    pub id: String,
    pub description: String,
}

/// Everything a report draws and states, computed once from a replay.
#[derive(Debug, Clone, Serialize)]
pub struct ReportData {
    pub currency: String,
    #[serde(flatten)]
    pub totals: Tally,
    /// Per month and category, months ascending, categories in [`CATEGORY_ORDER`].
    pub month_categories: Vec<MonthCategory>,
    pub months: Vec<MonthTotal>,
    /// Top markets by cost (then units, then name), then [`OTHERS`] if any.
    pub markets: Vec<MarketTotal>,
    /// Every day from the first to the last unit, days without units included (as zero).
    pub days: Vec<DayTotal>,
    pub changes: Vec<Change>,
    pub tiers: Vec<TierProgress>,
    pub cards: Vec<CardUsed>,
    pub rulebooks: Vec<RulebookUsed>,
}

impl ReportData {
    /// What a chart pasted on its own must still say: the period and where the figures come
    /// from (`2025-05 to 2025-10 · rate cards USD 2024-11-01, 2025-07-01 · wabill`).
    pub fn provenance_note(&self) -> String {
        let period = match (self.months.first(), self.months.last()) {
            (Some(a), Some(b)) if a.month != b.month => format!("{} to {}", a.month, b.month),
            (Some(a), _) => a.month.clone(),
            _ => String::new(),
        };
        let cards: Vec<&str> = self.cards.iter().map(|c| c.effective.as_str()).collect();
        let mut parts = vec![period];
        if !cards.is_empty() {
            parts.push(format!("rate cards {} {}", self.currency, cards.join(", ")));
        }
        parts.push("wabill".into());
        parts.retain(|p| !p.is_empty());
        parts.join(" · ")
    }

    /// Categories with a non-zero cost in some month, in [`CATEGORY_ORDER`].
    pub fn charged_categories(&self) -> Vec<String> {
        let mut c: Vec<String> = self
            .month_categories
            .iter()
            .filter(|m| m.tally.cost != Money::ZERO)
            .map(|m| m.category.clone())
            .collect();
        c.sort_by(|a, b| (category_rank(a), a).cmp(&(category_rank(b), b)));
        c.dedup();
        c
    }

    /// Share of free units among all units, in percent (for display only).
    pub fn free_share_percent(&self) -> f64 {
        if self.totals.units() == 0 {
            0.0
        } else {
            self.totals.free as f64 * 100.0 / self.totals.units() as f64
        }
    }
}

/// Aggregate a replay. `rates` and `markets` must be the ones the replay used.
pub fn build(
    log: &Log,
    replay: &Replay,
    markets: &MarketTable,
    accounts: &Accounts,
    rates: &RateBook,
) -> ReportData {
    let mut totals = Tally::default();
    let mut by_month_cat: BTreeMap<(String, usize, String), Tally> = BTreeMap::new();
    let mut by_month: BTreeMap<String, Tally> = BTreeMap::new();
    let mut by_market: BTreeMap<String, Tally> = BTreeMap::new();
    let mut rulebooks: BTreeSet<Rulebook> = BTreeSet::new();
    for l in &replay.lines {
        totals.add(l.charged, l.free, l.cost);
        by_month_cat
            .entry((
                l.month.clone(),
                category_rank(l.category),
                l.category.into(),
            ))
            .or_default()
            .add(l.charged, l.free, l.cost);
        by_month
            .entry(l.month.clone())
            .or_default()
            .add(l.charged, l.free, l.cost);
        by_market
            .entry(l.market.clone())
            .or_default()
            .add(l.charged, l.free, l.cost);
        if let Ok(r) = l.rulebook.parse::<Rulebook>() {
            rulebooks.insert(r);
        }
    }
    let month_categories = by_month_cat
        .into_iter()
        .map(|((month, _, category), tally)| MonthCategory {
            month,
            category,
            tally,
        })
        .collect();
    let months = by_month
        .into_iter()
        .map(|(month, tally)| MonthTotal { month, tally })
        .collect();

    let per_message = per_message(log, replay, markets, accounts, rates);

    ReportData {
        currency: replay.currency.clone(),
        totals,
        month_categories,
        months,
        markets: top_markets(by_market, TOP_MARKETS),
        changes: changes(replay, rates, &per_message.days),
        days: per_message.days,
        tiers: per_message.tiers,
        cards: per_message
            .cards
            .into_iter()
            .map(|i| {
                let c = &rates.cards[i];
                CardUsed {
                    currency: c.currency.clone(),
                    effective: c.effective.to_string(),
                    source: c.source.clone(),
                }
            })
            .collect(),
        rulebooks: rulebooks
            .into_iter()
            .map(|r| RulebookUsed {
                id: r.id().into(),
                description: r.description().into(),
            })
            .collect(),
    }
}

/// The `n` markets with the highest cost (ties: more units, then name), the rest summed.
pub fn top_markets(by_market: BTreeMap<String, Tally>, n: usize) -> Vec<MarketTotal> {
    let mut all: Vec<(String, Tally)> = by_market.into_iter().collect();
    all.sort_by(|a, b| {
        (b.1.cost, b.1.units())
            .cmp(&(a.1.cost, a.1.units()))
            .then_with(|| a.0.cmp(&b.0))
    });
    let mut out: Vec<MarketTotal> = Vec::new();
    let mut others = MarketTotal {
        market: OTHERS.into(),
        tally: Tally::default(),
        grouped: Vec::new(),
    };
    // Grouping a single market as "others" would only hide its name.
    let shown = if all.len() > n + 1 { n } else { all.len() };
    for (i, (market, tally)) in all.into_iter().enumerate() {
        if i < shown {
            out.push(MarketTotal {
                market,
                tally,
                grouped: Vec::new(),
            });
        } else {
            others.tally.add(tally.charged, tally.free, tally.cost);
            others.grouped.push(market);
        }
    }
    if !others.grouped.is_empty() {
        others.grouped.sort();
        out.push(others);
    }
    out
}

struct PerMessage {
    days: Vec<DayTotal>,
    tiers: Vec<TierProgress>,
    cards: BTreeSet<usize>,
}

/// Local date of an instant for one WABA, with the current day's bounds cached: the CONV-1
/// order is by instant, so the time zone is consulted about once per day, not per message.
struct DayCache {
    tz: chrono_tz::Tz,
    start: i64,
    end: i64,
    date: NaiveDate,
}

impl DayCache {
    fn date(&mut self, ts: i64) -> NaiveDate {
        if ts < self.start || ts >= self.end {
            self.date = local_date(self.tz, ts);
            self.start = local_midnight(self.tz, self.date);
            self.end = self
                .date
                .succ_opt()
                .map(|d| local_midnight(self.tz, d))
                .unwrap_or(i64::MAX);
        }
        self.date
    }
}

/// One pass over the outcomes in CONV-1 order: spend per local day, PMP-4 counters and the
/// cards in force for the business messages.
fn per_message(
    log: &Log,
    replay: &Replay,
    markets: &MarketTable,
    accounts: &Accounts,
    rates: &RateBook,
) -> PerMessage {
    let mut caches: Vec<DayCache> = accounts
        .wabas
        .iter()
        .map(|w| DayCache {
            tz: w.tz,
            start: 0,
            end: 0,
            date: NaiveDate::MIN,
        })
        .collect();
    let mut days: BTreeMap<NaiveDate, Tally> = BTreeMap::new();
    let mut cards: BTreeSet<usize> = BTreeSet::new();
    type TierKey = (u32, MarketId, bool);
    let mut tier_days: BTreeMap<TierKey, (usize, Billed, BTreeMap<u32, u64>)> = BTreeMap::new();
    for &ei in &replay.order {
        let e = &log.events[ei as usize];
        if !matches!(e.kind, Kind::Out { .. }) {
            continue;
        }
        let o = &replay.outcomes[ei as usize];
        let waba = log.chats[e.chat as usize].waba as usize;
        let info = replay.calendars[waba].info[o.period as usize];
        if let Some(c) = info.card {
            cards.insert(c);
        }
        if o.unit == Unit::None {
            continue;
        }
        let date = caches[waba].date(e.ts);
        let (charged, free) = match o.unit {
            Unit::Charged => (1, 0),
            _ => (0, 1),
        };
        days.entry(date).or_default().add(charged, free, o.price);

        // PMP-4: charged utility and authentication units under per-message pricing are the
        // ones the engine counts; authentication-international shares the authentication count.
        let Some(billed) = o.billed else { continue };
        let tiered = o.unit == Unit::Charged
            && o.rulebook.is_some_and(|r| !r.is_cbp())
            && matches!(
                billed,
                Billed::Utility | Billed::Authentication | Billed::AuthenticationInternational
            );
        if !tiered {
            continue;
        }
        let (Some(card), Some(col)) = (info.card, billed.rate_column()) else {
            continue;
        };
        if rates.cards[card].tiers(o.market, col).is_none() {
            continue;
        }
        let auth = billed != Billed::Utility;
        let slot = tier_days
            .entry((month_key(date), o.market, auth))
            .or_insert_with(|| (card, billed, BTreeMap::new()));
        *slot.2.entry(date.day()).or_default() += 1;
    }

    let days = match (days.keys().next(), days.keys().next_back()) {
        (Some(&first), Some(&last)) => first
            .iter_days()
            .take_while(|d| *d <= last)
            .map(|d| DayTotal {
                date: d,
                tally: days.get(&d).copied().unwrap_or_default(),
            })
            .collect(),
        _ => Vec::new(),
    };

    let mut tiers: Vec<TierProgress> = tier_days
        .into_iter()
        .map(|((month, market, auth), (card, billed, per_day))| {
            let c = &rates.cards[card];
            let col = billed
                .rate_column()
                .expect("tiered categories have a column");
            let bands = c.tiers(market, col).unwrap_or(&[]);
            let mut run = 0;
            TierProgress {
                month: month_label(month),
                market: markets.name(market).to_string(),
                category: if auth { "authentication" } else { "utility" }.into(),
                card: c.source.clone(),
                thresholds: bands
                    .iter()
                    .skip(1)
                    .enumerate()
                    .map(|(i, b)| Threshold {
                        tier: i + 1,
                        from: b.from,
                        rate: b.rate,
                    })
                    .collect(),
                cumulative: per_day
                    .into_iter()
                    .map(|(d, n)| {
                        run += n;
                        (d, run)
                    })
                    .collect(),
            }
        })
        .collect();
    tiers.sort_by(|a, b| {
        (&a.month, &a.market, &a.category).cmp(&(&b.month, &b.market, &b.category))
    });
    PerMessage { days, tiers, cards }
}

/// Rate-card and rulebook switches strictly after the first day and up to the last day of the
/// daily series, from the WABA calendars the replay used (deduplicated across WABAs).
fn changes(replay: &Replay, rates: &RateBook, days: &[DayTotal]) -> Vec<Change> {
    let (Some(first), Some(last)) = (days.first(), days.last()) else {
        return Vec::new();
    };
    let mut out: BTreeSet<Change> = BTreeSet::new();
    for cal in &replay.calendars {
        for w in cal.info.windows(2) {
            let (prev, cur) = (&w[0], &w[1]);
            if cur.date <= first.date || cur.date > last.date {
                continue;
            }
            if cur.card != prev.card {
                if let Some(c) = cur.card {
                    let c = &rates.cards[c];
                    out.insert(Change {
                        date: cur.date,
                        kind: "rate_card",
                        label: format!("{} card {}", c.currency, c.effective),
                    });
                }
            }
            if cur.rulebook != prev.rulebook {
                if let Some(r) = cur.rulebook {
                    out.insert(Change {
                        date: cur.date,
                        kind: "rulebook",
                        label: format!("rulebook {}", r.id()),
                    });
                }
            }
        }
    }
    out.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(cost: i64) -> Tally {
        Tally {
            charged: 1,
            free: 0,
            cost: Money(cost),
        }
    }

    #[test]
    fn top_markets_groups_the_rest_as_others() {
        let m: BTreeMap<String, Tally> = (0..11).map(|i| (format!("m{i:02}"), t(i))).collect();
        let top = top_markets(m, 8);
        assert_eq!(top.len(), 9);
        assert_eq!(top[0].market, "m10");
        assert_eq!(top[8].market, OTHERS);
        assert_eq!(top[8].grouped, ["m00", "m01", "m02"]);
        assert_eq!(top[8].tally.cost, Money(3));
        assert_eq!(top[8].tally.charged, 3);
    }

    #[test]
    fn one_market_beyond_the_top_is_shown_by_name() {
        let m: BTreeMap<String, Tally> = (0..9).map(|i| (format!("m{i}"), t(i))).collect();
        let top = top_markets(m, 8);
        assert_eq!(top.len(), 9);
        assert!(top.iter().all(|m| m.market != OTHERS));
    }
}
