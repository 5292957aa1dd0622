//! Pass 1, per chat (CONV-3): the windows of one chat decide, row by row in CONV-1 order, what
//! each business message is: not a unit (not delivered, CONV-5; riding in an open conversation),
//! a free unit, or a unit that pass 2 still has to price ([`Pending`]). A non-template message
//! delivered with no open window in the log is reported and billed as if the window were open
//! (CONV-4: deliveries are facts).
//!
//! [`ChatState::step`] keeps the customer service window and the pending entry point, applies what
//! every rulebook shares (CONV-5, CONV-4, the PMP-7 report) and hands each delivered business
//! message to its rulebook's family: [`cbp`] (conversations, billing-rules.md §2) or [`pmp`] (per
//! message, §3).

mod calls;
mod cbp;
pub use others::{mba1_charged_in, MBA_CHARGED_FROM};
mod groups;
mod others;
mod pmp;

use super::calendar::{PeriodInfo, WabaCalendar, DAY};
use super::context::Context;
use super::ids::Rule;
use super::markets::MarketIndex;
use super::model::{ChatKey, Event, Extras, Issue, Outcome, Pending, Unit};
use super::money::Money;
use super::rulebook::Rulebook;
use super::types::{Billed, Country, Kind, Reason, TemplateCategory};

/// CBP-6 / PMP-3: a free entry point lasts 72 h.
pub const FEP_LENGTH: i64 = 3 * DAY;

/// An open conversation (CBP) or a carried one (CBP-9).
#[derive(Debug, Clone, Copy)]
struct Conv {
    start: i64,
    /// File row of the opening message: with `start`, its CONV-1 position (equal instants keep
    /// row order), so "the earliest opened" is well defined when several open at one instant.
    row: u32,
    billed: Billed,
    /// §1: a conversation's rulebook is the one in force when it opened; riders inherit it.
    rulebook: Rulebook,
}

impl Conv {
    fn open_at(&self, t: i64, len: i64) -> bool {
        // CONV-2: [start, start + len)
        t < self.start + len
    }
}

/// Conversation slots under cbp-2023/cbp-2024 (CBP-2): one per category, service included.
const SLOT_MARKETING: usize = 0;
const SLOT_UTILITY: usize = 1;
const SLOT_AUTH: usize = 2;
const SLOT_SERVICE: usize = 3;

/// Window state of one chat.
#[derive(Debug, Default)]
pub struct ChatState {
    /// GRP-2: the chat is a group's: its window is the group's, it has no entry points and no
    /// conversations.
    group: bool,
    /// CSW end (exclusive): last inbound + 24 h.
    csw_until: Option<i64>,
    /// Pending entry point: reply must be delivered before this instant (CONV-2).
    ep_deadline: Option<i64>,
    /// cbp-2023/2024 conversations by slot.
    slots: [Option<Conv>; 4],
    /// cbp-2022 user- or business-initiated conversation.
    legacy: Option<Conv>,
    /// CBP-6 free entry point conversation.
    fep_conv: Option<Conv>,
    /// PMP-3 free entry point window start.
    fep_window: Option<i64>,
}

/// What pass 1 reads besides the chat's own state and its WABA's calendar.
pub struct Env<'a> {
    pub ctx: &'a Context<'a>,
    /// MKT-2 for the log's countries table.
    pub(crate) markets: &'a MarketIndex,
    /// The log's countries table (events index into it).
    pub countries: &'a [Country],
    /// The rows' durations, tokens and prices (CALL-3, MBA-1, MAXP-1).
    pub extras: &'a Extras,
}

/// A delivered business message, as the rules of a rulebook family see it.
struct Delivered<'a> {
    t: i64,
    row: u32,
    template: Option<TemplateCategory>,
    csw_open: bool,
    /// CBP-6 / PMP-3: the first business reply within 24 h of an entry-point message.
    ep_reply: bool,
    rulebook: Rulebook,
    country: Country,
    info: PeriodInfo,
    /// MAXP-1: what Meta charged for a marketing template sent with a max price.
    price: Option<Money>,
    ctx: &'a Context<'a>,
}

