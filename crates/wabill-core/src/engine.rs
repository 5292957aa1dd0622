//! The replay engine: applies the rulebook and rate card in force to every message of a log.
//!
//! Two passes, both pure:
//! 1. **Per chat** (CONV-3: business number × user within a WABA), in CONV-1 order, in parallel
//!    with rayon: windows (CSW, conversations, free entry points) decide what each delivered
//!    business message is — a rider, a free unit, or a unit that still needs a price.
//! 2. **Global pricing** in CONV-1 order over all chats: the counters that span users (CBP-7 free
//!    tier, PMP-4 volume tiers, PMP-5 service allowance) and the rate lookups. Nothing in this
//!    pass changes window state, so the split is exact.
//!
//! Results are merged by event index, so the output never depends on the thread count.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use rayon::prelude::*;

use super::accounts::Accounts;
use super::calendar::{local_date, month_label, Calendar, DAY};
use super::markets::{MarketId, MarketTable};
use super::money::Money;
use super::rates::{Cell, RateBook, TierRate};
use super::types::*;

/// CBP-7: free conversations per WABA and month (cbp-2022: all kinds; cbp-2023: service).
pub const CBP_FREE_TIER: u32 = 1_000;
/// PMP-5: free service messages per business number and month (pmp-2026).
pub const PMP_SERVICE_ALLOWANCE: u32 = 1_000;
/// CBP-6 / PMP-3: a free entry point lasts 72 h.
pub const FEP_LENGTH: i64 = 3 * DAY;
/// PMP-7: no marketing to US numbers from this (WABA-local) date.
pub const US_MARKETING_PAUSE: (i32, u32, u32) = (2025, 4, 1);

/// One log row, as the rules see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    /// UTC instant in microseconds (delivery for business messages, receipt for inbound).
    pub ts: i64,
    /// 1-based data row of the file: the CONV-1 tie-break for equal instants.
    pub row: u32,
    /// Index into the chats table.
    pub chat: u32,
    /// Index into the countries table: the user's country for this row (MKT-1, MKT-3).
    pub country: u16,
    pub kind: Kind,
}

/// CONV-3: a thread is (WABA, business number, user).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChatKey {
    pub waba: u16,
    pub number: u32,
    pub user: u32,
}

/// The rule behind a decision, for the ledger and issues.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    Conv4,
    Conv5,
    Cbp2,
    Cbp3,
    Cbp4,
    Cbp5,
    Cbp6,
    Cbp7,
    Cbp9,
    Cbp10,
    Pmp1,
    Pmp2,
    Pmp3,
    Pmp4,
    Pmp5,
    Pmp6,
    Pmp7,
}

impl Rule {
    const ALL: [Rule; 17] = [
        Rule::Conv4,
        Rule::Conv5,
        Rule::Cbp2,
        Rule::Cbp3,
        Rule::Cbp4,
        Rule::Cbp5,
        Rule::Cbp6,
        Rule::Cbp7,
        Rule::Cbp9,
        Rule::Cbp10,
        Rule::Pmp1,
        Rule::Pmp2,
        Rule::Pmp3,
        Rule::Pmp4,
        Rule::Pmp5,
        Rule::Pmp6,
        Rule::Pmp7,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Rule::Conv4 => "CONV-4",
            Rule::Conv5 => "CONV-5",
            Rule::Cbp2 => "CBP-2",
            Rule::Cbp3 => "CBP-3",
            Rule::Cbp4 => "CBP-4",
            Rule::Cbp5 => "CBP-5",
            Rule::Cbp6 => "CBP-6",
            Rule::Cbp7 => "CBP-7",
            Rule::Cbp9 => "CBP-9",
            Rule::Cbp10 => "CBP-10",
            Rule::Pmp1 => "PMP-1",
            Rule::Pmp2 => "PMP-2",
            Rule::Pmp3 => "PMP-3",
            Rule::Pmp4 => "PMP-4",
            Rule::Pmp5 => "PMP-5",
            Rule::Pmp6 => "PMP-6",
            Rule::Pmp7 => "PMP-7",
        }
    }
}

/// Whether a business message is a unit (CONV-5) and of which kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Unit {
    #[default]
    None,
    Free,
    Charged,
}

/// What the pricing pass still has to do for a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Pending {
    #[default]
    Done,
    ListRate,
    CbpFreeTier,
    Tiered,
    ServiceAllowance,
}

/// The decision for one row (inbound rows keep the default).
#[derive(Debug, Clone, Copy, Default)]
pub struct Outcome {
    pub reason: Option<Reason>,
    pub rule: Option<Rule>,
    pub rulebook: Option<Rulebook>,
    pub billed: Option<Billed>,
    pub unit: Unit,
    /// Opening instant of the conversation or free entry point window the message belongs to.
    pub conv_start: Option<i64>,
    pub price: Money,
    pub market: MarketId,
    /// Index into the WABA's calendar periods.
    pub period: u32,
    pending: Pending,
}

