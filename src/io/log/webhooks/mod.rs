//! `replay --input-format webhooks`: Meta's webhooks (read in `payloads.rs`) as log rows, so
//! validation and rejects are those of every other log format.
//!
//! Each inbound message is one row (once per id: webhooks are retried), each business message
//! one row (its statuses merged by [`merge_statuses`]); its template category comes from
//! `pricing.category` (`service` and `referral_conversion` → a non-template message). Problems
//! become rejects naming the line; rows are pushed in the order of their first line.

mod payloads;

use std::path::Path;

use crate::billing::accounts::Accounts;
use crate::billing::meta::{merge_statuses, MetaCategory, MetaMessage};
use crate::billing::reconcile::Problem;

use super::schema::{
    fatal, Fields, LogError, C_CAT, C_COUNTRY, C_DIR, C_DURATION, C_EP, C_GROUP, C_ID, C_NUMBER,
    C_STATUS, C_TS, C_TYPE, C_USER, C_USER_ID, C_WABA, NCOL,
};
use super::sink::RowSink;

pub use payloads::{parse_webhooks, read_webhooks, CallEvent, InboundMessage, WebhookFile};

/// One thing read from the file, at its first line.
enum Item {
    Problem(Problem),
    In(InboundMessage),
    Out(MetaMessage),
    Call(CallEvent),
}

/// Read a webhook file as log rows into `b` (the module's rules).
pub(crate) fn read_rows(
    path: &Path,
    b: &mut dyn RowSink<'_>,
    progress: &dyn Fn(u64),
) -> Result<(), LogError> {
    let file = read_webhooks(path)?;
    if file.lines == 0 {
        return Err(fatal(path, "no webhook payloads"));
    }
    let accounts = b.rules().accounts();
    let items = items(file);
    let n = items.len() as u64;
    for (line, item) in items {
        match item {
            Item::Problem(p) => b.push_unreadable(
                format!("line {line}: {}{}", p.message, at(&p)),
                format!("line {line}"),
            ),
            Item::In(m) => push_inbound(b, accounts, line, &m),
            Item::Out(m) => push_outbound(b, accounts, line, &m),
            Item::Call(c) => push_call(b, accounts, line, &c),
        }
    }
    progress(n);
    Ok(())
}

/// The file's problems, inbound messages and business messages, by first line.
fn items(file: WebhookFile) -> Vec<(u64, Item)> {
    let mut items: Vec<(u64, Item)> = Vec::new();
    items.extend(
        file.problems
            .into_iter()
            .map(|p| (p.line.unwrap_or(0), Item::Problem(p))),
    );
    items.extend(
        dedup_inbound(file.inbound)
            .into_iter()
            .map(|m| (m.line, Item::In(m))),
    );
    items.extend(
        merge_statuses(&file.statuses)
            .into_iter()
            .map(|m| (m.line, Item::Out(m))),
    );
    items.extend(
        merge_calls(file.calls)
            .into_iter()
            .map(|c| (c.line, Item::Call(c))),
    );
    items.sort_by_key(|(line, _)| *line);
    items
}

/// CALL-1…3: one call per `wacid`: its `terminate` event when there is one (the duration and
/// outcome), else its first event (a call whose end the file does not hold).
fn merge_calls(mut calls: Vec<CallEvent>) -> Vec<CallEvent> {
    calls.sort_by(|a, b| {
        (&a.id, a.event != "terminate", a.line).cmp(&(&b.id, b.event != "terminate", b.line))
    });
    let mut first_line: std::collections::HashMap<String, u64> = Default::default();
    for c in &calls {
        let l = first_line.entry(c.id.clone()).or_insert(c.line);
        *l = (*l).min(c.line);
    }
    calls.dedup_by(|b, a| a.id == b.id);
    for c in &mut calls {
        c.line = first_line[&c.id];
    }
    calls
}

/// A call as a log row: a user's call (CALL-1, CALL-2) whatever its outcome; a business call
/// accepted when it completed with a duration (§6), else not answered.
fn push_call(b: &mut dyn RowSink<'_>, accounts: &Accounts, line: u64, c: &CallEvent) {
    let ts = (c.ts / 1_000_000).to_string();
    let accepted = c.status == "COMPLETED" && c.duration.is_some_and(|d| d > 0);
    let duration = c.duration.filter(|_| accepted).map(|d| d.to_string());
    let mut f: Fields = [None; NCOL];
    f[C_TS] = Some(&ts);
    f[C_DIR] = Some(if c.by_user { "in" } else { "out" });
    f[C_USER] = Some(&c.user);
    f[C_TYPE] = Some("call");
    if !c.by_user {
        f[C_STATUS] = Some(if accepted { "accepted" } else { "missed" });
        f[C_DURATION] = duration.as_deref();
    }
    f[C_WABA] = Some(accounts.meta_waba(&c.waba));
    f[C_NUMBER] = Some(&c.number);
    f[C_ID] = Some(&c.id);
    b.push(&f, &|| format!("line {line}: call {}", c.id));
}

