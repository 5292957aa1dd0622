//! Charts of a report, drawn with plotters as SVG and PNG from the aggregations of
//! [`super::series`] (never from messages).
//!
//! Each chart is a small figure description (stacked bars, lines, the two-panel market chart)
//! drawn once per backend, so the SVG and the PNG show the same thing. Text uses an embedded
//! DejaVu Sans (`fonts/`), registered as `sans-serif`: no system fonts are needed to draw the PNG,
//! and the SVG names only the generic family. Sizes suit a slide (1280×720).
//!
//! New comparison charts are one function each on top of the same figures: see
//! [`variant_bars`] (stacked bars) and [`sweep_line`] (lines).

use std::sync::OnceLock;

use anyhow::{anyhow, bail, Result};
use chrono::{Datelike, NaiveDate};
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use rust_decimal::RoundingStrategy;

use super::series::{category_rank, ReportData, OTHERS};
use crate::billing::money::Money;

/// The embedded font (DejaVu Sans, see `fonts/DejaVuSans.LICENSE`).
static FONT: &[u8] = include_bytes!("../../fonts/DejaVuSans.ttf");
/// The family every chart text uses; SVG viewers substitute their own sans-serif.
pub const FAMILY: &str = "sans-serif";
/// Slide size.
pub const SIZE: (u32, u32) = (1280, 720);

const TITLE_PX: u32 = 34;
const AXIS_PX: u32 = 24;
const LABEL_PX: u32 = 19;
const LEGEND_PX: u32 = 20;
const LEGEND_ROW: i32 = 32;
const GRID: RGBColor = RGBColor(228, 228, 228);
const INK: RGBColor = RGBColor(40, 40, 40);
const CARD_MARK: RGBColor = RGBColor(196, 30, 58);
const RULEBOOK_MARK: RGBColor = RGBColor(96, 64, 168);
const COST: RGBColor = RGBColor(0, 114, 178);
const CHARGED: RGBColor = RGBColor(213, 94, 0);
const FREE: RGBColor = RGBColor(86, 180, 233);
const THRESHOLD: RGBColor = RGBColor(110, 110, 110);
/// Okabe–Ito based palette (readable for colour-blind viewers), for series without a fixed colour.
const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(213, 94, 0),
    RGBColor(86, 180, 233),
    RGBColor(153, 153, 51),
    RGBColor(102, 102, 102),
];

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

/// The fixed colour of a billed category, so every chart agrees.
pub fn category_color(category: &str) -> RGBColor {
    match category {
        "marketing" => RGBColor(0, 114, 178),
        "utility" => RGBColor(230, 159, 0),
        "authentication" => RGBColor(0, 158, 115),
        "authentication_international" => RGBColor(86, 180, 233),
        "service" => RGBColor(204, 121, 167),
        "business_initiated" => RGBColor(213, 94, 0),
        "user_initiated" => RGBColor(153, 153, 51),
        "free_entry_point" => RGBColor(150, 150, 150),
        other => PALETTE[other.bytes().map(usize::from).sum::<usize>() % PALETTE.len()],
    }
}

/// Money for labels on a chart: rounded half away from zero to `dp` places, with thousands
/// separators. Display only; amounts in tables stay exact.
pub fn display_money(m: Money, dp: u32) -> String {
    let d = m
        .to_decimal()
        .round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero);
    let s = format!("{d:.prec$}", prec = dp as usize);
    let (int, frac) = s.split_once('.').map_or((s.as_str(), ""), |(a, b)| (a, b));
    let grouped = group_thousands(int);
    if frac.is_empty() {
        grouped
    } else {
        format!("{grouped}.{frac}")
    }
}

/// `1234567` → `1,234,567` (digits with an optional leading `-`).
pub(crate) fn group_thousands(int: &str) -> String {
    let (sign, digits) = int.strip_prefix('-').map_or(("", int), |rest| ("-", rest));
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    format!("{sign}{out}")
}

/// Decimal places that make amounts up to `max` readable.
fn money_dp(max: f64) -> u32 {
    if max >= 100.0 {
        0
    } else if max >= 1.0 {
        2
    } else {
        4
    }
}

/// Decimal places of amounts written on bars: cents unless the amounts are large.
fn label_dp(max: f64) -> u32 {
    if max >= 10_000.0 {
        0
    } else if max >= 1.0 {
        2
    } else {
        4
    }
}

fn axis_money(v: f64, max: f64) -> String {
    let dp = money_dp(max) as usize;
    let s = format!("{v:.dp$}");
    let (int, frac) = s.split_once('.').map_or((s.as_str(), ""), |(a, b)| (a, b));
    if frac.is_empty() {
        group_thousands(int)
    } else {
        format!("{}.{frac}", group_thousands(int))
    }
}

fn axis_count(v: f64) -> String {
    if (v - v.round()).abs() > 1e-9 {
        return String::new();
    }
    group_thousands(&format!("{}", v.round() as i64))
}

/// A "nice" upper bound (1, 2, 2.5, 5 × 10ᵏ) at least `v`, with room for labels above bars.
fn nice_max(v: f64) -> f64 {
    if v.is_nan() || v <= 0.0 {
        return 1.0;
    }
    let p = 10f64.powf(v.log10().floor());
    for m in [1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0] {
        if p * m >= v {
            return p * m;
        }
    }
    p * 10.0
}