#[derive(Debug, Clone)]
pub struct Issue {
    pub code: &'static str,
    pub rule: Rule,
    pub event: u32,
    pub message: String,
}

/// One line of the breakdown (formats.md §4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub month: String,
    pub waba: String,
    pub market: String,
    pub category: &'static str,
    pub rulebook: &'static str,
    pub charged: u64,
    pub free: u64,
    pub cost: Money,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingRate {
    pub market: String,
    pub category: &'static str,
    pub date: NaiveDate,
    pub card: Option<NaiveDate>,
    /// For PMP-4: the monthly count that fell beyond the last band.
    pub beyond_tier: Option<u64>,
    pub messages: u64,
}

impl std::fmt::Display for MissingRate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "no rate for market `{}`, category `{}` on {}",
            self.market, self.category, self.date
        )?;
        match self.card {
            Some(c) => write!(f, " (rate card of {c}")?,
            None => write!(f, " (no rate card in force")?,
        }
        if let Some(n) = self.beyond_tier {
            write!(f, "; monthly message {n} is beyond the last volume band")?;
        }
        write!(f, "; {} message(s) affected) (RATE-4)", self.messages)
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum BillingError {
    #[error("{}", .0.iter().map(|m| m.to_string()).collect::<Vec<_>>().join("\n"))]
    MissingRates(Vec<MissingRate>),
}

/// Everything the rules need besides the log itself.
pub struct Context<'a> {
    pub accounts: &'a Accounts,
    pub rates: &'a RateBook,
    pub markets: &'a MarketTable,
    /// `--rulebook`: force one rulebook for the whole replay (§1); `None` = by date.
    pub forced: Option<Rulebook>,
    /// `--rates-at`: price every message with the rate card and market table in force on this
    /// date ("last year's traffic at today's rates"); `None` = each message's own date (RATE-1).
    pub rates_at: Option<NaiveDate>,
}

/// Outcome slots written from several rayon tasks, each index by exactly one task.
struct SyncSlots(*mut Outcome);
unsafe impl Sync for SyncSlots {}
unsafe impl Send for SyncSlots {}
impl SyncSlots {
    /// # Safety
    /// `i` must be in bounds and written by no other task.
    unsafe fn write(&self, i: usize, o: Outcome) {
        unsafe { self.0.add(i).write(o) }
    }
}

/// Per-period facts of one WABA's calendar.
#[derive(Debug, Clone, Copy)]
pub struct PeriodInfo {
    pub month: u32,
    pub date: NaiveDate,
    pub card: Option<usize>,
    pub rulebook: Option<Rulebook>,
    pub us_pause: bool,
    mkt_version: u16,
}

/// A WABA's calendar with the facts of each period.
#[derive(Debug, Clone)]
pub struct WabaCalendar {
    pub calendar: Calendar,
    pub info: Vec<PeriodInfo>,
}

#[derive(Debug, Clone)]
pub struct Replay {
    /// Event indices in CONV-1 order (UTC instant, then file row).
    pub order: Vec<u32>,
    /// Indexed like the events.
    pub outcomes: Vec<Outcome>,
    /// Sorted in CONV-1 order.
    pub issues: Vec<Issue>,
    pub lines: Vec<Line>,
    pub total: Money,
    pub calendars: Vec<WabaCalendar>,
    pub currency: String,
}

impl Replay {
    /// The WABA-local month label of an outcome.
    pub fn month_of(&self, waba: u16, o: &Outcome) -> String {
        month_label(self.calendars[waba as usize].info[o.period as usize].month)
    }
}

fn ymd(t: (i32, u32, u32)) -> NaiveDate {
    NaiveDate::from_ymd_opt(t.0, t.1, t.2).expect("valid date")
}

/// §1: the rulebook in force on a WABA-local date.
pub fn rulebook_on(date: NaiveDate) -> Option<Rulebook> {
    Rulebook::ALL
        .into_iter()
        .rev()
        .find(|r| ymd(r.start()) <= date)
}

/// Market lookup by (country, market-table version) precomputed once.
struct MarketIndex {
    by_country: Vec<Vec<MarketId>>,
}

impl MarketIndex {
    fn new(markets: &MarketTable, countries: &[Country]) -> MarketIndex {
        let versions = markets.change_dates();
        let mut starts = vec![NaiveDate::MIN];
        starts.extend(versions.iter().copied());
        let by_country = countries
            .iter()
            .map(|c| starts.iter().map(|d| markets.market_of(*c, *d)).collect())
            .collect();
        MarketIndex { by_country }
    }
    fn market(&self, country: u16, version: u16) -> MarketId {
        self.by_country[country as usize][version as usize]
    }
}

/// The currency of a replay (CONV-6: one per replay).
pub fn replay_currency(ctx: &Context) -> String {
    ctx.accounts
        .currency()
        .unwrap_or_else(|_| ctx.accounts.wabas[0].currency.clone())
}

