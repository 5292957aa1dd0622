//! Message log reading (formats.md §1): CSV, JSON Lines and Parquet into columnar events.
//!
//! Every row is validated; a row that cannot be read is never dropped silently: it becomes a
//! [`Reject`] naming the row, the column and the value, and is written to the rejects file.
//! Numbers, business numbers, WABAs, countries and message types are interned to integers so the
//! engine never touches a string.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use chrono::{DateTime, NaiveDate};

use crate::billing::accounts::Accounts;
use crate::billing::calendar::local_midnight;
use crate::billing::engine::{ChatKey, Event};
use crate::billing::markets::{number_digits, MarketTable};
use crate::billing::types::*;
use rayon::prelude::*;
use rustc_hash::FxHashMap;

/// The message log's columns (formats.md §1), in this order.
pub use crate::billing::types::LOG_COLUMNS as COLUMNS;
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

impl Reject {
    /// A repeated message id: the row is not billed twice.
    pub(crate) fn duplicate_id(row: u32, id: &str, first_row: u32) -> Reject {
        Reject {
            row: row as u64,
            column: "id".into(),
            value: id.to_string(),
            message: format!(
                "duplicate message id (first seen on row {first_row}); not billed twice"
            ),
            record: String::new(),
        }
    }

    /// A row without an explicit country whose user number has none (MKT-1); `resolved` is
    /// the number's resolution (its error says why).
    pub(crate) fn without_country(
        row: u32,
        user: u64,
        resolved: &Option<Result<Country, String>>,
    ) -> Reject {
        Reject {
            row: row as u64,
            column: "user".into(),
            value: format!("+{user}"),
            message: resolved.clone().and_then(Result::err).unwrap_or_default(),
            record: String::new(),
        }
    }

