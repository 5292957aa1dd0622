//! Small value types shared by the whole core: categories, reasons, event kinds, countries.

/// The message log's columns (formats.md §1), in their documented order.
pub const LOG_COLUMNS: [&str; 11] = [
    "timestamp",
    "direction",
    "user",
    "type",
    "category",
    "status",
    "entry_point",
    "waba",
    "number",
    "country",
    "id",
];

use std::fmt;

pub use crate::rulebook::Rulebook;

impl fmt::Display for RateColumn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// A template's category as given in the log (CBP-8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TemplateCategory {
    Marketing,
    Utility,
    Authentication,
}

impl TemplateCategory {
    pub fn id(self) -> &'static str {
        match self {
            TemplateCategory::Marketing => "marketing",
            TemplateCategory::Utility => "utility",
            TemplateCategory::Authentication => "authentication",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        [
            TemplateCategory::Marketing,
            TemplateCategory::Utility,
            TemplateCategory::Authentication,
        ]
        .into_iter()
        .find(|c| c.id().eq_ignore_ascii_case(s))
    }
}

/// A rate column of a rate card (RATE-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RateColumn {
    Marketing,
    Utility,
    Authentication,
    AuthenticationInternational,
    Service,
    BusinessInitiated,
    UserInitiated,
    /// MBA-1: per million tokens.
    MetaBusinessAgent,
    /// AIP-1: per message.
    GeneralPurposeAi,
    /// CALL-3: per minute of a business-initiated call (priced by 6-second pulses).
    Call,
}

/// How many rate columns a card may have.
pub const RATE_COLUMNS: usize = 10;

impl RateColumn {
    pub const ALL: [RateColumn; RATE_COLUMNS] = [
        RateColumn::Marketing,
        RateColumn::Utility,
        RateColumn::Authentication,
        RateColumn::AuthenticationInternational,
        RateColumn::Service,
        RateColumn::BusinessInitiated,
        RateColumn::UserInitiated,
        RateColumn::MetaBusinessAgent,
        RateColumn::GeneralPurposeAi,
        RateColumn::Call,
    ];
    pub fn id(self) -> &'static str {
        match self {
            RateColumn::Marketing => "marketing",
            RateColumn::Utility => "utility",
            RateColumn::Authentication => "authentication",
            RateColumn::AuthenticationInternational => "authentication_international",
            RateColumn::Service => "service",
            RateColumn::BusinessInitiated => "business_initiated",
            RateColumn::UserInitiated => "user_initiated",
            RateColumn::MetaBusinessAgent => "meta_business_agent",
            RateColumn::GeneralPurposeAi => "general_purpose_ai",
            RateColumn::Call => "call",
        }
    }
    /// The column for a normalized id (exact match).
    pub fn from_id(s: &str) -> Option<Self> {
        RateColumn::ALL.into_iter().find(|c| c.id() == s)
    }
    /// The column for a header cell as written in a file, e.g. `"Authentication-\nInternational"`,
    /// `"Business-Initiated"`, `" utility "`.
    pub fn from_header(s: &str) -> Option<Self> {
        let n = normalize_name(s);
        RateColumn::from_id(&n).or(match n.as_str() {
            // CALL-3: a calling table's per-minute column, as a card may head it.
            "calls"
            | "calling"
            | "business_initiated_call"
            | "business_initiated_calls"
            | "call_per_minute"
            | "calls_per_minute" => Some(RateColumn::Call),
            // MBA-1, AIP-1.
            "meta_business_agent_per_1m_tokens" | "mba" => Some(RateColumn::MetaBusinessAgent),
            "ai_provider" | "ai_providers" => Some(RateColumn::GeneralPurposeAi),
            _ => None,
        })
    }
    /// Whether Meta publishes volume tiers for this column (the groups of `Tier Pricing.csv`).
    pub fn is_tiered(&self) -> bool {
        matches!(
            self,
            RateColumn::Utility
                | RateColumn::Authentication
                | RateColumn::AuthenticationInternational
        )
    }
    /// Whether a card's `tiers.csv` may give bands for this column: the message tiers (PMP-4)
    /// and the calling table's minute tiers (CALL-3).
    pub fn has_bands(&self) -> bool {
        self.is_tiered() || *self == RateColumn::Call
    }
    pub fn index(self) -> usize {
        self as usize
    }
}

