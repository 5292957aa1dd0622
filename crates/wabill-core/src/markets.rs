//! Markets (billing-rules.md §4): number → country → market, effective-dated.
//!
//! MKT-1: the country comes from the user's number with the `phonenumber` library (offline
//! metadata), except for the shared codes the spec settles itself: +1 area codes of the Dominican
//! Republic, Jamaica and Puerto Rico come from the market table's `network_prefixes`, and +7 6xx /
//! 7xx is Kazakhstan. MKT-2: the country → market table is a data file with `valid_from` /
//! `valid_to` dates. MKT-3: an explicit `country` column wins (handled by the caller).

use std::collections::HashMap;

use chrono::NaiveDate;

use super::ids::Rule;
use super::model::Issue;
use super::types::Country;

pub type MarketId = u16;

/// MKT-1 for one user number: its country, and, when the phone number metadata does not know it
/// as a valid number, why ([`crate::phone::invalid_reason`]). Such a number is still billed in
/// its country's market (Meta delivered the message) and reported ([`invalid_number_issue`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub country: Country,
    pub invalid: Option<String>,
}

/// MKT-1: the issue for a thread whose user number is not a valid number, at the first row that
/// took its country from the number: the library's reason and the market it was billed in.
pub fn invalid_number_issue(
    event: u32,
    number: u64,
    reason: &str,
    country: Country,
    market: &str,
) -> Issue {
    Issue {
        code: "invalid-number",
        rule: Rule::Mkt1,
        event,
        message: format!(
            "user +{number} is {reason} (phone number metadata); billed as {country}, market `{market}`, since Meta delivered it"
        ),
    }
}

#[derive(Debug, Clone)]
struct Row {
    country: Country,
    market: MarketId,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

/// The effective-dated country → market table, plus the registry of market names.
#[derive(Debug, Clone)]
pub struct MarketTable {
    names: Vec<String>,
    by_name: HashMap<String, MarketId>,
    rows: Vec<Row>,
    fallback: MarketId,
    plus1_prefixes: Vec<(String, Country)>,
    known: Vec<Country>,
    /// English country names (the table's `country_name`), lower case.
    country_names: Vec<(String, Country)>,
    /// AIP-1: the markets and periods in which an AI provider's messages are charged.
    ai_provider: Vec<AiProviderPeriod>,
}

/// AIP-1: one row of the AI-provider table: in `market`, from `from` (WABA-local date,
/// inclusive) until `until` (exclusive; `None` = still charged), an AI provider's non-template
/// messages are charged the card's `general_purpose_ai` rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AiProviderPeriod {
    pub market: MarketId,
    pub from: NaiveDate,
    pub until: Option<NaiveDate>,
}

#[derive(Debug, thiserror::Error)]
pub enum MarketTableError {
    #[error("market table, row {row}: {message}")]
    Row { row: usize, message: String },
    /// The file's syntax or a missing column, as the reader at the edge reports it.
    #[error("market table: {0}")]
    Csv(String),
}

/// One row of the market map (formats.md §3) as written: its cells as text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MarketRow<'a> {
    /// 1-based data row, for messages.
    pub row: usize,
    /// ISO 3166 alpha-2 code, or `*` for the fallback market.
    pub country_iso2: &'a str,
    pub market: &'a str,
    /// +1 area codes of the country, separated by spaces (MKT-1).
    pub network_prefixes: &'a str,
    /// `YYYY-MM-DD` or empty (MKT-2).
    pub valid_from: &'a str,
    /// `YYYY-MM-DD` (inclusive) or empty (MKT-2).
    pub valid_to: &'a str,
    /// The country's English name, or empty.
    pub country_name: &'a str,
}

/// Builds a [`MarketTable`] row by row (the file's syntax is read at the edge,
/// `wabill::io::market_map`).
#[derive(Debug)]
pub struct MarketTableBuilder {
    table: MarketTable,
    fallback: Option<MarketId>,
}

