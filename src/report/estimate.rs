//! The estimate's outputs (`wabill estimate`): the JSON contract, the table with tier bands and
//! month totals, and the CSV. The pricing itself is `billing::estimate`.

use serde::Serialize;

use super::breakdown::{provider_lines, JsonProvider};
use super::table::{csv_field, Table};
use crate::billing::estimate::{Estimate, EstimateLine};
use crate::billing::money::{Money, Overflow, MARKUP_ROUNDING};
use crate::billing::provider::{MonthTally, Provider};
use crate::billing::types::Rulebook;

/// What the numbers assume, printed with every estimate.
pub const ASSUMPTIONS: &str = "messages are the messages Meta will charge (templates outside the free windows; service: all delivered non-template messages, pmp-2026 allowance applied); rows sharing a volume-tier counter or a service allowance use it in the order given";

/// Whether a line has one of §4b's units (group deliveries, tokens, minutes, a max price).
fn uses_2026_units(e: &Estimate) -> bool {
    e.lines.iter().any(|l| {
        l.line.category.starts_with("group_")
            || matches!(l.line.category, "meta_business_agent" | "call")
            || l.rule == "MAXP-1"
    })
}

/// Said under the table only when a line has one of §4b's units.
pub const ASSUMPTIONS_2026: &str = "group_* volumes are member deliveries at the 1:1 list rates (GRP-1); meta_business_agent volumes are tokens (MBA-1); call volumes are minutes of business calls, each minute at its band (CALL-3 prices a call whole at the band of its last pulse: at most one call per band crossed differs); a marketing volume with max_price is priced at it, an upper bound (MAXP-1)";

#[derive(Serialize)]
struct JsonBand {
    /// Monthly counts of the tier band (absent at a list rate without tier table).
    #[serde(skip_serializing_if = "Option::is_none")]
    from: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    to: Option<u64>,
    rate: String,
    messages: u64,
    amount: String,
}

#[derive(Serialize)]
struct JsonLine {
    month: String,
    waba: String,
    market: String,
    category: String,
    rulebook: String,
    messages: u64,
    charged: u64,
    free: u64,
    rule: &'static str,
    card: Option<String>,
    cost: String,
    bands: Vec<JsonBand>,
}

#[derive(Serialize)]
struct JsonEstimate {
    currency: String,
    total: String,
    lines: Vec<JsonLine>,
    rulebook: String,
    assumptions: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    provider: Option<JsonProvider>,
    #[serde(skip_serializing_if = "Option::is_none")]
    grand_total: Option<String>,
}

/// The provider's per-message fees: every volume is delivered business messages; an estimate
/// has no inbound or failed messages. An [`Overflow`] when a fee or the grand total is beyond
/// what wabill can hold.
pub fn provider_fees(e: &Estimate, p: &Provider) -> Result<JsonProvider, Overflow> {
    let mut tallies: Vec<MonthTally> = Vec::new();
    for l in &e.lines {
        match tallies.iter_mut().find(|t| t.month == l.line.month) {
            Some(t) => t.sent = t.sent.saturating_add(l.messages),
            None => tallies.push(MonthTally {
                month: l.line.month.clone(),
                sent: l.messages,
                ..MonthTally::default()
            }),
        }
    }
    let lines: Vec<_> = e.lines.iter().map(|l| l.line.clone()).collect();
    let bill = p.bill(&tallies, &lines)?;
    e.total
        .checked_add(bill.total)
        .ok_or_else(|| Overflow(format!("the grand total {} + {}", e.total, bill.total)))?;
    Ok(JsonProvider::of(&bill))
}