/// The category a unit is billed as: the `category` of a breakdown line (formats.md §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Billed {
    Marketing,
    Utility,
    Authentication,
    AuthenticationInternational,
    Service,
    BusinessInitiated,
    UserInitiated,
    FreeEntryPoint,
    /// GRP-1: a marketing template delivered to a group member.
    GroupMarketing,
    /// GRP-1: a utility template delivered to a group member.
    GroupUtility,
    /// GRP-1: a non-template message delivered to a group member.
    GroupService,
    /// MBA-1: a message of Meta's own agent.
    MetaBusinessAgent,
    /// AIP-1: a non-template message of an AI provider.
    GeneralPurposeAi,
    /// CALL-3: a business-initiated call.
    Call,
}

impl Billed {
    pub fn id(self) -> &'static str {
        match self {
            Billed::FreeEntryPoint => "free_entry_point",
            Billed::GroupMarketing => "group_marketing",
            Billed::GroupUtility => "group_utility",
            Billed::GroupService => "group_service",
            other => other.rate_column().expect("priced category").id(),
        }
    }
    pub fn rate_column(self) -> Option<RateColumn> {
        Some(match self {
            Billed::Marketing => RateColumn::Marketing,
            Billed::Utility => RateColumn::Utility,
            Billed::Authentication => RateColumn::Authentication,
            Billed::AuthenticationInternational => RateColumn::AuthenticationInternational,
            Billed::Service => RateColumn::Service,
            Billed::BusinessInitiated => RateColumn::BusinessInitiated,
            Billed::UserInitiated => RateColumn::UserInitiated,
            Billed::FreeEntryPoint => return None,
            // GRP-1: group messages pay the 1:1 per-message rates.
            Billed::GroupMarketing => RateColumn::Marketing,
            Billed::GroupUtility => RateColumn::Utility,
            Billed::GroupService => RateColumn::Service,
            Billed::MetaBusinessAgent => RateColumn::MetaBusinessAgent,
            Billed::GeneralPurposeAi => RateColumn::GeneralPurposeAi,
            Billed::Call => RateColumn::Call,
        })
    }
    pub fn from_template(c: TemplateCategory) -> Billed {
        match c {
            TemplateCategory::Marketing => Billed::Marketing,
            TemplateCategory::Utility => Billed::Utility,
            TemplateCategory::Authentication => Billed::Authentication,
        }
    }
}

/// Why a business message cost what it did: the ledger's `reason` (formats.md §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reason {
    Charged,
    InConversation,
    FreeCustomerService,
    FreeEntryPoint,
    FreeTier,
    FreeService,
    NotDelivered,
    /// GRP-2: free inside the group's customer service window (Meta's pricing type
    /// `free_group_customer_service`).
    FreeGroupCustomerService,
    /// MBA-1: charged by Meta, but the log does not say how (no `tokens`): counted, no cost.
    Unpriced,
    /// CALL-3: a business call the user did not accept (missed or rejected): no charge.
    NotAnswered,
    /// MBA-1: a Meta Business Agent message before 2026-08-01, when Meta began to charge them.
    NotChargedYet,
}

impl Reason {
    /// Every reason, in the order of their ids' first use (the partitioned replay's codes).
    pub const ALL: [Reason; 11] = [
        Reason::Charged,
        Reason::InConversation,
        Reason::FreeCustomerService,
        Reason::FreeEntryPoint,
        Reason::FreeTier,
        Reason::FreeService,
        Reason::NotDelivered,
        Reason::FreeGroupCustomerService,
        Reason::Unpriced,
        Reason::NotAnswered,
        Reason::NotChargedYet,
    ];
}

impl Reason {
    pub fn id(self) -> &'static str {
        match self {
            Reason::Charged => "charged",
            Reason::InConversation => "in_conversation",
            Reason::FreeCustomerService => "free_customer_service",
            Reason::FreeEntryPoint => "free_entry_point",
            Reason::FreeTier => "free_tier",
            Reason::FreeService => "free_service",
            Reason::NotDelivered => "not_delivered",
            Reason::FreeGroupCustomerService => "free_group_customer_service",
            Reason::Unpriced => "unpriced",
            Reason::NotAnswered => "not_answered",
            Reason::NotChargedYet => "not_charged_yet",
        }
    }
}

/// Delivery status as given in the log (formats.md §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Delivered,
    Read,
    Sent,
    Failed,
}

