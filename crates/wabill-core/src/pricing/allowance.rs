//! PMP-5, the service allowance (billing-rules.md §3, `pmp-2026`): the first 1,000 service
//! messages of each month per business number that would otherwise be charged are free. The
//! replay counts per number in CONV-1 order; an estimate, which knows no numbers, counts per WABA
//! with one allowance per service number it is told of. One counter serves both.

use std::collections::HashMap;
use std::hash::Hash;

use crate::model::{Outcome, Pending, Unit};
use crate::types::Reason;

/// PMP-5: free service messages per business number and month (pmp-2026).
pub const PMP_SERVICE_ALLOWANCE: u32 = 1_000;

/// PMP-5: the allowance used per key (a business number, or a WABA) and month.
#[derive(Debug)]
pub struct ServiceAllowance<K> {
    cap: u64,
    used: HashMap<K, u64>,
}

impl<K: Hash + Eq> ServiceAllowance<K> {
    /// `cap` free messages per key.
    pub fn new(cap: u64) -> Self {
        ServiceAllowance {
            cap,
            used: HashMap::new(),
        }
    }

    /// Of the next `n` otherwise-charged service messages of `key`, how many are free.
    pub fn take(&mut self, key: K, n: u64) -> u64 {
        let used = self.used.entry(key).or_insert(0);
        let free = n.min(self.cap - *used);
        *used += free;
        free
    }
}

/// PMP-5: a service message within the allowance is a free unit (its rule stays PMP-5).
pub(crate) fn pmp5_free(o: &mut Outcome) {
    o.unit = Unit::Free;
    o.reason = Some(Reason::FreeTier);
    o.pending = Pending::Done;
}