impl Delivered<'_> {
    /// A conversation this message opens.
    fn conv(&self, billed: Billed) -> Conv {
        Conv {
            start: self.t,
            row: self.row,
            billed,
            rulebook: self.rulebook,
        }
    }
}

impl ChatState {
    /// The state of a chat before its first row.
    pub fn new(chat: &ChatKey) -> ChatState {
        ChatState {
            group: chat.group,
            ..ChatState::default()
        }
    }

    /// Decide one row of the chat (`ei` is its event index, for issues); rows come in CONV-1
    /// order.
    pub fn step(
        &mut self,
        ev: &Event,
        ei: u32,
        cal: &WabaCalendar,
        env: &Env,
        issues: &mut Vec<Issue>,
    ) -> Outcome {
        let t = ev.ts;
        let period = cal.calendar.period_of(t);
        let info = cal.info[period];
        let mut o = Outcome {
            market: env.markets.market(ev.country, info.mkt_version),
            period: period as u32,
            ..Outcome::default()
        };
        let Kind::Out { template, status } = ev.kind else {
            self.not_a_message(ev, ei, &info, env, &mut o, issues);
            return o;
        };
        o.rulebook = info.rulebook;
        if !status.is_delivered() {
            conv5_not_delivered(&mut o);
            return o;
        }
        // AIP-1: an AI provider's non-template message to a listed market.
        if template.is_none() && others::aip1_applies(env.ctx, o.market, cal, t) {
            others::aip1_charge(t, &mut o);
            return o;
        }
        let mut csw_open = self.csw_until.is_some_and(|u| t < u);
        if template.is_none() && !csw_open && !self.group {
            self.conv4_outside_csw(t, ei, issues);
            csw_open = true;
        }
        let country = env.countries[ev.country as usize];
        pmp::pmp7_us_marketing(template, country, &info, ei, issues);
        let Some(rulebook) = info.rulebook else {
            unreachable!("rows before the first rulebook are rejected when the log is read")
        };
        // MAXP-1: what Meta charged (the row), else the max price it was sent with.
        let price = if template == Some(TemplateCategory::Marketing) {
            env.extras
                .get(ev.row)
                .price()
                .or_else(|| env.ctx.accounts.max_price(o.market))
        } else {
            None
        };
        let m = Delivered {
            t,
            row: ev.row,
            template,
            csw_open,
            ep_reply: !self.group && self.take_entry_point_reply(t),
            rulebook,
            country,
            info,
            price,
            ctx: env.ctx,
        };
        if self.group {
            groups::decide(&m, &mut o);
        } else if rulebook.is_cbp() {
            cbp::decide(self, &m, &mut o);
        } else {
            pmp::decide(self, &m, &mut o);
        }
        o
    }

    /// A row that is not a business message of the chat's own windows: the user's message
    /// (it opens the window; GRP-2: a member's opens the group's, and groups have no entry
    /// points), a call (CALL-1…3), or a message of Meta's agent or an AI provider (MBA-1,
    /// AIP-1).
    fn not_a_message(
        &mut self,
        ev: &Event,
        ei: u32,
        info: &PeriodInfo,
        env: &Env,
        o: &mut Outcome,
        issues: &mut Vec<Issue>,
    ) {
        let t = ev.ts;
        match ev.kind {
            Kind::In { entry_point } => self.inbound(t, entry_point && !self.group),
            Kind::Call { by_user, accepted } => {
                calls::decide(self, t, by_user, accepted, info.rulebook, o)
            }
            Kind::Bot { bot, status } => {
                o.rulebook = info.rulebook;
                if !status.is_delivered() {
                    conv5_not_delivered(o);
                } else {
                    let tokens = env.extras.get(ev.row).tokens();
                    others::decide_bot(bot, t, tokens, info, ei, o, issues);
                }
            }
            Kind::Out { .. } => unreachable!("business messages go through the windows"),
        }
    }

