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
//! the next row's. That only matters when several rows share a counter. Conversation-based
//! months (before 2025-07-01 unless a rulebook is forced) cannot be estimated from message
//! volumes and are refused.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;

use super::calendar::{month_key, month_label};
use super::engine::{rulebook_on, Context, Line, MissingRate, PMP_SERVICE_ALLOWANCE};
use super::markets::{MarketId, MarketTable};
use super::money::Money;
use super::rates::{Band, RateCard};
use super::types::{normalize_name, RateColumn, Rulebook};

/// One volume as written: where it came from (for errors) and its fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volume {
    /// `volume[3]` (file) or `--volume #2` (flag): names the row in errors.
    pub origin: String,
    /// `YYYY-MM`, in the WABA's time zone.
    pub month: String,
    /// Rate-card market name (`India`, `Rest of Africa`), case-insensitive.
    pub market: String,
    /// `marketing`, `utility`, `authentication`, `authentication_international` or `service`.
    pub category: String,
    pub messages: u64,
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
}

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
            waba: parts.get(4).unwrap_or(&"").to_string(),
        })
    }
}

/// Messages of one line priced in one band of a tier table, or at the list rate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BandUse {
    /// For a tier band: the first and last monthly counts (1-based) these messages took;
    /// `None` at the list rate of a market without a tier table.
    pub counts: Option<(u64, u64)>,
    pub rate: Money,
    pub messages: u64,
    pub amount: Money,
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
}

/// A rate-card market by name, ignoring case.
fn market_id(markets: &MarketTable, name: &str) -> Option<MarketId> {
    markets.id(name).or_else(|| {
        (0..markets.len() as MarketId).find(|&i| markets.name(i).eq_ignore_ascii_case(name))
    })
}

/// Price the messages `first..first + n` (1-based monthly counts) with a graduated table.
/// `Err(count)` names the first count no band covers (RATE-4).
fn graduated(bands: &[Band], first: u64, n: u64) -> Result<Vec<BandUse>, u64> {
    let mut out = Vec::new();
    let last = first + n - 1;
    let mut c = first;
    while c <= last {
        let Some(b) = bands
            .iter()
            .find(|b| b.from <= c && b.to.is_none_or(|t| c <= t))
        else {
            return Err(c);
        };
        let end = b.to.map_or(last, |t| t.min(last));
        let k = end - c + 1;
        out.push(BandUse {
            counts: Some((c, end)),
            rate: b.rate,
            messages: k,
            amount: b.rate.times(k),
        });
        c = end + 1;
    }
    Ok(out)
}

