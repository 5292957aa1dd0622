//! Emitting rows in timestamp order: rows of activities wait in a batch, are sorted and merged
//! with the rows still waiting, and every row earlier than the next activity start goes to the
//! sink, counted; memory holds only the rows not yet due.

use std::ops::ControlFlow;

use super::Summary;
use crate::billing::types::{Status, TemplateCategory};
use crate::traffic::model::{Direction, EntryPoint, Row};

/// Row counts kept while emitting.
#[derive(Default)]
pub(super) struct Counts {
    rows: u64,
    inbound: u64,
    outbound: u64,
    delivered: u64,
    failed: u64,
    non_template: u64,
    marketing: u64,
    utility: u64,
    authentication: u64,
    ctwa: u64,
    page_cta: u64,
    after_end: u64,
    before_start: u64,
    inbound_left_out: u64,
}

impl Counts {
    pub(super) fn add_to(&self, s: &mut Summary) {
        s.rows = self.rows;
        s.inbound = self.inbound;
        s.outbound = self.outbound;
        s.delivered = self.delivered;
        s.failed = self.failed;
        s.non_template = self.non_template;
        s.marketing = self.marketing;
        s.utility = self.utility;
        s.authentication = self.authentication;
        s.ctwa_messages = self.ctwa;
        s.page_cta_messages = self.page_cta;
        s.rows_after_end = self.after_end;
        s.rows_before_log_start = self.before_start;
        s.inbound_left_out = self.inbound_left_out;
    }
}

/// Rows waiting to be emitted. `Row::id` holds a generation counter until emission, which makes
/// `(ts, id)` a unique sort key (ties in time keep generation order). Rows before `start` and,
/// when `inbound` is false, the users' rows are generated like the others but not emitted
/// (`[log]`): the log is cut, the traffic is not.
pub(super) struct Emitter<'k, S> {
    start: i64,
    inbound: bool,
    end: i64,
    batch: Vec<Row>,
    carry: Vec<Row>,
    spare: Vec<Row>,
    seq: u64,
    pub(super) emitted: u64,
    pub(super) stopped: bool,
    pub(super) counts: Counts,
    sink: &'k mut S,
}

impl<'k, S: FnMut(&Row) -> ControlFlow<()>> Emitter<'k, S> {
    pub(super) fn new(start: i64, inbound: bool, end: i64, sink: &'k mut S) -> Self {
        Emitter {
            start,
            inbound,
            end,
            batch: Vec::with_capacity(1 << 16),
            carry: Vec::with_capacity(1 << 16),
            spare: Vec::with_capacity(1 << 16),
            seq: 0,
            emitted: 0,
            stopped: false,
            counts: Counts::default(),
            sink,
        }
    }

    #[inline]
    pub(super) fn push(&mut self, mut row: Row) {
        if row.ts >= self.end {
            self.counts.after_end += 1;
            return;
        }
        row.id = self.seq;
        self.seq += 1;
        self.batch.push(row);
    }

    /// Emits, in order, every waiting row earlier than `cutoff`.
    pub(super) fn flush(&mut self, cutoff: i64) {
        if self.stopped {
            return;
        }
        self.batch.sort_unstable_by_key(|r| (r.ts, r.id));
        self.spare.clear();
        let (mut i, mut j) = (0, 0);
        let (a, b) = (&self.carry, &self.batch);
        while i < a.len() || j < b.len() {
            let take_a = j >= b.len() || (i < a.len() && (a[i].ts, a[i].id) < (b[j].ts, b[j].id));
            let row = if take_a {
                i += 1;
                a[i - 1]
            } else {
                j += 1;
                b[j - 1]
            };
            if row.ts < cutoff && !self.stopped {
                if row.ts < self.start {
                    self.counts.before_start += 1;
                    continue;
                }
                if !self.inbound && row.direction == Direction::In {
                    self.counts.inbound_left_out += 1;
                    continue;
                }
                self.emitted += 1;
                let mut r = row;
                r.id = self.emitted;
                count(&mut self.counts, &r);
                if (self.sink)(&r).is_break() {
                    self.stopped = true;
                }
            } else if row.ts >= cutoff {
                self.spare.push(row);
            }
        }
        std::mem::swap(&mut self.carry, &mut self.spare);
        self.batch.clear();
    }
}

#[inline]
fn count(c: &mut Counts, r: &Row) {
    c.rows += 1;
    match r.direction {
        Direction::In => {
            c.inbound += 1;
            match r.entry_point {
                Some(EntryPoint::Ctwa) => c.ctwa += 1,
                Some(EntryPoint::PageCta) => c.page_cta += 1,
                None => {}
            }
        }
        Direction::Out => {
            c.outbound += 1;
            match r.status {
                Some(Status::Failed) => c.failed += 1,
                _ => c.delivered += 1,
            }
            match r.category {
                Some(TemplateCategory::Marketing) => c.marketing += 1,
                Some(TemplateCategory::Utility) => c.utility += 1,
                Some(TemplateCategory::Authentication) => c.authentication += 1,
                None => c.non_template += 1,
            }
        }
    }
}
