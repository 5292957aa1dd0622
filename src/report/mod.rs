//! Rendering results for people and programs: the breakdown (table, JSON, CSV), the ledger, and
//! report folders (aggregated series, charts, HTML and Markdown pages).

pub mod breakdown;
pub mod charts;
pub mod html;
pub mod ledger;
pub mod series;
pub mod site;
