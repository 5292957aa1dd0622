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
use crate::io::accounts_file::parse_accounts;

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

/// The accounts file, or the documented default (one WABA `default`, UTC, USD).
pub fn load_accounts(path: Option<&Path>) -> Result<Accounts> {
    match path {
        None => Ok(Accounts::default_single()),
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read accounts file {}", p.display()))?;
            parse_accounts(&text).with_context(|| format!("in {}", p.display()))
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
