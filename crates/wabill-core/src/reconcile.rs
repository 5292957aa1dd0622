//! Reconciliation: where wabill's billing of the business's own log differs from what Meta
//! reports (billing-rules.md §6).
//!
//! Two comparisons, both pure (the files are read in `io::webhooks` and `io::analytics`):
//! - [`messages`]: per message id, the engine's decision against the `pricing` (and, for
//!   conversations and free entry point windows, the `conversation`) of Meta's status webhooks,
//!   through the one mapping of [`super::meta::expected`]; plus messages present on one side only;
//! - [`analytics`]: per day × country × pricing type × category, volumes and costs against a
//!   pricing_analytics (PMP) or conversation_analytics (CBP) response. Days are calendar days in
//!   the WABA's time zone (the accounts file), the same calendar the engine bills months in.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::accounts::Accounts;
use super::calendar::{local_date, local_midnight};
use super::engine::{ChatKey, Event, Replay};
use super::meta::*;
use super::types::{Country, Kind};

/// The replayed business log, as the comparisons need it.
pub struct Ours<'a> {
    pub events: &'a [Event],
    pub chats: &'a [ChatKey],
    pub countries: &'a [Country],
    /// Message id per event (`""` = none).
    pub ids: Vec<&'a str>,
    pub replay: &'a Replay,
    pub accounts: &'a Accounts,
    openers: Openers,
}

impl<'a> Ours<'a> {
    pub fn new(
        events: &'a [Event],
        chats: &'a [ChatKey],
        countries: &'a [Country],
        ids: Vec<&'a str>,
        replay: &'a Replay,
        accounts: &'a Accounts,
    ) -> Ours<'a> {
        Ours {
            events,
            chats,
            countries,
            ids,
            replay,
            accounts,
            openers: Openers::new(events, &replay.outcomes),
        }
    }

    /// What Meta should report for event `ei` (see [`expected`]).
    fn expected(&self, ei: usize) -> Option<Expected> {
        expected(&self.events[ei], &self.replay.outcomes[ei], &self.openers)
    }
}

/// An input problem in one of Meta's files: never fatal, always reported where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// `webhooks` or `analytics`.
    pub source: &'static str,
    /// 1-based line of a JSON Lines file.
    pub line: Option<u64>,
    /// Where in the JSON (`entry[0].changes[0].value.statuses[1].pricing.category`).
    pub path: String,
    pub value: String,
    pub message: String,
}

/// What differs for one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DiffKind {
    /// In the business log, absent from Meta's webhooks.
    OnlyInLog,
    /// In Meta's webhooks, absent from the business log.
    OnlyInWebhooks,
    /// Delivered on one side, not on the other.
    Delivery,
    /// Both delivered; the pricing differs.
    Pricing,
}

