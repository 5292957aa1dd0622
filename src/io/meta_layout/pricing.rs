//! Meta's `Pricing.csv`: one row per market, one column per rate.

use crate::billing::types::{normalize_name, RateColumn};

use super::cells::{parse_rate_cell, RateCell};
use super::records::{
    cell_error, display_name, is_market_header, read_records, MetaLayoutError, Record,
};

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
        if let Some(column) = RateColumn::from_header(name) {
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
    let all = read_records(text)?;
    let last_line = all.last_line;
    let records = &all.records;
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
    all.check_not_truncated(records[header_index].cells.len())?;
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
