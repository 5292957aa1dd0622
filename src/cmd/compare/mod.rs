//! `wabill compare`: the same kind of traffic under several settings and rulebooks, side by side.
//!
//! Variants are the product of traffic sources (each scenario file × each `--vary`
//! combination, and each `--log`) and rulebooks. Each source is generated (or read) once, in
//! parallel, straight into a [`Log`] (no file); each (source, rulebook) pair is then priced in
//! parallel from that one log (`engine::replay` takes the events by reference). A large `--log`
//! is instead replayed partitioned (`replay::partitioned::replay_partitioned_many`: read once, each partition
//! replayed under every rulebook). Results are collected in variant order, so the output does
//! not depend on the thread count.
//!
//! This file is the command: arguments, the run in parallel, the missing-rates rule, printing;
//! `variants` holds the sources and their pricing.

use std::path::PathBuf;

use anyhow::{anyhow, bail, Result};
use clap::Args;
use rayon::prelude::*;

use crate::billing::engine::BillingError;
use crate::billing::types::Rulebook;
use crate::cmd::limits::{check_memory, check_rows, COMPARE_BYTES_PER_ROW};
use crate::cmd::{load_accounts, load_rates, notice, parse_rulebook, print_stdout, OutputFormat};
use crate::io::rates_dir::RatesDir;
use crate::report::compare::{self, Variant};
use crate::report::format::count;
use crate::report::missing_rates::MissingRates;
use crate::traffic::rows_per_user;

mod variants;

use variants::{prepare, price, sources, Prepared, Source};

#[derive(Debug, Clone, Args)]
#[command(after_help = "\
Examples:
  wabill compare data/scenarios/support-2026.toml --vary support.fcr=0.6,0.7,0.8,0.9
  wabill compare a.toml b.toml --rulebook pmp-2025,pmp-2026 --seed 7 --rows 100000
  wabill compare --log data/sample.csv --rulebook cbp-2024,pmp-2025,pmp-2026

Keys for --vary: support.fcr, support.followup_resolution, support.contacts_per_user_month,
support.ctwa_share, support.page_cta_share, support.reengagement (utility_template |
wait_for_user), delivery.failure_rate, utility.orders_per_user_month,
authentication.logins_per_user_month, campaign.share and campaign.reply_rate (every campaign),
campaign[N].share and campaign[N].reply_rate (one, from 0).")]
pub struct CompareArgs {
    /// Scenario files (TOML) to generate traffic from; each one is a variant (times every
    /// `--vary` value, times every `--rulebook`).
    pub scenarios: Vec<PathBuf>,
    /// A message log to re-price under every `--rulebook` (read once, priced many times).
    /// Repeat for several logs.
    #[arg(long = "log", value_name = "FILE")]
    pub logs: Vec<PathBuf>,
    /// Also write an HTML page with the table and charts of the variants (cost by category,
    /// and the sweep of one numeric `--vary` key as a line) into this folder.
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
    /// How each `--log` is read (a provider's export, its mapping and template catalogue).
    #[command(flatten)]
    pub input: crate::cmd::input::InputArgs,
    /// Sweep a scenario key over values: `KEY=V1,V2,…` (e.g. `support.fcr=0.6,0.7,0.8`).
    /// Repeat to sweep several keys (every combination, in the order given).
    #[arg(long, value_name = "KEY=V1,V2,…")]
    pub vary: Vec<String>,
    /// Rulebooks to price each traffic under, comma-separated: `auto` (by date), `cbp-2022`,
    /// `cbp-2023`, `cbp-2024`, `pmp-2025`, `pmp-2026`.
    #[arg(long, value_delimiter = ',', default_value = "auto")]
    pub rulebook: Vec<String>,
    /// Price every variant with the rate card (and market table) in force on this date instead
    /// of each message's own date.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub rates_at: Option<chrono::NaiveDate>,
    /// Marketing to a market sent with a max price (MAXP-1): priced at it, the bound of what
    /// Meta charges (a row of a log that gives what Meta charged keeps it). `MARKET=PRICE`, the
    /// market as the rate cards name it, e.g. `--max-price India=0.009`. Repeatable
    #[arg(long = "max-price", value_name = "MARKET=PRICE")]
    pub max_price: Vec<String>,
    /// Seed of the generator: the same for every variant, so variants share users and contacts.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Scale each scenario's audience to about this many rows. Applied before `--vary`, so all
    /// variants of a scenario have the same users.
    #[arg(long)]
    pub rows: Option<u64>,
    /// Accounts file (TOML). Without it, a scenario's `[account]` gives the WABA, time zone and
    /// currency, and a log is priced as one WABA `default`, UTC, USD. Its `[provider]` adds fees.
    #[arg(long)]
    pub accounts: Option<PathBuf>,
    /// Rates directory (cards and market table); default: the project's `rates/`.
    #[arg(long)]
    pub rates: Option<PathBuf>,
    /// Output on stdout.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
    /// Replay each `--log` in N partitions through temporary files (bounded memory; the log is
    /// still read once for every rulebook). Default: automatic, as `replay` does (from 2.5
    /// million rows); 0 = in memory.
    #[arg(long, value_name = "N")]
    pub partitions: Option<usize>,
    /// Folder for the partitioned replay's temporary files (default: the system's temp folder).
    #[arg(long, value_name = "DIR")]
    pub spill_dir: Option<PathBuf>,
}

