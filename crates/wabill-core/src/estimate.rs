//! Estimates for finance: a monthly bill from message volumes, without any per-user traffic.
//!
//! Input is a list of volumes — month, market, category, number of messages, optionally the
//! WABA — and the output is what Meta would bill for them under the per-message rulebooks
//! (`pmp-2025`, `pmp-2026`): the card in force on the month's first day (RATE-1), list rates,
//! graduated volume tiers (PMP-4) and, under `pmp-2026`, the service allowance (PMP-5).
//!
//! What a volume means: the messages Meta will **charge** (delivered templates outside the
//! free windows: an estimate cannot know which utility messages would fall inside a customer
//! service window, or which replies inside a free entry point window). The one exception is
//! `service`: give all delivered non-template messages; `pmp-2025` makes them free (PMP-2),
//! `pmp-2026` charges them after the monthly allowance (PMP-5) computed here.
//!
//! Counters that span rows — PMP-4 tiers per portfolio × market × category group × month
//! (authentication and authentication-international share one), PMP-5 allowance per WABA ×
//! month — are used by the rows **in the order given**, as if each row's messages came before
//! the next row's. They and the tier bands are the replay's own (`pricing::tiers`,
//! `pricing::allowance`). That only matters when several rows share a counter. Conversation-based
//! months (before 2025-07-01 unless a rulebook is forced) cannot be estimated from message
//! volumes and are refused.

use chrono::NaiveDate;

use super::calendar::{local_midnight, month_key, month_label};
use super::context::{replay_currency, Context};
use super::ids::Rule;
use super::markets::{MarketId, MarketTable};
use super::model::{Line, MissingRate};
use super::money::{Money, Overflow};
use super::pricing::allowance::{ServiceAllowance, PMP_SERVICE_ALLOWANCE};
use super::pricing::calls::{CallCounters, PULSES_PER_MINUTE};
use super::pricing::tiers::{graduated, TierCounters, Unpriced};
use super::pricing::MissingRates;
use super::rates::{Cell, RateCard};
use super::rulebook::{rulebook_on, Rulebook};
use super::types::{normalize_name, Billed, Country, RateColumn};

pub use super::pricing::tiers::BandUse;

/// One volume as written: where it came from (for errors) and its fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volume {
    /// `volume[3]` (file) or `--volume #2` (flag): names the row in errors.
    pub origin: String,
    /// `YYYY-MM`, in the WABA's time zone.
    pub month: String,
    /// Rate-card market name (`India`, `Rest of Africa`), case-insensitive.
    pub market: String,
    /// `marketing`, `utility`, `authentication`, `authentication_international`, `service`,
    /// the group categories (GRP-1: `group_marketing`, `group_utility`, `group_service`, member
    /// deliveries), `meta_business_agent` (MBA-1), `general_purpose_ai` (AIP-1) or `call`
    /// (CALL-3).
    pub category: String,
    /// The units the category is priced in: messages (member deliveries for groups); **tokens**
    /// for `meta_business_agent`; **minutes** of business-initiated calls for `call`.
    pub messages: u64,
    /// MAXP-1: a marketing volume sent with this max price: priced at it, an upper bound.
    pub max_price: Option<Money>,
    /// WABA id from the accounts file; empty = the default WABA.
    pub waba: String,
}

/// The volumes of an estimate (an estimate file, `wabill::io::volumes_file`, or `--volume` flags).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volumes {
    pub volumes: Vec<Volume>,
    /// Business numbers per WABA that send service messages (PMP-5 allowance: 1,000 each).
    pub service_numbers: u32,
}

