//! A deliberately simple second implementation of the WhatsApp billing rules: the oracle for
//! model-based tests of the real engine.
//!
//! Written only from the specification (billing-rules.md, and formats.md §4 for the output
//! contract), independently of the engine. It replays one event at a time, keeps the state of each
//! chat in plain maps, and names the rule behind every decision. Clarity beats speed here: no
//! interning, no caching, no parallelism. Nothing in this file reads files, the clock or the
//! environment; it only needs `chrono`, `chrono-tz` and `rust_decimal`, so it can be copied as is
//! into another crate's `tests/` folder.
#![allow(dead_code)]

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use rust_decimal::Decimal;

// ---------------------------------------------------------------------------------------------
// Interface
// ---------------------------------------------------------------------------------------------

/// Direction of a log row, with what the rules need to know about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MDir {
    /// An inbound (user) message; `entry_point` when it came through a Click-to-WhatsApp ad or a
    /// Page call-to-action button.
    In { entry_point: bool },
    /// A business message. `template` is `Some("marketing" | "utility" | "authentication")` for a
    /// template, `None` for a non-template message. `delivered` is false for sent/failed rows.
    Out {
        template: Option<String>,
        delivered: bool,
    },
}

/// One log row, already parsed and resolved.
#[derive(Clone, Debug)]
pub struct MEvent {
    /// File row, 1-based; also the tie-break for equal timestamps (CONV-1).
    pub row: usize,
    pub ts: DateTime<Utc>,
    pub waba: String,
    pub number: String,
    pub user: String,
    /// ISO2 of the user, already resolved (PMP-6 and PMP-7: "US" means the US).
    pub country: String,
    /// The user's market at this event's date, already resolved (MKT-1/2).
    pub market: String,
    pub dir: MDir,
}

#[derive(Clone, Debug)]
pub struct MWaba {
    pub id: String,
    pub tz: chrono_tz::Tz,
}

#[derive(Clone, Debug)]
pub struct MAccounts {
    pub wabas: Vec<MWaba>,
    /// PMP-6: the portfolio's primary business country (ISO2).
    pub primary_country: Option<String>,
    /// PMP-6: eligibility start for authentication-international; `None` = not eligible.
    pub auth_intl_start: Option<DateTime<Utc>>,
    /// PMP-6: per-country eligibility starts (ISO2 of the user, start) that replace the general one.
    pub auth_intl_exceptions: Vec<(String, DateTime<Utc>)>,
}

/// The rate cards, as the model sees them.
pub trait MRates {
    /// Rate of `column` ("marketing", "utility", "authentication",
    /// "authentication_international", "service", "business_initiated", "user_initiated") for
    /// `market` on the card in force on `local_date` (the WABA-local date).
    /// `None` = missing rate (n/a or unknown).
    fn rate(&self, market: &str, column: &str, local_date: NaiveDate) -> Option<Decimal>;
    /// True when the card in force has a real (not n/a) rate in that column for the market.
    /// Used for PMP-6 "the market has such a rate".
    fn has_column(&self, market: &str, column: &str, local_date: NaiveDate) -> bool;
    /// Graduated tier bands `(from, to inclusive or None = open, rate)` for market/column on the
    /// card in force, or `None` if there is no tier table.
    fn tiers(
        &self,
        market: &str,
        column: &str,
        local_date: NaiveDate,
    ) -> Option<Vec<(u64, Option<u64>, Decimal)>>;
}

