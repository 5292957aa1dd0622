//! `wabill rates import`: Meta's `Pricing.csv` and/or `Tier Pricing.csv`, read unchanged
//! (RATE-2), become the card of a currency and date, written as a unit (`unit`).
//!
//! What is refused, before anything is written: a file whose currency (a `Currency` cell, a
//! title naming a code) contradicts `--currency`, unless confirmed (`currency_mismatch_ok`);
//! a market twice in `Pricing.csv`; a tier table for a market the card or the market table
//! does not know; a card of that date already there, unless `replace`; and a replacement from
//! `Pricing.csv` alone that would silently drop the card's tier table.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};
use chrono::NaiveDate;

use crate::io::meta_layout::{
    self, currency_mentions, CurrencyMention, MetaFileKind, PricingRow, TierRow,
};

use super::card::{read_card, CardFolder, Markets};
use super::findings::{problems_error, Findings, Problem};
use super::render::{rates_csv, tiers_csv};
use super::unit::write_card;
use super::{market_table, RATES_FILE, TIERS_FILE};

/// How to import.
#[derive(Debug, Clone)]
pub struct ImportOptions<'a> {
    /// ISO code of the card (`--currency`).
    pub currency: &'a str,
    pub date: NaiveDate,
    /// What the `source` column says (the files' names).
    pub source: &'a str,
    /// `--replace`: an existing card of that currency and date may be replaced.
    pub replace: bool,
    /// `--currency-mismatch-ok`: the files may name another currency than `--currency`.
    pub currency_mismatch_ok: bool,
}

/// What an import did, for the command's report.
pub struct ImportReport {
    pub dir: PathBuf,
    /// An existing card (or its tier table) was replaced.
    pub replaced: bool,
    /// A tier table was added to an existing card that had none.
    pub added_tiers: bool,
    pub markets: usize,
    pub tier_tables: usize,
    pub unknown_markets: Vec<String>,
    /// Things to tell the user (currencies confirmed or not recognised).
    pub notices: Vec<String>,
}

/// One of Meta's files, read.
struct MetaFile<T> {
    path: PathBuf,
    rows: Vec<T>,
    mentions: Vec<CurrencyMention>,
}

/// The files given, at most one of each kind.
#[derive(Default)]
struct MetaFiles {
    pricing: Option<MetaFile<PricingRow>>,
    tiers: Option<MetaFile<TierRow>>,
}

fn read_meta(files: &[PathBuf]) -> Result<MetaFiles> {
    let mut meta = MetaFiles::default();
    for f in files {
        let text = fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display()))?;
        let mentions = currency_mentions(&text).with_context(|| f.display().to_string())?;
        let kind = meta_layout::detect_kind(&text);
        let twice = |other: &Path| {
            anyhow::anyhow!(
                "{} and {} are both {} files: give one of each kind at most",
                other.display(),
                f.display(),
                if kind == Some(MetaFileKind::Pricing) {
                    "Pricing.csv"
                } else {
                    "Tier Pricing.csv"
                }
            )
        };
        match kind {
            Some(MetaFileKind::Pricing) => {
                if let Some(other) = &meta.pricing {
                    return Err(twice(&other.path));
                }
                let rows = meta_layout::parse_pricing(&text).with_context(|| f.display().to_string())?;
                meta.pricing = Some(MetaFile { path: f.clone(), rows, mentions });
            }
            Some(MetaFileKind::TierPricing) => {
                if let Some(other) = &meta.tiers {
                    return Err(twice(&other.path));
                }
                let rows =
                    meta_layout::parse_tier_pricing(&text).with_context(|| f.display().to_string())?;
                meta.tiers = Some(MetaFile { path: f.clone(), rows, mentions });
            }
            None => bail!(
                "{}: neither a Pricing.csv nor a Tier Pricing.csv layout (no `Market, Currency, …` header row found)",
                f.display()
            ),
        }
    }
    Ok(meta)
}

