//! Meta's WhatsApp webhooks (billing-rules.md §6) written from a replay (`replay
//! --emit-webhooks`): one JSON body per line, what Meta would have sent if it billed exactly as
//! wabill did. Reading webhooks (for `reconcile`, or as a log) is `io::log::webhooks`; its items
//! are re-exported here for the callers of this path.

use serde_json::{json, Value};

use crate::billing::accounts::Accounts;
use crate::billing::engine::{Event, Outcome, Replay};
use crate::billing::meta::{expected, MetaCategory, Openers, PricingModel, PricingType};
use crate::billing::types::{Billed, Kind, Status, TemplateCategory};
use crate::io::log::Log;

pub use crate::io::log::webhooks::{parse_webhooks, read_webhooks, InboundMessage, WebhookFile};

/// Webhook payloads for a replay, one JSON body per line, in CONV-1 order: what Meta would have
/// sent if it billed exactly as wabill did (the `pricing` objects come from
/// [`expected`]). Inbound messages carry a `referral` when they are entry points; each delivered
/// business message gets a `sent` and a `delivered` status (and `read` when the log says read),
/// both with `pricing`, and a `conversation` for CBP conversations and free entry point windows;
/// a failed one a `failed` status (error 131047 when Meta would have rejected it, CONV-4); an
/// unconfirmed one only `sent`. Messages without an id get `wabill.row<ROW>`; conversation ids
/// are synthetic (`conv.<chat>.<category>.<opening unix time>`).
pub fn webhooks_from_replay(log: &Log, replay: &Replay, accounts: &Accounts) -> String {
    let openers = Openers::new(&log.events, &replay.outcomes);
    let mut out = String::new();
    let numbers: Vec<String> = log
        .numbers
        .iter()
        .map(|n| n.chars().filter(|c| c.is_ascii_digit()).collect())
        .collect();
    for &ei in &replay.order {
        let ei = ei as usize;
        let e = &log.events[ei];
        let chat = log.chats[e.chat as usize];
        let waba = accounts.wabas[chat.waba as usize].id.as_str();
        let number = &numbers[chat.number as usize];
        let m = Message {
            id: match log.id_of(ei) {
                "" => format!("wabill.row{}", e.row),
                s => s.to_string(),
            },
            ts: secs(e.ts),
            user: &log.users[chat.user as usize],
        };
        match e.kind {
            Kind::In { entry_point } => push(
                &mut out,
                waba,
                number,
                "messages",
                m.inbound(e, entry_point),
            ),
            Kind::Out { template, status } => {
                let o = &replay.outcomes[ei];
                for s in m.statuses(e, o, &openers, template, status) {
                    push(&mut out, waba, number, "statuses", s);
                }
            }
            Kind::Bot { status, .. } => {
                let o = &replay.outcomes[ei];
                for s in m.statuses(e, o, &openers, None, status) {
                    push(&mut out, waba, number, "statuses", s);
                }
            }
            // Calls arrive as `calls` webhooks, which this writer does not produce.
            Kind::Call { .. } => {}
        }
    }
    out
}

/// One webhook body (`value_key`: `messages` or `statuses`, holding `item`) as a line of `out`.
fn push(out: &mut String, waba: &str, number: &str, value_key: &str, item: Value) {
    let body = json!({
        "object": "whatsapp_business_account",
        "entry": [{
            "id": waba,
            "changes": [{
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {
                        "display_phone_number": number,
                        "phone_number_id": format!("pn.{number}"),
                    },
                    value_key: [item],
                },
                "field": "messages",
            }],
        }],
    });
    out.push_str(&body.to_string());
    out.push('\n');
}

/// Unix seconds, as webhooks write them.
fn secs(t: i64) -> String {
    t.div_euclid(1_000_000).to_string()
}

/// What every webhook of one message names.
struct Message<'a> {
    id: String,
    /// Unix seconds.
    ts: String,
    user: &'a str,
}

impl Message<'_> {
    /// An inbound message (`messages[]`), with a `referral` when it is an entry point.
    fn inbound(&self, e: &Event, entry_point: bool) -> Value {
        let mut m = json!({
            "from": self.user,
            "id": self.id,
            "timestamp": self.ts,
            "type": "text",
            "text": {"body": ""},
        });
        if entry_point {
            m["referral"] = json!({
                "source_url": "https://fb.me/wabill",
                "source_id": format!("ad.{}", e.row),
                "source_type": "ad",
                "headline": "",
                "body": "",
                "media_type": "image",
                "ctwa_clid": format!("ctwa.{}", e.row),
            });
        }
        m
    }

    fn status(&self, st: &str) -> Value {
        json!({
            "id": self.id,
            "status": st,
            "timestamp": self.ts,
            "recipient_id": self.user,
        })
    }

    /// A business message's statuses (`statuses[]`), in order.
    fn statuses(
        &self,
        e: &Event,
        o: &Outcome,
        openers: &Openers,
        template: Option<TemplateCategory>,
        status: Status,
    ) -> Vec<Value> {
        let Some(x) = expected(e, o, openers) else {
            return vec![self.undelivered(status)];
        };
        // PMP-3 windows: Meta names the message's own category with type free_entry_point.
        let category = match (x.model, x.kind) {
            (PricingModel::Pmp, PricingType::FreeEntryPoint) => template
                .map(Billed::from_template)
                .map(MetaCategory::from_billed)
                .unwrap_or(MetaCategory::Service),
            _ => x.category,
        };
        let mut pricing = json!({
            "billable": x.billable,
            "pricing_model": x.model.id(),
            "category": category.pricing_id(),
        });
        if x.model == PricingModel::Pmp {
            pricing["type"] = json!(x.kind.id());
        }
        let mut sent = self.status("sent");
        if let Some(w) = x.window {
            sent["conversation"] = json!({
                "id": format!("conv.{}.{}.{}", w.chat, w.billed.id(), secs(w.start)),
                "expiration_timestamp": secs(w.expires()),
                "origin": {"type": x.category.id()},
            });
        }
        sent["pricing"] = pricing.clone();
        let mut delivered = self.status("delivered");
        delivered["pricing"] = pricing;
        let mut out = vec![sent, delivered];
        if status == Status::Read {
            out.push(self.status("read"));
        }
        out
    }

    /// The one status of a message Meta did not deliver: `sent` when unconfirmed, else `failed`.
    fn undelivered(&self, status: Status) -> Value {
        let mut s = self.status(if status == Status::Sent {
            "sent"
        } else {
            "failed"
        });
        if status != Status::Sent {
            let (code, title) = (131026, "Message undeliverable");
            s["errors"] = json!([{"code": code, "title": title, "message": title}]);
        }
        s
    }
}
