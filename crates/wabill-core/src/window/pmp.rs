//! Per-message pricing, pass 1 (billing-rules.md §3: `pmp-2025`, `pmp-2026`): whether a
//! delivered business message is free, and otherwise what pass 2 prices it by. Also PMP-6
//! (authentication-international, which CBP authentication conversations follow too) and the PMP-7
//! report, which apply under every rulebook.
//!
//! Pass 2 counts what spans chats: the PMP-4 volume tiers (`pricing::tiers`) and the PMP-5
//! service allowance (`pricing::allowance`).

use super::cbp::cbp9_carried_utility;
use super::{ChatState, Delivered, FEP_LENGTH};
use crate::calendar::PeriodInfo;
use crate::ids::Rule;
use crate::markets::MarketId;
use crate::model::{Issue, Outcome, Pending};
use crate::rates::Cell;
use crate::rulebook::Rulebook;
use crate::types::{Billed, Country, RateColumn, Reason, TemplateCategory};

/// A delivered business message under a per-message rulebook.
pub(super) fn decide(st: &mut ChatState, m: &Delivered, o: &mut Outcome) {
    if cbp9_carried_utility(st, m, o) {
        // CBP-9: a covered entry-point reply is not a unit, but still opens the PMP-3 window.
        if m.ep_reply {
            st.fep_window = Some(m.t);
        }
        return;
    }
    if pmp3_free_entry_point(st, m, o) {
        return;
    }
    if pmp2_free_customer_service(m, o) {
        return;
    }
    match m.template {
        None => pmp5_service(m, o),
        Some(cat) => pmp1_template(m, cat, o),
    }
}

/// PMP-3: the entry-point reply is free and opens a 72 h window from its delivery, even while
/// an earlier window is open; everything delivered inside the window is free, templates
/// included. `false` when neither applies.
fn pmp3_free_entry_point(st: &mut ChatState, m: &Delivered, o: &mut Outcome) -> bool {
    let start = if m.ep_reply {
        st.fep_window = Some(m.t);
        m.t
    } else {
        match st.fep_window.filter(|f| m.t < f + FEP_LENGTH) {
            Some(f) => f,
            None => return false,
        }
    };
    o.free_unit(
        Billed::FreeEntryPoint,
        Reason::FreeEntryPoint,
        Rule::Pmp3,
        start,
    );
    true
}

/// PMP-2 (pmp-2025): non-template messages are free, and so are utility templates inside the
/// CSW. `false` when it does not apply.
fn pmp2_free_customer_service(m: &Delivered, o: &mut Outcome) -> bool {
    if m.rulebook != Rulebook::Pmp2025 {
        return false;
    }
    let billed = match m.template {
        None => Billed::Service,
        Some(TemplateCategory::Utility) if m.csw_open => Billed::Utility,
        Some(_) => return false,
    };
    o.free_unit(billed, Reason::FreeCustomerService, Rule::Pmp2, m.t);
    true
}

/// PMP-5 (pmp-2026): a service message is charged, after the number's monthly allowance (which
/// pass 2 counts).
fn pmp5_service(m: &Delivered, o: &mut Outcome) {
    o.open(Billed::Service, Rule::Pmp5, m.t, Pending::ServiceAllowance);
}

/// PMP-1: each delivered template is one charge. Marketing pays the list rate (it has no
/// tiers); utility and authentication are counted for the volume tiers (PMP-4, pass 2). Under
/// pmp-2026 utility inside the CSW is charged too (PMP-5); authentication may be
/// authentication-international (PMP-6).
fn pmp1_template(m: &Delivered, cat: TemplateCategory, o: &mut Outcome) {
    match cat {
        TemplateCategory::Marketing => match m.price {
            // MAXP-1: what Meta charged replaces the card rate.
            Some(p) => o.charged_at(Billed::Marketing, Rule::Maxp1, m.t, p),
            None => o.open(Billed::Marketing, Rule::Pmp1, m.t, Pending::ListRate),
        },
        TemplateCategory::Utility => {
            let rule = if m.rulebook == Rulebook::Pmp2026 && m.csw_open {
                Rule::Pmp5
            } else {
                Rule::Pmp1
            };
            o.open(Billed::Utility, rule, m.t, Pending::Tiered);
        }
        TemplateCategory::Authentication => {
            let billed = pmp6_authentication(m, o.market);
            let rule = if billed == Billed::AuthenticationInternational {
                Rule::Pmp6
            } else {
                Rule::Pmp1
            };
            o.open(billed, rule, m.t, Pending::Tiered);
        }
    }
}

/// PMP-6: an authentication message (or CBP authentication conversation) is
/// authentication-international when the portfolio makes the user's country eligible at this
/// instant and the market has that rate on the card in force; else authentication.
pub(super) fn pmp6_authentication(m: &Delivered, market: MarketId) -> Billed {
    let ctx = m.ctx;
    let intl = ctx.accounts.auth_international_applies(m.country, m.t)
        && m.info.card.is_some_and(|c| {
            !matches!(
                ctx.rates.cards[c].cell(market, RateColumn::AuthenticationInternational),
                Cell::NotOffered
            )
        });
    if intl {
        Billed::AuthenticationInternational
    } else {
        Billed::Authentication
    }
}

/// PMP-7: a marketing template shown delivered to a US number while the pause is in force is
/// reported, and billed as the log says.
pub(super) fn pmp7_us_marketing(
    template: Option<TemplateCategory>,
    country: Country,
    info: &PeriodInfo,
    ei: u32,
    issues: &mut Vec<Issue>,
) {
    if template == Some(TemplateCategory::Marketing) && country == Country::US && info.us_pause {
        issues.push(Issue {
            code: "us-marketing-delivered",
            rule: Rule::Pmp7,
            event: ei,
            message: "marketing template shown delivered to a US number; Meta pauses US marketing from 2025-04-01, billed as the log says".into(),
        });
    }
}