/// The files' currencies against `--currency`: a contradiction is refused unless `ok`; the
/// notices to print otherwise.
fn check_currency(meta: &MetaFiles, currency: &str, ok: bool) -> Result<Vec<String>> {
    let mentions = meta
        .pricing
        .iter()
        .map(|m| (&m.path, &m.mentions))
        .chain(meta.tiers.iter().map(|m| (&m.path, &m.mentions)));
    // (file, value) → (first mention, how many)
    let mut seen: Vec<(&Path, &CurrencyMention, usize)> = Vec::new();
    for (path, list) in mentions {
        for m in list {
            match seen
                .iter_mut()
                .find(|(p, s, _)| *p == path.as_path() && s.value == m.value)
            {
                Some(entry) => entry.2 += 1,
                None => seen.push((path, m, 1)),
            }
        }
    }
    let mut notices = Vec::new();
    let mut refused = Vec::new();
    for (path, m, n) in seen {
        let at = Problem::cell(path, m.line, &m.column, &m.value, "").location();
        let times = if n > 1 {
            format!(" ({n} times)")
        } else {
            String::new()
        };
        match &m.code {
            Some(code) if code == currency => {}
            Some(code) if ok => notices.push(format!(
                "{at}: the file says {code}{times}; imported as {currency} (--currency-mismatch-ok)"
            )),
            Some(code) => refused.push(format!(
                "{at}: the file is in {code}{times}, not {currency} (--currency {currency}): \
                 import it with --currency {code}, or pass --currency-mismatch-ok if its rates \
                 really are {currency}"
            )),
            None => notices.push(format!(
                "{at}: currency `{}` not recognised{times}; the card is {currency}, as --currency says",
                m.value
            )),
        }
    }
    if !refused.is_empty() {
        bail!("{}", refused.join("\nwabill: "));
    }
    Ok(notices)
}

/// What the card folder holds now.
struct Existing {
    rates: bool,
    tiers: bool,
    /// Files that are not a card's (the card folder is replaced whole, so they would go too).
    others: Vec<String>,
}

impl Existing {
    fn of(dir: &Path) -> Existing {
        let others = fs::read_dir(dir)
            .map(|r| {
                let mut v: Vec<String> = r
                    .filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n != RATES_FILE && n != TIERS_FILE && !n.starts_with('.'))
                    .collect();
                v.sort();
                v
            })
            .unwrap_or_default();
        Existing {
            rates: dir.join(RATES_FILE).exists(),
            tiers: dir.join(TIERS_FILE).exists(),
            others,
        }
    }
}

/// Whether this import may write the card: no card is replaced without `replace`, and no
/// tier table is dropped by a replacement from `Pricing.csv` alone.
fn may_write(meta: &MetaFiles, dir: &Path, was: &Existing, replace: bool) -> Result<()> {
    let card = dir.display();
    if !was.others.is_empty() {
        bail!(
            "{card}: the card folder holds files that are not a card's ({}): move them \
             elsewhere first (the folder is replaced as a whole)",
            was.others.join(", ")
        );
    }
    match (&meta.pricing, &meta.tiers) {
        (None, None) => bail!("no file to import"),
        (None, Some(_)) if !was.rates => bail!(
            "{card}: no card there yet to add tiers to: import its Pricing.csv too"
        ),
        (None, Some(_)) if was.tiers && !replace => bail!(
            "{card}: the card already has a tier table ({TIERS_FILE}): pass --replace to replace it"
        ),
        (Some(_), _) if (was.rates || was.tiers) && !replace => bail!(
            "{card}: a card of that currency and date is already there: pass --replace to replace it"
        ),
        (Some(_), None) if was.tiers => bail!(
            "{card}: replacing the card from a Pricing.csv alone would drop its tier table \
             ({TIERS_FILE}): give the Tier Pricing.csv as well, or delete {} first if the new \
             card has no volume tiers",
            dir.join(TIERS_FILE).display()
        ),
        _ => Ok(()),
    }
}

/// The card's markets (lower-case → as written): the new `Pricing.csv`'s (a market twice is a
/// problem) or, when only tiers are imported, the existing card's.
fn card_markets(meta: &MetaFiles, dir: &Path, f: &mut Findings) -> Result<HashMap<String, String>> {
    let mut names: HashMap<String, (String, usize)> = HashMap::new();
    if let Some(p) = &meta.pricing {
        for r in &p.rows {
            match names.get(&r.market.to_lowercase()) {
                Some((_, first)) => f.problem(Problem::cell(
                    &p.path,
                    r.line,
                    "Market",
                    &r.market,
                    format!("market appears twice (first on line {first}): one row would silently replace the other"),
                )),
                None if !looks_like_a_market(&r.market) => f.problem(Problem::cell(
                    &p.path,
                    r.line,
                    "Market",
                    &r.market,
                    "not a market name (letters, spaces and - ' . , ( ) & only): is this a rate card?",
                )),
                None => {
                    names.insert(r.market.to_lowercase(), (r.market.clone(), r.line));
                }
            }
        }
    } else {
        let text = fs::read_to_string(dir.join(RATES_FILE))
            .with_context(|| format!("cannot read {}", dir.join(RATES_FILE).display()))?;
        let mut rdr = csv::Reader::from_reader(text.as_bytes());
        let m = rdr.headers()?.iter().position(|h| h.trim() == "market");
        for rec in rdr.records().flatten() {
            let name = m.and_then(|m| rec.get(m)).unwrap_or("").trim().to_string();
            names.insert(name.to_lowercase(), (name, 0));
        }
    }
    Ok(names.into_iter().map(|(k, (v, _))| (k, v)).collect())
}