/// What happened to one outbound (business) row. One per outbound row, in CONV-1 order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MOutcome {
    pub row: usize,
    /// "cbp-2022" | "cbp-2023" | "cbp-2024" | "pmp-2025" | "pmp-2026". For a message riding in a
    /// conversation: the conversation's rulebook.
    pub rulebook: String,
    /// Category of the unit or of the conversation the message belongs to (formats.md §4);
    /// "" for `not_delivered`.
    pub billed_as: String,
    /// charged | in_conversation | free_customer_service | free_entry_point | free_tier |
    /// free_service | not_delivered
    pub reason: String,
    /// 0 unless this message carries a unit's price.
    pub price: Decimal,
    /// Some(true) = a charged unit, Some(false) = a free unit, None = not a unit.
    pub unit: Option<bool>,
    /// "YYYY-MM" of the unit in the WABA's time zone (CBP: the opening message's).
    pub month: String,
    pub market: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MIssue {
    /// "outside-csw" | "us-marketing-delivered"
    pub code: String,
    pub row: usize,
}

/// One summary line (formats.md §4): units per (month, waba, market, category, rulebook).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MLine {
    pub month: String,
    pub waba: String,
    pub market: String,
    pub category: String,
    pub rulebook: String,
    pub charged: u64,
    pub free: u64,
    pub cost: Decimal,
}

#[derive(Clone, Debug)]
pub struct MResult {
    pub outcomes: Vec<MOutcome>,
    pub issues: Vec<MIssue>,
    /// Sorted by (month, waba, market, category, rulebook).
    pub lines: Vec<MLine>,
    pub total: Decimal,
}

/// RATE-4: a charged unit whose market, column and date have no rate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingRate {
    pub market: String,
    pub column: String,
    pub date: NaiveDate,
}

/// CBP-7: free conversations per WABA per month (cbp-2022: all; cbp-2023: service only).
pub const CBP_FREE_TIER: u64 = 1_000;
/// PMP-5: free service messages per business number per month (pmp-2026).
pub const PMP_SERVICE_ALLOWANCE: u64 = 1_000;

/// Replays `events` (any order) through the billing rules.
///
/// `forced_rulebook` (one of the five rulebook names) applies that rulebook to every message;
/// otherwise the rulebook follows the WABA-local date (§1). Rate cards always follow the date.
///
/// Panics on inputs the real engine would reject before replaying: an event whose WABA is not in
/// `accounts`, an unknown template category or an unknown forced rulebook name.
pub fn replay(
    events: &[MEvent],
    accounts: &MAccounts,
    rates: &dyn MRates,
    forced_rulebook: Option<&str>,
) -> Result<MResult, MissingRate> {
    let mut replay = Replay {
        accounts,
        rates,
        forced: forced_rulebook.map(Rulebook::parse),
        chats: BTreeMap::new(),
        cbp_free_tier_used: BTreeMap::new(),
        service_allowance_used: BTreeMap::new(),
        tier_counts: BTreeMap::new(),
        outcomes: Vec::new(),
        issues: Vec::new(),
        lines: BTreeMap::new(),
    };

    // CONV-1: by UTC instant; equal instants keep the log's row order.
    let mut ordered: Vec<&MEvent> = events.iter().collect();
    ordered.sort_by_key(|e| (e.ts, e.row));

    for event in ordered {
        replay.event(event)?;
    }
    Ok(replay.finish())
}

// ---------------------------------------------------------------------------------------------
// Rulebooks (§1)
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rulebook {
    Cbp2022,
    Cbp2023,
    Cbp2024,
    Pmp2025,
    Pmp2026,
}

