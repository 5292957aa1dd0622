//! Meta's WhatsApp webhooks (billing-rules.md §6), one JSON body per line as a business stores
//! them, read into inbound messages and status updates: the reports `reconcile` compares, and the
//! input of `replay --input-format webhooks` ([`super`] turns them into log rows).
//!
//! A line that cannot be read, a missing field or an unknown category is a [`Problem`] naming
//! the line, the JSON path and the value; it never stops the other lines from being read.

use std::io::{BufRead, BufReader};
use std::path::Path;

use serde_json::{Map, Value};

use crate::billing::meta::*;
use crate::billing::reconcile::Problem;
use crate::billing::types::Status;

use crate::io::log::schema::{fatal, line_text, LogError};
use crate::io::log::timestamp::parse_timestamp;

/// An inbound message (`messages[]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundMessage {
    pub id: String,
    /// UTC micros.
    pub ts: i64,
    /// `from`: the user's number; empty when the user is known only by a BSUID (MKT-4).
    pub user: String,
    /// MKT-4: `from_user_id` (or the sender's `contacts[].user_id`): the user's BSUID.
    pub user_id: String,
    /// `contacts[].profile.country_code` of the sender, when given.
    pub country: String,
    pub waba: String,
    pub number: String,
    /// `type` (`text`, `image`, …).
    pub kind: String,
    /// A `referral` object: the user came from a Click-to-WhatsApp ad (or a Page button).
    pub entry_point: bool,
    /// GRP-2: a member's message in a group (`group_id`); empty for a 1:1 message.
    pub group: String,
    pub line: u64,
}

/// One event of a `calls` webhook (§6: `connect`, `terminate`), as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallEvent {
    /// `wacid.…`
    pub id: String,
    /// `connect` or `terminate`.
    pub event: String,
    /// CALL-1: `USER_INITIATED` (the user called) or not (the business did).
    pub by_user: bool,
    /// The user's number: `from` of a user's call, `to` of a business call.
    pub user: String,
    /// The call's start (`start_time`, else `timestamp`), UTC micros.
    pub ts: i64,
    /// `COMPLETED`, `FAILED` (terminate), empty otherwise.
    pub status: String,
    /// Seconds (terminate).
    pub duration: Option<u32>,
    pub waba: String,
    pub number: String,
    pub line: u64,
}

/// Everything read from a webhook file.
#[derive(Debug, Default)]
pub struct WebhookFile {
    pub inbound: Vec<InboundMessage>,
    pub statuses: Vec<StatusUpdate>,
    /// CALL-1…3: the `calls` webhooks' events.
    pub calls: Vec<CallEvent>,
    pub problems: Vec<Problem>,
    /// Non-empty lines read.
    pub lines: u64,
}

/// Read a webhook file (JSON Lines).
pub fn read_webhooks(path: &Path) -> Result<WebhookFile, LogError> {
    let file = crate::io::log::schema::open_input(path)?;
    parse_webhooks(BufReader::with_capacity(1 << 20, file))
        .map_err(|e| fatal(path, format!("read error: {e}")))
}

/// Parse webhook bodies, one per line; blank lines are skipped (but counted for line numbers).
pub fn parse_webhooks(mut r: impl BufRead) -> std::io::Result<WebhookFile> {
    let mut out = WebhookFile::default();
    let mut buf = Vec::new();
    let mut line = 0u64;
    loop {
        buf.clear();
        if r.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        line += 1;
        // A line that is not UTF-8 is a problem of that line alone; reading goes on.
        let text = match line_text(&buf, line == 1) {
            Ok(t) => t,
            Err((byte, lossy)) => {
                out.lines += 1;
                out.problems.push(problem(
                    line,
                    "",
                    &shorten(&lossy),
                    format!("not valid UTF-8 (byte {byte} of the line)"),
                ));
                continue;
            }
        };
        if text.is_empty() {
            continue;
        }
        out.lines += 1;
        match serde_json::from_str::<Value>(text) {
            Ok(v) => Reader {
                line,
                out: &mut out,
            }
            .body(&v),
            Err(e) => out.problems.push(problem(
                line,
                "",
                &shorten(text),
                format!("not valid JSON: {e}"),
            )),
        }
    }
    Ok(out)
}

fn problem(line: u64, path: &str, value: &str, message: String) -> Problem {
    Problem {
        source: "webhooks",
        line: Some(line),
        path: path.to_string(),
        value: value.to_string(),
        message,
    }
}

/// Why a `pricing.category` was not read.
fn category_problem(_c: &str) -> String {
    "unknown category (expected marketing, marketing_lite, utility, authentication, authentication_international, service, referral_conversion, group_marketing, group_utility, group_service, meta_business_agent or general_purpose_ai)".to_string()
}