/// The table: one row per line, its tier bands under it, a total per month; then the total,
/// the provider's fees and what the numbers assume.
pub fn table(e: &Estimate, provider: Option<&JsonProvider>) -> String {
    let mut t = Table::new(&[
        ("month", false),
        ("waba", false),
        ("market", false),
        ("category", false),
        ("rulebook", false),
        ("messages", true),
        ("charged", true),
        ("free", true),
        ("rule", false),
        ("cost", true),
    ]);
    let mut month_total = Money::ZERO;
    for (i, l) in e.lines.iter().enumerate() {
        let x = &l.line;
        t.row(vec![
            x.month.clone(),
            x.waba.clone(),
            x.market.clone(),
            x.category.to_string(),
            x.rulebook.to_string(),
            l.messages.to_string(),
            x.charged.to_string(),
            x.free.to_string(),
            l.rule.to_string(),
            x.cost.to_string(),
        ]);
        for b in l.bands.iter().filter(|b| b.counts.is_some()) {
            let (from, to) = b.counts.expect("tier band");
            t.row(vec![
                String::new(),
                String::new(),
                format!("  messages {from}–{to}"),
                format!("at {}", b.rate),
                String::new(),
                b.messages.to_string(),
                String::new(),
                String::new(),
                String::new(),
                b.amount.to_string(),
            ]);
        }
        month_total += x.cost;
        if e.lines.get(i + 1).is_none_or(|n| n.line.month != x.month) {
            t.row(vec![
                x.month.clone(),
                String::new(),
                "month total".into(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                month_total.to_string(),
            ]);
            t.rule();
            month_total = Money::ZERO;
        }
    }
    let mut out = t.render();
    out.push_str(&format!("total {} {}\n", e.currency, e.total));
    if let Some(p) = provider {
        out.push_str(&provider_lines(p, &e.currency, &e.total.to_string()));
    }
    out.push_str(&format!("assumes: {ASSUMPTIONS}\n"));
    if uses_2026_units(e) {
        out.push_str(&format!("and: {ASSUMPTIONS_2026}\n"));
    }
    if provider.is_some() {
        out.push_str(&format!("Meta's amounts are exact; {MARKUP_ROUNDING}\n"));
    } else {
        out.push_str("amounts are exact (no rounding)\n");
    }
    out
}

/// The CSV: Meta's lines only (the columns are a contract), every cell formula-safe.
pub fn csv(e: &Estimate) -> String {
    let mut out =
        String::from("month,waba,market,category,rulebook,messages,charged,free,rule,cost\n");
    for l in &e.lines {
        let x = &l.line;
        let cells = [
            x.month.clone(),
            x.waba.clone(),
            x.market.clone(),
            x.category.to_string(),
            x.rulebook.to_string(),
            l.messages.to_string(),
            x.charged.to_string(),
            x.free.to_string(),
            l.rule.to_string(),
            x.cost.to_string(),
        ];
        out.push_str(&cells.map(|c| csv_field(&c)).join(","));
        out.push('\n');
    }
    out
}

/// The JSON (formats.md): lines with their tier bands, the rulebook (`auto` unless forced),
/// the assumptions, and the provider's fees with the grand total when there is a provider.
pub fn json(
    e: &Estimate,
    forced: Option<Rulebook>,
    provider: Option<JsonProvider>,
) -> serde_json::Result<String> {
    let grand_total = provider
        .as_ref()
        .map(|p| (e.total + Money::parse(&p.total).unwrap_or_default()).to_string());
    let j = JsonEstimate {
        currency: e.currency.clone(),
        total: e.total.to_string(),
        lines: e.lines.iter().map(JsonLine::of).collect(),
        rulebook: forced.map_or("auto", |r| r.id()).to_string(),
        assumptions: ASSUMPTIONS,
        provider,
        grand_total,
    };
    let mut s = serde_json::to_string_pretty(&j)?;
    s.push('\n');
    Ok(s)
}

impl JsonLine {
    fn of(l: &EstimateLine) -> JsonLine {
        JsonLine {
            month: l.line.month.clone(),
            waba: l.line.waba.clone(),
            market: l.line.market.clone(),
            category: l.line.category.to_string(),
            rulebook: l.line.rulebook.to_string(),
            messages: l.messages,
            charged: l.line.charged,
            free: l.line.free,
            rule: l.rule,
            card: l.card.map(|c| c.to_string()),
            cost: l.line.cost.to_string(),
            bands: l
                .bands
                .iter()
                .map(|b| JsonBand {
                    from: b.counts.map(|c| c.0),
                    to: b.counts.map(|c| c.1),
                    rate: b.rate.to_string(),
                    messages: b.messages,
                    amount: b.amount.to_string(),
                })
                .collect(),
        }
    }
}
