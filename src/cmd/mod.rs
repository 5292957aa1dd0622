//! One file per subcommand; each parses nothing itself (clap does) and only wires the pieces.

pub mod compare;
pub mod estimate;
pub mod rates;
pub mod reconcile;
pub mod replay;
pub mod synth;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::billing::accounts::Accounts;
use crate::io::log::{CsvReader, ReadOptions};

/// The rates directory: `--rates`, else `$WABILL_RATES`, else `./rates`, else the project's.
pub fn rates_dir(arg: Option<&Path>) -> PathBuf {
    if let Some(p) = arg {
        return p.to_path_buf();
    }
    if let Ok(p) = std::env::var("WABILL_RATES") {
        return PathBuf::from(p);
    }
    let local = PathBuf::from("rates");
    if local.join("market_map.csv").exists() {
        return local;
    }
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/rates"))
}

/// How this run reads logs, from the environment, read once here for the whole run (the library
/// reads no environment variable): `WABILL_PLAIN_READER=1` reads CSV with the csv crate one
/// record at a time (the reference the block reader is tested against), `WABILL_TRACE=1` prints
/// phase timings on stderr. The rulebook follows the date (`auto_rulebook`) unless the caller
/// says otherwise.
pub fn read_options() -> ReadOptions {
    static FROM_ENV: std::sync::OnceLock<ReadOptions> = std::sync::OnceLock::new();
    *FROM_ENV.get_or_init(|| ReadOptions {
        reader: if std::env::var_os("WABILL_PLAIN_READER").is_some() {
            CsvReader::Plain
        } else {
            CsvReader::Block
        },
        trace: std::env::var_os("WABILL_TRACE").is_some(),
        ..ReadOptions::default()
    })
}

/// The accounts file, or the documented default (one WABA `default`, UTC, USD).
pub fn load_accounts(path: Option<&Path>) -> Result<Accounts> {
    match path {
        None => Ok(Accounts::default_single()),
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read accounts file {}", p.display()))?;
            Accounts::parse(&text).with_context(|| format!("in {}", p.display()))
        }
    }
}

/// A spinner/counter on stderr, hidden when stderr is not a terminal.
pub fn progress(msg: &str) -> ProgressBar {
    let pb = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    pb.set_style(rows_style());
    pb.set_message(msg.to_string());
    pb
}

/// `⠁ reading 3,233,762 rows (2.7 M/s) 1s`: a count of rows and its rate.
pub fn rows_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {msg} {human_pos} rows ({rate}) {elapsed}")
        .expect("template")
        .with_key(
            "rate",
            |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                let r = s.per_sec();
                let _ = if r >= 1e6 {
                    write!(w, "{:.1} M/s", r / 1e6)
                } else {
                    write!(w, "{:.0}/s", r)
                };
            },
        )
}

/// `[####    ] replaying partitions 12/26 3s`: steps of a known number.
pub fn steps_style() -> ProgressStyle {
    ProgressStyle::with_template("{bar:30} {msg} {pos}/{len} {elapsed}").expect("template")
}

/// Print a notice on stderr in the house style.
pub fn notice(msg: impl std::fmt::Display) {
    eprintln!("wabill: {msg}");
}