impl Default for MarketTableBuilder {
    fn default() -> Self {
        MarketTableBuilder {
            table: MarketTable {
                names: Vec::new(),
                by_name: HashMap::new(),
                rows: Vec::new(),
                fallback: 0,
                plus1_prefixes: Vec::new(),
                known: Vec::new(),
                country_names: Vec::new(),
                ai_provider: Vec::new(),
            },
            fallback: None,
        }
    }
}

impl MarketTableBuilder {
    /// Check and add one row; a `*` country names the fallback market.
    pub fn add(&mut self, r: MarketRow) -> Result<(), MarketTableError> {
        let t = &mut self.table;
        let row = r.row;
        let market = r.market.trim();
        if market.is_empty() {
            return Err(MarketTableError::Row {
                row,
                message: "empty market".into(),
            });
        }
        let mid = t.intern(market);
        let cc = r.country_iso2.trim();
        if cc == "*" {
            self.fallback = Some(mid);
            return Ok(());
        }
        let country = Country::parse(cc).ok_or_else(|| MarketTableError::Row {
            row,
            message: format!("bad country_iso2 `{cc}`"),
        })?;
        if !country.is_assigned() {
            return Err(MarketTableError::Row {
                row,
                message: format!("country_iso2 `{cc}` is not an assigned ISO 3166 code"),
            });
        }
        let date = |s: &str| -> Result<Option<NaiveDate>, MarketTableError> {
            let s = s.trim();
            if s.is_empty() {
                return Ok(None);
            }
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(Some)
                .map_err(|_| MarketTableError::Row {
                    row,
                    message: format!("bad date `{s}`"),
                })
        };
        let from = date(r.valid_from)?;
        let to = date(r.valid_to)?;
        for p in r.network_prefixes.split_whitespace() {
            if p.len() == 3 && p.bytes().all(|b| b.is_ascii_digit()) {
                t.plus1_prefixes.push((p.to_string(), country));
            }
        }
        if !t.known.contains(&country) {
            t.known.push(country);
        }
        let name = r.country_name.trim().to_ascii_lowercase();
        if !name.is_empty() && !t.country_names.iter().any(|(n, _)| *n == name) {
            t.country_names.push((name, country));
        }
        t.rows.push(Row {
            country,
            market: mid,
            from,
            to,
        });
        Ok(())
    }

    /// The table; without a `*` row, unlisted countries go to a market `Other`.
    pub fn finish(mut self) -> MarketTable {
        self.table.fallback = match self.fallback {
            Some(f) => f,
            None => self.table.intern("Other"),
        };
        self.table
    }
}

impl MarketTable {
    /// Market id for a name, adding it to the registry if new (rate cards may name markets the
    /// table does not).
    pub fn intern(&mut self, name: &str) -> MarketId {
        if let Some(&id) = self.by_name.get(name) {
            return id;
        }
        let id = self.names.len() as MarketId;
        self.names.push(name.to_string());
        self.by_name.insert(name.to_string(), id);
        id
    }

    pub fn id(&self, name: &str) -> Option<MarketId> {
        self.by_name.get(name).copied()
    }

    /// AIP-1: the AI-provider table (replaces any earlier one).
    pub fn set_ai_provider(&mut self, periods: Vec<AiProviderPeriod>) {
        self.ai_provider = periods;
    }

    /// AIP-1: the AI-provider table.
    pub fn ai_provider(&self) -> &[AiProviderPeriod] {
        &self.ai_provider
    }

    /// AIP-1: whether an AI provider's non-template message to `market` on the WABA-local
    /// `date` is charged.
    pub fn ai_provider_charges(&self, market: MarketId, date: NaiveDate) -> bool {
        self.ai_provider
            .iter()
            .any(|p| p.market == market && p.from <= date && p.until.is_none_or(|u| date < u))
    }

