//! The variants of a comparison: where each one's traffic comes from (a scenario with settings,
//! or a log), the traffic turned into a log (generated, or read; a large log replayed
//! partitioned under every rulebook at once), and each (source, rulebook) pair priced into a
//! [`Variant`] of the `compare` report.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Result};

use super::CompareArgs;
use crate::billing::accounts::Accounts;
use crate::billing::engine::{BillingError, Context};
use crate::billing::markets::MarketTable;
use crate::billing::money::Overflow;
use crate::billing::rates::RateBook;
use crate::billing::types::Rulebook;
use crate::io::generated::log_from_scenario;
use crate::io::log::{read_log, Log, ReadOptions};
use crate::io::rates_dir::RatesDir;
use crate::io::scenario_file::load_scenario;
use crate::replay::partitioned::{self, Request};
use crate::replay::Summary as ReplaySummary;
use crate::report::compare::{self, Variant};
use crate::traffic::scenario::settings_grid;
use crate::traffic::{scale_to_rows, Scenario, Summary};

/// Where a variant's traffic comes from.
pub(super) enum Source {
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
    pub(super) fn label(&self) -> String {
        match self {
            Source::Scenario { file, setting, .. } if !setting.is_empty() => {
                let s: Vec<String> = setting.iter().map(|(k, v)| format!("{k}={v}")).collect();
                format!("{file} {}", s.join(" "))
            }
            _ => self.name(),
        }
    }

    pub(super) fn name(&self) -> String {
        match self {
            Source::Scenario { file, .. } => file.clone(),
            Source::Log { path } => file_name(path),
        }
    }
}

/// A source's traffic: a log in memory, ready to be priced under each rulebook, or a large log
/// already replayed in partitions under every rulebook (one result per `--rulebook`).
enum Loaded {
    InMemory(Box<Log>),
    Partitioned(Vec<Result<ReplaySummary, BillingError>>),
}

/// A source turned into a log, ready to be priced.
pub(super) struct Prepared {
    traffic: Loaded,
    pub(super) accounts: Accounts,
    summary: Option<Summary>,
    /// Calendar months of a scenario's period (logs: from the replay).
    months: Option<u64>,
    /// Notices for stderr, printed in variant order once everything is prepared.
    pub(super) notes: Vec<String>,
}

pub(super) fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| p.display().to_string())
}

/// The sources of the variants: each scenario file (scaled to `--rows`) under every
/// combination of the `--vary` settings, then each `--log`.
pub(super) fn sources(args: &CompareArgs, vary: &[(String, Vec<String>)]) -> Result<Vec<Source>> {
    if !vary.is_empty() && args.scenarios.is_empty() {
        bail!("--vary changes scenario keys: give at least one scenario file");
    }
    let combos = settings_grid(vary);
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

/// Turn a source into a log (or partitioned results), with the accounts that price it.
pub(super) fn prepare(
    src: &Source,
    args: &CompareArgs,
    file_accounts: Option<&Accounts>,
    rates: &RatesDir,
    rulebooks: &[Option<Rulebook>],
) -> Result<Prepared> {
    let markets = &rates.markets;
    let read_opts = ReadOptions {
        auto_rulebook: rulebooks.iter().any(|r| r.is_none()),
        ..crate::cmd::read_options()
    };
    let max_prices = max_prices(&args.max_price, markets)?;
    match src {
        Source::Scenario { scenario, .. } => {
            let mut accounts = file_accounts
                .cloned()
                .unwrap_or_else(|| scenario.accounts());
            accounts.max_prices = max_prices;
            generated(src, scenario, args.seed, accounts, markets, &read_opts)
        }
        Source::Log { path } => {
            let mut accounts = file_accounts
                .cloned()
                .unwrap_or_else(Accounts::default_single);
            accounts.max_prices = max_prices;
            read(path, args, accounts, rates, rulebooks, &read_opts)
        }
    }
}

/// MAXP-1: `--max-price MARKET=PRICE`, the market as the rate cards name it (any case).
pub(super) fn max_prices(
    flags: &[String],
    markets: &crate::billing::markets::MarketTable,
) -> Result<
    Vec<(
        crate::billing::markets::MarketId,
        crate::billing::money::Money,
    )>,
> {
    flags
        .iter()
        .map(|f| {
            let (m, p) = f
                .split_once('=')
                .ok_or_else(|| anyhow::anyhow!("--max-price `{f}`: expected MARKET=PRICE, e.g. India=0.009"))?;
            let id = (0..markets.len() as crate::billing::markets::MarketId)
                .find(|&i| markets.name(i).eq_ignore_ascii_case(m.trim()))
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "--max-price `{f}`: `{}` is not a market of the rate cards (see `wabill rates show`)",
                        m.trim()
                    )
                })?;
            let price = crate::billing::money::Money::parse_rate(p).map_err(|_| {
                anyhow::anyhow!("--max-price `{f}`: `{}` is not an amount of at most 6 decimal places", p.trim())
            })?;
            Ok((id, price))
        })
        .collect()
}

