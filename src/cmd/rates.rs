//! `wabill rates import | list | show`: manage and inspect the rates directory.

use std::path::PathBuf;

use anyhow::{bail, Result};
use chrono::NaiveDate;
use clap::Subcommand;

use crate::billing::rates::Cell;
use crate::billing::types::RateColumn;
use crate::cmd::{notice, rates_dir};
use crate::io::rates_dir;

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

fn cell(c: Cell) -> String {
    match c {
        Cell::Rate(m) => m.to_decimal_string(),
        Cell::NotOffered => "n/a".into(),
        Cell::Unknown => "?".into(),
    }
}

pub fn run(cmd: RatesCmd) -> Result<i32> {
    match cmd {
        RatesCmd::Import {
            files,
            currency,
            effective,
            rates,
        } => {
            let root = rates_dir(rates.as_deref());
            let source = files
                .iter()
                .map(|f| {
                    f.file_name()
                        .map(|n| n.to_string_lossy().to_string())
                        .unwrap_or_default()
                })
                .collect::<Vec<_>>()
                .join("+");
            let rep = rates_dir::import(&root, &files, &currency, effective, &source)?;
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
            println!(
                "imported {} market(s) and {} tier table(s) into {}",
                rep.markets,
                rep.tier_tables,
                rep.dir.display()
            );
            // Prove the directory still loads.
            rates_dir::load(&root)?;
            Ok(0)
        }
        RatesCmd::List { rates } => {
            let d = rates_dir::load(&rates_dir(rates.as_deref()))?;
            println!("rates directory: {}", d.root.display());
            println!(
                "{:<8} {:<10} {:>7} {:>6}  columns",
                "currency", "effective", "markets", "tiers"
            );
            for c in &d.book.cards {
                let cols: Vec<&str> = RateColumn::ALL
                    .iter()
                    .filter(|col| c.columns[col.index()])
                    .map(|col| col.id())
                    .collect();
                println!(
                    "{:<8} {:<10} {:>7} {:>6}  {}",
                    c.currency,
                    c.effective,
                    c.markets().count(),
                    c.tier_tables().count(),
                    cols.join(" ")
                );
            }
            Ok(0)
        }
        RatesCmd::Show {
            market,
            date,
            currency,
            rates,
        } => {
            let d = rates_dir::load(&rates_dir(rates.as_deref()))?;
            let date = date.unwrap_or_else(|| chrono::Utc::now().date_naive());
            let cur = currency.to_ascii_uppercase();
            let Some(ci) = d.book.card_at(&cur, date) else {
                bail!("no {cur} rate card in force on {date}");
            };
            let card = &d.book.cards[ci];
            println!(
                "{cur} card effective {} ({}), in force on {date}; `?` = unknown, n/a = not offered",
                card.effective, card.source
            );
            let cols: Vec<RateColumn> = RateColumn::ALL
                .into_iter()
                .filter(|c| card.columns[c.index()])
                .collect();
            let mut markets: Vec<(String, u16)> = card
                .markets()
                .map(|(m, _)| (d.markets.name(*m).to_string(), *m))
                .collect();
            markets.sort();
            if let Some(want) = &market {
                markets.retain(|(n, _)| n.eq_ignore_ascii_case(want));
                if markets.is_empty() {
                    bail!(
                        "market `{want}` is not on the {cur} card of {}",
                        card.effective
                    );
                }
            }
            print!("{:<34}", "market");
            for c in &cols {
                print!(
                    " {:>12}",
                    c.id().replace("authentication_international", "auth_intl")
                );
            }
            println!();
            for (name, m) in &markets {
                print!("{name:<34}");
                for c in &cols {
                    print!(" {:>12}", cell(card.cell(*m, *c)));
                }
                println!();
                for c in &cols {
                    if let Some(bands) = card.tiers(*m, *c) {
                        for b in bands {
                            println!(
                                "    {} tier {:>10}..{:<10} {}",
                                c.id(),
                                b.from,
                                b.to.map(|t| t.to_string()).unwrap_or_else(|| "".into()),
                                b.rate
                            );
                        }
                    }
                }
            }
            Ok(0)
        }
    }
}