/// Replay a log. `events` may be in any order; `chats` and `countries` are the tables the
/// events index into.
pub fn replay(
    events: &[Event],
    chats: &[ChatKey],
    countries: &[Country],
    ctx: &Context,
) -> Result<Replay, BillingError> {
    let currency = replay_currency(ctx);
    let mut ranges = WabaRanges::new(ctx.accounts.wabas.len());
    for e in events {
        ranges.add(chats[e.chat as usize].waba, e.ts);
    }
    let calendars = build_calendars(&ranges, ctx, &currency);
    let PassOne {
        order,
        mut outcomes,
        issues,
    } = pass_one(events, chats, countries, ctx, &calendars);

    // Pass 2: prices and cross-user counters in CONV-1 order.
    let mut pricer = Pricer::new(ctx, &calendars);
    for &ei in &order {
        let o = &mut outcomes[ei as usize];
        if o.is_pending() {
            let ev = &events[ei as usize];
            pricer.apply(ev.ts, chats[ev.chat as usize], o);
        }
    }
    pricer.finish()?;

    let totals = events
        .par_iter()
        .zip(outcomes.par_iter())
        .fold(Totals::default, |mut acc, (e, o)| {
            acc.add(chats[e.chat as usize].waba, &calendars, o);
            acc
        })
        .reduce(Totals::default, |mut a, b| {
            a.merge(b);
            a
        });
    let (lines, total) = totals.lines(ctx);
    Ok(Replay {
        order,
        outcomes,
        issues,
        lines,
        total,
        calendars,
        currency,
    })
}

/// The first and last instant of each WABA's messages: the span its calendar must cover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WabaRanges(pub Vec<(i64, i64)>);

impl WabaRanges {
    pub fn new(wabas: usize) -> WabaRanges {
        WabaRanges(vec![(i64::MAX, i64::MIN); wabas])
    }
    pub fn add(&mut self, waba: u16, ts: i64) {
        let r = &mut self.0[waba as usize];
        r.0 = r.0.min(ts);
        r.1 = r.1.max(ts);
    }
}

/// The result of the per-chat pass: CONV-1 order, outcomes (units still to price are
/// [`Outcome::is_pending`]) and issues in CONV-1 order.
pub struct PassOne {
    pub order: Vec<u32>,
    pub outcomes: Vec<Outcome>,
    pub issues: Vec<Issue>,
}

/// Pass 1: windows per chat (CONV-3), in parallel. `calendars` must cover every event's
/// instant (see [`build_calendars`]).
pub fn pass_one(
    events: &[Event],
    chats: &[ChatKey],
    countries: &[Country],
    ctx: &Context,
    calendars: &[WabaCalendar],
) -> PassOne {
    let n = events.len();
    // CONV-1: order by UTC instant, then file row (most logs are already in that order).
    let in_order = events
        .par_windows(2)
        .all(|w| (w[0].ts, w[0].row) <= (w[1].ts, w[1].row));
    let order: Vec<u32> = if in_order {
        (0..n as u32).collect()
    } else {
        let mut keyed: Vec<(i64, u32, u32)> = events
            .par_iter()
            .enumerate()
            .map(|(i, e)| (e.ts, e.row, i as u32))
            .collect();
        keyed.par_sort_unstable();
        keyed.into_par_iter().map(|k| k.2).collect()
    };

    let midx = MarketIndex::new(ctx.markets, countries);

    // Group the CONV-1 order by chat (counting sort keeps the order within each chat).
    let mut offsets = vec![0u32; chats.len() + 1];
    for e in events {
        offsets[e.chat as usize + 1] += 1;
    }
    for i in 0..chats.len() {
        offsets[i + 1] += offsets[i];
    }
    let mut fill = offsets.clone();
    let mut grouped = vec![0u32; n];
    for &i in &order {
        let c = events[i as usize].chat as usize;
        grouped[fill[c] as usize] = i;
        fill[c] += 1;
    }

    // Each event belongs to exactly one chat, so each outcome slot is written by exactly one
    // task: results land at their event index directly.
    let mut outcomes = vec![Outcome::default(); n];
    let slots = SyncSlots(outcomes.as_mut_ptr());
    let chunk_chats = (chats.len() / (rayon::current_num_threads() * 16)).max(64);
    let chunks: Vec<usize> = (0..chats.len()).step_by(chunk_chats).collect();
    let issues_per_chunk: Vec<Vec<Issue>> = chunks
        .into_par_iter()
        .map(|c0| {
            let slots = &slots;
            let c_end = (c0 + chunk_chats).min(chats.len());
            let mut issues = Vec::new();
            for c in c0..c_end {
                let (s, e) = (offsets[c] as usize, offsets[c + 1] as usize);
                let chat = chats[c];
                let cal = &calendars[chat.waba as usize];
                let mut st = ChatState::default();
                for &ei in &grouped[s..e] {
                    let ev = &events[ei as usize];
                    let o = st.step(ev, ei, cal, &midx, countries, ctx, &mut issues);
                    // SAFETY: `grouped` is a permutation of 0..n and chats partition it, so no
                    // two tasks write the same index, and `outcomes` outlives the tasks.
                    unsafe { slots.write(ei as usize, o) };
                }
            }
            issues
        })
        .collect();
    let mut issues: Vec<Issue> = issues_per_chunk.into_iter().flatten().collect();
    issues.sort_by_key(|i| {
        let e = &events[i.event as usize];
        (e.ts, e.row, i.code)
    });
    PassOne {
        order,
        outcomes,
        issues,
    }
}

