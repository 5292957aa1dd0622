//! Reconciliation against Meta's analytics (billing-rules.md §6): volumes and costs per day ×
//! country × pricing type × category of a pricing_analytics (PMP) or conversation_analytics
//! (CBP) response, against the replay's units on the same days of the WABA's time zone.
//!
//! A response of `granularity: MONTHLY` (data points longer than a day: what finance pulls) is
//! compared per period instead: each of the replay's units counts in the data point period that
//! holds its instant, keyed by the period's first local day.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use chrono_tz::Tz;
use rust_decimal::Decimal;

use super::Ours;
use crate::calendar::{local_date, local_midnight};
use crate::meta::{MetaCategory, PricingModel, PricingType};
use crate::types::Country;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnalyticsKind {
    /// `pricing_analytics`: delivered messages (PMP).
    Pricing,
    /// `conversation_analytics`: conversations (CBP).
    Conversation,
}

impl AnalyticsKind {
    pub fn id(self) -> &'static str {
        match self {
            AnalyticsKind::Pricing => "pricing_analytics",
            AnalyticsKind::Conversation => "conversation_analytics",
        }
    }
}

/// One data point of an analytics response. A dimension that was not requested is `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataPoint {
    /// Unix seconds.
    pub start: i64,
    pub end: i64,
    pub country: Option<Country>,
    pub kind: Option<PricingType>,
    pub category: Option<MetaCategory>,
    /// `volume` (pricing) or `conversation` (conversation analytics); `None` when not requested.
    pub volume: Option<u64>,
    /// In the WABA's currency, exact as written; `None` when not returned.
    pub cost: Option<Decimal>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Analytics {
    pub kind: AnalyticsKind,
    /// The response's `id` (the WABA's id at Meta).
    pub id: Option<String>,
    pub points: Vec<DataPoint>,
}

