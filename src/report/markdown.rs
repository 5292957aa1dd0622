//! The Markdown summary (`summary.md`, for wikis and tickets): the headline figures, the month
//! and market tables, the charts as PNG links, the rate cards, rulebooks and provenance of the
//! HTML page ([`super::html`]), section by section. Every text from data is escaped.

use std::fmt::Write;

use super::format::count;
use super::html::{chart_caption, market_name, percent, period, Page, PROVENANCE};
use super::series::ReportData;

/// Escape text for a Markdown table cell or line.
fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '|' | '\\' | '*' | '_' | '`' | '[' | ']' | '<' | '>' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The Markdown summary: headline figures, month and market tables, the charts as PNG links,
/// cards, rulebooks and provenance.
pub fn markdown(p: &Page) -> String {
    let mut m = String::new();
    headline(&mut m, p);
    months(&mut m, p.data);
    markets(&mut m, p.data);
    charts(&mut m, p);
    provenance(&mut m, p);
    m
}

/// Title, period and the headline figures as a list.
fn headline(m: &mut String, p: &Page) {
    let (d, r) = (p.data, p.report);
    let _ = writeln!(m, "# WhatsApp billing report: {}\n", md(p.log_name));
    let _ = writeln!(
        m,
        "Period {} · rulebook: {} · amounts in {}, exact (no rounding) unless marked ≈.\n",
        md(&period(d)),
        md(&r.rulebook),
        md(&d.currency)
    );
    let _ = writeln!(m, "- **Total cost:** {} {}", md(&d.currency), d.totals.cost);
    let _ = writeln!(
        m,
        "- **Units:** {} ({} charged, {} free; free share ≈ {:.1} %)",
        count(d.totals.units()),
        count(d.totals.charged),
        count(d.totals.free),
        d.free_share_percent()
    );
    let _ = writeln!(
        m,
        "- **Messages:** {} rows; {} outbound ({} delivered), {} inbound, {} rejected; {} issue(s)\n",
        count(r.messages.rows),
        count(r.messages.outbound),
        count(r.messages.delivered),
        count(r.messages.inbound),
        count(r.messages.rejected),
        count(r.issues.len() as u64)
    );
}

/// The month table, with its total.
fn months(m: &mut String, d: &ReportData) {
    let _ = writeln!(
        m,
        "## Per month\n\n| month | charged | free | cost ({}) |\n|---|---:|---:|---:|",
        md(&d.currency)
    );
    for x in &d.months {
        let _ = writeln!(
            m,
            "| {} | {} | {} | {} |",
            md(&x.month),
            count(x.tally.charged),
            count(x.tally.free),
            x.tally.cost
        );
    }
    let _ = writeln!(
        m,
        "| **total** | {} | {} | {} |\n",
        count(d.totals.charged),
        count(d.totals.free),
        d.totals.cost
    );
}

/// The top markets, the rest as "others".
fn markets(m: &mut String, d: &ReportData) {
    let _ = writeln!(
        m,
        "## Markets\n\n| market | charged | free | cost ({}) | share |\n|---|---:|---:|---:|---:|",
        md(&d.currency)
    );
    for x in &d.markets {
        let _ = writeln!(
            m,
            "| {} | {} | {} | {} | ≈ {} |",
            md(&market_name(x)),
            count(x.tally.charged),
            count(x.tally.free),
            x.tally.cost,
            percent(x.tally.cost, d.totals.cost)
        );
    }
}

/// The charts as PNG links with their captions, or why there is no tier chart.
fn charts(m: &mut String, p: &Page) {
    let d = p.data;
    let _ = writeln!(m, "\n## Charts\n");
    for c in p.charts {
        let _ = writeln!(
            m,
            "![{}]({}/{}.png)\n\n{} ([SVG]({}/{}.svg))\n",
            md(&c.title),
            p.chart_dir,
            c.name,
            md(chart_caption(c)),
            p.chart_dir,
            c.name
        );
    }
    if d.tiers.is_empty() {
        let _ = writeln!(
            m,
            "No volume-tier chart: none of the markets and categories charged in this log has a \
             volume-tier table in the rate cards used, so every charged unit paid the list rate.\n"
        );
    }
}

/// Rate cards, rulebooks, the provenance note and where the other files are.
fn provenance(m: &mut String, p: &Page) {
    let d = p.data;
    let _ = writeln!(
        m,
        "## Rate cards and rulebooks\n\nRates directory: {}\n\n| currency | effective from | source |\n|---|---|---|",
        md(p.rates_label)
    );
    for c in &d.cards {
        let _ = writeln!(
            m,
            "| {} | {} | `{}` |",
            md(&c.currency),
            md(&c.effective),
            c.source.replace('`', "'")
        );
    }
    let _ = writeln!(m, "\n| rulebook | what it charges |\n|---|---|");
    for rb in &d.rulebooks {
        let _ = writeln!(m, "| {} | {} |", md(&rb.id), md(&rb.description));
    }
    let _ = writeln!(
        m,
        "\n{}\n\nThe full table of lines is in `breakdown.csv`; the numbers behind the charts in `data.json`.",
        md(PROVENANCE)
    );
}