/// Every WABA's calendar over its messages' span, with the rulebook, rate card and market
/// table version of each period.
pub fn build_calendars(ranges: &WabaRanges, ctx: &Context, currency: &str) -> Vec<WabaCalendar> {
    let versions = ctx.markets.change_dates();
    let mut switches: Vec<NaiveDate> = Rulebook::ALL.iter().map(|r| ymd(r.start())).collect();
    switches.extend(ctx.rates.dates(currency));
    switches.extend(versions.iter().copied());
    switches.push(ymd(US_MARKETING_PAUSE));
    let pause = ymd(US_MARKETING_PAUSE);
    ctx.accounts
        .wabas
        .iter()
        .zip(&ranges.0)
        .map(|(w, &(lo, hi))| {
            let (lo, hi) = if lo > hi { (0, 0) } else { (lo, hi) };
            let calendar = Calendar::new(w.tz, lo, hi, &switches);
            let info = calendar
                .periods
                .iter()
                .map(|p| PeriodInfo {
                    month: p.month,
                    date: p.date,
                    card: ctx.rates.card_at(currency, ctx.rates_at.unwrap_or(p.date)),
                    rulebook: ctx.forced.or_else(|| rulebook_on(p.date)),
                    us_pause: p.date >= pause,
                    mkt_version: versions.partition_point(|d| *d <= ctx.rates_at.unwrap_or(p.date))
                        as u16,
                })
                .collect();
            WabaCalendar { calendar, info }
        })
        .collect()
}

/// Conversation slots under cbp-2023/cbp-2024 (CBP-2): one per category, service included.
const SLOT_MARKETING: usize = 0;
const SLOT_UTILITY: usize = 1;
const SLOT_AUTH: usize = 2;
const SLOT_SERVICE: usize = 3;

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