fn font(px: u32) -> TextStyle<'static> {
    TextStyle::from((FAMILY, px).into_font()).color(&INK)
}

fn register_font() -> Result<()> {
    static OK: OnceLock<bool> = OnceLock::new();
    let ok =
        *OK.get_or_init(|| plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_ok());
    if ok {
        Ok(())
    } else {
        bail!("the embedded chart font could not be loaded")
    }
}

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// A chart description that can be drawn on any backend.
trait Figure {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB>;
}

fn render(
    name: &str,
    title: &str,
    axis_labels: Vec<String>,
    legend: Vec<String>,
    fig: &impl Figure,
) -> Result<Chart> {
    register_font()?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        fig.draw(&root)
            .map_err(|e| anyhow!("drawing chart {name} (SVG): {e}"))?;
        root.present()
            .map_err(|e| anyhow!("drawing chart {name} (SVG): {e}"))?;
    }
    let mut rgb = vec![0u8; SIZE.0 as usize * SIZE.1 as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, SIZE).into_drawing_area();
        fig.draw(&root)
            .map_err(|e| anyhow!("drawing chart {name} (PNG): {e}"))?;
        root.present()
            .map_err(|e| anyhow!("drawing chart {name} (PNG): {e}"))?;
    }
    Ok(Chart {
        name: name.into(),
        title: title.into(),
        axis_labels,
        legend,
        svg,
        png: encode_png(&rgb, SIZE)?,
    })
}

fn encode_png(rgb: &[u8], (w, h): (u32, u32)) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header()?;
        writer.write_image_data(rgb)?;
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Shared pieces: title + body + legend row.

#[derive(Debug, Clone, Copy)]
enum Swatch {
    Box(RGBColor),
    Line(RGBColor),
    Dashed(RGBColor),
}

#[derive(Debug, Clone)]
struct LegendItem {
    label: String,
    swatch: Swatch,
}

impl LegendItem {
    fn new(label: impl Into<String>, swatch: Swatch) -> LegendItem {
        LegendItem {
            label: label.into(),
            swatch,
        }
    }
}

/// Where legend items go: (item, x, row), and the number of rows.
type LegendPlacement = (Vec<(usize, i32, i32)>, i32);

/// Lay the legend out in rows under the plot.
fn legend_layout<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    items: &[LegendItem],
) -> Result<LegendPlacement, DrawingAreaErrorKind<DB::ErrorType>> {
    let width = area.dim_in_pixel().0 as i32 - 40;
    let style = font(LEGEND_PX);
    let (mut x, mut row) = (0i32, 0i32);
    let mut out = Vec::new();
    for (i, it) in items.iter().enumerate() {
        let (tw, _) = area.estimate_text_size(&it.label, &style)?;
        let w = 30 + tw as i32 + 30;
        if x > 0 && x + w > width {
            x = 0;
            row += 1;
        }
        out.push((i, x, row));
        x += w;
    }
    let rows = if items.is_empty() { 0 } else { row + 1 };
    Ok((out, rows))
}

/// Title on top, legend rows at the bottom; returns the area left for the plot.
fn frame<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    legend: &[LegendItem],
) -> Result<DrawingArea<DB, Shift>, DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let body = root.margin(14, 6, 6, 6).titled(title, font(TITLE_PX))?;
    let (placed, rows) = legend_layout(&body, legend)?;
    let h = body.dim_in_pixel().1 as i32;
    let legend_h = if rows == 0 { 0 } else { rows * LEGEND_ROW + 12 };
    let (plot, leg) = body.split_vertically(h - legend_h);
    let style = font(LEGEND_PX).pos(Pos::new(HPos::Left, VPos::Center));
    for (i, x, row) in placed {
        let it = &legend[i];
        let x = x + 20;
        let y = row * LEGEND_ROW + LEGEND_ROW / 2 + 4;
        match it.swatch {
            Swatch::Box(c) => {
                leg.draw(&Rectangle::new([(x, y - 9), (x + 22, y + 9)], c.filled()))?
            }
            Swatch::Line(c) => {
                leg.draw(&PathElement::new(
                    vec![(x, y), (x + 22, y)],
                    c.stroke_width(4),
                ))?;
            }
            Swatch::Dashed(c) => {
                leg.draw(&PathElement::new(
                    vec![(x, y), (x + 8, y)],
                    c.stroke_width(3),
                ))?;
                leg.draw(&PathElement::new(
                    vec![(x + 14, y), (x + 22, y)],
                    c.stroke_width(3),
                ))?;
            }
        }
        leg.draw(&Text::new(it.label.clone(), (x + 30, y), style.clone()))?;
    }
    Ok(plot)
}

fn no_data<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, msg: &str) -> DrawResult<DB> {
    let (w, h) = area.dim_in_pixel();
    area.draw(&Text::new(
        msg.to_string(),
        (w as i32 / 2, h as i32 / 2),
        font(AXIS_PX).pos(Pos::new(HPos::Center, VPos::Center)),
    ))
}

/// Label of an integer position on a category axis; blank between positions.
fn index_label(labels: &[String], v: f64) -> String {
    let r = v.round();
    if (v - r).abs() > 1e-6 || r < 0.0 {
        return String::new();
    }
    labels.get(r as usize).cloned().unwrap_or_default()
}

