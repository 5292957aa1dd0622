//! `wabill synth`: seeded synthetic traffic from a scenario file, in the log format.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cmd::notice;
use crate::io::output::write_atomic_with;
use crate::io::scenario_file::load_scenario;
use crate::traffic::{self, generate_to, scale_to_rows, Format};

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
    let mut scenario = load_scenario(&args.scenario)?;
    if let Some(rows) = args.rows {
        scale_to_rows(&mut scenario, args.seed, rows);
    }
    let ext = args
        .out
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
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
    Ok(0)
}
