//! The HTML report page: a self-contained `index.html` (inline CSS, charts as inline SVG, no
//! script, no external URL of any kind), built section by section; [`super::markdown`] writes
//! the same figures as `summary.md` with the helpers shared here.
//!
//! Pure string building; [`super::site`] writes the files. Every text that comes from data (log
//! names, markets, labels, issue messages) is escaped. Nothing here reads the clock: the same
//! replay gives the same bytes.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::breakdown::JsonReport;
use super::charts::Chart;
use super::format::count;
use super::series::{MarketTotal, ReportData, OTHERS};
use crate::billing::money::Money;

/// What a page needs besides the numbers.
pub struct Page<'a> {
    /// The log's file name, as the reader knows it.
    pub log_name: &'a str,
    /// How to name the rates directory (e.g. `rates/ (shipped with wabill)`).
    pub rates_label: &'a str,
    /// The JSON breakdown (formats.md §4): lines, counts, issues, rulebook mode.
    pub report: &'a JsonReport,
    pub data: &'a ReportData,
    pub charts: &'a [Chart],
    /// Folder of the chart files, relative to the page.
    pub chart_dir: &'a str,
}

/// Escape text for HTML element content and quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub(super) fn percent(part: Money, whole: Money) -> String {
    if whole == Money::ZERO {
        return "–".into();
    }
    format!(
        "{:.1} %",
        part.to_f64_for_display() * 100.0 / whole.to_f64_for_display()
    )
}

/// Period of the log, from the daily series.
pub(super) fn period(d: &ReportData) -> String {
    match (d.days.first(), d.days.last()) {
        (Some(a), Some(b)) if a.date == b.date => a.date.to_string(),
        (Some(a), Some(b)) => format!("{} to {}", a.date, b.date),
        _ => "no billable units".into(),
    }
}

/// A market's name as listed: "others" names the markets it groups.
pub(super) fn market_name(m: &MarketTotal) -> String {
    if m.market == OTHERS {
        format!("{} ({})", OTHERS, m.grouped.join(", "))
    } else {
        m.market.clone()
    }
}

fn issue_counts(r: &JsonReport) -> Vec<(String, String, usize)> {
    let mut m: BTreeMap<(String, String), usize> = BTreeMap::new();
    for i in &r.issues {
        *m.entry((i.code.clone(), i.rule.clone())).or_default() += 1;
    }
    m.into_iter().map(|((c, r), n)| (c, r, n)).collect()
}

pub(super) fn chart_caption(c: &Chart) -> &'static str {
    if c.name == "monthly-cost" {
        "Cost per WABA-local month, stacked by billed category. Free units cost nothing and do not appear here; see the market chart and the table of lines."
    } else if c.name == "market-cost" {
        "Left: cost per market. Right: units per market, charged and free (CONV-5: conversations under the conversation-based rulebooks, delivered messages under per-message pricing)."
    } else if c.name == "daily-spend" {
        "Spend per WABA-local day (a conversation counts on the day it opened). Dashed lines mark rate-card and rulebook switches inside the period."
    } else if c.name.starts_with("tier-progress-") {
        "PMP-4: charged utility and authentication units counted per market and month against the volume-tier thresholds of the rate card in force (the next threshold is shown even if not reached)."
    } else {
        ""
    }
}

