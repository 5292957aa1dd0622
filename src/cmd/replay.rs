//! `wabill replay`: price a message log and print the breakdown.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use clap::{Args, ValueEnum};

use crate::billing::engine::{self, BillingError, Context, Replay};
use crate::billing::provider;
use crate::billing::types::Rulebook;
use crate::cmd::{load_accounts, notice, progress, rates_dir, read_options};
use crate::io::log::{read_log, Log, LogFormat, ReadOptions};
use crate::io::rates_dir::{self, RatesDir};
use crate::report::breakdown::{self, JsonCard, JsonReport};
use crate::report::{ledger, site};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

/// `--input-format`: how to read the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InputFormat {
    /// By extension: `.parquet`/`.pq` Parquet, `.jsonl`/`.ndjson`/`.json` JSON Lines, else CSV.
    Auto,
    Csv,
    Jsonl,
    Parquet,
    /// Meta's webhook payloads, one JSON body per line (see `wabill reconcile`).
    Webhooks,
}

impl InputFormat {
    /// The log format for a path.
    pub fn resolve(self, path: &Path) -> LogFormat {
        match self {
            InputFormat::Auto => LogFormat::from_path(path),
            InputFormat::Csv => LogFormat::Csv,
            InputFormat::Jsonl => LogFormat::Jsonl,
            InputFormat::Parquet => LogFormat::Parquet,
            InputFormat::Webhooks => LogFormat::Webhooks,
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct ReplayArgs {
    /// The message log: CSV, JSON Lines (.jsonl) or Parquet (.parquet), or Meta's webhooks
    /// with `--input-format webhooks`.
    pub log: PathBuf,
    /// How to read the log; `auto` goes by the extension.
    #[arg(long, value_enum, default_value_t = InputFormat::Auto)]
    pub input_format: InputFormat,
    /// Accounts file (TOML): portfolio, WABAs with time zone and currency.
    #[arg(long)]
    pub accounts: Option<PathBuf>,
    /// Rates directory (cards and market table); default: the project's `rates/`.
    #[arg(long)]
    pub rates: Option<PathBuf>,
    /// `auto` follows the date; any other forces one rulebook for the whole replay.
    #[arg(long, default_value = "auto")]
    pub rulebook: String,
    /// Price every message with the rate card (and market table) in force on this date instead
    /// of its own date, e.g. `--rulebook pmp-2026 --rates-at 2026-10-01`: last year's traffic
    /// under today's rules and rates.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub rates_at: Option<chrono::NaiveDate>,
    /// Output on stdout.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write the per-message ledger (CSV, or Parquet by extension).
    #[arg(long)]
    pub ledger: Option<PathBuf>,
    /// Where rejected rows go (default: next to the ledger, else reports/<log>.rejects.csv).
    #[arg(long)]
    pub rejects: Option<PathBuf>,
    /// Exit with code 1 when any row is rejected or any issue is found.
    #[arg(long)]
    pub strict: bool,
    /// Also write the webhook payloads Meta would send if it billed as wabill did (one JSON body
    /// per line; the input of `wabill reconcile --webhooks`).
    #[arg(long, value_name = "FILE")]
    pub emit_webhooks: Option<PathBuf>,
    /// Write a report folder: index.html (self-contained, charts inline), summary.md,
    /// breakdown.csv, data.json and charts/*.svg|png. Without DIR: reports/<log name>/.
    #[arg(long, value_name = "DIR", num_args = 0..=1)]
    pub report: Option<Option<PathBuf>>,
    /// Replay in N partitions through temporary files, in bounded memory, for logs larger than
    /// memory (same breakdown and ledger; no report or webhooks). Default: partitioned
    /// automatically from 2.5 million rows unless a report or webhooks are asked for (about
    /// 400,000 rows a partition, at most 128); 0 = always in memory.
    #[arg(long, value_name = "N")]
    pub partitions: Option<usize>,
    /// Folder for the partitioned replay's temporary files (default: the system's temp folder).
    #[arg(long, value_name = "DIR")]
    pub spill_dir: Option<PathBuf>,
}

pub fn parse_rulebook(s: &str) -> Result<Option<Rulebook>> {
    if s.eq_ignore_ascii_case("auto") {
        Ok(None)
    } else {
        s.parse::<Rulebook>().map(Some).map_err(anyhow::Error::msg)
    }
}

/// Everything a replay produced, for `replay`, `compare` and reports.
pub struct Replayed {
    pub log: Log,
    pub rates: RatesDir,
    pub accounts: crate::billing::accounts::Accounts,
    pub replay: Replay,
    pub forced: Option<Rulebook>,
}

impl Replayed {
    /// Webhook payloads for this replay (see [`crate::io::webhooks::webhooks_from_replay`]).
    pub fn webhooks(&self) -> String {
        crate::io::webhooks::webhooks_from_replay(&self.log, &self.replay, &self.accounts)
    }

    pub fn json(&self) -> JsonReport {
        let mut r = breakdown::json_report(&self.log, &self.replay, self.forced, self.cards_used());
        if self.accounts.provider.is_some() {
            let tallies = provider::tally(&self.log.events, &self.log.chats, &self.replay);
            breakdown::add_provider(
                &mut r,
                &self.accounts,
                &tallies,
                &self.replay.lines,
                self.replay.total,
            );
        }
        r
    }

    /// Cards of the replay currency, for provenance.
    pub fn cards_used(&self) -> Vec<JsonCard> {
        cards_of(&self.rates, &self.replay.currency)
    }
}

/// The rate cards of `currency`, for provenance.
fn cards_of(rates: &RatesDir, currency: &str) -> Vec<JsonCard> {
    rates
        .book
        .cards
        .iter()
        .filter(|c| c.currency == currency)
        .map(|c| JsonCard {
            currency: c.currency.clone(),
            effective: c.effective.to_string(),
            source: c.source.clone(),
        })
        .collect()
}

/// The accounts and rates of a replay, checked against each other (CONV-6: one currency per
/// replay, checked before reading the log).
pub fn load_inputs(
    accounts: Option<&Path>,
    rates: Option<&Path>,
) -> Result<(crate::billing::accounts::Accounts, RatesDir)> {
    let accounts = load_accounts(accounts)?;
    let currency = accounts.currency()?;
    let rates = rates_dir::load(&rates_dir(rates))?;
    if !rates.book.cards.iter().any(|c| c.currency == currency) {
        bail!(
            "no rate card in {} for currency {currency} (have: {})",
            rates.root.display(),
            rates.book.currencies().join(", ")
        );
    }
    Ok((accounts, rates))
}

/// Load, read and price: the shared front half of every command that replays a log.
pub fn load_and_replay(
    log_path: &Path,
    format: LogFormat,
    accounts: Option<&Path>,
    rates: Option<&Path>,
    forced: Option<Rulebook>,
) -> Result<(Log, RatesDir, crate::billing::accounts::Accounts)> {
    let (accounts, rates) = load_inputs(accounts, rates)?;
    let t0 = std::time::Instant::now();
    let pb = progress("reading");
    let read = ReadOptions {
        auto_rulebook: forced.is_none(),
        ..read_options()
    };
    let log = read_log(log_path, format, &accounts, &rates.markets, &read, &|n| {
        pb.set_position(n)
    })?;
    pb.finish_and_clear();
    trace("read", t0);
    Ok((log, rates, accounts))
}

pub fn price(
    log: Log,
    rates: RatesDir,
    accounts: crate::billing::accounts::Accounts,
    forced: Option<Rulebook>,
) -> Result<Replayed> {
    price_at(log, rates, accounts, forced, None)
}

/// [`price`] with every message priced at the rate card and market table of `rates_at`.
pub fn price_at(
    log: Log,
    rates: RatesDir,
    accounts: crate::billing::accounts::Accounts,
    forced: Option<Rulebook>,
    rates_at: Option<chrono::NaiveDate>,
) -> Result<Replayed> {
    let ctx = Context {
        accounts: &accounts,
        rates: &rates.book,
        markets: &rates.markets,
        forced,
        rates_at,
    };
    let t0 = std::time::Instant::now();
    let replay = match engine::replay(&log.events, &log.chats, &log.countries, &ctx) {
        Ok(r) => r,
        Err(BillingError::MissingRates(m)) => {
            for x in &m {
                notice(x);
            }
            bail!(
                "{} missing rate(s); add them to the rates directory (`wabill rates import`) or fix the log",
                m.len()
            );
        }
    };
    trace("price", t0);
    Ok(Replayed {
        log,
        rates,
        accounts,
        replay,
        forced,
    })
}

fn log_stem(args: &ReplayArgs) -> String {
    args.log
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| "log".into())
}

/// `--report DIR`, or `reports/<log stem>/` for a bare `--report`.
fn report_dir(args: &ReplayArgs) -> Option<PathBuf> {
    args.report.as_ref().map(|d| {
        d.clone()
            .unwrap_or_else(|| PathBuf::from("reports").join(log_stem(args)))
    })
}

/// Build and write the report folder of a replay.
pub fn write_report(
    r: &Replayed,
    report: &JsonReport,
    dir: &Path,
    rates_label: &str,
) -> Result<()> {
    let log_name = Path::new(&r.log.path)
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| r.log.path.clone());
    let built = site::build(&site::Input {
        log: &r.log,
        replay: &r.replay,
        markets: &r.rates.markets,
        accounts: &r.accounts,
        rates: &r.rates.book,
        report,
        log_name: &log_name,
        rates_label,
    })?;
    built.write(dir)?;
    notice(format_args!(
        "report written to {}",
        dir.join("index.html").display()
    ));
    Ok(())
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

/// Report and write rejects; returns their count.
pub fn handle_rejects(log: &Log, path: &Path) -> Result<usize> {
    let n = log.rejects.len();
    if n > 0 {
        for r in log.rejects.iter().take(10) {
            notice(format_args!(
                "{}: row {}, column `{}`, value `{}`: {}",
                log.path, r.row, r.column, r.value, r.message
            ));
        }
        if n > 10 {
            notice(format_args!("… and {} more rejected row(s)", n - 10));
        }
        ledger::write_rejects(path, log)?;
        notice(format_args!(
            "{n} row(s) rejected, written to {}",
            path.display()
        ));
    }
    Ok(n)
}

pub fn run(args: ReplayArgs) -> Result<i32> {
    let forced = parse_rulebook(&args.rulebook)?;
    let format = args.input_format.resolve(&args.log);
    if let Some(parts) = partitions_for(&args, format)? {
        return run_partitioned(&args, format, forced, parts);
    }
    let (log, rates, accounts) = load_and_replay(
        &args.log,
        format,
        args.accounts.as_deref(),
        args.rates.as_deref(),
        forced,
    )?;
    let rejected = handle_rejects(
        &log,
        &args
            .rejects
            .clone()
            .unwrap_or_else(|| default_rejects_path(&args.log, args.ledger.as_deref())),
    )?;
    let r = price_at(log, rates, accounts, forced, args.rates_at)?;
    if let Some(path) = &args.ledger {
        ledger::write(path, &r.log, &r.replay, &r.rates.markets, &r.accounts)?;
    }
    if let Some(path) = &args.emit_webhooks {
        crate::io::output::write_atomic(path, r.webhooks().as_bytes())?;
    }
    let report = r.json();
    if let Some(dir) = report_dir(&args) {
        let rates_label = if args.rates.is_none() && std::env::var_os("WABILL_RATES").is_none() {
            "rates/ (the rate cards shipped with wabill)".to_string()
        } else {
            r.rates.root.display().to_string()
        };
        write_report(&r, &report, &dir, &rates_label)?;
    }
    finish(&args, &report, &r.replay.lines, rejected)
}

/// `--partitions`, or the automatic choice: `Some(n)` to replay in `n` partitions.
fn partitions_for(args: &ReplayArgs, format: LogFormat) -> Result<Option<usize>> {
    // The report and the webhooks need every message's outcome at once (the ledger does not:
    // the partitioned replay writes it partition by partition).
    let in_memory_only = args.report.is_some() || args.emit_webhooks.is_some();
    match args.partitions {
        Some(n) if n > 0 && in_memory_only => bail!(
            "--report and --emit-webhooks need every message's outcome in memory (drop --partitions)"
        ),
        Some(n) if n > 0 && format == LogFormat::Webhooks => {
            bail!("--partitions reads CSV, JSON Lines or Parquet logs, not webhooks")
        }
        None if in_memory_only || format == LogFormat::Webhooks => Ok(None),
        requested => Ok(crate::scale::partitions(requested, &args.log, format)),
    }
}

/// The breakdown on stdout, the first issues on stderr, and the exit code: 1 under `--strict`
/// when a row was rejected or an issue found.
fn finish(
    args: &ReplayArgs,
    report: &JsonReport,
    lines: &[engine::Line],
    rejected: usize,
) -> Result<i32> {
    let out = match args.format {
        Format::Json => {
            let mut s = serde_json::to_string_pretty(report)?;
            s.push('\n');
            s
        }
        // The CSV is Meta's lines only (its columns are a contract); provider fees are in the
        // table and the JSON.
        Format::Csv => breakdown::csv(lines),
        Format::Table => breakdown::table(report),
    };
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(out.as_bytes())?;
    stdout.flush()?;
    for i in report.issues.iter().take(5) {
        notice(format_args!(
            "issue {} ({}) at row {}: {}",
            i.code, i.rule, i.row, i.message
        ));
    }
    if report.issues.len() > 5 {
        notice(format_args!(
            "… {} issue(s) in all (see --format json)",
            report.issues.len()
        ));
    }
    let strict_failure = rejected > 0 || !report.issues.is_empty();
    Ok(if args.strict && strict_failure { 1 } else { 0 })
}

/// The partitioned replay (bounded memory): same breakdown, rejects and exit code.
fn run_partitioned(
    args: &ReplayArgs,
    format: LogFormat,
    forced: Option<Rulebook>,
    parts: usize,
) -> Result<i32> {
    let (accounts, rates) = load_inputs(args.accounts.as_deref(), args.rates.as_deref())?;
    let ctx = Context {
        accounts: &accounts,
        rates: &rates.book,
        markets: &rates.markets,
        forced,
        rates_at: args.rates_at,
    };
    let spill = args.spill_dir.clone().unwrap_or_else(std::env::temp_dir);
    if args.partitions.is_none() {
        notice(format_args!(
            "large log: replaying in {parts} partitions through {} (--partitions 0 keeps it in memory)",
            spill.display()
        ));
    }
    let t0 = std::time::Instant::now();
    let pb = progress("scanning");
    let phase = std::sync::Mutex::new(String::from("scanning"));
    let on_progress = |name: &str, done: u64, of: u64| {
        let mut phase = phase.lock().expect("progress");
        if *phase != name {
            // A new phase counts (and measures its rate) from zero.
            *phase = name.to_string();
            if of > 0 {
                pb.set_style(crate::cmd::steps_style());
                pb.set_length(of);
            } else {
                pb.set_style(crate::cmd::rows_style());
            }
            pb.set_message(name.to_string());
            pb.reset();
        }
        pb.set_position(done);
    };
    let result = crate::scale::replay_partitioned(
        &args.log,
        format,
        &accounts,
        &ctx,
        read_options(),
        parts,
        &spill,
        args.ledger.as_deref(),
        &on_progress,
    );
    pb.finish_and_clear();
    trace("partitioned replay", t0);
    let mut p = match result {
        Ok(p) => p,
        Err(crate::scale::ScaleError::Billing(BillingError::MissingRates(m))) => {
            for x in &m {
                notice(x);
            }
            bail!(
                "{} missing rate(s); add them to the rates directory (`wabill rates import`) or fix the log",
                m.len()
            );
        }
        Err(e) => return Err(e.into()),
    };
    let rejects_log = Log {
        path: args.log.display().to_string(),
        rows: p.messages.rows,
        rejects: std::mem::take(&mut p.rejects),
        ..Log::default()
    };
    let rejected = handle_rejects(
        &rejects_log,
        &args
            .rejects
            .clone()
            .unwrap_or_else(|| default_rejects_path(&args.log, args.ledger.as_deref())),
    )?;
    let report = p.json(&accounts, forced, cards_of(&rates, &p.currency));
    finish(args, &report, &p.lines, rejected)
}
