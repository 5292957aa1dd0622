//! CBP-7, the free tier (billing-rules.md §2): the first 1,000 conversations of each month and
//! WABA are free — under cbp-2022 of either kind, under cbp-2023 service conversations only.
//! Counted in pass 2, in CONV-1 order of the openings, across all the WABA's numbers. (Under
//! cbp-2024 service conversations are free without a cap: pass 1 decides that, `window::cbp`.)

use std::collections::HashMap;

use crate::ids::Rule;
use crate::model::{Outcome, Pending, Unit};
use crate::types::Reason;

/// CBP-7: free conversations per WABA and month (cbp-2022: all kinds; cbp-2023: service).
pub const CBP_FREE_TIER: u32 = 1_000;

/// CBP-7: the conversations each WABA has had free per WABA-local month.
#[derive(Debug, Default)]
pub struct FreeTier(HashMap<(u16, u32), u32>);

impl FreeTier {
    /// Count the next conversation of `waba` in `month`: whether it is one of the free ones.
    pub fn take(&mut self, waba: u16, month: u32) -> bool {
        let used = self.0.entry((waba, month)).or_insert(0);
        if *used < CBP_FREE_TIER {
            *used += 1;
            true
        } else {
            false
        }
    }
}

/// CBP-7: a conversation in the free tier still counts as a conversation, at price 0.
pub(crate) fn cbp7_free(o: &mut Outcome) {
    o.unit = Unit::Free;
    o.reason = Some(Reason::FreeTier);
    o.rule = Some(Rule::Cbp7);
    o.pending = Pending::Done;
}
