//! The replay's per-row files: the per-message ledger (formats.md §4: one row per business
//! message, in CONV-1 order, with its price, the reason and the rule id behind it) and the
//! rejects file. One writer for both replays: the in-memory replay hands it every row, the
//! partitioned replay its merged, already encoded records; CSV or Parquet by extension.

use std::io::{Read, Write};
use std::path::Path;

use anyhow::Result;
use chrono::{DateTime, SecondsFormat};

use crate::billing::engine::{Outcome, Replay};
use crate::billing::markets::MarketTable;
use crate::billing::types::*;
use crate::io::log::Reject;
use crate::io::log::{Log, BSUID_KEY};
use crate::io::output::write_atomic_with;
use crate::io::text::{spreadsheet_cell, spreadsheet_string};

/// The ledger's columns, in order (a contract: formats.md §4).
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

/// An instant as RFC 3339 UTC, with as many fraction digits as it needs.
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
    /// The user: `+` and the number, or the BSUID (MKT-4).
    pub user: &'a dyn std::fmt::Display,
    pub country: Country,
    pub market: &'a str,
    pub month: String,
    pub ty: &'a str,
    pub template: Option<TemplateCategory>,
    /// The row's status as the ledger writes it (`delivered`, `failed`…; a call's `accepted`,
    /// `missed`).
    pub status: &'static str,
    pub outcome: &'a Outcome,
}

impl Entry<'_> {
    /// The row's fields, in [`COLUMNS`] order, each formula-safe for a spreadsheet
    /// ([`spreadsheet_string`]: both replays render rows here, so both ledgers are the same).
    pub fn fields(&self) -> [String; 18] {
        let o = self.outcome;
        [
            self.row.to_string(),
            self.id.to_string(),
            rfc3339(self.ts),
            self.waba.to_string(),
            self.number.to_string(),
            self.user.to_string(),
            self.country.to_string(),
            self.market.to_string(),
            self.month.clone(),
            self.ty.to_string(),
            self.template.map(|c| c.id()).unwrap_or("").to_string(),
            self.status.to_string(),
            o.rulebook.map(|r| r.id()).unwrap_or("").to_string(),
            o.billed.map(|b| b.id()).unwrap_or("").to_string(),
            conversation(o),
            o.price.to_decimal_string(),
            o.reason.map(|r| r.id()).unwrap_or("").to_string(),
            o.rule.map(|r| r.id()).unwrap_or("").to_string(),
        ]
        .map(spreadsheet_string)
    }
}

/// How the ledger names a user key of the partitioned replay (MKT-4): `+` and the number, or
/// the BSUID (keys with [`BSUID_KEY`] index `bsuids`).
pub struct UserLabel<'a> {
    pub key: u64,
    pub bsuids: &'a [String],
    /// GRP-1: a group row's member, named instead of the group.
    pub member: Option<&'a str>,
}

impl std::fmt::Display for UserLabel<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(m) = self.member {
            f.write_str(m)
        } else if self.key & BSUID_KEY != 0 {
            let b = (self.key & !BSUID_KEY) as usize;
            f.write_str(self.bsuids.get(b).map_or("", String::as_str))
        } else {
            write!(f, "+{}", self.key)
        }
    }
}

/// What the ledger says of a row's kind: its template category and status, for the rows that
/// are business messages or business calls (CALL-3: `accepted`, or `not_answered` for a missed or
/// rejected call); `None` for what the user sent (messages, calls).
pub fn business_row(kind: Kind) -> Option<(Option<TemplateCategory>, &'static str)> {
    match kind {
        Kind::Out { template, status } => Some((template, status.id())),
        Kind::Bot { status, .. } => Some((None, status.id())),
        Kind::Call {
            by_user: false,
            accepted,
        } => Some((None, if accepted { "accepted" } else { "not_answered" })),
        Kind::In { .. } | Kind::Call { .. } => None,
    }
}

