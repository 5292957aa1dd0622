//! `wabill compare`: the same kind of traffic under several settings and rulebooks, side by side.
//!
//! Variants are the product of traffic sources (each scenario file × each `--vary`
//! combination, and each `--log`) and rulebooks. Each source is generated (or read) once, in
//! parallel, straight into a [`Log`] (no file); each (source, rulebook) pair is then priced in
//! parallel from that one log (`engine::replay` takes the events by reference). A large `--log`
//! is instead replayed partitioned (`scale::replay_partitioned_many`: read once, each partition
//! replayed under every rulebook). Results are collected in variant order, so the output does
//! not depend on the thread count.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Result};
use clap::Args;
use rayon::prelude::*;

use crate::billing::accounts::{Accounts, Portfolio, Waba};
use crate::billing::engine::{self, BillingError, Context, Line};
use crate::billing::markets::MarketTable;
use crate::billing::money::Money;
use crate::billing::provider;
use crate::billing::provider::ProviderBill;
use crate::billing::rates::RateBook;
use crate::billing::types::Rulebook;
use crate::cmd::replay::{parse_rulebook, Format};
use crate::cmd::synth::{load_scenario, scale_to_rows};
use crate::cmd::{load_accounts, notice, rates_dir};
use crate::io::generated::log_from_scenario;
use crate::io::log::{read_log, Log, LogFormat, ReadOptions};
use crate::io::rates_dir::{self, RatesDir};
use crate::report::breakdown::MessageCounts;
use crate::report::compare::{self, Variant};
use crate::scale::{self, Partitioned};
use crate::traffic::{Scenario, Summary};

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
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Replay each `--log` in N partitions through temporary files (bounded memory; the log is
    /// still read once for every rulebook). Default: automatic, as `replay` does (from 2.5
    /// million rows); 0 = in memory.
    #[arg(long, value_name = "N")]
    pub partitions: Option<usize>,
    /// Folder for the partitioned replay's temporary files (default: the system's temp folder).
    #[arg(long, value_name = "DIR")]
    pub spill_dir: Option<PathBuf>,
}

/// Where a variant's traffic comes from.
enum Source {
    Scenario {
        file: String,
        setting: Vec<(String, String)>,
        scenario: Box<Scenario>,
    },
    Log {
        path: PathBuf,
    },
}

impl Source {
    /// The file name and the settings, e.g. `support.toml support.fcr=0.6`.
    fn label(&self) -> String {
        match self {
            Source::Scenario { file, setting, .. } if !setting.is_empty() => {
                let s: Vec<String> = setting.iter().map(|(k, v)| format!("{k}={v}")).collect();
                format!("{file} {}", s.join(" "))
            }
            _ => self.name(),
        }
    }

    fn name(&self) -> String {
        match self {
            Source::Scenario { file, .. } => file.clone(),
            Source::Log { path } => file_name(path),
        }
    }
}

/// A source's traffic: a log in memory, ready to be priced under each rulebook, or a large log
/// already replayed in partitions under every rulebook (one result per `--rulebook`).
enum Traffic {
    InMemory(Box<Log>),
    Partitioned(Vec<Result<Partitioned, BillingError>>),
}

/// A source turned into a log, ready to be priced.
struct Prepared {
    traffic: Traffic,
    accounts: Accounts,
    summary: Option<Summary>,
    /// Calendar months of a scenario's period (logs: from the replay).
    months: Option<u64>,
    /// Notices for stderr, printed in variant order once everything is prepared.
    notes: Vec<String>,
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| p.display().to_string())
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

/// Accounts for generated traffic when no accounts file is given: the scenario's WABA.
fn scenario_accounts(s: &Scenario) -> Accounts {
    Accounts {
        portfolio: Portfolio::default(),
        wabas: vec![Waba {
            id: s.account.waba.clone(),
            tz: s.account.timezone,
            currency: s.account.currency.clone(),
        }],
        provider: None,
    }
}

/// Calendar months touched by a scenario's period.
fn period_months(s: &Scenario) -> u64 {
    use chrono::Datelike;
    let m = |d: chrono::NaiveDate| d.year() as i64 * 12 + d.month0() as i64;
    (m(s.period.end) - m(s.period.start) + 1).max(1) as u64
}

