//! `wabill replay`: price a message log and print the breakdown.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use clap::Args;

use crate::billing::engine::{BillingError, Line};
use crate::billing::money::Overflow;
use crate::billing::types::Rulebook;
use crate::cmd::{
    default_rejects_path, handle_rejects, load_inputs, missing_rates, nothing_read, notice,
    parse_rulebook, progress, read_options, rejects_output, replay_inputs, sweep_spills, trace,
    OutputFormat as Format,
};
use crate::io::log::{LogFormat, ReadOptions};
use crate::replay::ledger;
use crate::replay::partitioned::{self, PartitionError, Request};
use crate::replay::service::{self, Inputs, Replayed};
use crate::replay::Summary;
use crate::report::breakdown::{self, JsonReport};
use crate::report::missing_rates::Remedy;
use crate::report::site;

use super::input::InputArgs;
pub use super::input::InputFormat;

#[derive(Debug, Clone, Args)]
pub struct ReplayArgs {
    /// The message log: CSV, JSON Lines (.jsonl) or Parquet (.parquet), or Meta's webhooks
    /// with `--input-format webhooks`.
    pub log: PathBuf,
    #[command(flatten)]
    pub input: InputArgs,
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
    /// Where rejected rows go (default: next to the ledger, else reports/<log>.rejects.csv);
    /// a run without rejects removes the rejects file an earlier run left there.
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
    /// breakdown.csv, data.json and charts/*.svg|png. Without DIR: reports/<log name>/. DIR is
    /// new, empty or a report wabill wrote; it is replaced as a unit (other files kept).
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

/// What to change when rates are missing: under a forced rulebook without `--rates-at`, the card
/// too (a rulebook's categories may be missing from the cards of the log's dates).
fn remedy(forced: Option<Rulebook>, rates_at: Option<chrono::NaiveDate>) -> Remedy {
    if forced.is_some() && rates_at.is_none() {
        Remedy::FixTheLogOrRatesAt
    } else {
        Remedy::FixTheLog
    }
}

pub fn run(args: ReplayArgs) -> Result<i32> {
    let forced = parse_rulebook(&args.rulebook)?;
    let format = args.input.resolve(&args.log)?;
    let rejects_path = args
        .rejects
        .clone()
        .unwrap_or_else(|| default_rejects_path(&args.log, args.ledger.as_deref()));
    check_outputs(&args, &rejects_path)?;
    if let Some(parts) = partitions_for(&args, format)? {
        let inputs = load_inputs(
            args.accounts.as_deref(),
            args.rates.as_deref(),
            args.input.currency.as_deref(),
        )?;
        let summary = run_partitioned(&args, format, &inputs, forced, parts)?;
        super::input::mapped_notices(format);
        let file = args.log.display().to_string();
        let rejected = handle_rejects(&file, &summary.rejects, &rejects_path)?;
        nothing_read(&file, summary.messages.rows, &summary.rejects)?;
        let report = json(&summary, &inputs, forced)?;
        return finish(&args, &report, &summary.lines, rejected);
    }
    let inputs = load_inputs(
        args.accounts.as_deref(),
        args.rates.as_deref(),
        args.input.currency.as_deref(),
    )?;
    let t0 = std::time::Instant::now();
    let pb = progress("reading");
    let read = ReadOptions {
        auto_rulebook: forced.is_none(),
        ..read_options()
    };
    let log = inputs.read(&args.log, format, &read, &|n| pb.set_position(n))?;
    pb.finish_and_clear();
    trace("read", t0);
    super::input::mapped_notices(format);
    let rejected = handle_rejects(&log.path, &log.rejects, &rejects_path)?;
    nothing_read(&log.path, log.rows, &log.rejects)?;
    let t0 = std::time::Instant::now();
    let r = service::price(log, inputs, forced, args.rates_at).map_err(|e| match e {
        BillingError::MissingRates(m) => missing_rates(&m, remedy(forced, args.rates_at)),
        other => other.into(),
    })?;
    trace("price", t0);
    if let Some(path) = &args.ledger {
        ledger::write(path, &r.log, &r.replay, &r.rates.markets, &r.accounts)?;
    }
    if let Some(path) = &args.emit_webhooks {
        crate::io::output::write_atomic(path, r.webhooks().as_bytes())?;
    }
    let report = breakdown::json(
        &r.summary,
        &r.accounts,
        forced,
        breakdown::rate_cards(&r.rates.book, &r.summary.currency),
    )?;
    if let Some(dir) = report_dir(&args) {
        let rates_label = if args.rates.is_none() && std::env::var_os("WABILL_RATES").is_none() {
            "rates/ (the rate cards shipped with wabill)".to_string()
        } else {
            r.rates.root.display().to_string()
        };
        write_report(&r, &report, &dir, &rates_label)?;
    }
    finish(&args, &report, &r.summary.lines, rejected)
}

/// Before anything is read: no output is an input or another output, and the report folder is
/// one wabill may replace.
fn check_outputs(args: &ReplayArgs, rejects: &Path) -> Result<()> {
    let mut o = replay_inputs(&args.log, args.accounts.as_deref(), args.rates.as_deref());
    if let Some(p) = &args.ledger {
        o.file("--ledger", p)?;
    }
    let (label, path) = rejects_output(args.rejects.as_deref(), rejects);
    o.file(label, path)?;
    if let Some(p) = &args.emit_webhooks {
        o.file("--emit-webhooks", p)?;
    }
    if let Some(dir) = report_dir(args) {
        o.folder("--report", &dir)?;
        site::check_folder(&dir).map_err(|e| anyhow::anyhow!("--report {e}"))?;
    }
    Ok(())
}

/// The JSON object of a summary, with the cards of its currency for provenance.
fn json(
    summary: &Summary,
    inputs: &Inputs,
    forced: Option<Rulebook>,
) -> Result<JsonReport, Overflow> {
    let cards = breakdown::rate_cards(&inputs.rates.book, &summary.currency);
    breakdown::json(summary, &inputs.accounts, forced, cards)
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
        requested => Ok(partitioned::partitions(requested, &args.log, format)),
    }
}