    pub fn name(&self, id: MarketId) -> &str {
        &self.names[id as usize]
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Every date on which some country changes market (MKT-2).
    pub fn change_dates(&self) -> Vec<NaiveDate> {
        let mut d: Vec<NaiveDate> = self
            .rows
            .iter()
            .flat_map(|r| [r.from, r.to.and_then(|t| t.succ_opt())])
            .flatten()
            .collect();
        d.sort();
        d.dedup();
        d
    }

    pub fn lists(&self, c: Country) -> bool {
        self.known.contains(&c)
    }

    /// The country of an English name of the table (`United States`, `india`), any case.
    pub fn country_by_name(&self, name: &str) -> Option<Country> {
        let name = name.trim();
        self.country_names
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, c)| *c)
    }

    /// The listed countries in `market` on `date` (MKT-2), sorted; and whether it is the
    /// fallback market, which also holds every unlisted country.
    pub fn countries_of(&self, market: MarketId, date: NaiveDate) -> (Vec<Country>, bool) {
        let mut v: Vec<Country> = self
            .known
            .iter()
            .copied()
            .filter(|&c| self.market_of(c, date) == market)
            .collect();
        v.sort();
        v.dedup();
        (v, market == self.fallback)
    }

    /// MKT-2: the market of `country` on the WABA-local date `date`; unlisted countries → Other.
    pub fn market_of(&self, country: Country, date: NaiveDate) -> MarketId {
        self.rows
            .iter()
            .find(|r| {
                r.country == country
                    && r.from.is_none_or(|f| f <= date)
                    && r.to.is_none_or(|t| date <= t)
            })
            .map(|r| r.market)
            .unwrap_or(self.fallback)
    }

    /// MKT-1: the country of a user's number (digits only, with country code, no `+`).
    pub fn country_of_number(&self, digits: &str) -> Result<Country, String> {
        if digits.len() < 4 || digits.len() > 15 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err("not an E.164 number (4 to 15 digits after `+`)".into());
        }
        if let Some(national) = digits.strip_prefix('7') {
            // MKT-1: +7 6xx and 7xx are Kazakhstan, the rest Russia.
            return Ok(match national.as_bytes().first() {
                Some(b'6') | Some(b'7') => Country(*b"KZ"),
                _ => Country(*b"RU"),
            });
        }
        if let Some(national) = digits.strip_prefix('1') {
            // MKT-1: area codes named by the table (DO, JM, PR) first.
            if national.len() >= 3 {
                if let Some((_, c)) = self
                    .plus1_prefixes
                    .iter()
                    .find(|(p, _)| national.starts_with(p.as_str()))
                {
                    return Ok(*c);
                }
            }
        }
        // Calling codes are prefix-free: a code with a single region needs no parsing (its
        // numbers all map to that country, valid or not). Shared codes go to the library.
        let db = &*phonenumber::metadata::DATABASE;
        for len in 1..=3 {
            let Ok(code) = digits[..len].parse::<u16>() else {
                break;
            };
            if let Some(regions) = db.region(&code) {
                if let [only] = regions.as_slice() {
                    if let Some(c) = Country::parse(only) {
                        return Ok(c);
                    }
                }
                break;
            }
        }
        let plus = format!("+{digits}");
        let pn =
            phonenumber::parse(None, &plus).map_err(|e| format!("unparseable number ({e})"))?;
        let code = pn.code().value();
        let main = || -> Option<Country> {
            db.region(&code)
                .and_then(|r| r.first().and_then(|s| Country::parse(s)))
        };
        let region = pn.country().id().and_then(|id| Country::parse(id.as_ref()));
        match region {
            // +1: other countries are their own (→ Other in the table), never folded into the US.
            Some(r) if code == 1 || self.lists(r) => Ok(r),
            // Sub-regions such as GG (+44) fall back to the calling code's main region.
            Some(r) => Ok(main().filter(|m| self.lists(*m)).unwrap_or(r)),
            None => main().ok_or_else(|| format!("unknown country calling code +{code}")),
        }
    }

    /// [`country_of_number`](Self::country_of_number), and whether the number is valid.
    pub fn resolve_number(&self, digits: &str) -> Result<Resolved, String> {
        self.resolve_number_memo(digits, &mut std::collections::HashMap::new())
    }

    /// [`resolve_number`](Self::resolve_number) through the +1 area-code memo of
    /// [`country_of_number_memo`](Self::country_of_number_memo); validity is checked for every
    /// number (a memo hit says nothing about the rest of the number).
    pub fn resolve_number_memo(
        &self,
        digits: &str,
        memo: &mut std::collections::HashMap<u16, Country>,
    ) -> Result<Resolved, String> {
        let country = self.country_of_number_memo(digits, memo)?;
        Ok(Resolved {
            country,
            invalid: crate::phone::invalid_reason(digits, Some(country.as_str())),
        })
    }

    /// [`country_of_number`](Self::country_of_number) with a memo of +1 area codes: MKT-1 says
    /// the market of a +1 number follows its area code, so one valid number of an area code
    /// answers for all of them (the library costs ~15 µs a number).
    pub fn country_of_number_memo(
        &self,
        digits: &str,
        memo: &mut std::collections::HashMap<u16, Country>,
    ) -> Result<Country, String> {
        let area = digits
            .strip_prefix('1')
            .filter(|n| n.len() == 10)
            .and_then(|n| n[..3].parse::<u16>().ok());
        let Some(a) = area else {
            return self.country_of_number(digits);
        };
        if let Some(c) = memo.get(&a) {
            return Ok(*c);
        }
        let c = self.country_of_number(digits)?;
        if crate::phone::invalid_reason(digits, Some(c.as_str())).is_none() {
            memo.insert(a, c);
        }
        Ok(c)
    }
}

