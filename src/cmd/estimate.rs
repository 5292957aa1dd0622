//! `wabill estimate`: a monthly bill from message volumes per market and category, for finance.
//! The pricing itself is `billing::estimate` (pure) and the outputs `report::estimate`; this
//! file reads the inputs and prints.

use std::path::PathBuf;

use anyhow::{bail, Context as _, Result};
use clap::Args;

use crate::billing::engine::Context;
use crate::billing::estimate::{estimate, EstimateError, Volume, Volumes};
use crate::cmd::{
    load_accounts, load_rates, missing_rates, parse_rulebook, print_stdout, OutputFormat,
};
use crate::io::volumes_file::parse_volumes;
use crate::report::estimate as render;
use crate::report::missing_rates::Remedy;

#[derive(Debug, Clone, Args)]
#[command(after_help = "\
A volumes file:

  service_numbers = 2        # optional: business numbers per WABA sending service messages
  [[volume]]
  month = \"2026-10\"          # YYYY-MM, in the WABA's time zone
  market = \"India\"           # rate-card market (see `wabill rates show`)
  category = \"utility\"       # marketing | utility | authentication |
                             # authentication_international | service
  messages = 250000          # messages Meta will charge (service: all delivered)
  waba = \"acme-in\"           # optional, from the accounts file

Examples:
  wabill estimate volumes.toml --accounts data/accounts.toml
  wabill estimate --volume 2026-10,India,utility,250000 --volume 2026-10,India,marketing,40000")]
pub struct EstimateArgs {
    /// Volumes file (TOML, see below). Optional when `--volume` is given.
    pub volumes: Option<PathBuf>,
    /// One volume: `MONTH,MARKET,CATEGORY,MESSAGES[,WABA]`, e.g. `2026-10,India,utility,250000`.
    /// Repeatable; comes after the file's volumes.
    #[arg(long = "volume", value_name = "MONTH,MARKET,CATEGORY,MESSAGES[,WABA]")]
    pub volume: Vec<String>,
    /// Business numbers per WABA that send service messages (pmp-2026 allowance: the first
    /// 1,000 service messages a month of each are free). Overrides the file; default 1.
    #[arg(long)]
    pub service_numbers: Option<u32>,
    /// `auto`: the rulebook in force each month (per-message months only); or force
    /// `pmp-2025` / `pmp-2026`.
    #[arg(long, default_value = "auto")]
    pub rulebook: String,
    /// Accounts file (TOML): WABAs (currency, time zone) and the optional `[provider]` fees.
    #[arg(long)]
    pub accounts: Option<PathBuf>,
    /// Rates directory (cards and market table); default: the project's `rates/`.
    #[arg(long)]
    pub rates: Option<PathBuf>,
    /// Output on stdout.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

pub fn run(args: EstimateArgs) -> Result<i32> {
    let forced = parse_rulebook(&args.rulebook)?;
    let volumes = volumes(&args)?;
    let accounts = load_accounts(args.accounts.as_deref())?;
    let currency = accounts.currency()?;
    let rates = load_rates(args.rates.as_deref())?;
    if !rates.book.cards.iter().any(|c| c.currency == currency) {
        bail!(
            "no rate card in {} for currency {currency} (have: {})",
            rates.root.display(),
            rates.book.currencies().join(", ")
        );
    }
    let ctx = Context {
        accounts: &accounts,
        rates: &rates.book,
        markets: &rates.markets,
        forced,
        rates_at: None,
    };
    let e = match estimate(&volumes, &ctx) {
        Ok(e) => e,
        Err(EstimateError::MissingRates(m)) => {
            return Err(missing_rates(&m, Remedy::ChangeTheVolumes))
        }
        Err(other) => return Err(other.into()),
    };
    for n in &e.notes {
        crate::cmd::notice(n);
    }
    let provider = accounts
        .provider
        .as_ref()
        .map(|p| render::provider_fees(&e, p))
        .transpose()?;
    let out = match args.format {
        OutputFormat::Table => render::table(&e, provider.as_ref()),
        OutputFormat::Csv => render::csv(&e),
        OutputFormat::Json => render::json(&e, forced, provider)?,
    };
    print_stdout(&out)?;
    Ok(0)
}

/// The volumes file's volumes, then every `--volume`, and the `--service-numbers` override.
fn volumes(args: &EstimateArgs) -> Result<Volumes> {
    let mut volumes = match &args.volumes {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read volumes file {}", p.display()))?;
            parse_volumes(&text).with_context(|| format!("in {}", p.display()))?
        }
        None => Volumes::default(),
    };
    for (i, s) in args.volume.iter().enumerate() {
        volumes.volumes.push(Volume::parse_flag(s, i + 1)?);
    }
    if let Some(n) = args.service_numbers {
        if n == 0 {
            bail!("--service-numbers must be at least 1");
        }
        volumes.service_numbers = n;
    }
    if volumes.volumes.is_empty() {
        bail!("no volumes: give a volumes file or --volume MONTH,MARKET,CATEGORY,MESSAGES");
    }
    Ok(volumes)
}
