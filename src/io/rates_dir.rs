//! The rates directory: rate cards and the market table, as data files (RATE-1, RATE-2, MKT-2).
//!
//! ```text
//! rates/market_map.csv                 country → market, effective-dated (MKT-2)
//! rates/<CUR>/<YYYY-MM-DD>/rates.csv   market,currency,<rate columns…>,source
//! rates/<CUR>/<YYYY-MM-DD>/tiers.csv   market,category,tier,volume_from,volume_to,rate,source
//! ```
//! The effective date and currency come from the folder names (Meta's files do not reliably
//! carry them). `wabill rates import` turns Meta's own `Pricing.csv` / `Tier Pricing.csv` into
//! this layout, so a new card is one command.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};
use chrono::NaiveDate;

use crate::billing::markets::MarketTable;
use crate::billing::money::Money;
use crate::billing::rates::{Band, Cell, RateBook, RateCard};
use crate::billing::types::RateColumn;
use crate::io::market_map::parse_market_map;
use crate::io::meta_layout::{self, MetaFileKind, RateCell};
use crate::io::output::write_atomic;

pub const MARKET_MAP: &str = "market_map.csv";
pub const RATES_FILE: &str = "rates.csv";
pub const TIERS_FILE: &str = "tiers.csv";

/// Everything loaded from a rates directory.
pub struct RatesDir {
    pub root: PathBuf,
    pub markets: MarketTable,
    pub book: RateBook,
}

fn parse_cell(s: &str) -> std::result::Result<Cell, String> {
    let t = s.trim();
    if t.is_empty() {
        Ok(Cell::Unknown)
    } else if t.eq_ignore_ascii_case("n/a") {
        Ok(Cell::NotOffered)
    } else {
        Money::parse(t).map(Cell::Rate).map_err(|e| e.to_string())
    }
}

/// Load `market_map.csv` and every card under `root`.
pub fn load(root: &Path) -> Result<RatesDir> {
    if !root.is_dir() {
        bail!("rates directory {} does not exist", root.display());
    }
    let map_path = root.join(MARKET_MAP);
    let text = fs::read_to_string(&map_path)
        .with_context(|| format!("cannot read {}", map_path.display()))?;
    let mut markets =
        parse_market_map(&text).with_context(|| format!("in {}", map_path.display()))?;
    let mut cards = Vec::new();
    let mut cur_dirs: Vec<_> = fs::read_dir(root)?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .collect();
    cur_dirs.sort_by_key(|e| e.file_name());
    for cur in cur_dirs {
        let name = cur.file_name().to_string_lossy().to_string();
        if name.len() != 3 || !name.bytes().all(|b| b.is_ascii_uppercase()) {
            continue; // not a currency folder (e.g. reference/)
        }
        let mut date_dirs: Vec<_> = fs::read_dir(cur.path())?
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_dir())
            .collect();
        date_dirs.sort_by_key(|e| e.file_name());
        for dd in date_dirs {
            let dname = dd.file_name().to_string_lossy().to_string();
            let Ok(date) = NaiveDate::parse_from_str(&dname, "%Y-%m-%d") else {
                continue;
            };
            cards.push(load_card(root, &dd.path(), &name, date, &mut markets)?);
        }
    }
    Ok(RatesDir {
        root: root.to_path_buf(),
        markets,
        book: RateBook::new(cards),
    })
}

