//! One file per subcommand; each parses nothing itself (clap does) and only wires the pieces:
//! arguments, one library call, printing. Commands do not import each other: what several share
//! (the output format, `--rulebook`, the inputs' defaults, notices and progress) is here.

pub mod compare;
pub mod estimate;
pub mod explain;
pub mod input;
pub mod inspect;
pub mod interrupts;
pub mod limits;
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
use crate::io::accounts_file::parse_accounts;
use crate::io::log::{CsvReader, ReadOptions, Reject};
use crate::io::output::Outputs;
use crate::replay::service::Inputs;
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

/// For `wabill --version`: the rates directory in use and the newest card per currency.
pub fn newest_cards() -> Result<Vec<String>> {
    let dir = rates_dir(None);
    let rates = crate::io::rates_dir::load(&dir)?;
    let mut newest: std::collections::BTreeMap<String, chrono::NaiveDate> = Default::default();
    for c in &rates.book.cards {
        let e = newest.entry(c.currency.clone()).or_insert(c.effective);
        *e = (*e).max(c.effective);
    }
    let mut out = vec![format!("rates: {}", dir.display())];
    out.extend(
        newest
            .iter()
            .map(|(cur, d)| format!("  newest {cur} card: {d}")),
    );
    Ok(out)
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

/// Print a notice on stderr in the house style, its control characters escaped
/// ([`crate::io::text::terminal`]): a value quoted from a file can neither drive the terminal
/// nor start a line of its own. Every message wabill prints on stderr goes through here.
pub fn notice(msg: impl std::fmt::Display) {
    eprintln!("wabill: {}", crate::io::text::terminal(&msg.to_string()));
}

/// The rates directory (`--rates`, else the default), loaded; what it left aside (leftovers of
/// an interrupted import, markets no number maps to) printed as notices.
pub fn load_rates(arg: Option<&Path>) -> Result<crate::io::rates_dir::RatesDir> {
    let rates = crate::io::rates_dir::load(&rates_dir(arg))?;
    for n in &rates.notes {
        notice(n);
    }
    Ok(rates)
}

/// The accounts and rates of a replay, loaded and checked against each other (CONV-6).
/// `currency` is `--currency` (CUR-1): only its WABAs are billed.
pub fn load_inputs(
    accounts: Option<&Path>,
    rates: Option<&Path>,
    currency: Option<&str>,
) -> Result<Inputs> {
    let mut accounts = load_accounts(accounts)?;
    if let Some(c) = currency {
        accounts.choose_currency(c)?;
    }
    accounts.currency()?;
    let rates = load_rates(rates)?;
    Inputs::new(accounts, rates)
}

/// `WABILL_TRACE=1`: phase timings on stderr (for benchmarks).
pub fn trace(phase: &str, since: std::time::Instant) {
    if read_options().trace {
        notice(format_args!(
            "{phase}: {:.3} s",
            since.elapsed().as_secs_f64()
        ));
    }
}

/// A progress callback `(phase, done, of)` drawing on `pb`: a new phase counts (and measures
/// its rate) from zero; a phase of known length shows a bar.
pub fn phase_progress(pb: &ProgressBar) -> impl Fn(&str, u64, u64) + Sync + '_ {
    let phase = std::sync::Mutex::new(String::from("scanning"));
    move |name: &str, done: u64, of: u64| {
        let mut phase = phase.lock().expect("progress");
        if *phase != name {
            *phase = name.to_string();
            if of > 0 {
                pb.set_style(steps_style());
                pb.set_length(of);
            } else {
                pb.set_style(rows_style());
            }
            pb.set_message(name.to_string());
            pb.reset();
        }
        pb.set_position(done);
    }
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

/// Where rejected rows go by default: next to the ledger, else `reports/<log>.rejects.csv`.
pub fn default_rejects_path(log: &Path, ledger: Option<&Path>) -> PathBuf {
    let stem = log
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| "log".into());
    match ledger {
        Some(l) => l.with_file_name(format!("{stem}.rejects.csv")),
        None => PathBuf::from("reports").join(format!("{stem}.rejects.csv")),
    }
}

/// The inputs every replaying command reads: the log, the accounts file and every file of the
/// rates folder (for [`Outputs`], the guard that keeps outputs off them).
pub fn replay_inputs(log: &Path, accounts: Option<&Path>, rates: Option<&Path>) -> Outputs {
    let mut o = Outputs::new();
    o.input("the log", log);
    if let Some(a) = accounts {
        o.input("the accounts file", a);
    }
    o.input_tree("the rates folder's file", &rates_dir(rates));
    o
}

/// The rejects file's path and its label for [`Outputs`]: `--rejects`, or the default.
pub fn rejects_output<'a>(
    explicit: Option<&'a Path>,
    default: &'a Path,
) -> (&'static str, &'a Path) {
    match explicit {
        Some(p) => ("--rejects", p),
        None => ("the rejects file (the default; set --rejects)", default),
    }
}

/// Before a partitioned replay: remove the spill folders that killed runs left in `parent`,
/// each with a notice.
pub fn sweep_spills(parent: &Path) {
    for (dir, pid) in crate::replay::partitioned::sweep_stale(parent) {
        notice(format_args!(
            "removed {}, left by an earlier run (process {pid}, no longer running)",
            dir.display()
        ));
    }
}

/// Report the rejects of `file` on stderr (the first ten) and write them to `path`; returns
/// their count. Without rejects, a rejects file at `path` from an earlier run is removed (with a
/// notice), so that a file there always describes the latest run; a file there that is not a
/// rejects file is left alone.
pub fn handle_rejects(file: &str, rejects: &[Reject], path: &Path) -> Result<usize> {
    let n = rejects.len();
    if n == 0 {
        if crate::replay::ledger::is_rejects_file(path) {
            std::fs::remove_file(path)
                .with_context(|| format!("cannot remove {}", path.display()))?;
            notice(format_args!(
                "no row rejected: removed {}, left by an earlier run",
                path.display()
            ));
        }
        return Ok(0);
    }
    for r in rejects.iter().take(10) {
        notice(format_args!(
            "{}: row {}, column `{}`, value `{}`: {}",
            file, r.row, r.column, r.value, r.message
        ));
    }
    if n > 10 {
        notice(format_args!("… and {} more rejected row(s)", n - 10));
    }
    crate::replay::ledger::write_rejects(path, file, rejects)?;
    notice(format_args!(
        "{n} row(s) rejected, written to {}",
        path.display()
    ));
    Ok(n)
}

/// A file of which nothing could be read is an error, not a zero bill: every one of its `rows`
/// data rows was rejected (the rejects file is written first). Names the first reasons.
pub fn nothing_read(file: &str, rows: u64, rejects: &[Reject]) -> Result<()> {
    if rows == 0 || (rejects.len() as u64) < rows {
        return Ok(());
    }
    let mut reasons: Vec<&str> = Vec::new();
    for r in rejects {
        if !reasons.contains(&r.message.as_str()) {
            reasons.push(&r.message);
        }
        if reasons.len() == 3 {
            break;
        }
    }
    anyhow::bail!(
        "{file}: nothing could be billed: all {rows} row(s) were rejected (first reasons: {})",
        reasons.join("; ")
    )
}
