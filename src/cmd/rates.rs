//! `wabill rates import | check | list | show`: manage, check and inspect the rates directory.
//! The listings and the check's findings are rendered by `report::rates`.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};
use chrono::NaiveDate;
use clap::Subcommand;

use crate::billing::markets::MarketId;
use crate::cmd::{load_rates, notice, print_stdout, rates_dir};
use crate::io::rates_dir::{self, ImportOptions};
use crate::report;

#[derive(Debug, Clone, Subcommand)]
pub enum RatesCmd {
    /// Add Meta's `Pricing.csv` and/or `Tier Pricing.csv`, unchanged, as the card of a currency
    /// and date.
    #[command(
        long_about = "Add Meta's `Pricing.csv` and/or `Tier Pricing.csv`, unchanged, as \
the card of a currency and date.

The card is checked before anything is written (every market once, every tier table for a market \
of the card and of market_map.csv, bands without gaps or overlaps, rates exact and in range) and \
written as a unit: a failed import leaves the rates directory as it was.

A currency the files name (a `Currency` cell such as `€`, a title such as `… in EUR …`) that \
contradicts --currency is refused unless --currency-mismatch-ok confirms it. An existing card of \
that currency and date is replaced only with --replace, and not from a Pricing.csv alone when the \
card has a tier table (give the Tier Pricing.csv too). A Tier Pricing.csv alone adds a tier table \
to an existing card (or, with --replace, replaces its tier table)."
    )]
    Import {
        /// Meta's files (the kind of each is recognised from its content).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// ISO currency code of the card (the files may write `$US`, `₹`, …).
        #[arg(long)]
        currency: String,
        /// Effective date, YYYY-MM-DD (00:00 in each WABA's time zone).
        #[arg(long)]
        effective: NaiveDate,
        /// Rates directory to add the card to (default: the project's `rates/`).
        #[arg(long)]
        rates: Option<PathBuf>,
        /// Replace the card of that currency and date if there is one.
        #[arg(long)]
        replace: bool,
        /// Import even though the files name another currency than --currency.
        #[arg(long)]
        currency_mismatch_ok: bool,
    },
    /// Check a whole rates directory and list every problem (file, line, value, why).
    #[command(
        long_about = "Check a whole rates directory and list every problem: file, line, \
column, value and why. The same checks run before every replay, which refuses a directory with a \
problem.

Checked: folder names (<CUR>/ in capitals, card folders named exactly YYYY-MM-DD, one per date); \
market_map.csv; each card's rates.csv and tiers.csv (known columns, each once; every row as wide \
as the header; a last line cut short; every market once; currency and date cells agreeing with \
the folders; rates exact to 6 decimals and at most 1000000 per message); each tier table (for \
a market of the card and of market_map.csv, a tiered category, bands from 0 or 1 without gaps, \
overlaps or duplicates).

Notes (printed, not problems): folders left by an interrupted import, empty card folders, card \
markets that market_map.csv does not name.

Exit code 0: no problem; 2: problems (or no rates directory)."
    )]
    Check {
        /// Rates directory to check (default: the project's `rates/`).
        #[arg(long)]
        rates: Option<PathBuf>,
    },
    /// List the cards: currency, date, markets, tier tables.
    List {
        #[arg(long)]
        rates: Option<PathBuf>,
    },
    /// Show the rates in force for a market on a date (or every market of the card).
    Show {
        /// Market name as on the card (e.g. "India"); omit for all markets.
        #[arg(long)]
        market: Option<String>,
        /// Date, YYYY-MM-DD (default: today).
        #[arg(long)]
        date: Option<NaiveDate>,
        #[arg(long, default_value = "USD")]
        currency: String,
        #[arg(long)]
        rates: Option<PathBuf>,
    },
}

pub fn run(cmd: RatesCmd) -> Result<i32> {
    match cmd {
        RatesCmd::Import {
            files,
            currency,
            effective,
            rates,
            replace,
            currency_mismatch_ok,
        } => {
            let source = files
                .iter()
                .map(|f| {
                    f.file_name()
                        .map(|n| n.to_string_lossy().to_string())
                        .unwrap_or_default()
                })
                .collect::<Vec<_>>()
                .join("+");
            let opts = ImportOptions {
                currency: &currency,
                date: effective,
                source: &source,
                replace,
                currency_mismatch_ok,
            };
            import(&files, &opts, rates.as_deref())
        }
        RatesCmd::Check { rates } => {
            let root = rates_dir(rates.as_deref());
            let check = rates_dir::check(&root);
            print_stdout(&report::rates::check(&root, &check))?;
            Ok(if check.findings.problems.is_empty() {
                0
            } else {
                2
            })
        }
        RatesCmd::List { rates } => {
            let d = load_rates(rates.as_deref())?;
            print_stdout(&report::rates::list(&d.root, &d.book))?;
            Ok(0)
        }
        RatesCmd::Show {
            market,
            date,
            currency,
            rates,
        } => show(market.as_deref(), date, &currency, rates.as_deref()),
    }
}

fn import(files: &[PathBuf], opts: &ImportOptions, rates: Option<&Path>) -> Result<i32> {
    let root = rates_dir(rates);
    let rep = rates_dir::import(&root, files, opts)?;
    for n in &rep.notices {
        notice(n);
    }
    if rep.replaced {
        notice(format_args!(
            "replaced the existing card {}",
            rep.dir.display()
        ));
    }
    if rep.added_tiers {
        notice(format_args!(
            "added a tier table to the existing card {}",
            rep.dir.display()
        ));
    }
    for m in &rep.unknown_markets {
        notice(format_args!(
            "market `{m}` is not in market_map.csv: no number will map to it"
        ));
    }
    print_stdout(&format!(
        "imported {} market(s) and {} tier table(s) into {}\n",
        rep.markets,
        rep.tier_tables,
        rep.dir.display()
    ))?;
    // The card was checked before it was written; the rest of the directory is checked here.
    rates_dir::load(&root).context(
        "the card was imported, but the rates directory has problems elsewhere \
         (`wabill rates check` lists them)",
    )?;
    Ok(0)
}

fn show(
    market: Option<&str>,
    date: Option<NaiveDate>,
    currency: &str,
    rates: Option<&Path>,
) -> Result<i32> {
    let d = load_rates(rates)?;
    let date = date.unwrap_or_else(|| chrono::Utc::now().date_naive());
    let cur = currency.to_ascii_uppercase();
    let Some(ci) = d.book.card_at(&cur, date) else {
        bail!("no {cur} rate card in force on {date}");
    };
    let card = &d.book.cards[ci];
    print_stdout(&report::rates::card_heading(&cur, card, date))?;
    let mut markets: Vec<(String, MarketId)> = card
        .markets()
        .map(|(m, _)| (d.markets.name(*m).to_string(), *m))
        .collect();
    markets.sort();
    if let Some(want) = market {
        markets.retain(|(n, _)| n.eq_ignore_ascii_case(want));
        if markets.is_empty() {
            bail!(
                "market `{want}` is not on the {cur} card of {}",
                card.effective
            );
        }
    }
    print_stdout(&report::rates::card_table(card, &markets))?;
    Ok(0)
}