/// A market name as Meta writes them (`Indonesia`, `Rest of Central & Eastern Europe`, `Côte
/// d'Ivoire`): letters, with spaces and `-` `'` `.` `,` `(` `)` `&` `/`-free. A pasted code
/// comment (`//   Indonesia`) or a number is not one.
fn looks_like_a_market(name: &str) -> bool {
    name.chars().any(char::is_alphabetic)
        && name.chars().next().is_some_and(char::is_alphabetic)
        && name.chars().all(|c| {
            c.is_alphabetic() || matches!(c, ' ' | '-' | '\'' | '’' | '.' | ',' | '(' | ')' | '&')
        })
}

/// Every tier table is for a market of the card and of the market table.
fn check_tier_markets(
    meta: &MetaFiles,
    names: &HashMap<String, String>,
    mapped: &dyn Fn(&str) -> bool,
    f: &mut Findings,
) {
    let Some(t) = &meta.tiers else { return };
    let mut told = Vec::new();
    for r in &t.rows {
        if told.contains(&r.market) {
            continue;
        }
        let why = match names.get(&r.market.to_lowercase()) {
            None => "tier table for a market that is not on the card (misspelled?)",
            Some(name) if !mapped(name) => {
                "tier table for a market that is not in market_map.csv: no number maps to it"
            }
            Some(_) => continue,
        };
        f.problem(Problem::cell(
            &t.path,
            r.line,
            "Market (per rate card)",
            &r.market,
            why,
        ));
        told.push(r.market.clone());
    }
}

/// `wabill rates import`: add Meta's files as the card of `opts.currency` effective `opts.date`
/// in `root`, after the checks above, as a unit.
pub fn import(root: &Path, files: &[PathBuf], opts: &ImportOptions) -> Result<ImportReport> {
    let currency = opts.currency.trim().to_ascii_uppercase();
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
        bail!("--currency `{currency}` is not an ISO 4217 code (e.g. USD, EUR, INR)");
    }
    let meta = read_meta(files)?;
    let notices = check_currency(&meta, &currency, opts.currency_mismatch_ok)?;
    let dir = root
        .join(&currency)
        .join(opts.date.format("%Y-%m-%d").to_string());
    let was = Existing::of(&dir);
    may_write(&meta, &dir, &was, opts.replace)?;
    let mut f = Findings::default();
    let Some(markets) = market_table(root, &mut f) else {
        return Err(problems_error(root, &f.problems));
    };
    let names = card_markets(&meta, &dir, &mut f)?;
    let mapped = |name: &str| markets.id(name).is_some();
    check_tier_markets(&meta, &names, &mapped, &mut f);
    if !f.problems.is_empty() {
        return Err(problems_error(root, &f.problems));
    }
    let mut unknown: Vec<String> = names.values().filter(|n| !mapped(n)).cloned().collect();
    unknown.sort();
    let rates = match &meta.pricing {
        Some(p) => rates_csv(&p.rows, &currency, opts.source).into_bytes(),
        None => fs::read(dir.join(RATES_FILE))
            .with_context(|| format!("cannot read {}", dir.join(RATES_FILE).display()))?,
    };
    let mut out = vec![(RATES_FILE, rates)];
    let tier_tables = meta.tiers.as_ref().map(|t| tiers_csv(&t.rows, opts.source));
    if let Some((text, _)) = &tier_tables {
        out.push((TIERS_FILE, text.clone().into_bytes()));
    }
    let folder = CardFolder {
        currency: currency.clone(),
        date: opts.date,
        path: dir.clone(),
    };
    write_card(&dir, &out, |tmp| check_staged(root, tmp, &folder))?;
    Ok(ImportReport {
        replaced: meta.pricing.is_some() && (was.rates || was.tiers)
            || meta.pricing.is_none() && was.tiers,
        added_tiers: meta.pricing.is_none() && !was.tiers,
        dir,
        markets: meta.pricing.as_ref().map_or(0, |p| p.rows.len()),
        tier_tables: tier_tables.map_or(0, |t| t.1),
        unknown_markets: unknown,
        notices,
    })
}

/// The staged card must load as it will once in place.
fn check_staged(root: &Path, tmp: &Path, folder: &CardFolder) -> Result<()> {
    let mut f = Findings::default();
    let mut table = market_table(root, &mut f).context("the market table")?;
    let mut markets = Markets {
        mapped: table.len(),
        table: &mut table,
    };
    let staged = CardFolder {
        path: tmp.to_path_buf(),
        ..folder.clone()
    };
    read_card(root, &staged, &mut markets, &mut f);
    if f.problems.is_empty() {
        Ok(())
    } else {
        Err(problems_error(root, &f.problems).context("the card as written does not load"))
    }
}
