//! Reader for the rate-card files that Meta publishes for the WhatsApp Business Platform
//! (formats.md §3): `Pricing.csv` (one row per market, one column per rate) and
//! `Tier Pricing.csv` (volume bands per market for the tiered rate columns).
//!
//! The files are read as Meta ships them: title and note lines above the header are skipped,
//! the header row is found by its content (never by its line number), columns are matched by
//! name (case-insensitively, with whitespace, line breaks and punctuation normalized), and
//! the Tier Pricing groups are located by the row of group names above the header.
//!
//! This module only reads the layout. It does not know effective dates or ISO currency codes
//! (neither is reliably inside the files), and it does not check market names: the caller
//! decides those.
//!
//! Every error names the 1-based physical line of the file (a record whose quoted cell holds a
//! line break starts on the line given), and, for a cell, the column and the offending value.

use std::collections::HashMap;
use std::str::FromStr;

use rust_decimal::Decimal;

/// Most decimal places a rate may be written with.
pub const MAX_RATE_DECIMALS: u32 = 6;

use crate::billing::money::Money;
use crate::billing::types::normalize_name;
pub use crate::billing::types::RateColumn;

/// One rate cell of `Pricing.csv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RateCell {
    /// A rate per delivered message, in the card's currency.
    Rate(Decimal),
    /// `n/a`: the market has no such rate.
    NotOffered,
    /// A blank cell: the rate is not known.
    Unknown,
}

/// One market row of `Pricing.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct PricingRow {
    /// 1-based physical line of the file where the row starts.
    pub line: usize,
    /// The market name, trimmed.
    pub market: String,
    /// The currency cell as written, trimmed (`$US`, `€`, `₹`, `USD`, …).
    pub currency_cell: String,
    /// The rate columns present in the header, in the header's order.
    pub cells: Vec<(RateColumn, RateCell)>,
}

impl PricingRow {
    /// The cell of `column`, or `None` if the file has no such column.
    pub fn cell(&self, column: RateColumn) -> Option<&RateCell> {
        self.cells
            .iter()
            .find(|(c, _)| *c == column)
            .map(|(_, v)| v)
    }
}

/// One volume band of `Tier Pricing.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct TierRow {
    /// 1-based physical line of the file where the row starts.
    pub line: usize,
    /// The market name (carried down from the first band of the market), trimmed.
    pub market: String,
    /// `Utility`, `Authentication` or `AuthenticationInternational`.
    pub column: RateColumn,
    /// `"list"` for `List rate`, `"1"`, `"2"`, … for `Tier 1`, `Tier 2`, ….
    pub tier: String,
    /// First message of the band in the month.
    pub from: u64,
    /// Last message of the band; `None` for an open end (`--`).
    pub to: Option<u64>,
    /// The rate charged in the band.
    pub rate: Decimal,
    /// Meta's nominal discount as written (`0%`, `-5%`), if the cell is present and not blank.
    pub vs_list: Option<String>,
}

/// Which of Meta's rate-card files a text is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetaFileKind {
    /// `Pricing.csv`: one row per market.
    Pricing,
    /// `Tier Pricing.csv`: volume bands.
    TierPricing,
}

/// Why a rate-card file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum MetaLayoutError {
    #[error(
        "line {line}: no header row found (expected a row starting with `Market`, `Currency` and \
         naming rate columns such as `Marketing`, `Utility`, `Authentication`)"
    )]
    NoHeader { line: usize },

    #[error(
        "line {line}: no Tier Pricing header row found (expected a row with `Market (per rate card)`, \
         `Currency`, then `From`, `To`, `Rate type`, `Rate`, `vs. List rate` per group)"
    )]
    NoTierHeader { line: usize },

    #[error(
        "line {line}: no row of group names (`Utility`, `Authentication`, \
         `Authentication-International`) above the Tier Pricing header"
    )]
    NoGroupRow { line: usize },

    #[error("line {line}: the header has no `{column}` column")]
    MissingColumn { line: usize, column: String },

    #[error("line {line}: column `{column}` appears twice (columns {first} and {second})")]
    DuplicateColumn {
        line: usize,
        column: String,
        first: usize,
        second: usize,
    },

    #[error("line {line}, column {column}: {message}: `{value}`")]
    Cell {
        line: usize,
        column: String,
        value: String,
        message: String,
    },

    #[error("line {line}: malformed CSV: {message}")]
    Csv { line: usize, message: String },
}

