//! Calls (billing-rules.md §4b, CALL-1…3), pass 1: a call from the user, answered or not, and a
//! business call the user accepted open or refresh the customer service window (CALL-1); calls
//! from the user are free (CALL-2) and, like inbound messages, are not units; a business call
//! the user accepted is a unit of its 6-second pulses, which pass 2 prices with the month's
//! minute tiers (`pricing::calls`).

use super::ChatState;
use crate::ids::Rule;
use crate::model::{Outcome, Pending};
use crate::rulebook::Rulebook;
use crate::types::{Billed, Reason};

/// One call row of a chat; a business call's outcome carries `rulebook` (the line it lands on).
pub(super) fn decide(
    st: &mut ChatState,
    t: i64,
    by_user: bool,
    accepted: bool,
    rulebook: Option<Rulebook>,
    o: &mut Outcome,
) {
    if by_user {
        // CALL-1 / CALL-2: opens the window, costs nothing, is not a unit.
        st.call_opens_window(t);
        return;
    }
    o.rulebook = rulebook;
    if !accepted {
        o.reason = Some(Reason::NotAnswered);
        o.rule = Some(Rule::Call3);
        return;
    }
    st.call_opens_window(t);
    // Its pulses come from its duration (the log's extras) when pass 2 prices it.
    o.open(Billed::Call, Rule::Call3, t, Pending::Call);
}