/// A linear f64 axis with tick positions chosen here (months, dates, bar positions) instead
/// of plotters' round numbers. (plotters' own `with_key_points` has no default label format.)
#[derive(Debug, Clone)]
struct Ticks {
    range: std::ops::Range<f64>,
    at: Vec<f64>,
}

impl Ticks {
    fn new(range: std::ops::Range<f64>, at: Vec<f64>) -> Ticks {
        Ticks { range, at }
    }
}

impl Ranged for Ticks {
    type FormatOption = plotters::coord::ranged1d::DefaultFormatting;
    type ValueType = f64;
    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let (lo, hi) = (self.range.start, self.range.end);
        let f = if hi > lo {
            (value - lo) / (hi - lo)
        } else {
            0.0
        };
        limit.0 + (f * (limit.1 - limit.0) as f64).round() as i32
    }
    fn key_points<H: plotters::coord::ranged1d::KeyPointHint>(&self, _: H) -> Vec<f64> {
        self.at.clone()
    }
    fn range(&self) -> std::ops::Range<f64> {
        self.range.clone()
    }
}

/// Every position of `n` categories.
fn index_ticks_all(n: usize) -> Vec<f64> {
    (0..n).map(|i| i as f64).collect()
}

/// Tick positions 0, k, 2k, … for `n` categories, at most about 12 labels.
fn index_ticks(n: usize) -> Vec<f64> {
    let step = n.div_ceil(12).max(1);
    (0..n).step_by(step).map(|i| i as f64).collect()
}

/// Tick positions (days after `first`) for `n` days: every day, every week, or month starts
/// every 1, 2, 3, 6 or 12 months, at most about 9–12 labels.
fn date_ticks(first: NaiveDate, n: usize) -> Vec<f64> {
    if n <= 12 {
        return (0..n).map(|i| i as f64).collect();
    }
    let month_starts: Vec<(usize, NaiveDate)> = first
        .iter_days()
        .take(n)
        .enumerate()
        .filter(|(_, d)| d.day() == 1)
        .collect();
    if n <= 75 || month_starts.len() < 2 {
        let step = if n <= 75 { 7 } else { n.div_ceil(10) };
        return (0..n).step_by(step).map(|i| i as f64).collect();
    }
    let every = [1u32, 2, 3, 6, 12]
        .into_iter()
        .find(|k| month_starts.len().div_ceil(*k as usize) <= 9)
        .unwrap_or(24);
    month_starts
        .into_iter()
        .filter(|(_, d)| (d.year() as u32 * 12 + d.month0()).is_multiple_of(every))
        .map(|(i, _)| i as f64)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Stacked bars: months × categories, variants × categories.

struct StackedBars {
    title: String,
    x_label: String,
    y_label: String,
    /// One bar per group, left to right.
    groups: Vec<String>,
    /// Bottom to top: name, colour, one value per group (display units of money).
    stacks: Vec<(String, RGBColor, Vec<f64>)>,
    /// Text above each bar.
    totals: Vec<String>,
    empty: String,
}

impl StackedBars {
    fn legend(&self) -> Vec<LegendItem> {
        self.stacks
            .iter()
            .map(|(n, c, _)| LegendItem::new(n.clone(), Swatch::Box(*c)))
            .collect()
    }
}

impl Figure for StackedBars {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let plot = frame(root, &self.title, &self.legend())?;
        let n = self.groups.len().max(1);
        let tops: Vec<f64> = (0..n)
            .map(|i| {
                self.stacks
                    .iter()
                    .map(|s| s.2.get(i).copied().unwrap_or(0.0))
                    .sum()
            })
            .collect();
        let ymax = nice_max(tops.iter().copied().fold(0.0, f64::max) * 1.12);
        let mut chart = ChartBuilder::on(&plot)
            .margin(16)
            .margin_right(32)
            .x_label_area_size(64)
            .y_label_area_size(118)
            .build_cartesian_2d(
                Ticks::new(-0.5f64..(n as f64 - 0.5), index_ticks(n)),
                0f64..ymax,
            )?;
        let groups = &self.groups;
        let xfmt = |v: &f64| index_label(groups, *v);
        let yfmt = |v: &f64| axis_money(*v, ymax);
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE)
            .bold_line_style(GRID)
            .y_labels(8)
            .x_label_formatter(&xfmt)
            .y_label_formatter(&yfmt)
            .x_desc(self.x_label.as_str())
            .y_desc(self.y_label.as_str())
            .axis_desc_style(font(AXIS_PX))
            .label_style(font(LABEL_PX))
            .draw()?;
        if self.groups.is_empty() {
            return no_data(&plot, &self.empty);
        }
        let half = if n > 18 { 0.42 } else { 0.34 };
        let mut base = vec![0f64; n];
        for (_, color, values) in &self.stacks {
            let mut rects = Vec::new();
            for (i, b) in base.iter_mut().enumerate() {
                let v = values.get(i).copied().unwrap_or(0.0);
                if v > 0.0 {
                    let x = i as f64;
                    rects.push(Rectangle::new(
                        [(x - half, *b), (x + half, *b + v)],
                        color.filled(),
                    ));
                    *b += v;
                }
            }
            chart.draw_series(rects)?;
        }
        // Totals above the bars while they fit; the pages' tables always have them.
        if n <= 14 {
            let style = font(LABEL_PX).pos(Pos::new(HPos::Center, VPos::Bottom));
            chart.draw_series(
                tops.iter()
                    .zip(&self.totals)
                    .enumerate()
                    .map(|(i, (t, s))| Text::new(s.clone(), (i as f64, *t), style.clone())),
            )?;
        }
        Ok(())
    }
}