    /// The rejection of field `col` of a row.
    pub(crate) fn of_field(
        row: u64,
        col: usize,
        message: String,
        f: &Fields,
        record: &dyn Fn() -> String,
    ) -> Reject {
        Reject {
            row,
            column: COLUMNS[col].to_string(),
            value: f[col].map(str::trim).unwrap_or("").to_string(),
            message,
            record: record(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("{path}: {message}")]
    Fatal { path: String, message: String },
}

pub(crate) fn fatal(path: &Path, message: impl Into<String>) -> LogError {
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

/// One row, validated, before interning: what every reader produces (in parallel for CSV).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Parsed<'r> {
    pub(crate) ts: i64,
    pub(crate) kind: Kind,
    /// The user's number as an integer (E.164 has at most 15 digits, never a leading 0).
    pub(crate) user: u64,
    pub(crate) waba: u16,
    pub(crate) number: &'r str,
    pub(crate) ty: &'r str,
    pub(crate) country: Option<Country>,
    pub(crate) id: &'r str,
}

/// What [`parse_row`] needs to know.
#[derive(Clone)]
pub(crate) struct RowRules<'a> {
    accounts: &'a Accounts,
    auto_rulebook: bool,
    /// Per WABA: the UTC instant of 2022-02-01 00:00 local, before which no rulebook applies.
    first_rulebook: Vec<i64>,
}

impl<'a> RowRules<'a> {
    pub(crate) fn new(accounts: &'a Accounts, auto_rulebook: bool) -> RowRules<'a> {
        let (y, m, d) = Rulebook::Cbp2022.start();
        RowRules {
            accounts,
            auto_rulebook,
            first_rulebook: accounts
                .wabas
                .iter()
                .map(|w| local_midnight(w.tz, NaiveDate::from_ymd_opt(y, m, d).expect("date")))
                .collect(),
        }
    }
}

/// `str::trim`, without its Unicode scan for the common field that starts and ends with a
/// visible ASCII byte (every whitespace character is ASCII ≤ 0x20 or starts/ends with a byte ≥
/// 0x80).
fn trim(s: &str) -> &str {
    match (s.as_bytes().first(), s.as_bytes().last()) {
        (Some(&a), Some(&z)) if (0x21..0x80).contains(&a) && (0x21..0x80).contains(&z) => s,
        _ => s.trim(),
    }
}

/// Validate one row's fields; pure, so readers can run it in parallel.
/// `Err((column, message))`: the value is the column's field.
pub(crate) fn parse_row<'r>(f: &Fields<'r>, r: &RowRules) -> Result<Parsed<'r>, (usize, String)> {
    let get = |c: usize| f[c].map(trim).unwrap_or("");
    let bad = |c: usize, msg: &str| Err((c, msg.to_string()));
    let ts = match parse_timestamp(get(C_TS)) {
        Some(t) if (MIN_INSTANT..=MAX_INSTANT).contains(&t) => t,
        Some(_) => return bad(C_TS, "instant out of range (years 0001 to 9999 UTC)"),
        None if get(C_TS).is_empty() => return bad(C_TS, "missing timestamp"),
        None => return bad(
            C_TS,
            "not an RFC 3339 instant with offset (2025-07-03T10:00:00Z) or integer Unix seconds",
        ),
    };
    let dir = get(C_DIR);
    let inbound = if dir.eq_ignore_ascii_case("in") || dir.eq_ignore_ascii_case("inbound") {
        true
    } else if dir.eq_ignore_ascii_case("out") || dir.eq_ignore_ascii_case("outbound") {
        false
    } else if dir.is_empty() {
        return bad(C_DIR, "missing direction");
    } else {
        return bad(
            C_DIR,
            "unknown direction (expected in, out, inbound or outbound)",
        );
    };
    let user = match number_digits(get(C_USER)) {
        Some(u) => u,
        None if get(C_USER).is_empty() => return bad(C_USER, "missing user number"),
        None => {
            return bad(
                C_USER,
                "unparseable number (E.164: 4 to 15 digits; `+`, spaces and dashes tolerated)",
            )
        }
    };
    let waba = match r.accounts.waba_index(get(C_WABA)) {
        Some(w) => w as u16,
        None => {
            return Err((
                C_WABA,
                format!(
                    "unknown WABA (the accounts file defines: {})",
                    r.accounts
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
        let ep = get(C_EP);
        let entry_point = if ep.is_empty() {
            false
        } else if ep.eq_ignore_ascii_case("ctwa") || ep.eq_ignore_ascii_case("page_cta") {
            true
        } else {
            return bad(
                C_EP,
                "unknown entry point (expected ctwa, page_cta or empty)",
            );
        };
        Kind::In { entry_point }
    } else {
        let ty = get(C_TYPE);
        if ty.is_empty() {
            return bad(C_TYPE, "missing message type on an outbound row");
        }
        let template = if ty.eq_ignore_ascii_case("template") {
            match TemplateCategory::parse(get(C_CAT)) {
                Some(c) => Some(c),
                None if get(C_CAT).is_empty() => return bad(C_CAT, "template without category"),
                None => {
                    return bad(
                        C_CAT,
                        "unknown template category (expected marketing, utility or authentication)",
                    )
                }
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
        if r.auto_rulebook {
            if ts < r.first_rulebook[waba as usize] {
                return bad(
                    C_TS,
                    "business message before 2022-02-01, when no rulebook applies (§1); use --rulebook to price it anyway",
                );
            }
        }
        Kind::Out { template, status }
    };
    let explicit = get(C_COUNTRY);
    let country = if explicit.is_empty() {
        None
    } else {
        match Country::parse(explicit) {
            Some(c) => Some(c),
            None => return bad(C_COUNTRY, "not an ISO 3166 alpha-2 country code"),
        }
    };
    Ok(Parsed {
        ts,
        kind,
        user,
        waba,
        number: get(C_NUMBER),
        ty: if inbound { "" } else { get(C_TYPE) },
        country,
        id: get(C_ID),
    })
}

/// Where readers send rows, in file order: the in-memory [`LogBuilder`], or the partitioned
/// replay's spill writer.
pub(crate) trait RowSink<'a> {
    /// The validation rules ([`parse_row`] runs in parallel with a copy of them).
    fn rules(&self) -> RowRules<'a>;
    /// Count one more data row (read or not); its number, from 1.
    fn next_row(&mut self) -> u64;
    /// Rows seen so far (data rows, rejected ones included).
    fn rows(&self) -> u64;
    /// Keep a valid row.
    fn keep(&mut self, p: &Parsed, row: u64);
    /// Keep a rejected row.
    fn reject(&mut self, r: Reject);
    /// Reserve room for about `rows` more rows.
    fn reserve(&mut self, _rows: usize) {}
    /// Add one validated row (or its rejection) in file order; `record` renders the raw row
    /// for the rejects file (only called on reject).
    fn absorb(
        &mut self,
        parsed: Result<Parsed, (usize, String)>,
        f: &Fields,
        record: &dyn Fn() -> String,
    ) {
        let row = self.next_row();
        match parsed {
            Ok(p) => self.keep(&p, row),
            Err((col, message)) => self.reject(Reject::of_field(row, col, message, f, record)),
        }
    }
    /// Reject a row that could not even be split into fields.
    fn push_unreadable(&mut self, message: String, record: String) {
        let row = self.next_row();
        self.reject(Reject {
            row,
            column: String::new(),
            value: String::new(),
            message,
            record,
        });
    }
    /// Validate and add one row.
    fn push(&mut self, f: &Fields, record: &dyn Fn() -> String) {
        let parsed = parse_row(f, &self.rules());
        self.absorb(parsed, f, record);
    }
}

/// Country index placeholder: the user's country, resolved in [`LogBuilder::finish`].
pub(crate) const FROM_USER: u16 = u16::MAX;

/// Strings interned to dense ids in order of first sight; most logs repeat the previous row's
/// value (one business number, few message types), so it is checked before hashing.
#[derive(Debug, Default)]
pub(crate) struct Interner {
    pub(crate) names: Vec<String>,
    ix: FxHashMap<String, u32>,
    last: Option<u32>,
}

impl Interner {
    pub(crate) fn id(&mut self, s: &str) -> u32 {
        let id = match self.last {
            Some(l) if self.names[l as usize] == s => l,
            _ => match self.ix.get(s) {
                Some(&i) => i,
                None => {
                    let i = self.names.len() as u32;
                    self.names.push(s.to_string());
                    self.ix.insert(s.to_string(), i);
                    i
                }
            },
        };
        self.last = Some(id);
        id
    }
}

/// Builds a [`Log`] row by row (any reader), or block by block (the parallel CSV reader).
pub struct LogBuilder<'a> {
    pub(crate) rules: RowRules<'a>,
    markets: &'a MarketTable,
    log: Log,
    user_ix: FxHashMap<u64, u32>,
    user_num: Vec<u64>,
    /// The last chat of each user.
    user_chat: Vec<u32>,
    numbers: Interner,
    types: Interner,
    country_ix: FxHashMap<Country, u16>,
    chat_ix: FxHashMap<ChatKey, u32>,
}

/// One row's fields, in [`COLUMNS`] order (`None`: the column is absent).
pub(crate) type Fields<'r> = [Option<&'r str>; 11];

impl<'a> RowSink<'a> for LogBuilder<'a> {
    fn rules(&self) -> RowRules<'a> {
        self.rules.clone()
    }

    fn next_row(&mut self) -> u64 {
        self.log.rows += 1;
        self.log.rows
    }

    fn rows(&self) -> u64 {
        self.log.rows
    }

    fn keep(&mut self, p: &Parsed, row: u64) {
        self.intern(p, row);
    }

    fn reject(&mut self, r: Reject) {
        self.log.rejects.push(r);
    }

    fn reserve(&mut self, rows: usize) {
        self.log.events.reserve(rows);
        self.log.event_type.reserve(rows);
        self.log.event_id.reserve(rows);
        self.log.id_ends.reserve(rows);
    }
}

impl<'a> LogBuilder<'a> {
    pub fn new(accounts: &'a Accounts, markets: &'a MarketTable, auto_rulebook: bool) -> Self {
        LogBuilder {
            rules: RowRules::new(accounts, auto_rulebook),
            markets,
            log: Log::default(),
            user_ix: FxHashMap::default(),
            user_num: Vec::new(),
            user_chat: Vec::new(),
            numbers: Interner::default(),
            types: Interner::default(),
            country_ix: FxHashMap::default(),
            chat_ix: FxHashMap::default(),
        }
    }