/// MKT-2 precomputed for a replay: the market of each (country, market-table version).
pub(crate) struct MarketIndex {
    by_country: Vec<Vec<MarketId>>,
}

impl MarketIndex {
    /// Index `countries` (a log's countries table) under every version of `markets`.
    pub(crate) fn new(markets: &MarketTable, countries: &[Country]) -> MarketIndex {
        let versions = markets.change_dates();
        let mut starts = vec![NaiveDate::MIN];
        starts.extend(versions.iter().copied());
        let by_country = countries
            .iter()
            .map(|c| starts.iter().map(|d| markets.market_of(*c, *d)).collect())
            .collect();
        MarketIndex { by_country }
    }

    /// The market of a countries-table index under a version (`PeriodInfo::mkt_version`).
    pub(crate) fn market(&self, country: u16, version: u16) -> MarketId {
        self.by_country[country as usize][version as usize]
    }
}

/// A user's number as logs write it, as an integer: `+`, spaces, dashes, dots and parentheses
/// tolerated; 4 to 15 digits (E.164), not starting with 0. The one rule for every reader.
pub fn number_digits(raw: &str) -> Option<u64> {
    let mut v: u64 = 0;
    let mut n = 0;
    for (i, b) in raw.trim().bytes().enumerate() {
        match b {
            b'0'..=b'9' => {
                if n == 0 && b == b'0' {
                    return None;
                }
                v = v * 10 + (b - b'0') as u64;
                n += 1;
                if n > 15 {
                    return None;
                }
            }
            b'+' if i == 0 => {}
            b' ' | b'-' | b'.' | b'(' | b')' => {}
            _ => return None,
        }
    }
    (n >= 4).then_some(v)
}