/// Prices `volumes` under the rulebook in force each month (or `ctx.forced`).
pub fn estimate(volumes: &Volumes, ctx: &Context) -> Result<Estimate, EstimateError> {
    let currency = ctx
        .accounts
        .currency()
        .unwrap_or_else(|_| ctx.accounts.wabas[0].currency.clone());
    let mut tiers: HashMap<(MarketId, bool, u32), u64> = HashMap::new();
    let mut allowance: HashMap<(usize, u32), u64> = HashMap::new();
    let allowance_cap = u64::from(PMP_SERVICE_ALLOWANCE) * u64::from(volumes.service_numbers);
    let mut missing: BTreeMap<(String, &'static str, Option<NaiveDate>, bool), MissingRate> =
        BTreeMap::new();
    let mut lines = Vec::new();
    for v in &volumes.volumes {
        let key = |f: &str| format!("{}.{f}", v.origin);
        let date = NaiveDate::parse_from_str(&format!("{}-01", v.month), "%Y-%m-%d")
            .map_err(|_| value_err(&key("month"), &v.month, "expected a month YYYY-MM"))?;
        let month = month_key(date);
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
        let market = market_id(ctx.markets, &v.market).ok_or_else(|| {
            value_err(
                &key("market"),
                &v.market,
                "unknown market (see `wabill rates show` for the market names of the rate cards)",
            )
        })?;
        let col = RateColumn::from_id(&normalize_name(&v.category))
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
                    "expected marketing, utility, authentication, authentication_international or service",
                )
            })?;
        let rulebook = ctx.forced.or_else(|| rulebook_on(date));
        let rulebook = match rulebook {
            Some(r) if !r.is_cbp() => r,
            other => {
                return Err(EstimateError::NotPerMessage {
                    key: key("month"),
                    month: v.month.clone(),
                    rulebook: other.map_or("no rulebook", |r| r.id()),
                })
            }
        };
        let card_ix = ctx.rates.card_at(&currency, date);
        let card: Option<&RateCard> = card_ix.map(|c| &ctx.rates.cards[c]);
        let n = v.messages;
        let mut charged = n;
        let mut free = 0;
        let mut rule = "PMP-1";
        // Ok(bands), or Err((first count beyond a tier table, messages without a rate)).
        let priced: Result<Vec<BandUse>, (Option<u64>, u64)> = match col {
            RateColumn::Service => {
                if rulebook == Rulebook::Pmp2025 {
                    // PMP-2: non-template messages are free.
                    rule = "PMP-2";
                    charged = 0;
                    free = n;
                    Ok(Vec::new())
                } else {
                    // PMP-5: the first 1,000 a month per business number are free.
                    rule = "PMP-5";
                    let used = allowance.entry((waba, month)).or_insert(0);
                    free = n.min(allowance_cap - *used);
                    *used += free;
                    charged = n - free;
                    list(card, market, col, charged)
                }
            }
            RateColumn::Marketing => list(card, market, col, n),
            _ => {
                // PMP-4: graduated bands per portfolio, market, category group and month.
                let auth = col != RateColumn::Utility;
                let count = tiers.entry((market, auth, month)).or_insert(0);
                let first = *count + 1;
                *count += n;
                match card.and_then(|c| c.tiers(market, col)) {
                    Some(bands) if n > 0 => {
                        rule = "PMP-4";
                        graduated(bands, first, n).map_err(|c| (Some(c), first + n - c))
                    }
                    _ => list(card, market, col, n),
                }
            }
        };
        let bands = match priced {
            Ok(b) => b,
            Err((beyond, affected)) => {
                let market_name = ctx.markets.name(market).to_string();
                missing
                    .entry((
                        market_name.clone(),
                        col.id(),
                        card.map(|c| c.effective),
                        beyond.is_some(),
                    ))
                    .and_modify(|m| m.messages += affected)
                    .or_insert(MissingRate {
                        market: market_name,
                        category: col.id(),
                        date,
                        card: card.map(|c| c.effective),
                        beyond_tier: beyond,
                        messages: affected,
                    });
                Vec::new()
            }
        };
        let cost = bands.iter().map(|b| b.amount).sum();
        lines.push(EstimateLine {
            line: Line {
                month: month_label(month),
                waba: ctx.accounts.wabas[waba].id.clone(),
                market: ctx.markets.name(market).to_string(),
                category: col.id(),
                rulebook: rulebook.id(),
                charged,
                free,
                cost,
            },
            messages: n,
            rule,
            card: card.map(|c| c.effective),
            bands,
        });
    }
    if !missing.is_empty() {
        return Err(EstimateError::MissingRates(missing.into_values().collect()));
    }
    lines.sort_by(|a, b| {
        let (a, b) = (&a.line, &b.line);
        (&a.month, &a.waba, &a.market, a.category).cmp(&(&b.month, &b.waba, &b.market, b.category))
    });
    let total = lines.iter().map(|l| l.line.cost).sum();
    Ok(Estimate {
        currency,
        lines,
        total,
    })
}

/// `n` messages at the list rate; `Err((None, n))` when the card has no such rate (RATE-4).
fn list(
    card: Option<&RateCard>,
    market: MarketId,
    col: RateColumn,
    n: u64,
) -> Result<Vec<BandUse>, (Option<u64>, u64)> {
    if n == 0 {
        return Ok(Vec::new());
    }
    let rate = card.and_then(|c| c.rate(market, col)).ok_or((None, n))?;
    Ok(vec![BandUse {
        counts: None,
        rate,
        messages: n,
        amount: rate.times(n),
    }])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> Money {
        Money::parse(s).unwrap()
    }

    #[test]
    fn pmp_4_graduated_splits_a_row_across_bands_and_stops_beyond_a_partial_table() {
        let bands = [
            Band {
                from: 0,
                to: Some(100),
                rate: m("0.004"),
            },
            Band {
                from: 101,
                to: Some(200),
                rate: m("0.0038"),
            },
        ];
        let b = graduated(&bands, 91, 20).unwrap();
        assert_eq!(
            b.iter()
                .map(|b| (b.counts, b.messages, b.amount))
                .collect::<Vec<_>>(),
            vec![
                (Some((91, 100)), 10, m("0.04")),
                (Some((101, 110)), 10, m("0.038")),
            ]
        );
        assert_eq!(graduated(&bands, 150, 100), Err(201));
    }

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
