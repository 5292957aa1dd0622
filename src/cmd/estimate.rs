//! `wabill estimate`: a monthly bill from message volumes per market and category, for finance.
//! The pricing itself is `billing::estimate` (pure); this file reads the inputs and prints.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Context as _, Result};
use clap::Args;
use serde::Serialize;

use crate::billing::engine::Context;
use crate::billing::estimate::{estimate, Estimate, EstimateError, Volume, Volumes};
use crate::billing::money::{Money, MARKUP_ROUNDING};
use crate::billing::provider::MonthTally;
use crate::cmd::replay::{parse_rulebook, Format};
use crate::cmd::{load_accounts, notice, rates_dir};
use crate::io::rates_dir;
use crate::io::volumes_file::parse_volumes;
use crate::report::breakdown::{provider_lines, JsonProvider};
use crate::report::table::{csv_field, Table};

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
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// What the numbers assume, printed with every estimate.
pub const ASSUMPTIONS: &str = "messages are the messages Meta will charge (templates outside the free windows; service: all delivered non-template messages, pmp-2026 allowance applied); rows sharing a volume-tier counter or a service allowance use it in the order given";

#[derive(Serialize)]
struct JsonBand {
    /// Monthly counts of the tier band (absent at a list rate without tier table).
    #[serde(skip_serializing_if = "Option::is_none")]
    from: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    to: Option<u64>,
    rate: String,
    messages: u64,
    amount: String,
}

#[derive(Serialize)]
struct JsonLine {
    month: String,
    waba: String,
    market: String,
    category: String,
    rulebook: String,
    messages: u64,
    charged: u64,
    free: u64,
    rule: &'static str,
    card: Option<String>,
    cost: String,
    bands: Vec<JsonBand>,
}

#[derive(Serialize)]
struct JsonEstimate {
    currency: String,
    total: String,
    lines: Vec<JsonLine>,
    rulebook: String,
    assumptions: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    provider: Option<JsonProvider>,
    #[serde(skip_serializing_if = "Option::is_none")]
    grand_total: Option<String>,
}

fn table(e: &Estimate, provider: Option<&JsonProvider>) -> String {
    let mut t = Table::new(&[
        ("month", false),
        ("waba", false),
        ("market", false),
        ("category", false),
        ("rulebook", false),
        ("messages", true),
        ("charged", true),
        ("free", true),
        ("rule", false),
        ("cost", true),
    ]);
    let mut month_total = Money::ZERO;
    for (i, l) in e.lines.iter().enumerate() {
        let x = &l.line;
        t.row(vec![
            x.month.clone(),
            x.waba.clone(),
            x.market.clone(),
            x.category.to_string(),
            x.rulebook.to_string(),
            l.messages.to_string(),
            x.charged.to_string(),
            x.free.to_string(),
            l.rule.to_string(),
            x.cost.to_string(),
        ]);
        for b in l.bands.iter().filter(|b| b.counts.is_some()) {
            let (from, to) = b.counts.expect("tier band");
            t.row(vec![
                String::new(),
                String::new(),
                format!("  messages {from}–{to}"),
                format!("at {}", b.rate),
                String::new(),
                b.messages.to_string(),
                String::new(),
                String::new(),
                String::new(),
                b.amount.to_string(),
            ]);
        }
        month_total += x.cost;
        if e.lines.get(i + 1).is_none_or(|n| n.line.month != x.month) {
            t.row(vec![
                x.month.clone(),
                String::new(),
                "month total".into(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                month_total.to_string(),
            ]);
            t.rule();
            month_total = Money::ZERO;
        }
    }
    let mut out = t.render();
    out.push_str(&format!("total {} {}\n", e.currency, e.total));
    if let Some(p) = provider {
        out.push_str(&provider_lines(p, &e.currency, &e.total.to_string()));
    }
    out.push_str(&format!("assumes: {ASSUMPTIONS}\n"));
    if provider.is_some() {
        out.push_str(&format!("Meta's amounts are exact; {MARKUP_ROUNDING}\n"));
    } else {
        out.push_str("amounts are exact (no rounding)\n");
    }
    out
}

fn csv(e: &Estimate) -> String {
    let mut out =
        String::from("month,waba,market,category,rulebook,messages,charged,free,rule,cost\n");
    for l in &e.lines {
        let x = &l.line;
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{}\n",
            x.month,
            csv_field(&x.waba),
            csv_field(&x.market),
            x.category,
            x.rulebook,
            l.messages,
            x.charged,
            x.free,
            l.rule,
            x.cost
        ));
    }
    out
}

pub fn run(args: EstimateArgs) -> Result<i32> {
    let forced = parse_rulebook(&args.rulebook)?;
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
    let accounts = load_accounts(args.accounts.as_deref())?;
    let currency = accounts.currency()?;
    let rates = rates_dir::load(&rates_dir(args.rates.as_deref()))?;
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
            for x in &m {
                notice(x);
            }
            bail!(
                "{} missing rate(s); add them to the rates directory (`wabill rates import`) or change the volumes",
                m.len()
            );
        }
        Err(other) => return Err(other.into()),
    };
    // Per-message provider fees: every volume is delivered business messages; an estimate has
    // no inbound or failed messages.
    let provider = accounts.provider.as_ref().map(|p| {
        let mut tallies: Vec<MonthTally> = Vec::new();
        for l in &e.lines {
            match tallies.iter_mut().find(|t| t.month == l.line.month) {
                Some(t) => t.sent += l.messages,
                None => tallies.push(MonthTally {
                    month: l.line.month.clone(),
                    sent: l.messages,
                    ..MonthTally::default()
                }),
            }
        }
        let lines: Vec<_> = e.lines.iter().map(|l| l.line.clone()).collect();
        JsonProvider::of(&p.bill(&tallies, &lines))
    });
    let out = match args.format {
        Format::Table => table(&e, provider.as_ref()),
        Format::Csv => csv(&e),
        Format::Json => {
            let grand_total = provider
                .as_ref()
                .map(|p| (e.total + Money::parse(&p.total).unwrap_or_default()).to_string());
            let j = JsonEstimate {
                currency: e.currency.clone(),
                total: e.total.to_string(),
                lines: e
                    .lines
                    .iter()
                    .map(|l| JsonLine {
                        month: l.line.month.clone(),
                        waba: l.line.waba.clone(),
                        market: l.line.market.clone(),
                        category: l.line.category.to_string(),
                        rulebook: l.line.rulebook.to_string(),
                        messages: l.messages,
                        charged: l.line.charged,
                        free: l.line.free,
                        rule: l.rule,
                        card: l.card.map(|c| c.to_string()),
                        cost: l.line.cost.to_string(),
                        bands: l
                            .bands
                            .iter()
                            .map(|b| JsonBand {
                                from: b.counts.map(|c| c.0),
                                to: b.counts.map(|c| c.1),
                                rate: b.rate.to_string(),
                                messages: b.messages,
                                amount: b.amount.to_string(),
                            })
                            .collect(),
                    })
                    .collect(),
                rulebook: forced.map_or("auto", |r| r.id()).to_string(),
                assumptions: ASSUMPTIONS,
                provider,
                grand_total,
            };
            let mut s = serde_json::to_string_pretty(&j)?;
            s.push('\n');
            s
        }
    };
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(out.as_bytes())?;
    stdout.flush()?;
    Ok(0)
}