fn stacked_chart(name: &str, s: StackedBars) -> Result<Chart> {
    let legend = s.stacks.iter().map(|x| x.0.clone()).collect();
    render(
        name,
        &s.title.clone(),
        vec![s.x_label.clone(), s.y_label.clone()],
        legend,
        &s,
    )
}

/// Monthly cost stacked by billed category (categories with a cost only; free units are in the
/// market chart and the tables).
pub fn monthly_cost(d: &ReportData) -> Result<Chart> {
    let cats = d.charged_categories();
    let groups: Vec<String> = d.months.iter().map(|m| m.month.clone()).collect();
    let max = d
        .months
        .iter()
        .map(|m| m.tally.cost.to_f64_for_display())
        .fold(0.0, f64::max);
    let dp = label_dp(max);
    let stacks = cats
        .iter()
        .map(|c| {
            let values = groups
                .iter()
                .map(|g| {
                    d.month_categories
                        .iter()
                        .filter(|m| &m.month == g && &m.category == c)
                        .map(|m| m.tally.cost.to_f64_for_display())
                        .sum()
                })
                .collect();
            (c.clone(), category_color(c), values)
        })
        .collect();
    stacked_chart(
        "monthly-cost",
        StackedBars {
            title: format!("Monthly cost by category ({})", d.currency),
            x_label: "Month (WABA local time)".into(),
            y_label: format!("Cost ({})", d.currency),
            totals: d
                .months
                .iter()
                .map(|m| display_money(m.tally.cost, dp))
                .collect(),
            groups,
            stacks,
            empty: "No billable units in this log".into(),
        },
    )
}

/// Cost per variant, stacked by category: `variants` are (variant name, [(category, cost)]).
/// For comparisons of scenarios or rulebooks; bars keep the order given.
pub fn variant_bars(currency: &str, variants: &[(String, Vec<(String, Money)>)]) -> Result<Chart> {
    let mut cats: Vec<String> = variants
        .iter()
        .flat_map(|(_, cs)| cs.iter().map(|(c, _)| c.clone()))
        .collect();
    cats.sort_by(|a, b| (category_rank(a), a).cmp(&(category_rank(b), b)));
    cats.dedup();
    let totals: Vec<Money> = variants
        .iter()
        .map(|(_, cs)| cs.iter().map(|(_, m)| *m).sum())
        .collect();
    let max = totals
        .iter()
        .map(|m| m.to_f64_for_display())
        .fold(0.0, f64::max);
    let dp = label_dp(max);
    let stacks = cats
        .iter()
        .map(|c| {
            let values = variants
                .iter()
                .map(|(_, cs)| {
                    cs.iter()
                        .filter(|(k, _)| k == c)
                        .map(|(_, m)| *m)
                        .sum::<Money>()
                        .to_f64_for_display()
                })
                .collect();
            (c.clone(), category_color(c), values)
        })
        .collect();
    stacked_chart(
        "variant-cost",
        StackedBars {
            title: format!("Cost per variant by category ({currency})"),
            x_label: "Variant".into(),
            y_label: format!("Cost ({currency})"),
            groups: variants.iter().map(|(v, _)| v.clone()).collect(),
            stacks,
            totals: totals.iter().map(|m| display_money(*m, dp)).collect(),
            empty: "No variants to compare".into(),
        },
    )
}

// ---------------------------------------------------------------------------------------------
// Lines: daily spend, tier progress, parameter sweeps.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum XTicks {
    Number,
    /// x = days after the date.
    Dates(NaiveDate),
    DayOfMonth,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum YKind {
    Money,
    Count,
    /// Counts on a log₁₀ scale, for progress far below a threshold.
    LogCount,
}

struct LineSpec {
    name: String,
    color: RGBColor,
    points: Vec<(f64, f64)>,
    area: bool,
    dots: bool,
    /// Draw as steps (a running count is flat until its next point).
    step: bool,
}

struct Mark {
    at: f64,
    label: String,
    color: RGBColor,
}

struct LineChart {
    title: String,
    x_label: String,
    y_label: String,
    x_range: (f64, f64),
    x_ticks: XTicks,
    y_kind: YKind,
    series: Vec<LineSpec>,
    /// Vertical markers (dashed, labelled at the top).
    vmarks: Vec<Mark>,
    /// Horizontal thresholds (dashed, labelled at the right).
    hmarks: Vec<Mark>,
    /// Legend entries beyond the series (marker kinds).
    extra_legend: Vec<LegendItem>,
    empty: String,
}

impl LineChart {
    fn x_key_points(&self) -> Vec<f64> {
        let (x0, x1) = self.x_range;
        match self.x_ticks {
            XTicks::Dates(first) => date_ticks(first, (x1 - x0).max(0.0).round() as usize),
            XTicks::DayOfMonth => (1..=31)
                .filter(|d| *d == 1 || d % 5 == 0)
                .map(f64::from)
                .filter(|d| *d >= x0 && *d <= x1)
                .collect(),
            XTicks::Number => {
                use plotters::coord::types::RangedCoordf64;
                RangedCoordf64::from(x0..x1).key_points(9)
            }
        }
    }