const CSS: &str = "
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, 'Segoe UI', 'DejaVu Sans', sans-serif; color: #222; margin: 0; background: #f6f7f9; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 32px 48px; background: #fff; }
h1 { font-size: 1.8rem; margin: 0.2em 0 0.1em; }
h2 { font-size: 1.3rem; margin-top: 2em; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
p.sub { color: #555; margin-top: 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(200px, 1fr)); gap: 12px; margin: 20px 0; }
.card { border: 1px solid #dde; border-radius: 8px; padding: 12px 16px; background: #fbfcfe; }
.card .k { color: #555; font-size: 0.85rem; }
.card .v { font-size: 1.5rem; font-weight: 600; margin-top: 4px; }
.card .n { color: #666; font-size: 0.8rem; margin-top: 2px; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 0.9rem; }
th, td { padding: 4px 10px; border-bottom: 1px solid #e4e4e4; text-align: left; vertical-align: top; }
th { background: #f0f2f5; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.total td { font-weight: 600; border-top: 2px solid #bbb; }
tr.subtotal td { font-style: italic; border-top: 1px solid #ddd; }
figure { margin: 16px 0 28px; }
figure svg { width: 100%; height: auto; border: 1px solid #e4e4e4; }
figcaption { color: #444; font-size: 0.9rem; margin-top: 4px; }
code { background: #f0f2f5; padding: 0 4px; border-radius: 3px; }
.note { background: #fff8e6; border-left: 4px solid #e6a700; padding: 8px 12px; }
footer { color: #777; font-size: 0.8rem; margin-top: 32px; }
@media print { body { background: #fff; } main { padding: 0; } }
";

/// The self-contained HTML page.
pub fn html(p: &Page) -> String {
    let mut h = String::new();
    head(&mut h, p);
    cards(&mut h, p);
    months(&mut h, p.data);
    markets(&mut h, p.data);
    charts(&mut h, p);
    tiers(&mut h, p.data);
    breakdown(&mut h, p);
    issues(&mut h, p.report);
    provenance(&mut h, p);
    h
}

/// The document head, the title and the line under it.
fn head(h: &mut String, p: &Page) {
    let (d, r) = (p.data, p.report);
    let cur = escape(&d.currency);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>WhatsApp billing report: {}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n",
        escape(p.log_name)
    );
    let _ = writeln!(
        h,
        "<h1>WhatsApp billing report</h1>\n<p class=\"sub\">Log <code>{}</code> · {} · \
         rulebook: {} · amounts in {cur}, exact (no rounding) unless marked ≈</p>",
        escape(p.log_name),
        escape(&period(d)),
        escape(&r.rulebook),
    );
}

/// Headline figures, one card each.
fn cards(h: &mut String, p: &Page) {
    let (d, r) = (p.data, p.report);
    let top = d.markets.first();
    let _ = writeln!(h, "<section class=\"cards\">");
    let card = |h: &mut String, k: &str, v: &str, n: &str| {
        let _ = writeln!(
            h,
            "<div class=\"card\"><div class=\"k\">{}</div><div class=\"v\">{}</div><div class=\"n\">{}</div></div>",
            escape(k),
            escape(v),
            escape(n)
        );
    };
    card(
        h,
        "Total cost",
        &format!("{} {}", d.currency, d.totals.cost),
        &format!("{} month(s)", d.months.len()),
    );
    card(
        h,
        "Units",
        &count(d.totals.units()),
        &format!(
            "{} charged, {} free",
            count(d.totals.charged),
            count(d.totals.free)
        ),
    );
    card(
        h,
        "Share of free units",
        &format!("≈ {:.1} %", d.free_share_percent()),
        "free units / all units",
    );
    card(
        h,
        "Top market",
        top.map(|m| m.market.as_str()).unwrap_or("–"),
        &top.map(|m| {
            format!(
                "{} {} ({} of the cost)",
                d.currency,
                m.tally.cost,
                percent(m.tally.cost, d.totals.cost)
            )
        })
        .unwrap_or_default(),
    );
    card(
        h,
        "Messages",
        &count(r.messages.rows),
        &format!(
            "{} outbound ({} delivered), {} inbound, {} rejected",
            count(r.messages.outbound),
            count(r.messages.delivered),
            count(r.messages.inbound),
            count(r.messages.rejected)
        ),
    );
    card(
        h,
        "Issues",
        &count(r.issues.len() as u64),
        if r.issues.is_empty() {
            "no row flagged by the rules"
        } else {
            "rows the rules flagged (see Issues below)"
        },
    );
    let _ = writeln!(h, "</section>");
}

/// The month table, with its total.
fn months(h: &mut String, d: &ReportData) {
    let cur = escape(&d.currency);
    let _ = writeln!(
        h,
        "<h2>Per month</h2>\n<table>\n<tr><th>month</th><th class=\"num\">charged</th>\
         <th class=\"num\">free</th><th class=\"num\">cost ({cur})</th><th class=\"num\">share</th></tr>"
    );
    for m in &d.months {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">≈ {}</td></tr>",
            escape(&m.month),
            count(m.tally.charged),
            count(m.tally.free),
            m.tally.cost,
            percent(m.tally.cost, d.totals.cost)
        );
    }
    let _ = writeln!(
        h,
        "<tr class=\"total\"><td>total</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td></td></tr>\n</table>",
        count(d.totals.charged),
        count(d.totals.free),
        d.totals.cost
    );
}

/// The top markets, the rest as "others".
fn markets(h: &mut String, d: &ReportData) {
    let cur = escape(&d.currency);
    let _ = writeln!(
        h,
        "<h2>Markets</h2>\n<table>\n<tr><th>market</th><th class=\"num\">charged</th>\
         <th class=\"num\">free</th><th class=\"num\">cost ({cur})</th><th class=\"num\">share</th></tr>"
    );
    for m in &d.markets {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">≈ {}</td></tr>",
            escape(&market_name(m)),
            count(m.tally.charged),
            count(m.tally.free),
            m.tally.cost,
            percent(m.tally.cost, d.totals.cost)
        );
    }
    let _ = writeln!(h, "</table>");
}

/// Every chart inline, with its caption and links to its files.
fn charts(h: &mut String, p: &Page) {
    let _ = writeln!(h, "<h2>Charts</h2>");
    for c in p.charts {
        let file = format!("{}/{}", p.chart_dir, c.name);
        let _ = writeln!(
            h,
            "<figure id=\"{}\">\n{}\n<figcaption>{} Files: <a href=\"{}.svg\">SVG</a>, <a href=\"{}.png\">PNG</a>.</figcaption>\n</figure>",
            escape(&c.name),
            inline_svg(&c.svg, &c.title),
            escape(chart_caption(c)),
            escape(&file),
            escape(&file)
        );
    }
}

/// PMP-4 counters against the tier tables, or why there is no tier chart.
fn tiers(h: &mut String, d: &ReportData) {
    if d.tiers.is_empty() {
        let _ = writeln!(
            h,
            "<p class=\"note\">No volume-tier chart: none of the markets and categories charged in \
             this log has a volume-tier table in the rate cards used (PMP-4 applies only where a \
             card has one), so every charged unit paid the list rate.</p>"
        );
        return;
    }
    let _ = writeln!(
        h,
        "<h2>Volume tiers (PMP-4)</h2>\n<table>\n<tr><th>month</th><th>market</th><th>category</th>\
         <th class=\"num\">charged units</th><th class=\"num\">tier reached</th><th>next threshold</th><th>tier table</th></tr>"
    );
    for t in &d.tiers {
        let next = t
            .thresholds
            .iter()
            .find(|th| th.from > t.count())
            .map(|th| {
                format!(
                    "tier {} from message {} at {} {}",
                    th.tier,
                    count(th.from),
                    th.rate,
                    d.currency
                )
            })
            .unwrap_or_else(|| "last tier reached".into());
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td><code>{}</code></td></tr>",
            escape(&t.month),
            escape(&t.market),
            escape(&t.category),
            count(t.count()),
            if t.reached() == 0 { "list rate".to_string() } else { t.reached().to_string() },
            escape(&next),
            escape(&t.card)
        );
    }
    let _ = writeln!(h, "</table>");
}

/// The breakdown's lines, as in `breakdown.csv`.
fn breakdown(h: &mut String, p: &Page) {
    let (d, r) = (p.data, p.report);
    let cur = escape(&d.currency);
    let _ = writeln!(
        h,
        "<h2>Breakdown</h2>\n<p>One line per month (WABA time zone), WABA, market, billed \
         category and rulebook, as in <code>breakdown.csv</code> and <code>wabill replay --format json</code>.</p>\n\
         <table>\n<tr><th>month</th><th>waba</th><th>market</th><th>category</th><th>rulebook</th>\
         <th class=\"num\">charged</th><th class=\"num\">free</th><th class=\"num\">cost ({cur})</th></tr>"
    );
    for (i, l) in r.lines.iter().enumerate() {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            escape(&l.month),
            escape(&l.waba),
            escape(&l.market),
            escape(&l.category),
            escape(&l.rulebook),
            count(l.charged),
            count(l.free),
            match l.unpriced {
                0 => escape(&l.cost),
                n => format!("{} + {} unpriced", escape(&l.cost), count(n)),
            }
        );
        // A subtotal after each month's lines (the lines are sorted by month), from the month's
        // exact tally, as the table on stdout has.
        let last_of_month = r.lines.get(i + 1).is_none_or(|n| n.month != l.month);
        if let (true, Some(m)) = (last_of_month, d.months.iter().find(|m| m.month == l.month)) {
            let _ = writeln!(
                h,
                "<tr class=\"subtotal\"><td>{}</td><td colspan=\"4\">month total</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                escape(&l.month),
                count(m.tally.charged),
                count(m.tally.free),
                m.tally.cost
            );
        }
    }
    let _ = writeln!(
        h,
        "<tr class=\"total\"><td colspan=\"5\">total</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>\n</table>",
        count(d.totals.charged),
        count(d.totals.free),
        escape(&r.total)
    );
    // MBA-1: what the total leaves out, said where the total is.
    let unpriced: u64 = r.lines.iter().map(|l| l.unpriced).sum();
    if unpriced > 0 {
        let _ = writeln!(
            h,
            "<p>The total excludes {} unpriced unit(s): Meta charges them, the log does not say how much (MBA-1: Meta Business Agent messages without tokens).</p>",
            count(unpriced)
        );
    }
}

/// Issues by code and rule, each with its first row.
fn issues(h: &mut String, r: &JsonReport) {
    let issues = issue_counts(r);
    if !issues.is_empty() {
        let _ = writeln!(
            h,
            "<h2>Issues</h2>\n<table>\n<tr><th>issue</th><th>rule</th><th class=\"num\">rows</th><th>first row</th></tr>"
        );
        for (code, rule, n) in &issues {
            let first = r.issues.iter().find(|i| &i.code == code).expect("counted");
            // The rule's one-line meaning beside its id (`wabill explain ID` for the whole).
            let named = match crate::report::rules::title(rule) {
                Some(t) if !t.is_empty() => format!("{rule} — {t}"),
                _ => rule.clone(),
            };
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td>row {}: {}</td></tr>",
                escape(code),
                escape(&named),
                count(*n as u64),
                first.row,
                escape(&first.message)
            );
        }
        let _ = writeln!(h, "</table>");
    }
}

/// Rate cards and rulebooks used, the provenance note and the footer.
fn provenance(h: &mut String, p: &Page) {
    let d = p.data;
    let _ = writeln!(
        h,
        "<h2>Rate cards and rulebooks</h2>\n<p>Rate cards in force for the messages of this log. \
         Rates directory: {}.</p>\n<table>\n<tr><th>currency</th><th>effective from</th><th>source</th></tr>",
        escape(p.rates_label)
    );
    for c in &d.cards {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
            escape(&c.currency),
            escape(&c.effective),
            escape(&c.source)
        );
    }
    let _ = writeln!(
        h,
        "</table>\n<table>\n<tr><th>rulebook</th><th>what it charges</th></tr>"
    );
    for rb in &d.rulebooks {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td></tr>",
            escape(&rb.id),
            escape(&rb.description)
        );
    }
    let _ = writeln!(h, "</table>");
    let _ = writeln!(h, "<p class=\"note\">{}</p>", escape(PROVENANCE));
    let _ = writeln!(
        h,
        "<footer>Made by wabill {} from the log above; the same log, accounts and rates give the same report. \
         Files: <a href=\"summary.md\">summary.md</a>, <a href=\"breakdown.csv\">breakdown.csv</a>, \
         <a href=\"data.json\">data.json</a> (the numbers behind the charts).</footer>\n</main>\n</body>\n</html>",
        env!("CARGO_PKG_VERSION")
    );
}

/// The provenance note shared by both pages.
pub const PROVENANCE: &str = "Rates come from the rates directory (rates/): one folder per \
currency and effective date, each card naming its sources. Where every figure comes from, and how \
much to trust it, is documented in rates/reference/PROVENANCE.md. A rate that no source gives is \
unknown, never zero: a replay that needs one stops instead of guessing.";

/// Put a chart's SVG inline, labelled for screen readers.
fn inline_svg(svg: &str, title: &str) -> String {
    let body = svg.trim_start();
    let body = body
        .strip_prefix("<?xml")
        .and_then(|rest| rest.split_once("?>").map(|(_, b)| b.trim_start()))
        .unwrap_or(body);
    match body.strip_prefix("<svg") {
        Some(rest) => format!(
            "<svg role=\"img\" aria-label=\"{}\"{}",
            escape(title),
            rest.trim_end()
        ),
        None => body.trim_end().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_markup_and_quotes() {
        assert_eq!(
            escape(r#"<a href="x">Rest of Central & Eastern Europe</a>'"#),
            "&lt;a href=&quot;x&quot;&gt;Rest of Central &amp; Eastern Europe&lt;/a&gt;&#39;"
        );
    }

    #[test]
    fn inline_svg_drops_the_xml_declaration_and_labels_the_image() {
        let s = inline_svg(
            "<?xml version=\"1.0\"?>\n<svg width=\"1\"></svg>\n",
            "A & B",
        );
        assert_eq!(
            s,
            "<svg role=\"img\" aria-label=\"A &amp; B\" width=\"1\"></svg>"
        );
    }
}
