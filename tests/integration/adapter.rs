//! Runs the real engine on the reference model's inputs and checks both agree: every model
//! test is also an engine test (model-based testing).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

use wabill::billing::accounts::{Accounts, Portfolio, Waba};
use wabill::billing::calendar::local_date;
use wabill::billing::engine::{self, ChatKey, Context, Event, Replay, Unit};
use wabill::billing::markets::MarketTable;
use wabill::billing::money::Money;
use wabill::billing::rates::{Band, Cell, RateBook, RateCard};
use wabill::billing::types::*;
use wabill::io::market_map::parse_market_map;
use wabill_testing::TestLog;

use super::model::*;

pub type Bands = Vec<(u64, Option<u64>, Decimal)>;

/// A rate source the adapter can enumerate (date-independent, like the model tests' rates).
pub trait RateSource: MRates {
    fn entries(&self) -> Vec<(String, String, Option<Decimal>)>;
    fn tier_entries(&self) -> Vec<(String, String, Bands)>;
}

#[derive(Debug, Clone, PartialEq)]
pub struct Comparable {
    pub outcomes: Vec<(usize, String, String, String, Decimal, Option<bool>)>,
    pub unit_places: Vec<(usize, String, String)>,
    pub issues: Vec<(String, usize)>,
    pub lines: Vec<(String, String, String, String, String, u64, u64, Decimal)>,
    pub total: Decimal,
}

pub fn from_model(r: &MResult) -> Comparable {
    Comparable {
        outcomes: r
            .outcomes
            .iter()
            .map(|o| {
                (
                    o.row,
                    o.rulebook.clone(),
                    o.billed_as.clone(),
                    o.reason.clone(),
                    o.price.normalize(),
                    o.unit,
                )
            })
            .collect(),
        unit_places: r
            .outcomes
            .iter()
            .filter(|o| o.unit.is_some())
            .map(|o| (o.row, o.month.clone(), o.market.clone()))
            .collect(),
        issues: r.issues.iter().map(|i| (i.code.clone(), i.row)).collect(),
        lines: r
            .lines
            .iter()
            .map(|l| {
                (
                    l.month.clone(),
                    l.waba.clone(),
                    l.market.clone(),
                    l.category.clone(),
                    l.rulebook.clone(),
                    l.charged,
                    l.free,
                    l.cost.normalize(),
                )
            })
            .collect(),
        total: r.total.normalize(),
    }
}

fn money(d: Decimal) -> Money {
    Money::from_decimal(d).expect("test rates are exact")
}

/// Price the model's events with the real engine. `Err` = some rate is missing (RATE-4).
pub fn engine_run(
    events: &[MEvent],
    acc: &MAccounts,
    rates: &dyn RateSource,
    forced: Option<&str>,
) -> Result<Comparable, String> {
    // Market table from the events' (country, market) pairs.
    let mut map = String::from(
        "country_iso2,calling_code,market,network_prefixes,country_name,valid_from,valid_to,source\n",
    );
    let mut seen = Vec::new();
    for e in events {
        if !seen.contains(&e.country) {
            seen.push(e.country.clone());
            map.push_str(&format!("{},0,{},,,,,\n", e.country, e.market));
        }
    }
    map.push_str("*,*,Other,,,,,\n");
    let mut markets = parse_market_map(&map).expect("market table");

    let mut card = RateCard::new("USD", NaiveDate::from_ymd_opt(2000, 1, 1).unwrap(), "test");
    for (m, c, r) in rates.entries() {
        let mid = markets.intern(&m);
        let col = RateColumn::from_id(&c).expect("column id");
        card.set(
            mid,
            col,
            r.map(|d| Cell::Rate(money(d))).unwrap_or(Cell::NotOffered),
        );
    }
    for (m, c, bands) in rates.tier_entries() {
        let mid = markets.intern(&m);
        let col = RateColumn::from_id(&c).expect("column id");
        card.set_tiers(
            mid,
            col,
            bands
                .into_iter()
                .map(|(from, to, r)| Band {
                    from,
                    to,
                    rate: money(r),
                })
                .collect(),
        );
    }
    let book = RateBook::new(vec![card]);
    let accounts = Accounts {
        portfolio: Portfolio {
            name: String::new(),
            ai_provider: false,
            primary_country: acc.primary_country.as_deref().and_then(Country::parse),
            auth_international_start: acc.auth_intl_start.map(|t| t.timestamp_micros()),
            auth_international_exceptions: acc
                .auth_intl_exceptions
                .iter()
                .map(|(c, t)| (Country::parse(c).unwrap(), t.timestamp_micros()))
                .collect(),
        },
        wabas: acc
            .wabas
            .iter()
            .map(|w| Waba {
                id: w.id.clone(),
                tz: w.tz,
                currency: "USD".into(),
            })
            .collect(),
        provider: None,
        currency_choice: None,
        max_prices: Vec::new(),
    };
    let mut chats: Vec<ChatKey> = Vec::new();
    let mut chat_ix: HashMap<(String, String, String), u32> = HashMap::new();
    let mut countries: Vec<Country> = Vec::new();
    let mut numbers: HashMap<String, u32> = HashMap::new();
    let mut users: HashMap<String, u32> = HashMap::new();
    let mut evs = Vec::new();
    for e in events {
        let waba = acc.wabas.iter().position(|w| w.id == e.waba).expect("waba") as u16;
        let nn = numbers.len() as u32;
        let number = *numbers.entry(e.number.clone()).or_insert(nn);
        let nu = users.len() as u32;
        let user = *users.entry(e.user.clone()).or_insert(nu);
        let nc = chats.len() as u32;
        let chat = *chat_ix
            .entry((e.waba.clone(), e.number.clone(), e.user.clone()))
            .or_insert_with(|| {
                chats.push(ChatKey {
                    waba,
                    group: false,
                    number,
                    user,
                });
                nc
            });
        let c = Country::parse(&e.country).expect("country");
        let country = match countries.iter().position(|x| *x == c) {
            Some(i) => i as u16,
            None => {
                countries.push(c);
                (countries.len() - 1) as u16
            }
        };
        let kind = match &e.dir {
            MDir::In { entry_point } => Kind::In {
                entry_point: *entry_point,
            },
            MDir::Out {
                template,
                delivered,
            } => Kind::Out {
                template: template
                    .as_deref()
                    .map(|t| TemplateCategory::parse(t).expect("category")),
                status: if *delivered {
                    Status::Delivered
                } else {
                    Status::Failed
                },
            },
        };
        evs.push(Event {
            ts: e.ts.timestamp_micros(),
            row: e.row as u32,
            chat,
            country,
            kind,
        });
    }
    let ctx = Context {
        accounts: &accounts,
        rates: &book,
        markets: &markets,
        forced: forced.map(|f| f.parse().expect("rulebook")),
        rates_at: None,
    };
    let r = engine::replay(&evs, &chats, &countries, &Default::default(), &ctx)
        .map_err(|e| e.to_string())?;
    Ok(comparable(&evs, &chats, &markets, &r))
}