/// `KEY=V1,V2,…` → (key, values).
fn parse_vary(s: &str) -> Result<(String, Vec<String>)> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| anyhow!("--vary `{s}`: expected KEY=V1,V2,… (e.g. support.fcr=0.6,0.7)"))?;
    let values: Vec<String> = v
        .split(',')
        .map(|x| x.trim().to_string())
        .filter(|x| !x.is_empty())
        .collect();
    if values.is_empty() {
        bail!("--vary `{s}`: no values after `=`");
    }
    Ok((k.trim().to_string(), values))
}

pub fn run(args: CompareArgs) -> Result<i32> {
    let rulebooks: Vec<Option<Rulebook>> = args
        .rulebook
        .iter()
        .map(|r| parse_rulebook(r))
        .collect::<Result<_>>()?;
    if rulebooks.is_empty() {
        bail!("--rulebook: give at least one rulebook");
    }
    let file_accounts = match &args.accounts {
        Some(p) => {
            let mut a = load_accounts(Some(p))?;
            if let Some(c) = &args.input.currency {
                a.choose_currency(c)?;
            }
            Some(a)
        }
        None => None,
    };
    let rates = load_rates(args.rates.as_deref())?;
    for (m, p) in variants::max_prices(&args.max_price, &rates.markets)? {
        notice(format_args!(
            "marketing to {} is priced at its max price {p} (MAXP-1: the most Meta charges; a log row that gives what Meta charged keeps it)",
            rates.markets.name(m)
        ));
    }
    let vary: Vec<(String, Vec<String>)> = args
        .vary
        .iter()
        .map(|s| parse_vary(s))
        .collect::<Result<_>>()?;
    if let Some(rows) = args.rows {
        check_rows(&format!("--rows {rows}"), rows)?;
    }
    let sources = sources(&args, &vary)?;
    check_size(&sources, args.seed, rulebooks.len())?;
    let prepared: Vec<Prepared> = sources
        .par_iter()
        .map(|s| prepare(s, &args, file_accounts.as_ref(), &rates, &rulebooks))
        .collect::<Vec<_>>()
        .into_iter()
        .collect::<Result<_>>()?;

    for n in prepared.iter().flat_map(|p| &p.notes) {
        notice(n);
    }
    let currency = one_currency(&sources, &prepared, &rates)?;
    let jobs: Vec<(usize, usize, Option<Rulebook>)> = (0..sources.len())
        .flat_map(|s| rulebooks.iter().enumerate().map(move |(i, r)| (s, i, *r)))
        .collect();
    let results: Vec<Result<Variant, BillingError>> = jobs
        .par_iter()
        .map(|&(s, i, r)| {
            price(
                &sources[s],
                &prepared[s],
                i,
                r,
                &rates.book,
                &rates.markets,
                args.rates_at,
            )
        })
        .collect();
    let variants = collect(&sources, &jobs, results)?;
    if let Some(dir) = &args.report {
        compare::write_report(dir, &variants, &currency)?;
        notice(format_args!(
            "report written to {}",
            dir.join("index.html").display()
        ));
    }
    let out = match args.format {
        OutputFormat::Table => compare::table(&variants, &currency),
        OutputFormat::Json => compare::json(&variants, &currency, args.seed),
        OutputFormat::Csv => compare::csv(&variants),
    };
    print_stdout(&out)?;
    Ok(0)
}

