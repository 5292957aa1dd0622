//! Rendering results for people and programs: the breakdown (table, JSON, CSV), the ledger, the
//! reconciliation report, comparisons, estimates, rate cards, and report folders (aggregated
//! series, charts, HTML and Markdown). Money and numbers for display are formatted in one place,
//! [`format`].

pub mod breakdown;
pub mod charts;
pub mod compare;
pub mod estimate;
pub mod format;
pub mod html;
pub mod markdown;
pub mod missing_rates;
pub mod rates;
pub mod reconcile;
pub mod rules;
pub mod series;
pub mod site;
pub mod table;
