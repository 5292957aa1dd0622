//! The market chart: cost bars (left) and charged/free unit bars (right) side by side, one row
//! per market, top markets first and the rest as "others".

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::{
    axis_count, axis_money, index_label, index_ticks_all, label_dp, nice_max, Ticks,
};
use super::draw::{
    font, frame, no_data, render, DrawResult, Figure, LegendItem, Swatch, AXIS_PX, CHARGED, COST,
    FREE, GRID, LABEL_PX,
};
use super::Chart;
use crate::report::format::display_money;
use crate::report::series::{ReportData, OTHERS};

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

impl MarketFigure {
    /// Row `i` (0 = first market) on the y axis: position 0 is drawn at the top.
    fn y_of(&self, i: usize) -> f64 {
        (self.markets.len() - 1 - i) as f64
    }

    fn y_range(&self) -> Ticks {
        let n = self.markets.len();
        Ticks::new(-0.5f64..(n as f64 - 0.5), index_ticks_all(n))
    }

    /// Left panel: cost per market, with the market names and the amount after each bar.
    fn draw_costs<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        label_w: u32,
    ) -> DrawResult<DB> {
        let n = self.markets.len();
        let names: Vec<String> = self.markets.iter().rev().cloned().collect();
        let yfmt = |v: &f64| index_label(&names, *v);
        let cmax = nice_max(self.cost.iter().copied().fold(0.0, f64::max) * 1.3);
        let mut c = ChartBuilder::on(area)
            .margin(16)
            .margin_right(48)
            .x_label_area_size(64)
            .y_label_area_size(label_w + 64)
            .build_cartesian_2d(0f64..cmax, self.y_range())?;
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
            let y = self.y_of(i);
            Rectangle::new([(0.0, y - 0.32), (self.cost[i], y + 0.32)], COST.filled())
        }))?;
        let style = font(LABEL_PX).pos(Pos::new(HPos::Left, VPos::Center));
        c.draw_series((0..n).map(|i| {
            Text::new(
                format!(" {}", self.cost_text[i]),
                (self.cost[i], self.y_of(i)),
                style.clone(),
            )
        }))?;
        Ok(())
    }

    /// Right panel: charged units, then free units stacked after them, and both counts.
    fn draw_units<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let n = self.markets.len();
        let umax = nice_max(
            (0..n)
                .map(|i| self.charged[i] + self.free[i])
                .fold(0.0, f64::max)
                * 1.25,
        );
        let mut u = ChartBuilder::on(area)
            .margin(16)
            .margin_right(32)
            .x_label_area_size(64)
            .y_label_area_size(12)
            .build_cartesian_2d(0f64..umax, self.y_range())?;
        let ufmt = |v: &f64| axis_count(*v);
        let blank = |_: &f64| String::new();
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
            let y = self.y_of(i);
            Rectangle::new(
                [(0.0, y - 0.32), (self.charged[i], y + 0.32)],
                CHARGED.filled(),
            )
        }))?;
        u.draw_series((0..n).filter(|i| self.free[*i] > 0.0).map(|i| {
            let y = self.y_of(i);
            Rectangle::new(
                [
                    (self.charged[i], y - 0.32),
                    (self.charged[i] + self.free[i], y + 0.32),
                ],
                FREE.filled(),
            )
        }))?;
        let style = font(LABEL_PX).pos(Pos::new(HPos::Left, VPos::Center));
        u.draw_series((0..n).map(|i| {
            Text::new(
                format!(
                    " {} + {}",
                    axis_count(self.charged[i]),
                    axis_count(self.free[i])
                ),
                (self.charged[i] + self.free[i], self.y_of(i)),
                style.clone(),
            )
        }))?;
        Ok(())
    }
}

impl Figure for MarketFigure {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let plot = frame(root, &self.title, &self.legend)?;
        if self.markets.is_empty() {
            return no_data(&plot, "No billable units in this log");
        }
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
        self.draw_costs(&left, label_w)?;
        self.draw_units(&right)
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
