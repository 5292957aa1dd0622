//! The `compare` report: one row per variant (traffic × setting × rulebook) with the bill, the
//! bill per month, per support contact and per resolved issue, units by category, and the
//! difference against the first variant. Table, JSON and CSV.
//!
//! Money is exact except the quotients (per month, per contact, per resolved issue), which are
//! rounded once, half to even, to 6 decimal places, and the percentages (2 places): see
//! [`crate::billing::money::ROUNDING`].

use serde::Serialize;

use crate::billing::engine::Line;
use crate::billing::money::{Money, ROUNDING};
use crate::billing::provider::ProviderBill;
use crate::report::breakdown::{JsonProvider, MessageCounts};
use crate::report::table::{csv_field, Table};

/// Billed categories in display order.
pub const CATEGORIES: [&str; 14] = [
    "marketing",
    "utility",
    "authentication",
    "authentication_international",
    "service",
    "business_initiated",
    "user_initiated",
    "free_entry_point",
    "group_marketing",
    "group_utility",
    "group_service",
    "meta_business_agent",
    "general_purpose_ai",
    "call",
];

/// Units and cost of one billed category.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CategoryTotal {
    pub category: &'static str,
    pub charged: u64,
    pub free: u64,
    pub cost: Money,
}

/// One priced variant.
#[derive(Debug, Clone)]
pub struct Variant {
    /// The scenario or log file name.
    pub traffic: String,
    /// `scenario` or `log`.
    pub kind: &'static str,
    /// `--vary` settings applied, as (key, value).
    pub setting: Vec<(String, String)>,
    /// `auto` or the forced rulebook.
    pub rulebook: String,
    pub messages: MessageCounts,
    /// Support contacts and resolved contacts (generated traffic only).
    pub contacts: Option<u64>,
    pub resolved: Option<u64>,
    /// Calendar months the figures span (scenario: the period; log: first to last message).
    pub months: u64,
    /// Meta's charges per month.
    pub by_month: Vec<(String, Money)>,
    pub categories: Vec<CategoryTotal>,
    pub issues: usize,
    pub meta_total: Money,
    pub provider: Option<ProviderBill>,
}