impl Rulebook {
    fn name(self) -> &'static str {
        match self {
            Rulebook::Cbp2022 => "cbp-2022",
            Rulebook::Cbp2023 => "cbp-2023",
            Rulebook::Cbp2024 => "cbp-2024",
            Rulebook::Pmp2025 => "pmp-2025",
            Rulebook::Pmp2026 => "pmp-2026",
        }
    }

    fn parse(name: &str) -> Rulebook {
        match name {
            "cbp-2022" => Rulebook::Cbp2022,
            "cbp-2023" => Rulebook::Cbp2023,
            "cbp-2024" => Rulebook::Cbp2024,
            "pmp-2025" => Rulebook::Pmp2025,
            "pmp-2026" => Rulebook::Pmp2026,
            other => panic!("model: unknown rulebook {other:?}"),
        }
    }

    /// §1: the rulebook in force on a WABA-local date (each starts at 00:00 WABA time).
    fn on(local_date: NaiveDate) -> Rulebook {
        if local_date < ymd(2023, 6, 1) {
            Rulebook::Cbp2022
        } else if local_date < ymd(2024, 11, 1) {
            Rulebook::Cbp2023
        } else if local_date < ymd(2025, 7, 1) {
            Rulebook::Cbp2024
        } else if local_date < ymd(2026, 10, 1) {
            Rulebook::Pmp2025
        } else {
            Rulebook::Pmp2026
        }
    }

    fn is_cbp(self) -> bool {
        matches!(
            self,
            Rulebook::Cbp2022 | Rulebook::Cbp2023 | Rulebook::Cbp2024
        )
    }
}

fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("valid date")
}

/// PMP-7: Meta stops delivering marketing templates to US numbers from this date.
fn us_marketing_pause() -> NaiveDate {
    ymd(2025, 4, 1)
}

const HOURS_24: TimeDelta = TimeDelta::hours(24);
const HOURS_72: TimeDelta = TimeDelta::hours(72);

// ---------------------------------------------------------------------------------------------
// Per-chat state (CONV-3: a chat is (waba, business number, user))
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ConvKind {
    UserInitiated,
    BusinessInitiated,
    Marketing,
    Utility,
    Authentication,
    Service,
    FreeEntryPoint,
}

impl ConvKind {
    fn of_template(category: &str) -> ConvKind {
        match category {
            "marketing" => ConvKind::Marketing,
            "utility" => ConvKind::Utility,
            "authentication" => ConvKind::Authentication,
            other => panic!("model: unknown template category {other:?}"),
        }
    }
}

/// Where a unit is attributed: the rulebook, WABA-local month and market it is billed under.
#[derive(Clone, Debug)]
struct Attribution {
    rulebook: Rulebook,
    month: String,
    market: String,
}

/// An open CBP conversation.
#[derive(Clone, Debug)]
struct Conversation {
    kind: ConvKind,
    /// CONV-2: open on [opening delivery, until).
    until: DateTime<Utc>,
    /// The category its unit was billed as (e.g. `authentication_international` for an
    /// authentication conversation under PMP-6).
    billed_as: String,
    /// The opening message's rulebook, month and market; riders are attributed to the same.
    attribution: Attribution,
}

#[derive(Clone, Debug, Default)]
struct Chat {
    /// The CSW is [last inbound, +24 h) (CONV-2). Only inbound messages move it.
    last_inbound: Option<DateTime<Utc>>,
    /// CBP-6 / PMP-3: an entry-point message waiting for its reply, which must be delivered
    /// before this instant (entry-point message + 24 h, CONV-2).
    entry_point_deadline: Option<DateTime<Utc>>,
    /// Open CBP conversations, in opening order (CBP-1).
    conversations: Vec<Conversation>,
    /// PMP-3: the free entry point window is open until this instant (exclusive).
    free_entry_window_until: Option<DateTime<Utc>>,
}

impl Chat {
    /// CONV-2: the CSW is [last inbound, +24 h).
    fn csw_open(&self, at: DateTime<Utc>) -> bool {
        match self.last_inbound {
            Some(last) => at < last + HOURS_24,
            None => false,
        }
    }

    /// CBP-1 / CONV-2: a conversation is over at exactly its `until`.
    fn close_expired(&mut self, at: DateTime<Utc>) {
        self.conversations.retain(|c| at < c.until);
    }

    fn open_of_kind(&self, kind: ConvKind) -> Option<&Conversation> {
        self.conversations.iter().find(|c| c.kind == kind)
    }
}

// ---------------------------------------------------------------------------------------------
// The replay
// ---------------------------------------------------------------------------------------------

