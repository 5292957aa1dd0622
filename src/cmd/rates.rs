//! `wabill rates import | list | show`: manage and inspect the rates directory. The listings
//! are rendered by `report::rates`.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use chrono::NaiveDate;
use clap::Subcommand;

use crate::billing::markets::MarketId;
use crate::cmd::{notice, print_stdout, rates_dir};
use crate::io::rates_dir;
use crate::report;

#[derive(Debug, Clone, Subcommand)]
pub enum RatesCmd {
    /// Add Meta's `Pricing.csv` and/or `Tier Pricing.csv`, unchanged, as the card of a currency
    /// and date (replacing an existing card of that currency and date).
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
        } => import(&files, &currency, effective, rates.as_deref()),
        RatesCmd::List { rates } => {
            let d = rates_dir::load(&rates_dir(rates.as_deref()))?;
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

fn import(
    files: &[PathBuf],
    currency: &str,
    effective: NaiveDate,
    rates: Option<&Path>,
) -> Result<i32> {
    let root = rates_dir(rates);
    let source = files
        .iter()
        .map(|f| {
            f.file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("+");
    let rep = rates_dir::import(&root, files, currency, effective, &source)?;
    if rep.replaced {
        notice(format_args!(
            "replaced the existing card {}",
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
    // Prove the directory still loads.
    rates_dir::load(&root)?;
    Ok(0)
}

fn show(
    market: Option<&str>,
    date: Option<NaiveDate>,
    currency: &str,
    rates: Option<&Path>,
) -> Result<i32> {
    let d = rates_dir::load(&rates_dir(rates))?;
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
