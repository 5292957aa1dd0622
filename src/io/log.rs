//! Message log reading (formats.md §1): CSV, JSON Lines and Parquet into columnar events.
//!
//! Every row is validated; a row that cannot be read is never dropped silently: it becomes a
//! [`Reject`] naming the row, the column and the value, and is written to the rejects file.
//! Numbers, business numbers, WABAs, countries and message types are interned to integers so the
//! engine never touches a string.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use chrono::{DateTime, NaiveDate};

use crate::billing::accounts::Accounts;
use crate::billing::calendar::local_date;
use crate::billing::engine::{ChatKey, Event};
use crate::billing::markets::{normalize_number_into, MarketTable};
use crate::billing::types::*;

/// The log's columns we read, in this order.
pub const COLUMNS: [&str; 11] = [
    "timestamp",
    "direction",
    "user",
    "type",
    "category",
    "status",
    "entry_point",
    "waba",
    "number",
    "country",
    "id",
];
const C_TS: usize = 0;
const C_DIR: usize = 1;
const C_USER: usize = 2;
const C_TYPE: usize = 3;
const C_CAT: usize = 4;
const C_STATUS: usize = 5;
const C_EP: usize = 6;
const C_WABA: usize = 7;
const C_NUMBER: usize = 8;
const C_COUNTRY: usize = 9;
const C_ID: usize = 10;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    pub row: u64,
    pub column: String,
    pub value: String,
    pub message: String,
    /// The row as read (CSV fields re-joined, or the JSON line).
    pub record: String,
}

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("{path}: {message}")]
    Fatal { path: String, message: String },
}

fn fatal(path: &Path, message: impl Into<String>) -> LogError {
    LogError::Fatal {
        path: path.display().to_string(),
        message: message.into(),
    }
}

/// A parsed log: events plus the tables they index into.
#[derive(Debug, Default)]
pub struct Log {
    pub path: String,
    pub events: Vec<Event>,
    pub chats: Vec<ChatKey>,
    pub countries: Vec<Country>,
    /// User numbers, digits only.
    pub users: Vec<String>,
    /// Business numbers (`""` = the WABA's only number, CONV-3).
    pub numbers: Vec<String>,
    /// Message type per event (index into `types`).
    pub event_type: Vec<u16>,
    pub types: Vec<String>,
    /// Message id per event: index into `ids`, or `u32::MAX`.
    pub event_id: Vec<u32>,
    /// All message ids, concatenated; `id_ends[i]` is the end of id `i`.
    pub ids: String,
    pub id_ends: Vec<usize>,
    pub rows: u64,
    pub rejects: Vec<Reject>,
}

impl Log {
    pub fn id_of(&self, event: usize) -> &str {
        match self.event_id[event] {
            u32::MAX => "",
            i => self.id_str(i),
        }
    }

    /// Message id number `i` (an index from `event_id`).
    pub fn id_str(&self, i: u32) -> &str {
        let end = self.id_ends[i as usize];
        let start = if i == 0 {
            0
        } else {
            self.id_ends[i as usize - 1]
        };
        &self.ids[start..end]
    }
}

/// Builds a [`Log`] row by row.
pub struct LogBuilder<'a> {
    accounts: &'a Accounts,
    markets: &'a MarketTable,
    auto_rulebook: bool,
    log: Log,
    user_ix: HashMap<String, u32>,
    user_country: Vec<Result<Country, String>>,
    digits: String,
    number_ix: HashMap<String, u32>,
    type_ix: HashMap<String, u16>,
    country_ix: HashMap<Country, u16>,
    chat_ix: HashMap<ChatKey, u32>,
    first_rulebook: NaiveDate,
}

type Fields<'r> = [Option<&'r str>; 11];

impl<'a> LogBuilder<'a> {
    pub fn new(accounts: &'a Accounts, markets: &'a MarketTable, auto_rulebook: bool) -> Self {
        let (y, m, d) = Rulebook::Cbp2022.start();
        LogBuilder {
            accounts,
            markets,
            auto_rulebook,
            log: Log::default(),
            user_ix: HashMap::new(),
            user_country: Vec::new(),
            digits: String::new(),
            number_ix: HashMap::new(),
            type_ix: HashMap::new(),
            country_ix: HashMap::new(),
            chat_ix: HashMap::new(),
            first_rulebook: NaiveDate::from_ymd_opt(y, m, d).expect("date"),
        }
    }