    /// CALL-1: a call from the user (answered or not), or a business call the user accepted:
    /// the CSW (re)starts for 24 h, as for an inbound message (no entry point).
    fn call_opens_window(&mut self, t: i64) {
        self.csw_until = Some(t + DAY);
    }

    /// An inbound message: the CSW (re)starts for 24 h; an entry-point message makes the first
    /// business reply before +24 h the free reply (CBP-6 / PMP-3).
    fn inbound(&mut self, t: i64, entry_point: bool) {
        self.csw_until = Some(t + DAY);
        if entry_point {
            self.ep_deadline = Some(t + DAY);
        }
    }

    /// Whether a business message delivered at `t` is the free reply to an entry point (which
    /// it then uses up).
    fn take_entry_point_reply(&mut self, t: i64) -> bool {
        let reply = self.ep_deadline.is_some_and(|d| t < d);
        if reply {
            self.ep_deadline = None;
        }
        reply
    }

    /// CONV-4: a non-template message delivered with no open CSW in the log. Meta delivers one
    /// only inside the window, so the log lacks the user's message: reported, and billed as if
    /// the window were open (the caller goes on with `csw_open`); it opens or refreshes no CSW.
    fn conv4_outside_csw(&self, t: i64, ei: u32, issues: &mut Vec<Issue>) {
        issues.push(Issue {
            code: "outside-csw",
            rule: Rule::Conv4,
            event: ei,
            message: match self.csw_until {
                Some(u) => format!(
                    "non-template message delivered {} after the customer service window the log shows had closed: the log lacks the user's message (Meta delivers these only inside the window); billed as if the window were open",
                    human_duration(t - u)
                ),
                None => "non-template message delivered before any message of the user in the log: the log lacks the user's message (Meta delivers these only inside the window); billed as if the window were open".into(),
            },
        });
    }
}

/// CONV-5 / §0: a failed or unconfirmed message costs nothing and changes no state.
fn conv5_not_delivered(o: &mut Outcome) {
    o.reason = Some(Reason::NotDelivered);
    o.rule = Some(Rule::Conv5);
}

fn human_duration(micros: i64) -> String {
    let s = micros / 1_000_000;
    if s < 60 {
        format!("{s} s")
    } else if s < 3600 {
        format!("{} min", s / 60)
    } else if s < 86_400 {
        format!("{} h {} min", s / 3600, (s % 3600) / 60)
    } else {
        format!("{} d {} h", s / 86_400, (s % 86_400) / 3600)
    }
}

/// The decisions pass 1 writes into an outcome.
impl Outcome {
    /// Rides in an open conversation: not a unit, and under the conversation's rulebook.
    fn ride_in(&mut self, c: Conv, rule: Rule) {
        self.reason = Some(Reason::InConversation);
        self.rule = Some(rule);
        self.billed = Some(c.billed);
        self.conv_start = Some(c.start);
        self.rulebook = Some(c.rulebook);
    }

    /// A unit that a free rule made free; `start` opens its conversation or window.
    fn free_unit(&mut self, billed: Billed, reason: Reason, rule: Rule, start: i64) {
        self.reason = Some(reason);
        self.rule = Some(rule);
        self.billed = Some(billed);
        self.unit = Unit::Free;
        self.conv_start = Some(start);
    }

    /// A charged unit opened at `start`, for pass 2 to price as `pending` says.
    fn open(&mut self, billed: Billed, rule: Rule, start: i64, pending: Pending) {
        self.reason = Some(Reason::Charged);
        self.rule = Some(rule);
        self.billed = Some(billed);
        self.unit = Unit::Charged;
        self.conv_start = Some(start);
        self.pending = pending;
    }
}

impl Outcome {
    /// A charged unit whose price pass 1 already knows (MAXP-1: what Meta charged).
    fn charged_at(&mut self, billed: Billed, rule: Rule, start: i64, price: Money) {
        self.open(billed, rule, start, Pending::Done);
        self.price = price;
    }
}