impl DiffKind {
    pub fn id(self) -> &'static str {
        match self {
            DiffKind::OnlyInLog => "only_in_log",
            DiffKind::OnlyInWebhooks => "only_in_webhooks",
            DiffKind::Delivery => "delivery",
            DiffKind::Pricing => "pricing",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldDiff {
    /// `status`, `pricing`, `pricing_model`, `category`, `billable`, `type`, `conversation`.
    pub field: &'static str,
    pub wabill: String,
    pub meta: String,
}

/// One message whose billing differs: reported once, with every field that differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageDiff {
    pub id: String,
    pub kind: DiffKind,
    /// UTC micros: the log's timestamp, else Meta's.
    pub ts: i64,
    /// Data row of the business log.
    pub row: Option<u32>,
    /// First line of the webhook file that mentions the message.
    pub line: Option<u64>,
    pub fields: Vec<FieldDiff>,
}

/// Billable units per category on both sides: PMP messages, CBP conversations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryCount {
    pub category: MetaCategory,
    pub wabill: u64,
    pub meta: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Side {
    /// Business messages with an id.
    pub messages: u64,
    pub delivered: u64,
    /// Billable units: PMP messages plus CBP conversations.
    pub billable: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageReport {
    pub diffs: Vec<MessageDiff>,
    pub wabill: Side,
    pub meta: Side,
    pub by_category: Vec<CategoryCount>,
    /// Business messages of the log without an id: they cannot be matched.
    pub without_id: u64,
}

/// A billable unit, for counting: a PMP message or a CBP conversation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum UnitKey<'a> {
    Message(&'a str),
    Conversation(Window),
    MetaConversation(&'a str),
}

fn describe_expected(x: Option<&Expected>) -> String {
    match x {
        None => "not delivered".into(),
        Some(x) => describe(x.model, Some(x.kind), x.category, x.billable),
    }
}

fn describe(
    model: PricingModel,
    kind: Option<PricingType>,
    category: MetaCategory,
    billable: bool,
) -> String {
    let kind = match (model, kind) {
        (PricingModel::Pmp, Some(k)) => format!(" {}", k.id()),
        _ => String::new(),
    };
    format!(
        "{}{kind} {}{}",
        model.id(),
        category.id(),
        if billable {
            " billable"
        } else {
            " not billable"
        }
    )
}

fn describe_meta(m: &MetaMessage) -> String {
    if !m.delivered() {
        return m.status.id().to_string();
    }
    match m.pricing {
        Some(p) => describe(p.model, p.kind, p.category, p.billable),
        None if m.pricing_unreadable => "delivered, pricing unreadable".into(),
        None => "delivered, no pricing".into(),
    }
}

/// Compare message by message. Business messages are taken in CONV-1 order, so that the first
/// message of each conversation pairs wabill's conversation with Meta's conversation id; a
/// message is reported for its conversation only where the pairing breaks (Meta splits one of
/// wabill's conversations, or continues one where wabill opens a new one).
pub fn messages(ours: &Ours, meta: &[MetaMessage]) -> MessageReport {
    let replay = ours.replay;
    let meta_ix: HashMap<&str, usize> = meta
        .iter()
        .enumerate()
        .map(|(i, m)| (m.id.as_str(), i))
        .collect();
    let mut matched = vec![false; meta.len()];
    let mut diffs = Vec::new();
    let mut wabill = Side::default();
    let mut without_id = 0;
    let mut units_ours: BTreeMap<MetaCategory, BTreeSet<UnitKey>> = BTreeMap::new();
    // Conversation pairing: edges seen, and the first partner of each side.
    let mut edges: HashSet<(Window, &str)> = HashSet::new();
    let mut ours_link: HashMap<Window, (&str, &str)> = HashMap::new();
    let mut meta_link: HashMap<&str, (Window, &str)> = HashMap::new();

    for &ei in &replay.order {
        let ei = ei as usize;
        let e = &ours.events[ei];
        if !matches!(e.kind, Kind::Out { .. }) {
            continue;
        }
        let id = ours.ids[ei];
        if id.is_empty() {
            without_id += 1;
            continue;
        }
        let exp = ours.expected(ei);
        wabill.messages += 1;
        if let Some(x) = &exp {
            wabill.delivered += 1;
            if x.billable {
                let key = match (x.model, x.window) {
                    (PricingModel::Cbp, Some(w)) => UnitKey::Conversation(w),
                    _ => UnitKey::Message(id),
                };
                units_ours
                    .entry(x.category.normalized())
                    .or_default()
                    .insert(key);
            }
        }
        let mut diff = |kind, fields| {
            diffs.push(MessageDiff {
                id: id.to_string(),
                kind,
                ts: e.ts,
                row: Some(e.row),
                line: meta_ix.get(id).map(|&i| meta[i].line),
                fields,
            })
        };
        let Some(&mi) = meta_ix.get(id) else {
            diff(
                DiffKind::OnlyInLog,
                vec![FieldDiff {
                    field: "status",
                    wabill: describe_expected(exp.as_ref()),
                    meta: "absent".into(),
                }],
            );
            continue;
        };
        matched[mi] = true;
        let m = &meta[mi];
        let x = match (&exp, m.delivered()) {
            (None, false) => continue,
            (Some(x), true) => x,
            _ => {
                diff(
                    DiffKind::Delivery,
                    vec![FieldDiff {
                        field: "status",
                        wabill: describe_expected(exp.as_ref()),
                        meta: describe_meta(m),
                    }],
                );
                continue;
            }
        };
        if m.pricing_unreadable {
            // Already reported as an input problem at its line.
            continue;
        }
        let mut fields = Vec::new();
        match m.pricing {
            None => fields.push(FieldDiff {
                field: "pricing",
                wabill: describe_expected(Some(x)),
                meta: "absent".into(),
            }),
            Some(p) => {
                if p.model != x.model {
                    fields.push(FieldDiff {
                        field: "pricing_model",
                        wabill: x.model.id().into(),
                        meta: p.model.id().into(),
                    });
                }
                if !category_agrees(x, &p) {
                    fields.push(FieldDiff {
                        field: "category",
                        wabill: x.category.id().into(),
                        meta: p.category.id().into(),
                    });
                }
                if p.billable != x.billable {
                    fields.push(FieldDiff {
                        field: "billable",
                        wabill: x.billable.to_string(),
                        meta: p.billable.to_string(),
                    });
                }
                // `pricing.type` exists only in per-message webhooks.
                if let (PricingModel::Pmp, Some(k)) = (x.model, p.kind) {
                    if k != x.kind {
                        fields.push(FieldDiff {
                            field: "type",
                            wabill: x.kind.id().into(),
                            meta: k.id().into(),
                        });
                    }
                }
            }
        }
        // Conversations (CBP) and free entry point windows (PMP-3): compared when Meta sends one.
        if let (Some(w), Some(c)) = (x.window, &m.conversation) {
            let cid = c.id.as_str();
            if edges.insert((w, cid)) {
                let ours_first = ours_link.get(&w).copied();
                let meta_first = meta_link.get(cid).copied();
                match (ours_first, meta_first) {
                    (Some((other, first)), _) => fields.push(FieldDiff {
                        field: "conversation",
                        wabill: format!("the conversation of {first} (Meta: {other})"),
                        meta: format!("another conversation: {cid}"),
                    }),
                    (None, Some((_, first))) => fields.push(FieldDiff {
                        field: "conversation",
                        wabill: format!("opens a new {} conversation", w.billed.id()),
                        meta: format!("continues {cid} of {first}"),
                    }),
                    (None, None) => {}
                }
                ours_link.entry(w).or_insert((cid, id));
                meta_link.entry(cid).or_insert((w, id));
            }
        }
        if !fields.is_empty() {
            diff(DiffKind::Pricing, fields);
        }
    }

    let mut meta_side = Side::default();
    let mut units_meta: BTreeMap<MetaCategory, BTreeSet<UnitKey>> = BTreeMap::new();
    for (i, m) in meta.iter().enumerate() {
        meta_side.messages += 1;
        if m.delivered() {
            meta_side.delivered += 1;
            if let Some(p) = m.pricing.filter(|p| p.billable) {
                let key = match (p.model, &m.conversation) {
                    (PricingModel::Cbp, Some(c)) => UnitKey::MetaConversation(&c.id),
                    _ => UnitKey::Message(&m.id),
                };
                units_meta
                    .entry(p.category.normalized())
                    .or_default()
                    .insert(key);
            }
        }
        if !matched[i] {
            diffs.push(MessageDiff {
                id: m.id.clone(),
                kind: DiffKind::OnlyInWebhooks,
                ts: m.ts,
                row: None,
                line: Some(m.line),
                fields: vec![FieldDiff {
                    field: "status",
                    wabill: "absent".into(),
                    meta: describe_meta(m),
                }],
            });
        }
    }
    diffs.sort_by(|a, b| (a.ts, &a.id, a.kind).cmp(&(b.ts, &b.id, b.kind)));

    let cats: BTreeSet<MetaCategory> = units_ours
        .keys()
        .chain(units_meta.keys())
        .copied()
        .collect();
    let by_category: Vec<CategoryCount> = cats
        .into_iter()
        .map(|c| CategoryCount {
            category: c,
            wabill: units_ours.get(&c).map_or(0, |s| s.len() as u64),
            meta: units_meta.get(&c).map_or(0, |s| s.len() as u64),
        })
        .collect();
    wabill.billable = by_category.iter().map(|c| c.wabill).sum();
    meta_side.billable = by_category.iter().map(|c| c.meta).sum();
    MessageReport {
        diffs,
        wabill,
        meta: meta_side,
        by_category,
        without_id,
    }
}

// ---------------------------------------------------------------------------------------------
// Analytics
// ---------------------------------------------------------------------------------------------

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
    #[error("analytics data point {start}..{end} spans more than a day: request granularity DAILY or HALF_HOUR")]
    Granularity { start: i64, end: i64 },
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

/// Compare an analytics response of one WABA with the replay: volumes exactly, costs within
/// `tolerance` (absolute, in the WABA's currency). Only the days the response covers are
/// compared; the dimensions compared are those present in the response.
pub fn analytics(
    ours: &Ours,
    a: &Analytics,
    waba: u16,
    tolerance: Decimal,
) -> Result<AnalyticsReport, ReconcileError> {
    const MICROS: i64 = 1_000_000;
    let w = &ours.accounts.wabas[waba as usize];
    let tz = w.tz;
    let mut notes = Vec::new();
    let has_country = a.points.iter().any(|p| p.country.is_some());
    let has_kind = a.points.iter().any(|p| p.kind.is_some());
    let has_category = a.points.iter().any(|p| p.category.is_some());
    let has_volume = a.points.iter().any(|p| p.volume.is_some());
    let has_cost = a.points.iter().any(|p| p.cost.is_some());

    let mut meta: BTreeMap<Key, (u64, Decimal)> = BTreeMap::new();
    let mut days: Option<(NaiveDate, NaiveDate)> = None;
    let mut misaligned = None;
    for p in &a.points {
        if p.end - p.start > 25 * 3600 {
            return Err(ReconcileError::Granularity {
                start: p.start,
                end: p.end,
            });
        }
        let day = local_date(tz, p.start * MICROS);
        if p.end - p.start >= 23 * 3600 && local_midnight(tz, day) != p.start * MICROS {
            misaligned.get_or_insert(p.start);
        }
        days = Some(match days {
            None => (day, day),
            Some((lo, hi)) => (lo.min(day), hi.max(day)),
        });
        let key = (
            day,
            p.country.filter(|_| has_country),
            p.kind.filter(|_| has_kind),
            p.category
                .map(|c| analytics_category(p.kind, c))
                .filter(|_| has_category),
        );
        let v = meta.entry(key).or_insert((0, Decimal::ZERO));
        v.0 += p.volume.unwrap_or(0);
        v.1 += p.cost.unwrap_or(Decimal::ZERO);
    }
    if let Some(s) = misaligned {
        notes.push(format!(
            "Meta's daily data points do not start at 00:00 in {} (e.g. {}): check the WABA's time zone in the accounts file; days are compared by the local date each data point starts on",
            tz.name(),
            chrono::DateTime::from_timestamp(s, 0).map(|d| d.to_rfc3339()).unwrap_or_default()
        ));
    }
    if a.points.is_empty() {
        notes.push("the analytics response has no data points".into());
    }
    if !has_volume {
        notes.push("the response has no volumes (metric VOLUME/CONVERSATION not requested): volumes not compared".into());
    }
    if !has_cost {
        notes.push("the response has no costs (metric COST not requested, or the WABA bills through a partner): costs not compared".into());
    }

    let mut mine: BTreeMap<Key, (u64, Decimal)> = BTreeMap::new();
    let mut outside = 0;
    for (ei, e) in ours.events.iter().enumerate() {
        if ours.chats[e.chat as usize].waba != waba {
            continue;
        }
        let Some(x) = ours.expected(ei) else {
            continue;
        };
        let counts = match a.kind {
            AnalyticsKind::Pricing => x.model == PricingModel::Pmp,
            AnalyticsKind::Conversation => x.model == PricingModel::Cbp && x.unit,
        };
        if !counts {
            continue;
        }
        let day = local_date(tz, e.ts);
        if !days.is_some_and(|(lo, hi)| lo <= day && day <= hi) {
            outside += 1;
            continue;
        }
        let key = (
            day,
            Some(ours.countries[e.country as usize]).filter(|_| has_country),
            Some(x.kind).filter(|_| has_kind),
            Some(analytics_category(Some(x.kind), x.category)).filter(|_| has_category),
        );
        let v = mine.entry(key).or_insert((0, Decimal::ZERO));
        v.0 += 1;
        v.1 += ours.replay.outcomes[ei].price.to_decimal();
    }
    if outside > 0 {
        notes.push(format!(
            "{outside} unit(s) of WABA {} fall on days the analytics response does not cover: not compared",
            w.id
        ));
    }

    let keys: BTreeSet<&Key> = meta.keys().chain(mine.keys()).collect();
    let mut diffs = Vec::new();
    let (mut wv, mut mv, mut wc, mut mc) = (0u64, 0u64, Decimal::ZERO, Decimal::ZERO);
    for k in &keys {
        let (ov, oc) = mine.get(k).copied().unwrap_or((0, Decimal::ZERO));
        let (tv, tc) = meta.get(k).copied().unwrap_or((0, Decimal::ZERO));
        wv += ov;
        mv += tv;
        wc += oc;
        mc += tc;
        let volume_differs = has_volume && ov != tv;
        let cost_differs = has_cost && (oc - tc).abs() > tolerance;
        if volume_differs || cost_differs {
            diffs.push(AnalyticsRow {
                day: k.0,
                country: k.1,
                kind: k.2,
                category: k.3,
                wabill_volume: ov,
                meta_volume: has_volume.then_some(tv),
                wabill_cost: oc,
                meta_cost: has_cost.then_some(tc),
            });
        }
    }
    Ok(AnalyticsReport {
        kind: a.kind,
        waba: w.id.clone(),
        timezone: tz.name().to_string(),
        days,
        diffs,
        compared: keys.len() as u64,
        wabill_volume: wv,
        meta_volume: mv,
        wabill_cost: wc,
        meta_cost: mc,
        outside,
        notes,
    })
}

/// Which WABA of the accounts file an analytics response belongs to: the one named explicitly,
/// else the one whose id is the response's `id`, else the only one.
pub fn analytics_waba(
    accounts: &Accounts,
    explicit: Option<&str>,
    response_id: Option<&str>,
) -> Result<u16, String> {
    let known = || {
        accounts
            .wabas
            .iter()
            .map(|w| w.id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if let Some(name) = explicit {
        return accounts
            .wabas
            .iter()
            .position(|w| w.id == name)
            .map(|i| i as u16)
            .ok_or_else(|| format!("no WABA `{name}` in the accounts file (have: {})", known()));
    }
    if let Some(i) = response_id.and_then(|id| accounts.wabas.iter().position(|w| w.id == id)) {
        return Ok(i as u16);
    }
    if accounts.wabas.len() == 1 {
        return Ok(0);
    }
    Err(format!(
        "the analytics response's id `{}` names no WABA of the accounts file (have: {}); write --analytics WABA=FILE",
        response_id.unwrap_or(""),
        known()
    ))
}
