//! The replay breakdown in the formats of formats.md §4: JSON (the contract), CSV and a table.

use serde::Serialize;

use crate::billing::engine::Line;
use crate::billing::money::{Money, Overflow, MARKUP_ROUNDING};
use crate::billing::provider::ProviderBill;
use crate::billing::types::Rulebook;
use crate::io::text::{csv_field, terminal};
use crate::replay::Summary;

pub use crate::replay::MessageCounts;

#[derive(Debug, Clone, Serialize)]
pub struct JsonLine {
    pub month: String,
    pub waba: String,
    pub market: String,
    pub category: String,
    pub rulebook: String,
    pub charged: u64,
    pub free: u64,
    /// Units Meta charges that the log cannot price (MBA-1 without tokens): not in `cost`.
    #[serde(skip_serializing_if = "is_zero")]
    pub unpriced: u64,
    pub cost: String,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Debug, Clone, Serialize)]
pub struct JsonIssue {
    pub code: String,
    pub rule: String,
    pub row: u64,
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct JsonCard {
    pub currency: String,
    pub effective: String,
    pub source: String,
}

/// The `--format json` object. Field order is the contract's.
#[derive(Debug, Clone, Serialize)]
pub struct JsonReport {
    pub currency: String,
    pub total: String,
    pub messages: MessageCounts,
    pub lines: Vec<JsonLine>,
    pub issues: Vec<JsonIssue>,
    /// `auto` or the forced rulebook.
    pub rulebook: String,
    /// The rate cards the replay could use (provenance for readers of the numbers).
    pub rate_cards: Vec<JsonCard>,
    /// The provider's fees, when the accounts file has a `[provider]` section (absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<JsonProvider>,
    /// `total` + `provider.total`; present exactly when `provider` is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grand_total: Option<String>,
}

/// One provider fee: `amount` = `basis` × `rate`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct JsonFee {
    pub month: String,
    /// `per_message_sent`, `per_message_received`, `per_failed_message` or `markup:<category>`.
    pub fee: String,
    /// The message count, or Meta's charge for the category (markups).
    pub basis: String,
    /// Messages counted, or Meta's charged units of the category (markups).
    pub count: u64,
    /// The unit fee, or the markup fraction (`0.06` = 6 %).
    pub rate: String,
    pub amount: String,
}

/// The `provider` object of the JSON outputs.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct JsonProvider {
    pub name: String,
    pub fees: Vec<JsonFee>,
    pub total: String,
}

impl JsonProvider {
    pub fn of(b: &ProviderBill) -> JsonProvider {
        JsonProvider {
            name: b.name.clone(),
            fees: b
                .fees
                .iter()
                .map(|f| JsonFee {
                    month: f.month.clone(),
                    fee: f.fee.clone(),
                    basis: if f.fee.starts_with("markup") {
                        Money::from_rounded(f.basis).to_decimal_string()
                    } else {
                        f.basis.to_string()
                    },
                    count: f.count,
                    rate: f.rate.normalize().to_string(),
                    amount: f.amount.to_decimal_string(),
                })
                .collect(),
            total: b.total.to_decimal_string(),
        }
    }
}

/// The provider's fees as text lines (for the tables of `replay` and `estimate`), ending with
/// the provider total and the grand total.
pub fn provider_lines(p: &JsonProvider, currency: &str, meta_total: &str) -> String {
    let mut t = crate::report::table::Table::new(&[
        ("month", false),
        ("provider fee", false),
        ("basis", true),
        ("rate", true),
        ("amount", true),
    ]);
    for f in &p.fees {
        t.row(vec![
            f.month.clone(),
            f.fee.clone(),
            f.basis.clone(),
            f.rate.clone(),
            f.amount.clone(),
        ]);
    }
    let name = if p.name.is_empty() {
        "provider".to_string()
    } else {
        format!("provider {}", terminal(&p.name))
    };
    let meta = Money::parse(meta_total).unwrap_or_default();
    let fees = Money::parse(&p.total).unwrap_or_default();
    format!(
        "\n{name}: fees on top of Meta's charges (amount = basis × rate)\n{}\
         provider fees {currency} {}\n\
         grand total {currency} {}  (Meta {} + provider {})\n",
        t.render(),
        p.total,
        meta + fees,
        meta_total,
        p.total
    )
}

