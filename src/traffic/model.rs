//! The generated data: message rows and the tables they point into.
//!
//! A [`Row`] is small and `Copy` (32 bytes, no heap) so that millions can be buffered, sorted
//! and handed out without allocating; strings live once in the [`Population`] tables. Every
//! field maps to one column of the message log (formats.md §1), so the same rows can be written
//! as CSV, JSON Lines or, by the main crate, Parquet. Template categories and delivery statuses
//! are the billing vocabulary's ([`TemplateCategory`], [`Status`]): the same words the log
//! reader parses.

use crate::billing::types::{Status, TemplateCategory};
use crate::traffic::countries::Country;

/// Whether the user or the business sent the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Direction {
    /// From the user to the business.
    In,
    /// From the business to the user.
    Out,
}

impl Direction {
    /// The log spelling: `in` / `out`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::In => "in",
            Direction::Out => "out",
        }
    }
}

/// The WhatsApp message type (the log's `type` column).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum MessageType {
    /// Free-form text.
    Text,
    /// A picture (inbound or, from an agent, non-template).
    Image,
    /// Buttons or a list (non-template).
    Interactive,
    /// A pre-approved template: has a [`TemplateCategory`].
    Template,
    /// A reply of Meta Business Agent (MBA-1): written as `text` with category
    /// `meta_business_agent` and its tokens.
    Agent,
    /// A call (CALL-1…3): from the user (`in`) or the business (`out`, accepted), with its
    /// seconds.
    Call,
}

impl MessageType {
    /// The log spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageType::Text => "text",
            MessageType::Image => "image",
            MessageType::Interactive => "interactive",
            MessageType::Template => "template",
            MessageType::Agent => "text",
            MessageType::Call => "call",
        }
    }
}

/// How an inbound message reached the business (billing-rules.md §0, "Entry-point message").
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum EntryPoint {
    /// Click-to-WhatsApp ad.
    Ctwa,
    /// Facebook Page call-to-action button.
    PageCta,
}

impl EntryPoint {
    /// The log spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            EntryPoint::Ctwa => "ctwa",
            EntryPoint::PageCta => "page_cta",
        }
    }
}

/// One message of the log. Strings are indices into the [`Population`]:
/// `user` into [`Population::users`], `number` into [`Population::numbers`]; the `waba` column is
/// [`Population::waba`] and the `country` column the user's [`User::country`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Row {
    /// Delivery (outbound) or receipt (inbound) time, Unix seconds, UTC.
    pub ts: i64,
    /// Position in the output, from 1: the `id` column is `wamid.<id>`. Unique, and the same for
    /// every seed (it counts rows, it is not random).
    pub id: u64,
    /// Index into [`Population::users`].
    pub user: u32,
    /// Index into [`Population::numbers`] (the business number of the chat).
    pub number: u16,
    /// `in` or `out`.
    pub direction: Direction,
    /// `type` column.
    pub kind: MessageType,
    /// Set exactly when `kind` is [`MessageType::Template`].
    pub category: Option<TemplateCategory>,
    /// Set on outbound rows only: `Delivered`, or `Failed` (the configured failure rate, or a
    /// message Meta refuses: PMP-7).
    pub status: Option<Status>,
    /// Set only on the first inbound message of a contact that came from an ad or a Page button.
    pub entry_point: Option<EntryPoint>,
    /// An agent reply's tokens, a call's seconds; on a group row (any other kind) the group's
    /// number from 1; 0 otherwise.
    pub amount: u32,
}

