//! Stacked bars: cost per month by category, and cost per variant by category (for comparisons
//! of scenarios or rulebooks).

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::{axis_money, index_label, index_ticks, label_dp, nice_max, Ticks};
use super::draw::{
    category_color, category_label, font, frame, no_data, render, DrawResult, Figure, LegendItem,
    Swatch, AXIS_PX, GRID, LABEL_PX,
};
use super::Chart;
use crate::billing::money::Money;
use crate::report::format::display_money;
use crate::report::series::{category_rank, ReportData};

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
            (category_label(c), category_color(c), values)
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
            (category_label(c), category_color(c), values)
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