    fn country_index(&mut self, c: Country) -> u16 {
        let n = self.log.countries.len() as u16;
        *self.country_ix.entry(c).or_insert_with(|| {
            self.log.countries.push(c);
            n
        })
    }

    fn intern(&mut self, p: &Parsed, row: u64) {
        let user = match self.user_ix.get(&p.user) {
            Some(&u) => u,
            None => {
                let u = self.user_num.len() as u32;
                self.user_num.push(p.user);
                self.user_chat.push(u32::MAX);
                self.user_ix.insert(p.user, u);
                u
            }
        };
        // MKT-3: an explicit country overrides the number (resolved later, once per user).
        let country = match p.country {
            Some(c) => self.country_index(c),
            None => FROM_USER,
        };
        let number = self.numbers.id(p.number);
        let key = ChatKey {
            waba: p.waba,
            number,
            user,
        };
        // Most users talk to one business number: their last chat answers without hashing.
        let cached = self.user_chat[user as usize];
        let chat = if cached != u32::MAX && self.log.chats[cached as usize] == key {
            cached
        } else {
            let next_chat = self.chat_ix.len() as u32;
            let chat = *self.chat_ix.entry(key).or_insert(next_chat);
            if chat == next_chat {
                self.log.chats.push(key);
            }
            self.user_chat[user as usize] = chat;
            chat
        };
        let ty_ix = self.types.id(p.ty) as u16;
        let id_ix = if p.id.is_empty() {
            u32::MAX
        } else {
            self.log.ids.push_str(p.id);
            self.log.id_ends.push(self.log.ids.len());
            (self.log.id_ends.len() - 1) as u32
        };
        self.log.events.push(Event {
            ts: p.ts,
            row: row as u32,
            chat,
            country,
            kind: p.kind,
        });
        self.log.event_type.push(ty_ix);
        self.log.event_id.push(id_ix);
    }