/// The engine's replay in the terms of the model's result.
fn comparable(evs: &[Event], chats: &[ChatKey], markets: &MarketTable, r: &Replay) -> Comparable {
    let mut outcomes = Vec::new();
    let mut unit_places = Vec::new();
    for &ei in &r.order {
        let e = &evs[ei as usize];
        if matches!(e.kind, Kind::In { .. }) {
            continue;
        }
        let o = &r.outcomes[ei as usize];
        let unit = match o.unit {
            Unit::None => None,
            Unit::Free => Some(false),
            Unit::Charged | Unit::Unpriced => Some(true),
        };
        let shows_billed = o.reason != Some(Reason::NotDelivered);
        outcomes.push((
            e.row as usize,
            o.rulebook.map(|r| r.id()).unwrap_or("").to_string(),
            if shows_billed {
                o.billed.map(|b| b.id()).unwrap_or("").to_string()
            } else {
                String::new()
            },
            o.reason.map(|r| r.id()).unwrap_or("").to_string(),
            o.price.to_decimal().normalize(),
            unit,
        ));
        if unit.is_some() {
            let waba = chats[e.chat as usize].waba;
            unit_places.push((
                e.row as usize,
                r.month_of(waba, o),
                markets.name(o.market).to_string(),
            ));
        }
    }
    let rows: HashMap<u32, usize> = evs
        .iter()
        .enumerate()
        .map(|(i, e)| (i as u32, e.row as usize))
        .collect();
    Comparable {
        outcomes,
        unit_places,
        issues: r
            .issues
            .iter()
            .map(|i| (i.code.to_string(), rows[&i.event]))
            .collect(),
        lines: r
            .lines
            .iter()
            .map(|l| {
                (
                    l.month.clone(),
                    l.waba.clone(),
                    l.market.clone(),
                    l.category.to_string(),
                    l.rulebook.to_string(),
                    l.charged,
                    l.free,
                    l.cost.to_decimal().normalize(),
                )
            })
            .collect(),
        total: r.total.to_decimal().normalize(),
    }
}

/// Run the reference model and the engine; panic if they disagree; return the model's result.
pub fn both(
    events: &[MEvent],
    acc: &MAccounts,
    rates: &dyn RateSource,
    forced: Option<&str>,
) -> Result<MResult, MissingRate> {
    let model = replay(events, acc, rates, forced);
    let engine = engine_run(events, acc, rates, forced);
    agree(&model, &engine);
    model
}

