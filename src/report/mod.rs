//! Rendering results for people and programs: the breakdown (table, JSON, CSV), the ledger, the
//! reconciliation report, comparisons, and report folders (aggregated series, charts, HTML and
//! Markdown).

pub mod breakdown;
pub mod charts;
pub mod compare;
pub mod html;
pub mod reconcile;
pub mod series;
pub mod site;
pub mod table;
