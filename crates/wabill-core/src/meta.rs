//! What Meta reports about billing (billing-rules.md §6), in wabill's terms.
//!
//! Three things live here, all pure:
//! - the vocabulary of status webhooks and analytics (pricing model, pricing type, category),
//!   with the spellings Meta uses (`authentication-international` in `pricing.category`,
//!   `authentication_international` in `conversation.origin.type`, upper case in analytics);
//! - how the repeated statuses of one message (sent, delivered, read, failed; out of order,
//!   twice) collapse into one report per message id ([`merge_statuses`]);
//! - what Meta should report for each decision of the engine ([`expected`]): the single mapping
//!   used both to write webhooks from a replay and to reconcile against Meta's.

use std::collections::HashMap;

use super::accounts::Accounts;
use super::calendar::DAY;
use super::ids::Rule;
use super::model::{Event, Issue, Outcome, Unit};
use super::types::{Billed, Country, Kind, Reason, Status, TemplateCategory};
use super::window::FEP_LENGTH;

/// `pricing.pricing_model`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PricingModel {
    Cbp,
    Pmp,
}

impl PricingModel {
    pub fn id(self) -> &'static str {
        match self {
            PricingModel::Cbp => "CBP",
            PricingModel::Pmp => "PMP",
        }
    }
    pub fn parse(s: &str) -> Option<PricingModel> {
        match s.trim().to_ascii_uppercase().as_str() {
            "CBP" => Some(PricingModel::Cbp),
            "PMP" => Some(PricingModel::Pmp),
            _ => None,
        }
    }
}

/// `pricing.type` of a status webhook, `pricing_type` of pricing_analytics and
/// `conversation_type` of conversation_analytics (which adds `FREE_TIER`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PricingType {
    Regular,
    FreeCustomerService,
    FreeEntryPoint,
    FreeTier,
    /// GRP-2: free inside a group's customer service window.
    FreeGroupCustomerService,
}

impl PricingType {
    /// The webhook spelling (lower case).
    pub fn id(self) -> &'static str {
        match self {
            PricingType::Regular => "regular",
            PricingType::FreeCustomerService => "free_customer_service",
            PricingType::FreeEntryPoint => "free_entry_point",
            PricingType::FreeTier => "free_tier",
            PricingType::FreeGroupCustomerService => "free_group_customer_service",
        }
    }
    /// The analytics spelling (upper case).
    pub fn analytics_id(self) -> String {
        self.id().to_ascii_uppercase()
    }
    /// Either spelling; `FREE_ENTRY` is conversation_analytics' name for free entry points.
    pub fn parse(s: &str) -> Option<PricingType> {
        match s.trim().to_ascii_lowercase().as_str() {
            "regular" => Some(PricingType::Regular),
            "free_customer_service" => Some(PricingType::FreeCustomerService),
            "free_entry_point" | "free_entry" => Some(PricingType::FreeEntryPoint),
            "free_tier" => Some(PricingType::FreeTier),
            "free_group_customer_service" => Some(PricingType::FreeGroupCustomerService),
            _ => None,
        }
    }
}

/// `pricing.category`, `conversation.origin.type`, and the categories of the analytics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MetaCategory {
    Marketing,
    /// Marketing Messages API pricing: billed as marketing for reconciliation.
    MarketingLite,
    Utility,
    Authentication,
    AuthenticationInternational,
    Service,
    /// A free entry point conversation or window.
    ReferralConversion,
    /// cbp-2022 conversation kinds.
    BusinessInitiated,
    UserInitiated,
    /// GRP-1.
    GroupMarketing,
    GroupUtility,
    GroupService,
    /// AIP-1.
    GeneralPurposeAi,
    /// MBA-1.
    MetaBusinessAgent,
    /// CALL-3 (calls are reported by `call_analytics`, not in statuses).
    Call,
}

