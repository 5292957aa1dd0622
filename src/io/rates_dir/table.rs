//! The rates directory's own CSV files (`rates.csv`, `tiers.csv`) as a header and rows with
//! their lines, checked for shape: every header name known and once, the required ones there,
//! every row as wide as the header, and no sign of a file cut short.

use std::fs;
use std::path::{Path, PathBuf};

use crate::io::meta_layout::{read_records, Record};

use super::findings::{Findings, Problem};

/// A file's header (trimmed names) and its non-blank rows.
pub(super) struct Table {
    pub path: PathBuf,
    pub header_line: usize,
    pub columns: Vec<String>,
    pub rows: Vec<Record>,
}

impl Table {
    /// The index of a column, if the header has it.
    pub fn col(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    /// The problem of one cell of `row`.
    pub fn cell_problem(&self, row: &Record, col: usize, why: impl Into<String>) -> Problem {
        Problem::cell(&self.path, row.line, &self.columns[col], row.get(col), why)
    }
}

/// What a file may hold: the columns it must have and those it may have besides.
pub(super) struct Shape<'a> {
    pub required: &'a [&'a str],
    pub optional: &'a [&'a str],
}

impl Shape<'_> {
    fn knows(&self, name: &str) -> bool {
        self.required.contains(&name) || self.optional.contains(&name)
    }

    fn expected(&self) -> String {
        self.required
            .iter()
            .chain(self.optional)
            .copied()
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Reads `path` as a table of `shape`; `None` (with the problems) when the header is unusable.
/// Rows with the wrong number of cells are reported and left out.
pub(super) fn read_table(path: &Path, shape: &Shape, f: &mut Findings) -> Option<Table> {
    let text = match fs::read(path) {
        Err(e) => {
            f.problem(Problem::at(path, format!("cannot read: {e}")));
            return None;
        }
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                let at = e.utf8_error().valid_up_to();
                let line = e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count() + 1;
                f.problem(Problem::line(path, line, "not UTF-8 text"));
                return None;
            }
        },
    };
    let records = match read_records(&text) {
        Ok(r) => r,
        Err(e) => {
            f.problem(Problem::line(path, e.line(), e.to_string()));
            return None;
        }
    };
    let mut rows = records.records.into_iter().filter(|r| !r.is_blank());
    let Some(header) = rows.next() else {
        f.problem(Problem::at(
            path,
            format!("empty file: expected a header row ({})", shape.expected()),
        ));
        return None;
    };
    let columns = header_columns(path, &header, shape, f)?;
    let mut table = Table {
        path: path.to_path_buf(),
        header_line: header.line,
        columns,
        rows: Vec::new(),
    };
    let width = table.columns.len();
    let rows: Vec<Record> = rows.collect();
    let last = rows.len().checked_sub(1);
    for (i, row) in rows.into_iter().enumerate() {
        if row.cells.len() == width {
            table.rows.push(row);
            continue;
        }
        let why = if Some(i) == last && !records.ends_with_break && row.cells.len() < width {
            format!(
                "the last line has {} of the header's {width} cells and no line break after \
                 it: the file looks cut short (truncated)",
                row.cells.len()
            )
        } else {
            format!(
                "the row has {} cells, the header {width} (a cell with a comma must be quoted)",
                row.cells.len()
            )
        };
        f.problem(Problem::line(path, row.line, why));
    }
    // A cut that leaves every cell can only be seen by the missing line break; it is harmless
    // only inside the free-text `source` column.
    if !records.ends_with_break && table.columns.last().is_some_and(|c| c != "source") {
        if let Some(row) = table.rows.last() {
            f.problem(Problem::line(
                path,
                row.line,
                format!(
                    "no line break after the last line, whose last cell is `{}`: a file cut \
                     short cannot be told from a complete one; end the file with a line break",
                    table.columns[width - 1]
                ),
            ));
        }
    }
    Some(table)
}

/// The header's names, each known and once, the required ones all there.
fn header_columns(
    path: &Path,
    header: &Record,
    shape: &Shape,
    f: &mut Findings,
) -> Option<Vec<String>> {
    let columns: Vec<String> = header.cells.iter().map(|c| c.trim().to_string()).collect();
    let before = f.problems.len();
    for (i, name) in columns.iter().enumerate() {
        let col = format!("{}", i + 1);
        if !shape.knows(name) {
            f.problem(Problem::cell(
                path,
                header.line,
                &col,
                name,
                format!("not a column of this file (expected {})", shape.expected()),
            ));
        } else if let Some(first) = columns[..i].iter().position(|c| c == name) {
            f.problem(Problem::cell(
                path,
                header.line,
                &col,
                name,
                format!("column appears twice (columns {} and {})", first + 1, i + 1),
            ));
        }
    }
    for want in shape.required {
        if !columns.iter().any(|c| c == want) {
            f.problem(Problem::line(
                path,
                header.line,
                format!("the header has no `{want}` column"),
            ));
        }
    }
    (f.problems.len() == before).then_some(columns)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> (Option<Table>, Vec<String>) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.csv");
        fs::write(&p, text).unwrap();
        let mut f = Findings::default();
        let shape = Shape {
            required: &["market"],
            optional: &["rate", "source"],
        };
        let t = read_table(&p, &shape, &mut f);
        let problems = f
            .problems
            .iter()
            .map(|p| {
                let s = p.to_string();
                s[s.find("t.csv: ").unwrap() + 7..].to_string()
            })
            .collect();
        (t, problems)
    }

    #[test]
    fn shapes_and_truncation() {
        let (t, p) = read("market,rate,source\nIndia,0.1,x\n\nPeru,0.2,y\n");
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(t.unwrap().rows.len(), 2);
        let (_, p) = read("market,rate,source\nIndia,0.1,x\nPeru,0.");
        assert_eq!(p.len(), 1);
        assert!(p[0].starts_with("line 3: the last line has 2 of the header's 3 cells"));
        let (_, p) = read("market,rate\nIndia,0.1\nPeru,0.");
        assert!(p[0].starts_with("line 3: no line break after the last line"));
        // Ending with `source`, the missing line break is harmless.
        let (_, p) = read("market,rate,source\nPeru,0.2,y");
        assert!(p.is_empty(), "{p:?}");
        let (_, p) = read("market,rate,source\nIndia,0.1,x,z\n");
        assert!(p[0].starts_with("line 2: the row has 4 cells, the header 3"));
        let (t, p) = read("market,rat,market\n");
        assert!(t.is_none());
        assert!(p[0].starts_with("line 1, column `2`, value `rat`: not a column"));
        assert!(p[1].starts_with("line 1, column `3`, value `market`: column appears twice"));
        let (_, p) = read("rate\n");
        assert_eq!(p, vec!["line 1: the header has no `market` column"]);
        let (_, p) = read("");
        assert!(p[0].starts_with("empty file"));
    }
}
