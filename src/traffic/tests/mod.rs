//! Tests of the generator as a whole: scenario errors, determinism, statistical shape, number
//! validity, and the rules generated traffic must respect (CONV-2 windows, PMP-7).
//! Kept in the crate (not `tests/`) so they move with the module into the main crate.
//! This file holds the shared fixtures; each file below is one area.

use crate::traffic::*;

mod charges;
mod generation;
mod log_shape;
mod numbers;
mod scenarios;
mod writers;

const SUPPORT: &str = include_str!("../../../data/scenarios/support.toml");
const SAMPLE: &str = include_str!("../../../data/scenarios/sample.toml");
const CAMPAIGN_BRAZIL: &str = include_str!("../../../data/scenarios/campaign-brazil.toml");
const SUPPORT_2026: &str = include_str!("../../../data/scenarios/support-2026.toml");

fn scenario(text: &str) -> Scenario {
    parse_scenario(text).unwrap_or_else(|e| panic!("{e}"))
}

fn csv_bytes(s: &Scenario, seed: u64) -> Vec<u8> {
    generate_to(s, seed, Format::Csv, Vec::new(), &mut |_| {})
        .unwrap()
        .1
}

/// A small scenario for error tests; `extra` is appended.
fn minimal(extra: &str) -> String {
    format!("[period]\nstart = 2025-05-01\nend = 2025-05-31\n[audience]\nusers = {{ IN = 10 }}\n{extra}")
}

fn err(text: &str) -> String {
    match parse_scenario(text) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e.to_string(),
    }
}
