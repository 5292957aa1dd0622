//! A rate-card file as CSV records, each with the physical line it starts on; header names for
//! messages; and [`MetaLayoutError`], which names the line of everything that goes wrong.

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

    #[error(
        "line {line}: the last line has {cells} of the header's {width} cells and no line break \
         after it: the file looks cut short (truncated); download it again"
    )]
    Truncated {
        line: usize,
        cells: usize,
        width: usize,
    },
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
            | MetaLayoutError::Csv { line, .. }
            | MetaLayoutError::Truncated { line, .. } => *line,
        }
    }
}

/// One CSV record with the physical line it starts on.
pub(crate) struct Record {
    pub(crate) line: usize,
    pub(crate) cells: Vec<String>,
}

impl Record {
    /// Cell `i`, trimmed; `""` past the end of the record.
    pub(crate) fn get(&self, i: usize) -> &str {
        self.cells.get(i).map(|s| s.trim()).unwrap_or("")
    }

    pub(crate) fn is_blank(&self) -> bool {
        self.cells.iter().all(|c| c.trim().is_empty())
    }
}

/// The records of a file, and its number of lines (the line of the end, for errors about
/// something missing).
pub(crate) struct Records {
    pub(crate) records: Vec<Record>,
    pub(crate) last_line: usize,
    /// Whether the text ends with a line break (a last line without one may have been cut).
    pub(crate) ends_with_break: bool,
}

impl Records {
    /// A file cut short is detected by its last line: no line break after it, and fewer cells
    /// than the header's `width` (a cut inside a cell that leaves every cell is caught by the
    /// cell's own check, when it can be).
    pub(crate) fn check_not_truncated(&self, width: usize) -> Result<(), MetaLayoutError> {
        match self.records.last() {
            Some(last) if !self.ends_with_break && !last.is_blank() && last.cells.len() < width => {
                Err(MetaLayoutError::Truncated {
                    line: last.line,
                    cells: last.cells.len(),
                    width,
                })
            }
            _ => Ok(()),
        }
    }
}

/// The CSV records of a text (a leading BOM dropped), each with the line it starts on.
pub(crate) fn read_records(text: &str) -> Result<Records, MetaLayoutError> {
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
        ends_with_break,
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

/// Header text for messages: line breaks folded (`"Authentication-\nInternational"` →
/// `Authentication-International`, `"Market\n(per rate card)"` → `Market (per rate card)`).
pub(crate) fn display_name(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() && !out.ends_with('-') {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// A normalized header cell that names the market column: `Market`, or `Market …`
/// (`Market (per rate card)`).
pub(super) fn is_market_header(normalized: &str) -> bool {
    normalized == "market" || normalized.starts_with("market_")
}

/// The error of one cell: its line, column (header text), value and what is wrong.
pub(super) fn cell_error(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::billing::types::normalize_name;

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
}
