//! Non-template messages with a category of their own (billing-rules.md §4b), pass 1: Meta's
//! own agent (MBA-1) and AI providers (AIP-1). Neither touches a window, conversation or entry
//! point, and neither is ever free once charged: they are decided before any window rule.

use chrono::NaiveDate;

use crate::calendar::{local_date, month_key, PeriodInfo, WabaCalendar};
use crate::context::Context;
use crate::ids::Rule;
use crate::markets::MarketId;
use crate::model::{Issue, Outcome, Pending, Unit};
use crate::types::{Billed, Bot, Reason};

/// MBA-1: Meta charges Meta Business Agent messages from 00:00 of this date (WABA time zone).
pub const MBA_CHARGED_FROM: (i32, u32, u32) = (2026, 8, 1);

/// MBA-1: whether Meta charges agent messages in the WABA-local month `month` (a
/// [`month_key`]); the replay and the estimate both ask here.
pub fn mba1_charged_in(month: u32) -> bool {
    let (y, m, d) = MBA_CHARGED_FROM;
    month >= month_key(NaiveDate::from_ymd_opt(y, m, d).expect("date"))
}

/// A delivered message of Meta's agent (MBA-1) or of an AI provider (row category
/// `general_purpose_ai`, AIP-1).
pub(super) fn decide_bot(
    bot: Bot,
    t: i64,
    tokens: Option<u64>,
    info: &PeriodInfo,
    ei: u32,
    o: &mut Outcome,
    issues: &mut Vec<Issue>,
) {
    match bot {
        Bot::AiProvider => aip1_charge(t, o),
        Bot::MetaAgent => mba1(t, tokens, info, ei, o, issues),
    }
}

/// MBA-1: priced per token from the card's rate per million tokens (pass 2); never free, no
/// allowance. Without `tokens` the message is counted as unpriced, never as zero cost. Before
/// 2026-08-01 Meta did not charge them.
fn mba1(
    t: i64,
    tokens: Option<u64>,
    info: &PeriodInfo,
    ei: u32,
    o: &mut Outcome,
    issues: &mut Vec<Issue>,
) {
    if !mba1_charged_in(info.month) {
        o.free_unit(
            Billed::MetaBusinessAgent,
            Reason::NotChargedYet,
            Rule::Mba1,
            t,
        );
        return;
    }
    match tokens {
        Some(_) => o.open(Billed::MetaBusinessAgent, Rule::Mba1, t, Pending::PerToken),
        None => {
            o.reason = Some(Reason::Unpriced);
            o.rule = Some(Rule::Mba1);
            o.billed = Some(Billed::MetaBusinessAgent);
            o.unit = Unit::Unpriced;
            o.conv_start = Some(t);
            issues.push(Issue {
                code: "unpriced",
                rule: Rule::Mba1,
                event: ei,
                message: "Meta Business Agent message without `tokens`: Meta charges it per token, so it is counted but not priced; the total excludes it".into(),
            });
        }
    }
}

/// AIP-1: whether a non-template message at `t` to `market` is an AI provider's charged one:
/// the portfolio is marked `ai_provider` and the AI-provider table lists the market on the
/// message's WABA-local date.
pub(super) fn aip1_applies(ctx: &Context, market: MarketId, cal: &WabaCalendar, t: i64) -> bool {
    ctx.accounts.portfolio.ai_provider
        && !ctx.markets.ai_provider().is_empty()
        && ctx
            .markets
            .ai_provider_charges(market, local_date(cal.calendar.tz, t))
}

/// AIP-1: charged the card's `general_purpose_ai` rate (list rate, pass 2).
pub(super) fn aip1_charge(t: i64, o: &mut Outcome) {
    o.open(Billed::GeneralPurposeAi, Rule::Aip1, t, Pending::ListRate);
}