/// Panics if the model's and the engine's results differ.
fn agree(model: &Result<MResult, MissingRate>, engine: &Result<Comparable, String>) {
    match (model, engine) {
        (Ok(m), Ok(e)) => {
            let m = from_model(m);
            assert_eq!(
                m.outcomes, e.outcomes,
                "model vs engine: per-message outcomes"
            );
            assert_eq!(
                m.unit_places, e.unit_places,
                "model vs engine: unit month/market"
            );
            assert_eq!(m.issues, e.issues, "model vs engine: issues");
            assert_eq!(m.lines, e.lines, "model vs engine: lines");
            assert_eq!(m.total, e.total, "model vs engine: total");
        }
        (Err(_), Err(_)) => {}
        (m, e) => panic!(
            "model and engine disagree on missing rates: model {:?}, engine {:?}",
            m.as_ref().err(),
            e.as_ref().err()
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// Generated logs (wabill_testing) seen by the model
// ---------------------------------------------------------------------------------------------

/// The rate book of a generated log, as the model reads it: the card in force on the WABA-local
/// date (RATE-1). A blank authentication-international cell counts as "the market has such a
/// rate" (README: the rules), as in the engine; generated books have no blank cells.
pub struct BookRates<'a>(pub &'a TestLog);

impl BookRates<'_> {
    fn card(
        &self,
        market: &str,
        column: &str,
        date: NaiveDate,
    ) -> Option<(&RateCard, u16, RateColumn)> {
        let log = self.0;
        let card = log.rates.card_at(wabill_testing::CURRENCY, date)?;
        Some((
            &log.rates.cards[card],
            log.markets.id(market)?,
            RateColumn::from_id(column).expect("column id"),
        ))
    }
}

impl MRates for BookRates<'_> {
    fn rate(&self, market: &str, column: &str, local_date: NaiveDate) -> Option<Decimal> {
        let (card, m, col) = self.card(market, column, local_date)?;
        card.rate(m, col).map(|r| r.to_decimal())
    }
    fn has_column(&self, market: &str, column: &str, local_date: NaiveDate) -> bool {
        self.card(market, column, local_date)
            .is_some_and(|(card, m, col)| !matches!(card.cell(m, col), Cell::NotOffered))
    }
    fn tiers(&self, market: &str, column: &str, local_date: NaiveDate) -> Option<Bands> {
        let (card, m, col) = self.card(market, column, local_date)?;
        card.tiers(m, col).map(|bands| {
            bands
                .iter()
                .map(|b| (b.from, b.to, b.rate.to_decimal()))
                .collect()
        })
    }
}

/// A generated log as the model's events and accounts. Markets are resolved on each row's
/// WABA-local date (MKT-2), as the model expects.
pub fn model_inputs(log: &TestLog) -> (Vec<MEvent>, MAccounts) {
    let utc = |ts: i64| DateTime::<Utc>::from_timestamp_micros(ts).expect("instant in range");
    let p = &log.accounts.portfolio;
    let acc = MAccounts {
        wabas: log
            .accounts
            .wabas
            .iter()
            .map(|w| MWaba {
                id: w.id.clone(),
                tz: w.tz,
            })
            .collect(),
        primary_country: p.primary_country.map(|c| c.to_string()),
        auth_intl_start: p.auth_international_start.map(utc),
        auth_intl_exceptions: p
            .auth_international_exceptions
            .iter()
            .map(|(c, t)| (c.to_string(), utc(*t)))
            .collect(),
    };
    let events = log
        .events
        .iter()
        .map(|e| {
            let chat = log.chats[e.chat as usize];
            let waba = &log.accounts.wabas[chat.waba as usize];
            let country = log.countries[e.country as usize];
            let market = log.markets.market_of(country, local_date(waba.tz, e.ts));
            MEvent {
                row: e.row as usize,
                ts: utc(e.ts),
                waba: waba.id.clone(),
                number: log.numbers[chat.number as usize].clone(),
                user: log.users[chat.user as usize].clone(),
                country: country.to_string(),
                market: log.markets.name(market).to_string(),
                dir: match e.kind {
                    Kind::In { entry_point } => MDir::In { entry_point },
                    Kind::Out { template, status } => MDir::Out {
                        template: template.map(|c| c.id().to_string()),
                        delivered: status.is_delivered(),
                    },
                    other => unreachable!("the model's logs hold no {other:?}"),
                },
            }
        })
        .collect();
    (events, acc)
}

/// Replays a generated log with the engine and with the model; panics if they disagree.
/// Returns whether the replay succeeded (no missing rate).
pub fn both_generated(log: &TestLog, forced: Option<Rulebook>) -> bool {
    let (events, acc) = model_inputs(log);
    let model = replay(&events, &acc, &BookRates(log), forced.map(|r| r.id()));
    let engine = log
        .replay(forced)
        .map(|r| comparable(&log.events, &log.chats, &log.markets, &r))
        .map_err(|e| e.to_string());
    agree(&model, &engine);
    engine.is_ok()
}
