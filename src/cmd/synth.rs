//! `wabill synth`: seeded synthetic traffic from a scenario file, in the log format.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cmd::limits::{self, bytes_per_row, SYNTH_BYTES_PER_USER};
use crate::cmd::notice;
use crate::io::output::{write_atomic_with, Outputs};
use crate::io::scenario_file::load_scenario;
use crate::report::format::count;
use crate::traffic::{self, generate_to, rows_per_user, scale_to_rows, Format, Scenario};

#[derive(Debug, Clone, Args)]
pub struct SynthArgs {
    /// Scenario file (TOML; see data/scenarios/ for commented examples).
    pub scenario: PathBuf,
    /// Seed of the portable generator (ChaCha8): same scenario and seed, same bytes.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output log: CSV, JSON Lines (.jsonl) or Parquet (.parquet), by extension.
    #[arg(long)]
    pub out: PathBuf,
    /// Scale the audience so the log has about this many rows (a small pilot run measures rows
    /// per user first).
    #[arg(long)]
    pub rows: Option<u64>,
}

pub fn run(args: SynthArgs) -> Result<i32> {
    let mut outputs = Outputs::new();
    outputs.input("the scenario", &args.scenario);
    outputs.file("--out", &args.out)?;
    if let Some(rows) = args.rows {
        limits::check_rows(&format!("--rows {rows}"), rows)?;
    }
    let ext = args
        .out
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let mut scenario = load_scenario(&args.scenario)?;
    let per_user = match args.rows {
        Some(rows) => scale_to_rows(&mut scenario, args.seed, rows),
        None => rows_per_user(&scenario, args.seed),
    };
    check_size(&args, &scenario, per_user, &ext)?;
    let pb = ProgressBar::with_draw_target(Some(1000), ProgressDrawTarget::stderr());
    pb.set_style(
        ProgressStyle::with_template("{bar:30} {percent}% of the period, {msg} {elapsed}")
            .expect("template"),
    );
    let mut progress = |p: traffic::Progress| {
        pb.set_position((p.fraction * 1000.0) as u64);
        pb.set_message(format!("{} rows", p.rows));
    };
    let summary = if ext == "parquet" || ext == "pq" {
        // The CSV stream becomes Parquet row groups as it is generated.
        let mut summary = None;
        write_atomic_with(&args.out, |w| {
            let (g, sink) = generate_to(
                &scenario,
                args.seed,
                Format::Csv,
                crate::io::parquet::CsvToParquet::new(w),
                &mut progress,
            )?;
            sink.finish()?;
            summary = Some(g.summary);
            Ok(())
        })?;
        summary.expect("generated")
    } else {
        let format = match ext.as_str() {
            "jsonl" | "ndjson" | "json" => Format::Jsonl,
            "csv" | "" => Format::Csv,
            other => bail!("unknown output extension `.{other}` (use .csv, .jsonl or .parquet)"),
        };
        let mut summary = None;
        write_atomic_with(&args.out, |w| {
            let (g, _) = generate_to(&scenario, args.seed, format, w, &mut progress)?;
            summary = Some(g.summary);
            Ok(())
        })?;
        summary.expect("generated")
    };
    pb.finish_and_clear();
    print_summary(&args, &summary);
    Ok(0)
}

/// The run's size (the pilot's rows per user times the audience) against the limits: rows,
/// memory for the users, disk for the log.
fn check_size(args: &SynthArgs, scenario: &Scenario, per_user: f64, ext: &str) -> Result<()> {
    let users = scenario.total_users();
    let rows = (per_user * users as f64).ceil() as u64;
    let what = format!(
        "{} would generate about {} rows for {} users",
        args.scenario.display(),
        count(rows),
        count(users)
    );
    limits::check_rows(&what, rows)?;
    limits::check_memory(
        &what,
        users.saturating_mul(SYNTH_BYTES_PER_USER),
        "use fewer --rows",
    )?;
    limits::check_disk(&what, &args.out, rows.saturating_mul(bytes_per_row(ext)))
}

/// The notice of what was generated.
fn print_summary(args: &SynthArgs, summary: &traffic::Summary) {
    notice(format_args!(
        "{} rows for {} users over {:.1} months: {} contacts ({:.1}% resolved at first contact), {} campaign recipients, {} orders, {} logins → {}",
        summary.rows,
        summary.users,
        summary.months,
        summary.contacts,
        100.0 * summary.fcr_share(),
        summary.campaign_recipients,
        summary.orders,
        summary.logins,
        args.out.display()
    ));
    if summary.contacts_agent + summary.calls_from_users + summary.group_broadcasts > 0 {
        notice(format_args!(
            "{} contacts answered by Meta Business Agent ({} replies, MBA-1), {} contacts begun with a call ({} called back, CALL-1…3), {} group broadcasts ({} answered by a member, GRP-1…3)",
            summary.contacts_agent,
            summary.agent_replies,
            summary.calls_from_users,
            summary.callbacks,
            summary.group_broadcasts,
            summary.group_replies
        ));
    }
    if summary.bsuid_users > 0 {
        notice(format_args!(
            "{} users known by a business-scoped user id (MKT-4), {} of them without a number",
            summary.bsuid_users, summary.bsuid_only_users
        ));
    }
    if summary.rows_before_log_start + summary.inbound_left_out > 0 {
        notice(format_args!(
            "left out of the log ([log]): {} rows before its start, {} users' messages",
            summary.rows_before_log_start, summary.inbound_left_out
        ));
    }
}
