//! Charts of a report, drawn with plotters as SVG and PNG from the aggregations of
//! [`super::series`] (never from messages).
//!
//! Each chart is a small figure description (stacked bars, lines, the two-panel market chart)
//! drawn once per backend, so the SVG and the PNG show the same thing. Text uses an embedded
//! DejaVu Sans (`fonts/`), registered as `sans-serif`: no system fonts are needed to draw the PNG,
//! and the SVG names only the generic family. Sizes suit a slide (1280×720).
//!
//! `draw` is the toolkit (font, colours, frame and legend, SVG and PNG), `axis` the ticks and
//! their labels; `bars`, `lines` and `markets` hold the figures and the charts made of them.
//! New comparison charts are one function each on top of the same figures: see
//! [`variant_bars`] (stacked bars) and [`sweep_line`] (lines).

use anyhow::Result;

use super::series::ReportData;

mod axis;
mod bars;
mod draw;
mod lines;
mod markets;

pub use bars::{monthly_cost, variant_bars};
pub use draw::{category_color, category_label, with_note, FAMILY, SIZE};
pub use lines::{daily_spend, sweep_line, tier_progress};
pub use markets::market_cost;

/// A drawn chart with what it says, so pages and tests can refer to it.
#[derive(Debug, Clone)]
pub struct Chart {
    /// File stem: `<name>.svg`, `<name>.png`.
    pub name: String,
    pub title: String,
    /// Axis descriptions, as drawn.
    pub axis_labels: Vec<String>,
    /// Legend entries, one per series or marker kind, as drawn.
    pub legend: Vec<String>,
    pub svg: String,
    pub png: Vec<u8>,
}

/// Every chart of a report, in page order (tier charts only when there are tier counters).
/// Each carries the report's provenance note (period, rate cards) in its corner.
pub fn all(d: &ReportData) -> Result<Vec<Chart>> {
    draw::with_note(&d.provenance_note(), || {
        let mut out = vec![monthly_cost(d)?, market_cost(d)?, daily_spend(d)?];
        out.extend(tier_progress(d)?);
        Ok(out)
    })
}
