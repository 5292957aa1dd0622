//! Meta's `Tier Pricing.csv`: volume bands per market for the tiered rate columns, in groups
//! (Utility, Authentication, Authentication-International) located by a row of group names
//! above the header.

use std::collections::HashMap;

use rust_decimal::Decimal;

use crate::billing::types::{normalize_name, RateColumn};

use super::cells::{
    is_not_offered, is_open_end, is_percentage, parse_decimal_rate, parse_rate_type, parse_volume,
};
use super::records::{
    cell_error, display_name, is_market_header, read_records, MetaLayoutError, Record,
};

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

/// Whether a row is a `Tier Pricing.csv` header: a market cell, `From` and `Rate type`.
pub(super) fn is_tier_header(names: &[String]) -> bool {
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

/// Where each group starts, from the row of group names: (cell index, column, display name).
fn group_starts(group_row: &Record) -> Result<Vec<(usize, RateColumn, String)>, MetaLayoutError> {
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
    Ok(starts)
}

/// Each group's columns, looked up by name in the header from the cell where the group's name
/// stands up to the next group.
fn tier_groups(group_row: &Record, header: &Record) -> Result<Vec<TierGroup>, MetaLayoutError> {
    let starts = group_starts(group_row)?;
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

/// Where the bands are: the header, its groups and its market column.
struct Layout<'r> {
    header: &'r Record,
    /// Index of the header among the file's records.
    header_index: usize,
    groups: Vec<TierGroup>,
    market: usize,
    market_name: String,
}

impl<'r> Layout<'r> {
    fn find(records: &'r [Record], last_line: usize) -> Result<Layout<'r>, MetaLayoutError> {
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
        let market = header_names
            .iter()
            .position(|n| is_market_header(n))
            .expect("a tier header has a market cell");
        Ok(Layout {
            header,
            header_index,
            groups,
            market,
            market_name: display_name(&header.cells[market]),
        })
    }

    /// A group's column as messages name it: `Utility: From`.
    fn column_name(&self, group: &TierGroup, index: usize) -> String {
        format!(
            "{}: {}",
            group.name,
            display_name(&self.header.cells[index])
        )
    }

    /// One group's band on a row of `market`; `None` when the group is not offered (`n/a`) or
    /// not known (blank) in all its cells.
    fn band(
        &self,
        record: &Record,
        group: &TierGroup,
        market: &str,
    ) -> Result<Option<TierRow>, MetaLayoutError> {
        let line = record.line;
        let values: Vec<(usize, &str)> = group.indices().map(|i| (i, record.get(i))).collect();
        if values
            .iter()
            .all(|(_, v)| v.is_empty() || is_not_offered(v))
        {
            return Ok(None);
        }
        if let Some((i, v)) = values.iter().find(|(_, v)| is_not_offered(v)) {
            return Err(cell_error(
                line,
                &self.column_name(group, *i),
                v,
                "`n/a` among values (a group not offered is `n/a` in all its cells)",
            ));
        }
        let cell = |index: usize| (record.get(index), self.column_name(group, index));
        let (from_raw, from_col) = cell(group.from);
        let from = parse_volume(from_raw).map_err(|m| cell_error(line, &from_col, from_raw, m))?;
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
            Some(index) => vs_list(line, cell(index))?,
        };
        Ok(Some(TierRow {
            line,
            market: market.to_owned(),
            column: group.column,
            tier,
            from,
            to,
            rate,
            vs_list,
        }))
    }
}

/// A `vs. List rate` cell (value, column name): a percentage, or blank.
fn vs_list(line: usize, (raw, col): (&str, String)) -> Result<Option<String>, MetaLayoutError> {
    if raw.is_empty() {
        Ok(None)
    } else if is_percentage(raw) {
        Ok(Some(raw.to_owned()))
    } else {
        Err(cell_error(
            line,
            &col,
            raw,
            "not a percentage (expected e.g. 0% or -5%)",
        ))
    }
}

/// Where the previous band of a market and column ended.
struct PreviousBand {
    line: usize,
    to: Option<u64>,
}

/// Within one market and column the bands are contiguous and increasing: the first starts at 0
/// or 1, each next one at the previous `To` + 1, and nothing follows an open end. `from_raw`
/// and `from_col` name the band's `From` cell for the error.
fn check_contiguous(
    previous: &mut HashMap<(String, RateColumn), PreviousBand>,
    band: &TierRow,
    from_raw: &str,
    from_col: &str,
) -> Result<(), MetaLayoutError> {
    let (line, from, market) = (band.line, band.from, band.market.as_str());
    let key = (band.market.clone(), band.column);
    match previous.get(&key) {
        None if from > 1 => {
            return Err(cell_error(
                line,
                from_col,
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
                from_col,
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
                    from_col,
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
    previous.insert(key, PreviousBand { line, to: band.to });
    Ok(())
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
    let layout = Layout::find(&records.records, records.last_line)?;
    records.check_not_truncated(layout.header.cells.len())?;
    let mut rows = Vec::new();
    let mut market: Option<String> = None;
    let mut previous: HashMap<(String, RateColumn), PreviousBand> = HashMap::new();
    for record in &records.records[layout.header_index + 1..] {
        if record.is_blank() {
            continue;
        }
        let name = record.get(layout.market);
        if !name.is_empty() {
            market = Some(name.to_owned());
        }
        let Some(market) = market.as_deref() else {
            return Err(cell_error(
                record.line,
                &layout.market_name,
                name,
                "band row before any market name",
            ));
        };
        for group in &layout.groups {
            if let Some(band) = layout.band(record, group, market)? {
                let from_col = layout.column_name(group, group.from);
                check_contiguous(&mut previous, &band, record.get(group.from), &from_col)?;
                rows.push(band);
            }
        }
    }
    Ok(rows)
}