/// Facts about the business message being billed, computed once.
struct Msg<'e> {
    event: &'e MEvent,
    /// `Some(category)` for a template, `None` for a non-template message.
    template: Option<&'e str>,
    /// The WABA-local date: selects rulebook and rate card (§1, RATE-1).
    local_date: NaiveDate,
    /// The message's own attribution (rulebook by date or forced, WABA-local month, market).
    own: Attribution,
    /// CONV-4: a non-template delivered while the log shows no open CSW is billed as if the
    /// window were open.
    assume_csw: bool,
}

type ChatKey = (String, String, String);
type LineKey = (String, String, String, String, String);

struct Replay<'a> {
    accounts: &'a MAccounts,
    rates: &'a dyn MRates,
    forced: Option<Rulebook>,
    chats: BTreeMap<ChatKey, Chat>,
    /// CBP-7: (waba, WABA-local month of the opening) → conversations counted against the free tier.
    cbp_free_tier_used: BTreeMap<(String, String), u64>,
    /// PMP-5: (waba, business number, WABA-local month) → service messages made free by the allowance.
    service_allowance_used: BTreeMap<(String, String, String), u64>,
    /// PMP-4: (market, "utility" | "authentication", WABA-local month) → charged messages so far.
    tier_counts: BTreeMap<(String, &'static str, String), u64>,
    outcomes: Vec<MOutcome>,
    issues: Vec<MIssue>,
    /// (month, waba, market, category, rulebook) → (charged, free, cost)
    lines: BTreeMap<LineKey, (u64, u64, Decimal)>,
}