/// Window state of one chat.
#[derive(Debug, Default)]
struct ChatState {
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

impl ChatState {
    #[allow(clippy::too_many_arguments)]
    fn step(
        &mut self,
        ev: &Event,
        ei: u32,
        cal: &WabaCalendar,
        midx: &MarketIndex,
        countries: &[Country],
        ctx: &Context,
        issues: &mut Vec<Issue>,
    ) -> Outcome {
        let t = ev.ts;
        let period = cal.calendar.period_of(t);
        let info = cal.info[period];
        let market = midx.market(ev.country, info.mkt_version);
        let mut o = Outcome {
            market,
            period: period as u32,
            ..Outcome::default()
        };
        let (template, status) = match ev.kind {
            Kind::In { entry_point } => {
                // CSW: each inbound message (re)starts a 24 h window.
                self.csw_until = Some(t + DAY);
                if entry_point {
                    // CBP-6 / PMP-3: the first business reply before +24 h is the free reply.
                    self.ep_deadline = Some(t + DAY);
                }
                return o;
            }
            Kind::Out { template, status } => (template, status),
        };
        o.rulebook = info.rulebook;
        if !status.is_delivered() {
            // §0: a failed or unconfirmed message costs nothing and changes no state.
            o.reason = Some(Reason::NotDelivered);
            o.rule = Some(Rule::Conv5);
            return o;
        }
        let csw_open = self.csw_until.is_some_and(|u| t < u);
        if template.is_none() && !csw_open {
            // CONV-4: Meta would have rejected it (131047): report, no cost, no state change.
            o.reason = Some(Reason::OutsideCsw);
            o.rule = Some(Rule::Conv4);
            issues.push(Issue {
                code: "outside-csw",
                rule: Rule::Conv4,
                event: ei,
                message: match self.csw_until {
                    Some(u) => format!(
                        "non-template message delivered {} after the customer service window closed; Meta would have rejected it (error 131047)",
                        human_duration(t - u)
                    ),
                    None => "non-template message delivered before the user ever wrote (no customer service window); Meta would have rejected it (error 131047)".into(),
                },
            });
            return o;
        }
        let country = countries[ev.country as usize];
        if template == Some(TemplateCategory::Marketing) && country == Country::US && info.us_pause
        {
            // PMP-7: reported, billed as the log says.
            issues.push(Issue {
                code: "us-marketing-delivered",
                rule: Rule::Pmp7,
                event: ei,
                message: "marketing template shown delivered to a US number; Meta pauses US marketing from 2025-04-01, billed as the log says".into(),
            });
        }
        let Some(rb) = info.rulebook else {
            unreachable!("rows before the first rulebook are rejected when the log is read")
        };
        let ep_reply = self.ep_deadline.is_some_and(|d| t < d);
        if ep_reply {
            self.ep_deadline = None;
        }
        let auth_billed = |o: &Outcome| -> Billed {
            // PMP-6: authentication-international when eligible and the market has the rate.
            let intl = ctx.accounts.auth_international_applies(country, t)
                && info.card.is_some_and(|c| {
                    !matches!(
                        ctx.rates.cards[c].cell(o.market, RateColumn::AuthenticationInternational),
                        Cell::NotOffered
                    )
                });
            if intl {
                Billed::AuthenticationInternational
            } else {
                Billed::Authentication
            }
        };
        if rb.is_cbp() {
            if let Some(f) = self.fep_conv.filter(|f| f.open_at(t, FEP_LENGTH)) {
                // CBP-6: everything inside the free entry point conversation is free; a second
                // entry point answered now opens nothing new.
                o.ride_in(f, Rule::Cbp6);
                return o;
            }
            if ep_reply {
                // CBP-6: the reply opens a 72 h free conversation and closes all others.
                self.fep_conv = Some(Conv {
                    start: t,
                    row: ev.row,
                    billed: Billed::FreeEntryPoint,
                    rulebook: rb,
                });
                self.slots = [None; 4];
                self.legacy = None;
                o.free_unit(
                    Billed::FreeEntryPoint,
                    Reason::FreeEntryPoint,
                    Rule::Cbp6,
                    t,
                );
                return o;
            }
            if rb == Rulebook::Cbp2022 {
                if let Some(c) = self.legacy.filter(|c| c.open_at(t, DAY)) {
                    // CBP-5: any message inside an open conversation is covered.
                    o.ride_in(c, Rule::Cbp5);
                    return o;
                }
                // CBP-5: user-initiated if the CSW is open, else business-initiated.
                let billed = if csw_open {
                    Billed::UserInitiated
                } else {
                    Billed::BusinessInitiated
                };
                self.legacy = Some(Conv {
                    start: t,
                    row: ev.row,
                    billed,
                    rulebook: rb,
                });
                o.open(billed, Rule::Cbp5, t, Pending::CbpFreeTier);
                return o;
            }
            match template {
                Some(cat) => {
                    let slot = match cat {
                        TemplateCategory::Marketing => SLOT_MARKETING,
                        TemplateCategory::Utility => SLOT_UTILITY,
                        TemplateCategory::Authentication => SLOT_AUTH,
                    };
                    if let Some(c) = self.slots[slot].filter(|c| c.open_at(t, DAY)) {
                        // CBP-4: same category inside its open conversation.
                        o.ride_in(c, Rule::Cbp4);
                        return o;
                    }
                    // CBP-2: open a conversation of the template's category.
                    let billed = if cat == TemplateCategory::Authentication {
                        auth_billed(&o)
                    } else {
                        Billed::from_template(cat)
                    };
                    self.slots[slot] = Some(Conv {
                        start: t,
                        row: ev.row,
                        billed,
                        rulebook: rb,
                    });
                    let rule = if billed == Billed::AuthenticationInternational {
                        Rule::Pmp6
                    } else {
                        Rule::Cbp2
                    };
                    o.open(billed, rule, t, Pending::ListRate);
                }
                None => {
                    // CBP-3: ride in any open conversation (the earliest opened), CBP-10
                    // including a cbp-2022 one still open after the switch.
                    let open = self
                        .slots
                        .iter()
                        .flatten()
                        .map(|c| (*c, Rule::Cbp3))
                        .chain(self.legacy.map(|c| (c, Rule::Cbp10)))
                        .filter(|(c, _)| c.open_at(t, DAY))
                        .min_by_key(|(c, _)| (c.start, c.row));
                    if let Some((c, rule)) = open {
                        o.ride_in(c, rule);
                        return o;
                    }
                    self.slots[SLOT_SERVICE] = Some(Conv {
                        start: t,
                        row: ev.row,
                        billed: Billed::Service,
                        rulebook: rb,
                    });
                    if rb == Rulebook::Cbp2024 {
                        // CBP-7 (cbp-2024): service conversations are free, no cap.
                        o.free_unit(Billed::Service, Reason::FreeService, Rule::Cbp7, t);
                    } else {
                        o.open(Billed::Service, Rule::Cbp3, t, Pending::CbpFreeTier);
                    }
                }
            }
            return o;
        }

        // Per-message pricing.
        if ep_reply {
            // PMP-3: the reply is free and opens a 72 h window from its delivery, even while
            // an earlier window is open.
            self.fep_window = Some(t);
            o.free_unit(
                Billed::FreeEntryPoint,
                Reason::FreeEntryPoint,
                Rule::Pmp3,
                t,
            );
            return o;
        }
        if let Some(f) = self.fep_window.filter(|f| t < f + FEP_LENGTH) {
            // PMP-3: everything delivered inside the window is free, templates included.
            o.free_unit(
                Billed::FreeEntryPoint,
                Reason::FreeEntryPoint,
                Rule::Pmp3,
                f,
            );
            return o;
        }
        if template == Some(TemplateCategory::Utility) {
            if let Some(c) = self.slots[SLOT_UTILITY].filter(|c| c.open_at(t, DAY)) {
                // CBP-9: a utility conversation opened before the switch keeps covering
                // utility templates until it expires.
                o.ride_in(c, Rule::Cbp9);
                return o;
            }
        }
        match template {
            None => {
                if rb == Rulebook::Pmp2025 {
                    // PMP-2: non-template messages are free.
                    o.free_unit(Billed::Service, Reason::FreeCustomerService, Rule::Pmp2, t);
                } else {
                    // PMP-5: service messages charged, after the monthly allowance.
                    o.open(Billed::Service, Rule::Pmp5, t, Pending::ServiceAllowance);
                }
            }
            Some(TemplateCategory::Utility) => {
                if rb == Rulebook::Pmp2025 && csw_open {
                    // PMP-2: utility inside the CSW is free.
                    o.free_unit(Billed::Utility, Reason::FreeCustomerService, Rule::Pmp2, t);
                } else {
                    let rule = if rb == Rulebook::Pmp2026 && csw_open {
                        Rule::Pmp5
                    } else {
                        Rule::Pmp1
                    };
                    o.open(Billed::Utility, rule, t, Pending::Tiered);
                }
            }
            Some(TemplateCategory::Marketing) => {
                // PMP-1 / PMP-2: marketing always charged; no tiers (PMP-4).
                o.open(Billed::Marketing, Rule::Pmp1, t, Pending::ListRate);
            }
            Some(TemplateCategory::Authentication) => {
                let billed = auth_billed(&o);
                let rule = if billed == Billed::AuthenticationInternational {
                    Rule::Pmp6
                } else {
                    Rule::Pmp1
                };
                o.open(billed, rule, t, Pending::Tiered);
            }
        }
        o
    }
}

impl Outcome {
    /// A unit the pricing pass (pass 2) still has to price or count.
    pub fn is_pending(&self) -> bool {
        self.pending != Pending::Done
    }

