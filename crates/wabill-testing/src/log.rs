//! [`TestLog`]: a log with the accounts, rates and market table to replay it, ways to derive
//! other logs from it, its CSV and JSON Lines forms, and [`Bill`], a replay that compares with
//! `==` across replays.

use wabill_core::accounts::Accounts;
use wabill_core::engine::{
    self, BillingError, ChatKey, Context, Event, Extras, Line, Replay, Unit,
};
use wabill_core::markets::MarketTable;
use wabill_core::money::Money;
use wabill_core::rates::{Cell, RateBook, RateCard};
use wabill_core::types::*;

use super::{market_table, rfc3339};

/// A log with everything the engine needs to replay it. `events[i].chat` indexes `chats`,
/// `events[i].country` indexes `countries`; `chats[c].user` indexes `users` (numbers as written
/// in a log) and `chats[c].number` indexes `numbers`. In generated and built logs `countries` is
/// parallel to `users` (user `u`'s rows have country `u`).
#[derive(Clone)]
pub struct TestLog {
    pub events: Vec<Event>,
    pub chats: Vec<ChatKey>,
    pub countries: Vec<Country>,
    pub users: Vec<String>,
    pub numbers: Vec<String>,
    pub accounts: Accounts,
    pub rates: RateBook,
    pub markets: MarketTable,
}

/// One business message's bill, comparable across replays: names instead of table indices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageBill {
    pub row: u32,
    pub reason: Option<Reason>,
    pub rule: Option<&'static str>,
    pub rulebook: Option<Rulebook>,
    pub billed: Option<Billed>,
    pub unit: Unit,
    /// Opening instant of the conversation or free entry point window it belongs to.
    pub conversation: Option<i64>,
    pub price: Money,
    pub market: String,
    /// `YYYY-MM` in the WABA's time zone.
    pub month: String,
}

/// A replay's bill: total, lines, one [`MessageBill`] per event (indexed like the events; inbound
/// rows have no reason), issues as `(row, code)` in CONV-1 order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bill {
    pub total: Money,
    pub lines: Vec<Line>,
    pub messages: Vec<MessageBill>,
    pub issues: Vec<(u32, &'static str)>,
}

impl TestLog {
    /// An empty log with one WABA `default` in UTC, the project's market table and no rates.
    pub fn empty() -> TestLog {
        TestLog {
            events: Vec::new(),
            chats: Vec::new(),
            countries: Vec::new(),
            users: Vec::new(),
            numbers: Vec::new(),
            accounts: Accounts::default_single(),
            rates: RateBook::default(),
            markets: market_table(),
        }
    }

    /// The index of a chat, added if new (CONV-3).
    pub fn chat(&mut self, waba: u16, number: u32, user: u32) -> u32 {
        let key = ChatKey {
            waba,
            group: false,
            number,
            user,
        };
        match self.chats.iter().position(|c| *c == key) {
            Some(i) => i as u32,
            None => {
                self.chats.push(key);
                self.chats.len() as u32 - 1
            }
        }
    }

    /// Adds a row at `ts` in chat `chat` (an index into `chats`) as the last row of the file;
    /// returns its event index. The user's country is the one of the user's other rows.
    pub fn add_row(&mut self, ts: i64, chat: u32, kind: Kind) -> usize {
        let user = self.chats[chat as usize].user;
        let country = self
            .events
            .iter()
            .find(|e| self.chats[e.chat as usize].user == user)
            .map(|e| e.country)
            .unwrap_or(user as u16);
        let row = self.events.iter().map(|e| e.row).max().unwrap_or(0) + 1;
        self.events.push(Event {
            ts,
            row,
            chat,
            country,
            kind,
        });
        self.events.len() - 1
    }

