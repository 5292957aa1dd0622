//! Writing a report folder: `index.html`, `summary.md`, `breakdown.csv`, `data.json` and every
//! chart as `charts/<name>.svg` and `charts/<name>.png`, each file written atomically.

use std::path::{Path, PathBuf};

use anyhow::Result;

use super::breakdown::{self, JsonReport};
use super::charts::{self, Chart};
use super::html::{self, Page};
use super::markdown;
use super::series::{self, ReportData};
use crate::billing::accounts::Accounts;
use crate::billing::engine::Replay;
use crate::billing::markets::MarketTable;
use crate::billing::rates::RateBook;
use crate::io::log::Log;
use crate::io::output::write_atomic;

/// Folder of the chart files inside a report folder.
pub const CHART_DIR: &str = "charts";

/// Everything a report is made from.
pub struct Input<'a> {
    pub log: &'a Log,
    pub replay: &'a Replay,
    pub markets: &'a MarketTable,
    pub accounts: &'a Accounts,
    pub rates: &'a RateBook,
    /// The JSON breakdown of the same replay.
    pub report: &'a JsonReport,
    pub log_name: &'a str,
    pub rates_label: &'a str,
}

/// A report in memory: its numbers, its charts and its pages.
pub struct Report {
    pub data: ReportData,
    pub charts: Vec<Chart>,
    pub html: String,
    pub markdown: String,
    pub csv: String,
    /// `data` as JSON (money as exact decimal strings).
    pub data_json: String,
}

/// Aggregate, draw and render (no files).
pub fn build(input: &Input) -> Result<Report> {
    let data = series::build(
        input.log,
        input.replay,
        input.markets,
        input.accounts,
        input.rates,
    );
    let charts = charts::all(&data)?;
    let page = Page {
        log_name: input.log_name,
        rates_label: input.rates_label,
        report: input.report,
        data: &data,
        charts: &charts,
        chart_dir: CHART_DIR,
    };
    let html = html::html(&page);
    let markdown = markdown::markdown(&page);
    let mut data_json = serde_json::to_string_pretty(&data)?;
    data_json.push('\n');
    Ok(Report {
        csv: breakdown::csv(&input.replay.lines),
        data,
        charts,
        html,
        markdown,
        data_json,
    })
}

impl Report {
    /// Write every file under `dir` (created if needed), charts and data first and
    /// `index.html` last, so a page never points at a chart not yet written. Returns the paths.
    pub fn write(&self, dir: &Path) -> Result<Vec<PathBuf>> {
        let mut files: Vec<(PathBuf, &[u8])> = Vec::new();
        for c in &self.charts {
            let base = dir.join(CHART_DIR);
            files.push((base.join(format!("{}.svg", c.name)), c.svg.as_bytes()));
            files.push((base.join(format!("{}.png", c.name)), &c.png));
        }
        files.extend([
            (dir.join("breakdown.csv"), self.csv.as_bytes()),
            (dir.join("data.json"), self.data_json.as_bytes()),
            (dir.join("summary.md"), self.markdown.as_bytes()),
            (dir.join("index.html"), self.html.as_bytes()),
        ]);
        for (path, bytes) in &files {
            write_atomic(path, bytes)?;
        }
        Ok(files.into_iter().map(|(p, _)| p).collect())
    }
}