impl MetaCategory {
    pub const ALL: [MetaCategory; 15] = [
        MetaCategory::Marketing,
        MetaCategory::MarketingLite,
        MetaCategory::Utility,
        MetaCategory::Authentication,
        MetaCategory::AuthenticationInternational,
        MetaCategory::Service,
        MetaCategory::ReferralConversion,
        MetaCategory::BusinessInitiated,
        MetaCategory::UserInitiated,
        MetaCategory::GroupMarketing,
        MetaCategory::GroupUtility,
        MetaCategory::GroupService,
        MetaCategory::GeneralPurposeAi,
        MetaCategory::MetaBusinessAgent,
        MetaCategory::Call,
    ];

    /// Canonical id (lower case, underscores): `authentication_international`.
    pub fn id(self) -> &'static str {
        match self {
            MetaCategory::Marketing => "marketing",
            MetaCategory::MarketingLite => "marketing_lite",
            MetaCategory::Utility => "utility",
            MetaCategory::Authentication => "authentication",
            MetaCategory::AuthenticationInternational => "authentication_international",
            MetaCategory::Service => "service",
            MetaCategory::ReferralConversion => "referral_conversion",
            MetaCategory::BusinessInitiated => "business_initiated",
            MetaCategory::UserInitiated => "user_initiated",
            MetaCategory::GroupMarketing => "group_marketing",
            MetaCategory::GroupUtility => "group_utility",
            MetaCategory::GroupService => "group_service",
            MetaCategory::GeneralPurposeAi => "general_purpose_ai",
            MetaCategory::MetaBusinessAgent => "meta_business_agent",
            MetaCategory::Call => "call",
        }
    }

    /// As Meta writes it in `pricing.category` (the status webhook reference spells the
    /// authentication-international rate with a hyphen there, and with an underscore in
    /// `conversation.origin.type`).
    pub fn pricing_id(self) -> &'static str {
        match self {
            MetaCategory::AuthenticationInternational => "authentication-international",
            other => other.id(),
        }
    }

    /// Any of Meta's spellings: case-insensitive, `-` and `_` alike.
    pub fn parse(s: &str) -> Option<MetaCategory> {
        let norm = s.trim().to_ascii_lowercase().replace('-', "_");
        MetaCategory::ALL.into_iter().find(|c| c.id() == norm)
    }

    /// GRP-1: one of Meta's group categories.
    pub fn is_group(self) -> bool {
        matches!(
            self,
            MetaCategory::GroupMarketing | MetaCategory::GroupUtility | MetaCategory::GroupService
        )
    }

    /// The same for reconciliation: `marketing_lite` is billed as marketing.
    pub fn normalized(self) -> MetaCategory {
        match self {
            MetaCategory::MarketingLite => MetaCategory::Marketing,
            other => other,
        }
    }

    /// The template category a message of this pricing category must have been sent with;
    /// `None` for service and free entry point messages (non-template unless the business's own
    /// log says otherwise) and for the cbp-2022 kinds, which do not name one.
    pub fn template_category(self) -> Option<TemplateCategory> {
        match self {
            MetaCategory::Marketing
            | MetaCategory::MarketingLite
            | MetaCategory::GroupMarketing => Some(TemplateCategory::Marketing),
            MetaCategory::Utility | MetaCategory::GroupUtility => Some(TemplateCategory::Utility),
            MetaCategory::Authentication | MetaCategory::AuthenticationInternational => {
                Some(TemplateCategory::Authentication)
            }
            _ => None,
        }
    }

    /// The category Meta reports for a unit billed as `b`.
    pub fn from_billed(b: Billed) -> MetaCategory {
        match b {
            Billed::Marketing => MetaCategory::Marketing,
            Billed::Utility => MetaCategory::Utility,
            Billed::Authentication => MetaCategory::Authentication,
            Billed::AuthenticationInternational => MetaCategory::AuthenticationInternational,
            Billed::Service => MetaCategory::Service,
            Billed::BusinessInitiated => MetaCategory::BusinessInitiated,
            Billed::UserInitiated => MetaCategory::UserInitiated,
            Billed::FreeEntryPoint => MetaCategory::ReferralConversion,
            Billed::GroupMarketing => MetaCategory::GroupMarketing,
            Billed::GroupUtility => MetaCategory::GroupUtility,
            Billed::GroupService => MetaCategory::GroupService,
            Billed::GeneralPurposeAi => MetaCategory::GeneralPurposeAi,
            Billed::MetaBusinessAgent => MetaCategory::MetaBusinessAgent,
            Billed::Call => MetaCategory::Call,
        }
    }
}