    fn country_index(&mut self, c: Country) -> u16 {
        let n = self.log.countries.len() as u16;
        *self.country_ix.entry(c).or_insert_with(|| {
            self.log.countries.push(c);
            n
        })
    }

    /// Add one row; `record` renders the raw row for the rejects file (only called on reject).
    pub fn push(&mut self, f: &Fields, record: &dyn Fn() -> String) {
        self.log.rows += 1;
        let row = self.log.rows;
        if let Err((col, value, message)) = self.try_push(f, row) {
            self.log.rejects.push(Reject {
                row,
                column: COLUMNS[col].to_string(),
                value: value.to_string(),
                message,
                record: record(),
            });
        }
    }

    /// Reject a row that could not even be split into fields.
    pub fn push_unreadable(&mut self, message: String, record: String) {
        self.log.rows += 1;
        self.log.rejects.push(Reject {
            row: self.log.rows,
            column: String::new(),
            value: String::new(),
            message,
            record,
        });
    }

    fn try_push(&mut self, f: &Fields, row: u64) -> Result<(), (usize, String, String)> {
        let get = |c: usize| f[c].map(str::trim).unwrap_or("");
        let bad = |c: usize, msg: &str| Err((c, get(c).to_string(), msg.to_string()));

        let ts = match parse_timestamp(get(C_TS)) {
            Some(t) if (MIN_INSTANT..=MAX_INSTANT).contains(&t) => t,
            Some(_) => {
                return bad(
                    C_TS,
                    "instant out of range (years 0001 to 9999 UTC)",
                )
            }
            None if get(C_TS).is_empty() => return bad(C_TS, "missing timestamp"),
            None => {
                return bad(
                    C_TS,
                    "not an RFC 3339 instant with offset (2025-07-03T10:00:00Z) or integer Unix seconds",
                )
            }
        };
        let dir = get(C_DIR).to_ascii_lowercase();
        let inbound = match dir.as_str() {
            "in" | "inbound" => true,
            "out" | "outbound" => false,
            "" => return bad(C_DIR, "missing direction"),
            _ => {
                return bad(
                    C_DIR,
                    "unknown direction (expected in, out, inbound or outbound)",
                )
            }
        };
        if !normalize_number_into(get(C_USER), &mut self.digits) {
            return bad(
                C_USER,
                if get(C_USER).is_empty() {
                    "missing user number"
                } else {
                    "unparseable number (E.164 digits; `+`, spaces and dashes tolerated)"
                },
            );
        }
        let waba = match self.accounts.waba_index(get(C_WABA)) {
            Some(w) => w as u16,
            None => {
                return Err((
                    C_WABA,
                    get(C_WABA).to_string(),
                    format!(
                        "unknown WABA (the accounts file defines: {})",
                        self.accounts
                            .wabas
                            .iter()
                            .map(|w| w.id.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ))
            }
        };
        let kind = if inbound {
            let ep = match get(C_EP).to_ascii_lowercase().as_str() {
                "" => false,
                "ctwa" | "page_cta" => true,
                _ => {
                    return bad(
                        C_EP,
                        "unknown entry point (expected ctwa, page_cta or empty)",
                    )
                }
            };
            Kind::In { entry_point: ep }
        } else {
            let ty = get(C_TYPE);
            if ty.is_empty() {
                return bad(C_TYPE, "missing message type on an outbound row");
            }
            let template = if ty.eq_ignore_ascii_case("template") {
                match TemplateCategory::parse(get(C_CAT)) {
                    Some(c) => Some(c),
                    None if get(C_CAT).is_empty() => {
                        return bad(C_CAT, "template without category")
                    }
                    None => return bad(
                        C_CAT,
                        "unknown template category (expected marketing, utility or authentication)",
                    ),
                }
            } else {
                None
            };
            let Some(status) = Status::parse(get(C_STATUS)) else {
                return bad(
                    C_STATUS,
                    "unknown status (expected delivered, read, sent or failed)",
                );
            };
            if self.auto_rulebook {
                let tz = self.accounts.wabas[waba as usize].tz;
                if local_date(tz, ts) < self.first_rulebook {
                    return bad(
                        C_TS,
                        "business message before 2022-02-01, when no rulebook applies (§1); use --rulebook to price it anyway",
                    );
                }
            }
            Kind::Out { template, status }
        };
        let explicit = get(C_COUNTRY);
        let explicit_country = if explicit.is_empty() {
            None
        } else {
            match Country::parse(explicit) {
                Some(c) => Some(c),
                None => return bad(C_COUNTRY, "not an ISO 3166 alpha-2 country code"),
            }
        };
        // MKT-1: resolve each distinct number once.
        let user = match self.user_ix.get(self.digits.as_str()) {
            Some(&u) => u,
            None => {
                let u = self.user_country.len() as u32;
                self.user_country
                    .push(self.markets.country_of_number(&self.digits));
                self.user_ix.insert(self.digits.clone(), u);
                self.log.users.push(self.digits.clone());
                u
            }
        };
        let resolved = self.user_country[user as usize].clone();
        // MKT-3: an explicit country overrides the number.
        let country = match (explicit_country, resolved) {
            (Some(c), _) => c,
            (None, Ok(c)) => c,
            (None, Err(e)) => return Err((C_USER, get(C_USER).to_string(), e)),
        };
        let country = self.country_index(country);
        let number_s = get(C_NUMBER);
        let number = match self.number_ix.get(number_s) {
            Some(&n) => n,
            None => {
                let n = self.number_ix.len() as u32;
                self.number_ix.insert(number_s.to_string(), n);
                self.log.numbers.push(number_s.to_string());
                n
            }
        };
        let key = ChatKey { waba, number, user };
        let next_chat = self.chat_ix.len() as u32;
        let chat = *self.chat_ix.entry(key).or_insert(next_chat);
        if chat == next_chat {
            self.log.chats.push(key);
        }
        let ty = if inbound { "" } else { get(C_TYPE) };
        let next_type = self.type_ix.len() as u16;
        let ty_ix = match self.type_ix.get(ty) {
            Some(i) => *i,
            None => {
                self.type_ix.insert(ty.to_string(), next_type);
                self.log.types.push(ty.to_string());
                next_type
            }
        };
        let id = get(C_ID);
        let id_ix = if id.is_empty() {
            u32::MAX
        } else {
            self.log.ids.push_str(id);
            self.log.id_ends.push(self.log.ids.len());
            (self.log.id_ends.len() - 1) as u32
        };
        self.log.events.push(Event {
            ts,
            row: row as u32,
            chat,
            country,
            kind,
        });
        self.log.event_type.push(ty_ix);
        self.log.event_id.push(id_ix);
        Ok(())
    }

    /// Finish: drop duplicate message ids (the first in CONV-1 order is kept; each later one
    /// is a reject), sort rejects by row.
    pub fn finish(mut self, path: &str) -> Log {
        let log = &mut self.log;
        log.path = path.to_string();
        let mut with_id: Vec<u32> = (0..log.events.len() as u32)
            .filter(|&i| log.event_id[i as usize] != u32::MAX)
            .collect();
        with_id.sort_unstable_by_key(|&i| (log.events[i as usize].ts, log.events[i as usize].row));
        let mut seen: HashMap<&str, u32> = HashMap::with_capacity(with_id.len());
        let mut drop = vec![false; log.events.len()];
        let mut dup_rejects = Vec::new();
        for &i in &with_id {
            let id = log.id_str(log.event_id[i as usize]);
            if let Some(&first) = seen.get(id) {
                drop[i as usize] = true;
                let e = &log.events[i as usize];
                dup_rejects.push(Reject {
                    row: e.row as u64,
                    column: "id".into(),
                    value: id.to_string(),
                    message: format!(
                        "duplicate message id (first seen on row {}); not billed twice",
                        log.events[first as usize].row
                    ),
                    record: String::new(),
                });
            } else {
                seen.insert(id, i);
            }
        }
        drop_seen(seen);
        if !dup_rejects.is_empty() {
            let mut k = 0;
            log.events.retain(|_| {
                k += 1;
                !drop[k - 1]
            });
            k = 0;
            log.event_type.retain(|_| {
                k += 1;
                !drop[k - 1]
            });
            k = 0;
            log.event_id.retain(|_| {
                k += 1;
                !drop[k - 1]
            });
            log.rejects.extend(dup_rejects);
        }
        log.rejects.sort_by_key(|r| r.row);
        self.log
    }
}

fn drop_seen<T>(_: T) {}

/// The first and last instants a log may hold (UTC micros): 0001-01-01T00:00:00Z and
/// 9999-12-31T23:59:59.999999Z, RFC 3339's four-digit years. Beyond them the calendar (WABA-local
/// dates and months) is undefined: Unix seconds such as 9223372036854 used to crash the replay.
pub const MIN_INSTANT: i64 = -62_135_596_800_000_000;
pub const MAX_INSTANT: i64 = 253_402_300_799_999_999;

/// RFC 3339 with offset, or integer Unix seconds → UTC microseconds (not range-checked: see
/// [`MIN_INSTANT`], [`MAX_INSTANT`]).
pub fn parse_timestamp(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if s.bytes().all(|b| b.is_ascii_digit())
        || (s.starts_with('-') && s.len() > 1 && s[1..].bytes().all(|b| b.is_ascii_digit()))
    {
        let secs: i64 = s.parse().ok()?;
        return secs.checked_mul(1_000_000);
    }
    if let Some(t) = parse_utc_fast(s.as_bytes()) {
        return Some(t);
    }
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| d.timestamp_micros())
}

/// Fast path for the common `YYYY-MM-DDTHH:MM:SSZ`; anything else goes to chrono.
fn parse_utc_fast(b: &[u8]) -> Option<i64> {
    if b.len() != 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'Z'
    {
        return None;
    }
    let n = |r: std::ops::Range<usize>| -> Option<u32> {
        let mut v = 0u32;
        for &c in &b[r] {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + (c - b'0') as u32;
        }
        Some(v)
    };
    let (y, mo, d, h, mi, se) = (
        n(0..4)?,
        n(5..7)?,
        n(8..10)?,
        n(11..13)?,
        n(14..16)?,
        n(17..19)?,
    );
    if h > 23 || mi > 59 || se > 59 {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(y as i32, mo, d)?;
    let days = date
        .signed_duration_since(NaiveDate::from_ymd_opt(1970, 1, 1)?)
        .num_days();
    Some((days * 86_400 + (h * 3600 + mi * 60 + se) as i64) * 1_000_000)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Csv,
    Jsonl,
    Parquet,
}

impl LogFormat {
    pub fn from_path(p: &Path) -> LogFormat {
        match p
            .extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase())
            .as_deref()
        {
            Some("parquet") | Some("pq") => LogFormat::Parquet,
            Some("jsonl") | Some("ndjson") | Some("json") => LogFormat::Jsonl,
            _ => LogFormat::Csv,
        }
    }
}

/// Read a log file of any supported format.
pub fn read_log(
    path: &Path,
    accounts: &Accounts,
    markets: &MarketTable,
    auto_rulebook: bool,
    progress: &dyn Fn(u64),
) -> Result<Log, LogError> {
    let meta = std::fs::metadata(path).map_err(|e| fatal(path, format!("cannot read: {e}")))?;
    if meta.is_dir() {
        return Err(fatal(path, "is a directory, not a log file"));
    }
    if meta.len() == 0 {
        return Err(fatal(
            path,
            "empty file (expected a header row and messages)",
        ));
    }
    let mut b = LogBuilder::new(accounts, markets, auto_rulebook);
    match LogFormat::from_path(path) {
        LogFormat::Csv => read_csv(path, &mut b, progress)?,
        LogFormat::Jsonl => read_jsonl(path, &mut b, progress)?,
        LogFormat::Parquet => crate::io::parquet::read_parquet(path, &mut b, progress)?,
    }
    let log = b.finish(&path.display().to_string());
    if log.rows == 0 {
        return Err(fatal(path, "no messages (only a header)"));
    }
    Ok(log)
}

pub(crate) fn header_map(path: &Path, names: &[String]) -> Result<[Option<usize>; 11], LogError> {
    let mut map = [None; 11];
    for (i, h) in names.iter().enumerate() {
        let h = h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase();
        if let Some(c) = COLUMNS.iter().position(|c| *c == h) {
            map[c].get_or_insert(i);
        }
    }
    for (c, req) in [(C_TS, "timestamp"), (C_DIR, "direction"), (C_USER, "user")] {
        if map[c].is_none() {
            return Err(fatal(
                path,
                format!(
                    "the header has no `{req}` column (found: {}); required: timestamp, direction, user",
                    names.join(", ")
                ),
            ));
        }
    }
    Ok(map)
}

fn read_csv(path: &Path, b: &mut LogBuilder, progress: &dyn Fn(u64)) -> Result<(), LogError> {
    let file = File::open(path).map_err(|e| fatal(path, format!("cannot open: {e}")))?;
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(BufReader::with_capacity(1 << 20, file));
    let headers: Vec<String> = rdr
        .headers()
        .map_err(|e| fatal(path, format!("cannot read the header: {e}")))?
        .iter()
        .map(|s| s.to_string())
        .collect();
    let map = header_map(path, &headers)?;
    let mut rec = csv::ByteRecord::new();
    let mut n = 0u64;
    loop {
        match rdr.read_byte_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {
                n += 1;
                if n % 1_000_000 == 0 {
                    progress(n);
                }
                let mut fields: Fields = [None; 11];
                let mut utf8_err = None;
                for (c, ix) in map.iter().enumerate() {
                    if let Some(ix) = ix {
                        match rec.get(*ix).map(std::str::from_utf8) {
                            Some(Ok(s)) => fields[c] = Some(s),
                            Some(Err(_)) => utf8_err = Some(c),
                            None => {}
                        }
                    }
                }
                let render = || {
                    rec.iter()
                        .map(|f| String::from_utf8_lossy(f).into_owned())
                        .collect::<Vec<_>>()
                        .join(",")
                };
                if let Some(c) = utf8_err {
                    b.push_unreadable(
                        format!("column `{}` is not valid UTF-8", COLUMNS[c]),
                        render(),
                    );
                } else {
                    b.push(&fields, &render);
                }
            }
            Err(e) => {
                n += 1;
                b.push_unreadable(format!("unreadable CSV record: {e}"), String::new());
                if !matches!(e.kind(), csv::ErrorKind::UnequalLengths { .. }) && e.is_io_error() {
                    return Err(fatal(path, format!("read error: {e}")));
                }
            }
        }
    }
    progress(n);
    Ok(())
}