/// Before generating: each scenario's rows (a pilot run's rows per user times its audience)
/// within the cap, and the generated logs plus the replays running at once within memory.
fn check_size(sources: &[Source], seed: u64, rulebooks: usize) -> Result<()> {
    let rows: Vec<(String, u64)> = sources
        .par_iter()
        .filter_map(|s| match s {
            Source::Scenario { scenario, .. } => {
                let users = scenario.total_users() as f64;
                Some((
                    s.label(),
                    (rows_per_user(scenario, seed) * users).ceil() as u64,
                ))
            }
            Source::Log { .. } => None,
        })
        .collect();
    for (label, n) in &rows {
        check_rows(
            &format!("{label} would generate about {} rows", count(*n)),
            *n,
        )?;
    }
    let total: u64 = rows.iter().map(|r| r.1).sum();
    let largest = rows.iter().map(|r| r.1).max().unwrap_or(0);
    let at_once = (rows.len() * rulebooks).min(rayon::current_num_threads()) as u64;
    let need = total
        .saturating_add(largest.saturating_mul(at_once))
        .saturating_mul(COMPARE_BYTES_PER_ROW);
    check_memory(
        &format!(
            "{} generated row(s) in memory for {} scenario variant(s)",
            count(total),
            rows.len()
        ),
        need,
        "use fewer --rows or --vary values, or write the traffic with `wabill synth` and compare it with `--log` (replayed partitioned, in bounded memory)",
    )
}

/// CONV-6 across variants: one currency for the whole comparison, with a rate card.
fn one_currency(sources: &[Source], prepared: &[Prepared], rates: &RatesDir) -> Result<String> {
    let mut currencies: Vec<(String, String)> = Vec::new();
    for (s, p) in sources.iter().zip(prepared) {
        let c = p.accounts.currency()?;
        if !rates.book.cards.iter().any(|x| x.currency == c) {
            bail!(
                "{}: no rate card in {} for currency {c} (have: {})",
                s.name(),
                rates.root.display(),
                rates.book.currencies().join(", ")
            );
        }
        currencies.push((s.name(), c));
    }
    if currencies.iter().any(|(_, c)| *c != currencies[0].1) {
        bail!(
            "variants in different currencies cannot be compared: {}",
            currencies
                .iter()
                .map(|(n, c)| format!("{n} ({c})"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(currencies[0].1.clone())
}

/// The priced variants in job order, or, when some lack rates, the first one's missing rates
/// as notices and an error naming every such variant.
fn collect(
    sources: &[Source],
    jobs: &[(usize, usize, Option<Rulebook>)],
    results: Vec<Result<Variant, BillingError>>,
) -> Result<Vec<Variant>> {
    let mut variants = Vec::with_capacity(results.len());
    let mut failed: Vec<String> = Vec::new();
    for (i, ((s, _, r), res)) in jobs.iter().zip(results).enumerate() {
        match res {
            Ok(v) => variants.push(v),
            Err(BillingError::MissingRates(m)) => {
                let label = format!(
                    "#{} ({} under {})",
                    i + 1,
                    sources[*s].label(),
                    r.map_or("auto", |r| r.id())
                );
                // The first failing variant names every missing rate; the others (often the
                // same rates on other settings) are only listed.
                if failed.is_empty() {
                    for x in &m {
                        notice(format_args!("{label}: {x}"));
                    }
                }
                failed.push(label);
            }
            Err(e) => return Err(e.into()),
        }
    }
    if !failed.is_empty() {
        return Err(anyhow!("{}", MissingRates::Variants(&failed)));
    }
    Ok(variants)
}