impl Default for Volumes {
    fn default() -> Self {
        Volumes {
            volumes: Vec::new(),
            service_numbers: 1,
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EstimateError {
    /// The file's syntax or a missing key, as the reader at the edge reports it.
    #[error("volumes: {0}")]
    Syntax(String),
    #[error("volumes: `{key}` = `{value}`: {message}")]
    Value {
        key: String,
        value: String,
        message: String,
    },
    #[error("volumes: `{key}`: {month} is under {rulebook}, which bills conversations, not messages; an estimate needs a per-message rulebook (force one with --rulebook pmp-2025 or pmp-2026)")]
    NotPerMessage {
        key: String,
        month: String,
        rulebook: &'static str,
    },
    #[error("{}", .0.iter().map(|m| m.to_string()).collect::<Vec<_>>().join("\n"))]
    MissingRates(Vec<MissingRate>),
    /// An amount of the estimate beyond [`Money::MAX`].
    #[error("volumes: `{key}`: {amount}")]
    Overflow { key: String, amount: Overflow },
}

/// The most messages one volume can have: 10¹² a month (a thousand times the largest senders).
pub const MAX_MESSAGES: u64 = 1_000_000_000_000;

fn value_err(key: &str, value: impl ToString, message: impl Into<String>) -> EstimateError {
    EstimateError::Value {
        key: key.to_string(),
        value: value.to_string(),
        message: message.into(),
    }
}

impl Volumes {
    /// Business numbers per WABA an estimate can name.
    pub const SERVICE_NUMBERS: std::ops::RangeInclusive<u64> = 1..=100_000;

    /// `service_numbers` (PMP-5: each number has its own allowance); `shown` is the value as
    /// written, for the message.
    pub fn set_service_numbers(&mut self, n: u64, shown: &str) -> Result<(), EstimateError> {
        if !Self::SERVICE_NUMBERS.contains(&n) {
            return Err(value_err(
                "service_numbers",
                shown,
                "expected between 1 and 100000",
            ));
        }
        self.service_numbers = n as u32;
        Ok(())
    }
}

impl Volume {
    /// A volume from the command line: `MONTH,MARKET,CATEGORY,MESSAGES[,WABA]`, e.g.
    /// `2026-10,India,utility,250000`. `n` numbers the flag (from 1) for errors.
    pub fn parse_flag(s: &str, n: usize) -> Result<Volume, EstimateError> {
        let origin = format!("--volume #{n}");
        let parts: Vec<&str> = s.split(',').map(str::trim).collect();
        // `300,000`: a thousands separator would shift the fields.
        if parts.len() >= 5
            && parts[3].bytes().all(|b| b.is_ascii_digit())
            && parts[4].len() == 3
            && parts[4].bytes().all(|b| b.is_ascii_digit())
        {
            return Err(value_err(
                &format!("{origin} messages"),
                s,
                format!(
                    "`{},{}` looks like a number with a thousands separator, which splits the volume's fields: write {}{} (or {}_{})",
                    parts[3], parts[4], parts[3], parts[4], parts[3], parts[4]
                ),
            ));
        }
        if !(4..=5).contains(&parts.len()) {
            return Err(value_err(
                &origin,
                s,
                "expected MONTH,MARKET,CATEGORY,MESSAGES[,WABA], e.g. 2026-10,India,utility,250000",
            ));
        }
        let messages = parts[3].replace('_', "").parse().map_err(|_| {
            value_err(
                &format!("{origin} messages"),
                parts[3],
                "expected a whole number of messages",
            )
        })?;
        Ok(Volume {
            origin,
            month: parts[0].into(),
            market: parts[1].into(),
            category: parts[2].into(),
            messages,
            max_price: None,
            waba: parts.get(4).unwrap_or(&"").to_string(),
        })
    }
}

/// One priced volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EstimateLine {
    /// month, waba, market, billed category, rulebook, charged and free messages, cost.
    pub line: Line,
    pub messages: u64,
    /// The rule behind the price: `PMP-1` list rate, `PMP-4` tiers, `PMP-2` free service,
    /// `PMP-5` service after the allowance.
    pub rule: &'static str,
    /// The card in force on the month's first day.
    pub card: Option<NaiveDate>,
    /// How the charged messages were priced (list rate or tier bands), in count order.
    pub bands: Vec<BandUse>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Estimate {
    pub currency: String,
    /// Sorted like a replay's lines (month, waba, market, category); rows with the same key
    /// stay in input order.
    pub lines: Vec<EstimateLine>,
    pub total: Money,
    /// What the estimate assumed where volumes cannot say (PMP-6 for a market whose countries
    /// are partly international).
    pub notes: Vec<String>,
}

/// A rate-card market by Meta's name (any case), or the market of a country given by its ISO
/// code (`US`) or English name (`United States`) on `date` (MKT-2).
fn market_id(markets: &MarketTable, name: &str, date: NaiveDate) -> Option<MarketId> {
    let name = name.trim();
    markets
        .id(name)
        .or_else(|| {
            (0..markets.len() as MarketId).find(|&i| markets.name(i).eq_ignore_ascii_case(name))
        })
        .or_else(|| {
            let iso = Country::parse(name).filter(|c| name.len() == 2 && markets.lists(*c));
            iso.or_else(|| markets.country_by_name(name))
                .map(|c| markets.market_of(c, date))
        })
}

/// One volume, checked: where and under what it is billed.
struct Checked {
    /// The month's first day.
    date: NaiveDate,
    month: u32,
    waba: usize,
    market: MarketId,
    col: RateColumn,
    /// GRP-1: a group category (priced at `col`'s 1:1 rate).
    group: Option<Billed>,
    rulebook: Rulebook,
}

/// What an estimate line is billed as, beyond its rate column: GRP-1's group categories.
fn group_of(category: &str) -> Option<(Billed, RateColumn)> {
    Some(match category {
        "group_marketing" => (Billed::GroupMarketing, RateColumn::Marketing),
        "group_utility" => (Billed::GroupUtility, RateColumn::Utility),
        "group_service" => (Billed::GroupService, RateColumn::Service),
        _ => return None,
    })
}

/// Check a volume's month, WABA, market and category, and find its (per-message) rulebook.
fn check(v: &Volume, ctx: &Context) -> Result<Checked, EstimateError> {
    let key = |f: &str| format!("{}.{f}", v.origin);
    if v.messages > MAX_MESSAGES {
        return Err(value_err(
            &key("messages"),
            v.messages,
            format!(
                "more than {MAX_MESSAGES} messages a month (10^12), the most an estimate takes"
            ),
        ));
    }
    let date = NaiveDate::parse_from_str(&format!("{}-01", v.month), "%Y-%m-%d")
        .map_err(|_| value_err(&key("month"), &v.month, "expected a month YYYY-MM"))?;
    let waba = ctx.accounts.waba_index(&v.waba).ok_or_else(|| {
        value_err(
            &key("waba"),
            &v.waba,
            format!(
                "unknown WABA (the accounts file defines: {})",
                ctx.accounts
                    .wabas
                    .iter()
                    .map(|w| w.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    })?;
    let market = market_id(ctx.markets, &v.market, date).ok_or_else(|| {
        value_err(
            &key("market"),
            &v.market,
            "unknown market or country (a market of the rate cards, see `wabill rates show`, or a country's ISO code or English name)",
        )
    })?;
    let name = normalize_name(&v.category);
    let group = group_of(&name);
    let col = group
        .map(|g| g.1)
        .or_else(|| RateColumn::from_id(&name))
        .filter(|c| {
            !matches!(
                c,
                RateColumn::BusinessInitiated | RateColumn::UserInitiated
            )
        })
        .ok_or_else(|| {
            value_err(
                &key("category"),
                &v.category,
                "expected marketing, utility, authentication, authentication_international, service, group_marketing, group_utility, group_service, meta_business_agent (tokens), general_purpose_ai or call (minutes)",
            )
        })?;
    if v.max_price.is_some() && (col != RateColumn::Marketing) {
        return Err(value_err(
            &key("max_price"),
            v.max_price.map(|m| m.to_string()).unwrap_or_default(),
            "a max price is only for marketing volumes (MAXP-1)",
        ));
    }
    let rulebook = match ctx.forced.or_else(|| rulebook_on(date)) {
        Some(r) if !r.is_cbp() => r,
        other => {
            return Err(EstimateError::NotPerMessage {
                key: key("month"),
                month: v.month.clone(),
                rulebook: other.map_or("no rulebook", |r| r.id()),
            })
        }
    };
    Ok(Checked {
        date,
        month: month_key(date),
        waba,
        market,
        col,
        group: group.map(|g| g.0),
        rulebook,
    })
}

/// The counters that span volumes, used in the order given: the same as the replay's.
struct Counters {
    /// PMP-4, per portfolio × market × category group × month.
    tiers: TierCounters,
    /// PMP-5, per WABA × month: one allowance per service number.
    allowance: ServiceAllowance<(usize, u32)>,
    /// CALL-3: pulses per market and month.
    calls: CallCounters,
}

/// Why a volume has no price.
enum NoPrice {
    /// RATE-4: (first count beyond a tier table, messages without a rate).
    Missing(Option<u64>, u64),
    Overflow(Overflow),
}

/// How a volume's messages are priced.
struct Priced {
    rule: Rule,
    charged: u64,
    free: u64,
    /// The bands, or why there are none.
    bands: Result<Vec<BandUse>, NoPrice>,
}

/// Price `n` messages of a checked volume with the card in force.
fn price(c: &Checked, v: &Volume, card: Option<&RateCard>, counters: &mut Counters) -> Priced {
    let n = v.messages;
    let all_charged = |rule, bands| Priced {
        rule,
        charged: n,
        free: 0,
        bands,
    };
    // GRP-1…3: member deliveries at the 1:1 list rates, outside the volume tiers.
    if let Some(g) = c.group {
        let rule = if g == Billed::GroupUtility {
            Rule::Grp3
        } else {
            Rule::Grp1
        };
        return all_charged(rule, list(card, c.market, c.col, n));
    }
    match c.col {
        // MAXP-1: what Meta charges is at most the max price: the bound.
        RateColumn::Marketing if v.max_price.is_some() => {
            let p = v.max_price.expect("checked");
            all_charged(
                Rule::Maxp1,
                p.times_or_overflow(n)
                    .map(|amount| {
                        vec![BandUse {
                            counts: None,
                            rate: p,
                            messages: n,
                            amount,
                        }]
                    })
                    .map_err(NoPrice::Overflow),
            )
        }
        RateColumn::MetaBusinessAgent => mba1_tokens(c, n, card),
        RateColumn::GeneralPurposeAi => all_charged(Rule::Aip1, list(card, c.market, c.col, n)),
        RateColumn::Call => call3_minutes(c, n, card, counters),
        RateColumn::Service if c.rulebook == Rulebook::Pmp2025 => Priced {
            // PMP-2: non-template messages are free.
            rule: Rule::Pmp2,
            charged: 0,
            free: n,
            bands: Ok(Vec::new()),
        },
        RateColumn::Service => {
            // PMP-5: the first 1,000 a month per business number are free.
            let free = counters.allowance.take((c.waba, c.month), n);
            Priced {
                rule: Rule::Pmp5,
                charged: n - free,
                free,
                bands: list(card, c.market, c.col, n - free),
            }
        }
        RateColumn::Marketing => all_charged(Rule::Pmp1, list(card, c.market, c.col, n)),
        _ => {
            // PMP-4: graduated bands per portfolio, market, category group and month.
            let first = counters.tiers.take(c.market, c.col, c.month, n);
            match card.and_then(|card| card.tiers(c.market, c.col)) {
                Some(bands) if n > 0 => all_charged(
                    Rule::Pmp4,
                    graduated(bands, first, n).map_err(|e| match e {
                        Unpriced::Beyond(k) => {
                            NoPrice::Missing(Some(k), first.saturating_add(n) - k)
                        }
                        Unpriced::Overflow(o) => NoPrice::Overflow(o),
                    }),
                ),
                _ if c.col == RateColumn::AuthenticationInternational => {
                    all_charged(Rule::Pmp6, list(card, c.market, c.col, n))
                }
                _ => all_charged(Rule::Pmp1, list(card, c.market, c.col, n)),
            }
        }
    }
}

/// MBA-1: `tokens` at the card's rate per million, rounded once; free before 2026-08-01.
fn mba1_tokens(c: &Checked, tokens: u64, card: Option<&RateCard>) -> Priced {
    if !crate::window::mba1_charged_in(c.month) {
        return Priced {
            rule: Rule::Mba1,
            charged: 0,
            free: tokens,
            bands: Ok(Vec::new()),
        };
    }
    let bands = match card.and_then(|k| k.rate(c.market, RateColumn::MetaBusinessAgent)) {
        None if tokens > 0 => Err(NoPrice::Missing(None, tokens)),
        None => Ok(Vec::new()),
        Some(rate) => rate
            .times_ratio(tokens, 1_000_000)
            .map(|amount| {
                vec![BandUse {
                    counts: None,
                    rate,
                    messages: tokens,
                    amount,
                }]
            })
            .ok_or_else(|| NoPrice::Overflow(Overflow(format!("{rate} × {tokens} tokens")))),
    };
    Priced {
        rule: Rule::Mba1,
        charged: tokens,
        free: 0,
        bands,
    }
}

/// CALL-3 for a volume of `minutes` of business calls: the minutes are counted into the
/// month's calling tiers and each minute is priced at its band (a volume does not say where
/// one call ends; the replay prices each call whole at the band of its last pulse, so the two
/// differ by at most one call per band crossed); list rate without a table.
fn call3_minutes(
    c: &Checked,
    minutes: u64,
    card: Option<&RateCard>,
    counters: &mut Counters,
) -> Priced {
    let pulses = minutes.saturating_mul(PULSES_PER_MINUTE);
    let first_pulse = counters
        .calls
        .take(c.market, c.month, pulses)
        .saturating_sub(pulses)
        + 1;
    let first_minute = first_pulse.div_ceil(PULSES_PER_MINUTE).max(1);
    let bands = match card.and_then(|k| k.tiers(c.market, RateColumn::Call)) {
        Some(bands) if minutes > 0 => {
            graduated(bands, first_minute, minutes).map_err(|e| match e {
                Unpriced::Beyond(k) => {
                    NoPrice::Missing(Some(k), first_minute.saturating_add(minutes) - k)
                }
                Unpriced::Overflow(o) => NoPrice::Overflow(o),
            })
        }
        _ => list(card, c.market, RateColumn::Call, minutes),
    };
    Priced {
        rule: Rule::Call3,
        charged: minutes,
        free: 0,
        bands,
    }
}

/// Prices `volumes` under the rulebook in force each month (or `ctx.forced`).
pub fn estimate(volumes: &Volumes, ctx: &Context) -> Result<Estimate, EstimateError> {
    let currency = replay_currency(ctx);
    let mut counters = Counters {
        tiers: TierCounters::default(),
        allowance: ServiceAllowance::new(
            u64::from(PMP_SERVICE_ALLOWANCE) * u64::from(volumes.service_numbers),
        ),
        calls: CallCounters::default(),
    };
    let mut missing = MissingRates::default();
    let mut lines = Vec::new();
    let mut notes = Vec::new();
    let newest = ctx
        .rates
        .cards
        .iter()
        .filter(|k| k.currency == currency)
        .map(|k| k.effective)
        .max();
    for v in &volumes.volumes {
        let mut c = check(v, ctx)?;
        let card: Option<&RateCard> = ctx
            .rates
            .card_at(&currency, c.date)
            .map(|i| &ctx.rates.cards[i]);
        if c.col == RateColumn::Authentication {
            if let Some(note) = pmp6(&mut c, card, ctx) {
                notes.push(format!("{}: {note}", v.origin));
            }
        }
        if let Some(card) = card {
            // A month after the newest card's: priced with it, and a newer one may come.
            let month_after = |d: NaiveDate| month_key(c.date) > month_key(d);
            if newest == Some(card.effective) && month_after(card.effective) {
                let note = format!(
                    "{} is priced with the {currency} rate card of {}, the newest in the rates folder; Meta may publish a newer card before then",
                    month_label(c.month),
                    card.effective
                );
                if !notes.contains(&note) {
                    notes.push(note);
                }
            }
        }
        let priced = price(&c, v, card, &mut counters);
        let overflow = |amount| EstimateError::Overflow {
            key: v.origin.clone(),
            amount,
        };
        let bands = match priced.bands {
            Ok(bands) => bands,
            Err(NoPrice::Overflow(o)) => return Err(overflow(o)),
            Err(NoPrice::Missing(beyond_tier, messages)) => {
                missing.add(MissingRate {
                    market: ctx.markets.name(c.market).to_string(),
                    category: c.col.id(),
                    date: c.date,
                    card: card.map(|c| c.effective),
                    beyond_tier,
                    messages,
                });
                Vec::new()
            }
        };
        let cost = Money::checked_sum(bands.iter().map(|b| b.amount))
            .ok_or_else(|| overflow(Overflow(format!("the cost of {} messages", v.messages))))?;
        lines.push(EstimateLine {
            line: Line {
                unpriced: 0,
                month: month_label(c.month),
                waba: ctx.accounts.wabas[c.waba].id.clone(),
                market: ctx.markets.name(c.market).to_string(),
                category: c.group.map_or(c.col.id(), Billed::id),
                rulebook: c.rulebook.id(),
                charged: priced.charged,
                free: priced.free,
                cost,
            },
            messages: v.messages,
            rule: priced.rule.id(),
            card: card.map(|c| c.effective),
            bands,
        });
    }
    if !missing.is_empty() {
        return Err(EstimateError::MissingRates(missing.into_vec()));
    }
    lines.sort_by(|a, b| {
        let (a, b) = (&a.line, &b.line);
        (&a.month, &a.waba, &a.market, a.category).cmp(&(&b.month, &b.waba, &b.market, b.category))
    });
    let total = Money::checked_sum(lines.iter().map(|l| l.line.cost)).ok_or_else(|| {
        EstimateError::Overflow {
            key: "total".into(),
            amount: Overflow(format!("the total of {} volume(s)", lines.len())),
        }
    })?;
    Ok(Estimate {
        currency,
        lines,
        total,
        notes,
    })
}

/// PMP-6, as the replay applies it: authentication messages to users whose country the
/// portfolio makes international (at the month's first instant in the WABA's zone) are billed
/// at the market's authentication-international rate when the card in force offers it. A volume
/// names a market, not a country: the market's countries decide when they agree (a one-country
/// market always does); when some are international and some not (the primary country's
/// market, or eligibility starting for some countries only), the volume stays domestic and the
/// returned note says to give the international share as `authentication_international`.
fn pmp6(c: &mut Checked, card: Option<&RateCard>, ctx: &Context) -> Option<String> {
    let offered = card.is_some_and(|card| {
        !matches!(
            card.cell(c.market, RateColumn::AuthenticationInternational),
            Cell::NotOffered
        )
    });
    if !offered {
        return None;
    }
    let ts = local_midnight(ctx.accounts.wabas[c.waba].tz, c.date);
    let (countries, fallback) = ctx.markets.countries_of(c.market, c.date);
    let mut applies: Vec<bool> = countries
        .iter()
        .map(|&k| ctx.accounts.auth_international_applies(k, ts))
        .collect();
    if fallback {
        // The unlisted countries of the fallback market: international once the portfolio is
        // eligible (none of them is the primary country, which the table lists).
        let p = &ctx.accounts.portfolio;
        applies.push(
            p.primary_country.is_some() && p.auth_international_start.is_some_and(|s| s <= ts),
        );
    }
    if !applies.is_empty() && applies.iter().all(|&a| a) {
        c.col = RateColumn::AuthenticationInternational;
        None
    } else if applies.iter().any(|&a| a) {
        Some(format!(
            "market {} holds countries both international and domestic for authentication-international (PMP-6): priced as domestic authentication; give the international share as authentication_international",
            ctx.markets.name(c.market)
        ))
    } else {
        None
    }
}

/// `n` messages at the list rate; [`NoPrice::Missing`] when the card has no such rate (RATE-4).
fn list(
    card: Option<&RateCard>,
    market: MarketId,
    col: RateColumn,
    n: u64,
) -> Result<Vec<BandUse>, NoPrice> {
    if n == 0 {
        return Ok(Vec::new());
    }
    let rate = card
        .and_then(|c| c.rate(market, col))
        .ok_or(NoPrice::Missing(None, n))?;
    Ok(vec![BandUse {
        counts: None,
        rate,
        messages: n,
        amount: rate.times_or_overflow(n).map_err(NoPrice::Overflow)?,
    }])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volume_flags_and_service_numbers_are_checked() {
        let f = Volume::parse_flag("2026-10, Rest of Africa ,utility,1_000,acme", 2).unwrap();
        assert_eq!(
            (
                f.market.as_str(),
                f.messages,
                f.waba.as_str(),
                f.origin.as_str()
            ),
            ("Rest of Africa", 1000, "acme", "--volume #2")
        );
        assert!(Volume::parse_flag("2026-10,India,utility", 1).is_err());
        let mut v = Volumes::default();
        assert!(v.set_service_numbers(100_001, "100001").is_err());
        v.set_service_numbers(3, "3").unwrap();
        assert_eq!(v.service_numbers, 3);
    }
}