impl Status {
    pub fn id(self) -> &'static str {
        match self {
            Status::Delivered => "delivered",
            Status::Read => "read",
            Status::Sent => "sent",
            Status::Failed => "failed",
        }
    }
    pub fn parse(s: &str) -> Option<Status> {
        let s = s.trim();
        if s.is_empty() {
            return Some(Status::Delivered);
        }
        [
            Status::Delivered,
            Status::Read,
            Status::Sent,
            Status::Failed,
        ]
        .into_iter()
        .find(|st| st.id().eq_ignore_ascii_case(s))
    }
    /// Only delivered (or read) business messages are billed or change state (§0 "Delivered").
    pub fn is_delivered(self) -> bool {
        matches!(self, Status::Delivered | Status::Read)
    }
}

/// What one log row is, in the terms the rules need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Inbound message from the user; `entry_point` when it came through a CTWA ad or Page CTA.
    In { entry_point: bool },
    /// Business message: `template` is the template category, `None` for a non-template message.
    Out {
        template: Option<TemplateCategory>,
        status: Status,
    },
    /// A non-template business message of a category of its own: Meta's own agent (MBA-1) or
    /// an AI provider's (AIP-1, the row's category `general_purpose_ai`).
    Bot { bot: Bot, status: Status },
    /// A call (CALL-1…3): `by_user` when the user called; a business call is `accepted` or not
    /// (missed, rejected). Its duration is in the log's [`crate::model::Extras`].
    Call { by_user: bool, accepted: bool },
}

/// Who wrote a non-template message that has a category of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bot {
    /// MBA-1: `meta_business_agent`.
    MetaAgent,
    /// AIP-1: `general_purpose_ai`.
    AiProvider,
}

impl Bot {
    pub fn id(self) -> &'static str {
        match self {
            Bot::MetaAgent => "meta_business_agent",
            Bot::AiProvider => "general_purpose_ai",
        }
    }
    /// The category of a non-template row (formats.md §1), case-insensitively.
    pub fn parse(s: &str) -> Option<Bot> {
        [Bot::MetaAgent, Bot::AiProvider]
            .into_iter()
            .find(|b| b.id().eq_ignore_ascii_case(s.trim()))
    }
}

/// A ISO 3166 alpha-2 country code, upper case. `ZZ` = unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Country(pub [u8; 2]);

impl Country {
    pub const UNKNOWN: Country = Country(*b"ZZ");
    pub const US: Country = Country(*b"US");
    pub fn parse(s: &str) -> Option<Country> {
        let b = s.trim().as_bytes();
        if b.len() == 2 && b.iter().all(|c| c.is_ascii_alphabetic()) {
            Some(Country([
                b[0].to_ascii_uppercase(),
                b[1].to_ascii_uppercase(),
            ]))
        } else {
            None
        }
    }
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("ZZ")
    }

    /// Whether the code is an assigned ISO 3166-1 country (or XK, Kosovo, which the phone
    /// number metadata uses): `ZZ`, `UK`, `EU` and other reserved or unassigned pairs are not,
    /// and would bill a number in the fallback market.
    pub fn is_assigned(&self) -> bool {
        ASSIGNED.binary_search(&self.0).is_ok()
    }
}

/// MKT-4: whether a log's `user` is written as a business-scoped user id (BSUID) rather than a
/// number: two letters and a dot (a number starts with `+` or a digit).
pub fn looks_like_bsuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1].is_ascii_alphabetic() && b[2] == b'.'
}

/// The longest BSUID read: the country, a dot and up to 128 letters, digits and dots, with
/// room for the parent form's `ENT.` (`US.ENT.…`).
pub const MAX_BSUID: usize = 3 + 4 + 128;

/// MKT-4: the country of a business-scoped user id (BSUID): the user's ISO 3166 alpha-2
/// country (an assigned one, upper case), a dot, then letters, digits and dots
/// (`US.13491208655302741918`, parent form `US.ENT.…`). `None` when `s` is not one.
pub fn bsuid_country(s: &str) -> Option<Country> {
    let b = s.as_bytes();
    let shaped = b.len() >= 4
        && b.len() <= MAX_BSUID
        && b[0].is_ascii_uppercase()
        && b[1].is_ascii_uppercase()
        && b[2] == b'.'
        && b[3..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'.');
    let c = Country([b.first().copied()?, b.get(1).copied()?]);
    (shaped && c.is_assigned()).then_some(c)
}

