//! Rendering results for people and programs: the breakdown (table, JSON, CSV) and the ledger.

pub mod breakdown;
pub mod ledger;
