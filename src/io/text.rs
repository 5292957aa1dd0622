//! How text from the inputs leaves wabill: formula-safe cells for every CSV meant for a
//! spreadsheet ([`spreadsheet_cell`], [`csv_field`]) and control characters escaped in
//! everything printed to a terminal ([`terminal`]). Logs, accounts files and rate cards are
//! written by others; a cell or a message must not become a formula in Excel or an escape
//! sequence in a terminal because of what they hold. It lives in `io` (not `report`) because the
//! replay's ledger and rejects writer (`replay::ledger`) use it too, and `replay` sits below
//! `report`.

use std::borrow::Cow;

/// Whether `s` is a plain number: an optional sign, digits, an optional fraction (`-0.5`,
/// `+919800000001`, `.5`). No exponent: wabill never writes one, so `-1e3` is text.
fn is_plain_number(s: &str) -> bool {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    let all_digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    match digits.split_once('.') {
        None => all_digits(digits),
        Some((int, frac)) => (int.is_empty() || all_digits(int)) && all_digits(frac),
    }
}

/// Whether a spreadsheet could read `s` as a formula: it begins with `=`, `+`, `-`, `@`, a
/// tab or a carriage return (OWASP's list) and is not a plain number.
fn needs_quote(s: &str) -> bool {
    s.starts_with(['=', '+', '-', '@', '\t', '\r']) && !is_plain_number(s)
}

/// A CSV cell made safe for a spreadsheet (OWASP's rule for CSV injection): a cell that begins
/// with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`, which spreadsheets
/// read as "text" and do not show; a plain number (`-0.5`, `+919800000001`) stays as it is, so
/// numbers stay numbers and normal data is unchanged byte for byte.
pub fn spreadsheet_cell(s: &str) -> Cow<'_, str> {
    if needs_quote(s) {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}

/// [`spreadsheet_cell`] of an owned string, without copying it when it is safe.
pub fn spreadsheet_string(mut s: String) -> String {
    if needs_quote(&s) {
        s.insert(0, '\'');
    }
    s
}

/// A CSV field for a spreadsheet: [`spreadsheet_cell`], quoted when it must be (a comma, a
/// quote or a line break).
pub fn csv_field(s: &str) -> String {
    let s = spreadsheet_cell(s);
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.into_owned()
    }
}

/// Whether a character is escaped for a terminal: C0 controls (line breaks and tabs included),
/// DEL, C1 controls, the bidirectional overrides and isolates (which can reorder what a reader
/// sees) and the Unicode line and paragraph separators.
fn is_unsafe_for_terminal(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        | '\u{2028}' | '\u{2029}')
}

/// Text for a terminal (messages on stderr, table cells on stdout): each control character
/// written as an escape, `\n` → `\\n`, `\r` → `\\r`, `\t` → `\\t`, ESC → `\\x1b`, DEL →
/// `\\x7f`, C1 and bidirectional controls → `\\u{202e}`. So a value from a file can neither
/// send escape sequences to the terminal nor begin a line of its own (a forged `wabill:` line)
/// nor break a table's row.
pub fn terminal(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe_for_terminal) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x80 && is_unsafe_for_terminal(c) => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if is_unsafe_for_terminal(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

pub use crate::toml_text::toml_error;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_get_a_quote_and_numbers_stay_numbers() {
        for (cell, safe) in [
            ("=1+2", "'=1+2"),
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
            ("-2+3", "'-2+3"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("-", "'-"),
            ("+", "'+"),
            ("-1e3", "'-1e3"),
            ("+91 98000 00001", "'+91 98000 00001"),
            ("-0.5", "-0.5"),
            ("+919800000001", "+919800000001"),
            ("-.5", "-.5"),
            ("1e3", "1e3"),
            ("0.0618", "0.0618"),
            ("India", "India"),
            ("", ""),
            (" =1", " =1"),
            ("a=1", "a=1"),
        ] {
            assert_eq!(spreadsheet_cell(cell), safe, "{cell:?}");
            assert_eq!(spreadsheet_string(cell.to_string()), safe, "{cell:?}");
        }
        assert_eq!(csv_field("=1,2"), "\"'=1,2\"");
        assert_eq!(csv_field("a\"b"), "\"a\"\"b\"");
        assert_eq!(csv_field("-1."), "'-1.");
    }

    #[test]
    fn toml_errors_fit_on_one_line() {
        let text = "[[waba]]\nid = 'a'\ntimezon = 'UTC'\n";
        #[derive(serde::Deserialize, Debug)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct W {
            id: String,
        }
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct F {
            waba: Vec<W>,
        }
        let e = toml::from_str::<F>(text).unwrap_err();
        assert_eq!(
            toml_error(text, &e),
            "line 3, column 1: unknown field `timezon`, expected `id`"
        );
    }

    #[test]
    fn control_characters_are_escaped_for_the_terminal() {
        assert_eq!(terminal("plain text, ünïcode ≠"), "plain text, ünïcode ≠");
        assert_eq!(terminal("a\nwabill: ok"), "a\\nwabill: ok");
        assert_eq!(terminal("\u{1b}]0;title\u{7}"), "\\x1b]0;title\\x07");
        assert_eq!(terminal("\u{1b}[2J\r\t"), "\\x1b[2J\\r\\t");
        assert_eq!(terminal("\u{7f}\u{9b}"), "\\x7f\\u{9b}");
        assert_eq!(terminal("abc\u{202e}fed"), "abc\\u{202e}fed");
        assert_eq!(terminal("\u{2066}x\u{2069}"), "\\u{2066}x\\u{2069}");
    }
}