/// MKT-4: the `contacts[]` entry of a message's sender: the one whose `wa_id` is its number or
/// whose `user_id` is its BSUID; the only one when there is one.
fn contact_of<'v>(contacts: &'v [Value], user: &str, user_id: &str) -> Option<&'v Value> {
    let is = |c: &&Value, key: &str, v: &str| {
        !v.is_empty() && c.get(key).and_then(scalar).as_deref() == Some(v)
    };
    contacts
        .iter()
        .find(|c| is(c, "wa_id", user) || is(c, "user_id", user_id))
        .or(match contacts {
            [only] => Some(only),
            _ => None,
        })
}

fn shorten(s: &str) -> String {
    const MAX: usize = 80;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(MAX).collect::<String>())
    }
}

/// The text of a scalar: strings as they are, numbers and booleans as JSON.
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

struct Reader<'a> {
    line: u64,
    out: &'a mut WebhookFile,
}

impl Reader<'_> {
    fn problem(&mut self, path: &str, value: Option<&Value>, message: impl Into<String>) {
        let value = value
            .map(|v| scalar(v).unwrap_or_else(|| shorten(&v.to_string())))
            .unwrap_or_default();
        self.out
            .problems
            .push(problem(self.line, path, &value, message.into()));
    }

    /// A required scalar field, or a problem saying it is missing.
    fn required(&mut self, obj: &Map<String, Value>, path: &str, key: &str) -> Option<String> {
        match obj.get(key).and_then(scalar) {
            Some(s) if !s.trim().is_empty() => Some(s),
            _ => {
                self.problem(
                    &format!("{path}.{key}"),
                    obj.get(key),
                    format!("missing `{key}`"),
                );
                None
            }
        }
    }

    fn timestamp(&mut self, obj: &Map<String, Value>, path: &str) -> Option<i64> {
        let s = self.required(obj, path, "timestamp")?;
        let t = parse_timestamp(&s);
        if t.is_none() {
            self.problem(
                &format!("{path}.timestamp"),
                obj.get("timestamp"),
                "not a Unix timestamp",
            );
        }
        t
    }

    fn body(&mut self, v: &Value) {
        let Some(obj) = v.as_object() else {
            return self.problem("", Some(v), "not a JSON object");
        };
        if let Some(o) = obj.get("object") {
            if o.as_str() != Some("whatsapp_business_account") {
                return self.problem(
                    "object",
                    Some(o),
                    "not a WhatsApp Business Account webhook (expected `whatsapp_business_account`)",
                );
            }
        }
        let Some(entries) = obj.get("entry").and_then(Value::as_array) else {
            return self.problem("entry", obj.get("entry"), "missing `entry` array");
        };
        for (i, entry) in entries.iter().enumerate() {
            let path = format!("entry[{i}]");
            let Some(entry) = entry.as_object() else {
                self.problem(&path, Some(entry), "not an object");
                continue;
            };
            let waba = entry.get("id").and_then(scalar).unwrap_or_default();
            let Some(changes) = entry.get("changes").and_then(Value::as_array) else {
                self.problem(
                    &format!("{path}.changes"),
                    entry.get("changes"),
                    "missing `changes` array",
                );
                continue;
            };
            for (j, change) in changes.iter().enumerate() {
                let path = format!("{path}.changes[{j}]");
                self.change(change, &path, &waba);
            }
        }
    }

    fn change(&mut self, change: &Value, path: &str, waba: &str) {
        // Other webhook fields (template status updates, account alerts…) carry no billing.
        if change
            .get("field")
            .and_then(Value::as_str)
            .is_some_and(|f| f != "messages" && f != "calls")
        {
            return;
        }
        let Some(value) = change.get("value").and_then(Value::as_object) else {
            return self.problem(
                &format!("{path}.value"),
                change.get("value"),
                "missing `value` object",
            );
        };
        let path = format!("{path}.value");
        let meta = value.get("metadata");
        let number = meta
            .and_then(|m| {
                m.get("display_phone_number")
                    .or_else(|| m.get("phone_number_id"))
            })
            .and_then(scalar)
            .unwrap_or_default();
        let contacts = value
            .get("contacts")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        for (k, m) in value
            .get("messages")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            self.message(m, contacts, &format!("{path}.messages[{k}]"), waba, &number);
        }
        for (k, s) in value
            .get("statuses")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            // A business call's progress (`type: call`, RINGING / ACCEPTED / REJECTED): the
            // call itself is billed from its `calls` terminate event.
            if s.get("type").and_then(Value::as_str) == Some("call") {
                continue;
            }
            self.status(s, &format!("{path}.statuses[{k}]"), waba, &number);
        }
        for (k, c) in value
            .get("calls")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            self.call(c, &format!("{path}.calls[{k}]"), waba, &number);
        }
    }

    /// CALL-1…3: one event of a `calls` webhook.
    fn call(&mut self, c: &Value, path: &str, waba: &str, number: &str) {
        let Some(c) = c.as_object() else {
            return self.problem(path, Some(c), "not an object");
        };
        let id = self.required(c, path, "id");
        let direction = self.required(c, path, "direction");
        let by_user = match direction.as_deref().map(str::to_ascii_uppercase).as_deref() {
            Some("USER_INITIATED") => Some(true),
            Some("BUSINESS_INITIATED") => Some(false),
            Some(_) => {
                self.problem(
                    &format!("{path}.direction"),
                    c.get("direction"),
                    "unknown call direction (expected USER_INITIATED or BUSINESS_INITIATED)",
                );
                None
            }
            None => None,
        };
        let ts = match c.get("start_time").and_then(scalar) {
            Some(s) => match s.trim().parse::<i64>() {
                Ok(secs) => Some(secs * 1_000_000),
                Err(_) => {
                    self.problem(
                        &format!("{path}.start_time"),
                        c.get("start_time"),
                        "not Unix seconds",
                    );
                    None
                }
            },
            None => self.timestamp(c, path),
        };
        let user_key = if by_user == Some(true) { "from" } else { "to" };
        let user = c.get(user_key).and_then(scalar).unwrap_or_default();
        let duration = c.get("duration").and_then(|d| match d {
            Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
            Value::String(s) => s.trim().parse::<u32>().ok(),
            _ => None,
        });
        let (Some(id), Some(by_user), Some(ts)) = (id, by_user, ts) else {
            return;
        };
        self.out.calls.push(CallEvent {
            id,
            event: c.get("event").and_then(scalar).unwrap_or_default(),
            by_user,
            user,
            ts,
            status: c
                .get("status")
                .and_then(scalar)
                .unwrap_or_default()
                .to_ascii_uppercase(),
            duration,
            waba: waba.to_string(),
            number: number.to_string(),
            line: self.line,
        });
    }

    fn message(&mut self, m: &Value, contacts: &[Value], path: &str, waba: &str, number: &str) {
        let Some(m) = m.as_object() else {
            return self.problem(path, Some(m), "not an object");
        };
        let id = self.required(m, path, "id");
        // MKT-4: a user known only by a BSUID has `from_user_id` and no `from`; the sender's
        // `contacts[]` entry may carry the BSUID and the country.
        let from = m.get("from").and_then(scalar);
        let from_user_id = m.get("from_user_id").and_then(scalar);
        let contact = contact_of(
            contacts,
            from.as_deref().unwrap_or(""),
            from_user_id.as_deref().unwrap_or(""),
        );
        let of_contact = |v: Option<&Value>| v.and_then(scalar).filter(|s| !s.is_empty());
        let user_id = from_user_id
            .or_else(|| of_contact(contact.and_then(|c| c.get("user_id"))))
            .unwrap_or_default();
        let country = of_contact(contact.and_then(|c| c.get("profile")?.get("country_code")))
            .unwrap_or_default();
        let user = match from {
            Some(u) => Some(u),
            None if !user_id.is_empty() => Some(String::new()),
            None => self.required(m, path, "from"),
        };
        let ts = self.timestamp(m, path);
        let kind = self.required(m, path, "type");
        let (Some(id), Some(user), Some(ts), Some(kind)) = (id, user, ts, kind) else {
            return;
        };
        self.out.inbound.push(InboundMessage {
            id,
            ts,
            user,
            user_id,
            country,
            waba: waba.to_string(),
            number: number.to_string(),
            kind,
            entry_point: m.get("referral").is_some_and(Value::is_object),
            group: m.get("group_id").and_then(scalar).unwrap_or_default(),
            line: self.line,
        });
    }

    fn status(&mut self, s: &Value, path: &str, waba: &str, number: &str) {
        let Some(s) = s.as_object() else {
            return self.problem(path, Some(s), "not an object");
        };
        // §6: providers that relay Meta's webhooks may put their own id in `id` and Meta's in
        // `meta_msg_id` (Gupshup): Meta's id is the message's id.
        let id = match s
            .get("meta_msg_id")
            .and_then(scalar)
            .filter(|x| !x.trim().is_empty())
        {
            Some(meta) => Some(meta),
            None => self.required(s, path, "id"),
        };
        let st = self.required(s, path, "status");
        let ts = self.timestamp(s, path);
        let status = st
            .as_deref()
            .and_then(|x| match x.trim().to_ascii_lowercase().as_str() {
                "sent" => Some(Status::Sent),
                "delivered" => Some(Status::Delivered),
                // A played voice message was delivered and read.
                "read" | "played" => Some(Status::Read),
                "failed" => Some(Status::Failed),
                _ => None,
            });
        if st.is_some() && status.is_none() {
            self.problem(
                &format!("{path}.status"),
                s.get("status"),
                "unknown status (expected sent, delivered, read, played or failed)",
            );
        }
        let (pricing, pricing_unreadable) = match s.get("pricing") {
            None | Some(Value::Null) => (None, false),
            Some(p) => match self.pricing(p, &format!("{path}.pricing")) {
                Some(p) => (Some(p), false),
                None => (None, true),
            },
        };
        let conversation = match s.get("conversation") {
            None | Some(Value::Null) => None,
            Some(c) => self.conversation(c, &format!("{path}.conversation")),
        };
        let (Some(id), Some(status), Some(ts)) = (id, status, ts) else {
            return;
        };
        // GRP-1: a group message has one status per member: `recipient_id` is the group,
        // `recipient_participant_id` the member.
        let is_group = s
            .get("recipient_type")
            .and_then(scalar)
            .is_some_and(|t| t.eq_ignore_ascii_case("group"));
        let recipient = s.get("recipient_id").and_then(scalar).unwrap_or_default();
        let (user, group) = if is_group {
            (
                s.get("recipient_participant_id")
                    .and_then(scalar)
                    .unwrap_or_default(),
                recipient,
            )
        } else {
            (recipient, String::new())
        };
        self.out.statuses.push(StatusUpdate {
            id,
            status,
            ts,
            user,
            group,
            user_id: s
                .get("recipient_user_id")
                .and_then(scalar)
                .unwrap_or_default(),
            waba: waba.to_string(),
            number: number.to_string(),
            pricing,
            pricing_unreadable,
            conversation,
            line: self.line,
        });
    }

    fn pricing(&mut self, p: &Value, path: &str) -> Option<MetaPricing> {
        let Some(p) = p.as_object() else {
            self.problem(path, Some(p), "not an object");
            return None;
        };
        // §6: Meta has announced that `billable` will go; without it a status is billable
        // when its pricing type is `regular` (settled after the type is read, below).
        let billable = match p.get("billable") {
            Some(Value::Bool(b)) => Some(Some(*b)),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Some(Some(true)),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Some(Some(false)),
            None | Some(Value::Null) => Some(None),
            other => {
                self.problem(&format!("{path}.billable"), other, "not a boolean");
                None
            }
        };
        let model = self.required(p, path, "pricing_model").and_then(|m| {
            let r = PricingModel::parse(&m);
            if r.is_none() {
                self.problem(
                    &format!("{path}.pricing_model"),
                    p.get("pricing_model"),
                    "unknown pricing model (expected CBP or PMP)",
                );
            }
            r
        });
        let mut kind_ok = true;
        let kind = p.get("type").and_then(scalar).and_then(|k| {
            let r = PricingType::parse(&k).filter(|t| *t != PricingType::FreeTier);
            if r.is_none() {
                kind_ok = false;
                self.problem(
                    &format!("{path}.type"),
                    p.get("type"),
                    "unknown pricing type (expected regular, free_customer_service, free_entry_point or free_group_customer_service)",
                );
            }
            r
        });
        let category = self.required(p, path, "category").and_then(|c| {
            let r = MetaCategory::parse(&c);
            if r.is_none() {
                self.problem(
                    &format!("{path}.category"),
                    p.get("category"),
                    category_problem(&c),
                );
            }
            r
        });
        match (billable, model, category, kind_ok) {
            (Some(billable), Some(model), Some(category), true) => Some(MetaPricing {
                billable: billable.unwrap_or(kind == Some(PricingType::Regular)),
                model,
                kind,
                category,
            }),
            _ => None,
        }
    }

    fn conversation(&mut self, c: &Value, path: &str) -> Option<MetaConversation> {
        let Some(c) = c.as_object() else {
            self.problem(path, Some(c), "not an object");
            return None;
        };
        let id = self.required(c, path, "id")?;
        let expires = c
            .get("expiration_timestamp")
            .and_then(scalar)
            .and_then(|s| parse_timestamp(&s));
        let origin = c
            .get("origin")
            .and_then(|o| o.get("type"))
            .and_then(scalar)
            .and_then(|t| {
                let r = MetaCategory::parse(&t);
                if r.is_none() {
                    self.problem(
                        &format!("{path}.origin.type"),
                        Some(&Value::String(t.clone())),
                        "unknown conversation category",
                    );
                }
                r
            });
        Some(MetaConversation {
            id,
            expires,
            origin,
        })
    }
}