/// A scenario's traffic, generated straight into a log; a reject means the scenario and the
/// accounts file disagree.
fn generated(
    src: &Source,
    scenario: &Scenario,
    seed: u64,
    accounts: Accounts,
    markets: &MarketTable,
    read_opts: &ReadOptions,
) -> Result<Prepared> {
    let label = src.label();
    let (log, g) = log_from_scenario(
        scenario,
        seed,
        &label,
        &accounts,
        markets,
        read_opts,
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
    let mut note = format!(
        "{label}: {} rows, {} users, {} contacts ({:.1}% resolved at first contact, {} in the end)",
        s.rows,
        s.users,
        s.contacts,
        100.0 * s.fcr_share(),
        s.contacts_resolved
    );
    if scenario.support.reengagement == crate::traffic::Reengagement::WaitForUser {
        // The assumption behind "wait for the user", said with its result.
        note.push_str(&format!(
            "; waiting for the user: each comes back with probability {} (support.wait_return_share), {} never did",
            scenario.support.wait_return_share, s.contacts_abandoned
        ));
    }
    Ok(Prepared {
        traffic: Loaded::InMemory(Box::new(log)),
        accounts,
        months: Some(scenario.calendar_months()),
        summary: Some(g.summary),
        notes: vec![note],
    })
}

/// A log read into memory, or (large, by `--partitions`) replayed partitioned under every
/// rulebook at once; rejected rows are left out, with a notice.
fn read(
    path: &Path,
    args: &CompareArgs,
    accounts: Accounts,
    rates: &RatesDir,
    rulebooks: &[Option<Rulebook>],
    read_opts: &ReadOptions,
) -> Result<Prepared> {
    let markets = &rates.markets;
    let format = args.input.resolve(path)?;
    let parts = partitioned::partitions(args.partitions, path, format);
    let (traffic, rejects) = match parts {
        None => {
            let log = read_log(path, format, &accounts, markets, read_opts, &|_| {})?;
            crate::cmd::input::mapped_notices(format);
            let rejects = log.rejects.clone();
            (Loaded::InMemory(Box::new(log)), rejects)
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
            crate::cmd::sweep_spills(&spill);
            let results = partitioned::replay_partitioned_many(
                &Request {
                    path,
                    format,
                    accounts: &accounts,
                    parts,
                    spill: &spill,
                    ledger: None,
                    progress: &|_, _, _| {},
                    read: *read_opts,
                },
                &ctxs,
            )?;
            let rejects = results
                .iter()
                .find_map(|r| r.as_ref().ok())
                .map(|p| p.rejects.clone())
                .unwrap_or_default();
            (Loaded::Partitioned(results), rejects)
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

/// Variant `rulebook` (the `r`-th `--rulebook`) of a prepared source.
pub(super) fn price(
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
    let in_memory;
    let summary = match &p.traffic {
        Loaded::InMemory(log) => {
            let ctx = Context {
                accounts: &p.accounts,
                rates: book,
                markets,
                forced: rulebook,
                rates_at,
            };
            in_memory = crate::replay::memory::replay(log, &ctx)?.1;
            &in_memory
        }
        Loaded::Partitioned(results) => results[r].as_ref().map_err(Clone::clone)?,
    };
    let provider = p
        .accounts
        .provider
        .as_ref()
        .map(|pr| pr.bill(&summary.tallies, &summary.lines))
        .transpose()?;
    if let Some(b) = &provider {
        summary
            .total
            .checked_add(b.total)
            .ok_or_else(|| Overflow(format!("the grand total {} + {}", summary.total, b.total)))?;
    }
    Ok(Variant {
        traffic: src.name(),
        kind,
        setting,
        rulebook: rulebook.map_or("auto", |r| r.id()).to_string(),
        messages: summary.messages.clone(),
        contacts: p.summary.as_ref().map(|s| s.contacts),
        resolved: p.summary.as_ref().map(|s| s.contacts_resolved),
        months: p.months.unwrap_or(summary.months),
        by_month: compare::month_totals(&summary.lines),
        categories: compare::category_totals(&summary.lines),
        issues: summary.issues.len(),
        meta_total: summary.total,
        provider,
    })
}
