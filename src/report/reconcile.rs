//! The `wabill reconcile` report: JSON (`--format json`) and a readable table.
//!
//! Every difference is listed once: a message with all its differing fields, a day × country ×
//! pricing type × category of an analytics response, or a problem in one of Meta's files. The
//! summary puts totals side by side; `difference` is always Meta's figure minus wabill's.

use rust_decimal::Decimal;
use serde::Serialize;

use crate::billing::reconcile::{AnalyticsReport, MessageReport, Problem};
use crate::io::text::terminal;
use crate::replay::ledger::rfc3339;

#[derive(Debug, Clone, Serialize)]
pub struct Count {
    pub wabill: u64,
    pub meta: u64,
    pub difference: i64,
}

impl Count {
    fn new(wabill: u64, meta: u64) -> Count {
        Count {
            wabill,
            meta,
            difference: meta as i64 - wabill as i64,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Amount {
    pub wabill: String,
    pub meta: String,
    pub difference: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CategoryLine {
    pub category: String,
    #[serde(flatten)]
    pub count: Count,
}

#[derive(Debug, Clone, Serialize)]
pub struct AnalyticsSummary {
    pub source: String,
    pub waba: String,
    pub timezone: String,
    /// First and last day covered, in the WABA's time zone.
    pub days: Option<[String; 2]>,
    pub compared: u64,
    pub volume: Count,
    pub cost: Amount,
    pub not_compared: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub messages: Count,
    pub delivered: Count,
    /// Billable units: per-message pricing messages plus conversation-based conversations.
    pub billable: Count,
    pub billable_by_category: Vec<CategoryLine>,
    pub analytics: Vec<AnalyticsSummary>,
}

#[derive(Debug, Clone, Serialize)]
pub struct JsonField {
    pub field: String,
    pub wabill: String,
    pub meta: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct JsonMessage {
    pub id: String,
    pub kind: String,
    pub timestamp: String,
    pub row: Option<u32>,
    pub line: Option<u64>,
    pub fields: Vec<JsonField>,
}

#[derive(Debug, Clone, Serialize)]
pub struct JsonAnalytics {
    pub source: String,
    pub waba: String,
    pub day: String,
    pub country: Option<String>,
    pub pricing_type: Option<String>,
    pub category: Option<String>,
    pub wabill_volume: u64,
    pub meta_volume: Option<u64>,
    pub wabill_cost: String,
    pub meta_cost: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct JsonProblem {
    pub source: String,
    pub line: Option<u64>,
    pub path: String,
    pub value: String,
    pub message: String,
}

/// The `--format json` object.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub currency: String,
    pub tolerance: String,
    /// Messages + analytics rows + problems: 0 means the two sides agree.
    pub differences: u64,
    pub summary: Summary,
    pub messages: Vec<JsonMessage>,
    pub analytics: Vec<JsonAnalytics>,
    pub problems: Vec<JsonProblem>,
    pub notes: Vec<String>,
}

/// Exact decimal text with at least 4 places (as `Money` prints), never rounded.
pub fn decimal(d: Decimal) -> String {
    let mut d = d.normalize();
    if d.scale() < 4 {
        d.rescale(4);
    }
    d.to_string()
}

impl Report {
    pub fn new(
        currency: &str,
        tolerance: Decimal,
        messages: &MessageReport,
        analytics: &[AnalyticsReport],
        problems: &[Problem],
    ) -> Report {
        let mut notes = Vec::new();
        if messages.without_id > 0 {
            notes.push(format!(
                "{} business message(s) of the log have no id and cannot be matched with Meta's webhooks",
                messages.without_id
            ));
        }
        notes.extend(messages.notes.iter().cloned());
        notes.extend(analytics.iter().flat_map(|a| a.notes.iter().cloned()));
        let json_messages: Vec<JsonMessage> = messages
            .diffs
            .iter()
            .map(|d| JsonMessage {
                id: d.id.clone(),
                kind: d.kind.id().into(),
                timestamp: rfc3339(d.ts),
                row: d.row,
                line: d.line,
                fields: d
                    .fields
                    .iter()
                    .map(|f| JsonField {
                        field: f.field.into(),
                        wabill: f.wabill.clone(),
                        meta: f.meta.clone(),
                    })
                    .collect(),
            })
            .collect();
        let json_analytics: Vec<JsonAnalytics> = analytics
            .iter()
            .flat_map(|a| {
                a.diffs.iter().map(move |r| JsonAnalytics {
                    source: a.kind.id().into(),
                    waba: a.waba.clone(),
                    day: r.day.to_string(),
                    country: r.country.map(|c| c.to_string()),
                    pricing_type: r.kind.map(|k| k.analytics_id()),
                    category: r.category.map(|c| c.id().to_ascii_uppercase()),
                    wabill_volume: r.wabill_volume,
                    meta_volume: r.meta_volume,
                    wabill_cost: decimal(r.wabill_cost),
                    meta_cost: r.meta_cost.map(decimal),
                })
            })
            .collect();
        let json_problems: Vec<JsonProblem> = problems
            .iter()
            .map(|p| JsonProblem {
                source: p.source.into(),
                line: p.line,
                path: p.path.clone(),
                value: p.value.clone(),
                message: p.message.clone(),
            })
            .collect();
        let summary = Summary {
            messages: Count::new(messages.wabill.messages, messages.meta.messages),
            delivered: Count::new(messages.wabill.delivered, messages.meta.delivered),
            billable: Count::new(messages.wabill.billable, messages.meta.billable),
            billable_by_category: messages
                .by_category
                .iter()
                .map(|c| CategoryLine {
                    category: c.category.id().into(),
                    count: Count::new(c.wabill, c.meta),
                })
                .collect(),
            analytics: analytics
                .iter()
                .map(|a| AnalyticsSummary {
                    source: a.kind.id().into(),
                    waba: a.waba.clone(),
                    timezone: a.timezone.clone(),
                    days: a.days.map(|(lo, hi)| [lo.to_string(), hi.to_string()]),
                    compared: a.compared,
                    volume: Count::new(a.wabill_volume, a.meta_volume),
                    cost: Amount {
                        wabill: decimal(a.wabill_cost),
                        meta: decimal(a.meta_cost),
                        difference: decimal(a.meta_cost - a.wabill_cost),
                    },
                    not_compared: a.outside,
                })
                .collect(),
        };
        Report {
            currency: currency.to_string(),
            tolerance: tolerance.normalize().to_string(),
            differences: (json_messages.len() + json_analytics.len() + json_problems.len()) as u64,
            summary,
            messages: json_messages,
            analytics: json_analytics,
            problems: json_problems,
            notes,
        }
    }

    /// The readable table.
    pub fn table(&self) -> String {
        let mut out = String::new();
        if !self.messages.is_empty() {
            out.push_str("messages that differ (wabill ≠ Meta)\n");
            let rows: Vec<Vec<String>> = self
                .messages
                .iter()
                .map(|m| {
                    vec![
                        m.id.clone(),
                        m.row.map(|r| r.to_string()).unwrap_or_default(),
                        m.line.map(|r| r.to_string()).unwrap_or_default(),
                        m.kind.clone(),
                        m.fields
                            .iter()
                            .map(|f| format!("{}: {} ≠ {}", f.field, f.wabill, f.meta))
                            .collect::<Vec<_>>()
                            .join("; "),
                    ]
                })
                .collect();
            out.push_str(&table(
                &["id", "row", "line", "kind", "what differs"],
                &rows,
                &[false, true, true, false, false],
            ));
            out.push('\n');
        }
        if !self.analytics.is_empty() {
            out.push_str("analytics that differ (days in the WABA's time zone)\n");
            let rows: Vec<Vec<String>> = self
                .analytics
                .iter()
                .map(|a| {
                    vec![
                        a.source.clone(),
                        a.waba.clone(),
                        a.day.clone(),
                        a.country.clone().unwrap_or_else(|| "*".into()),
                        a.pricing_type.clone().unwrap_or_else(|| "*".into()),
                        a.category.clone().unwrap_or_else(|| "*".into()),
                        a.wabill_volume.to_string(),
                        a.meta_volume
                            .map(|v| v.to_string())
                            .unwrap_or_else(|| "-".into()),
                        a.wabill_cost.clone(),
                        a.meta_cost.clone().unwrap_or_else(|| "-".into()),
                    ]
                })
                .collect();
            out.push_str(&table(
                &[
                    "source",
                    "waba",
                    "day",
                    "country",
                    "type",
                    "category",
                    "volume wabill",
                    "volume meta",
                    "cost wabill",
                    "cost meta",
                ],
                &rows,
                &[
                    false, false, false, false, false, false, true, true, true, true,
                ],
            ));
            out.push('\n');
        }
        if !self.problems.is_empty() {
            out.push_str("problems in Meta's files (not read)\n");
            let rows: Vec<Vec<String>> = self
                .problems
                .iter()
                .map(|p| {
                    vec![
                        p.source.clone(),
                        p.line.map(|l| l.to_string()).unwrap_or_default(),
                        p.path.clone(),
                        p.value.clone(),
                        p.message.clone(),
                    ]
                })
                .collect();
            out.push_str(&table(
                &["file", "line", "at", "value", "problem"],
                &rows,
                &[false, true, false, false, false],
            ));
            out.push('\n');
        }
        let s = &self.summary;
        let count = |name: &str, c: &Count| {
            vec![
                name.to_string(),
                c.wabill.to_string(),
                c.meta.to_string(),
                format!("{:+}", c.difference),
            ]
        };
        let mut rows = vec![
            count("business messages", &s.messages),
            count("delivered", &s.delivered),
            count("billable units", &s.billable),
        ];
        for c in &s.billable_by_category {
            rows.push(count(&format!("  {}", c.category), &c.count));
        }
        for a in &s.analytics {
            let days = a
                .days
                .as_ref()
                .map(|[lo, hi]| format!(" {lo}…{hi}"))
                .unwrap_or_default();
            rows.push(count(
                &format!("{} {}{days} volume", a.source, a.waba),
                &a.volume,
            ));
            rows.push(vec![
                format!("{} {}{days} cost {}", a.source, a.waba, self.currency),
                a.cost.wabill.clone(),
                a.cost.meta.clone(),
                a.cost.difference.clone(),
            ]);
        }
        out.push_str(&table(
            &["summary", "wabill", "meta", "difference"],
            &rows,
            &[false, true, true, true],
        ));
        for n in &self.notes {
            out.push_str(&format!("note: {}\n", terminal(n)));
        }
        out.push_str(&format!(
            "{} difference(s); costs compared within {} {}; difference = Meta − wabill; amounts exact\n",
            self.differences, self.tolerance, self.currency
        ));
        out
    }
}

/// A plain aligned text table: header, rule, rows; cells escaped for the terminal (ids and
/// values come from the log and Meta's files).
fn table(header: &[&str], rows: &[Vec<String>], right: &[bool]) -> String {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| terminal(c).into_owned()).collect())
        .collect();
    let mut w: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let fmt = |cells: &[&str]| -> String {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            let fill = " ".repeat(w[i] - c.chars().count());
            let last = i + 1 == cells.len();
            if right[i] {
                s.push_str(&fill);
                s.push_str(c);
            } else {
                s.push_str(c);
                if !last {
                    s.push_str(&fill);
                }
            }
            s.push_str(if last { "\n" } else { "  " });
        }
        s
    };
    let mut out = fmt(header);
    out.push_str(&"-".repeat(w.iter().sum::<usize>() + 2 * (w.len() - 1)));
    out.push('\n');
    for r in &rows {
        out.push_str(&fmt(&r.iter().map(String::as_str).collect::<Vec<_>>()));
    }
    out
}
