//! Line charts: daily spend with rate-card and rulebook switches, PMP-4 volume-tier progress,
//! and parameter sweeps (cost per resolved issue against a scenario setting).

use anyhow::Result;
use chrono::NaiveDate;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::{axis_count, axis_money, date_label, date_ticks, nice_max, Ticks};
use super::draw::{
    font, frame, no_data, render, DrawResult, Figure, LegendItem, Swatch, AXIS_PX, CARD_MARK, COST,
    GRID, LABEL_PX, PALETTE, RULEBOOK_MARK, THRESHOLD,
};
use super::Chart;
use crate::billing::money::Money;
use crate::report::format::group_thousands;
use crate::report::series::{ReportData, TierProgress};

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

/// The plot of a line chart: x on chosen ticks, y linear (log₁₀ values for [`YKind::LogCount`]).
type Plot<'a, DB> = ChartContext<'a, DB, Cartesian2d<Ticks, RangedCoordf64>>;

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
            XTicks::Number => RangedCoordf64::from(x0..x1).key_points(9),
        }
    }

    fn legend(&self) -> Vec<LegendItem> {
        self.series
            .iter()
            .map(|s| LegendItem::new(s.name.clone(), Swatch::Line(s.color)))
            .chain(self.extra_legend.iter().cloned())
            .collect()
    }

    /// A data value as plotted: its log₁₀ on a log scale.
    fn plotted(&self, v: f64) -> f64 {
        if self.y_kind == YKind::LogCount {
            v.max(1.0).log10()
        } else {
            v
        }
    }

    /// The top of the y axis: above every point and threshold.
    fn y_max(&self) -> f64 {
        let data_max = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| self.plotted(p.1)))
            .chain(self.hmarks.iter().map(|m| self.plotted(m.at)))
            .fold(0.0, f64::max);
        if self.y_kind == YKind::LogCount {
            (data_max + 0.4).ceil().max(1.0)
        } else {
            nice_max(data_max * 1.15)
        }
    }

    fn x_tick_label(&self, v: f64) -> String {
        let (x0, x1) = self.x_range;
        match self.x_ticks {
            XTicks::Number => {
                let s = format!("{v:.3}");
                s.trim_end_matches('0').trim_end_matches('.').to_string()
            }
            XTicks::DayOfMonth => axis_count(v),
            // Month starts read as months when the axis spans many of them.
            XTicks::Dates(first) => date_label(first, v, x1 - x0 > 75.0),
        }
    }

    fn y_tick_label(&self, v: f64, ymax: f64) -> String {
        match self.y_kind {
            YKind::Money => axis_money(v, ymax),
            YKind::Count => axis_count(v),
            YKind::LogCount => {
                if (v - v.round()).abs() > 1e-6 {
                    String::new()
                } else {
                    axis_count(10f64.powi(v.round() as i32))
                }
            }
        }
    }

    /// Horizontal thresholds: dashed, labelled at the right end.
    fn draw_thresholds<DB: DrawingBackend>(&self, chart: &mut Plot<DB>) -> DrawResult<DB> {
        let (x0, x1) = self.x_range;
        for m in &self.hmarks {
            let y = self.plotted(m.at);
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
        Ok(())
    }

    fn draw_lines<DB: DrawingBackend>(&self, chart: &mut Plot<DB>) -> DrawResult<DB> {
        for s in &self.series {
            let mut points: Vec<(f64, f64)> = Vec::new();
            for p in &s.points {
                if let (true, Some(prev)) = (s.step, points.last().copied()) {
                    points.push((p.0, prev.1));
                }
                points.push((p.0, self.plotted(p.1)));
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
                        .map(|p| Circle::new((p.0, self.plotted(p.1)), 4, s.color.filled())),
                )?;
            }
        }
        Ok(())
    }

    /// Vertical markers, then their labels: right of their line (left of it when it would
    /// leave the plot), on the first text row where they overprint no other label, on a light
    /// background so that lines crossing them do not hide them. Pixel positions are the
    /// backend's.
    fn draw_markers<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        plot: &DrawingArea<DB, Shift>,
        chart: &mut Plot<DB>,
        ymax: f64,
    ) -> DrawResult<DB> {
        for m in &self.vmarks {
            chart.draw_series(std::iter::once(DashedPathElement::new(
                vec![(m.at, 0.0), (m.at, ymax)],
                10,
                6,
                m.color.stroke_width(2),
            )))?;
        }
        let (x0, x1) = self.x_range;
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

impl Figure for LineChart {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let plot = frame(root, &self.title, &self.legend())?;
        let ymax = self.y_max();
        let (x0, x1) = self.x_range;
        let mut chart = ChartBuilder::on(&plot)
            .margin(16)
            .margin_right(40)
            .x_label_area_size(64)
            .y_label_area_size(118)
            .build_cartesian_2d(Ticks::new(x0..x1, self.x_key_points()), 0f64..ymax)?;
        let xfmt = |v: &f64| self.x_tick_label(*v);
        let yfmt = |v: &f64| self.y_tick_label(*v, ymax);
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
        self.draw_thresholds(&mut chart)?;
        self.draw_lines(&mut chart)?;
        self.draw_markers(root, &plot, &mut chart, ymax)
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
            vmarks: switch_marks(d, first, n),
            hmarks: Vec::new(),
            extra_legend: switch_legend(d),
            empty: "No billable units in this log".into(),
        },
    )
}

/// A dashed line per rate-card or rulebook switch, between the day before and the day of it
/// (x = days after `first`; `n` days in all).
fn switch_marks(d: &ReportData, first: Option<NaiveDate>, n: f64) -> Vec<Mark> {
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
    vmarks
}

/// Legend entries for the kinds of switch the chart shows.
fn switch_legend(d: &ReportData) -> Vec<LegendItem> {
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
    extra_legend
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
        out.push(tier_month(d, month, first)?);
    }
    Ok(out)
}

/// The PMP-4 tier chart of one month (`first`: its first day).
fn tier_month(d: &ReportData, month: &str, first: NaiveDate) -> Result<Chart> {
    let days_in_month = first
        .checked_add_months(chrono::Months::new(1))
        .map(|n| (n - first).num_days())
        .unwrap_or(31) as f64;
    let counters: Vec<&TierProgress> = d.tiers.iter().filter(|t| t.month == month).collect();
    let (series, lines, max_count) = tier_series(&counters);
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
    line_chart(
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
    )
}

/// Threshold → (tier, counters with their rate at it): counters sharing a threshold share its line.
type ThresholdLines = std::collections::BTreeMap<u64, (usize, Vec<String>)>;

/// One step line per tier counter of a month, the thresholds to draw (those passed and the next
/// one ahead), and the largest count.
fn tier_series(counters: &[&TierProgress]) -> (Vec<LineSpec>, ThresholdLines, u64) {
    let mut series = Vec::new();
    let mut lines = ThresholdLines::default();
    let mut max_count = 0u64;
    for (i, t) in counters.iter().enumerate() {
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
    (series, lines, max_count)
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
