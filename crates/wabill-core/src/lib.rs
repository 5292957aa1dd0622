//! The pure billing core: rules by rulebook, windows, tiers, money, markets and rate lookup.
//!
//! Nothing in here reads files, reads the clock or draws random numbers (rust-analyzer style
//! architecture invariant): every function takes plain values and returns plain values, so the
//! rules can be tested in isolation and replayed deterministically. The crate depends on no I/O,
//! format or UI crate (`tests/tidy.rs` keeps it so); the files' syntax is read by `wabill::io`.
//!
//! The modules follow the spec (docs/spec/billing-rules.md): [`rulebook`] (§1), [`window`] with
//! `cbp` (§2) and `pmp` (§3) for pass 1, [`pricing`] with `free_tier` (CBP-7), `tiers` (PMP-4)
//! and `allowance` (PMP-5) for pass 2, [`markets`] (§4), [`rates`] (§5), [`reconcile`] (§6).
//! [`engine`] is the replay's entry point and names its parts.

pub mod accounts;
pub mod calendar;
pub mod context;
pub mod engine;
pub mod estimate;
pub mod ids;
pub mod markets;
pub mod meta;
pub mod model;
pub mod money;
pub mod pass;
pub mod phone;
pub mod pricing;
pub mod provider;
pub mod rates;
pub mod reconcile;
pub mod rulebook;
mod scatter;
pub mod totals;
pub mod types;
pub mod window;

pub use money::Money;
pub use types::*;