impl Variant {
    /// Meta's charges plus the provider's fees.
    pub fn total(&self) -> Money {
        self.meta_total + self.provider.as_ref().map_or(Money::ZERO, |p| p.total)
    }
    pub fn per_month(&self) -> Option<Money> {
        self.total().per(self.months)
    }
    pub fn per_contact(&self) -> Option<Money> {
        self.contacts.and_then(|c| self.total().per(c))
    }
    pub fn per_resolved(&self) -> Option<Money> {
        self.resolved.and_then(|c| self.total().per(c))
    }
    pub fn setting_label(&self) -> String {
        self.setting
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Category totals of a replay's lines, in [`CATEGORIES`] order (absent categories left out).
pub fn category_totals(lines: &[Line]) -> Vec<CategoryTotal> {
    CATEGORIES
        .iter()
        .filter_map(|&c| {
            let mut t = CategoryTotal {
                category: c,
                ..Default::default()
            };
            let mut any = false;
            for l in lines.iter().filter(|l| l.category == c) {
                any = true;
                t.charged += l.charged;
                t.free += l.free;
                t.cost += l.cost;
            }
            any.then_some(t)
        })
        .collect()
}

/// Meta's charges by month label.
pub fn month_totals(lines: &[Line]) -> Vec<(String, Money)> {
    let mut out: Vec<(String, Money)> = Vec::new();
    for l in lines {
        match out.iter_mut().find(|(m, _)| *m == l.month) {
            Some((_, c)) => *c += l.cost,
            None => out.push((l.month.clone(), l.cost)),
        }
    }
    out.sort();
    out
}

fn money(m: Option<Money>) -> String {
    m.map_or_else(|| "—".to_string(), |m| m.to_decimal_string())
}

/// A rounded quotient, with all its 6 decimals.
fn quotient(m: Option<Money>) -> String {
    m.map_or_else(|| "—".to_string(), |m| m.to_string_6dp())
}

fn diff(v: &Variant, first: &Variant) -> (Money, Option<rust_decimal::Decimal>) {
    let d = v.total().minus(first.total());
    (d, d.percent_of(first.total()))
}

fn signed(m: Money) -> String {
    if m.0 > 0 {
        format!("+{m}")
    } else {
        m.to_string()
    }
}

fn signed_pct(p: Option<rust_decimal::Decimal>) -> String {
    match p {
        None => "n/a".into(),
        Some(p) if p.is_sign_positive() && !p.is_zero() => format!("+{p:.2}%"),
        Some(p) => format!("{p:.2}%"),
    }
}

/// Meta's cost per category of each variant (exact, in the currency), the categories that cost
/// something, and their sum: what makes a variant dearer than another.
fn cost_table(variants: &[Variant], cats: &[&str], currency: &str) -> String {
    let priced: Vec<&str> = cats
        .iter()
        .copied()
        .filter(|c| {
            variants.iter().any(|v| {
                v.categories
                    .iter()
                    .any(|t| t.category == *c && t.cost != Money::ZERO)
            })
        })
        .collect();
    let heads: Vec<String> = priced.iter().map(|c| format!("{c} {currency}")).collect();
    let mut cols: Vec<(&str, bool)> = vec![("#", true)];
    cols.extend(heads.iter().map(|h| (h.as_str(), true)));
    let meta = format!("Meta {currency}");
    cols.push((&meta, true));
    let mut t = Table::new(&cols);
    for (i, v) in variants.iter().enumerate() {
        let mut r = vec![(i + 1).to_string()];
        for c in &priced {
            r.push(
                v.categories
                    .iter()
                    .find(|t| t.category == *c)
                    .map_or(Money::ZERO, |t| t.cost)
                    .to_string(),
            );
        }
        r.push(v.meta_total.to_string());
        t.row(r);
    }
    let mut out = t.render();
    out.push_str("cost by category: Meta's charges, exact\n");
    out
}

/// The readable table: costs, then units by category.
pub fn table(variants: &[Variant], currency: &str) -> String {
    let has_provider = variants.iter().any(|v| v.provider.is_some());
    let has_setting = variants.iter().any(|v| !v.setting.is_empty());
    let has_contacts = variants.iter().any(|v| v.contacts.is_some());
    let meta = format!("Meta {currency}");
    let total_h = format!("total {currency}");
    let mut cols: Vec<(&str, bool)> = vec![("#", true), ("traffic", false)];
    if has_setting {
        cols.push(("setting", false));
    }
    cols.push(("rulebook", false));
    if has_provider {
        cols.push((&meta, true));
        cols.push(("provider", true));
    }
    cols.extend([(total_h.as_str(), true), ("per month", true)]);
    if has_contacts {
        cols.extend([("per contact", true), ("per resolved", true)]);
    }
    cols.extend([("vs #1", true), ("vs #1 %", true)]);
    let mut t = Table::new(&cols);
    for (i, v) in variants.iter().enumerate() {
        let mut r = vec![(i + 1).to_string(), v.traffic.clone()];
        if has_setting {
            r.push(v.setting_label());
        }
        r.push(v.rulebook.clone());
        if has_provider {
            r.push(v.meta_total.to_string());
            r.push(money(v.provider.as_ref().map(|p| p.total)));
        }
        r.push(v.total().to_string());
        r.push(quotient(v.per_month()));
        if has_contacts {
            r.push(quotient(v.per_contact()));
            r.push(quotient(v.per_resolved()));
        }
        if i == 0 {
            r.extend(["—".to_string(), "—".to_string()]);
        } else {
            let (d, p) = diff(v, &variants[0]);
            r.extend([signed(d), signed_pct(p)]);
        }
        t.row(r);
    }
    let mut out = t.render();
    out.push('\n');

    // Units by category: charged/free.
    let cats: Vec<&str> = CATEGORIES
        .iter()
        .copied()
        .filter(|c| {
            variants
                .iter()
                .any(|v| v.categories.iter().any(|t| t.category == *c))
        })
        .collect();
    let mut cols: Vec<(&str, bool)> = vec![("#", true), ("rows", true)];
    if has_contacts {
        cols.extend([("contacts", true), ("resolved", true)]);
    }
    cols.push(("months", true));
    cols.extend(cats.iter().map(|c| (*c, true)));
    cols.push(("issues", true));
    let mut t = Table::new(&cols);
    for (i, v) in variants.iter().enumerate() {
        let mut r = vec![(i + 1).to_string(), v.messages.rows.to_string()];
        if has_contacts {
            r.push(v.contacts.map_or("—".into(), |c| c.to_string()));
            r.push(v.resolved.map_or("—".into(), |c| c.to_string()));
        }
        r.push(v.months.to_string());
        for c in &cats {
            r.push(
                v.categories
                    .iter()
                    .find(|t| t.category == *c)
                    .map_or("0/0".into(), |t| format!("{}/{}", t.charged, t.free)),
            );
        }
        r.push(v.issues.to_string());
        t.row(r);
    }
    out.push_str(&t.render());
    out.push_str(
        "units by category: charged/free (CBP: conversations; PMP: delivered messages)\n\n",
    );
    out.push_str(&cost_table(variants, &cats, currency));
    if has_provider {
        out.push_str("total = Meta's charges + the provider's fees\n");
    }
    out.push_str(&format!(
        "per month = total ÷ calendar months{}; {ROUNDING}; everything else exact\n",
        if has_contacts {
            "; per contact / per resolved = total ÷ support contacts / contacts resolved (first contact or follow-ups)"
        } else {
            ""
        }
    ));
    out
}

#[derive(Serialize)]
struct JsonCategory {
    category: &'static str,
    charged: u64,
    free: u64,
    cost: String,
}

#[derive(Serialize)]
struct JsonMonth {
    month: String,
    cost: String,
}

#[derive(Serialize)]
struct JsonDiff {
    amount: String,
    /// `null` when the first variant costs nothing.
    percent: Option<String>,
}

#[derive(Serialize)]
struct JsonVariant {
    index: usize,
    traffic: String,
    kind: &'static str,
    setting: std::collections::BTreeMap<String, String>,
    rulebook: String,
    messages: MessageCounts,
    contacts: Option<u64>,
    resolved: Option<u64>,
    months: u64,
    issues: usize,
    /// Meta's charges.
    meta_total: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    provider: Option<JsonProvider>,
    /// Meta + provider.
    total: String,
    per_month: Option<String>,
    per_contact: Option<String>,
    per_resolved: Option<String>,
    vs_first: JsonDiff,
    categories: Vec<JsonCategory>,
    /// Meta's charges by month.
    by_month: Vec<JsonMonth>,
}

#[derive(Serialize)]
struct JsonCompare<'a> {
    currency: &'a str,
    seed: u64,
    rounding: &'static str,
    variants: Vec<JsonVariant>,
}

/// `--format json`: one object.
pub fn json(variants: &[Variant], currency: &str, seed: u64) -> String {
    let first = &variants[0];
    let vs: Vec<JsonVariant> = variants
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let (d, p) = diff(v, first);
            JsonVariant {
                index: i + 1,
                traffic: v.traffic.clone(),
                kind: v.kind,
                setting: v.setting.iter().cloned().collect(),
                rulebook: v.rulebook.clone(),
                messages: v.messages.clone(),
                contacts: v.contacts,
                resolved: v.resolved,
                months: v.months,
                issues: v.issues,
                meta_total: v.meta_total.to_string(),
                provider: v.provider.as_ref().map(JsonProvider::of),
                total: v.total().to_string(),
                per_month: v.per_month().map(Money::to_string_6dp),
                per_contact: v.per_contact().map(Money::to_string_6dp),
                per_resolved: v.per_resolved().map(Money::to_string_6dp),
                vs_first: JsonDiff {
                    amount: d.to_string(),
                    percent: p.map(|p| format!("{p:.2}")),
                },
                categories: v
                    .categories
                    .iter()
                    .map(|c| JsonCategory {
                        category: c.category,
                        charged: c.charged,
                        free: c.free,
                        cost: c.cost.to_string(),
                    })
                    .collect(),
                by_month: v
                    .by_month
                    .iter()
                    .map(|(m, c)| JsonMonth {
                        month: m.clone(),
                        cost: c.to_string(),
                    })
                    .collect(),
            }
        })
        .collect();
    let mut s = serde_json::to_string_pretty(&JsonCompare {
        currency,
        seed,
        rounding: ROUNDING,
        variants: vs,
    })
    .expect("serializable");
    s.push('\n');
    s
}

