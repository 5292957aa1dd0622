//! Axes of the charts: where ticks go (months, dates, bar positions), how their labels read,
//! and how far an axis runs ("nice" maxima with room for labels).

use chrono::{Datelike, NaiveDate};
use plotters::prelude::Ranged;

use crate::report::format::{group_number, group_thousands};

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
pub(super) fn label_dp(max: f64) -> u32 {
    if max >= 10_000.0 {
        0
    } else if max >= 1.0 {
        2
    } else {
        4
    }
}

/// A money tick label on an axis running up to `max`.
pub(super) fn axis_money(v: f64, max: f64) -> String {
    let dp = money_dp(max) as usize;
    group_number(&format!("{v:.dp$}"))
}

/// A count tick label; blank between whole numbers.
pub(super) fn axis_count(v: f64) -> String {
    if (v - v.round()).abs() > 1e-9 {
        return String::new();
    }
    group_thousands(&format!("{}", v.round() as i64))
}

/// A "nice" upper bound (1, 2, 2.5, 5 × 10ᵏ) at least `v`, with room for labels above bars.
pub(super) fn nice_max(v: f64) -> f64 {
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

/// Label of an integer position on a category axis; blank between positions.
pub(super) fn index_label(labels: &[String], v: f64) -> String {
    let r = v.round();
    if (v - r).abs() > 1e-6 || r < 0.0 {
        return String::new();
    }
    labels.get(r as usize).cloned().unwrap_or_default()
}

/// A linear f64 axis with tick positions chosen here (months, dates, bar positions) instead
/// of plotters' round numbers. (plotters' own `with_key_points` has no default label format.)
#[derive(Debug, Clone)]
pub(super) struct Ticks {
    range: std::ops::Range<f64>,
    at: Vec<f64>,
}

impl Ticks {
    pub(super) fn new(range: std::ops::Range<f64>, at: Vec<f64>) -> Ticks {
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
pub(super) fn index_ticks_all(n: usize) -> Vec<f64> {
    (0..n).map(|i| i as f64).collect()
}

/// Tick positions 0, k, 2k, … for `n` categories, at most about 12 labels.
pub(super) fn index_ticks(n: usize) -> Vec<f64> {
    let step = n.div_ceil(12).max(1);
    (0..n).step_by(step).map(|i| i as f64).collect()
}

/// Tick positions (days after `first`) for `n` days: every day, every week, or month starts
/// every 1, 2, 3, 6 or 12 months, at most about 9–12 labels.
pub(super) fn date_ticks(first: NaiveDate, n: usize) -> Vec<f64> {
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

/// A tick label of a date axis whose x is days after `first`: `YYYY-MM-DD`, or `YYYY-MM` for
/// month starts when the axis spans many months (`long`). Blank between days.
pub(super) fn date_label(first: NaiveDate, v: f64, long: bool) -> String {
    if (v - v.round()).abs() > 1e-6 || v < 0.0 {
        return String::new();
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_max_is_at_least_the_value() {
        for v in [0.0001, 0.3, 1.0, 7.3, 123.0, 98765.0] {
            let m = nice_max(v);
            assert!(m >= v && m <= v * 1.6, "{v} → {m}");
        }
        assert_eq!(nice_max(0.0), 1.0);
    }
}