fn read_jsonl(path: &Path, b: &mut LogBuilder, progress: &dyn Fn(u64)) -> Result<(), LogError> {
    let file = File::open(path).map_err(|e| fatal(path, format!("cannot open: {e}")))?;
    let mut rdr = BufReader::with_capacity(1 << 20, file);
    let mut line = String::new();
    let mut n = 0u64;
    let mut owned: [Option<String>; 11] = Default::default();
    loop {
        line.clear();
        let read = rdr
            .read_line(&mut line)
            .map_err(|e| fatal(path, format!("read error: {e}")))?;
        if read == 0 {
            break;
        }
        let text = line.trim();
        if text.is_empty() {
            continue;
        }
        n += 1;
        if n % 1_000_000 == 0 {
            progress(n);
        }
        let obj: serde_json::Map<String, serde_json::Value> = match serde_json::from_str(text) {
            Ok(o) => o,
            Err(e) => {
                b.push_unreadable(format!("not a JSON object: {e}"), text.to_string());
                continue;
            }
        };
        for (c, name) in COLUMNS.iter().enumerate() {
            owned[c] = match obj.get(*name) {
                None | Some(serde_json::Value::Null) => None,
                Some(serde_json::Value::String(s)) => Some(s.clone()),
                Some(v) => Some(v.to_string()),
            };
        }
        if n == 1 && owned[C_TS].is_none() {
            return Err(fatal(path, "the first record has no `timestamp` field"));
        }
        let fields: Fields = std::array::from_fn(|c| owned[c].as_deref());
        b.push(&fields, &|| text.to_string());
    }
    if n == 0 {
        return Err(fatal(path, "no JSON records"));
    }
    progress(n);
    Ok(())
}

/// Read a whole small file to a string, with a clear error.
pub fn read_text(path: &Path) -> Result<String, LogError> {
    let mut s = String::new();
    File::open(path)
        .and_then(|mut f| f.read_to_string(&mut s))
        .map_err(|e| fatal(path, format!("cannot read: {e}")))?;
    Ok(s)
}

pub(crate) use header_map as csv_header_map;
pub(crate) type RowFields<'r> = Fields<'r>;