/// The rate cards of `currency` in `book`, for provenance.
pub fn rate_cards(book: &crate::billing::rates::RateBook, currency: &str) -> Vec<JsonCard> {
    book.cards
        .iter()
        .filter(|c| c.currency == currency)
        .map(|c| JsonCard {
            currency: c.currency.clone(),
            effective: c.effective.to_string(),
            source: c.source.clone(),
        })
        .collect()
}

/// The `--format json` object (formats.md §4) of a replay, in memory or partitioned: the one
/// place it is built. With a `[provider]` in the accounts, its fees and the grand total are
/// added after the other keys (an [`Overflow`] when one is beyond what wabill can hold).
pub fn json(
    summary: &Summary,
    accounts: &crate::billing::accounts::Accounts,
    forced: Option<Rulebook>,
    rate_cards: Vec<JsonCard>,
) -> Result<JsonReport, Overflow> {
    let issues = summary
        .issues
        .iter()
        .map(|i| JsonIssue {
            code: i.code.to_string(),
            rule: i.rule.id().to_string(),
            row: i.row,
            message: i.message.clone(),
        })
        .collect();
    let mut report = JsonReport {
        currency: summary.currency.clone(),
        total: summary.total.to_decimal_string(),
        messages: summary.messages.clone(),
        lines: summary.lines.iter().map(json_line).collect(),
        issues,
        rulebook: forced
            .map(|r| r.id().to_string())
            .unwrap_or_else(|| "auto".into()),
        rate_cards,
        provider: None,
        grand_total: None,
    };
    if let Some(p) = &accounts.provider {
        let b = p.bill(&summary.tallies, &summary.lines)?;
        let grand = summary
            .total
            .checked_add(b.total)
            .ok_or_else(|| Overflow(format!("the grand total {} + {}", summary.total, b.total)))?;
        report.grand_total = Some(grand.to_decimal_string());
        report.provider = Some(JsonProvider::of(&b));
    }
    Ok(report)
}

fn json_line(l: &Line) -> JsonLine {
    JsonLine {
        month: l.month.clone(),
        waba: l.waba.clone(),
        market: l.market.clone(),
        category: l.category.to_string(),
        rulebook: l.rulebook.to_string(),
        charged: l.charged,
        free: l.free,
        unpriced: l.unpriced,
        cost: l.cost.to_decimal_string(),
    }
}