/// One day × country × pricing type × category that differs (or, in totals, compared).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnalyticsRow {
    pub day: NaiveDate,
    pub country: Option<Country>,
    pub kind: Option<PricingType>,
    pub category: Option<MetaCategory>,
    pub wabill_volume: u64,
    pub meta_volume: Option<u64>,
    pub wabill_cost: Decimal,
    pub meta_cost: Option<Decimal>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnalyticsReport {
    pub kind: AnalyticsKind,
    pub waba: String,
    pub timezone: String,
    /// Days covered by the response (WABA time zone), inclusive.
    pub days: Option<(NaiveDate, NaiveDate)>,
    pub diffs: Vec<AnalyticsRow>,
    /// Keys compared.
    pub compared: u64,
    pub wabill_volume: u64,
    pub meta_volume: u64,
    pub wabill_cost: Decimal,
    pub meta_cost: Decimal,
    /// wabill's units of this WABA on days the response does not cover (not compared).
    pub outside: u64,
    pub notes: Vec<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReconcileError {
    #[error("analytics data points {start}..{end} and {other_start}..{other_end} overlap (Unix seconds): a unit would count in both; request one granularity")]
    Overlap {
        start: i64,
        end: i64,
        other_start: i64,
        other_end: i64,
    },
}

/// The category analytics rows are compared under: free messages (free customer service, free
/// entry point) are compared by pricing type only, because Meta files them under `SERVICE` or
/// `REFERRAL_CONVERSION` while wabill knows the template's category; `MARKETING_LITE` is marketing.
fn analytics_category(kind: Option<PricingType>, c: MetaCategory) -> MetaCategory {
    match (kind, c) {
        (Some(PricingType::FreeCustomerService | PricingType::FreeEntryPoint), _)
        | (_, MetaCategory::ReferralConversion) => MetaCategory::Service,
        _ => c.normalized(),
    }
}

type Key = (
    NaiveDate,
    Option<Country>,
    Option<PricingType>,
    Option<MetaCategory>,
);

/// Volume and cost per key.
type Sums = BTreeMap<Key, (u64, Decimal)>;

/// Which dimensions and metrics the response has (those absent are not compared).
#[derive(Debug, Clone, Copy)]
struct Present {
    country: bool,
    kind: bool,
    category: bool,
    volume: bool,
    cost: bool,
}

impl Present {
    fn of(a: &Analytics) -> Present {
        let any = |f: fn(&DataPoint) -> bool| a.points.iter().any(f);
        Present {
            country: any(|p| p.country.is_some()),
            kind: any(|p| p.kind.is_some()),
            category: any(|p| p.category.is_some()),
            volume: any(|p| p.volume.is_some()),
            cost: any(|p| p.cost.is_some()),
        }
    }

    /// The key a unit is compared under: the dimensions the response lacks left out.
    fn key(
        &self,
        day: NaiveDate,
        country: Option<Country>,
        kind: Option<PricingType>,
        category: Option<MetaCategory>,
    ) -> Key {
        (
            day,
            country.filter(|_| self.country),
            kind.filter(|_| self.kind),
            category.filter(|_| self.category),
        )
    }
}

const MICROS: i64 = 1_000_000;

/// Meta's side: the response's sums per key, the days it covers, and the first daily data
/// point that does not start at local midnight.
struct MetaSide {
    sums: Sums,
    days: Option<(NaiveDate, NaiveDate)>,
    misaligned: Option<i64>,
    /// A response with data points longer than a day (MONTHLY): its distinct periods, sorted
    /// (Unix µs, half-open); units are keyed by the period that holds them.
    periods: Option<Vec<(i64, i64)>>,
}

/// A data point longer than this is a period (MONTHLY), not a day (a DST day is 25 h).
const DAY_MAX: i64 = 25 * 3600;

/// The distinct periods of a response with a data point longer than a day, sorted; `None` for
/// a DAILY or HALF_HOUR response. Periods that overlap without being equal are an error.
fn periods(a: &Analytics) -> Result<Option<Vec<(i64, i64)>>, ReconcileError> {
    if !a.points.iter().any(|p| p.end - p.start > DAY_MAX) {
        return Ok(None);
    }
    let set: BTreeSet<(i64, i64)> = a
        .points
        .iter()
        .map(|p| (p.start, p.end.max(p.start)))
        .collect();
    let v: Vec<(i64, i64)> = set.into_iter().collect();
    for w in v.windows(2) {
        if w[1].0 < w[0].1 {
            return Err(ReconcileError::Overlap {
                start: w[0].0,
                end: w[0].1,
                other_start: w[1].0,
                other_end: w[1].1,
            });
        }
    }
    Ok(Some(
        v.into_iter()
            .map(|(s, e)| (s * MICROS, e * MICROS))
            .collect(),
    ))
}

/// The period of `periods` that holds instant `ts` (µs), by its start.
fn period_of(periods: &[(i64, i64)], ts: i64) -> Option<i64> {
    let i = periods.partition_point(|p| p.0 <= ts).checked_sub(1)?;
    (ts < periods[i].1).then_some(periods[i].0)
}

fn meta_side(a: &Analytics, tz: Tz, present: &Present) -> Result<MetaSide, ReconcileError> {
    let mut side = MetaSide {
        sums: Sums::new(),
        days: None,
        misaligned: None,
        periods: periods(a)?,
    };
    for p in &a.points {
        let day = local_date(tz, p.start * MICROS);
        if p.end - p.start >= 23 * 3600 && local_midnight(tz, day) != p.start * MICROS {
            side.misaligned.get_or_insert(p.start);
        }
        // A period's last day: the local date just before its end.
        let last = if side.periods.is_some() && p.end > p.start {
            local_date(tz, p.end * MICROS - 1)
        } else {
            day
        };
        side.days = Some(match side.days {
            None => (day, last),
            Some((lo, hi)) => (lo.min(day), hi.max(last)),
        });
        let category = p.category.map(|c| analytics_category(p.kind, c));
        let v = side
            .sums
            .entry(present.key(day, p.country, p.kind, category))
            .or_insert((0, Decimal::ZERO));
        v.0 += p.volume.unwrap_or(0);
        v.1 += p.cost.unwrap_or(Decimal::ZERO);
    }
    Ok(side)
}

/// What the response itself says about the comparison.
fn response_notes(
    a: &Analytics,
    tz: Tz,
    present: &Present,
    misaligned: Option<i64>,
) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some(s) = misaligned {
        notes.push(format!(
            "Meta's data points do not start at 00:00 in {} (e.g. {}): check the WABA's time zone in the accounts file; days are compared by the local date each data point starts on",
            tz.name(),
            chrono::DateTime::from_timestamp(s, 0).map(|d| d.to_rfc3339()).unwrap_or_default()
        ));
    }
    if a.points.is_empty() {
        notes.push("the analytics response has no data points".into());
    }
    if !present.volume {
        notes.push("the response has no volumes (metric VOLUME/CONVERSATION not requested): volumes not compared".into());
    }
    if !present.cost {
        notes.push("the response has no costs (metric COST not requested, or the WABA bills through a partner): costs not compared".into());
    }
    notes
}

