//! Groups (billing-rules.md §4b, GRP-1…3), pass 1. A group's thread is (WABA, business number,
//! group); each business row is one delivery to one member, charged at that member's market
//! (GRP-1, the 1:1 per-message rates, under every rulebook, from the card of its date). A
//! member's message opens the group's customer service window for 24 h (GRP-2): inside it
//! non-template messages and utility templates are free; marketing and authentication are always
//! charged. Group utility is not counted for the volume tiers (GRP-3).

use super::pmp::pmp6_authentication;
use super::Delivered;
use crate::ids::Rule;
use crate::model::{Outcome, Pending};
use crate::types::{Billed, Reason, TemplateCategory};

/// A delivered business message to one member of a group.
pub(super) fn decide(m: &Delivered, o: &mut Outcome) {
    let free = |o: &mut Outcome, billed| {
        o.free_unit(billed, Reason::FreeGroupCustomerService, Rule::Grp2, m.t)
    };
    match m.template {
        None if m.csw_open => free(o, Billed::GroupService),
        None => o.open(Billed::GroupService, Rule::Grp1, m.t, Pending::ListRate),
        Some(TemplateCategory::Utility) if m.csw_open => free(o, Billed::GroupUtility),
        // GRP-3: list rate, outside the volume tiers.
        Some(TemplateCategory::Utility) => {
            o.open(Billed::GroupUtility, Rule::Grp3, m.t, Pending::ListRate)
        }
        Some(TemplateCategory::Marketing) => match m.price {
            Some(p) => o.charged_at(Billed::GroupMarketing, Rule::Maxp1, m.t, p),
            None => o.open(Billed::GroupMarketing, Rule::Grp1, m.t, Pending::ListRate),
        },
        // GRP-1: "an authentication template to a group, if one appears, is charged as
        // authentication": a 1:1 authentication message (PMP-4 tiers, PMP-6).
        Some(TemplateCategory::Authentication) => {
            let billed = pmp6_authentication(m, o.market);
            let rule = if billed == Billed::AuthenticationInternational {
                Rule::Pmp6
            } else {
                Rule::Grp1
            };
            o.open(billed, rule, m.t, Pending::Tiered);
        }
    }
}
