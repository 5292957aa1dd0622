//! Where readers send rows, in file order: the in-memory [`super::builder::LogBuilder`], or the
//! partitioned replay's spill writer.

use super::schema::{parse_row, Fields, Parsed, Reject, RowRules};
use crate::billing::meta::MetaPricing;

/// A consumer of validated rows. Readers call [`RowSink::push`] (or [`RowSink::absorb`] when they
/// validated in parallel) once per data row, in file order.
pub(crate) trait RowSink<'a> {
    /// The validation rules ([`parse_row`] runs in parallel with a copy of them).
    fn rules(&self) -> RowRules<'a>;
    /// Count one more data row (read or not); its number, from 1.
    fn next_row(&mut self) -> u64;
    /// Rows seen so far (data rows, rejected ones included).
    fn rows(&self) -> u64;
    /// Keep a valid row.
    fn keep(&mut self, p: &Parsed, row: u64);
    /// Keep a rejected row.
    fn reject(&mut self, r: Reject);
    /// Reserve room for about `rows` more rows.
    fn reserve(&mut self, _rows: usize) {}
    /// Meta's own pricing of data row `row` (webhooks: what Meta billed), kept to be compared
    /// with the replay's decision ([`crate::billing::meta::meta_pricing_issues`]).
    fn meta_pricing(&mut self, _row: u64, _pricing: MetaPricing) {}
    /// The sink cannot take more rows (the partitioned scan's disk is full): readers stop at
    /// their next block, piece or line, and the caller reports the sink's error.
    fn stopped(&self) -> bool {
        false
    }
    /// Add one validated row (or its rejection) in file order; `record` renders the raw row
    /// for the rejects file (only called on reject).
    fn absorb(
        &mut self,
        parsed: Result<Parsed, (usize, String)>,
        f: &Fields,
        record: &dyn Fn() -> String,
    ) {
        let row = self.next_row();
        match parsed {
            Ok(p) => self.keep(&p, row),
            Err((col, message)) => self.reject(Reject::of_field(row, col, message, f, record)),
        }
    }
    /// Reject a row that could not even be split into fields.
    fn push_unreadable(&mut self, message: String, record: String) {
        let row = self.next_row();
        self.reject(Reject::unreadable(row, message, record));
    }
    /// Reject a line that cannot be split into fields, naming the column and value at fault.
    fn reject_line(&mut self, column: String, value: String, message: String, record: String) {
        let row = self.next_row();
        self.reject(Reject {
            row,
            column,
            value,
            message,
            record,
        });
    }
    /// Validate and add one row.
    fn push(&mut self, f: &Fields, record: &dyn Fn() -> String) {
        let parsed = parse_row(f, &self.rules());
        self.absorb(parsed, f, record);
    }
}
