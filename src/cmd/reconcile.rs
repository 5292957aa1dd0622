//! `wabill reconcile`: replay the business's own log and list where Meta's reports (status
//! webhooks, and optionally analytics responses) bill differently.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use rust_decimal::Decimal;

use crate::billing::accounts::Accounts;
use crate::billing::engine::BillingError;
use crate::billing::meta::merge_statuses;
use crate::billing::reconcile::{self, Ours};
use crate::cmd::{
    default_rejects_path, handle_rejects, load_inputs, missing_rates, notice, parse_rulebook,
    print_stdout, progress, rejects_output, replay_inputs,
};
use crate::io::analytics::read_analytics;
use crate::io::webhooks::read_webhooks;
use crate::replay::service;
use crate::report::missing_rates::Remedy;
use crate::report::reconcile::Report;

// `--format` of `reconcile` (no CSV).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReconcileFormat {
    Table,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct ReconcileArgs {
    /// The business's own message log (CSV, JSON Lines or Parquet): it knows each template's
    /// category; wabill replays it.
    #[arg(long)]
    pub log: PathBuf,
    /// How `--log` is read (a provider's export, its mapping and template catalogue).
    #[command(flatten)]
    pub input: crate::cmd::input::InputArgs,
    /// Accounts file (TOML): portfolio, WABAs with time zone and currency.
    #[arg(long)]
    pub accounts: Option<PathBuf>,
    /// Rates directory (cards and market table); default: the project's `rates/`.
    #[arg(long)]
    pub rates: Option<PathBuf>,
    /// Meta's status (and message) webhooks as stored: one JSON body per line.
    #[arg(long)]
    pub webhooks: PathBuf,
    /// A pricing_analytics (PMP) or conversation_analytics (CBP) response of one WABA, as
    /// `FILE` or `WABA=FILE`; without `WABA=`, the response's `id` names the WABA, or the
    /// accounts file has only one. Repeat for several WABAs.
    #[arg(long, value_name = "[WABA=]FILE")]
    pub analytics: Vec<String>,
    /// `auto` follows the date; any other forces one rulebook for the whole replay.
    #[arg(long, default_value = "auto")]
    pub rulebook: String,
    /// Output on stdout.
    #[arg(long, value_enum, default_value_t = ReconcileFormat::Table)]
    pub format: ReconcileFormat,
    /// Largest cost difference (absolute, in the WABA's currency) per day × country × type ×
    /// category that still counts as equal.
    #[arg(long, default_value = "0.0001")]
    pub tolerance: Decimal,
}

/// `WABA=FILE` when the part before `=` names a WABA (a path may contain `=` too).
fn analytics_spec<'a>(spec: &'a str, accounts: &Accounts) -> (Option<&'a str>, &'a Path) {
    if let Some((w, p)) = spec.split_once('=') {
        if accounts.wabas.iter().any(|x| x.id == w) {
            return (Some(w), Path::new(p));
        }
    }
    (None, Path::new(spec))
}

pub fn run(args: ReconcileArgs) -> Result<i32> {
    let forced = parse_rulebook(&args.rulebook)?;
    if args.tolerance.is_sign_negative() {
        bail!("--tolerance must not be negative");
    }
    let rejects_path = default_rejects_path(&args.log, None);
    let mut outputs = replay_inputs(&args.log, args.accounts.as_deref(), args.rates.as_deref());
    outputs.input("the webhooks file", &args.webhooks);
    let inputs = load_inputs(
        args.accounts.as_deref(),
        args.rates.as_deref(),
        args.input.currency.as_deref(),
    )?;
    for spec in &args.analytics {
        outputs.input(
            "the analytics file",
            analytics_spec(spec, &inputs.accounts).1,
        );
    }
    let (label, path) = rejects_output(None, &rejects_path);
    outputs.file(label, path)?;
    let pb = progress("reading");
    let format = args.input.resolve(&args.log)?;
    let log = inputs.read(
        &args.log,
        format,
        &crate::io::log::ReadOptions {
            auto_rulebook: forced.is_none(),
            ..crate::cmd::read_options()
        },
        &|n| pb.set_position(n),
    )?;
    super::input::mapped_notices(format);
    pb.finish_and_clear();
    handle_rejects(&log.path, &log.rejects, &rejects_path)?;
    crate::cmd::nothing_read(&log.path, log.rows, &log.rejects)?;
    let r = service::price(log, inputs, forced, None).map_err(|e| match e {
        BillingError::MissingRates(m) => missing_rates(&m, Remedy::FixTheLog),
        other => other.into(),
    })?;

    let webhooks = read_webhooks(&args.webhooks)?;
    if webhooks.lines == 0 {
        bail!("{}: no webhook payloads", args.webhooks.display());
    }
    let meta = merge_statuses(&webhooks.statuses);
    let ours = Ours::new(
        &r.log.events,
        &r.log.chats,
        &r.log.countries,
        (0..r.log.events.len()).map(|i| r.log.id_of(i)).collect(),
        &r.replay,
        &r.accounts,
    );
    let messages = reconcile::messages(&ours, &meta);
    let mut problems = webhooks.problems;
    let mut analytics = Vec::new();
    for spec in &args.analytics {
        let (explicit, path) = analytics_spec(spec, &r.accounts);
        let (a, p) = read_analytics(path)?;
        problems.extend(p);
        let waba = reconcile::analytics_waba(&r.accounts, explicit, a.id.as_deref())
            .map_err(anyhow::Error::msg)
            .with_context(|| path.display().to_string())?;
        analytics.push(
            reconcile::analytics(&ours, &a, waba, args.tolerance)
                .with_context(|| path.display().to_string())?,
        );
    }
    let report = Report::new(
        &r.replay.currency,
        args.tolerance,
        &messages,
        &analytics,
        &problems,
    );
    let out = match args.format {
        ReconcileFormat::Json => {
            let mut s = serde_json::to_string_pretty(&report)?;
            s.push('\n');
            s
        }
        ReconcileFormat::Table => report.table(),
    };
    print_stdout(&out)?;
    if !problems.is_empty() {
        notice(format_args!(
            "{} problem(s) in Meta's files (see the report); the other lines were read",
            problems.len()
        ));
    }
    Ok(if report.differences > 0 { 1 } else { 0 })
}