/// A status webhook's `pricing` object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct MetaPricing {
    pub billable: bool,
    pub model: PricingModel,
    /// Absent in webhooks of the conversation-based era.
    pub kind: Option<PricingType>,
    pub category: MetaCategory,
}

/// A status webhook's `conversation` object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaConversation {
    pub id: String,
    /// UTC micros.
    pub expires: Option<i64>,
    pub origin: Option<MetaCategory>,
}

/// One entry of `statuses[]`, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusUpdate {
    pub id: String,
    pub status: Status,
    /// UTC micros.
    pub ts: i64,
    /// The user's number (`recipient_id`), digits; empty when absent.
    pub user: String,
    /// MKT-4: the user's BSUID (`recipient_user_id`); empty when absent.
    pub user_id: String,
    /// `entry[].id`.
    pub waba: String,
    /// `metadata.display_phone_number`.
    pub number: String,
    /// GRP-1: a group message's group (`recipient_id` beside `recipient_type: group`), `user`
    /// then being the member (`recipient_participant_id`); empty for a 1:1 message.
    pub group: String,
    pub pricing: Option<MetaPricing>,
    /// A `pricing` object was present but could not be read (reported where it was read).
    pub pricing_unreadable: bool,
    pub conversation: Option<MetaConversation>,
    /// 1-based line of the webhook file.
    pub line: u64,
}

/// Everything Meta said about one business message, its statuses merged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaMessage {
    pub id: String,
    pub waba: String,
    pub number: String,
    pub user: String,
    /// MKT-4: the user's BSUID, when a status gives it.
    pub user_id: String,
    /// GRP-1: the group of a group message (`user` is the member); empty for a 1:1 message.
    pub group: String,
    /// `Delivered` (a delivered status), `Read` (read but never a delivered status), `Failed`
    /// (failed and never delivered or read) or `Sent`.
    pub status: Status,
    /// Delivery time (earliest delivered, else earliest read), or the earliest status of the
    /// winning kind when not delivered.
    pub ts: i64,
    pub pricing: Option<MetaPricing>,
    pub pricing_unreadable: bool,
    /// Every distinct `pricing` of the message's statuses, sorted, when they disagree (Meta
    /// billed it two ways: a difference whatever the order of the lines); empty otherwise.
    pub pricing_conflict: Vec<MetaPricing>,
    pub conversation: Option<MetaConversation>,
    /// First line that mentions the message.
    pub line: u64,
    /// How many status entries were merged.
    pub statuses: u32,
}

impl MetaMessage {
    pub fn delivered(&self) -> bool {
        self.status.is_delivered()
    }
}

fn status_rank(s: Status) -> u8 {
    match s {
        Status::Delivered => 0,
        Status::Read => 1,
        Status::Failed => 2,
        Status::Sent => 3,
    }
}