fn push_inbound(b: &mut dyn RowSink<'_>, accounts: &Accounts, line: u64, m: &InboundMessage) {
    let ts = (m.ts / 1_000_000).to_string();
    let mut f: Fields = [None; NCOL];
    f[C_TS] = Some(&ts);
    f[C_DIR] = Some("in");
    user_fields(&mut f, &m.user, &m.user_id);
    // MKT-4: a user known only by a BSUID takes the country Meta gives with it.
    if m.user.is_empty() && !m.country.is_empty() {
        f[C_COUNTRY] = Some(&m.country);
    }
    f[C_TYPE] = Some(&m.kind);
    f[C_EP] = m.entry_point.then_some("ctwa");
    f[C_GROUP] = (!m.group.is_empty()).then_some(m.group.as_str());
    f[C_WABA] = Some(accounts.meta_waba(&m.waba));
    f[C_NUMBER] = Some(&m.number);
    f[C_ID] = Some(&m.id);
    b.push(&f, &|| format!("line {line}: inbound message {}", m.id));
}

fn push_outbound(b: &mut dyn RowSink<'_>, accounts: &Accounts, line: u64, m: &MetaMessage) {
    if m.delivered() {
        let why = match m.pricing {
            _ if m.pricing_unreadable => return, // reported at its line
            None => Some("no status carries a `pricing` object, so its category is unknown"),
            Some(p) if p.category == MetaCategory::BusinessInitiated => {
                Some("category `business_initiated` (cbp-2022) does not name the template's category; replay the business's own log instead")
            }
            Some(p) if p.category.is_group() && m.group.is_empty() => {
                Some("a group category on a status without `recipient_type: group`: the group and member are unknown (GRP-1)")
            }
            Some(_) => None,
        };
        if let Some(why) = why {
            b.push_unreadable(
                format!("line {line}: delivered message {}: {why}", m.id),
                format!("line {line}"),
            );
            return;
        }
    }
    let template = m.pricing.and_then(|p| p.category.template_category());
    let ts = (m.ts / 1_000_000).to_string();
    let mut f: Fields = [None; NCOL];
    f[C_TS] = Some(&ts);
    f[C_DIR] = Some("out");
    user_fields(&mut f, &m.user, &m.user_id);
    f[C_TYPE] = Some(if template.is_some() {
        "template"
    } else {
        "non_template"
    });
    // MBA-1, AIP-1: a non-template message of a category of its own.
    let bot = match m.pricing.map(|p| p.category) {
        Some(MetaCategory::MetaBusinessAgent) => Some("meta_business_agent"),
        Some(MetaCategory::GeneralPurposeAi) => Some("general_purpose_ai"),
        _ => None,
    };
    f[C_CAT] = template.map(|c| c.id()).or(bot);
    // GRP-1: one row per member delivery (its id `<id>/<member>`, see `merge_statuses`).
    if !m.group.is_empty() {
        f[C_GROUP] = Some(&m.group);
    }
    f[C_ID] = Some(&m.id);
    f[C_STATUS] = Some(m.status.id());
    f[C_WABA] = Some(accounts.meta_waba(&m.waba));
    f[C_NUMBER] = Some(&m.number);
    b.push(&f, &|| format!("line {line}: message {}", m.id));
    if let (true, Some(p)) = (m.delivered(), m.pricing) {
        let row = b.rows();
        b.meta_pricing(row, p);
    }
}

/// MKT-4: the row's `user` (the number, else the BSUID) and `user_id` (the BSUID beside a
/// number).
fn user_fields<'a>(f: &mut Fields<'a>, user: &'a str, user_id: &'a str) {
    if user.is_empty() {
        f[C_USER] = Some(user_id);
    } else {
        f[C_USER] = Some(user);
        f[C_USER_ID] = (!user_id.is_empty()).then_some(user_id);
    }
}

/// Inbound messages once per id (webhooks are retried): the earliest is kept.
fn dedup_inbound(mut v: Vec<InboundMessage>) -> Vec<InboundMessage> {
    v.sort_by(|a, b| (&a.id, a.ts, a.line).cmp(&(&b.id, b.ts, b.line)));
    v.dedup_by(|b, a| a.id == b.id);
    v
}

/// Where a problem is, for its reject message.
fn at(p: &Problem) -> String {
    match (p.path.is_empty(), p.value.is_empty()) {
        (true, _) => String::new(),
        (false, true) => format!(" (at {})", p.path),
        (false, false) => format!(" (at {}: `{}`)", p.path, p.value),
    }
}
