//! The replay's data model: a log row as the rules see it ([`Event`], [`ChatKey`]), the decision
//! for it ([`Outcome`]), what a replay reports ([`Issue`], [`Line`], [`MissingRate`]) and its
//! result ([`Replay`]).

use chrono::NaiveDate;

use super::calendar::{month_label, WabaCalendar};
use super::ids::Rule;
use super::markets::MarketId;
use super::money::Money;
use super::rulebook::Rulebook;
use super::types::{Billed, Kind, Reason};

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

/// CONV-3: a thread is (WABA, business number, user); a group's thread is (WABA, business
/// number, group) (GRP-2), its `user` then indexes the log's groups and `group` is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChatKey {
    pub waba: u16,
    /// GRP-1…3: the thread is a group's; each of its rows is one member's message or delivery,
    /// the member's country on the event.
    pub group: bool,
    pub number: u32,
    pub user: u32,
}

/// What a few rows carry beyond their kind (formats.md §1: `duration`, `tokens`, `price`),
/// packed in 16 bytes (every row of a log is parsed into one): each value or its absence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extra {
    duration: u32,
    tokens: u32,
    price: i64,
}

impl Default for Extra {
    fn default() -> Self {
        Extra {
            duration: u32::MAX,
            tokens: u32::MAX,
            price: i64::MIN,
        }
    }
}

/// The most tokens one message may give (MBA-1): larger counts are rejects.
pub const MAX_TOKENS: u64 = u32::MAX as u64 - 1;

impl Extra {
    /// CALL-3: a call's seconds.
    pub fn duration(&self) -> Option<u32> {
        (self.duration != u32::MAX).then_some(self.duration)
    }
    /// MBA-1: the tokens of a Meta Business Agent message.
    pub fn tokens(&self) -> Option<u64> {
        (self.tokens != u32::MAX).then_some(u64::from(self.tokens))
    }
    /// MAXP-1: what Meta charged for a marketing template sent with a max price.
    pub fn price(&self) -> Option<Money> {
        (self.price != i64::MIN).then_some(Money(self.price))
    }
    /// With a duration of `seconds` (below `u32::MAX`).
    pub fn with_duration(mut self, seconds: u32) -> Extra {
        self.duration = seconds.min(u32::MAX - 1);
        self
    }
    /// With `n` tokens (at most [`MAX_TOKENS`]).
    pub fn with_tokens(mut self, n: u64) -> Extra {
        self.tokens = n.min(MAX_TOKENS) as u32;
        self
    }
    /// With the price Meta charged.
    pub fn with_price(mut self, price: Money) -> Extra {
        self.price = price.0.max(i64::MIN + 1);
        self
    }
}

/// The [`Extra`]s of a log, by data row (most rows have none, so they are kept aside and the
/// events stay small). Rows are added in any order; [`Extras::get`] needs [`Extras::seal`].
#[derive(Debug, Clone, Default)]
pub struct Extras {
    rows: Vec<u32>,
    values: Vec<Extra>,
}

impl Extra {
    /// Whether the row carries none of them.
    #[inline]
    pub fn is_empty(&self) -> bool {
        *self == Extra::default()
    }
}

impl Extras {
    /// Note the extra of data row `row` (an empty one is not kept).
    #[inline]
    pub fn push(&mut self, row: u32, extra: Extra) {
        if !extra.is_empty() {
            self.rows.push(row);
            self.values.push(extra);
        }
    }
    /// Sort by row, once every row is in.
    pub fn seal(&mut self) {
        if !self.rows.windows(2).all(|w| w[0] <= w[1]) {
            let mut both: Vec<(u32, Extra)> =
                self.rows.drain(..).zip(self.values.drain(..)).collect();
            both.sort_by_key(|x| x.0);
            (self.rows, self.values) = both.into_iter().unzip();
        }
    }
    /// The extra of data row `row` (an empty one when it has none).
    pub fn get(&self, row: u32) -> Extra {
        if self.rows.is_empty() {
            return Extra::default();
        }
        match self.rows.binary_search(&row) {
            Ok(i) => self.values[i],
            Err(_) => Extra::default(),
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
    /// Charged by Meta, but the log does not give what is needed to price it (MBA-1 without
    /// tokens): counted, at no cost, and named as such.
    Unpriced,
}

/// What the pricing pass (pass 2) still has to do for a unit that pass 1 opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pending {
    /// Nothing: the outcome is final.
    #[default]
    Done,
    /// Price at the card's list rate (RATE-1).
    ListRate,
    /// A CBP conversation that may fall in the month's free tier (CBP-7), else list rate.
    CbpFreeTier,
    /// A PMP template counted for the volume tiers (PMP-4).
    Tiered,
    /// A PMP service message that may fall in the number's monthly allowance (PMP-5).
    ServiceAllowance,
    /// MBA-1: the row's tokens (in the log's [`Extras`]) at the card's rate per million tokens.
    PerToken,
    /// CALL-3: a business call of the row's duration (in the log's [`Extras`]), in 6-second
    /// pulses, priced whole at the minute rate of the tier its last pulse falls in.
    Call,
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
    /// What pass 2 still has to do ([`Pending::Done`] once it has, or when pass 1 decided all).
    pub pending: Pending,
}

impl Outcome {
    /// A unit the pricing pass (pass 2) still has to price or count.
    pub fn is_pending(&self) -> bool {
        self.pending != Pending::Done
    }
}

/// A row the rules report (and bill or not, as its rule says).
#[derive(Debug, Clone)]
pub struct Issue {
    pub code: &'static str,
    pub rule: Rule,
    /// Index of the event.
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
    /// Units Meta charges that the log cannot price (MBA-1 without tokens): not in `cost`.
    pub unpriced: u64,
    pub cost: Money,
}

/// RATE-4: a rate the card in force does not give, with the messages that needed it.
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
            let unit = if self.category == "call" {
                "minute"
            } else {
                "message"
            };
            write!(f, "; monthly {unit} {n} is beyond the last volume band")?;
        }
        write!(f, "; {} message(s) affected) (RATE-4)", self.messages)
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum BillingError {
    #[error("{}", .0.iter().map(|m| m.to_string()).collect::<Vec<_>>().join("\n"))]
    MissingRates(Vec<MissingRate>),
    /// A line or the total beyond [`Money::MAX`](super::money::Money::MAX).
    #[error(transparent)]
    Overflow(#[from] super::money::Overflow),
}

/// The result of a replay.
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