/// §6 "one message is billed once": collapse repeated, duplicated and out-of-order statuses into
/// one report per message id. The delivery time is the earliest `delivered` status (else the
/// earliest `read`); `failed` wins only if the message was never delivered or read. The pricing
/// comes from a delivered or read status when one carries it, else from any other; likewise the
/// conversation. Statuses whose pricings differ are kept as a conflict
/// ([`MetaMessage::pricing_conflict`]). Nothing depends on the order of the lines except ties
/// of everything else. Output order: by time, then first line.
pub fn merge_statuses(updates: &[StatusUpdate]) -> Vec<MetaMessage> {
    // GRP-1: a group message has one status per member: one delivery per (id, member).
    let mut by_id: HashMap<(&str, &str), Vec<&StatusUpdate>> = HashMap::new();
    for u in updates {
        let member = if u.group.is_empty() {
            ""
        } else {
            u.user.as_str()
        };
        by_id.entry((u.id.as_str(), member)).or_default().push(u);
    }
    let mut out: Vec<MetaMessage> = by_id
        .into_values()
        .map(|mut us| {
            // At equal rank and time the smaller pricing wins, not the earlier line.
            us.sort_by_key(|u| {
                (
                    status_rank(u.status),
                    u.ts,
                    u.pricing.is_none(),
                    u.pricing,
                    u.line,
                )
            });
            let win = us[0];
            let mut pricings: Vec<MetaPricing> = us.iter().filter_map(|u| u.pricing).collect();
            pricings.sort_unstable();
            pricings.dedup();
            if pricings.len() < 2 {
                pricings.clear();
            }
            let first_line = us.iter().map(|u| u.line).min().unwrap_or(win.line);
            // Prefer what a delivered/read status says (the order above puts those first).
            let pricing = us.iter().find_map(|u| u.pricing);
            let conversation = us.iter().find_map(|u| u.conversation.clone());
            let user = us
                .iter()
                .map(|u| u.user.as_str())
                .find(|s| !s.is_empty())
                .unwrap_or("");
            let user_id = us
                .iter()
                .map(|u| u.user_id.as_str())
                .find(|s| !s.is_empty())
                .unwrap_or("");
            MetaMessage {
                // GRP-1: one delivery per member, under an id of its own: `<id>/<member>`.
                id: if win.group.is_empty() {
                    win.id.clone()
                } else {
                    format!("{}/{}", win.id, user)
                },
                waba: win.waba.clone(),
                number: win.number.clone(),
                user: user.to_string(),
                user_id: user_id.to_string(),
                group: win.group.clone(),
                status: win.status,
                ts: win.ts,
                pricing,
                pricing_unreadable: pricing.is_none() && us.iter().any(|u| u.pricing_unreadable),
                pricing_conflict: pricings,
                conversation,
                line: first_line,
                statuses: us.len() as u32,
            }
        })
        .collect();
    out.sort_by(|a, b| (a.ts, a.line, &a.id, &a.user).cmp(&(b.ts, b.line, &b.id, &b.user)));
    out
}

/// A conversation (CBP) or free entry point window (PMP-3) as wabill sees it: one chat, the
/// category it is billed as, and its opening instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Window {
    pub chat: u32,
    pub billed: Billed,
    pub start: i64,
}

impl Window {
    /// CONV-2: conversations last 24 h, free entry points 72 h.
    pub fn expires(&self) -> i64 {
        self.start
            + if self.billed == Billed::FreeEntryPoint {
                FEP_LENGTH
            } else {
                DAY
            }
    }
}

/// What Meta should report for one delivered business message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expected {
    pub model: PricingModel,
    pub billable: bool,
    /// PMP: the webhook's `pricing.type`. CBP: the conversation's type in
    /// conversation_analytics (`regular`, `free_tier`, `free_entry_point`).
    pub kind: PricingType,
    pub category: MetaCategory,
    /// The conversation (CBP) or free entry point window (PMP-3) the message belongs to.
    pub window: Option<Window>,
    /// Whether this message is the unit that opened its window (or, under PMP, is a unit).
    pub unit: bool,
}

/// How each conversation opened, so that messages riding in it report what its opener reports.
pub struct Openers(HashMap<Window, Reason>);

impl Openers {
    pub fn new(events: &[Event], outcomes: &[Outcome]) -> Openers {
        let mut m = HashMap::new();
        for (e, o) in events.iter().zip(outcomes) {
            if let (Unit::Free | Unit::Charged, Some(b), Some(s), Some(r)) =
                (o.unit, o.billed, o.conv_start, o.reason)
            {
                if o.rulebook.is_some_and(|rb| rb.is_cbp()) {
                    m.entry(Window {
                        chat: e.chat,
                        billed: b,
                        start: s,
                    })
                    .or_insert(r);
                }
            }
        }
        Openers(m)
    }
}