/// wabill's side: the WABA's units of the kind the response counts, summed per key on the
/// days it covers, and how many fell outside them.
fn our_side(
    ours: &Ours,
    kind: AnalyticsKind,
    waba: u16,
    tz: Tz,
    days: Option<(NaiveDate, NaiveDate)>,
    periods: Option<&[(i64, i64)]>,
    present: &Present,
) -> (Sums, u64) {
    let mut mine = Sums::new();
    let mut outside = 0;
    for (ei, e) in ours.events.iter().enumerate() {
        if ours.chats[e.chat as usize].waba != waba {
            continue;
        }
        let Some(x) = ours.expected(ei) else {
            continue;
        };
        let counts = match kind {
            AnalyticsKind::Pricing => x.model == PricingModel::Pmp,
            AnalyticsKind::Conversation => x.model == PricingModel::Cbp && x.unit,
        };
        if !counts {
            continue;
        }
        let day = match periods {
            // MONTHLY: the period that holds the unit, by its first local day.
            Some(ps) => match period_of(ps, e.ts) {
                Some(start) => local_date(tz, start),
                None => {
                    outside += 1;
                    continue;
                }
            },
            None => local_date(tz, e.ts),
        };
        if !days.is_some_and(|(lo, hi)| lo <= day && day <= hi) {
            outside += 1;
            continue;
        }
        let key = present.key(
            day,
            Some(ours.countries[e.country as usize]),
            Some(x.kind),
            Some(analytics_category(Some(x.kind), x.category)),
        );
        let v = mine.entry(key).or_insert((0, Decimal::ZERO));
        v.0 += 1;
        v.1 += ours.replay.outcomes[ei].price.to_decimal();
    }
    (mine, outside)
}

/// Compare an analytics response of one WABA with the replay: volumes exactly, costs within
/// `tolerance` (absolute, in the WABA's currency). Only the days the response covers are
/// compared; the dimensions compared are those present in the response.
pub fn analytics(
    ours: &Ours,
    a: &Analytics,
    waba: u16,
    tolerance: Decimal,
) -> Result<AnalyticsReport, ReconcileError> {
    let w = &ours.accounts.wabas[waba as usize];
    let tz = w.tz;
    let present = Present::of(a);
    let meta = meta_side(a, tz, &present)?;
    let mut notes = response_notes(a, tz, &present, meta.misaligned);
    let (mine, outside) = our_side(
        ours,
        a.kind,
        waba,
        tz,
        meta.days,
        meta.periods.as_deref(),
        &present,
    );
    if let Some(ps) = &meta.periods {
        notes.push(format!(
            "the analytics response has {} period(s) longer than a day (granularity MONTHLY): compared per period; each row's day is its period's first day in {}",
            ps.len(),
            tz.name()
        ));
    }
    if outside > 0 {
        notes.push(format!(
            "{outside} unit(s) of WABA {} fall on days the analytics response does not cover: not compared",
            w.id
        ));
    }
    let mut report = AnalyticsReport {
        kind: a.kind,
        waba: w.id.clone(),
        timezone: tz.name().to_string(),
        days: meta.days,
        diffs: Vec::new(),
        compared: 0,
        wabill_volume: 0,
        meta_volume: 0,
        wabill_cost: Decimal::ZERO,
        meta_cost: Decimal::ZERO,
        outside,
        notes,
    };
    compare(&mine, &meta.sums, &present, tolerance, &mut report);
    Ok(report)
}

/// Both sides key by key: the totals, and the keys whose volume or cost differs.
fn compare(
    mine: &Sums,
    meta: &Sums,
    present: &Present,
    tolerance: Decimal,
    r: &mut AnalyticsReport,
) {
    let keys: BTreeSet<&Key> = meta.keys().chain(mine.keys()).collect();
    for k in &keys {
        let (ov, oc) = mine.get(k).copied().unwrap_or((0, Decimal::ZERO));
        let (tv, tc) = meta.get(k).copied().unwrap_or((0, Decimal::ZERO));
        r.wabill_volume += ov;
        r.meta_volume += tv;
        r.wabill_cost += oc;
        r.meta_cost += tc;
        let volume_differs = present.volume && ov != tv;
        let cost_differs = present.cost && (oc - tc).abs() > tolerance;
        if volume_differs || cost_differs {
            r.diffs.push(AnalyticsRow {
                day: k.0,
                country: k.1,
                kind: k.2,
                category: k.3,
                wabill_volume: ov,
                meta_volume: present.volume.then_some(tv),
                wabill_cost: oc,
                meta_cost: present.cost.then_some(tc),
            });
        }
    }
    r.compared = keys.len() as u64;
}
