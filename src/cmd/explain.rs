//! `wabill explain [RULE]`: the billing rules the ledger, estimates and reports name, in the
//! words of the specification wabill implements (`docs/spec/billing-rules.md`, built into the
//! binary), with Meta's worked examples that show them. Without a rule: every rule, one line
//! each.

use anyhow::{bail, Result};

use crate::report::rules::{rules, RuleText};
use clap::Args;

#[derive(Debug, Clone, Args)]
pub struct ExplainArgs {
    /// A rule id as the ledger and issues name it (`PMP-3`, `cbp-6`, `CONV-4`); none: the list.
    /// With `--row`: the log.
    pub rule: Option<String>,
    /// The story of one message of a log: `wabill explain --row N LOG` (N as the ledger and
    /// rejects number rows).
    #[arg(long, value_name = "N")]
    pub row: Option<u64>,
    #[command(flatten)]
    pub input: crate::cmd::input::InputArgs,
    /// Accounts file (TOML).
    #[arg(long)]
    pub accounts: Option<std::path::PathBuf>,
    /// Rates directory.
    #[arg(long)]
    pub rates: Option<std::path::PathBuf>,
}

/// Meta's worked examples that show `id`: the examples naming it, and the ones the spec gives
/// for it by their subject.
fn examples_of<'r>(id: &str, all: &'r [RuleText]) -> Vec<&'r RuleText> {
    let by_subject: &[(&str, &[&str])] = &[
        ("EX-1", &["CBP-2", "CBP-4", "CONV-5"]),
        ("EX-2", &["CBP-3", "CBP-4"]),
        ("EX-3", &["CBP-6"]),
        ("EX-4", &["PMP-1", "PMP-2", "CONV-2"]),
        ("EX-5", &["PMP-3"]),
        ("EX-6", &["PMP-4"]),
        ("EX-7", &["CBP-9"]),
    ];
    all.iter()
        .filter(|r| r.id.starts_with("EX-"))
        .filter(|r| {
            r.text.contains(id)
                || by_subject
                    .iter()
                    .any(|(ex, ids)| *ex == r.id && ids.contains(&id))
        })
        .collect()
}