/// What Meta should report for a business message, given the engine's outcome; `None` when Meta
/// should report it not delivered (a failed or unconfirmed message).
///
/// CBP (billing-rules.md CBP-1…CBP-10): every message reports its conversation's category;
/// `billable` is true for charged and free-tier conversations (CBP-7: "billable" at price 0) and
/// false for free entry point and, from cbp-2024, free service conversations. PMP: `regular` for
/// a charged message, `free_customer_service` for a free non-template or in-window utility
/// message (and, under pmp-2026, a service message within the number's free allowance, as Meta's
/// reference describes it from 2026-10-01), `free_entry_point` inside a free entry point window
/// (category `referral_conversion`).
pub fn expected(event: &Event, o: &Outcome, openers: &Openers) -> Option<Expected> {
    if !matches!(event.kind, Kind::Out { .. } | Kind::Bot { .. }) {
        return None;
    }
    let reason = o.reason?;
    if matches!(reason, Reason::NotDelivered | Reason::NotAnswered) {
        return None;
    }
    let billed = o.billed?;
    let category = MetaCategory::from_billed(billed);
    let window = o.conv_start.map(|start| Window {
        chat: event.chat,
        billed,
        start,
    });
    let cbp = o.rulebook.is_some_and(|r| r.is_cbp());
    if cbp {
        let window = window?;
        let opened_by = if reason == Reason::InConversation {
            openers.0.get(&window).copied().unwrap_or(Reason::Charged)
        } else {
            reason
        };
        let (billable, kind) = match opened_by {
            Reason::FreeTier => (true, PricingType::FreeTier),
            Reason::FreeEntryPoint => (false, PricingType::FreeEntryPoint),
            Reason::FreeService => (false, PricingType::Regular),
            _ => (true, PricingType::Regular),
        };
        return Some(Expected {
            model: PricingModel::Cbp,
            billable,
            kind,
            category,
            window: Some(window),
            unit: o.unit != Unit::None,
        });
    }
    let (billable, kind, category, window) = match reason {
        Reason::Charged | Reason::Unpriced => (true, PricingType::Regular, category, None),
        Reason::FreeGroupCustomerService => {
            (false, PricingType::FreeGroupCustomerService, category, None)
        }
        Reason::NotChargedYet => (false, PricingType::Regular, category, None),
        Reason::FreeEntryPoint => (false, PricingType::FreeEntryPoint, category, window),
        // PMP-2 and, under pmp-2026, PMP-5's free allowance.
        Reason::FreeCustomerService | Reason::FreeTier => (
            false,
            PricingType::FreeCustomerService,
            if reason == Reason::FreeTier {
                MetaCategory::Service
            } else {
                category
            },
            None,
        ),
        // Not produced under PMP (riders carry their conversation's CBP rulebook).
        Reason::InConversation | Reason::FreeService => {
            (false, PricingType::FreeCustomerService, category, None)
        }
        Reason::NotDelivered | Reason::NotAnswered => unreachable!("handled above"),
    };
    Some(Expected {
        model: PricingModel::Pmp,
        billable,
        kind,
        category,
        window,
        unit: o.unit != Unit::None,
    })
}

/// Whether Meta's category agrees with the expected one: `marketing_lite` counts as marketing,
/// and inside a free entry point window Meta may name the message's own category, so
/// `free_entry_point` + any category agrees with `referral_conversion`.
pub fn category_agrees(expected: &Expected, meta: &MetaPricing) -> bool {
    if expected.category == MetaCategory::ReferralConversion
        && meta.kind == Some(PricingType::FreeEntryPoint)
    {
        return true;
    }
    expected.category.normalized() == meta.category.normalized()
}