impl Row {
    /// GRP-1: the group of a group row (index into [`Population::groups`]).
    pub fn group(&self) -> Option<u32> {
        match self.kind {
            MessageType::Agent | MessageType::Call => None,
            _ => self.amount.checked_sub(1),
        }
    }
    /// The `category` column: a template's category, `meta_business_agent` for an agent reply.
    pub fn category_text(&self) -> &'static str {
        match (self.category, self.kind) {
            (Some(c), _) => c.id(),
            (None, MessageType::Agent) => "meta_business_agent",
            _ => "",
        }
    }
    /// The `status` column: a business call's `accepted`, else the delivery status.
    pub fn status_text(&self) -> &'static str {
        match (self.kind, self.direction) {
            (MessageType::Call, Direction::Out) => "accepted",
            (MessageType::Call, Direction::In) => "",
            _ => self.status.map_or("", |s| s.id()),
        }
    }
    /// The `duration` column (calls) and the `tokens` column (agent replies).
    #[inline]
    pub fn duration_and_tokens(&self) -> (Option<u32>, Option<u32>) {
        match self.kind {
            MessageType::Call => (Some(self.amount), None),
            MessageType::Agent => (None, Some(self.amount)),
            _ => (None, None),
        }
    }
}

/// One end user (customer).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct User {
    /// E.164 digits without the `+`, e.g. `919812345678`.
    pub phone: u64,
    /// The country the number was made for (and that a phone-number library resolves it to).
    pub country: Country,
    /// Index into [`Population::numbers`]: the business number this user chats with.
    pub number: u16,
    /// How the log names the user (MKT-4).
    pub known: Known,
}

/// How the log names a user (MKT-4, formats.md §1 `user` and `user_id`). A business-scoped
/// user id is written `<ISO country>.<digits>`, e.g. `IN.13491208655302741918`, and its
/// country prefix is the user's country.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Known {
    /// By the phone number only.
    Number,
    /// By the phone number; the user's own messages also carry the BSUID (`user_id`), which
    /// links the number to it.
    Linked(u64),
    /// By the BSUID only: rows carry no phone number and no `country` (the BSUID's prefix gives
    /// the market).
    Bsuid(u64),
}

/// The tables rows point into. Built from the scenario and the seed before any row exists,
/// so a writer can be set up before generation starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Population {
    /// The WABA id (`waba` column).
    pub waba: String,
    /// Business phone numbers, E.164 digits without `+`. They do not depend on the seed.
    pub numbers: Vec<u64>,
    /// End users.
    pub users: Vec<User>,
    /// The log has agent replies or calls (`[agent]`, `[calls]`): it then has the `duration`
    /// and `tokens` columns.
    pub extras: bool,
    /// GRP-1: the groups' members (`[groups]`); the log then has a `group` column.
    pub groups: Vec<Vec<u32>>,
}

impl Population {
    /// The user's number as E.164 with `+`.
    pub fn user_e164(&self, user: u32) -> String {
        e164(self.users[user as usize].phone)
    }
    /// The business number as E.164 with `+`.
    pub fn number_e164(&self, number: u16) -> String {
        e164(self.numbers[number as usize])
    }
    /// The user's ISO country code (the `country` column).
    pub fn country_iso(&self, user: u32) -> &'static str {
        self.users[user as usize].country.iso()
    }
    /// The user's business-scoped user id, if the log knows one (MKT-4).
    pub fn bsuid(&self, user: u32) -> Option<String> {
        let u = &self.users[user as usize];
        match u.known {
            Known::Number => None,
            Known::Linked(d) | Known::Bsuid(d) => Some(format!("{}.{d}", u.country.iso())),
        }
    }
    /// GRP-1: the `group` column's value of group `g`: [`GROUP_PREFIX`] and `g + 1`.
    pub fn group_id(g: u32) -> String {
        format!("{GROUP_PREFIX}{}", g + 1)
    }
    /// Whether any user is known by a BSUID: the log then has a `user_id` column.
    pub fn has_bsuids(&self) -> bool {
        self.users.iter().any(|u| u.known != Known::Number)
    }
}

/// How the `group` column names a generated group: this and its number from 1 (`group-3`).
pub const GROUP_PREFIX: &str = "group-";

/// Formats E.164 digits as `+<digits>`.
pub fn e164(digits: u64) -> String {
    format!("+{digits}")
}