/// `--format csv` (and the report folder's `breakdown.csv`): one row per line of the
/// breakdown, every cell formula-safe for a spreadsheet ([`csv_field`]).
/// An `unpriced` column (MBA-1) comes before `cost` only when a line has unpriced units.
pub fn csv(lines: &[Line]) -> String {
    let unpriced = lines.iter().any(|l| l.unpriced > 0);
    let mut out = String::from(if unpriced {
        "month,waba,market,category,rulebook,charged,free,unpriced,cost\n"
    } else {
        "month,waba,market,category,rulebook,charged,free,cost\n"
    });
    for l in lines {
        let mut cells = vec![
            l.month.clone(),
            l.waba.clone(),
            l.market.clone(),
            l.category.to_string(),
            l.rulebook.to_string(),
            l.charged.to_string(),
            l.free.to_string(),
        ];
        if unpriced {
            cells.push(l.unpriced.to_string());
        }
        cells.push(l.cost.to_string());
        let cells: Vec<String> = cells.iter().map(|c| csv_field(c)).collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

/// The table's footer line: messages by kind, rejects and issues, with the numbers MKT-1 billed
/// although the phone metadata does not know them counted apart.
fn messages_line(report: &JsonReport) -> String {
    let m = &report.messages;
    // MKT-1: numbers billed although the phone metadata does not know them, counted apart.
    let invalid = report
        .issues
        .iter()
        .filter(|i| i.code == "invalid-number")
        .count();
    let invalid = if invalid > 0 {
        format!(" ({invalid} invalid-number)")
    } else {
        String::new()
    };
    // CUR-1: rows of the WABAs billed in other currencies, left out.
    let other = if m.other_currency > 0 {
        format!(
            ", {} of WABAs billed in another currency left out (CUR-1)",
            m.other_currency
        )
    } else {
        String::new()
    };
    format!(
        "messages: {} rows, {} inbound, {} outbound ({} delivered, {} not delivered), {} rejected{other}; {} issue(s){invalid}\n",
        m.rows, m.inbound, m.outbound, m.delivered, m.not_delivered, m.rejected, report.issues.len()
    )
}

/// The default readable table: lines grouped by month with subtotals, then the total.
pub fn table(report: &JsonReport) -> String {
    let mut rows: Vec<[String; 7]> = Vec::new();
    let header = [
        "month", "waba", "market", "category", "rulebook", "charged", "free",
    ];
    let mut month_totals: Vec<(String, u64, u64, Money)> = Vec::new();
    for l in &report.lines {
        // Cells come from the accounts and the rate cards: escaped for the terminal.
        rows.push([
            l.month.clone(),
            terminal(&l.waba).into_owned(),
            terminal(&l.market).into_owned(),
            l.category.clone(),
            l.rulebook.clone(),
            l.charged.to_string(),
            l.free.to_string(),
        ]);
        let cost = Money::parse(&l.cost).unwrap_or_default();
        match month_totals.last_mut() {
            Some(m) if m.0 == l.month => {
                m.1 += l.charged;
                m.2 += l.free;
                m.3 += cost;
            }
            _ => month_totals.push((l.month.clone(), l.charged, l.free, cost)),
        }
    }
    // MBA-1: a line with unpriced units says so beside its cost.
    let costs: Vec<String> = report
        .lines
        .iter()
        .map(|l| match l.unpriced {
            0 => l.cost.clone(),
            n => format!("{} + {n} unpriced", l.cost),
        })
        .collect();
    let mut w = [0usize; 8];
    for (i, h) in header.iter().enumerate() {
        w[i] = h.len();
    }
    w[7] = "cost".len().max(report.total.len() + 1);
    for (r, c) in rows.iter().zip(&costs) {
        for i in 0..7 {
            w[i] = w[i].max(r[i].chars().count());
        }
        w[7] = w[7].max(c.len());
    }
    let pad = |s: &str, n: usize, right: bool| {
        let len = s.chars().count();
        let fill = " ".repeat(n.saturating_sub(len));
        if right {
            format!("{fill}{s}")
        } else {
            format!("{s}{fill}")
        }
    };
    let mut out = String::new();
    let line = |cells: [&str; 8], out: &mut String| {
        for i in 0..8 {
            let right = i >= 5;
            out.push_str(&pad(cells[i], w[i], right));
            out.push_str(if i < 7 { "  " } else { "\n" });
        }
    };
    line(
        [
            header[0], header[1], header[2], header[3], header[4], header[5], header[6], "cost",
        ],
        &mut out,
    );
    let rule_len: usize = w.iter().sum::<usize>() + 14;
    out.push_str(&"-".repeat(rule_len));
    out.push('\n');
    let mut mi = 0;
    for (i, (r, c)) in rows.iter().zip(&costs).enumerate() {
        line(
            [&r[0], &r[1], &r[2], &r[3], &r[4], &r[5], &r[6], c],
            &mut out,
        );
        let last_of_month = rows.get(i + 1).is_none_or(|n| n[0] != r[0]);
        if last_of_month {
            let (m, ch, fr, cost) = &month_totals[mi];
            mi += 1;
            let (ch, fr, cost) = (ch.to_string(), fr.to_string(), cost.to_decimal_string());
            line([m, "", "month total", "", "", &ch, &fr, &cost], &mut out);
            out.push('\n');
        }
    }
    out.push_str(&"-".repeat(rule_len));
    out.push('\n');
    let ch: u64 = report.lines.iter().map(|l| l.charged).sum();
    let fr: u64 = report.lines.iter().map(|l| l.free).sum();
    let total = format!("{} {}", report.currency, report.total);
    out.push_str(&format!(
        "total {total}  ({ch} charged and {fr} free units)\n"
    ));
    let unpriced: u64 = report.lines.iter().map(|l| l.unpriced).sum();
    if unpriced > 0 {
        out.push_str(&format!(
            "the total excludes {unpriced} unpriced unit(s): Meta charges them, the log does not say how much (MBA-1: Meta Business Agent messages without tokens)\n"
        ));
    }
    if let Some(p) = &report.provider {
        out.push_str(&provider_lines(p, &report.currency, &report.total));
    }
    out.push_str(&messages_line(report));
    if report.provider.is_some() {
        out.push_str(&format!("Meta's amounts are exact; {MARKUP_ROUNDING}\n"));
    } else {
        out.push_str("amounts are exact (no rounding)\n");
    }
    out
}
