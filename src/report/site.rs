//! Writing a report folder: `index.html`, `summary.md`, `breakdown.csv`, `data.json` and every
//! chart as `charts/<name>.svg` and `charts/<name>.png`, written as a unit
//! ([`crate::io::output::folder`]): all files go to a temporary folder beside it, which then
//! takes the old folder's place, so a failed run never mixes new charts with an old page and a
//! rerun keeps no chart of the previous one. The folder's `.wabill-report` file lists what
//! wabill wrote; other files in it are kept.

use std::collections::BTreeSet;
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
use crate::io::output::folder::{self, Kind};

/// Folder of the chart files inside a report folder.
pub const CHART_DIR: &str = "charts";

/// The files of a report besides its charts.
const PAGES: [&str; 4] = ["index.html", "summary.md", "breakdown.csv", "data.json"];

/// A report folder: recognised by its `.wabill-report` file, or (written by a wabill from
/// before the marker) by holding the four pages, charts and nothing else.
pub const FOLDER: Kind = Kind {
    marker: ".wabill-report",
    what: "report folder",
    legacy: earlier_report,
};

fn earlier_report(files: &BTreeSet<PathBuf>) -> bool {
    let page = |f: &Path| PAGES.iter().any(|p| f == Path::new(p));
    let chart = |f: &Path| {
        f.parent() == Some(Path::new(CHART_DIR))
            && f.extension().is_some_and(|e| e == "svg" || e == "png")
    };
    PAGES.iter().all(|p| files.contains(Path::new(p))) && files.iter().all(|f| page(f) || chart(f))
}

/// Whether `dir` may be written as a report folder (new, empty, or a report wabill wrote):
/// checked before the replay, so a refusal costs nothing.
pub fn check_folder(dir: &Path) -> Result<()> {
    folder::check(dir, &FOLDER)
}

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
    /// Write the report as the folder `dir`, as a unit (see the module's documentation).
    /// Returns the paths written.
    pub fn write(&self, dir: &Path) -> Result<Vec<PathBuf>> {
        let mut files: Vec<(PathBuf, &[u8])> = Vec::new();
        for c in &self.charts {
            let base = Path::new(CHART_DIR);
            files.push((base.join(format!("{}.svg", c.name)), c.svg.as_bytes()));
            files.push((base.join(format!("{}.png", c.name)), &c.png));
        }
        let pages = [&self.html, &self.markdown, &self.csv, &self.data_json];
        files.extend(
            PAGES
                .iter()
                .zip(pages)
                .map(|(p, t)| (PathBuf::from(p), t.as_bytes())),
        );
        folder::replace(dir, &FOLDER, &files)?;
        Ok(files.into_iter().map(|(p, _)| dir.join(p)).collect())
    }
}