/// What a replay of Meta's own webhooks decided differently from Meta, where the accounts file
/// or a message missing from the log is the likely cause (§6: Meta's `pricing` is what it
/// billed). `meta` holds each row's pricing as Meta sent it, by the event's `row`; `countries`
/// are the events' country table. Two disagreements are reported, each as an issue of the
/// event naming what to change:
/// - PMP-6 (`meta-category`): Meta billed an authentication message as
///   `authentication_international` and the replay as domestic, or the other way round; the
///   message names the `[portfolio]` keys of the accounts file that decide it.
/// - PMP-3 (`meta-free-entry-point`): Meta priced a message as a free entry point one and the
///   replay charged it: the log lacks the user's message from the ad or Page button.
pub fn meta_pricing_issues(
    events: &[Event],
    outcomes: &[Outcome],
    countries: &[Country],
    meta: &[(u32, MetaPricing)],
    accounts: &Accounts,
) -> Vec<Issue> {
    if meta.is_empty() {
        return Vec::new();
    }
    let of_row: HashMap<u32, MetaPricing> = meta.iter().copied().collect();
    let mut issues = Vec::new();
    for (ei, e) in events.iter().enumerate() {
        let Some(p) = of_row.get(&e.row) else {
            continue;
        };
        let o = &outcomes[ei];
        let country = countries[e.country as usize];
        let meta_intl = p.category == MetaCategory::AuthenticationInternational;
        let (code, rule, message) = match o.billed {
            Some(Billed::Authentication) if meta_intl => (
                "meta-category",
                Rule::Pmp6,
                format!(
                    "Meta billed this message as authentication_international, the replay as domestic authentication: {}",
                    pmp6_advice(accounts, country, e.ts, true)
                ),
            ),
            Some(Billed::AuthenticationInternational)
                if p.category == MetaCategory::Authentication =>
            (
                "meta-category",
                Rule::Pmp6,
                format!(
                    "Meta billed this message as domestic authentication, the replay as authentication_international: {}",
                    pmp6_advice(accounts, country, e.ts, false)
                ),
            ),
            _ if o.unit == Unit::Charged
                && (p.kind == Some(PricingType::FreeEntryPoint)
                    || p.category == MetaCategory::ReferralConversion) =>
            (
                "meta-free-entry-point",
                Rule::Pmp3,
                "Meta priced this message free in an entry point window, the replay charges it: the log lacks the user's message from the ad or Page button that opened the 72-hour window (add it to the log, or trust Meta's figure)".to_string(),
            ),
            _ => continue,
        };
        issues.push(Issue {
            code,
            rule,
            event: ei as u32,
            message,
        });
    }
    issues
}