    fn legend(&self) -> Vec<LegendItem> {
        self.series
            .iter()
            .map(|s| LegendItem::new(s.name.clone(), Swatch::Line(s.color)))
            .chain(self.extra_legend.iter().cloned())
            .collect()
    }
}

impl Figure for LineChart {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let plot = frame(root, &self.title, &self.legend())?;
        let log = self.y_kind == YKind::LogCount;
        let ty = |v: f64| if log { v.max(1.0).log10() } else { v };
        let data_max = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| ty(p.1)))
            .chain(self.hmarks.iter().map(|m| ty(m.at)))
            .fold(0.0, f64::max);
        let ymax = if log {
            (data_max + 0.4).ceil().max(1.0)
        } else {
            nice_max(data_max * 1.15)
        };
        let (x0, x1) = self.x_range;
        let mut chart = ChartBuilder::on(&plot)
            .margin(16)
            .margin_right(40)
            .x_label_area_size(64)
            .y_label_area_size(118)
            .build_cartesian_2d(Ticks::new(x0..x1, self.x_key_points()), 0f64..ymax)?;
        let xfmt = |v: &f64| match self.x_ticks {
            XTicks::Number => {
                let s = format!("{v:.3}");
                s.trim_end_matches('0').trim_end_matches('.').to_string()
            }
            XTicks::DayOfMonth => axis_count(*v),
            XTicks::Dates(first) => {
                if (v - v.round()).abs() > 1e-6 || *v < 0.0 {
                    String::new()
                } else {
                    // Month starts read as months when the axis spans many of them.
                    let long = x1 - x0 > 75.0;
                    first
                        .checked_add_days(chrono::Days::new(v.round() as u64))
                        .map(|d| {
                            if long && d.day() == 1 {
                                d.format("%Y-%m").to_string()
                            } else {
                                d.format("%Y-%m-%d").to_string()
                            }
                        })
                        .unwrap_or_default()
                }
            }
        };
        let yfmt = |v: &f64| match self.y_kind {
            YKind::Money => axis_money(*v, ymax),
            YKind::Count => axis_count(*v),
            YKind::LogCount => {
                if (v - v.round()).abs() > 1e-6 {
                    String::new()
                } else {
                    axis_count(10f64.powi(v.round() as i32))
                }
            }
        };
        chart
            .configure_mesh()
            .light_line_style(WHITE)
            .bold_line_style(GRID)
            .y_labels(8)
            .x_label_formatter(&xfmt)
            .y_label_formatter(&yfmt)
            .x_desc(self.x_label.as_str())
            .y_desc(self.y_label.as_str())
            .axis_desc_style(font(AXIS_PX))
            .label_style(font(LABEL_PX))
            .draw()?;
        if self.series.iter().all(|s| s.points.is_empty()) {
            return no_data(&plot, &self.empty);
        }
        for m in &self.hmarks {
            let y = ty(m.at);
            chart.draw_series(std::iter::once(DashedPathElement::new(
                vec![(x0, y), (x1, y)],
                10,
                6,
                m.color.stroke_width(2),
            )))?;
            chart.draw_series(std::iter::once(Text::new(
                m.label.clone(),
                (x1, y),
                font(LABEL_PX).pos(Pos::new(HPos::Right, VPos::Bottom)),
            )))?;
        }
        for s in &self.series {
            let mut points: Vec<(f64, f64)> = Vec::new();
            for p in &s.points {
                if let (true, Some(prev)) = (s.step, points.last().copied()) {
                    points.push((p.0, prev.1));
                }
                points.push((p.0, ty(p.1)));
            }
            if s.area && points.len() > 1 {
                chart.draw_series(AreaSeries::new(
                    points.iter().copied(),
                    0.0,
                    s.color.mix(0.18).filled(),
                ))?;
            }
            chart.draw_series(LineSeries::new(
                points.iter().copied(),
                s.color.stroke_width(3),
            ))?;
            if s.dots || points.len() == 1 {
                chart.draw_series(
                    s.points
                        .iter()
                        .map(|p| Circle::new((p.0, ty(p.1)), 4, s.color.filled())),
                )?;
            }
        }
        // Marker labels: right of their line (left of it when it would leave the plot), on
        // the first text row where they overprint no other label, on a light background so
        // that lines crossing them do not hide them. Pixel positions are the backend's.
        for m in &self.vmarks {
            chart.draw_series(std::iter::once(DashedPathElement::new(
                vec![(m.at, 0.0), (m.at, ymax)],
                10,
                6,
                m.color.stroke_width(2),
            )))?;
        }
        let right_px = chart.backend_coord(&(x1, 0.0)).0;
        let top_px = chart.backend_coord(&(x0, ymax)).1;
        let row_h = LABEL_PX as i32 + 10;
        let mut rows: Vec<Vec<(i32, i32)>> = Vec::new();
        for m in &self.vmarks {
            let px = chart.backend_coord(&(m.at, 0.0)).0;
            let w = plot.estimate_text_size(&m.label, &font(LABEL_PX))?.0 as i32;
            let span = if px + 6 + w <= right_px {
                (px + 6, px + 6 + w)
            } else {
                (px - 6 - w, px - 6)
            };
            let free = |row: &Vec<(i32, i32)>| {
                row.iter()
                    .all(|(a, b)| span.1 + 10 < *a || span.0 > *b + 10)
            };
            let row = match rows.iter().position(free) {
                Some(r) => r,
                None => {
                    rows.push(Vec::new());
                    rows.len() - 1
                }
            };
            rows[row].push(span);
            let y = top_px + 6 + row as i32 * row_h;
            root.draw(&Rectangle::new(
                [(span.0 - 3, y - 2), (span.1 + 3, y + row_h - 6)],
                WHITE.mix(0.85).filled(),
            ))?;
            root.draw(&Text::new(
                m.label.clone(),
                (span.0, y),
                font(LABEL_PX)
                    .color(&m.color)
                    .pos(Pos::new(HPos::Left, VPos::Top)),
            ))?;
        }
        Ok(())
    }
}

