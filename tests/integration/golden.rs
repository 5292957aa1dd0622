//! Golden outputs: the README's example outputs and the main error messages of the real binary,
//! pinned as insta snapshots (`snapshots/integration__golden__*.snap`), so that any change to
//! them shows in review. Each snapshot is the command, its exit code, then its stderr and stdout.
//! `readme.rs` checks that the README's own copies of these outputs agree with the program.
//!
//! A changed or missing snapshot fails `cargo test`. To accept a change on purpose, run
//! `cargo insta review` (or `INSTA_UPDATE=always cargo test --test integration golden`) and commit
//! the `.snap` files. Under CI (`CI=true`) insta writes nothing, so a missing snapshot fails too.

use insta::assert_snapshot;

use super::common::wabill;

/// `$ wabill ARGS`, `exit N`, then `--- stderr` and `--- stdout` with their text (when not empty).
pub fn session(args: &[&str]) -> String {
    let output = wabill(args);
    let shown: Vec<String> = args.iter().map(|a| quoted(a)).collect();
    let mut text = format!(
        "$ wabill {}\nexit {}\n",
        shown.join(" "),
        output
            .status
            .code()
            .map_or("none".into(), |c| c.to_string())
    );
    for (name, bytes) in [("stderr", &output.stderr), ("stdout", &output.stdout)] {
        if !bytes.is_empty() {
            text.push_str(&format!("--- {name}\n{}", String::from_utf8_lossy(bytes)));
        }
    }
    text
}

/// An argument as a shell would need it.
fn quoted(arg: &str) -> String {
    if arg.is_empty() || arg.contains(|c: char| c.is_whitespace() || c == '"') {
        format!("{arg:?}")
    } else {
        arg.to_string()
    }
}

// ---------------------------------------------------------------------------------------------
// The README's examples
// ---------------------------------------------------------------------------------------------

/// The README's example: the sample log's bill as a table.
pub const REPLAY_TABLE: &[&str] = &[
    "replay",
    "data/sample.csv",
    "--accounts",
    "data/accounts.toml",
];
/// The README's JSON contract, on the sample log.
pub const REPLAY_JSON: &[&str] = &[
    "replay",
    "data/sample.csv",
    "--accounts",
    "data/accounts.toml",
    "--format",
    "json",
];
/// The README's provider fees example.
pub const REPLAY_PROVIDER: &[&str] = &[
    "replay",
    "data/sample.csv",
    "--accounts",
    "data/accounts-bsp.toml",
];
/// The README's estimate from volumes on the command line.
pub const ESTIMATE: &[&str] = &[
    "estimate",
    "--volume",
    "2026-10,India,utility,250000",
    "--volume",
    "2026-10,Rest of Africa,utility,150000",
    "--volume",
    "2026-10,India,service,5000",
    "--volume",
    "2026-10,Brazil,marketing,40000",
];
/// The README's rulebook what-if on the sample log.
pub const COMPARE_LOG: &[&str] = &[
    "compare",
    "--log",
    "data/sample.csv",
    "--accounts",
    "data/accounts.toml",
    "--rulebook",
    "cbp-2024,pmp-2025,pmp-2026",
];
/// The README's first-contact-resolution sweep (about 150,000 generated rows in all).
pub const COMPARE_STORE: &[&str] = &[
    "compare",
    "data/scenarios/support-2026.toml",
    "--vary",
    "log.inbound=true,false",
];

pub const REPLAY_TWILIO: &[&str] = &[
    "replay",
    "tests/fixtures/providers/twilio-console.csv",
    "--templates",
    "tests/fixtures/providers/templates.json",
];

/// README "Groups, calls, Meta's agent and the other charges of 2026" (billing-rules.md §4b).
pub const CHARGES: &[&str] = &[
    "replay",
    "tests/fixtures/charges/log.csv",
    "--accounts",
    "tests/fixtures/charges/accounts.toml",
    "--rates",
    "tests/fixtures/charges/rates",
];

pub const CHARGES_CURRENCY: &[&str] = &[
    "replay",
    "tests/fixtures/charges/mixed.csv",
    "--accounts",
    "tests/fixtures/charges/accounts-mixed.toml",
    "--rates",
    "tests/fixtures/charges/rates",
    "--currency",
    "MXN",
];

pub const CHARGES_AI: &[&str] = &[
    "replay",
    "tests/fixtures/charges/ai.csv",
    "--accounts",
    "tests/fixtures/charges/accounts-ai.toml",
    "--rates",
    "tests/fixtures/charges/rates",
];

pub const COMPARE_AGENT: &[&str] = &[
    "compare",
    "data/scenarios/support-2026.toml",
    "--vary",
    "agent.share=0,0.3,0.6",
];

pub const EXPLAIN: &[&str] = &["explain", "CBP-9"];

pub const EXPLAIN_ROW: &[&str] = &[
    "explain",
    "--row",
    "1302",
    "data/sample.csv",
    "--accounts",
    "data/accounts.toml",
];

pub const COMPARE_FCR: &[&str] = &[
    "compare",
    "data/scenarios/support-2026.toml",
    "--vary",
    "support.fcr=0.6,0.7,0.8,0.9",
    "--rulebook",
    "pmp-2026",
];

