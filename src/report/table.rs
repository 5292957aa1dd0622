//! A plain-text table: columns padded to their widest cell, numbers right-aligned, rules between
//! sections. Shared by `compare` and `estimate` (the replay table predates it and keeps its own).

/// Rows of cells under a header; `None` rows are horizontal rules.
#[derive(Debug, Clone, Default)]
pub struct Table {
    header: Vec<String>,
    right: Vec<bool>,
    rows: Vec<Option<Vec<String>>>,
}

impl Table {
    /// `columns`: (name, right-aligned).
    pub fn new(columns: &[(&str, bool)]) -> Table {
        Table {
            header: columns.iter().map(|(n, _)| n.to_string()).collect(),
            right: columns.iter().map(|(_, r)| *r).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row; missing cells are empty, extra cells are dropped. Cells are escaped for the
    /// terminal ([`crate::io::text::terminal`]): a line break in a value cannot break the row.
    pub fn row(&mut self, cells: Vec<String>) {
        let mut cells: Vec<String> = cells
            .into_iter()
            .map(|c| crate::io::text::terminal(&c).into_owned())
            .collect();
        cells.resize(self.header.len(), String::new());
        self.rows.push(Some(cells));
    }

    pub fn rule(&mut self) {
        self.rows.push(None);
    }

    pub fn render(&self) -> String {
        let n = self.header.len();
        let mut w: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for r in self.rows.iter().flatten() {
            for (i, c) in r.iter().enumerate() {
                w[i] = w[i].max(c.chars().count());
            }
        }
        let width: usize = w.iter().sum::<usize>() + 2 * n.saturating_sub(1);
        let mut out = String::new();
        let line = |cells: &[String], out: &mut String| {
            let mut s = String::new();
            for (i, c) in cells.iter().enumerate() {
                let fill = " ".repeat(w[i].saturating_sub(c.chars().count()));
                if self.right[i] {
                    s.push_str(&fill);
                    s.push_str(c);
                } else {
                    s.push_str(c);
                    s.push_str(&fill);
                }
                if i + 1 < n {
                    s.push_str("  ");
                }
            }
            out.push_str(s.trim_end());
            out.push('\n');
        };
        line(&self.header, &mut out);
        out.push_str(&"-".repeat(width));
        out.push('\n');
        for r in &self.rows {
            match r {
                Some(cells) => line(cells, &mut out),
                None => {
                    out.push_str(&"-".repeat(width));
                    out.push('\n');
                }
            }
        }
        out
    }
}

/// A CSV field for a spreadsheet: formula-safe, quoted when it must be (the one rule for
/// every CSV wabill writes for people, [`crate::io::text`]).
pub use crate::io::text::csv_field;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_and_aligns() {
        let mut t = Table::new(&[("name", false), ("cost", true)]);
        t.row(vec!["a".into(), "1.5000".into()]);
        t.rule();
        t.row(vec!["total".into(), "12.5000".into()]);
        assert_eq!(
            t.render(),
            "name      cost\n--------------\na       1.5000\n--------------\ntotal  12.5000\n"
        );
    }
}