fn sources(args: &CompareArgs) -> Result<Vec<Source>> {
    let vary: Vec<(String, Vec<String>)> = args
        .vary
        .iter()
        .map(|s| parse_vary(s))
        .collect::<Result<_>>()?;
    if !vary.is_empty() && args.scenarios.is_empty() {
        bail!("--vary changes scenario keys: give at least one scenario file");
    }
    // Every combination of the swept values, first key slowest.
    let mut combos: Vec<Vec<(String, String)>> = vec![Vec::new()];
    for (k, values) in &vary {
        combos = combos
            .into_iter()
            .flat_map(|c| {
                values.iter().map(move |v| {
                    let mut c = c.clone();
                    c.push((k.clone(), v.clone()));
                    c
                })
            })
            .collect();
    }
    let mut out = Vec::new();
    for path in &args.scenarios {
        let mut base = load_scenario(path)?;
        if let Some(rows) = args.rows {
            scale_to_rows(&mut base, args.seed, rows);
        }
        for combo in &combos {
            let mut s = base.clone();
            for (k, v) in combo {
                s.set(k, v).map_err(|e| anyhow!("--vary {k}={v}: {e}"))?;
            }
            out.push(Source::Scenario {
                file: file_name(path),
                setting: combo.clone(),
                scenario: Box::new(s),
            });
        }
    }
    for path in &args.logs {
        out.push(Source::Log { path: path.clone() });
    }
    if out.is_empty() {
        bail!("nothing to compare: give scenario files and/or --log FILE");
    }
    Ok(out)
}

fn prepare(
    src: &Source,
    args: &CompareArgs,
    file_accounts: Option<&Accounts>,
    rates: &RatesDir,
    rulebooks: &[Option<Rulebook>],
) -> Result<Prepared> {
    let markets = &rates.markets;
    let read = ReadOptions {
        auto_rulebook: rulebooks.iter().any(|r| r.is_none()),
        ..crate::cmd::read_options()
    };
    match src {
        Source::Scenario { scenario, .. } => {
            let accounts = file_accounts
                .cloned()
                .unwrap_or_else(|| scenario_accounts(scenario));
            let label = src.label();
            let (log, g) = log_from_scenario(
                scenario,
                args.seed,
                &label,
                &accounts,
                markets,
                &read,
                &mut |_| {},
            );
            if let Some(r) = log.rejects.first() {
                // Generated traffic is valid by construction: a reject means the scenario and
                // the accounts file disagree (e.g. the WABA id).
                bail!(
                    "{label}: {} generated row(s) rejected, e.g. column `{}`, value `{}`: {} (does the scenario's [account] match the accounts file?)",
                    log.rejects.len(),
                    r.column,
                    r.value,
                    r.message
                );
            }
            if log.events.is_empty() {
                bail!("{label}: the scenario generates no messages");
            }
            let s = &g.summary;
            let note = format!(
                "{label}: {} rows, {} users, {} contacts ({:.1}% resolved at first contact, {} in the end)",
                s.rows,
                s.users,
                s.contacts,
                100.0 * s.fcr_share(),
                s.contacts_resolved
            );
            Ok(Prepared {
                traffic: Traffic::InMemory(Box::new(log)),
                accounts,
                months: Some(period_months(scenario)),
                summary: Some(g.summary),
                notes: vec![note],
            })
        }
        Source::Log { path } => {
            let accounts = file_accounts
                .cloned()
                .unwrap_or_else(Accounts::default_single);
            let format = LogFormat::from_path(path);
            let parts = scale::partitions(args.partitions, path, format);
            let (traffic, rejects) = match parts {
                None => {
                    let log = read_log(path, format, &accounts, markets, &read, &|_| {})?;
                    let rejects = log.rejects.clone();
                    (Traffic::InMemory(Box::new(log)), rejects)
                }
                Some(parts) => {
                    let ctxs: Vec<Context> = rulebooks
                        .iter()
                        .map(|&forced| Context {
                            accounts: &accounts,
                            rates: &rates.book,
                            markets,
                            forced,
                            rates_at: args.rates_at,
                        })
                        .collect();
                    let spill = args.spill_dir.clone().unwrap_or_else(std::env::temp_dir);
                    let results = scale::replay_partitioned_many(
                        path,
                        format,
                        &accounts,
                        &ctxs,
                        read,
                        parts,
                        &spill,
                        None,
                        &|_, _, _| {},
                    )?;
                    let rejects = results
                        .iter()
                        .find_map(|r| r.as_ref().ok())
                        .map(|p| p.rejects.clone())
                        .unwrap_or_default();
                    (Traffic::Partitioned(results), rejects)
                }
            };
            let mut notes = Vec::new();
            if let Some(r) = rejects.first() {
                notes.push(format!(
                    "{}: {} row(s) rejected and left out (`wabill replay` writes them to a rejects file); first: row {}, column `{}`, value `{}`: {}",
                    path.display(),
                    rejects.len(),
                    r.row,
                    r.column,
                    r.value,
                    r.message
                ));
            }
            Ok(Prepared {
                traffic,
                accounts,
                summary: None,
                months: None,
                notes,
            })
        }
    }
}