    fn ride_in(&mut self, c: Conv, rule: Rule) {
        self.ride(c.billed, c.start, rule);
        self.rulebook = Some(c.rulebook);
    }
    fn ride(&mut self, billed: Billed, start: i64, rule: Rule) {
        self.reason = Some(Reason::InConversation);
        self.rule = Some(rule);
        self.billed = Some(billed);
        self.conv_start = Some(start);
    }
    fn free_unit(&mut self, billed: Billed, reason: Reason, rule: Rule, start: i64) {
        self.reason = Some(reason);
        self.rule = Some(rule);
        self.billed = Some(billed);
        self.unit = Unit::Free;
        self.conv_start = Some(start);
    }
    fn open(&mut self, billed: Billed, rule: Rule, start: i64, pending: Pending) {
        self.reason = Some(Reason::Charged);
        self.rule = Some(rule);
        self.billed = Some(billed);
        self.unit = Unit::Charged;
        self.conv_start = Some(start);
        self.pending = pending;
    }
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

/// Pass 2: the counters that span chats (CBP-7 free tier, PMP-4 volume tiers, PMP-5 service
/// allowance) and the rate lookups. Units must be applied in CONV-1 order.
pub struct Pricer<'a> {
    ctx: &'a Context<'a>,
    calendars: &'a [WabaCalendar],
    free_tier: HashMap<(u16, u32), u32>,
    allowance: HashMap<(u16, u32, u32), u32>,
    tiers: HashMap<(MarketId, bool, u32), u64>,
    missing: BTreeMap<(String, &'static str, Option<NaiveDate>, bool), MissingRate>,
}

impl<'a> Pricer<'a> {
    pub fn new(ctx: &'a Context<'a>, calendars: &'a [WabaCalendar]) -> Pricer<'a> {
        Pricer {
            ctx,
            calendars,
            free_tier: HashMap::new(),
            allowance: HashMap::new(),
            tiers: HashMap::new(),
            missing: BTreeMap::new(),
        }
    }

    /// Price one pending unit (delivered at `ts` in `chat`), the next in CONV-1 order.
    pub fn apply(&mut self, ts: i64, chat: ChatKey, o: &mut Outcome) {
        let ctx = self.ctx;
        let info = self.calendars[chat.waba as usize].info[o.period as usize];
        let billed = o.billed.expect("pending units have a category");
        let col = billed.rate_column().expect("priced category");
        let card = info.card.map(|c| &ctx.rates.cards[c]);
        let mut beyond = None;
        let rate: Option<Money> = match o.pending {
            Pending::Done => return,
            Pending::CbpFreeTier => {
                let used = self.free_tier.entry((chat.waba, info.month)).or_insert(0);
                if *used < CBP_FREE_TIER {
                    // CBP-7: the month's first 1,000 count as conversations, at price 0.
                    *used += 1;
                    o.unit = Unit::Free;
                    o.reason = Some(Reason::FreeTier);
                    o.rule = Some(Rule::Cbp7);
                    o.pending = Pending::Done;
                    return;
                }
                card.and_then(|c| c.rate(o.market, col))
            }
            Pending::ServiceAllowance => {
                let used = self
                    .allowance
                    .entry((chat.waba, chat.number, info.month))
                    .or_insert(0);
                if *used < PMP_SERVICE_ALLOWANCE {
                    // PMP-5: the first 1,000 otherwise-charged service messages per number.
                    *used += 1;
                    o.unit = Unit::Free;
                    o.reason = Some(Reason::FreeTier);
                    o.pending = Pending::Done;
                    return;
                }
                card.and_then(|c| c.rate(o.market, col))
            }
            Pending::ListRate => card.and_then(|c| c.rate(o.market, col)),
            Pending::Tiered => {
                // PMP-4: per portfolio × market × category group × WABA-local month;
                // authentication and authentication-international share a counter.
                let auth = matches!(
                    billed,
                    Billed::Authentication | Billed::AuthenticationInternational
                );
                let count = self.tiers.entry((o.market, auth, info.month)).or_insert(0);
                *count += 1;
                match card.map(|c| c.tier_rate(o.market, col, *count)) {
                    None => None,
                    Some(TierRate::NoTable) => card.and_then(|c| c.rate(o.market, col)),
                    Some(TierRate::Rate(r)) => {
                        if *count > 1 || r != card.and_then(|c| c.rate(o.market, col)).unwrap_or(r)
                        {
                            o.rule = Some(Rule::Pmp4);
                        }
                        Some(r)
                    }
                    Some(TierRate::BeyondTable) => {
                        beyond = Some(*count);
                        None
                    }
                }
            }
        };
        o.pending = Pending::Done;
        match rate {
            Some(r) => {
                o.price = r;
                o.unit = Unit::Charged;
                o.reason = Some(Reason::Charged);
            }
            None => {
                let market = ctx.markets.name(o.market).to_string();
                let date = local_date(self.calendars[chat.waba as usize].calendar.tz, ts);
                self.missing
                    .entry((
                        market.clone(),
                        col.id(),
                        card.map(|c| c.effective),
                        beyond.is_some(),
                    ))
                    .and_modify(|m| m.messages += 1)
                    .or_insert(MissingRate {
                        market,
                        category: col.id(),
                        date,
                        card: card.map(|c| c.effective),
                        beyond_tier: beyond,
                        messages: 1,
                    });
            }
        }
    }

    /// RATE-4: every missing rate met, or none.
    pub fn finish(self) -> Result<(), BillingError> {
        if self.missing.is_empty() {
            Ok(())
        } else {
            Err(BillingError::MissingRates(
                self.missing.into_values().collect(),
            ))
        }
    }
}

type TotalsKey = (u16, u32, MarketId, Billed, Rulebook);

/// Breakdown sums per (WABA, month, market, category, rulebook). Integer sums commute, so
/// totals built in any order or partition and merged give the same lines.
#[derive(Debug, Default, Clone)]
pub struct Totals(rustc_hash::FxHashMap<TotalsKey, (u64, u64, Money)>);

impl Totals {
    /// Count one outcome (rows that are not units are ignored).
    pub fn add(&mut self, waba: u16, calendars: &[WabaCalendar], o: &Outcome) {
        if o.unit == Unit::None {
            return;
        }
        let month = calendars[waba as usize].info[o.period as usize].month;
        let key = (
            waba,
            month,
            o.market,
            o.billed.expect("units have a category"),
            o.rulebook.expect("units have a rulebook"),
        );
        let a = self.0.entry(key).or_insert((0, 0, Money::ZERO));
        match o.unit {
            Unit::Charged => a.0 += 1,
            Unit::Free => a.1 += 1,
            Unit::None => {}
        }
        a.2 += o.price;
    }