/// What in the accounts file makes PMP-6 decide as it did for a user of `country` at `ts`, and
/// what to change so that it decides as Meta did (`meta_intl`: Meta billed international).
fn pmp6_advice(accounts: &Accounts, country: Country, ts: i64, meta_intl: bool) -> String {
    let p = &accounts.portfolio;
    let when = chrono::DateTime::from_timestamp_micros(ts)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default();
    let c = country.as_str();
    if !meta_intl {
        return match p.primary_country {
            Some(primary) => format!(
                "the accounts file makes the portfolio eligible with primary country {}; if Meta treats {c} as domestic, `[portfolio] primary_country` is not the business's country, or Meta's start for {c} is later: add `auth_international_exceptions = {{ {c} = \"<Meta's start>\" }}`",
                primary.as_str()
            ),
            None => "check `[portfolio]` in the accounts file".to_string(),
        };
    }
    match (p.primary_country, p.auth_international_start) {
        (None, _) => "the accounts give no `[portfolio] primary_country` (without an accounts file, none), so no user is international: set it to the business's country and `auth_international_start` to the date Meta made the portfolio eligible".to_string(),
        (Some(_), None) => "the accounts file does not make the portfolio eligible: add `[portfolio] auth_international_start = \"<RFC 3339 instant>\"` (the date Meta made it eligible)".to_string(),
        (Some(primary), Some(_)) if primary == country => format!(
            "the user's country {c} is the portfolio's `primary_country`; if the business's country is another, correct `[portfolio] primary_country`"
        ),
        (Some(_), Some(_)) if !accounts.auth_international_applies(country, ts) => format!(
            "the message was delivered at {when}, before the eligibility start the accounts file gives for {c}: move `auth_international_start` (or `auth_international_exceptions.{c}`) no later than {when}"
        ),
        (Some(_), Some(_)) => format!(
            "PMP-6 applies to {c}, but the rate card has no authentication_international rate for the user's market at {when}: import the card that has it"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn su(
        id: &str,
        status: Status,
        ts: i64,
        line: u64,
        pricing: Option<MetaPricing>,
    ) -> StatusUpdate {
        StatusUpdate {
            id: id.into(),
            status,
            ts,
            user: "919812345601".into(),
            user_id: String::new(),
            waba: "w".into(),
            number: "n".into(),
            group: String::new(),
            pricing,
            pricing_unreadable: false,
            conversation: None,
            line,
        }
    }

    const P: MetaPricing = MetaPricing {
        billable: true,
        model: PricingModel::Pmp,
        kind: Some(PricingType::Regular),
        category: MetaCategory::Marketing,
    };

    #[test]
    fn categories_accept_every_spelling_meta_uses() {
        for s in [
            "authentication-international",
            "authentication_international",
            "AUTHENTICATION_INTERNATIONAL",
        ] {
            assert_eq!(
                MetaCategory::parse(s),
                Some(MetaCategory::AuthenticationInternational)
            );
        }
        assert_eq!(
            MetaCategory::parse("marketing_lite").map(|c| c.normalized()),
            Some(MetaCategory::Marketing)
        );
        assert_eq!(MetaCategory::parse("promotional"), None);
        assert_eq!(
            PricingType::parse("FREE_ENTRY"),
            Some(PricingType::FreeEntryPoint)
        );
    }

    #[test]
    fn statuses_merge_once_per_message_earliest_delivery_wins() {
        let m = merge_statuses(&[
            su("a", Status::Read, 300, 1, None),
            su("a", Status::Delivered, 200, 2, Some(P)),
            su("a", Status::Delivered, 200, 3, Some(P)),
            su("a", Status::Sent, 100, 4, Some(P)),
            su("a", Status::Delivered, 250, 5, Some(P)),
        ]);
        assert_eq!(m.len(), 1);
        assert_eq!(
            (m[0].status, m[0].ts, m[0].line, m[0].statuses),
            (Status::Delivered, 200, 1, 5)
        );
        assert_eq!(m[0].pricing, Some(P));
    }

    #[test]
    fn conflicting_duplicate_statuses_are_kept_whatever_the_order() {
        let other = MetaPricing {
            billable: false,
            ..P
        };
        let a = [
            su("a", Status::Delivered, 200, 1, Some(P)),
            su("a", Status::Delivered, 200, 2, Some(other)),
        ];
        let b = [
            su("a", Status::Delivered, 200, 1, Some(other)),
            su("a", Status::Delivered, 200, 2, Some(P)),
        ];
        let (a, b) = (merge_statuses(&a), merge_statuses(&b));
        assert_eq!(a, b);
        let mut both = vec![P, other];
        both.sort();
        assert_eq!(a[0].pricing_conflict, both);
        let same = merge_statuses(&[
            su("a", Status::Sent, 100, 1, Some(P)),
            su("a", Status::Delivered, 200, 2, Some(P)),
        ]);
        assert!(same[0].pricing_conflict.is_empty());
    }

    #[test]
    fn failed_wins_only_when_never_delivered() {
        let m = merge_statuses(&[
            su("a", Status::Failed, 500, 1, None),
            su("a", Status::Read, 300, 2, Some(P)),
            su("b", Status::Sent, 100, 3, None),
            su("b", Status::Failed, 150, 4, None),
        ]);
        let a = m.iter().find(|x| x.id == "a").unwrap();
        let b = m.iter().find(|x| x.id == "b").unwrap();
        assert_eq!((a.status, a.ts), (Status::Read, 300));
        assert!(a.delivered());
        assert_eq!((b.status, b.ts), (Status::Failed, 150));
    }
}