    /// The engine's context for this log.
    pub fn context(&self, forced: Option<Rulebook>) -> Context<'_> {
        Context {
            accounts: &self.accounts,
            rates: &self.rates,
            markets: &self.markets,
            forced,
            rates_at: None,
        }
    }

    /// Replays the log with the real engine; `forced` is `--rulebook` (`None` = by date).
    pub fn replay(&self, forced: Option<Rulebook>) -> Result<Replay, BillingError> {
        engine::replay(
            &self.events,
            &self.chats,
            &self.countries,
            &Extras::default(),
            &self.context(forced),
        )
    }

    /// [`TestLog::replay`] and [`TestLog::bill`] in one.
    pub fn bill_of(&self, forced: Option<Rulebook>) -> Result<Bill, BillingError> {
        self.replay(forced).map(|r| self.bill(&r))
    }

    /// The comparable view of a replay of this log.
    pub fn bill(&self, r: &Replay) -> Bill {
        let messages = self
            .events
            .iter()
            .zip(&r.outcomes)
            .map(|(e, o)| {
                let waba = self.chats[e.chat as usize].waba;
                MessageBill {
                    row: e.row,
                    reason: o.reason,
                    rule: o.rule.map(|r| r.id()),
                    rulebook: o.rulebook,
                    billed: o.billed,
                    unit: o.unit,
                    conversation: o.conv_start,
                    price: o.price,
                    market: self.markets.name(o.market).to_string(),
                    month: r.month_of(waba, o),
                }
            })
            .collect();
        Bill {
            total: r.total,
            lines: r.lines.clone(),
            messages,
            issues: r
                .issues
                .iter()
                .map(|i| (self.events[i.event as usize].row, i.code))
                .collect(),
        }
    }

    /// The same accounts, rates and tables with other events (e.g. a subset, or shuffled).
    pub fn with_events(&self, events: Vec<Event>) -> TestLog {
        TestLog {
            events,
            ..self.clone()
        }
    }

    /// The users (indices into `users`) that have rows.
    pub fn users_with_rows(&self) -> Vec<u32> {
        let mut u: Vec<u32> = self
            .events
            .iter()
            .map(|e| self.chats[e.chat as usize].user)
            .collect();
        u.sort_unstable();
        u.dedup();
        u
    }

    /// Only one user's rows (over all WABAs and business numbers).
    pub fn only_user(&self, user: u32) -> TestLog {
        self.with_events(
            self.events
                .iter()
                .filter(|e| self.chats[e.chat as usize].user == user)
                .copied()
                .collect(),
        )
    }

    /// Every instant moved by `micros`.
    pub fn shifted(&self, micros: i64) -> TestLog {
        self.with_events(
            self.events
                .iter()
                .map(|e| Event {
                    ts: e.ts + micros,
                    ..*e
                })
                .collect(),
        )
    }

    /// The same cards without their volume-tier tables: everything at list price.
    pub fn without_tiers(&self) -> TestLog {
        let cards = self
            .rates
            .cards
            .iter()
            .map(|c| {
                let mut n = RateCard::new(&c.currency, c.effective, &c.source);
                for (m, cells) in c.markets() {
                    for col in RateColumn::ALL {
                        if c.columns[col.index()] {
                            n.set(*m, col, cells[col.index()]);
                        }
                    }
                }
                n.columns = c.columns;
                n
            })
            .collect();
        TestLog {
            rates: RateBook::new(cards),
            ..self.clone()
        }
    }

    /// Whether any card has a tier table.
    pub fn has_tiers(&self) -> bool {
        self.rates
            .cards
            .iter()
            .any(|c| c.tier_tables().next().is_some())
    }

    /// The highest rate of the given columns on any card and market (list rates; tier rates
    /// never exceed them in generated books).
    pub fn max_rate(&self, columns: &[RateColumn]) -> Money {
        self.rates
            .cards
            .iter()
            .flat_map(|c| {
                c.markets().flat_map(move |(_, cells)| {
                    columns
                        .iter()
                        .filter_map(move |col| match cells[col.index()] {
                            Cell::Rate(m) => Some(m),
                            _ => None,
                        })
                })
            })
            .max()
            .unwrap_or(Money::ZERO)
    }

    /// The WABA of an event.
    pub fn waba_of(&self, event: &Event) -> u16 {
        self.chats[event.chat as usize].waba
    }

    /// Event indices in CONV-1 order (UTC instant, then row).
    pub fn conv1_order(&self) -> Vec<usize> {
        let mut o: Vec<usize> = (0..self.events.len()).collect();
        o.sort_by_key(|&i| (self.events[i].ts, self.events[i].row));
        o
    }

    /// The log as a CSV file (formats.md §1), rows in row order, with an explicit `country`
    /// column (MKT-3): `wabill replay` on it, with the same accounts and rates, bills the same.
    pub fn to_csv(&self) -> String {
        let mut out = String::from(
            "timestamp,direction,user,type,category,status,entry_point,waba,number,country\n",
        );
        for e in self.rows_in_order() {
            let [ts, dir, user, ty, cat, st, ep, waba, number, country] = self.fields(e);
            out.push_str(&format!(
                "{ts},{dir},{user},{ty},{cat},{st},{ep},{waba},{number},{country}\n"
            ));
        }
        out
    }

    /// The log as JSON Lines (formats.md §1), same content as [`TestLog::to_csv`].
    pub fn to_jsonl(&self) -> String {
        let mut out = String::new();
        for e in self.rows_in_order() {
            // Every column but `id`.
            let obj: serde_json::Map<String, serde_json::Value> = LOG_COLUMNS[..10]
                .iter()
                .zip(self.fields(e))
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| (k.to_string(), serde_json::Value::String(v)))
                .collect();
            out.push_str(&serde_json::Value::Object(obj).to_string());
            out.push('\n');
        }
        out
    }

    fn rows_in_order(&self) -> Vec<&Event> {
        let mut rows: Vec<&Event> = self.events.iter().collect();
        rows.sort_by_key(|e| e.row);
        rows
    }

    fn fields(&self, e: &Event) -> [String; 10] {
        let chat = self.chats[e.chat as usize];
        let (dir, ty, cat, st, ep) = match e.kind {
            Kind::In { entry_point } => ("in", "", "", "", if entry_point { "ctwa" } else { "" }),
            Kind::Out { template, status } => (
                "out",
                if template.is_some() {
                    "template"
                } else {
                    "text"
                },
                template.map(|c| c.id()).unwrap_or(""),
                status.id(),
                "",
            ),
            Kind::Bot { bot, status } => ("out", "text", bot.id(), status.id(), ""),
            Kind::Call { by_user: true, .. } => ("in", "call", "", "", ""),
            Kind::Call { accepted, .. } => (
                "out",
                "call",
                "",
                if accepted { "accepted" } else { "missed" },
                "",
            ),
        };
        [
            rfc3339(e.ts),
            dir.into(),
            self.users
                .get(chat.user as usize)
                .cloned()
                .unwrap_or_default(),
            ty.into(),
            cat.into(),
            st.into(),
            ep.into(),
            self.accounts.wabas[chat.waba as usize].id.clone(),
            self.numbers
                .get(chat.number as usize)
                .cloned()
                .unwrap_or_default(),
            self.countries[e.country as usize].to_string(),
        ]
    }
}
