//! The billing rules in the words of the specification wabill implements
//! (`docs/spec/billing-rules.md`, built into the binary): what `wabill explain` prints and what
//! the report and ledger docs put next to a rule id.

/// The specification, as shipped in `docs/spec/`.
const SPEC: &str = include_str!("../../docs/spec/billing-rules.md");

/// One rule of the specification: its id, its title (the bold lead), its section and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleText {
    pub id: String,
    pub title: String,
    pub section: String,
    pub text: String,
}

/// Every rule (`- **ID …**` items) and worked example (`EX-n`) of the specification, in order,
/// then the rules stated inside another's item (`CALL-2 … CALL-3 …`). Read once.
pub fn rules() -> &'static [RuleText] {
    static RULES: std::sync::OnceLock<Vec<RuleText>> = std::sync::OnceLock::new();
    RULES.get_or_init(parse)
}

/// Whether `id` is written as a rule id: capitals, a dash, digits (`PMP-3`).
fn is_rule_id(id: &str) -> bool {
    id.split_once('-').is_some_and(|(a, n)| {
        !a.is_empty()
            && a.bytes().all(|b| b.is_ascii_uppercase())
            && !n.is_empty()
            && n.bytes().all(|b| b.is_ascii_digit())
    })
}

fn parse() -> Vec<RuleText> {
    let mut out: Vec<RuleText> = Vec::new();
    let mut section = String::new();
    let mut open = false;
    for line in SPEC.lines() {
        if let Some(h) = line.strip_prefix("## ") {
            section = h.trim().to_string();
            open = false;
            continue;
        }
        if let Some(rest) = line.strip_prefix("- **") {
            let id: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            if is_rule_id(&id) {
                let lead = rest.split("**").next().unwrap_or("");
                let mut title = lead[id.len()..].trim().trim_end_matches('.').to_string();
                if title.is_empty() {
                    // The rule's first sentence, shortened.
                    let after = rest.split("**").skip(1).collect::<Vec<_>>().join("");
                    let first = after
                        .trim()
                        .split(". ")
                        .next()
                        .unwrap_or("")
                        .trim_end_matches('.');
                    title = first.chars().take(80).collect();
                    if first.chars().count() > 80 {
                        title.push('…');
                    }
                }
                out.push(RuleText {
                    id,
                    title,
                    section: section.clone(),
                    text: line[2..].replace("**", ""),
                });
                open = true;
                continue;
            }
            open = false;
            continue;
        }
        if open && line.starts_with("  ") && !line.trim().is_empty() {
            let last = out.last_mut().expect("an open rule");
            last.text.push(' ');
            last.text.push_str(line.trim());
        } else {
            open = false;
        }
    }
    // A rule id in an item's text that has no item of its own is stated there (`CALL-2 …
    // CALL-3 …`): it is explained by that item.
    let mut extra: Vec<RuleText> = Vec::new();
    for r in &out {
        for word in r.text.split_whitespace() {
            let id = word.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '-');
            if is_rule_id(id)
                && !out.iter().any(|x| x.id == id)
                && !extra.iter().any(|x| x.id == id)
            {
                extra.push(RuleText {
                    id: id.to_string(),
                    title: String::new(),
                    section: r.section.clone(),
                    text: r.text.clone(),
                });
            }
        }
    }
    out.extend(extra);
    out
}

/// A rule's one-line meaning (`Deliveries are facts` for `CONV-4`), if the spec has the rule.
pub fn title(id: &str) -> Option<&'static str> {
    rules()
        .iter()
        .find(|r| r.id == id)
        .map(|r| r.title.as_str())
}

#[cfg(test)]
mod tests {
    /// docs/GLOSSARY.md names every rule the engine names, so the ledger's `rule` column can
    /// always be looked up in plain words.
    #[test]
    fn the_glossary_lists_every_rule_the_ledger_names() {
        let glossary = include_str!("../../docs/GLOSSARY.md");
        for r in crate::billing::ids::Rule::ALL {
            assert!(
                glossary.contains(&format!("| {} |", r.id())),
                "{} missing from docs/GLOSSARY.md",
                r.id()
            );
            assert!(
                super::title(r.id()).is_some(),
                "{} missing from the spec",
                r.id()
            );
        }
        for reason in [
            "charged",
            "in_conversation",
            "free_customer_service",
            "free_entry_point",
            "free_tier",
            "free_service",
            "not_delivered",
            "free_group_customer_service",
            "unpriced",
            "not_answered",
            "not_charged_yet",
        ] {
            assert!(glossary.contains(&format!("| `{reason}` |")), "{reason}");
        }
    }
}
