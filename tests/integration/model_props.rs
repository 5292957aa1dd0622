//! Model-based property test: logs from `wabill_testing::arb_log` — few users,
//! instants packed around the 24 h and 72 h edges, month ends, rulebook and card switches and
//! market moves, several WABAs in different time zones, random rate cards with tier tables —
//! replayed by the engine and by the reference model (`model.rs`), which must agree on every
//! message's rulebook, category, reason and price, on every unit's month and market, on the
//! issues, the lines and the total, for every rulebook (by date or forced).
//!
//! Longer run: `PROPTEST_CASES=20000 cargo test --test integration model_props`.

use proptest::prelude::*;
use wabill_testing::{arb_log, arb_rulebook, LogSpec, EDGE_ANCHORS};

use super::adapter::both_generated;

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    /// Engine ≡ model on every rulebook (CBP-1…10, PMP-1…7, CONV-1…5, MKT-2, RATE-1).
    #[test]
    fn engine_agrees_with_the_model(log in arb_log(LogSpec::default()), forced in arb_rulebook()) {
        prop_assert!(both_generated(&log, forced), "generated rates cover every charged unit");
    }

    /// Engine ≡ model across the cbp-2022 → cbp-2023 and cbp-2024 → pmp-2025 switches (CBP-9,
    /// CBP-10): rows within a day or two of the switch, rulebook by date.
    #[test]
    fn engine_agrees_with_the_model_across_the_switches(
        log in arb_log(LogSpec::default().anchors(&[EDGE_ANCHORS[1], EDGE_ANCHORS[4]]).span_days(1)),
    ) {
        prop_assert!(both_generated(&log, None), "generated rates cover every charged unit");
    }

    /// Engine ≡ model when a tier table ends early: both name the same missing rates (RATE-4).
    #[test]
    fn engine_agrees_with_the_model_on_partial_tier_tables(
        log in arb_log(LogSpec::default().with_partial_tiers()),
        forced in arb_rulebook(),
    ) {
        both_generated(&log, forced);
    }
}
