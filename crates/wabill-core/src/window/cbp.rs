//! Conversation-based pricing, pass 1 (billing-rules.md §2: `cbp-2022`, `cbp-2023`,
//! `cbp-2024`): which conversation a delivered business message opens or rides in, and CBP-9, the
//! utility conversation that carries across the switch to per-message pricing.
//!
//! The CBP-7 free tier is counted across chats in pass 2 (`pricing::free_tier`); only its
//! cbp-2024 side, free service conversations without a cap, is decided here.

use super::pmp::pmp6_authentication;
use super::{
    ChatState, Delivered, FEP_LENGTH, SLOT_AUTH, SLOT_MARKETING, SLOT_SERVICE, SLOT_UTILITY,
};
use crate::calendar::DAY;
use crate::ids::Rule;
use crate::model::{Outcome, Pending};
use crate::rulebook::Rulebook;
use crate::types::{Billed, Reason, TemplateCategory};

/// A delivered business message under a conversation-based rulebook.
pub(super) fn decide(st: &mut ChatState, m: &Delivered, o: &mut Outcome) {
    if cbp6_free_entry_point(st, m, o) {
        return;
    }
    if m.rulebook == Rulebook::Cbp2022 {
        cbp5_conversation(st, m, o);
        return;
    }
    match m.template {
        Some(cat) => {
            if !cbp4_same_category(st, m, cat, o) {
                cbp2_open(st, m, cat, o);
            }
        }
        None => {
            if !cbp3_ride_in_open(st, m, o) {
                cbp3_open_service(st, m, o);
            }
        }
    }
}

/// CBP-6: everything inside the free entry point conversation is free, and a second entry point
/// answered now opens nothing new; otherwise the entry-point reply opens a 72 h free
/// conversation and closes all others. `false` when neither applies.
fn cbp6_free_entry_point(st: &mut ChatState, m: &Delivered, o: &mut Outcome) -> bool {
    if let Some(f) = st.fep_conv.filter(|f| f.open_at(m.t, FEP_LENGTH)) {
        o.ride_in(f, Rule::Cbp6);
        return true;
    }
    if !m.ep_reply {
        return false;
    }
    st.fep_conv = Some(m.conv(Billed::FreeEntryPoint));
    st.slots = [None; 4];
    st.legacy = None;
    o.free_unit(
        Billed::FreeEntryPoint,
        Reason::FreeEntryPoint,
        Rule::Cbp6,
        m.t,
    );
    true
}

/// CBP-5 (cbp-2022): any message inside an open conversation is covered; otherwise it opens a
/// user-initiated conversation if the CSW is open, else a business-initiated one (pass 2 counts
/// the CBP-7 free tier).
fn cbp5_conversation(st: &mut ChatState, m: &Delivered, o: &mut Outcome) {
    if let Some(c) = st.legacy.filter(|c| c.open_at(m.t, DAY)) {
        o.ride_in(c, Rule::Cbp5);
        return;
    }
    let billed = if m.csw_open {
        Billed::UserInitiated
    } else {
        Billed::BusinessInitiated
    };
    st.legacy = Some(m.conv(billed));
    o.open(billed, Rule::Cbp5, m.t, Pending::CbpFreeTier);
}

fn slot_of(cat: TemplateCategory) -> usize {
    match cat {
        TemplateCategory::Marketing => SLOT_MARKETING,
        TemplateCategory::Utility => SLOT_UTILITY,
        TemplateCategory::Authentication => SLOT_AUTH,
    }
}

/// CBP-4: a template rides in the open conversation of its own category. `false` when none is
/// open.
fn cbp4_same_category(
    st: &mut ChatState,
    m: &Delivered,
    cat: TemplateCategory,
    o: &mut Outcome,
) -> bool {
    match st.slots[slot_of(cat)].filter(|c| c.open_at(m.t, DAY)) {
        Some(c) => {
            o.ride_in(c, Rule::Cbp4);
            true
        }
        None => false,
    }
}

/// CBP-2: a template opens a conversation of its category (authentication-international under
/// PMP-6), priced at the list rate.
fn cbp2_open(st: &mut ChatState, m: &Delivered, cat: TemplateCategory, o: &mut Outcome) {
    let billed = if cat == TemplateCategory::Authentication {
        pmp6_authentication(m, o.market)
    } else {
        Billed::from_template(cat)
    };
    st.slots[slot_of(cat)] = Some(m.conv(billed));
    // MAXP-1: a marketing conversation opened by a row with a max price is priced at it.
    if let (TemplateCategory::Marketing, Some(p)) = (cat, m.price) {
        o.charged_at(billed, Rule::Maxp1, m.t, p);
        return;
    }
    let rule = if billed == Billed::AuthenticationInternational {
        Rule::Pmp6
    } else {
        Rule::Cbp2
    };
    o.open(billed, rule, m.t, Pending::ListRate);
}

/// CBP-3: a non-template message rides in any open conversation (the earliest opened); CBP-10:
/// a cbp-2022 conversation still open after the switch counts too. `false` when none is open.
fn cbp3_ride_in_open(st: &ChatState, m: &Delivered, o: &mut Outcome) -> bool {
    let open = st
        .slots
        .iter()
        .flatten()
        .map(|c| (*c, Rule::Cbp3))
        .chain(st.legacy.map(|c| (c, Rule::Cbp10)))
        .filter(|(c, _)| c.open_at(m.t, DAY))
        .min_by_key(|(c, _)| (c.start, c.row));
    match open {
        Some((c, rule)) => {
            o.ride_in(c, rule);
            true
        }
        None => false,
    }
}

/// CBP-3: a non-template message with no conversation open opens a service conversation.
/// CBP-7 (cbp-2024): service conversations are free, no cap; under cbp-2023 pass 2 counts the
/// free tier.
fn cbp3_open_service(st: &mut ChatState, m: &Delivered, o: &mut Outcome) {
    st.slots[SLOT_SERVICE] = Some(m.conv(Billed::Service));
    if m.rulebook == Rulebook::Cbp2024 {
        o.free_unit(Billed::Service, Reason::FreeService, Rule::Cbp7, m.t);
    } else {
        o.open(Billed::Service, Rule::Cbp3, m.t, Pending::CbpFreeTier);
    }
}

/// CBP-9: under per-message pricing, a utility conversation opened before the switch keeps
/// covering utility templates until it expires: they ride in it (`in_conversation`, not a unit),
/// entry-point replies and templates inside a free entry point window included. `false` when
/// it does not apply.
pub(super) fn cbp9_carried_utility(st: &ChatState, m: &Delivered, o: &mut Outcome) -> bool {
    if m.template != Some(TemplateCategory::Utility) {
        return false;
    }
    match st.slots[SLOT_UTILITY].filter(|c| c.open_at(m.t, DAY)) {
        Some(c) => {
            o.ride_in(c, Rule::Cbp9);
            true
        }
        None => false,
    }
}
