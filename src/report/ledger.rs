//! The per-message ledger (formats.md §4): one row per business message, in CONV-1 order, with
//! its price, the reason and the rule id behind it.

use std::io::Write;
use std::path::Path;

use anyhow::Result;
use chrono::{DateTime, SecondsFormat};

use crate::billing::engine::{Outcome, Replay};
use crate::billing::markets::MarketTable;
use crate::billing::types::*;
use crate::io::log::Log;
use crate::io::output::write_atomic_with;

pub const COLUMNS: [&str; 18] = [
    "row",
    "id",
    "timestamp",
    "waba",
    "number",
    "user",
    "country",
    "market",
    "month",
    "type",
    "category",
    "status",
    "rulebook",
    "billed_as",
    "conversation",
    "price",
    "reason",
    "rule",
];

pub fn rfc3339(ts: i64) -> String {
    DateTime::from_timestamp_micros(ts)
        .map(|d| d.to_rfc3339_opts(SecondsFormat::AutoSi, true))
        .unwrap_or_default()
}

fn conversation(o: &Outcome) -> String {
    let pmp_unit = o.rulebook.is_some_and(|r| !r.is_cbp())
        && o.reason != Some(Reason::InConversation)
        && o.billed != Some(Billed::FreeEntryPoint);
    match (o.conv_start, o.billed) {
        (Some(s), Some(b)) if !pmp_unit => format!("{}@{}", b.id(), rfc3339(s)),
        _ => String::new(),
    }
}

/// What one ledger row says about a business message, by reference.
pub struct Entry<'a> {
    pub row: u32,
    pub id: &'a str,
    pub ts: i64,
    pub waba: &'a str,
    pub number: &'a str,
    /// The user's number, digits only.
    pub user: &'a dyn std::fmt::Display,
    pub country: Country,
    pub market: &'a str,
    pub month: String,
    pub ty: &'a str,
    pub template: Option<TemplateCategory>,
    pub status: Status,
    pub outcome: &'a Outcome,
}

impl Entry<'_> {
    /// The row's fields, in [`COLUMNS`] order.
    pub fn fields(&self) -> [String; 18] {
        let o = self.outcome;
        [
            self.row.to_string(),
            self.id.to_string(),
            rfc3339(self.ts),
            self.waba.to_string(),
            self.number.to_string(),
            format!("+{}", self.user),
            self.country.to_string(),
            self.market.to_string(),
            self.month.clone(),
            self.ty.to_string(),
            self.template.map(|c| c.id()).unwrap_or("").to_string(),
            self.status.id().to_string(),
            o.rulebook.map(|r| r.id()).unwrap_or("").to_string(),
            o.billed.map(|b| b.id()).unwrap_or("").to_string(),
            conversation(o),
            o.price.to_decimal_string(),
            o.reason.map(|r| r.id()).unwrap_or("").to_string(),
            o.rule.map(|r| r.id()).unwrap_or("").to_string(),
        ]
    }
}

/// Rows of the ledger as strings, in CONV-1 order.
pub fn rows<'a>(
    log: &'a Log,
    replay: &'a Replay,
    markets: &'a MarketTable,
    accounts: &'a crate::billing::accounts::Accounts,
) -> impl Iterator<Item = [String; 18]> + 'a {
    replay.order.iter().filter_map(move |&ei| {
        let e = &log.events[ei as usize];
        let Kind::Out { template, status } = e.kind else {
            return None;
        };
        let o = &replay.outcomes[ei as usize];
        let chat = log.chats[e.chat as usize];
        Some(
            Entry {
                row: e.row,
                id: log.id_of(ei as usize),
                ts: e.ts,
                waba: &accounts.wabas[chat.waba as usize].id,
                number: &log.numbers[chat.number as usize],
                user: &log.users[chat.user as usize],
                country: log.countries[e.country as usize],
                market: markets.name(o.market),
                month: replay.month_of(chat.waba, o),
                ty: &log.types[log.event_type[ei as usize] as usize],
                template,
                status,
                outcome: o,
            }
            .fields(),
        )
    })
}

/// Write the ledger as CSV, or Parquet when the path ends in `.parquet`.
pub fn write(
    path: &Path,
    log: &Log,
    replay: &Replay,
    markets: &MarketTable,
    accounts: &crate::billing::accounts::Accounts,
) -> Result<()> {
    let is_parquet = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"));
    if is_parquet {
        let mut cols: Vec<Vec<String>> = vec![Vec::new(); COLUMNS.len()];
        for r in rows(log, replay, markets, accounts) {
            for (c, v) in cols.iter_mut().zip(r) {
                c.push(v);
            }
        }
        return crate::io::parquet::write_string_columns(path, &COLUMNS, cols);
    }
    write_atomic_with(path, |w| {
        let mut cw = csv::Writer::from_writer(w);
        cw.write_record(COLUMNS)?;
        for r in rows(log, replay, markets, accounts) {
            cw.write_record(&r)?;
        }
        cw.flush()?;
        Ok(())
    })
}

/// Write rejected rows: where, what, why, and the row as read.
pub fn write_rejects(path: &Path, log: &Log) -> Result<()> {
    write_atomic_with(path, |w| {
        let mut cw = csv::Writer::from_writer(w);
        cw.write_record(["file", "row", "column", "value", "error", "record"])?;
        for r in &log.rejects {
            cw.write_record([
                log.path.as_str(),
                &r.row.to_string(),
                &r.column,
                &r.value,
                &r.message,
                &r.record,
            ])?;
        }
        cw.flush()?;
        Ok(())
    })?;
    let _ = std::io::stderr().flush();
    Ok(())
}
