//! Synthetic WhatsApp Business Platform traffic for wabill.
//!
//! A [`Scenario`] (TOML, see the README) describes an audience and its behaviour: support
//! contacts with first-contact resolution and follow-ups, Click-to-WhatsApp entry points,
//! marketing campaigns, order notifications, one-time passwords, failures. [`generate()`] turns a
//! scenario and a seed into message rows in the log format of formats.md §1, sorted by time,
//! the same bytes for the same inputs on any machine.
//!
//! The generated log is *consistent* with Meta's rules: a non-template business message is only
//! ever delivered while the customer service window is open (so a replay reports no
//! `outside-csw`), and marketing templates to US numbers from 2025-04-01 are `failed` (PMP-7).
//!
//! This module is pure: no files, no clock. The writers take any `io::Write`.
//!
//! ```
//! use wabill::traffic::{parse_scenario, generate_vec, write_csv};
//! let scenario = parse_scenario(r#"
//!     [period]
//!     start = 2025-07-01
//!     end = 2025-07-07
//!     [audience]
//!     users = { BR = 20 }
//! "#).unwrap();
//! let (rows, gen) = generate_vec(&scenario, 42);
//! let csv = write_csv(&gen.population, &rows, Vec::new()).unwrap();
//! assert!(csv.starts_with(b"timestamp,direction,user,type,category,status,entry_point,waba,number,country,id\n"));
//! assert_eq!(gen.summary.rows as usize, rows.len());
//! ```

pub mod countries;
pub mod generate;
pub mod model;
pub mod scale;
pub mod scenario;
pub mod write;

pub use countries::Country;
pub use generate::{
    generate, generate_vec, us_marketing_pause, CampaignSummary, Generated, Progress, Summary,
    Traffic,
};
pub use model::{Direction, EntryPoint, Known, MessageType, Population, Row, User};
pub use scale::{rows_per_user, scale_to_rows};
pub use scenario::{parse_scenario, LogShape, Reengagement, Scenario, ScenarioError, Span};
pub use write::{
    format_timestamp, generate_to, write_csv, write_jsonl, Format, RowWriter, COLUMNS,
};

#[cfg(test)]
mod tests;
