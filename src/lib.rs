//! wabill: what WhatsApp Business Platform messaging costs, will cost, or would have cost.
//!
//! A deterministic replay engine: a message log in, the rulebook and rate card in force applied
//! to every message, exact cost breakdowns and a per-message ledger out. See ARCHITECTURE.md.

/// The pure billing core (crate `wabill-core`), under the name the rest of the tree uses.
pub use wabill_core as billing;
pub mod cmd;
pub mod io;
pub mod replay;
pub mod report;
pub mod toml_text;
pub mod traffic;
