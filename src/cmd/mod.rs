//! One file per subcommand; each parses nothing itself (clap does) and only wires the pieces:
//! arguments, one library call, printing. Commands do not import each other: what several share
//! (the output format, `--rulebook`, the inputs' defaults, notices and progress) is here.

pub mod compare;
pub mod estimate;
pub mod rates;
pub mod reconcile;
pub mod replay;
pub mod synth;

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use clap::ValueEnum;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::billing::accounts::Accounts;
use crate::billing::engine::MissingRate;
use crate::billing::types::Rulebook;
use crate::report::missing_rates::{MissingRates, Remedy};

/// `--format`: what goes to stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Table,
    Json,
    Csv,
}

/// `--rulebook`: `auto` (`None`: the rulebook follows the date) or one rulebook id.
pub fn parse_rulebook(s: &str) -> Result<Option<Rulebook>> {
    if s.eq_ignore_ascii_case("auto") {
        Ok(None)
    } else {
        s.parse::<Rulebook>().map(Some).map_err(anyhow::Error::msg)
    }
}

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

/// Write `out` to stdout and flush (a closed pipe comes back as an error, which `main` ends
/// quietly).
pub fn print_stdout(out: &str) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(out.as_bytes())?;
    stdout.flush()?;
    Ok(())
}

/// Each missing rate as a notice, then the error that ends the command
/// ([`MissingRates`]: one wording for every command).
pub fn missing_rates(rates: &[MissingRate], remedy: Remedy) -> anyhow::Error {
    for x in rates {
        notice(x);
    }
    anyhow!(
        "{}",
        MissingRates::Rates {
            count: rates.len(),
            remedy
        }
    )
}