/// How the ledger names the user of a row: a group row's member (GRP-1), else the chat's user.
pub fn user_of<'a>(log: &'a Log, row: u32, chat_user: usize) -> &'a str {
    match log.member_of(row) {
        Some(m) => m,
        None => &log.users[chat_user],
    }
}

/// Rows of the in-memory replay's ledger as strings, in CONV-1 order.
pub fn rows<'a>(
    log: &'a Log,
    replay: &'a Replay,
    markets: &'a MarketTable,
    accounts: &'a crate::billing::accounts::Accounts,
) -> impl Iterator<Item = [String; 18]> + 'a {
    replay.order.iter().filter_map(move |&ei| {
        let e = &log.events[ei as usize];
        let (template, status) = business_row(e.kind)?;
        let o = &replay.outcomes[ei as usize];
        let chat = log.chats[e.chat as usize];
        let user = if chat.group {
            user_of(log, e.row, chat.user as usize)
        } else {
            &log.users[chat.user as usize]
        };
        Some(
            Entry {
                row: e.row,
                id: log.id_of(ei as usize),
                ts: e.ts,
                waba: &accounts.wabas[chat.waba as usize].id,
                number: &log.numbers[chat.number as usize],
                user: &user,
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

/// The one ledger writer: the header, then `body` writes the records as CSV; the file is CSV,
/// or Parquet (string columns) when `path` ends in `.parquet`. Written atomically.
pub fn write_with(path: &Path, body: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<()> {
    let is_parquet = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"));
    write_atomic_with(path, |w| {
        let header = |w: &mut dyn Write| -> Result<()> {
            w.write_all(COLUMNS.join(",").as_bytes())?;
            w.write_all(b"\n")?;
            Ok(())
        };
        if is_parquet {
            let mut sink = crate::io::parquet::CsvToParquet::new(w);
            header(&mut sink)?;
            body(&mut sink)?;
            sink.finish()
        } else {
            header(w)?;
            body(w)
        }
    })
}

/// Write the in-memory replay's ledger.
pub fn write(
    path: &Path,
    log: &Log,
    replay: &Replay,
    markets: &MarketTable,
    accounts: &crate::billing::accounts::Accounts,
) -> Result<()> {
    write_with(path, |w| {
        let mut cw = csv::Writer::from_writer(w);
        for r in rows(log, replay, markets, accounts) {
            cw.write_record(&r)?;
        }
        cw.flush()?;
        Ok(())
    })
}

/// The rejects file's columns.
const REJECTS_COLUMNS: [&str; 6] = ["file", "row", "column", "value", "error", "record"];

/// Whether `path` is a rejects file wabill wrote (a file whose first line is the rejects
/// header): the only kind a run without rejects removes.
pub fn is_rejects_file(path: &Path) -> bool {
    use std::io::BufRead;
    let Ok(f) = std::fs::File::open(path) else {
        return false;
    };
    let mut first = String::new();
    let read = std::io::BufReader::new(f).take(4096).read_line(&mut first);
    path.is_file() && read.is_ok() && first.trim_end() == REJECTS_COLUMNS.join(",")
}

/// Write rejected rows of `file`: where, what, why, and the row as read; every cell
/// formula-safe for a spreadsheet ([`spreadsheet_cell`]).
pub fn write_rejects(path: &Path, file: &str, rejects: &[Reject]) -> Result<()> {
    write_atomic_with(path, |w| {
        let mut cw = csv::Writer::from_writer(w);
        cw.write_record(REJECTS_COLUMNS)?;
        for r in rejects {
            let row = r.row.to_string();
            let cells = [file, &row, &r.column, &r.value, &r.message, &r.record];
            cw.write_record(cells.map(spreadsheet_cell).iter().map(|c| c.as_bytes()))?;
        }
        cw.flush()?;
        Ok(())
    })?;
    let _ = std::io::stderr().flush();
    Ok(())
}