fn load_card(
    root: &Path,
    dir: &Path,
    currency: &str,
    date: NaiveDate,
    markets: &mut MarketTable,
) -> Result<RateCard> {
    let rel = dir.strip_prefix(root).unwrap_or(dir).display().to_string();
    let mut card = RateCard::new(currency, date, &rel);
    let rp = dir.join(RATES_FILE);
    if !rp.exists() {
        bail!("{}: missing {RATES_FILE}", dir.display());
    }
    let mut rdr =
        csv::Reader::from_path(&rp).with_context(|| format!("cannot read {}", rp.display()))?;
    let headers = rdr.headers()?.clone();
    let m_ix = headers
        .iter()
        .position(|h| h.trim() == "market")
        .with_context(|| format!("{}: no `market` column", rp.display()))?;
    let cols: Vec<(usize, RateColumn)> = headers
        .iter()
        .enumerate()
        .filter_map(|(i, h)| RateColumn::from_id(h.trim()).map(|c| (i, c)))
        .collect();
    for (ri, rec) in rdr.records().enumerate() {
        let rec = rec.with_context(|| format!("{}: row {}", rp.display(), ri + 1))?;
        let market = rec.get(m_ix).unwrap_or("").trim();
        if market.is_empty() {
            continue;
        }
        let mid = markets.intern(market);
        for (i, c) in &cols {
            let v = rec.get(*i).unwrap_or("");
            let cell = parse_cell(v).map_err(|e| {
                anyhow::anyhow!(
                    "{}: row {}, column {}, value `{}`: {e}",
                    rp.display(),
                    ri + 1,
                    c.id(),
                    v
                )
            })?;
            card.set(mid, *c, cell);
        }
    }
    let tp = dir.join(TIERS_FILE);
    if tp.exists() {
        let mut rdr = csv::Reader::from_path(&tp)?;
        let h = rdr.headers()?.clone();
        let ix = |n: &str| {
            h.iter()
                .position(|x| x.trim() == n)
                .with_context(|| format!("{}: no `{n}` column", tp.display()))
        };
        let (im, ic, ifrom, ito, irate) = (
            ix("market")?,
            ix("category")?,
            ix("volume_from")?,
            ix("volume_to")?,
            ix("rate")?,
        );
        let mut tables: std::collections::BTreeMap<(String, RateColumn), Vec<Band>> =
            Default::default();
        for (ri, rec) in rdr.records().enumerate() {
            let rec = rec?;
            let at = |i: usize| rec.get(i).unwrap_or("").trim().to_string();
            let err = |col: &str, v: &str, m: &str| {
                anyhow::anyhow!(
                    "{}: row {}, column {col}, value `{v}`: {m}",
                    tp.display(),
                    ri + 1
                )
            };
            let col = RateColumn::from_id(&at(ic))
                .filter(|c| c.is_tiered())
                .ok_or_else(|| err("category", &at(ic), "not a tiered category"))?;
            let num = |i: usize, name: &str| -> Result<Option<u64>> {
                let v = at(i).replace(',', "");
                if v.is_empty() || v == "--" {
                    Ok(None)
                } else {
                    v.parse::<u64>()
                        .map(Some)
                        .map_err(|_| err(name, &at(i), "not a message count"))
                }
            };
            let from = num(ifrom, "volume_from")?.unwrap_or(0);
            let to = num(ito, "volume_to")?;
            let rate =
                Money::parse(&at(irate)).map_err(|e| err("rate", &at(irate), &e.to_string()))?;
            tables
                .entry((at(im), col))
                .or_default()
                .push(Band { from, to, rate });
        }
        for ((m, c), bands) in tables {
            let mid = markets.intern(&m);
            card.set_tiers(mid, c, bands);
        }
    }
    Ok(card)
}