/// The officially assigned ISO 3166-1 alpha-2 codes (249) and XK, sorted.
const ASSIGNED: [[u8; 2]; 250] = [
    *b"AD", *b"AE", *b"AF", *b"AG", *b"AI", *b"AL", *b"AM", *b"AO", *b"AQ", *b"AR", *b"AS", *b"AT",
    *b"AU", *b"AW", *b"AX", *b"AZ", *b"BA", *b"BB", *b"BD", *b"BE", *b"BF", *b"BG", *b"BH", *b"BI",
    *b"BJ", *b"BL", *b"BM", *b"BN", *b"BO", *b"BQ", *b"BR", *b"BS", *b"BT", *b"BV", *b"BW", *b"BY",
    *b"BZ", *b"CA", *b"CC", *b"CD", *b"CF", *b"CG", *b"CH", *b"CI", *b"CK", *b"CL", *b"CM", *b"CN",
    *b"CO", *b"CR", *b"CU", *b"CV", *b"CW", *b"CX", *b"CY", *b"CZ", *b"DE", *b"DJ", *b"DK", *b"DM",
    *b"DO", *b"DZ", *b"EC", *b"EE", *b"EG", *b"EH", *b"ER", *b"ES", *b"ET", *b"FI", *b"FJ", *b"FK",
    *b"FM", *b"FO", *b"FR", *b"GA", *b"GB", *b"GD", *b"GE", *b"GF", *b"GG", *b"GH", *b"GI", *b"GL",
    *b"GM", *b"GN", *b"GP", *b"GQ", *b"GR", *b"GS", *b"GT", *b"GU", *b"GW", *b"GY", *b"HK", *b"HM",
    *b"HN", *b"HR", *b"HT", *b"HU", *b"ID", *b"IE", *b"IL", *b"IM", *b"IN", *b"IO", *b"IQ", *b"IR",
    *b"IS", *b"IT", *b"JE", *b"JM", *b"JO", *b"JP", *b"KE", *b"KG", *b"KH", *b"KI", *b"KM", *b"KN",
    *b"KP", *b"KR", *b"KW", *b"KY", *b"KZ", *b"LA", *b"LB", *b"LC", *b"LI", *b"LK", *b"LR", *b"LS",
    *b"LT", *b"LU", *b"LV", *b"LY", *b"MA", *b"MC", *b"MD", *b"ME", *b"MF", *b"MG", *b"MH", *b"MK",
    *b"ML", *b"MM", *b"MN", *b"MO", *b"MP", *b"MQ", *b"MR", *b"MS", *b"MT", *b"MU", *b"MV", *b"MW",
    *b"MX", *b"MY", *b"MZ", *b"NA", *b"NC", *b"NE", *b"NF", *b"NG", *b"NI", *b"NL", *b"NO", *b"NP",
    *b"NR", *b"NU", *b"NZ", *b"OM", *b"PA", *b"PE", *b"PF", *b"PG", *b"PH", *b"PK", *b"PL", *b"PM",
    *b"PN", *b"PR", *b"PS", *b"PT", *b"PW", *b"PY", *b"QA", *b"RE", *b"RO", *b"RS", *b"RU", *b"RW",
    *b"SA", *b"SB", *b"SC", *b"SD", *b"SE", *b"SG", *b"SH", *b"SI", *b"SJ", *b"SK", *b"SL", *b"SM",
    *b"SN", *b"SO", *b"SR", *b"SS", *b"ST", *b"SV", *b"SX", *b"SY", *b"SZ", *b"TC", *b"TD", *b"TF",
    *b"TG", *b"TH", *b"TJ", *b"TK", *b"TL", *b"TM", *b"TN", *b"TO", *b"TR", *b"TT", *b"TV", *b"TW",
    *b"TZ", *b"UA", *b"UG", *b"UM", *b"US", *b"UY", *b"UZ", *b"VA", *b"VC", *b"VE", *b"VG", *b"VI",
    *b"VN", *b"VU", *b"WF", *b"WS", *b"XK", *b"YE", *b"YT", *b"ZA", *b"ZM", *b"ZW",
];

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Normalize a header cell: lower case, runs of anything not alphanumeric (spaces, line breaks,
/// hyphens, punctuation) folded into one `_` (`"Authentication-\nInternational"` →
/// `authentication_international`).
pub fn normalize_name(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_sep = false;
    for ch in s.chars() {
        if ch.is_alphanumeric() {
            if pending_sep && !out.is_empty() {
                out.push('_');
            }
            pending_sep = false;
            out.extend(ch.to_lowercase());
        } else {
            pending_sep = true;
        }
    }
    out
}
