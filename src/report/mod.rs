//! Rendering results for people and programs: the breakdown (table, JSON, CSV) and the ledger.

pub mod breakdown;
pub mod compare;
pub mod ledger;
pub mod table;