/// What an import did, for the command's report.
pub struct ImportReport {
    pub dir: PathBuf,
    pub replaced: bool,
    pub markets: usize,
    pub tier_tables: usize,
    pub unknown_markets: Vec<String>,
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// `wabill rates import`: read Meta's files unchanged (RATE-2) and add them as the card of
/// `currency` effective `date` in `root`. An existing card of that currency and date is
/// replaced as a whole.
pub fn import(
    root: &Path,
    files: &[PathBuf],
    currency: &str,
    date: NaiveDate,
    source: &str,
) -> Result<ImportReport> {
    let currency = currency.trim().to_ascii_uppercase();
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
        bail!("--currency `{currency}` is not an ISO 4217 code (e.g. USD, EUR, INR)");
    }
    let mut pricing = None;
    let mut tiers = None;
    for f in files {
        let text = fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display()))?;
        match meta_layout::detect_kind(&text) {
            Some(MetaFileKind::Pricing) => {
                let rows = meta_layout::parse_pricing(&text)
                    .with_context(|| format!("{}", f.display()))?;
                pricing = Some(rows);
            }
            Some(MetaFileKind::TierPricing) => {
                let rows = meta_layout::parse_tier_pricing(&text)
                    .with_context(|| format!("{}", f.display()))?;
                tiers = Some(rows);
            }
            None => bail!(
                "{}: neither a Pricing.csv nor a Tier Pricing.csv layout (no `Market, Currency, …` header row found)",
                f.display()
            ),
        }
    }
    let dir = root
        .join(&currency)
        .join(date.format("%Y-%m-%d").to_string());
    let map_text = fs::read_to_string(root.join(MARKET_MAP)).unwrap_or_default();
    let known = parse_market_map(&map_text).ok();
    let mut unknown = Vec::new();
    let mut check = |m: &str| {
        if let Some(k) = &known {
            if k.id(m).is_none() && !unknown.iter().any(|u: &String| u == m) {
                unknown.push(m.to_string());
            }
        }
    };
    let rates_csv = match &pricing {
        Some(rows) => {
            let mut cols: Vec<RateColumn> = Vec::new();
            for r in rows {
                for (c, _) in &r.cells {
                    if !cols.contains(c) {
                        cols.push(*c);
                    }
                }
            }
            cols.sort();
            let mut out = String::from("market,currency");
            for c in &cols {
                out.push(',');
                out.push_str(c.id());
            }
            out.push_str(",source\n");
            for r in rows {
                check(&r.market);
                out.push_str(&csv_field(&r.market));
                out.push(',');
                out.push_str(&currency);
                for c in &cols {
                    out.push(',');
                    match r.cell(*c) {
                        Some(RateCell::Rate(d)) => out.push_str(&d.to_string()),
                        Some(RateCell::NotOffered) => out.push_str("n/a"),
                        Some(RateCell::Unknown) | None => {}
                    }
                }
                out.push(',');
                out.push_str(&csv_field(&format!("{source} line {}", r.line)));
                out.push('\n');
            }
            Some((out, rows.len()))
        }
        None => {
            if !dir.join(RATES_FILE).exists() {
                bail!(
                    "no Pricing.csv given and no card of {currency} {date} exists yet to add tiers to"
                );
            }
            None
        }
    };
    let tiers_csv = tiers.as_ref().map(|rows| {
        let mut out = String::from(
            "market,category,tier,volume_from,volume_to,rate,discount_vs_list,source\n",
        );
        let mut tables = std::collections::BTreeSet::new();
        for r in rows {
            check(&r.market);
            tables.insert((r.market.clone(), r.column));
            out.push_str(&format!(
                "{},{},{},{},{},{},{},{}\n",
                csv_field(&r.market),
                r.column.id(),
                r.tier,
                r.from,
                r.to.map(|t| t.to_string()).unwrap_or_default(),
                r.rate,
                r.vs_list.clone().unwrap_or_default(),
                csv_field(&format!("{source} line {}", r.line)),
            ));
        }
        (out, tables.len())
    });
    let replaced = dir.exists() && rates_csv.is_some();
    fs::create_dir_all(&dir)?;
    if let Some((text, _)) = &rates_csv {
        write_atomic(&dir.join(RATES_FILE), text.as_bytes())?;
        if tiers_csv.is_none() && dir.join(TIERS_FILE).exists() {
            // A card is replaced as a whole: old tiers do not survive a new Pricing.csv alone.
            fs::remove_file(dir.join(TIERS_FILE))?;
        }
    }
    if let Some((text, _)) = &tiers_csv {
        write_atomic(&dir.join(TIERS_FILE), text.as_bytes())?;
    }
    Ok(ImportReport {
        dir,
        replaced,
        markets: rates_csv.map(|r| r.1).unwrap_or(0),
        tier_tables: tiers_csv.map(|t| t.1).unwrap_or(0),
        unknown_markets: unknown,
    })
}
