//! What a look at a rates directory found: problems (a card that cannot be trusted: the
//! directory does not load) and notes (things left aside that change no bill, such as the
//! leftovers of an interrupted import). Each problem names its file and, when it has one, the
//! line, column and value.

use std::fmt;
use std::path::{Path, PathBuf};

/// One reason a rates directory cannot be used as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file or folder, as reached from the rates directory given.
    pub path: PathBuf,
    /// 1-based physical line of the file.
    pub line: Option<usize>,
    /// The column (header name).
    pub column: Option<String>,
    /// The cell or name as written.
    pub value: Option<String>,
    pub why: String,
}

impl Problem {
    /// A problem of a whole file or folder.
    pub fn at(path: &Path, why: impl Into<String>) -> Problem {
        Problem {
            path: path.to_path_buf(),
            line: None,
            column: None,
            value: None,
            why: why.into(),
        }
    }

    /// A problem of one line of a file.
    pub fn line(path: &Path, line: usize, why: impl Into<String>) -> Problem {
        Problem {
            line: Some(line),
            ..Problem::at(path, why)
        }
    }

    /// A problem of one cell: its line, column and value.
    pub fn cell(
        path: &Path,
        line: usize,
        column: &str,
        value: &str,
        why: impl Into<String>,
    ) -> Problem {
        Problem {
            line: Some(line),
            column: Some(column.to_string()),
            value: Some(value.to_string()),
            ..Problem::at(path, why)
        }
    }

    /// A problem of a name (a folder or file): the name is the value.
    pub fn named(path: &Path, value: &str, why: impl Into<String>) -> Problem {
        Problem {
            value: Some(value.to_string()),
            ..Problem::at(path, why)
        }
    }
}

impl fmt::Display for Problem {
    /// `rates/USD/2026-10-01/rates.csv: line 5, column `market`, value `India`: why`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.path.display())?;
        let mut parts = Vec::new();
        if let Some(l) = self.line {
            parts.push(format!("line {l}"));
        }
        if let Some(c) = &self.column {
            parts.push(format!("column `{c}`"));
        }
        if let Some(v) = &self.value {
            parts.push(format!("value `{v}`"));
        }
        if !parts.is_empty() {
            write!(f, " {}:", parts.join(", "))?;
        }
        write!(f, " {}", self.why)
    }
}

/// Problems and notes, in the order found (folders and files in name order, lines in order).
#[derive(Debug, Default)]
pub struct Findings {
    pub problems: Vec<Problem>,
    pub notes: Vec<String>,
}

impl Findings {
    pub fn problem(&mut self, p: Problem) {
        self.problems.push(p);
    }

    pub fn note(&mut self, n: impl Into<String>) {
        self.notes.push(n.into());
    }
}

/// At most this many problems go into one error message; `wabill rates check` lists them all.
const SHOWN: usize = 20;

/// The error of a rates directory that does not load: every problem on its own `wabill:` line
/// (up to [`SHOWN`]), then how many there are.
pub fn problems_error(root: &Path, problems: &[Problem]) -> anyhow::Error {
    let mut msg = problems
        .iter()
        .take(SHOWN)
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join("\nwabill: ");
    if problems.len() > 1 {
        let more = problems.len().saturating_sub(SHOWN);
        let more = if more > 0 {
            format!(" ({more} more not shown)")
        } else {
            String::new()
        };
        msg.push_str(&format!(
            "\nwabill: {}: {} problems in the rate cards{more}; `wabill rates check --rates {}` lists them all",
            root.display(),
            problems.len(),
            root.display()
        ));
    }
    anyhow::anyhow!(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_read_in_the_house_style() {
        let p = Path::new("rates/USD/2026-10-01/rates.csv");
        assert_eq!(
            Problem::cell(p, 5, "market", "India", "appears twice").to_string(),
            "rates/USD/2026-10-01/rates.csv: line 5, column `market`, value `India`: appears twice"
        );
        assert_eq!(
            Problem::named(Path::new("rates/USD"), "2025-7-1", "not a date").to_string(),
            "rates/USD: value `2025-7-1`: not a date"
        );
        assert_eq!(
            Problem::at(p, "missing").to_string(),
            "rates/USD/2026-10-01/rates.csv: missing"
        );
    }
}
