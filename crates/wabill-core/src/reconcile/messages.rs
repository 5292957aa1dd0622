//! Reconciliation message by message (billing-rules.md §6): the engine's decision for each
//! business message against the `pricing` and `conversation` of Meta's status webhooks, and the
//! billable units counted on both sides.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use super::Ours;
use crate::meta::{
    category_agrees, Expected, MetaCategory, MetaMessage, MetaPricing, PricingModel, PricingType,
    Window,
};
use crate::money::Money;
use crate::types::Kind;

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
    /// What differs but costs nothing on either side (a `billable` flag on a free unit).
    pub notes: Vec<String>,
}

/// A billable unit, for counting: a PMP message or a CBP conversation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum UnitKey<'a> {
    Message(&'a str),
    Conversation(Window),
    MetaConversation(&'a str),
}

/// Billable units per category.
type Units<'a> = BTreeMap<MetaCategory, BTreeSet<UnitKey<'a>>>;

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
    let mut m = Matcher::new(meta);
    for &ei in &ours.replay.order {
        m.ours_message(ours, ei as usize);
    }
    let (mut meta_side, units_meta) = m.meta_side();
    let mut diffs = m.diffs;
    diffs.sort_by(|a, b| (a.ts, &a.id, a.kind).cmp(&(b.ts, &b.id, b.kind)));
    let by_category = by_category(&m.units, &units_meta);
    let mut wabill = m.wabill;
    wabill.billable = by_category.iter().map(|c| c.wabill).sum();
    meta_side.billable = by_category.iter().map(|c| c.meta).sum();
    MessageReport {
        diffs,
        wabill,
        meta: meta_side,
        by_category,
        without_id: m.without_id,
        notes: m.notes,
    }
}

/// The state of one comparison: Meta's messages by id, which were matched, and what is found.
struct Matcher<'a> {
    meta: &'a [MetaMessage],
    meta_ix: HashMap<&'a str, usize>,
    matched: Vec<bool>,
    diffs: Vec<MessageDiff>,
    wabill: Side,
    without_id: u64,
    /// wabill's billable units.
    units: Units<'a>,
    pairing: Pairing<'a>,
    notes: Vec<String>,
}

