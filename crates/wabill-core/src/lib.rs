//! The pure billing core: rules by rulebook, windows, tiers, money, markets and rate lookup.
//!
//! Nothing in here reads files, reads the clock or draws random numbers (rust-analyzer style
//! architecture invariant): every function takes plain values and returns plain values, so the
//! rules can be tested in isolation and replayed deterministically.

pub mod accounts;
pub mod calendar;
pub mod engine;
pub mod estimate;
pub mod markets;
pub mod meta;
pub mod money;
pub mod provider;
pub mod rates;
pub mod reconcile;
pub mod types;

pub use money::Money;
pub use types::*;