impl Replay<'_> {
    fn event(&mut self, event: &MEvent) -> Result<(), MissingRate> {
        let key = (event.waba.clone(), event.number.clone(), event.user.clone());
        let mut chat = self.chats.remove(&key).unwrap_or_default();
        let result = match &event.dir {
            MDir::In { entry_point } => {
                // CSW: each inbound message restarts it.
                chat.last_inbound = Some(event.ts);
                if *entry_point {
                    // CBP-6 / PMP-3: a (new) entry point waits for its reply for 24 h.
                    chat.entry_point_deadline = Some(event.ts + HOURS_24);
                }
                Ok(())
            }
            MDir::Out {
                template,
                delivered,
            } => self.outbound(event, template.as_deref(), *delivered, &mut chat),
        };
        self.chats.insert(key, chat);
        result
    }

    fn outbound(
        &mut self,
        event: &MEvent,
        template: Option<&str>,
        delivered: bool,
        chat: &mut Chat,
    ) -> Result<(), MissingRate> {
        let tz = self.time_zone(&event.waba);
        let local = event.ts.with_timezone(&tz);
        let local_date = local.date_naive();
        let mut msg = Msg {
            event,
            template,
            local_date,
            assume_csw: false,
            own: Attribution {
                // §1: the rulebook follows the WABA-local delivery date unless forced.
                rulebook: self.forced.unwrap_or_else(|| Rulebook::on(local_date)),
                month: local.format("%Y-%m").to_string(),
                market: event.market.clone(),
            },
        };

        // "Delivered": a failed or unconfirmed message costs nothing and changes no state.
        if !delivered {
            self.push(&msg, &msg.own, "", "not_delivered", None);
            return Ok(());
        }

        // CONV-4 (amended 2026-12-02): deliveries are facts. A delivered non-template while the
        // log shows no open CSW means the log lacks the user's message: reported, and billed as
        // if the window were open (it opens or refreshes no CSW itself). Every rulebook.
        if template.is_none() && !chat.csw_open(event.ts) {
            self.issue("outside-csw", event.row);
            msg.assume_csw = true;
        }

        // PMP-7 / CONV-4: a marketing template delivered to a US user from 2025-04-01 is reported
        // and billed as the log says.
        if template == Some("marketing")
            && event.country == "US"
            && local_date >= us_marketing_pause()
        {
            self.issue("us-marketing-delivered", event.row);
        }

        // CBP-1 / CONV-2: conversations end exactly 24 h (free entry point: 72 h) after opening.
        chat.close_expired(event.ts);

        // CBP-6 / PMP-3: the first delivered business reply (any type) before the entry point's
        // deadline is "the reply"; either way a pending entry point is used up or expired now.
        let is_reply = matches!(chat.entry_point_deadline, Some(deadline) if event.ts < deadline);
        chat.entry_point_deadline = None;

        if msg.own.rulebook.is_cbp() {
            self.bill_cbp(&msg, is_reply, chat)
        } else {
            self.bill_pmp(&msg, is_reply, chat)
        }
    }

    // --- Conversation-based pricing (§2) ---------------------------------------------------

    fn bill_cbp(&mut self, msg: &Msg, is_reply: bool, chat: &mut Chat) -> Result<(), MissingRate> {
        let ts = msg.event.ts;

        // CBP-6: while a free entry point conversation is open, everything delivered rides in it
        // for free, and no other conversation opens; a reply to a second entry point opens nothing.
        if let Some(fep) = chat.open_of_kind(ConvKind::FreeEntryPoint) {
            self.ride(msg, fep);
            return Ok(());
        }

        // CBP-6: the reply opens a free 72 h entry point conversation and closes all others.
        if is_reply {
            chat.conversations.clear();
            let fep = self.open_conversation(
                chat,
                msg,
                ConvKind::FreeEntryPoint,
                "free_entry_point",
                HOURS_72,
            );
            self.push(
                msg,
                &fep.attribution,
                "free_entry_point",
                "free_entry_point",
                Some(Decimal::ZERO),
            );
            return Ok(());
        }

        match msg.own.rulebook {
            Rulebook::Cbp2022 => {
                // CBP-5: any message, template or not, inside an open conversation is covered.
                if let Some(open) = chat.conversations.first() {
                    self.ride(msg, open);
                    return Ok(());
                }
                // CBP-5: user-initiated if the CSW is open, else business-initiated.
                let (kind, category) = if chat.csw_open(ts) || msg.assume_csw {
                    (ConvKind::UserInitiated, "user_initiated")
                } else {
                    (ConvKind::BusinessInitiated, "business_initiated")
                };
                let conv = self.open_conversation(chat, msg, kind, category, HOURS_24);
                // CBP-7 (cbp-2022): the first 1,000 conversations of the month, of either kind.
                if self.take_cbp_free_tier(msg) {
                    self.push(
                        msg,
                        &conv.attribution,
                        category,
                        "free_tier",
                        Some(Decimal::ZERO),
                    );
                } else {
                    let price = self.list_price(msg, category)?;
                    self.push(msg, &conv.attribution, category, "charged", Some(price));
                }
                Ok(())
            }
            Rulebook::Cbp2023 | Rulebook::Cbp2024 => match msg.template {
                Some(category) => {
                    // CBP-2 / CBP-4: a template rides only in an open conversation of its own
                    // category. CBP-10: a cbp-2022 user/business-initiated one covers no template.
                    let kind = ConvKind::of_template(category);
                    if let Some(open) = chat.open_of_kind(kind) {
                        self.ride(msg, open);
                        return Ok(());
                    }
                    // CBP-2: open a conversation of the template's category (CBP-8: as logged).
                    // PMP-6: an authentication conversation may be authentication_international.
                    let billed_as = if kind == ConvKind::Authentication {
                        self.authentication_column(msg)
                    } else {
                        category
                    };
                    let conv = self.open_conversation(chat, msg, kind, billed_as, HOURS_24);
                    // CBP-7: template conversations are never in the free tier.
                    let price = self.list_price(msg, billed_as)?;
                    self.push(msg, &conv.attribution, billed_as, "charged", Some(price));
                    Ok(())
                }
                None => {
                    // CBP-3 / CBP-10: a non-template rides in any open conversation (including a
                    // cbp-2022 one still open after the switch); the earliest opened takes it.
                    if let Some(open) = chat.conversations.first() {
                        self.ride(msg, open);
                        return Ok(());
                    }
                    // CBP-3: nothing open: a service conversation opens.
                    let conv =
                        self.open_conversation(chat, msg, ConvKind::Service, "service", HOURS_24);
                    if msg.own.rulebook == Rulebook::Cbp2024 {
                        // CBP-7 (cbp-2024): all service conversations are free.
                        self.push(
                            msg,
                            &conv.attribution,
                            "service",
                            "free_service",
                            Some(Decimal::ZERO),
                        );
                    } else if self.take_cbp_free_tier(msg) {
                        // CBP-7 (cbp-2023): the first 1,000 service conversations of the month.
                        self.push(
                            msg,
                            &conv.attribution,
                            "service",
                            "free_tier",
                            Some(Decimal::ZERO),
                        );
                    } else {
                        let price = self.list_price(msg, "service")?;
                        self.push(msg, &conv.attribution, "service", "charged", Some(price));
                    }
                    Ok(())
                }
            },
            Rulebook::Pmp2025 | Rulebook::Pmp2026 => unreachable!("bill_cbp under a PMP rulebook"),
        }
    }

    /// CBP-1: opens a conversation at this message's delivery, lasting `length`.
    /// Returns a copy of it for attribution.
    fn open_conversation(
        &self,
        chat: &mut Chat,
        msg: &Msg,
        kind: ConvKind,
        billed_as: &str,
        length: TimeDelta,
    ) -> Conversation {
        let conv = Conversation {
            kind,
            until: msg.event.ts + length,
            billed_as: billed_as.to_string(),
            attribution: msg.own.clone(),
        };
        chat.conversations.push(conv.clone());
        conv
    }

    /// CBP-7: counts one conversation against the WABA's free tier for the opening's month;
    /// true when it is still within the tier (so it is free).
    fn take_cbp_free_tier(&mut self, msg: &Msg) -> bool {
        let used = self
            .cbp_free_tier_used
            .entry((msg.event.waba.clone(), msg.own.month.clone()))
            .or_insert(0);
        if *used < CBP_FREE_TIER {
            *used += 1;
            true
        } else {
            false
        }
    }

    /// CBP-4 / CBP-5 / CBP-6 / CBP-9: a message inside an open conversation is not a unit; it is
    /// attributed to the conversation.
    fn ride(&mut self, msg: &Msg, conversation: &Conversation) {
        let billed_as = conversation.billed_as.clone();
        let attribution = conversation.attribution.clone();
        self.push(msg, &attribution, &billed_as, "in_conversation", None);
    }

    // --- Per-message pricing (§3) ----------------------------------------------------------

    fn bill_pmp(&mut self, msg: &Msg, is_reply: bool, chat: &mut Chat) -> Result<(), MissingRate> {
        let ts = msg.event.ts;
        let own = msg.own.clone();

        // CBP-9: a CBP utility conversation still open after the switch keeps covering utility
        // templates (in_conversation, not a unit), also an entry-point reply — which still opens
        // the PMP-3 window. No other conversation carries across.
        let carried = match msg.template {
            Some("utility") => chat.open_of_kind(ConvKind::Utility),
            _ => None,
        };
        if let Some(open) = carried {
            self.ride(msg, open);
            if is_reply {
                chat.free_entry_window_until = Some(ts + HOURS_72);
            }
            return Ok(());
        }
        // PMP-3: the reply is free and opens a 72 h window from its own delivery, even while an
        // earlier window is open (contrast CBP-6).
        if is_reply {
            chat.free_entry_window_until = Some(ts + HOURS_72);
            self.push(
                msg,
                &own,
                "free_entry_point",
                "free_entry_point",
                Some(Decimal::ZERO),
            );
            return Ok(());
        }
        // PMP-3 / CONV-2: every message delivered in [reply, reply + 72 h) is free.
        if matches!(chat.free_entry_window_until, Some(until) if ts < until) {
            self.push(
                msg,
                &own,
                "free_entry_point",
                "free_entry_point",
                Some(Decimal::ZERO),
            );
            return Ok(());
        }

        match msg.template {
            None => {
                if own.rulebook == Rulebook::Pmp2025 {
                    // PMP-2: non-template messages are free (the CSW is open: CONV-4 checked it).
                    self.push(
                        msg,
                        &own,
                        "service",
                        "free_customer_service",
                        Some(Decimal::ZERO),
                    );
                } else if self.take_service_allowance(msg) {
                    // PMP-5: the first 1,000 otherwise-charged service messages of the month per
                    // business number are free.
                    self.push(msg, &own, "service", "free_tier", Some(Decimal::ZERO));
                } else {
                    // PMP-5: service messages are charged at the `service` rate, no volume tiers.
                    let price = self.list_price(msg, "service")?;
                    self.push(msg, &own, "service", "charged", Some(price));
                }
            }
            Some("utility") => {
                if own.rulebook == Rulebook::Pmp2025 && chat.csw_open(ts) {
                    // PMP-2: utility templates delivered while the CSW is open are free.
                    self.push(
                        msg,
                        &own,
                        "utility",
                        "free_customer_service",
                        Some(Decimal::ZERO),
                    );
                } else {
                    // PMP-1 / PMP-4 (PMP-5: charged inside the CSW too under pmp-2026).
                    let price = self.tiered_price(msg, "utility", "utility")?;
                    self.push(msg, &own, "utility", "charged", Some(price));
                }
            }
            Some("marketing") => {
                // PMP-1 / PMP-2: always charged; marketing has no volume tiers (PMP-4).
                let price = self.list_price(msg, "marketing")?;
                self.push(msg, &own, "marketing", "charged", Some(price));
            }
            Some("authentication") => {
                // PMP-1 / PMP-6, with PMP-4 tiers on a counter shared by both authentication columns.
                let column = self.authentication_column(msg);
                let price = self.tiered_price(msg, column, "authentication")?;
                self.push(msg, &own, column, "charged", Some(price));
            }
            Some(other) => panic!("model: unknown template category {other:?}"),
        }
        Ok(())
    }

    /// PMP-5: uses one free service message of (waba, number, month) if any is left.
    fn take_service_allowance(&mut self, msg: &Msg) -> bool {
        let key = (
            msg.event.waba.clone(),
            msg.event.number.clone(),
            msg.own.month.clone(),
        );
        let used = self.service_allowance_used.entry(key).or_insert(0);
        if *used < PMP_SERVICE_ALLOWANCE {
            *used += 1;
            true
        } else {
            false
        }
    }

    // --- Prices (PMP-4, PMP-6, RATE-4) -----------------------------------------------------

    /// PMP-6: `authentication_international` when the portfolio is eligible, its primary country
    /// differs from the user's, the delivery is at or after the (per-country) start, and the
    /// market has such a rate; otherwise `authentication`.
    fn authentication_column(&self, msg: &Msg) -> &'static str {
        let event = msg.event;
        let Some(primary) = &self.accounts.primary_country else {
            return "authentication";
        };
        let Some(general_start) = self.accounts.auth_intl_start else {
            return "authentication";
        };
        let start = self
            .accounts
            .auth_intl_exceptions
            .iter()
            .find(|(country, _)| *country == event.country)
            .map(|(_, start)| *start)
            .unwrap_or(general_start);
        let eligible = *primary != event.country
            && event.ts >= start
            && self.rates.has_column(
                &event.market,
                "authentication_international",
                msg.local_date,
            );
        if eligible {
            "authentication_international"
        } else {
            "authentication"
        }
    }

    /// RATE-4: the list rate of `column`, or an error naming market, column and date.
    fn list_price(&self, msg: &Msg, column: &str) -> Result<Decimal, MissingRate> {
        self.rates
            .rate(&msg.event.market, column, msg.local_date)
            .ok_or_else(|| self.missing(msg, column))
    }

    /// PMP-4: counts this charged message as the n-th of its (market, group, WABA-local month)
    /// across all WABAs, and prices it from the band holding n of `column`'s tier table, or at the
    /// list rate when the market has no tier table. No band holding n is a missing rate.
    fn tiered_price(
        &mut self,
        msg: &Msg,
        column: &str,
        group: &'static str,
    ) -> Result<Decimal, MissingRate> {
        let counter = self
            .tier_counts
            .entry((msg.event.market.clone(), group, msg.own.month.clone()))
            .or_insert(0);
        *counter += 1;
        let n = *counter;
        match self.rates.tiers(&msg.event.market, column, msg.local_date) {
            None => self.list_price(msg, column),
            Some(bands) => bands
                .iter()
                .find(|(from, to, _)| *from <= n && to.is_none_or(|to| n <= to))
                .map(|(_, _, rate)| *rate)
                .ok_or_else(|| self.missing(msg, column)),
        }
    }

    fn missing(&self, msg: &Msg, column: &str) -> MissingRate {
        MissingRate {
            market: msg.event.market.clone(),
            column: column.to_string(),
            date: msg.local_date,
        }
    }

    // --- Bookkeeping -----------------------------------------------------------------------

    fn time_zone(&self, waba: &str) -> chrono_tz::Tz {
        self.accounts
            .wabas
            .iter()
            .find(|w| w.id == waba)
            .map(|w| w.tz)
            .unwrap_or_else(|| panic!("model: WABA {waba:?} is not in the accounts"))
    }

    fn issue(&mut self, code: &str, row: usize) {
        self.issues.push(MIssue {
            code: code.to_string(),
            row,
        });
    }

    /// Records the outcome of one business message. `unit_price` is `Some(price)` when the
    /// message is a unit (CONV-5): charged when `reason` is "charged", free otherwise.
    fn push(
        &mut self,
        msg: &Msg,
        attribution: &Attribution,
        billed_as: &str,
        reason: &str,
        unit_price: Option<Decimal>,
    ) {
        let unit = unit_price.map(|_| reason == "charged");
        let price = unit_price.unwrap_or(Decimal::ZERO);
        if let Some(charged) = unit {
            // formats.md §4: one line per (month, waba, market, category, rulebook) over units.
            let line = self
                .lines
                .entry((
                    attribution.month.clone(),
                    msg.event.waba.clone(),
                    attribution.market.clone(),
                    billed_as.to_string(),
                    attribution.rulebook.name().to_string(),
                ))
                .or_insert((0, 0, Decimal::ZERO));
            if charged {
                line.0 += 1;
            } else {
                line.1 += 1;
            }
            line.2 += price;
        }
        self.outcomes.push(MOutcome {
            row: msg.event.row,
            rulebook: attribution.rulebook.name().to_string(),
            billed_as: billed_as.to_string(),
            reason: reason.to_string(),
            price,
            unit,
            month: attribution.month.clone(),
            market: attribution.market.clone(),
        });
    }

    fn finish(self) -> MResult {
        let lines: Vec<MLine> = self
            .lines
            .into_iter()
            .map(
                |((month, waba, market, category, rulebook), (charged, free, cost))| MLine {
                    month,
                    waba,
                    market,
                    category,
                    rulebook,
                    charged,
                    free,
                    cost,
                },
            )
            .collect();
        let total = lines.iter().map(|l| l.cost).sum();
        MResult {
            outcomes: self.outcomes,
            issues: self.issues,
            lines,
            total,
        }
    }
}