impl<'a> Matcher<'a> {
    fn new(meta: &'a [MetaMessage]) -> Matcher<'a> {
        Matcher {
            meta,
            meta_ix: meta
                .iter()
                .enumerate()
                .map(|(i, m)| (m.id.as_str(), i))
                .collect(),
            matched: vec![false; meta.len()],
            diffs: Vec::new(),
            wabill: Side::default(),
            without_id: 0,
            units: Units::new(),
            pairing: Pairing::default(),
            notes: Vec::new(),
        }
    }

    /// Event `ei` of the log (the next in CONV-1 order), if it is a business message with an id:
    /// counted, and compared with Meta's message of the same id.
    fn ours_message(&mut self, ours: &Ours<'a>, ei: usize) {
        let e = &ours.events[ei];
        if !matches!(e.kind, Kind::Out { .. }) {
            return;
        }
        let id = ours.ids[ei];
        if id.is_empty() {
            self.without_id += 1;
            return;
        }
        let exp = ours.expected(ei);
        self.count_ours(id, exp.as_ref());
        let line = self.meta_ix.get(id).map(|&i| self.meta[i].line);
        let diff = |kind, fields| MessageDiff {
            id: id.to_string(),
            kind,
            ts: e.ts,
            row: Some(e.row),
            line,
            fields,
        };
        let Some(&mi) = self.meta_ix.get(id) else {
            let status = status_diff(describe_expected(exp.as_ref()), "absent".into());
            self.diffs.push(diff(DiffKind::OnlyInLog, status));
            return;
        };
        self.matched[mi] = true;
        let m: &'a MetaMessage = &self.meta[mi];
        let x = match (&exp, m.delivered()) {
            (None, false) => return,
            (Some(x), true) => x,
            _ => {
                let status = status_diff(describe_expected(exp.as_ref()), describe_meta(m));
                self.diffs.push(diff(DiffKind::Delivery, status));
                return;
            }
        };
        if m.pricing_unreadable {
            // Already reported as an input problem at its line.
            return;
        }
        // Meta's statuses disagree: a difference whichever of them comes first.
        let mut fields = if m.pricing_conflict.is_empty() {
            let mut fields = pricing_fields(x, m.pricing);
            let free_here = ours.replay.outcomes[ei].price == Money::ZERO;
            if let Some(note) = free_billable_note(id, free_here, m.pricing, &mut fields) {
                self.notes.push(note);
            }
            fields
        } else {
            vec![conflict_field(x, &m.pricing_conflict)]
        };
        // Conversations (CBP) and free entry point windows (PMP-3): compared when Meta sends one.
        if let (Some(w), Some(c)) = (x.window, &m.conversation) {
            fields.extend(self.pairing.pair(w, &c.id, id));
        }
        if !fields.is_empty() {
            self.diffs.push(diff(DiffKind::Pricing, fields));
        }
    }

    /// Count one of wabill's business messages with an id.
    fn count_ours(&mut self, id: &'a str, exp: Option<&Expected>) {
        self.wabill.messages += 1;
        let Some(x) = exp else { return };
        self.wabill.delivered += 1;
        if x.billable {
            let key = match (x.model, x.window) {
                (PricingModel::Cbp, Some(w)) => UnitKey::Conversation(w),
                _ => UnitKey::Message(id),
            };
            self.units
                .entry(x.category.normalized())
                .or_default()
                .insert(key);
        }
    }

    /// Meta's side: its messages and billable units counted, and its messages that the log does
    /// not have added to the diffs.
    fn meta_side(&mut self) -> (Side, Units<'a>) {
        let mut side = Side::default();
        let mut units = Units::new();
        let meta = self.meta;
        for (i, m) in meta.iter().enumerate() {
            side.messages += 1;
            if m.delivered() {
                side.delivered += 1;
                if let Some(p) = m.pricing.filter(|p| p.billable) {
                    let key = match (p.model, &m.conversation) {
                        (PricingModel::Cbp, Some(c)) => UnitKey::MetaConversation(&c.id),
                        _ => UnitKey::Message(&m.id),
                    };
                    units
                        .entry(p.category.normalized())
                        .or_default()
                        .insert(key);
                }
            }
            if !self.matched[i] {
                self.diffs.push(MessageDiff {
                    id: m.id.clone(),
                    kind: DiffKind::OnlyInWebhooks,
                    ts: m.ts,
                    row: None,
                    line: Some(m.line),
                    fields: status_diff("absent".into(), describe_meta(m)),
                });
            }
        }
        (side, units)
    }
}

fn status_diff(wabill: String, meta: String) -> Vec<FieldDiff> {
    vec![FieldDiff {
        field: "status",
        wabill,
        meta,
    }]
}

/// Meta's statuses of one message carry different pricings (§6: a message is billed once).
fn conflict_field(x: &Expected, pricings: &[MetaPricing]) -> FieldDiff {
    let told: Vec<String> = pricings
        .iter()
        .map(|p| describe(p.model, p.kind, p.category, p.billable))
        .collect();
    FieldDiff {
        field: "pricing",
        wabill: describe_expected(Some(x)),
        meta: format!("conflicting statuses: {}", told.join(" / ")),
    }
}

/// The pricing fields that differ for a message delivered on both sides.
fn pricing_fields(x: &Expected, pricing: Option<MetaPricing>) -> Vec<FieldDiff> {
    let Some(p) = pricing else {
        return vec![FieldDiff {
            field: "pricing",
            wabill: describe_expected(Some(x)),
            meta: "absent".into(),
        }];
    };
    let mut fields = Vec::new();
    let mut differs = |field, wabill: String, meta: String| {
        fields.push(FieldDiff {
            field,
            wabill,
            meta,
        })
    };
    if p.model != x.model {
        differs("pricing_model", x.model.id().into(), p.model.id().into());
    }
    if !category_agrees(x, &p) {
        differs("category", x.category.id().into(), p.category.id().into());
    }
    if p.billable != x.billable {
        differs("billable", x.billable.to_string(), p.billable.to_string());
    }
    // `pricing.type` exists only in per-message webhooks.
    if let (PricingModel::Pmp, Some(k)) = (x.model, p.kind) {
        if k != x.kind {
            differs("type", x.kind.id().into(), k.id().into());
        }
    }
    fields
}

/// A `billable` flag that differs on a unit both sides price at zero (wabill's price is zero:
/// `free_here`; Meta's category is `service` or its type free) is taken out of `fields` and
/// becomes a note: Meta's own example of a cbp-2024 service conversation says `billable: true`.
fn free_billable_note(
    id: &str,
    free_here: bool,
    pricing: Option<MetaPricing>,
    fields: &mut Vec<FieldDiff>,
) -> Option<String> {
    let free_at_meta = pricing.is_some_and(|p| {
        p.category == MetaCategory::Service
            || matches!(
                p.kind,
                Some(PricingType::FreeCustomerService | PricingType::FreeEntryPoint)
            )
    });
    if !(free_here && free_at_meta) {
        return None;
    }
    let at = fields.iter().position(|f| f.field == "billable")?;
    let f = fields.remove(at);
    Some(format!(
        "message {id}: billable {} (wabill) ≠ {} (Meta), but both price it at zero: not a difference",
        f.wabill, f.meta
    ))
}

/// Conversation pairing: the (wabill window, Meta conversation) pairs seen, and the first
/// partner of each side with the message that paired them.
#[derive(Default)]
struct Pairing<'a> {
    edges: HashSet<(Window, &'a str)>,
    ours_link: HashMap<Window, (&'a str, &'a str)>,
    meta_link: HashMap<&'a str, (Window, &'a str)>,
}

impl<'a> Pairing<'a> {
    /// Message `id` lies in wabill's window `w` and Meta's conversation `cid`: where this breaks
    /// the pairing made by earlier messages, the `conversation` field that differs.
    fn pair(&mut self, w: Window, cid: &'a str, id: &'a str) -> Option<FieldDiff> {
        if !self.edges.insert((w, cid)) {
            return None;
        }
        let diff = match (self.ours_link.get(&w), self.meta_link.get(cid)) {
            (Some((other, first)), _) => Some(FieldDiff {
                field: "conversation",
                wabill: format!("the conversation of {first} (Meta: {other})"),
                meta: format!("another conversation: {cid}"),
            }),
            (None, Some((_, first))) => Some(FieldDiff {
                field: "conversation",
                wabill: format!("opens a new {} conversation", w.billed.id()),
                meta: format!("continues {cid} of {first}"),
            }),
            (None, None) => None,
        };
        self.ours_link.entry(w).or_insert((cid, id));
        self.meta_link.entry(cid).or_insert((w, id));
        diff
    }
}

/// Billable units per category on both sides, in category order.
fn by_category(ours: &Units, meta: &Units) -> Vec<CategoryCount> {
    let cats: BTreeSet<MetaCategory> = ours.keys().chain(meta.keys()).copied().collect();
    cats.into_iter()
        .map(|c| CategoryCount {
            category: c,
            wabill: ours.get(&c).map_or(0, |s| s.len() as u64),
            meta: meta.get(&c).map_or(0, |s| s.len() as u64),
        })
        .collect()
}