fn line_chart(name: &str, c: LineChart) -> Result<Chart> {
    let legend = c.legend().into_iter().map(|l| l.label).collect();
    render(
        name,
        &c.title.clone(),
        vec![c.x_label.clone(), c.y_label.clone()],
        legend,
        &c,
    )
}

/// Spend per WABA-local day over the log's period, with rate-card and rulebook switches marked.
pub fn daily_spend(d: &ReportData) -> Result<Chart> {
    let first = d.days.first().map(|x| x.date);
    let n = d.days.len().max(1) as f64;
    let points: Vec<(f64, f64)> = d
        .days
        .iter()
        .enumerate()
        .map(|(i, x)| (i as f64, x.tally.cost.to_f64_for_display()))
        .collect();
    let at = |date: NaiveDate| first.map(|f| (date - f).num_days() as f64 - 0.5);
    // Switches on the same day get adjacent lines (a few pixels apart), each with its label.
    let nudge = n / 400.0;
    let mut vmarks: Vec<Mark> = Vec::new();
    for c in &d.changes {
        let Some(x) = at(c.date) else { continue };
        let same_day = vmarks
            .iter()
            .filter(|m| (m.at - x).abs() < nudge * 4.0)
            .count();
        vmarks.push(Mark {
            at: x + nudge * same_day as f64,
            label: c.label.clone(),
            color: if c.kind == "rate_card" {
                CARD_MARK
            } else {
                RULEBOOK_MARK
            },
        });
    }
    let mut extra_legend = Vec::new();
    if d.changes.iter().any(|c| c.kind == "rate_card") {
        extra_legend.push(LegendItem::new(
            "rate-card change",
            Swatch::Dashed(CARD_MARK),
        ));
    }
    if d.changes.iter().any(|c| c.kind == "rulebook") {
        extra_legend.push(LegendItem::new(
            "rulebook change",
            Swatch::Dashed(RULEBOOK_MARK),
        ));
    }
    line_chart(
        "daily-spend",
        LineChart {
            title: format!("Daily spend ({})", d.currency),
            x_label: "Date (WABA local time)".into(),
            y_label: format!("Spend per day ({})", d.currency),
            // A day of room on the left keeps the first date clear of the y axis labels.
            x_range: (-1.0, n - 0.5),
            x_ticks: first.map_or(XTicks::Number, XTicks::Dates),
            y_kind: YKind::Money,
            series: vec![LineSpec {
                name: "spend per day".into(),
                color: COST,
                dots: points.len() <= 62,
                points,
                area: true,
                step: false,
            }],
            vmarks,
            hmarks: Vec::new(),
            extra_legend,
            empty: "No billable units in this log".into(),
        },
    )
}