/// The breakdown on stdout, the first issues on stderr, and the exit code: 1 under `--strict`
/// when a row was rejected or an issue found.
fn finish(args: &ReplayArgs, report: &JsonReport, lines: &[Line], rejected: usize) -> Result<i32> {
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

/// The partitioned replay (bounded memory), with its progress on stderr.
fn run_partitioned(
    args: &ReplayArgs,
    format: LogFormat,
    inputs: &Inputs,
    forced: Option<Rulebook>,
    parts: usize,
) -> Result<Summary> {
    let spill = args.spill_dir.clone().unwrap_or_else(std::env::temp_dir);
    sweep_spills(&spill);
    if args.partitions.is_none() {
        notice(format_args!(
            "large log: replaying in {parts} partitions through {} (--partitions 0 keeps it in memory)",
            spill.display()
        ));
    }
    let t0 = std::time::Instant::now();
    let pb = progress("scanning");
    let on_progress = crate::cmd::phase_progress(&pb);
    let result = partitioned::replay_partitioned(
        &Request {
            path: &args.log,
            format,
            accounts: &inputs.accounts,
            parts,
            spill: &spill,
            ledger: args.ledger.as_deref(),
            progress: &on_progress,
            read: ReadOptions {
                auto_rulebook: forced.is_none(),
                ..read_options()
            },
        },
        &inputs.context(forced, args.rates_at),
    );
    pb.finish_and_clear();
    trace("partitioned replay", t0);
    match result {
        Ok(summary) => Ok(summary),
        Err(PartitionError::Billing(BillingError::MissingRates(m))) => {
            Err(missing_rates(&m, remedy(forced, args.rates_at)))
        }
        Err(e) => Err(e.into()),
    }
}