/// Words wrapped at `width` columns, each line indented by `indent`.
fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for w in text.split_whitespace() {
        if !line.is_empty() && indent.len() + line.len() + 1 + w.len() > width {
            out.push_str(indent);
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(w);
    }
    if !line.is_empty() {
        out.push_str(indent);
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// The text `wabill explain` prints for `rule` (or the list).
pub fn explain(rule: Option<&str>) -> Result<String> {
    let all = rules();
    let Some(want) = rule else {
        let mut out = String::from(
            "The billing rules (docs/spec/billing-rules.md); `wabill explain ID` for one:\n\n",
        );
        let mut section = "";
        for r in all.iter().filter(|r| !r.id.starts_with("EX-")) {
            if r.section != section {
                section = &r.section;
                out.push_str(&format!("{section}\n"));
            }
            out.push_str(&format!("  {:<8} {}\n", r.id, r.title));
        }
        return Ok(out);
    };
    let want = want.trim().to_ascii_uppercase();
    let Some(r) = all.iter().find(|r| r.id == want) else {
        let ids: Vec<&str> = all.iter().map(|r| r.id.as_str()).collect();
        bail!(
            "no rule `{want}` in the specification (rules: {})",
            ids.join(", ")
        );
    };
    let mut out = format!("{} — {}\n\n", r.id, r.section);
    out.push_str(&wrap(&r.text, 96, "  "));
    let examples = examples_of(&r.id, &all);
    if !examples.is_empty() {
        out.push_str("\nWorked example (Meta's own, restated in the specification):\n");
        for e in examples {
            out.push('\n');
            out.push_str(&wrap(&e.text, 96, "  "));
        }
    }
    out.push_str(&format!(
        "\nwabill names it in the ledger's `rule` column, in issues and in estimates as {}.\n",
        r.id
    ));
    Ok(out)
}

pub fn run(args: ExplainArgs) -> Result<i32> {
    let text = match args.row {
        Some(n) => row_story(&args, n)?,
        None => explain(args.rule.as_deref())?,
    };
    crate::cmd::print_stdout(&text)?;
    Ok(0)
}

/// `explain --row N LOG`: the log replayed in memory (the replay's own ledger, one pipeline),
/// and row N told: what it is, how it was billed and by which rule, the window or conversation
/// it rode in, the rate card it was priced from, the issues it raised.
fn row_story(args: &ExplainArgs, n: u64) -> Result<String> {
    use crate::replay::service;
    let Some(log_arg) = &args.rule else {
        bail!("--row N needs the log: wabill explain --row N LOG");
    };
    let path = std::path::PathBuf::from(log_arg);
    let format = args.input.resolve(&path)?;
    let inputs = crate::cmd::load_inputs(
        args.accounts.as_deref(),
        args.rates.as_deref(),
        args.input.currency.as_deref(),
    )?;
    let log = inputs.read(&path, format, &crate::cmd::read_options(), &|_| {})?;
    if let Some(r) = log.rejects.iter().find(|r| r.row == n) {
        return Ok(format!(
            "row {n} of {}: rejected, not billed\n  column `{}`, value `{}`: {}\n",
            path.display(),
            r.column,
            r.value,
            r.message
        ));
    }
    let Some(ei) = log.events.iter().position(|e| e.row as u64 == n) else {
        bail!(
            "{} has no row {n} (data rows 1 to {})",
            path.display(),
            log.rows
        );
    };
    let event = log.events[ei];
    let chat = event.chat;
    let r = service::price(log, inputs, None, None)?;
    // The replay's own ledger row (the same rows `--ledger` writes), if it is a business message.
    use crate::replay::ledger;
    let row = ledger::rows(&r.log, &r.replay, &r.rates.markets, &r.accounts)
        .find(|fields| fields[0] == n.to_string());
    let ts = ledger::rfc3339(event.ts);
    let mut out = format!("row {n} of {}\n", path.display());
    let Some(rec) = row else {
        // An inbound message: what it opens.
        let entry = matches!(
            event.kind,
            crate::billing::types::Kind::In { entry_point: true }
        );
        out.push_str(&format!(
            "  the user's message at {ts}: it opens or refreshes the customer service window until 24 h later (CONV-2){}\n",
            if entry {
                "; it came from an ad or a Page button, so the business's reply within 24 h opens a free entry point window (PMP-3; CBP-6 before 2025-07-01)"
            } else {
                ""
            }
        ));
        return Ok(out);
    };
    let get = |k: &str| {
        ledger::COLUMNS
            .iter()
            .position(|h| *h == k)
            .map_or("", |i| rec[i].as_str())
    };
    // The message's own columns of the ledger, before what the replay decided.
    let own = ledger::COLUMNS
        .iter()
        .skip(1)
        .take_while(|c| **c != "billed_as");
    for k in own {
        let k: &str = k;
        if !get(k).is_empty() {
            out.push_str(&format!("  {k:<12} {}\n", get(k)));
        }
    }
    let rule = get("rule");
    let title = crate::report::rules::title(rule).unwrap_or("");
    // The window the user's last message before it opened, in the same chat.
    let last_in = r
        .log
        .events
        .iter()
        .filter(|e| e.chat == chat && (e.ts, e.row) < (event.ts, event.row))
        .filter(|e| matches!(e.kind, crate::billing::types::Kind::In { .. }))
        .map(|e| e.ts)
        .max();
    let window = match last_in {
        Some(t) if event.ts < t + 86_400_000_000 => format!(
            "inside the customer service window the user's message of {} opened (until {})",
            ledger::rfc3339(t),
            ledger::rfc3339(t + 86_400_000_000)
        ),
        Some(t) => format!(
            "outside any customer service window (the user's last message, {}, is more than 24 h before)",
            ledger::rfc3339(t)
        ),
        None => "with no message of the user before it in the log".to_string(),
    };
    let conv = get("conversation");
    let price = get("price");
    let currency = &r.summary.currency;
    let story = match get("reason") {
        "charged" => format!(
            "charged {currency} {price} at the {} rate for {} ({}), {window}",
            get("billed_as"),
            get("market"),
            get("month")
        ),
        "in_conversation" => {
            format!("free: it rides in the conversation {conv} (no new unit), {window}")
        }
        "free_customer_service" => format!("free: {window}"),
        "free_entry_point" => format!(
            "free: in the 72-hour entry point window {}",
            if conv.is_empty() {
                "its reply opened".to_string()
            } else {
                conv.to_string()
            }
        ),
        "free_tier" => format!("free: within the monthly free allowance, {window}"),
        "free_service" => format!(
            "free: service {} free under {}, {window}",
            if conv.is_empty() {
                "message".to_string()
            } else {
                format!("conversation {conv}")
            },
            get("rulebook")
        ),
        "not_delivered" => "not delivered: Meta bills only delivered messages".to_string(),
        other => format!("{other}, {window}"),
    };
    out.push_str(&format!(
        "\n  {story}\n  rule {rule}: {title} (wabill explain {rule})\n"
    ));
    if get("reason") == "charged" {
        // RATE-1: the card in force on the delivery's date in the WABA's zone.
        let tz = r
            .accounts
            .waba_index(get("waba"))
            .map_or(chrono_tz::Tz::UTC, |w| r.accounts.wabas[w].tz);
        let day = chrono::DateTime::from_timestamp_micros(event.ts)
            .map(|t| t.with_timezone(&tz).date_naive());
        let card = day
            .and_then(|d| r.rates.book.card_at(currency, d))
            .map(|i| r.rates.book.cards[i].effective);
        if let Some(d) = card {
            out.push_str(&format!(
                "  priced from the {currency} rate card of {d} (wabill rates show --market \"{}\" --date {d})\n",
                get("market")
            ));
        }
    }
    for i in r.summary.issues.iter().filter(|i| i.row == n) {
        out.push_str(&format!(
            "  issue {} ({}): {}\n",
            i.code,
            i.rule.id(),
            i.message
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_the_engine_names_is_explained() {
        let all = rules();
        for rule in crate::billing::ids::Rule::ALL {
            assert!(
                all.iter().any(|r| r.id == rule.id()),
                "{} not in the spec",
                rule.id()
            );
        }
        for id in ["MKT-4", "CONV-4", "RATE-4", "GRP-1", "CALL-3", "EX-5"] {
            assert!(all.iter().any(|r| r.id == id), "{id}");
        }
    }

    #[test]
    fn pmp3_with_its_worked_example() {
        let t = explain(Some("pmp-3")).unwrap();
        assert!(t.starts_with("PMP-3 — "), "{t}");
        assert!(t.contains("Free entry point window"), "{t}");
        assert!(t.contains("EX-5 PMP free entry point"), "{t}");
        assert!(explain(Some("PMP-99"))
            .unwrap_err()
            .to_string()
            .contains("no rule `PMP-99`"));
        let list = explain(None).unwrap();
        assert!(
            list.contains("  PMP-6    Authentication-international"),
            "{list}"
        );
    }
}
