//! Pass 2: the counters that span chats and the rate lookups. Pass 1 leaves each unit it could
//! not finish [`Pending`]; [`Pricer::apply`] takes those units in CONV-1 order over all chats and
//! dispatches on what is pending: the CBP-7 free tier ([`free_tier`]), the PMP-5 service
//! allowance ([`allowance`]), the PMP-4 volume tiers ([`tiers`]), the CALL-3 pulses and minute
//! tiers ([`calls`]), MBA-1's tokens or the list rate (RATE-1).
//! Nothing here changes window state, so the split into two passes is exact.
//!
//! An estimate (`crate::estimate`) prices volumes with the same counters and bands.

pub mod allowance;
pub mod calls;
pub mod free_tier;
pub mod tiers;

use std::collections::BTreeMap;

use chrono::NaiveDate;

use self::allowance::{ServiceAllowance, PMP_SERVICE_ALLOWANCE};
use self::calls::CallCounters;
use self::free_tier::FreeTier;
use self::tiers::{TierCounters, TierPrice};
use super::calendar::{local_date, WabaCalendar};
use super::context::Context;
use super::ids::Rule;
use super::model::{BillingError, ChatKey, Extras, MissingRate, Outcome, Pending, Unit};
use super::money::Money;
use super::types::Reason;

/// RATE-4: the missing rates met, once per market, category, card and kind (a rate the card
/// lacks, or a count beyond a tier table), with the messages each affects.
#[derive(Debug, Default)]
pub struct MissingRates(BTreeMap<(String, &'static str, Option<NaiveDate>, bool), MissingRate>);

impl MissingRates {
    /// Note `m`; a case already noted only adds its messages.
    pub fn add(&mut self, m: MissingRate) {
        let key = (
            m.market.clone(),
            m.category,
            m.card,
            m.beyond_tier.is_some(),
        );
        self.0
            .entry(key)
            .and_modify(|x| x.messages += m.messages)
            .or_insert(m);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// In the order of market, category, card and kind.
    pub fn into_vec(self) -> Vec<MissingRate> {
        self.0.into_values().collect()
    }
}

/// Pass 2: the counters that span chats (CBP-7 free tier, PMP-4 volume tiers, PMP-5 service
/// allowance) and the rate lookups. Units must be applied in CONV-1 order.
pub struct Pricer<'a> {
    ctx: &'a Context<'a>,
    calendars: &'a [WabaCalendar],
    /// The rows' tokens and durations (MBA-1, CALL-3).
    extras: &'a Extras,
    free_tier: FreeTier,
    /// PMP-5: per (WABA, business number, month).
    allowance: ServiceAllowance<(u16, u32, u32)>,
    tiers: TierCounters,
    /// CALL-3: pulses per market and month.
    calls: CallCounters,
    missing: MissingRates,
}

impl<'a> Pricer<'a> {
    pub fn new(
        ctx: &'a Context<'a>,
        calendars: &'a [WabaCalendar],
        extras: &'a Extras,
    ) -> Pricer<'a> {
        Pricer {
            ctx,
            calendars,
            extras,
            free_tier: FreeTier::default(),
            allowance: ServiceAllowance::new(u64::from(PMP_SERVICE_ALLOWANCE)),
            tiers: TierCounters::default(),
            calls: CallCounters::default(),
            missing: MissingRates::default(),
        }
    }

    /// Price one pending unit (data row `row`, delivered at `ts` in `chat`), the next in
    /// CONV-1 order.
    pub fn apply(&mut self, ts: i64, row: u32, chat: ChatKey, o: &mut Outcome) {
        let ctx = self.ctx;
        let info = self.calendars[chat.waba as usize].info[o.period as usize];
        let billed = o.billed.expect("pending units have a category");
        let col = billed.rate_column().expect("priced category");
        let card = info.card.map(|c| &ctx.rates.cards[c]);
        let market = o.market;
        let list = || card.and_then(|c| c.rate(market, col));
        // The rate, or Err(the count beyond a tier table) when there is none.
        let rate: Result<Money, Option<u64>> = match o.pending {
            Pending::Done => return,
            Pending::CbpFreeTier => {
                if self.free_tier.take(chat.waba, info.month) {
                    free_tier::cbp7_free(o);
                    return;
                }
                list().ok_or(None)
            }
            Pending::ServiceAllowance => {
                if self.allowance.take((chat.waba, chat.number, info.month), 1) == 1 {
                    allowance::pmp5_free(o);
                    return;
                }
                list().ok_or(None)
            }
            Pending::ListRate => list().ok_or(None),
            // MBA-1: tokens × rate ÷ 1,000,000, rounded once.
            Pending::PerToken => {
                let n = self.extras.get(row).tokens().unwrap_or(0);
                list().and_then(|r| r.times_ratio(n, 1_000_000)).ok_or(None)
            }
            Pending::Call => {
                let pulses = calls::pulses(self.extras.get(row).duration().unwrap_or(0));
                let last = self.calls.take(market, info.month, pulses);
                calls::call3_price(card, market, pulses, last)
            }
            Pending::Tiered => {
                let count = self.tiers.take(market, col, info.month, 1);
                match tiers::pmp4_price(card, market, col, count) {
                    TierPrice::List(r) => r.ok_or(None),
                    TierPrice::Band(r) => {
                        o.rule = Some(Rule::Pmp4);
                        Ok(r)
                    }
                    TierPrice::Beyond => Err(Some(count)),
                }
            }
        };
        o.pending = Pending::Done;
        match rate {
            Ok(r) => {
                o.price = r;
                o.unit = Unit::Charged;
                o.reason = Some(Reason::Charged);
            }
            Err(beyond_tier) => self.missing.add(MissingRate {
                market: ctx.markets.name(market).to_string(),
                category: col.id(),
                date: local_date(self.calendars[chat.waba as usize].calendar.tz, ts),
                card: card.map(|c| c.effective),
                beyond_tier,
                messages: 1,
            }),
        }
    }

    /// RATE-4: every missing rate met, or none.
    pub fn finish(self) -> Result<(), BillingError> {
        if self.missing.is_empty() {
            Ok(())
        } else {
            Err(BillingError::MissingRates(self.missing.into_vec()))
        }
    }
}
