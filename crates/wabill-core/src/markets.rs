//! Markets (billing-rules.md §4): number → country → market, effective-dated.
//!
//! MKT-1: the country comes from the user's number with the `phonenumber` library (offline
//! metadata), except for the shared codes the spec settles itself: +1 area codes of the Dominican
//! Republic, Jamaica and Puerto Rico come from the market table's `network_prefixes`, and +7 6xx /
//! 7xx is Kazakhstan. MKT-2: the country → market table is a data file with `valid_from` /
//! `valid_to` dates. MKT-3: an explicit `country` column wins (handled by the caller).

use std::collections::HashMap;

use chrono::NaiveDate;

use super::types::Country;

pub type MarketId = u16;

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
}

#[derive(Debug, thiserror::Error)]
pub enum MarketTableError {
    #[error("market table, row {row}: {message}")]
    Row { row: usize, message: String },
    #[error("market table: {0}")]
    Csv(String),
}

impl MarketTable {
    /// Parse `market_map.csv` (columns by name: country_iso2, market, network_prefixes,
    /// valid_from, valid_to; a `*` country is the fallback market).
    pub fn parse_csv(text: &str) -> Result<MarketTable, MarketTableError> {
        let mut rdr = csv::ReaderBuilder::new().from_reader(text.as_bytes());
        let headers = rdr
            .headers()
            .map_err(|e| MarketTableError::Csv(e.to_string()))?
            .clone();
        let col = |name: &str| -> Result<usize, MarketTableError> {
            headers
                .iter()
                .position(|h| h.trim() == name)
                .ok_or_else(|| MarketTableError::Csv(format!("missing column `{name}`")))
        };
        let (c_country, c_market, c_prefix, c_from, c_to) = (
            col("country_iso2")?,
            col("market")?,
            col("network_prefixes")?,
            col("valid_from")?,
            col("valid_to")?,
        );
        let mut t = MarketTable {
            names: Vec::new(),
            by_name: HashMap::new(),
            rows: Vec::new(),
            fallback: 0,
            plus1_prefixes: Vec::new(),
            known: Vec::new(),
        };
        let mut fallback = None;
        for (i, rec) in rdr.records().enumerate() {
            let row = i + 1;
            let rec = rec.map_err(|e| MarketTableError::Csv(e.to_string()))?;
            let market = rec.get(c_market).unwrap_or("").trim();
            if market.is_empty() {
                return Err(MarketTableError::Row {
                    row,
                    message: "empty market".into(),
                });
            }
            let mid = t.intern(market);
            let cc = rec.get(c_country).unwrap_or("").trim();
            if cc == "*" {
                fallback = Some(mid);
                continue;
            }
            let country = Country::parse(cc).ok_or_else(|| MarketTableError::Row {
                row,
                message: format!("bad country_iso2 `{cc}`"),
            })?;
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
            let from = date(rec.get(c_from).unwrap_or(""))?;
            let to = date(rec.get(c_to).unwrap_or(""))?;
            for p in rec.get(c_prefix).unwrap_or("").split_whitespace() {
                if p.len() == 3 && p.bytes().all(|b| b.is_ascii_digit()) {
                    t.plus1_prefixes.push((p.to_string(), country));
                }
            }
            if !t.known.contains(&country) {
                t.known.push(country);
            }
            t.rows.push(Row {
                country,
                market: mid,
                from,
                to,
            });
        }
        t.fallback = match fallback {
            Some(f) => f,
            None => t.intern("Other"),
        };
        Ok(t)
    }

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
        if let Some(a) = area {
            if let Some(c) = memo.get(&a) {
                return Ok(*c);
            }
            let c = self.country_of_number(digits)?;
            let valid = phonenumber::parse(None, format!("+{digits}"))
                .map(|p| p.is_valid())
                .unwrap_or(false);
            if valid {
                memo.insert(a, c);
            }
            return Ok(c);
        }
        self.country_of_number(digits)
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

    #[test]
    fn mkt_1_plus1_area_codes() {
        let t = MarketTable::parse_csv(TABLE).unwrap();
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
    fn mkt_1_plus7_kazakhstan_and_mkt_2_dates() {
        let t = MarketTable::parse_csv(TABLE).unwrap();
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
    fn mkt_1_sub_region_falls_back_to_main_region() {
        let t = MarketTable::parse_csv(TABLE).unwrap();
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
    fn normalize_tolerates_formatting() {
        assert_eq!(
            normalize_number("+91 98765-43210").as_deref(),
            Some("919876543210")
        );
        assert_eq!(normalize_number("abc"), None);
        assert_eq!(normalize_number(""), None);
    }
}
