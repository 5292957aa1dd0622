//! Rendering results for people and programs: the breakdown (table, JSON, CSV), the ledger and
//! the reconciliation report.

pub mod breakdown;
pub mod ledger;
pub mod reconcile;