    /// Finish: resolve each user's country once (MKT-1, in parallel), reject rows whose number
    /// has no country, drop duplicate message ids (the first in CONV-1 order is kept; each later
    /// one is a reject), sort rejects by row.
    pub fn finish(mut self, path: &str) -> Log {
        self.log.numbers = std::mem::take(&mut self.numbers.names);
        self.log.types = std::mem::take(&mut self.types.names);
        let markets = self.markets;
        let t = std::time::Instant::now();
        let needed = users_needing_country(&self.log.events, &self.log.chats, self.user_num.len());
        let resolved = resolve_countries(markets, &self.user_num, &needed);
        let user_cidx: Vec<u16> = resolved
            .iter()
            .map(|r| match r {
                Some(Ok(c)) => self.country_index(*c),
                _ => FROM_USER,
            })
            .collect();
        if std::env::var_os("WABILL_TRACE").is_some() {
            eprintln!("wabill: resolve users: {:.3} s", t.elapsed().as_secs_f64());
        }
        let log = &mut self.log;
        log.path = path.to_string();
        log.users = self.user_num.iter().map(|n| n.to_string()).collect();
        let mut drop = vec![false; log.events.len()];
        let mut dropped = Vec::new();
        for (i, e) in log.events.iter_mut().enumerate() {
            if e.country == FROM_USER {
                let user = log.chats[e.chat as usize].user as usize;
                e.country = user_cidx[user];
                if e.country == FROM_USER {
                    drop[i] = true;
                    dropped.push(Reject::without_country(
                        e.row,
                        self.user_num[user],
                        &resolved[user],
                    ));
                }
            }
        }
        // Duplicate ids: sort (id hash, instant, row) in parallel, then compare the ids of
        // equal hashes; within a group the first in CONV-1 order is kept.
        let hasher = rustc_hash::FxBuildHasher;
        let mut keyed: Vec<(u64, i64, u32, u32)> = (0..log.events.len() as u32)
            .into_par_iter()
            .filter(|&i| log.event_id[i as usize] != u32::MAX && !drop[i as usize])
            .map(|i| {
                let e = &log.events[i as usize];
                let h =
                    std::hash::BuildHasher::hash_one(&hasher, log.id_str(log.event_id[i as usize]));
                (h, e.ts, e.row, i)
            })
            .collect();
        keyed.par_sort_unstable();
        let mut g = 0;
        while g < keyed.len() {
            let mut end = g + 1;
            while end < keyed.len() && keyed[end].0 == keyed[g].0 {
                end += 1;
            }
            if end - g > 1 {
                let group = &keyed[g..end];
                let id = |k: &(u64, i64, u32, u32)| log.id_str(log.event_id[k.3 as usize]);
                let ids: Vec<&[u8]> = group.iter().map(|k| id(k).as_bytes()).collect();
                for (j, first) in repeated_ids(&ids, &vec![true; ids.len()]) {
                    drop[group[j].3 as usize] = true;
                    dropped.push(Reject::duplicate_id(
                        group[j].2,
                        id(&group[j]),
                        group[first].2,
                    ));
                }
            }
            g = end;
        }
        if !dropped.is_empty() {
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
            log.rejects.extend(dropped);
        }
        log.rejects.sort_by_key(|r| r.row);
        self.log
    }
}

/// MKT-1: each user number's country, in parallel (a +1 area-code memo per chunk).
/// Only users with a row that has no explicit country (`needed`) are looked up (MKT-3: an
/// explicit country wins); the others are `None`.
pub(crate) fn resolve_countries(
    markets: &MarketTable,
    users: &[u64],
    needed: &[bool],
) -> Vec<Option<Result<Country, String>>> {
    users
        .par_chunks(4096)
        .zip(needed.par_chunks(4096))
        .flat_map_iter(|(chunk, needed)| {
            let mut memo = std::collections::HashMap::new();
            chunk
                .iter()
                .zip(needed)
                .map(|(n, &need)| {
                    need.then(|| markets.country_of_number_memo(&n.to_string(), &mut memo))
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// One group of occurrences of ids that share a hash, in CONV-1 order: for each occurrence
/// that repeats an earlier id, its index and the index of the first one (which is kept).
/// Occurrences that are not `eligible` (rows rejected for another reason) neither repeat nor
/// count as a first.
pub(crate) fn repeated_ids(ids: &[&[u8]], eligible: &[bool]) -> Vec<(usize, usize)> {
    let mut kept = eligible.to_vec();
    let mut repeats = Vec::new();
    for j in 0..ids.len() {
        if !kept[j] {
            continue;
        }
        if let Some(first) = (0..j).find(|&k| kept[k] && ids[k] == ids[j]) {
            kept[j] = false;
            repeats.push((j, first));
        }
    }
    repeats
}

/// Which users have a row whose country comes from the number (`FROM_USER`).
pub(crate) fn users_needing_country(
    events: &[Event],
    chats: &[ChatKey],
    users: usize,
) -> Vec<bool> {
    let mut needed = vec![false; users];
    for e in events.iter().filter(|e| e.country == FROM_USER) {
        needed[chats[e.chat as usize].user as usize] = true;
    }
    needed
}

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
    // Day 719,163 of the common era is 1970-01-01.
    let days = chrono::Datelike::num_days_from_ce(&NaiveDate::from_ymd_opt(y as i32, mo, d)?)
        as i64
        - 719_163;
    Some((days * 86_400 + (h * 3600 + mi * 60 + se) as i64) * 1_000_000)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Csv,
    Jsonl,
    Parquet,
    /// Meta's webhook payloads, one JSON body per line (`io::webhooks`); never guessed from the
    /// extension, since such files are JSON Lines too.
    Webhooks,
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

/// Read a log file of any supported format, chosen by its extension.
pub fn read_log(
    path: &Path,
    accounts: &Accounts,
    markets: &MarketTable,
    auto_rulebook: bool,
    progress: &dyn Fn(u64),
) -> Result<Log, LogError> {
    let format = LogFormat::from_path(path);
    read_log_as(path, format, accounts, markets, auto_rulebook, progress)
}

/// Read a log file in the given format.
pub fn read_log_as(
    path: &Path,
    format: LogFormat,
    accounts: &Accounts,
    markets: &MarketTable,
    auto_rulebook: bool,
    progress: &dyn Fn(u64),
) -> Result<Log, LogError> {
    // `WABILL_PLAIN_READER=1`: the reference CSV path (see [`read_log_plain`]).
    let plain = std::env::var_os("WABILL_PLAIN_READER").is_some();
    read_log_with(
        path,
        format,
        accounts,
        markets,
        auto_rulebook,
        progress,
        plain,
    )
}

/// [`read_log`] through the plain CSV path: the csv crate, one record at a time, no parallel
/// parsing. The reference the fast path is tested against (same log, byte for byte).
pub fn read_log_plain(
    path: &Path,
    accounts: &Accounts,
    markets: &MarketTable,
    auto_rulebook: bool,
) -> Result<Log, LogError> {
    let format = LogFormat::from_path(path);
    read_log_with(
        path,
        format,
        accounts,
        markets,
        auto_rulebook,
        &|_| {},
        true,
    )
}

fn read_log_with(
    path: &Path,
    format: LogFormat,
    accounts: &Accounts,
    markets: &MarketTable,
    auto_rulebook: bool,
    progress: &dyn Fn(u64),
    plain: bool,
) -> Result<Log, LogError> {
    check_log_file(path)?;
    let mut b = LogBuilder::new(accounts, markets, auto_rulebook);
    match format {
        LogFormat::Csv if plain => read_csv_with(path, &mut b, progress, true)?,
        LogFormat::Csv => read_csv(path, &mut b, progress)?,
        LogFormat::Jsonl => read_jsonl(path, &mut b, progress)?,
        LogFormat::Parquet => crate::io::parquet::read_parquet(path, &mut b, progress)?,
        LogFormat::Webhooks => crate::io::webhooks::read_into(path, &mut b, accounts, progress)?,
    }
    let t = std::time::Instant::now();
    let log = b.finish(&path.display().to_string());
    if std::env::var_os("WABILL_TRACE").is_some() {
        eprintln!("wabill: finish: {:.3} s", t.elapsed().as_secs_f64());
    }
    if log.rows == 0 {
        return Err(fatal(path, "no messages (only a header)"));
    }
    Ok(log)
}

/// A log path must be a non-empty file; returns its size in bytes.
pub(crate) fn check_log_file(path: &Path) -> Result<u64, LogError> {
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
    Ok(meta.len())
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

/// Bytes read per block: the file is never held in memory whole.
const BLOCK: usize = 32 << 20;

/// End of the last complete record in `buf` that is outside any quoted field (even number of
/// `"` before it), or `None` if there is none.
pub(crate) fn record_cut(buf: &[u8]) -> Option<usize> {
    let mut quotes = memchr::memchr_iter(b'"', buf).count();
    let mut end = buf.len();
    while let Some(nl) = memchr::memrchr(b'\n', &buf[..end]) {
        // Quotes after this newline belong to the incomplete tail.
        quotes -= memchr::memchr_iter(b'"', &buf[nl + 1..end]).count();
        if quotes % 2 == 0 {
            return Some(nl + 1);
        }
        end = nl;
    }
    None
}

/// Split `body` into about `parts` pieces at record boundaries.
fn split_records(body: &[u8], parts: usize) -> Vec<&[u8]> {
    let mut out = Vec::with_capacity(parts);
    let mut rest = body;
    let target = (body.len() / parts.max(1)).max(1 << 16);
    while rest.len() > target {
        match record_cut(&rest[..target]).filter(|&c| c > 0) {
            Some(c) => {
                out.push(&rest[..c]);
                rest = &rest[c..];
            }
            None => break,
        }
    }
    if !rest.is_empty() {
        out.push(rest);
    }
    out
}

/// A piece of a block parsed in parallel: rows in file order, borrowing the block's bytes.
enum Piece<'r> {
    /// No quotes: split on newlines and commas directly.
    Fast(Vec<(Result<Parsed<'r>, (usize, String)>, &'r str)>),
    /// Has quotes (or is not UTF-8): the csv crate, in order, during the merge.
    Slow(&'r [u8]),
}

fn parse_fast<'r>(
    piece: &'r [u8],
    map: &[Option<usize>; 11],
    rules: &RowRules,
) -> Option<Vec<(Result<Parsed<'r>, (usize, String)>, &'r str)>> {
    if memchr::memchr(b'"', piece).is_some() {
        return None;
    }
    let text = std::str::from_utf8(piece).ok()?;
    let mut out = Vec::with_capacity(piece.len() / 80);
    let mut cells: Vec<&str> = Vec::with_capacity(16);
    // Byte searches (`,` and `\n` are ASCII, so every cut is a char boundary): str::split with
    // a char pattern is several times slower here.
    let mut start = 0;
    for nl in memchr::memchr_iter(b'\n', piece).chain(std::iter::once(piece.len())) {
        let line = &text[start..nl];
        start = nl + 1;
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        cells.clear();
        let mut cell = 0;
        for comma in memchr::memchr_iter(b',', line.as_bytes()) {
            cells.push(&line[cell..comma]);
            cell = comma + 1;
        }
        cells.push(&line[cell..]);
        let fields: Fields = std::array::from_fn(|c| map[c].and_then(|i| cells.get(i).copied()));
        out.push((parse_row(&fields, rules), line));
    }
    Some(out)
}

pub(crate) fn read_csv(
    path: &Path,
    b: &mut dyn RowSink<'_>,
    progress: &dyn Fn(u64),
) -> Result<(), LogError> {
    read_csv_with(path, b, progress, false)
}

/// `plain`: the csv crate, one record at a time (the reference path).
fn read_csv_with(
    path: &Path,
    b: &mut dyn RowSink<'_>,
    progress: &dyn Fn(u64),
    plain: bool,
) -> Result<(), LogError> {
    let mut file = File::open(path).map_err(|e| fatal(path, format!("cannot open: {e}")))?;
    if let Ok(m) = file.metadata() {
        // About 90 bytes a row in typical logs.
        b.reserve((m.len() / 90) as usize);
    }
    let mut buf: Vec<u8> = Vec::with_capacity(BLOCK + (1 << 20));
    let mut map: Option<[Option<usize>; 11]> = None;
    let mut eof = false;
    let rules = b.rules();
    let parts = rayon::current_num_threads() * 4;
    while !eof {
        // Fill the block.
        let start = buf.len();
        buf.resize(start + BLOCK, 0);
        let mut filled = start;
        while filled < buf.len() {
            let n = file
                .read(&mut buf[filled..])
                .map_err(|e| fatal(path, format!("read error: {e}")))?;
            if n == 0 {
                eof = true;
                break;
            }
            filled += n;
        }
        buf.truncate(filled);
        let cut = if eof {
            buf.len()
        } else {
            match record_cut(&buf) {
                Some(c) => c,
                None => continue, // a record longer than a block: read more
            }
        };
        let mut body_start = 0;
        if map.is_none() {
            // The header is the first record.
            let hcut = record_cut(&buf[..cut]).unwrap_or(cut);
            let first_nl =
                (0..hcut).find(|&i| buf[i] == b'\n' && record_cut(&buf[..=i]) == Some(i + 1));
            let hend = first_nl.map(|i| i + 1).unwrap_or(cut);
            let mut rdr = csv::ReaderBuilder::new()
                .has_headers(false)
                .from_reader(&buf[..hend]);
            let mut rec = csv::StringRecord::new();
            let ok = rdr
                .read_record(&mut rec)
                .map_err(|e| fatal(path, format!("cannot read the header: {e}")))?;
            if !ok {
                return Err(fatal(
                    path,
                    "empty file (expected a header row and messages)",
                ));
            }
            let names: Vec<String> = rec.iter().map(|s| s.to_string()).collect();
            map = Some(header_map(path, &names)?);
            body_start = hend;
        }
        let map = map.expect("header read");
        let body = &buf[body_start..cut];
        let tp = std::time::Instant::now();
        let pieces: Vec<Piece> = if plain {
            vec![Piece::Slow(body)]
        } else {
            split_records(body, parts)
                .into_par_iter()
                .map(|p| match parse_fast(p, &map, &rules) {
                    Some(rows) => Piece::Fast(rows),
                    None => Piece::Slow(p),
                })
                .collect()
        };
        let tp = tp.elapsed().as_secs_f64();
        let tm = std::time::Instant::now();
        for piece in pieces {
            match piece {
                Piece::Fast(rows) => {
                    for (parsed, line) in rows {
                        let fields: Fields = {
                            // Only needed to name a rejected value.
                            let cells: Vec<&str> = if parsed.is_err() {
                                line.split(',').collect()
                            } else {
                                Vec::new()
                            };
                            std::array::from_fn(|c| map[c].and_then(|i| cells.get(i).copied()))
                        };
                        b.absorb(parsed, &fields, &|| line.to_string());
                    }
                }
                Piece::Slow(bytes) => read_csv_records(bytes, &map, b),
            }
        }
        if std::env::var_os("WABILL_TRACE").is_some() {
            eprintln!(
                "wabill: block: parse {tp:.3} s, merge {:.3} s",
                tm.elapsed().as_secs_f64()
            );
        }
        progress(b.rows());
        buf.drain(..cut);
    }
    if map.is_none() {
        return Err(fatal(
            path,
            "empty file (expected a header row and messages)",
        ));
    }
    Ok(())
}

/// The csv crate's reader over a slice of records (quoted fields, odd encodings).
fn read_csv_records(bytes: &[u8], map: &[Option<usize>; 11], b: &mut dyn RowSink<'_>) {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut rec = csv::ByteRecord::new();
    loop {
        match rdr.read_byte_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {
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
            Err(e) => b.push_unreadable(format!("unreadable CSV record: {e}"), String::new()),
        }
    }
}

pub(crate) fn read_jsonl(
    path: &Path,
    b: &mut dyn RowSink<'_>,
    progress: &dyn Fn(u64),
) -> Result<(), LogError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast `…Z` path agrees with chrono's RFC 3339 parser, years 0001 to 9999, leap days
    /// and the epoch included; impossible dates are refused.
    #[test]
    fn fast_utc_timestamps_equal_chrono() {
        let mut t: i64 = MIN_INSTANT / 1_000_000;
        let end = MAX_INSTANT / 1_000_000;
        let step = (end - t) / 20_011;
        let mut checked = 0;
        while t <= end {
            for s in [t, 0, 951_782_400, 1_709_164_800, -86_401] {
                let text = DateTime::from_timestamp(s, 0)
                    .unwrap()
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                assert_eq!(
                    parse_utc_fast(text.as_bytes()),
                    Some(s * 1_000_000),
                    "{text}"
                );
                checked += 1;
            }
            t += step;
        }
        assert!(checked > 100_000);
        for bad in [
            "2023-02-29T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-04-31T10:00:00Z",
        ] {
            assert_eq!(parse_utc_fast(bad.as_bytes()), None, "{bad}");
        }
    }
}
