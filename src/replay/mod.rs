//! The replay pipeline: the one layer that sees the billing core and the readers together.
//! A log is replayed in memory ([`memory`]) or, when it is large, partitioned in bounded memory
//! ([`partitioned`]); both feed the same sink ([`sink::Tally`]) and give one [`Summary`], from
//! which `report` builds the JSON, table and CSV. The per-message ledger and the rejects file
//! have one writer ([`ledger`]). [`service`] is the front half every command shares: accounts
//! and rates loaded and checked, the log read, the replay run.

pub mod ledger;
pub mod memory;
pub mod partitioned;
pub mod service;
pub mod sink;

pub use sink::{MessageCounts, RowIssue, Summary, Tally};
