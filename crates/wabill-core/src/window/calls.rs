//! Calls (billing-rules.md §4b, CALL-1…3), pass 1: a call from the user, answered or not, and a
//! business call the user accepted open or refresh the customer service window (CALL-1); calls
//! from the user are free (CALL-2) and, like inbound messages, are not units; a business call
//! the user accepted is a unit of its 6-second pulses, which pass 2 prices with the month's
//! minute tiers (`pricing::calls`).

use super::ChatState;
use crate::ids::Rule;
use crate::model::{Outcome, Pending};
use crate::types::{Billed, Reason};

/// CALL-3: a started 6-second pulse counts whole (a 56 s call is 10 pulses).
pub const PULSE_SECONDS: u64 = 6;

/// CALL-3: the pulses of a call of `seconds`.
pub fn pulses(seconds: u32) -> u64 {
    u64::from(seconds).div_ceil(PULSE_SECONDS)
}

/// One call row of a chat.
pub(super) fn decide(
    st: &mut ChatState,
    t: i64,
    by_user: bool,
    accepted: bool,
    duration: Option<u32>,
    o: &mut Outcome,
) {
    if by_user {
        // CALL-1 / CALL-2: opens the window, costs nothing, is not a unit.
        st.call_opens_window(t);
        o.rulebook = None;
        return;
    }
    if !accepted {
        o.reason = Some(Reason::NotAnswered);
        o.rule = Some(Rule::Call3);
        return;
    }
    st.call_opens_window(t);
    debug_assert!(
        duration.is_some(),
        "an accepted business call has its duration"
    );
    o.open(Billed::Call, Rule::Call3, t, Pending::Call);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call3_a_started_pulse_counts_whole() {
        assert_eq!(pulses(56), 10);
        assert_eq!(pulses(60), 10);
        assert_eq!(pulses(61), 11);
        assert_eq!(pulses(1), 1);
        assert_eq!(pulses(0), 0);
    }
}