/// PMP-4 volume-tier progress: one chart per month that has counters with tier tables, each
/// counter's cumulative units against its thresholds (those passed and the next one ahead).
/// When every counter is far below its next threshold the count axis is logarithmic, so the
/// progress stays visible next to thresholds of 100,000 and more.
pub fn tier_progress(d: &ReportData) -> Result<Vec<Chart>> {
    let mut months: Vec<&str> = d.tiers.iter().map(|t| t.month.as_str()).collect();
    months.dedup();
    let mut out = Vec::new();
    for month in months {
        let Some(first) = NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").ok() else {
            continue;
        };
        let days_in_month = first
            .checked_add_months(chrono::Months::new(1))
            .map(|n| (n - first).num_days())
            .unwrap_or(31) as f64;
        let mut series = Vec::new();
        // Threshold → (tier, [(counter, rate)]): counters sharing a threshold share its line.
        let mut lines: std::collections::BTreeMap<u64, (usize, Vec<String>)> = Default::default();
        let mut max_count = 0u64;
        for (i, t) in d.tiers.iter().filter(|t| t.month == month).enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            let name = format!("{} {}", t.market, t.category);
            let count = t.count();
            max_count = max_count.max(count);
            let shown = t
                .thresholds
                .iter()
                .take_while(|th| th.from <= count)
                .chain(t.thresholds.iter().find(|th| th.from > count));
            for th in shown {
                let e = lines.entry(th.from).or_insert((th.tier, Vec::new()));
                e.1.push(format!("{name} {}", th.rate));
            }
            series.push(LineSpec {
                name: format!("{name} (units so far)"),
                color,
                points: t
                    .cumulative
                    .iter()
                    .map(|(day, n)| (*day as f64, *n as f64))
                    .collect(),
                area: false,
                dots: true,
                step: true,
            });
        }
        let top = lines.keys().next_back().copied().unwrap_or(0);
        let log = max_count.saturating_mul(10) < top;
        let hmarks: Vec<Mark> = lines
            .into_iter()
            .map(|(from, (tier, who))| Mark {
                at: from as f64,
                label: format!(
                    "tier {tier} from message {}: {} {}",
                    group_thousands(&from.to_string()),
                    who.join(", "),
                    d.currency
                ),
                color: THRESHOLD,
            })
            .collect();
        let extra_legend = if hmarks.is_empty() {
            Vec::new()
        } else {
            vec![LegendItem::new("tier threshold", Swatch::Dashed(THRESHOLD))]
        };
        out.push(line_chart(
            &format!("tier-progress-{month}"),
            LineChart {
                title: format!("Volume-tier progress, {month} (PMP-4)"),
                x_label: format!("Day of {} (WABA local time)", first.format("%B %Y")),
                y_label: if log {
                    "Charged units this month (log scale)".into()
                } else {
                    "Charged units this month".into()
                },
                x_range: (0.5, days_in_month + 0.5),
                x_ticks: XTicks::DayOfMonth,
                y_kind: if log { YKind::LogCount } else { YKind::Count },
                series,
                vmarks: Vec::new(),
                hmarks,
                extra_legend,
                empty: "No units counted".into(),
            },
        )?);
    }
    Ok(out)
}

/// A parameter sweep: cost per resolved issue (`points` = (parameter, cost)) against a
/// parameter such as the first-contact resolution rate, named by `x_label`.
pub fn sweep_line(currency: &str, x_label: &str, points: &[(f64, Money)]) -> Result<Chart> {
    let mut pts: Vec<(f64, f64)> = points
        .iter()
        .map(|(x, m)| (*x, m.to_f64_for_display()))
        .filter(|(x, _)| x.is_finite())
        .collect();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (lo, hi) = match (pts.first(), pts.last()) {
        (Some(a), Some(b)) if b.0 > a.0 => {
            let pad = (b.0 - a.0) * 0.03;
            (a.0 - pad, b.0 + pad)
        }
        (Some(a), _) => (a.0 - 1.0, a.0 + 1.0),
        _ => (0.0, 1.0),
    };
    line_chart(
        "sweep-cost",
        LineChart {
            title: format!("Cost per resolved issue vs {x_label} ({currency})"),
            x_label: x_label.into(),
            y_label: format!("Cost per resolved issue ({currency})"),
            x_range: (lo, hi),
            x_ticks: XTicks::Number,
            y_kind: YKind::Money,
            series: vec![LineSpec {
                name: "cost per resolved issue".into(),
                color: COST,
                points: pts,
                area: false,
                dots: true,
                step: false,
            }],
            vmarks: Vec::new(),
            hmarks: Vec::new(),
            extra_legend: Vec::new(),
            empty: "No points".into(),
        },
    )
}

// ---------------------------------------------------------------------------------------------
// Markets: cost bars and charged/free unit bars side by side.

struct MarketFigure {
    title: String,
    cost_label: String,
    units_label: String,
    market_label: String,
    /// Top to bottom.
    markets: Vec<String>,
    cost: Vec<f64>,
    cost_text: Vec<String>,
    charged: Vec<f64>,
    free: Vec<f64>,
    legend: Vec<LegendItem>,
}

impl Figure for MarketFigure {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let plot = frame(root, &self.title, &self.legend)?;
        if self.markets.is_empty() {
            return no_data(&plot, "No billable units in this log");
        }
        let n = self.markets.len();
        let label_w = self
            .markets
            .iter()
            .map(|m| plot.estimate_text_size(m, &font(LABEL_PX)).map(|s| s.0))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .max()
            .unwrap_or(0);
        let w = plot.dim_in_pixel().0;
        let (left, right) = plot.split_horizontally(((w as f64) * 0.6) as u32);
        // Position 0 is drawn at the top.
        let y_of = |i: usize| (n - 1 - i) as f64;
        let names: Vec<String> = self.markets.iter().rev().cloned().collect();
        let yfmt = |v: &f64| index_label(&names, *v);
        let blank = |_: &f64| String::new();
        let y_range = || Ticks::new(-0.5f64..(n as f64 - 0.5), index_ticks_all(n));

        let cmax = nice_max(self.cost.iter().copied().fold(0.0, f64::max) * 1.3);
        let mut c = ChartBuilder::on(&left)
            .margin(16)
            .margin_right(48)
            .x_label_area_size(64)
            .y_label_area_size(label_w + 64)
            .build_cartesian_2d(0f64..cmax, y_range())?;
        let cfmt = |v: &f64| axis_money(*v, cmax);
        c.configure_mesh()
            .disable_y_mesh()
            .light_line_style(WHITE)
            .bold_line_style(GRID)
            .x_labels(6)
            .x_label_formatter(&cfmt)
            .y_label_formatter(&yfmt)
            .x_desc(self.cost_label.as_str())
            .y_desc(self.market_label.as_str())
            .axis_desc_style(font(AXIS_PX))
            .label_style(font(LABEL_PX))
            .draw()?;
        c.draw_series((0..n).map(|i| {
            let y = y_of(i);
            Rectangle::new([(0.0, y - 0.32), (self.cost[i], y + 0.32)], COST.filled())
        }))?;
        let style = font(LABEL_PX).pos(Pos::new(HPos::Left, VPos::Center));
        c.draw_series((0..n).map(|i| {
            Text::new(
                format!(" {}", self.cost_text[i]),
                (self.cost[i], y_of(i)),
                style.clone(),
            )
        }))?;

