//! Which currency a rate-card file says it is in: its `Currency` cells (`$US`, `€`, `₹`, `USD`)
//! and the currency codes its title lines name (`Cost per message in EUR …`). `--currency`
//! decides the card's currency (formats.md §3); these are what `rates import` checks it against.

use crate::billing::types::normalize_name;

use super::records::{display_name, is_market_header, read_records, MetaLayoutError};

/// Currency symbols and codes as Meta writes them, with their ISO 4217 code. A bare `$` is
/// left out: it is more than one currency.
const KNOWN: &[(&str, &str)] = &[
    ("$US", "USD"),
    ("US$", "USD"),
    ("€", "EUR"),
    ("₹", "INR"),
    ("Rs", "INR"),
    ("£", "GBP"),
    ("A$", "AUD"),
    ("AU$", "AUD"),
    ("Rp", "IDR"),
    ("MX$", "MXN"),
    ("Mex$", "MXN"),
    ("R$", "BRL"),
    // CUR-1: the other billing currencies of 2026 (AED, ARS, CLP, COP, MYR, PEN, SAR, SGD), by
    // their common symbols; a card may also write the ISO code, and `--currency` decides.
    ("AR$", "ARS"),
    ("CLP$", "CLP"),
    ("COL$", "COP"),
    ("RM", "MYR"),
    ("S/", "PEN"),
    ("S/.", "PEN"),
    ("S$", "SGD"),
    ("SG$", "SGD"),
    ("د.إ", "AED"),
    ("ر.س", "SAR"),
];

/// The ISO codes looked for as words in title lines: the 16 currencies Meta bills in (CUR-1).
/// (Any three capitals would also match words such as `API` or `ALL`.)
const TITLE_CODES: &[&str] = &[
    "USD", "EUR", "INR", "GBP", "AUD", "IDR", "MXN", "BRL", "AED", "ARS", "CLP", "COP", "MYR",
    "PEN", "SAR", "SGD",
];

/// The ISO code a currency cell names: three letters as they stand (`USD`, `XTS`), or a known
/// symbol; `None` for anything else.
pub fn currency_code(cell: &str) -> Option<String> {
    let c = cell.trim();
    if c.len() == 3 && c.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Some(c.to_ascii_uppercase());
    }
    KNOWN
        .iter()
        .find(|(symbol, _)| symbol.eq_ignore_ascii_case(c))
        .map(|(_, code)| (*code).to_string())
}

/// A place where a file names its currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrencyMention {
    /// 1-based physical line.
    pub line: usize,
    /// `Currency` for a cell of that column, `title` for a title line.
    pub column: String,
    /// The cell or word as written.
    pub value: String,
    /// Its ISO code, when wabill knows it.
    pub code: Option<String>,
}

/// Every currency the file names: each non-blank cell of the `Currency` column below the header
/// (the first row with a market cell and a `Currency` cell), and each known ISO code standing
/// as a word in a line above it.
pub fn currency_mentions(text: &str) -> Result<Vec<CurrencyMention>, MetaLayoutError> {
    let records = read_records(text)?;
    let mut out = Vec::new();
    let mut header: Option<(usize, String)> = None;
    for record in &records.records {
        if let Some((index, name)) = &header {
            let value = record.get(*index);
            if !value.is_empty() && !record.is_blank() {
                out.push(CurrencyMention {
                    line: record.line,
                    column: name.clone(),
                    value: value.to_string(),
                    code: currency_code(value),
                });
            }
            continue;
        }
        let names: Vec<String> = record.cells.iter().map(|c| normalize_name(c)).collect();
        let currency = names.iter().position(|n| n == "currency");
        if let (true, Some(i)) = (names.iter().any(|n| is_market_header(n)), currency) {
            header = Some((i, display_name(&record.cells[i])));
            continue;
        }
        for cell in &record.cells {
            for word in cell.split(|c: char| !c.is_ascii_alphanumeric()) {
                if TITLE_CODES.contains(&word) {
                    out.push(CurrencyMention {
                        line: record.line,
                        column: "title".into(),
                        value: word.to_string(),
                        code: Some(word.to_string()),
                    });
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_and_codes() {
        assert_eq!(currency_code("$US").as_deref(), Some("USD"));
        assert_eq!(currency_code(" € ").as_deref(), Some("EUR"));
        assert_eq!(currency_code("xts").as_deref(), Some("XTS"));
        assert_eq!(currency_code("₹").as_deref(), Some("INR"));
        assert_eq!(currency_code("$"), None);
    }

    #[test]
    fn mentions_in_titles_and_cells() {
        let text = "\"Cost per message in EUR, effective July 1, 2026\",,\n\
                    All markets (API),,\n\
                    Market,Currency,Marketing\n\
                    Brazil,€,0.05\n\
                    Peru,,0.06\n";
        let m = currency_mentions(text).unwrap();
        assert_eq!(m.len(), 2, "{m:?}");
        assert_eq!((m[0].line, m[0].column.as_str()), (1, "title"));
        assert_eq!(m[0].code.as_deref(), Some("EUR"));
        assert_eq!((m[1].line, m[1].value.as_str()), (4, "€"));
        assert_eq!(m[1].code.as_deref(), Some("EUR"));
    }
}