    pub fn merge(&mut self, other: Totals) {
        for (k, v) in other.0 {
            let x = self.0.entry(k).or_insert((0, 0, Money::ZERO));
            x.0 += v.0;
            x.1 += v.1;
            x.2 += v.2;
        }
    }

    /// The breakdown lines in the contract's order, and their total.
    pub fn lines(self, ctx: &Context) -> (Vec<Line>, Money) {
        let mut lines: Vec<Line> = self
            .0
            .into_iter()
            .map(|((w, m, mk, b, rb), (c, f, cost))| Line {
                month: month_label(m),
                waba: ctx.accounts.wabas[w as usize].id.clone(),
                market: ctx.markets.name(mk).to_string(),
                category: b.id(),
                rulebook: rb.id(),
                charged: c,
                free: f,
                cost,
            })
            .collect();
        lines.sort_by(|a, b| {
            (&a.month, &a.waba, &a.market, a.category, a.rulebook)
                .cmp(&(&b.month, &b.waba, &b.market, b.category, b.rulebook))
        });
        let total = lines.iter().map(|l| l.cost).sum();
        (lines, total)
    }
}

const REASONS: [Reason; 8] = [
    Reason::Charged,
    Reason::InConversation,
    Reason::FreeCustomerService,
    Reason::FreeEntryPoint,
    Reason::FreeTier,
    Reason::FreeService,
    Reason::NotDelivered,
    Reason::OutsideCsw,
];
const UNITS: [Unit; 3] = [Unit::None, Unit::Free, Unit::Charged];

const BILLED: [Billed; 8] = [
    Billed::Marketing,
    Billed::Utility,
    Billed::Authentication,
    Billed::AuthenticationInternational,
    Billed::Service,
    Billed::BusinessInitiated,
    Billed::UserInitiated,
    Billed::FreeEntryPoint,
];
const PENDING: [Pending; 5] = [
    Pending::Done,
    Pending::ListRate,
    Pending::CbpFreeTier,
    Pending::Tiered,
    Pending::ServiceAllowance,
];

fn code_of<T: PartialEq>(all: &[T], v: &T) -> u8 {
    all.iter().position(|x| x == v).expect("listed") as u8
}

/// A unit waiting for pass 2, with what pricing and the breakdown need, in a fixed-size form
/// (for the partitioned replay, which spills pending units to disk between the passes).
#[derive(Debug, Clone, Copy)]
pub struct PendingUnit {
    pub ts: i64,
    pub row: u32,
    /// `user` is not kept (pricing never needs it).
    pub chat: ChatKey,
    pub outcome: Outcome,
}

impl PendingUnit {
    pub const BYTES: usize = 28;
    pub const PRICED_BYTES: usize = 11;