/// [`number_digits`] as a string of digits (no `+`).
pub fn normalize_number(raw: &str) -> Option<String> {
    number_digits(raw).map(|n| n.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str =
        "country_iso2,calling_code,market,network_prefixes,country_name,valid_from,valid_to,source
US,1,North America,,United States,,,
CA,1,North America,,Canada,,,
DO,1,Rest of Latin America,809 829 849,Dominican Republic,,,
PR,1,Rest of Latin America,787 939,Puerto Rico,,,
GB,44,United Kingdom,,United Kingdom,,,
RU,7,Russia,,Russia,,,
KZ,7,Other,,Kazakhstan,,2026-09-30,
KZ,7,Kazakhstan,,Kazakhstan,2026-10-01,,
ZW,263,Other,,Zimbabwe,,2025-09-30,
ZW,263,Rest of Africa,,Zimbabwe,2025-10-01,,
IN,91,India,,India,,,
*,*,Other,,All other countries,,,
";

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    /// [`TABLE`] row by row (its cells hold no commas or quotes).
    fn table() -> MarketTable {
        let mut b = MarketTableBuilder::default();
        for (i, line) in TABLE.lines().skip(1).enumerate() {
            let c: Vec<&str> = line.split(',').collect();
            b.add(MarketRow {
                row: i + 1,
                country_iso2: c[0],
                market: c[2],
                network_prefixes: c[3],
                valid_from: c[5],
                valid_to: c[6],
                country_name: c[4],
            })
            .unwrap();
        }
        b.finish()
    }

    #[test]
    fn mkt1_plus1_area_codes() {
        let t = table();
        let m = |n: &str| {
            let c = t.country_of_number(n).unwrap();
            (c, t.name(t.market_of(c, d("2025-08-01"))).to_string())
        };
        assert_eq!(m("12025550123"), (Country(*b"US"), "North America".into()));
        assert_eq!(m("14165550123"), (Country(*b"CA"), "North America".into()));
        assert_eq!(m("18095550123").1, "Rest of Latin America");
        assert_eq!(
            m("17875550123"),
            (Country(*b"PR"), "Rest of Latin America".into())
        );
        // Jamaica is not in this small table: +1 876 → JM → Other
        assert_eq!(m("18765550123").1, "Other");
        // Bahamas (+1 242): another +1 country → Other, and not the US (PMP-7)
        assert_eq!(m("12423570123"), (Country(*b"BS"), "Other".into()));
    }

    #[test]
    fn mkt1_plus7_kazakhstan_and_mkt2_dates() {
        let t = table();
        let kz = t.country_of_number("77012345678").unwrap();
        assert_eq!(kz, Country(*b"KZ"));
        assert_eq!(t.name(t.market_of(kz, d("2026-09-30"))), "Other");
        assert_eq!(t.name(t.market_of(kz, d("2026-10-01"))), "Kazakhstan");
        let ru = t.country_of_number("79161234567").unwrap();
        assert_eq!(t.name(t.market_of(ru, d("2026-10-01"))), "Russia");
        let zw = Country(*b"ZW");
        assert_eq!(t.name(t.market_of(zw, d("2025-09-30"))), "Other");
        assert_eq!(t.name(t.market_of(zw, d("2025-10-01"))), "Rest of Africa");
        assert!(t.change_dates().contains(&d("2025-10-01")));
    }

    #[test]
    fn mkt1_sub_region_falls_back_to_main_region() {
        let t = table();
        // Guernsey number: +44 1481 → GG → main region GB
        assert_eq!(
            t.country_of_number("441481256789").unwrap(),
            Country(*b"GB")
        );
        assert_eq!(
            t.country_of_number("919876543210").unwrap(),
            Country(*b"IN")
        );
        assert!(t.country_of_number("12").is_err());
    }

    #[test]
    fn market_rows_are_checked() {
        let mut b = MarketTableBuilder::default();
        let row = |country_iso2, market, valid_from| MarketRow {
            row: 3,
            country_iso2,
            market,
            valid_from,
            ..MarketRow::default()
        };
        let e = |r| {
            MarketTableBuilder::default()
                .add(r)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(e(row("IN", " ", "")), "market table, row 3: empty market");
        assert_eq!(
            e(row("IND", "India", "")),
            "market table, row 3: bad country_iso2 `IND`"
        );
        assert_eq!(
            e(row("ZZ", "India", "")),
            "market table, row 3: country_iso2 `ZZ` is not an assigned ISO 3166 code"
        );
        assert_eq!(
            e(row("IN", "India", "1.1.2025")),
            "market table, row 3: bad date `1.1.2025`"
        );
        b.add(row("IN", "India", "")).unwrap();
        let t = b.finish();
        assert_eq!(
            t.name(t.market_of(Country(*b"FR"), d("2025-01-01"))),
            "Other"
        );
    }

    #[test]
    fn normalize_tolerates_formatting() {
        assert_eq!(
            normalize_number("+91 98765-43210").as_deref(),
            Some("919876543210")
        );
        assert_eq!(normalize_number("abc"), None);
        assert_eq!(normalize_number(""), None);
    }
}