/// Variant `rulebook` (the `r`-th `--rulebook`) of a prepared source.
fn price(
    src: &Source,
    p: &Prepared,
    r: usize,
    rulebook: Option<Rulebook>,
    book: &RateBook,
    markets: &MarketTable,
    rates_at: Option<chrono::NaiveDate>,
) -> Result<Variant, BillingError> {
    let (kind, setting) = match src {
        Source::Scenario { setting, .. } => ("scenario", setting.clone()),
        Source::Log { .. } => ("log", Vec::new()),
    };
    let variant = |messages: MessageCounts,
                   months: u64,
                   lines: &[Line],
                   issues: usize,
                   total: Money,
                   provider: Option<ProviderBill>| Variant {
        traffic: src.name(),
        kind,
        setting: setting.clone(),
        rulebook: rulebook.map_or("auto", |r| r.id()).to_string(),
        messages,
        contacts: p.summary.as_ref().map(|s| s.contacts),
        resolved: p.summary.as_ref().map(|s| s.contacts_resolved),
        months: p.months.unwrap_or(months),
        by_month: compare::month_totals(lines),
        categories: compare::category_totals(lines),
        issues,
        meta_total: total,
        provider,
    };
    match &p.traffic {
        Traffic::InMemory(log) => {
            let ctx = Context {
                accounts: &p.accounts,
                rates: book,
                markets,
                forced: rulebook,
                rates_at,
            };
            let replay = engine::replay(&log.events, &log.chats, &log.countries, &ctx)?;
            let provider = p.accounts.provider.as_ref().map(|pr| {
                let tallies = provider::tally(&log.events, &log.chats, &replay);
                pr.bill(&tallies, &replay.lines)
            });
            Ok(variant(
                MessageCounts::of(log),
                compare::months_spanned(log, &replay),
                &replay.lines,
                replay.issues.len(),
                replay.total,
                provider,
            ))
        }
        Traffic::Partitioned(results) => {
            let part = results[r].as_ref().map_err(Clone::clone)?;
            let provider = p
                .accounts
                .provider
                .as_ref()
                .map(|pr| pr.bill(&part.tallies, &part.lines));
            Ok(variant(
                part.messages.clone(),
                part.months,
                &part.lines,
                part.issues.len(),
                part.total,
                provider,
            ))
        }
    }
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
        Some(p) => Some(load_accounts(Some(p))?),
        None => None,
    };
    let rates = rates_dir::load(&rates_dir(args.rates.as_deref()))?;
    let sources = sources(&args)?;
    let prepared: Vec<Prepared> = sources
        .par_iter()
        .map(|s| prepare(s, &args, file_accounts.as_ref(), &rates, &rulebooks))
        .collect::<Vec<_>>()
        .into_iter()
        .collect::<Result<_>>()?;

    for n in prepared.iter().flat_map(|p| &p.notes) {
        notice(n);
    }
    // CONV-6 across variants: one currency for the whole comparison.
    let mut currencies: Vec<(String, String)> = Vec::new();
    for (s, p) in sources.iter().zip(&prepared) {
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
    let currency = currencies[0].1.clone();

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
        }
    }
    if !failed.is_empty() {
        bail!(
            "{} variant(s) have missing rates: {}; add them to the rates directory (`wabill rates import`), pick other rulebooks or change the traffic",
            failed.len(),
            failed.join(", ")
        );
    }
    let out = match args.format {
        Format::Table => compare::table(&variants, &currency),
        Format::Json => compare::json(&variants, &currency, args.seed),
        Format::Csv => compare::csv(&variants),
    };
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(out.as_bytes())?;
    stdout.flush()?;
    Ok(0)
}