/// `--format csv`: one row per variant; per category `<category>_charged`, `_free`, `_cost`.
pub fn csv(variants: &[Variant]) -> String {
    let cats: Vec<&str> = CATEGORIES
        .iter()
        .copied()
        .filter(|c| {
            variants
                .iter()
                .any(|v| v.categories.iter().any(|t| t.category == *c))
        })
        .collect();
    let mut header: Vec<String> = [
        "index",
        "traffic",
        "setting",
        "rulebook",
        "rows",
        "contacts",
        "resolved",
        "months",
        "issues",
        "meta_total",
        "provider_total",
        "total",
        "per_month",
        "per_contact",
        "per_resolved",
        "vs_first",
        "vs_first_percent",
    ]
    .map(String::from)
    .to_vec();
    for c in &cats {
        for f in ["charged", "free", "cost"] {
            header.push(format!("{c}_{f}"));
        }
    }
    let mut out = header.join(",");
    out.push('\n');
    let opt = |m: Option<Money>| m.map_or(String::new(), |m| m.to_string());
    let q = |m: Option<Money>| m.map_or(String::new(), Money::to_string_6dp);
    for (i, v) in variants.iter().enumerate() {
        let (d, p) = diff(v, &variants[0]);
        let mut r = vec![
            (i + 1).to_string(),
            v.traffic.clone(),
            v.setting_label(),
            v.rulebook.clone(),
            v.messages.rows.to_string(),
            v.contacts.map_or(String::new(), |c| c.to_string()),
            v.resolved.map_or(String::new(), |c| c.to_string()),
            v.months.to_string(),
            v.issues.to_string(),
            v.meta_total.to_string(),
            opt(v.provider.as_ref().map(|p| p.total)),
            v.total().to_string(),
            q(v.per_month()),
            q(v.per_contact()),
            q(v.per_resolved()),
            d.to_string(),
            p.map_or(String::new(), |p| format!("{p:.2}")),
        ];
        for c in &cats {
            let t = v
                .categories
                .iter()
                .find(|t| t.category == *c)
                .cloned()
                .unwrap_or_default();
            r.extend([
                t.charged.to_string(),
                t.free.to_string(),
                t.cost.to_string(),
            ]);
        }
        // Every cell formula-safe (numbers stay as they are).
        out.push_str(&r.iter().map(|c| csv_field(c)).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    out
}

/// `compare --report DIR`: an HTML page with the table and the charts of the variants (cost per
/// variant by category, cost per contact, and, for a sweep of one numeric key, the cost per
/// resolved issue along it), written with the charts as SVG and PNG. Returns the files.
pub fn write_report(
    dir: &std::path::Path,
    variants: &[Variant],
    currency: &str,
) -> anyhow::Result<Vec<std::path::PathBuf>> {
    use crate::report::charts;
    use crate::report::html::escape;
    let label = |i: usize, v: &Variant| {
        let s = v.setting_label();
        format!(
            "#{} {}",
            i + 1,
            if s.is_empty() { v.traffic.clone() } else { s }
        )
    };
    let bars: Vec<(String, Vec<(String, Money)>)> = variants
        .iter()
        .enumerate()
        .map(|(i, v)| {
            (
                label(i, v),
                v.categories
                    .iter()
                    .filter(|c| c.cost != Money::ZERO)
                    .map(|c| (c.category.to_string(), c.cost))
                    .collect(),
            )
        })
        .collect();
    let note = format!(
        "{} variant(s), amounts in {currency} · wabill compare",
        variants.len()
    );
    let mut figures = vec![charts::with_note(&note, || {
        charts::variant_bars(currency, &bars)
    })?];
    // A sweep of one key whose values are numbers: cost per resolved issue along it.
    let keys: std::collections::BTreeSet<&str> = variants
        .iter()
        .flat_map(|v| v.setting.iter().map(|(k, _)| k.as_str()))
        .collect();
    if keys.len() == 1 {
        let key = *keys.iter().next().expect("one key");
        let points: Vec<(f64, Money)> = variants
            .iter()
            .filter_map(|v| {
                let x: f64 = v.setting.first()?.1.parse().ok()?;
                Some((x, v.per_resolved()?))
            })
            .collect();
        if points.len() >= 2 {
            figures.push(charts::with_note(&note, || {
                charts::sweep_line(currency, key, &points)
            })?);
        }
    }
    std::fs::create_dir_all(dir)?;
    let mut files = Vec::new();
    let mut page = format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>wabill compare</title></head><body>\n\
         <h1>Comparison of {} variant(s)</h1>\n<p>Amounts in {}, exact; the same traffic and seed for every variant of a scenario.</p>\n<pre>{}</pre>\n",
        variants.len(),
        escape(currency),
        escape(&table(variants, currency))
    );
    for c in &figures {
        for (ext, bytes) in [("svg", c.svg.as_bytes()), ("png", c.png.as_slice())] {
            let p = dir.join(format!("{}.{ext}", c.name));
            crate::io::output::write_atomic(&p, bytes)?;
            files.push(p);
        }
        page.push_str(&format!(
            "<figure><img src=\"{}.svg\" alt=\"{}\"><figcaption>{}</figcaption></figure>\n",
            escape(&c.name),
            escape(&c.title),
            escape(&c.title)
        ));
    }
    page.push_str("</body></html>\n");
    let index = dir.join("index.html");
    crate::io::output::write_atomic(&index, page.as_bytes())?;
    files.push(index);
    Ok(files)
}