    /// What pass 2 decided for a priced unit (price, unit, reason, rule), to lay over the same
    /// unit's pass-1 outcome later ([`PendingUnit::apply_priced`]).
    pub fn encode_priced(o: &Outcome, out: &mut Vec<u8>) {
        out.extend_from_slice(&o.price.micros().to_le_bytes());
        out.push(code_of(&UNITS, &o.unit));
        out.push(code_of(
            &REASONS,
            &o.reason.expect("priced units have a reason"),
        ));
        out.push(code_of(
            &Rule::ALL,
            &o.rule.expect("priced units have a rule"),
        ));
    }

    /// Lay a pass-2 decision ([`PendingUnit::encode_priced`]) over a pending outcome.
    pub fn apply_priced(o: &mut Outcome, b: &[u8]) {
        o.price = Money(i64::from_le_bytes(b[0..8].try_into().expect("8 bytes")));
        o.unit = UNITS[b[8] as usize];
        o.reason = Some(REASONS[b[9] as usize]);
        o.rule = Some(Rule::ALL[b[10] as usize]);
        o.pending = Pending::Done;
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        let o = &self.outcome;
        out.extend_from_slice(&self.ts.to_le_bytes());
        out.extend_from_slice(&self.row.to_le_bytes());
        out.extend_from_slice(&self.chat.waba.to_le_bytes());
        out.extend_from_slice(&self.chat.number.to_le_bytes());
        out.extend_from_slice(&o.period.to_le_bytes());
        out.extend_from_slice(&o.market.to_le_bytes());
        out.push(code_of(
            &BILLED,
            &o.billed.expect("pending units have a category"),
        ));
        out.push(code_of(
            &Rulebook::ALL,
            &o.rulebook.expect("pending units have a rulebook"),
        ));
        out.push(code_of(
            &Rule::ALL,
            &o.rule.expect("pending units have a rule"),
        ));
        out.push(code_of(&PENDING, &o.pending));
    }

    pub fn decode(b: &[u8]) -> PendingUnit {
        let u16_at = |i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
        let u32_at = |i: usize| u32::from_le_bytes(b[i..i + 4].try_into().expect("4 bytes"));
        PendingUnit {
            ts: i64::from_le_bytes(b[0..8].try_into().expect("8 bytes")),
            row: u32_at(8),
            chat: ChatKey {
                waba: u16_at(12),
                number: u32_at(14),
                user: 0,
            },
            outcome: Outcome {
                reason: Some(Reason::Charged),
                rule: Some(Rule::ALL[b[26] as usize]),
                rulebook: Some(Rulebook::ALL[b[25] as usize]),
                billed: Some(BILLED[b[24] as usize]),
                unit: Unit::Charged,
                conv_start: None,
                price: Money::ZERO,
                market: u16_at(22),
                period: u32_at(18),
                pending: PENDING[b[27] as usize],
            },
        }
    }
}