impl MetaLayoutError {
    /// The 1-based line the error is about.
    pub fn line(&self) -> usize {
        match self {
            MetaLayoutError::NoHeader { line }
            | MetaLayoutError::NoTierHeader { line }
            | MetaLayoutError::NoGroupRow { line }
            | MetaLayoutError::MissingColumn { line, .. }
            | MetaLayoutError::DuplicateColumn { line, .. }
            | MetaLayoutError::Cell { line, .. }
            | MetaLayoutError::Csv { line, .. } => *line,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Records

/// One CSV record with the physical line it starts on.
struct Record {
    line: usize,
    cells: Vec<String>,
}

impl Record {
    fn get(&self, i: usize) -> &str {
        self.cells.get(i).map(|s| s.trim()).unwrap_or("")
    }

    fn is_blank(&self) -> bool {
        self.cells.iter().all(|c| c.trim().is_empty())
    }
}

/// The records of a file, and its number of lines (the line of the end, for errors about
/// something missing).
struct Records {
    records: Vec<Record>,
    last_line: usize,
}

fn read_records(text: &str) -> Result<Records, MetaLayoutError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    // The csv crate's own line count skips the line breaks inside quoted cells and blank
    // lines, so lines are counted here from the byte offset where each record starts. That
    // offset can point at the end of the previous line (the `\n` of a `\r\n`, blank lines):
    // a record never starts with a line break, so skip those first.
    let line_starts = line_starts(text);
    let bytes = text.as_bytes();
    let line_at = |byte: u64| {
        let mut at = usize::try_from(byte).unwrap_or(usize::MAX).min(bytes.len());
        while at < bytes.len() && matches!(bytes[at], b'\r' | b'\n') {
            at += 1;
        }
        line_starts.partition_point(|&start| start <= at)
    };
    let mut out = Vec::new();
    for result in reader.records() {
        let record = result.map_err(|e| MetaLayoutError::Csv {
            line: e.position().map(|p| line_at(p.byte())).unwrap_or(1),
            message: e.to_string(),
        })?;
        let line = record.position().map(|p| line_at(p.byte())).unwrap_or(1);
        out.push(Record {
            line,
            cells: record.iter().map(str::to_owned).collect(),
        });
    }
    let ends_with_break = text.ends_with(['\n', '\r']);
    let last_line = (line_starts.len() - usize::from(ends_with_break)).max(1);
    Ok(Records {
        records: out,
        last_line,
    })
}

/// Byte offsets where each physical line starts; a line ends at `\n`, `\r\n` or a lone `\r`.
fn line_starts(text: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut starts = vec![0];
    for (i, &b) in bytes.iter().enumerate() {
        let ends_line = b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n'));
        if ends_line {
            starts.push(i + 1);
        }
    }
    starts
}

// ---------------------------------------------------------------------------------------------
// Names

/// Lower-cases `s` and turns every run of characters other than letters and digits
/// (whitespace, line breaks, hyphens, dots, parentheses) into one `_`, trimmed at both ends:
/// `"Authentication-\nInternational"` → `authentication_international`,
/// `"vs. List rate"` → `vs_list_rate`, `"Market\n(per rate card)"` → `market_per_rate_card`.

/// Header text for messages: line breaks folded (`"Authentication-\nInternational"` →
/// `Authentication-International`, `"Market\n(per rate card)"` → `Market (per rate card)`).
fn display_name(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() && !out.ends_with('-') {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

fn is_market_header(normalized: &str) -> bool {
    normalized == "market" || normalized.starts_with("market_")
}

// ---------------------------------------------------------------------------------------------
// Cells

fn cell_error(
    line: usize,
    column: &str,
    value: &str,
    message: impl Into<String>,
) -> MetaLayoutError {
    MetaLayoutError::Cell {
        line,
        column: column.to_owned(),
        value: value.to_owned(),
        message: message.into(),
    }
}

fn is_not_offered(value: &str) -> bool {
    value.trim().eq_ignore_ascii_case("n/a")
}

/// A rate as written: digits with an optional fraction of at most [`MAX_RATE_DECIMALS`] places.
fn parse_decimal_rate(value: &str) -> Result<Decimal, String> {
    let v = value.trim();
    if v.starts_with('-') {
        return Err("negative rate".into());
    }
    let (int, frac) = match v.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (v, None),
    };
    let digits_only = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let well_formed = digits_only(int)
        && match frac {
            Some(f) => !f.is_empty() && digits_only(f),
            None => !int.is_empty(),
        };
    if !well_formed {
        return Err("not a rate (expected a decimal number such as 0.0099, `n/a` or blank)".into());
    }
    if let Some(f) = frac {
        if f.len() > MAX_RATE_DECIMALS as usize {
            return Err(format!(
                "rate has {} decimal places (at most {MAX_RATE_DECIMALS} allowed)",
                f.len()
            ));
        }
    }
    let rate = Decimal::from_str(v).map_err(|_| "rate out of range".to_string())?;
    // RATE-3: a rate must be exact money (integer micro-units in an i64), or the rates directory
    // it is imported into could not be loaded any more.
    Money::from_decimal(rate).map_err(|_| "rate out of range".to_string())?;
    Ok(rate)
}

fn parse_rate_cell(value: &str) -> Result<RateCell, String> {
    let v = value.trim();
    if v.is_empty() {
        Ok(RateCell::Unknown)
    } else if is_not_offered(v) {
        Ok(RateCell::NotOffered)
    } else {
        parse_decimal_rate(v).map(RateCell::Rate)
    }
}

/// A message count: digits, optionally grouped by thousands with commas (`"100,000"`).
fn parse_volume(value: &str) -> Result<u64, String> {
    let v = value.trim();
    let bad = || "not a message count (expected digits such as 100,000)".to_string();
    if v.is_empty() {
        return Err("missing message count".into());
    }
    let groups: Vec<&str> = v.split(',').collect();
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !groups.iter().all(|g| all_digits(g)) {
        return Err(bad());
    }
    if groups.len() > 1 && (groups[0].len() > 3 || groups[1..].iter().any(|g| g.len() != 3)) {
        return Err("misplaced thousands separator".into());
    }
    groups
        .concat()
        .parse::<u64>()
        .map_err(|_| "message count out of range".to_string())
}

/// An open end is written `--` (an en or em dash is accepted too).
fn is_open_end(value: &str) -> bool {
    let v = value.trim();
    !v.is_empty() && v.chars().all(|c| matches!(c, '-' | '–' | '—'))
}

/// `List rate` → `list`, `Tier 3` → `3`.
fn parse_rate_type(value: &str) -> Result<String, String> {
    let words: Vec<String> = value.split_whitespace().map(str::to_lowercase).collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    match words.as_slice() {
        ["list", "rate"] | ["list"] => Ok("list".into()),
        ["tier", n] if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => n
            .parse::<u32>()
            .map(|n| n.to_string())
            .map_err(|_| "tier number out of range".to_string()),
        _ => Err("not a rate type (expected `List rate` or `Tier N`)".into()),
    }
}

/// A percentage such as `0%`, `-5%`, `-12.5%`.
fn is_percentage(value: &str) -> bool {
    let Some(num) = value.trim().strip_suffix('%') else {
        return false;
    };
    let num = num.trim_end();
    let num = num.strip_prefix(['-', '+', '−']).unwrap_or(num);
    let (int, frac) = match num.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (num, None),
    };
    !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}

// ---------------------------------------------------------------------------------------------
// Pricing.csv

struct PricingHeader {
    market: usize,
    currency: Option<usize>,
    /// (cell index, column, display name), in header order.
    rates: Vec<(usize, RateColumn, String)>,
}

/// Reads a row as a `Pricing.csv` header if it names a market column and at least one rate column.
fn pricing_header(record: &Record) -> Result<Option<PricingHeader>, MetaLayoutError> {
    let names: Vec<String> = record.cells.iter().map(|c| normalize_name(c)).collect();
    let Some(market) = names.iter().position(|n| is_market_header(n)) else {
        return Ok(None);
    };
    let mut rates: Vec<(usize, RateColumn, String)> = Vec::new();
    let mut currency = None;
    for (i, name) in names.iter().enumerate() {
        if let Some(column) = RateColumn::from_id(name) {
            if let Some((first, _, _)) = rates.iter().find(|(_, c, _)| *c == column) {
                return Err(MetaLayoutError::DuplicateColumn {
                    line: record.line,
                    column: display_name(&record.cells[i]),
                    first: first + 1,
                    second: i + 1,
                });
            }
            rates.push((i, column, display_name(&record.cells[i])));
        } else if name == "currency" && currency.is_none() {
            currency = Some(i);
        }
    }
    if rates.is_empty() {
        return Ok(None);
    }
    Ok(Some(PricingHeader {
        market,
        currency,
        rates,
    }))
}

/// Parses Meta's `Pricing.csv`: one [`PricingRow`] per market row below the header.
///
/// The header is the first row with a `Market` cell and at least one rate-column name; the
/// rate columns present are read by name, in any order (columns with other names are ignored).
/// Rates are decimals with at most six places; `n/a` is [`RateCell::NotOffered`], a blank
/// cell [`RateCell::Unknown`]. Entirely blank rows are skipped; a row with values but no
/// market name is an error.
pub fn parse_pricing(text: &str) -> Result<Vec<PricingRow>, MetaLayoutError> {
    let records = read_records(text)?;
    let last_line = records.last_line;
    let records = records.records;
    let mut header = None;
    for (i, record) in records.iter().enumerate() {
        if let Some(h) = pricing_header(record)? {
            header = Some((i, h));
            break;
        }
    }
    let Some((header_index, header)) = header else {
        return Err(MetaLayoutError::NoHeader { line: last_line });
    };
    let header_line = records[header_index].line;
    let currency = header
        .currency
        .ok_or_else(|| MetaLayoutError::MissingColumn {
            line: header_line,
            column: "Currency".into(),
        })?;
    let market_name = display_name(&records[header_index].cells[header.market]);

    let mut rows = Vec::new();
    for record in &records[header_index + 1..] {
        if record.is_blank() {
            continue;
        }
        let market = record.get(header.market);
        if market.is_empty() {
            return Err(cell_error(
                record.line,
                &market_name,
                market,
                "missing market name in a row with values",
            ));
        }
        let mut cells = Vec::with_capacity(header.rates.len());
        for (index, column, name) in &header.rates {
            let value = record.get(*index);
            let cell = parse_rate_cell(value)
                .map_err(|message| cell_error(record.line, name, value, message))?;
            cells.push((*column, cell));
        }
        rows.push(PricingRow {
            line: record.line,
            market: market.to_owned(),
            currency_cell: record.get(currency).to_owned(),
            cells,
        });
    }
    Ok(rows)
}

// ---------------------------------------------------------------------------------------------
// Tier Pricing.csv

/// Whether a row is a `Tier Pricing.csv` header: a market cell, `From` and `Rate type`.
fn is_tier_header(names: &[String]) -> bool {
    names.iter().any(|n| is_market_header(n))
        && names.iter().any(|n| n == "from")
        && names.iter().any(|n| n == "rate_type")
}

/// The cell indices of one group's columns.
struct TierGroup {
    column: RateColumn,
    name: String,
    from: usize,
    to: usize,
    rate_type: usize,
    rate: usize,
    vs_list: Option<usize>,
}

impl TierGroup {
    fn indices(&self) -> impl Iterator<Item = usize> + '_ {
        [self.from, self.to, self.rate_type, self.rate]
            .into_iter()
            .chain(self.vs_list)
    }
}

fn tier_groups(group_row: &Record, header: &Record) -> Result<Vec<TierGroup>, MetaLayoutError> {
    // Where each group starts, from the row of group names.
    let mut starts: Vec<(usize, RateColumn, String)> = Vec::new();
    for (i, raw) in group_row.cells.iter().enumerate() {
        let value = raw.trim();
        if value.is_empty() {
            continue;
        }
        let column = RateColumn::from_header(value)
            .filter(RateColumn::is_tiered)
            .ok_or_else(|| {
                cell_error(
                    group_row.line,
                    &format!("{}", i + 1),
                    value,
                    "unknown group name (expected Utility, Authentication or \
                     Authentication-International)",
                )
            })?;
        if let Some((first, _, _)) = starts.iter().find(|(_, c, _)| *c == column) {
            return Err(MetaLayoutError::DuplicateColumn {
                line: group_row.line,
                column: display_name(value),
                first: first + 1,
                second: i + 1,
            });
        }
        starts.push((i, column, display_name(value)));
    }

    let names: Vec<String> = header.cells.iter().map(|c| normalize_name(c)).collect();
    let mut groups = Vec::with_capacity(starts.len());
    for (k, (start, column, name)) in starts.iter().enumerate() {
        let end = starts
            .get(k + 1)
            .map(|(s, _, _)| *s)
            .unwrap_or(names.len())
            .max(*start);
        let find = |wanted: &str| -> Result<Option<usize>, MetaLayoutError> {
            let mut found: Option<usize> = None;
            for (i, name_i) in names.iter().enumerate().take(end).skip(*start) {
                if name_i == wanted {
                    if let Some(first) = found {
                        return Err(MetaLayoutError::DuplicateColumn {
                            line: header.line,
                            column: format!("{name}: {}", display_name(&header.cells[i])),
                            first: first + 1,
                            second: i + 1,
                        });
                    }
                    found = Some(i);
                }
            }
            Ok(found)
        };
        let require = |wanted: &str, shown: &str| -> Result<usize, MetaLayoutError> {
            find(wanted)?.ok_or_else(|| MetaLayoutError::MissingColumn {
                line: header.line,
                column: format!("{name}: {shown}"),
            })
        };
        groups.push(TierGroup {
            column: *column,
            name: name.clone(),
            from: require("from", "From")?,
            to: require("to", "To")?,
            rate_type: require("rate_type", "Rate type")?,
            rate: require("rate", "Rate")?,
            vs_list: find("vs_list_rate")?,
        });
    }
    Ok(groups)
}

/// Where the previous band of a market and column ended.
struct PreviousBand {
    line: usize,
    to: Option<u64>,
}

/// Parses Meta's `Tier Pricing.csv`: one [`TierRow`] per volume band and group.
///
/// The header is the first row with a `Market …` cell, `From` and `Rate type`; the groups
/// (Utility, Authentication, Authentication-International) are located by the nearest row
/// above it that names them: each group's columns (`From`, `To`, `Rate type`, `Rate`,
/// `vs. List rate`) are looked up by name from the column where its name stands up to the
/// next group. The market name is carried down from the first band of each market. A group
/// that is `n/a` (or blank) in all its cells is skipped for that row.
///
/// Within one market and column the bands must be contiguous and increasing: the first
/// starts at 0 or 1, each next one at the previous `To` + 1, and nothing follows an open end.
pub fn parse_tier_pricing(text: &str) -> Result<Vec<TierRow>, MetaLayoutError> {
    let records = read_records(text)?;
    let last_line = records.last_line;
    let records = records.records;
    let header_index = records
        .iter()
        .position(|r| {
            let names: Vec<String> = r.cells.iter().map(|c| normalize_name(c)).collect();
            is_tier_header(&names)
        })
        .ok_or(MetaLayoutError::NoTierHeader { line: last_line })?;
    let header = &records[header_index];
    let group_row = records[..header_index]
        .iter()
        .rev()
        .find(|r| {
            r.cells
                .iter()
                .any(|c| RateColumn::from_header(c).is_some_and(|column| column.is_tiered()))
        })
        .ok_or(MetaLayoutError::NoGroupRow { line: header.line })?;
    let groups = tier_groups(group_row, header)?;

    let header_names: Vec<String> = header.cells.iter().map(|c| normalize_name(c)).collect();
    let market_index = header_names
        .iter()
        .position(|n| is_market_header(n))
        .expect("a tier header has a market cell");
    let market_name = display_name(&header.cells[market_index]);
    let column_name = |group: &TierGroup, index: usize| {
        format!("{}: {}", group.name, display_name(&header.cells[index]))
    };

    let mut rows = Vec::new();
    let mut market: Option<String> = None;
    let mut previous: HashMap<(String, RateColumn), PreviousBand> = HashMap::new();
    for record in &records[header_index + 1..] {
        if record.is_blank() {
            continue;
        }
        let line = record.line;
        let name = record.get(market_index);
        if !name.is_empty() {
            market = Some(name.to_owned());
        }
        let Some(market) = market.as_deref() else {
            return Err(cell_error(
                line,
                &market_name,
                name,
                "band row before any market name",
            ));
        };

        for group in &groups {
            let values: Vec<(usize, &str)> = group.indices().map(|i| (i, record.get(i))).collect();
            if values
                .iter()
                .all(|(_, v)| v.is_empty() || is_not_offered(v))
            {
                continue; // not offered (n/a) or not known (blank)
            }
            if let Some((i, v)) = values.iter().find(|(_, v)| is_not_offered(v)) {
                return Err(cell_error(
                    line,
                    &column_name(group, *i),
                    v,
                    "`n/a` among values (a group not offered is `n/a` in all its cells)",
                ));
            }

            let cell = |index: usize| (record.get(index), column_name(group, index));
            let (from_raw, from_col) = cell(group.from);
            let from =
                parse_volume(from_raw).map_err(|m| cell_error(line, &from_col, from_raw, m))?;
            let (to_raw, to_col) = cell(group.to);
            let to = if is_open_end(to_raw) {
                None
            } else {
                Some(parse_volume(to_raw).map_err(|m| cell_error(line, &to_col, to_raw, m))?)
            };
            if let Some(to) = to {
                if to < from {
                    return Err(cell_error(
                        line,
                        &to_col,
                        to_raw,
                        format!("band ends before it starts (From is {from})"),
                    ));
                }
            }
            let (type_raw, type_col) = cell(group.rate_type);
            let tier =
                parse_rate_type(type_raw).map_err(|m| cell_error(line, &type_col, type_raw, m))?;
            let (rate_raw, rate_col) = cell(group.rate);
            let rate = if rate_raw.is_empty() {
                Err("missing rate".to_string())
            } else {
                parse_decimal_rate(rate_raw)
            }
            .map_err(|m| cell_error(line, &rate_col, rate_raw, m))?;
            let vs_list = match group.vs_list {
                None => None,
                Some(index) => {
                    let (raw, col) = cell(index);
                    if raw.is_empty() {
                        None
                    } else if is_percentage(raw) {
                        Some(raw.to_owned())
                    } else {
                        return Err(cell_error(
                            line,
                            &col,
                            raw,
                            "not a percentage (expected e.g. 0% or -5%)",
                        ));
                    }
                }
            };

            // Contiguity within the market and column.
            let key = (market.to_owned(), group.column);
            match previous.get(&key) {
                None if from > 1 => {
                    return Err(cell_error(
                        line,
                        &from_col,
                        from_raw,
                        format!("first band of {market} must start at 0 or 1"),
                    ));
                }
                None => {}
                Some(PreviousBand {
                    line: prev,
                    to: None,
                }) => {
                    return Err(cell_error(
                        line,
                        &from_col,
                        from_raw,
                        format!("band follows the open-ended band of {market} on line {prev}"),
                    ));
                }
                Some(PreviousBand {
                    line: prev,
                    to: Some(prev_to),
                }) => {
                    let expected = prev_to.checked_add(1);
                    if expected != Some(from) {
                        return Err(cell_error(
                            line,
                            &from_col,
                            from_raw,
                            format!(
                                "band is not contiguous with the previous band of {market} \
                                 (line {prev} ends at {prev_to}; expected From {})",
                                prev_to.saturating_add(1)
                            ),
                        ));
                    }
                }
            }
            previous.insert(key, PreviousBand { line, to });

            rows.push(TierRow {
                line,
                market: market.to_owned(),
                column: group.column,
                tier,
                from,
                to,
                rate,
                vs_list,
            });
        }
    }
    Ok(rows)
}

// ---------------------------------------------------------------------------------------------
// Detection

/// Which file is it? Looks at the content (the header rows), not the file name: a row with a
/// `Market …` cell, `From` and `Rate type` makes a Tier Pricing file; a row with a `Market`
/// cell and a rate-column name (`Marketing`, `Utility`, …) makes a Pricing file. `None` if
/// neither is found (or the text is not CSV).
pub fn detect_kind(text: &str) -> Option<MetaFileKind> {
    let records = read_records(text).ok()?;
    for record in &records.records {
        let names: Vec<String> = record.cells.iter().map(|c| normalize_name(c)).collect();
        if is_tier_header(&names) {
            return Some(MetaFileKind::TierPricing);
        }
        if names.iter().any(|n| is_market_header(n))
            && names.iter().any(|n| RateColumn::from_id(n).is_some())
        {
            return Some(MetaFileKind::Pricing);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_normalized() {
        assert_eq!(
            normalize_name("Authentication-\r\nInternational"),
            "authentication_international"
        );
        assert_eq!(normalize_name(" Business-Initiated "), "business_initiated");
        assert_eq!(normalize_name("vs. List rate"), "vs_list_rate");
        assert_eq!(
            normalize_name("Market\n(per rate card)"),
            "market_per_rate_card"
        );
        assert_eq!(
            display_name("Authentication-\nInternational"),
            "Authentication-International"
        );
        assert_eq!(
            display_name("Market\n(per rate card)"),
            "Market (per rate card)"
        );
    }

    #[test]
    fn rate_column_ids_round_trip() {
        for c in RateColumn::ALL {
            assert_eq!(RateColumn::from_id(c.id()), Some(c));
        }
        assert_eq!(RateColumn::from_id("Utility"), None);
        assert_eq!(
            RateColumn::from_header("User-Initiated"),
            Some(RateColumn::UserInitiated)
        );
    }

    #[test]
    fn rates() {
        assert_eq!(
            parse_rate_cell(" 0.0099 "),
            Ok(RateCell::Rate(Decimal::new(99, 4)))
        );
        assert_eq!(
            parse_rate_cell("0.123456"),
            Ok(RateCell::Rate(Decimal::new(123456, 6)))
        );
        assert_eq!(parse_rate_cell("N/A"), Ok(RateCell::NotOffered));
        assert_eq!(parse_rate_cell("  "), Ok(RateCell::Unknown));
        assert_eq!(parse_rate_cell("0"), Ok(RateCell::Rate(Decimal::ZERO)));
        for bad in [
            "abc",
            "0.1234567",
            "-0.01",
            "1e-3",
            "0,01",
            ".",
            "1.",
            "$0.01",
            "1_0",
        ] {
            assert!(parse_rate_cell(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn volumes_and_types() {
        assert_eq!(parse_volume("0"), Ok(0));
        assert_eq!(parse_volume("100,000"), Ok(100_000));
        assert_eq!(parse_volume("40,000,001"), Ok(40_000_001));
        assert_eq!(parse_volume("1000001"), Ok(1_000_001));
        for bad in ["", "1,00", "1000,000", "1,000.5", "-1", "n/a", "1 000"] {
            assert!(parse_volume(bad).is_err(), "{bad}");
        }
        assert!(is_open_end("--") && is_open_end(" – ") && !is_open_end(""));
        assert_eq!(parse_rate_type("List rate").as_deref(), Ok("list"));
        assert_eq!(parse_rate_type("tier  12").as_deref(), Ok("12"));
        assert!(parse_rate_type("Tier").is_err() && parse_rate_type("Gold").is_err());
        for ok in ["0%", "-5%", "-12.5 %", "+3%"] {
            assert!(is_percentage(ok), "{ok}");
        }
        for bad in ["5", "%", "-%", "five%", "1.%"] {
            assert!(!is_percentage(bad), "{bad}");
        }
    }
}