        let umax = nice_max(
            (0..n)
                .map(|i| self.charged[i] + self.free[i])
                .fold(0.0, f64::max)
                * 1.25,
        );
        let mut u = ChartBuilder::on(&right)
            .margin(16)
            .margin_right(32)
            .x_label_area_size(64)
            .y_label_area_size(12)
            .build_cartesian_2d(0f64..umax, y_range())?;
        let ufmt = |v: &f64| axis_count(*v);
        u.configure_mesh()
            .disable_y_mesh()
            .light_line_style(WHITE)
            .bold_line_style(GRID)
            .x_labels(6)
            .x_label_formatter(&ufmt)
            .y_label_formatter(&blank)
            .x_desc(self.units_label.as_str())
            .axis_desc_style(font(AXIS_PX))
            .label_style(font(LABEL_PX))
            .draw()?;
        u.draw_series((0..n).filter(|i| self.charged[*i] > 0.0).map(|i| {
            let y = y_of(i);
            Rectangle::new(
                [(0.0, y - 0.32), (self.charged[i], y + 0.32)],
                CHARGED.filled(),
            )
        }))?;
        u.draw_series((0..n).filter(|i| self.free[*i] > 0.0).map(|i| {
            let y = y_of(i);
            Rectangle::new(
                [
                    (self.charged[i], y - 0.32),
                    (self.charged[i] + self.free[i], y + 0.32),
                ],
                FREE.filled(),
            )
        }))?;
        u.draw_series((0..n).map(|i| {
            Text::new(
                format!(
                    " {} + {}",
                    axis_count(self.charged[i]),
                    axis_count(self.free[i])
                ),
                (self.charged[i] + self.free[i], y_of(i)),
                style.clone(),
            )
        }))?;
        Ok(())
    }
}

/// Cost by market (top markets, the rest as "others") with charged and free units.
pub fn market_cost(d: &ReportData) -> Result<Chart> {
    let max = d
        .markets
        .iter()
        .map(|m| m.tally.cost.to_f64_for_display())
        .fold(0.0, f64::max);
    let dp = label_dp(max);
    let title = if d.markets.iter().any(|m| m.market == OTHERS) {
        format!(
            "Cost by market, top {} and others ({})",
            d.markets.len() - 1,
            d.currency
        )
    } else {
        format!("Cost by market ({})", d.currency)
    };
    let fig = MarketFigure {
        title: title.clone(),
        cost_label: format!("Cost ({})", d.currency),
        units_label: "Units (charged + free)".into(),
        market_label: "Market".into(),
        markets: d.markets.iter().map(|m| m.market.clone()).collect(),
        cost: d
            .markets
            .iter()
            .map(|m| m.tally.cost.to_f64_for_display())
            .collect(),
        cost_text: d
            .markets
            .iter()
            .map(|m| display_money(m.tally.cost, dp))
            .collect(),
        charged: d.markets.iter().map(|m| m.tally.charged as f64).collect(),
        free: d.markets.iter().map(|m| m.tally.free as f64).collect(),
        legend: vec![
            LegendItem::new(format!("cost ({})", d.currency), Swatch::Box(COST)),
            LegendItem::new("charged units", Swatch::Box(CHARGED)),
            LegendItem::new("free units", Swatch::Box(FREE)),
        ],
    };
    render(
        "market-cost",
        &title,
        vec![
            fig.cost_label.clone(),
            fig.units_label.clone(),
            fig.market_label.clone(),
        ],
        fig.legend.iter().map(|l| l.label.clone()).collect(),
        &fig,
    )
}

/// Every chart of a report, in page order (tier charts only when there are tier counters).
pub fn all(d: &ReportData) -> Result<Vec<Chart>> {
    let mut out = vec![monthly_cost(d)?, market_cost(d)?, daily_spend(d)?];
    out.extend(tier_progress(d)?);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_money_rounds_half_away_from_zero_and_groups_thousands() {
        assert_eq!(display_money(Money(1_234_565_000), 2), "1,234.57");
        assert_eq!(display_money(Money(125_000), 1), "0.1");
        assert_eq!(display_money(Money(150_000), 1), "0.2");
        assert_eq!(display_money(Money(999_500_000), 0), "1,000");
        assert_eq!(display_money(Money(41_600), 4), "0.0416");
    }

    #[test]
    fn nice_max_is_at_least_the_value() {
        for v in [0.0001, 0.3, 1.0, 7.3, 123.0, 98765.0] {
            let m = nice_max(v);
            assert!(m >= v && m <= v * 1.6, "{v} → {m}");
        }
        assert_eq!(nice_max(0.0), 1.0);
    }
}