#[test]
fn readme_replay_table() {
    assert_snapshot!("replay_table", session(REPLAY_TABLE));
}

#[test]
fn readme_replay_json() {
    assert_snapshot!("replay_json", session(REPLAY_JSON));
}

#[test]
fn readme_replay_with_provider_fees() {
    assert_snapshot!("replay_provider", session(REPLAY_PROVIDER));
}

#[test]
fn readme_estimate_table_and_json() {
    assert_snapshot!("estimate", session(ESTIMATE));
    let mut json = ESTIMATE[..5].to_vec();
    json.extend(["--format", "json", "--accounts", "data/accounts-bsp.toml"]);
    assert_snapshot!("estimate_json", session(&json));
}

#[test]
fn readme_compare_rulebooks_on_a_log() {
    assert_snapshot!("compare_log", session(COMPARE_LOG));
}

#[test]
fn readme_compare_fcr_sweep() {
    assert_snapshot!("compare_fcr", session(COMPARE_FCR));
}

/// A rule in the specification's words (README "The rules").
#[test]
fn readme_explain_rule() {
    assert_snapshot!("explain_cbp9", session(EXPLAIN));
}

/// The story of one message (README "The rules").
#[test]
fn readme_explain_row() {
    assert_snapshot!("explain_row", session(EXPLAIN_ROW));
}

/// Groups, calls, the agent, max price, currencies, AI providers (README, §4b).
#[test]
fn readme_charges_of_2026() {
    assert_snapshot!("charges", session(CHARGES));
    assert_snapshot!("charges_currency", session(CHARGES_CURRENCY));
    assert_snapshot!("charges_ai", session(CHARGES_AI));
    assert_snapshot!("compare_agent", session(COMPARE_AGENT));
}

/// A provider's export to the bill (README "From your provider's export to the bill").
#[test]
fn readme_replay_twilio_export() {
    assert_snapshot!("replay_twilio", session(REPLAY_TWILIO));
}

/// CONV-4: the same traffic read from the business messages only (a status store).
#[test]
fn readme_compare_status_store() {
    assert_snapshot!("compare_status_store", session(COMPARE_STORE));
}

#[test]
fn compare_scenario_small_rows_as_json() {
    let args = [
        "compare",
        "data/scenarios/support.toml",
        "--rows",
        "3000",
        "--seed",
        "3",
        "--vary",
        "support.fcr=0.6,0.85",
        "--format",
        "json",
    ];
    assert_snapshot!("compare_small_json", session(&args));
}

#[test]
fn rates_list_names_every_card() {
    assert_snapshot!("rates_list", session(&["rates", "list"]));
}

// ---------------------------------------------------------------------------------------------
// Error messages
// ---------------------------------------------------------------------------------------------

#[test]
fn rate4_error_names_market_category_date_and_card() {
    let one = ["replay", "tests/fixtures/errors/saudi-utility.csv"];
    assert_snapshot!("error_missing_rate", session(&one));
    // Every missing (market, category) of the sample, priced with a date before any card.
    let many = [
        "replay",
        "data/sample.csv",
        "--rulebook",
        "pmp-2026",
        "--rates-at",
        "2020-01-01",
    ];
    assert_snapshot!("error_missing_rates", session(&many));
}

#[test]
fn error_files_that_cannot_be_read() {
    assert_snapshot!(
        "error_unreadable_log",
        session(&["replay", "no/such/log.csv"])
    );
    let accounts = [
        "replay",
        "data/sample.csv",
        "--accounts",
        "no/such/accounts.toml",
    ];
    assert_snapshot!("error_unreadable_accounts", session(&accounts));
}

#[test]
fn error_log_without_a_required_column() {
    let args = ["replay", "tests/fixtures/errors/no-timestamp.csv"];
    assert_snapshot!("error_missing_column", session(&args));
}

#[test]
fn error_accounts_with_an_unknown_key() {
    let args = [
        "replay",
        "data/sample.csv",
        "--accounts",
        "tests/fixtures/errors/unknown-key.toml",
    ];
    assert_snapshot!("error_unknown_key", session(&args));
}

#[test]
fn conv6_error_names_the_wabas_and_their_currencies() {
    let args = [
        "replay",
        "data/sample.csv",
        "--accounts",
        "tests/fixtures/errors/mixed-currencies.toml",
    ];
    assert_snapshot!("error_mixed_currencies", session(&args));
}

#[test]
fn error_unknown_rulebook() {
    let args = ["replay", "data/sample.csv", "--rulebook", "pmp-2030"];
    assert_snapshot!("error_unknown_rulebook", session(&args));
}

#[test]
fn error_bad_volumes() {
    let sessions: Vec<String> = [
        "2026-10,India,utility",
        "2026-13,India,utility,5",
        "2026-10,Atlantis,utility,5",
        "2026-10,India,promotion,5",
        "2026-10,India,utility,many",
    ]
    .iter()
    .map(|volume| session(&["estimate", "--volume", volume]))
    .collect();
    assert_snapshot!("error_bad_volume", sessions.join("\n"));
}

#[test]
fn error_bad_vary_value() {
    let args = [
        "compare",
        "data/scenarios/support.toml",
        "--vary",
        "support.fcr=0.6,1.5",
    ];
    assert_snapshot!("error_bad_vary", session(&args));
}
