//! Partitioned replay (issue 7): logs larger than memory, in bounded memory, with the same
//! breakdown as the in-memory replay (byte-identical JSON; a test checks it).
//!
//! 1. **Scan.** The log is read as usual (CSV blocks, Parquet row-group slices, JSON Lines) and
//!    every row validated by the one row parser. Each kept row goes, as a fixed 29-byte record, to
//!    one of P *chat files* chosen by a hash of its chat (WABA, business number, user: CONV-3),
//!    and its message id to one of P *id files* chosen by a hash of the id.
//! 2. **Duplicate ids.** Each id file is sorted on its own: equal ids meet in one file, and the
//!    first of each group in CONV-1 order is kept, as in memory.
//! 3. **Chats.** Partition by partition: the chat file becomes events, its users' countries are
//!    resolved (MKT-1), and pass 1 (windows, entry points: [`engine::pass_one`]) runs in parallel
//!    across its chats. Units that need no cross-chat counter are summed; units the pricing pass
//!    must see (CBP-7 free tier, PMP-4 tiers, PMP-5 allowance, list rates) go, in CONV-1 order,
//!    to the partition's *unit file*.
//! 4. **Pricing.** A k-way merge of the unit files restores the global CONV-1 order, and the one
//!    [`Pricer`] prices them: tiers and allowances stay exact across partitions.
//!
//! Memory is one partition's events plus buffers; the calendars are built once, from the
//! instants seen in the scan. Only the breakdown is produced (no ledger, report or webhooks:
//! those need every message's outcome at once).

use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};

use crate::billing::accounts::Accounts;
use crate::billing::engine::{
    self, build_calendars, replay_currency, BillingError, ChatKey, Context, Event, Line, Pricer,
    Totals, WabaCalendar, WabaRanges,
};
use crate::billing::markets::MarketTable;
use crate::billing::money::Money;
use crate::billing::provider::{tally_outcomes, MonthTally};
use crate::billing::types::{Country, Kind, Status, TemplateCategory};
use crate::io::log::{
    check_log_file, fatal, repeated_ids, resolve_countries, users_needing_country, Interner,
    LogError, LogFormat, Parsed, Reject, RowRules, RowSink, FROM_USER,
};
use crate::report::breakdown::{JsonIssue, MessageCounts};
use crate::spill_records::PendingUnit;

/// From this many rows `replay` and `compare` partition by themselves: the partitioned replay
/// is then the faster one too (interning and windows run a partition per thread, in cache).
pub const AUTO_FROM_ROWS: u64 = 2_500_000;
/// Rows per partition the automatic choice aims at (measured best on 10M rows: 20–40 partitions).
pub const ROWS_PER_PARTITION: u64 = 400_000;
/// At most this many partitions by default: each is two spill files written at once during the
/// scan, and the fan-out costs more than smaller partitions save beyond it.
pub const MAX_AUTO_PARTITIONS: usize = 128;

/// Bytes buffered per spill file before they are written.
const SPILL_BUF: usize = 16 << 10;

/// What a partitioned replay produced: the breakdown's parts.
#[derive(Debug)]
pub struct Partitioned {
    pub currency: String,
    pub lines: Vec<Line>,
    pub total: Money,
    pub messages: MessageCounts,
    /// In CONV-1 order.
    pub issues: Vec<JsonIssue>,
    /// Sorted by row.
    pub rejects: Vec<Reject>,
    pub tallies: Vec<MonthTally>,
    /// Calendar months spanned by the messages (WABA-local), as `compare` reports them.
    pub months: u64,
}

impl Partitioned {
    /// The `--format json` object (formats.md §4), as the in-memory replay gives it.
    pub fn json(
        &self,
        accounts: &Accounts,
        forced: Option<crate::billing::types::Rulebook>,
        cards: Vec<crate::report::breakdown::JsonCard>,
    ) -> crate::report::breakdown::JsonReport {
        let mut r = crate::report::breakdown::assemble(
            &self.currency,
            self.total,
            self.messages.clone(),
            &self.lines,
            self.issues.clone(),
            forced,
            cards,
        );
        crate::report::breakdown::add_provider(
            &mut r,
            accounts,
            &self.tallies,
            &self.lines,
            self.total,
        );
        r
    }
}

/// Progress callbacks: `(phase, done, of)`.
pub type Progress<'p> = &'p (dyn Fn(&str, u64, u64) + Sync);

/// A temporary folder for the spill files, removed when dropped.
struct SpillDir(tempfile::TempDir);

impl SpillDir {
    fn new(parent: &Path) -> std::io::Result<SpillDir> {
        std::fs::create_dir_all(parent)?;
        tempfile::Builder::new()
            .prefix("wabill-spill-")
            .tempdir_in(parent)
            .map(SpillDir)
    }
    fn path(&self) -> &Path {
        self.0.path()
    }
    fn file(&self, kind: &str, p: usize) -> PathBuf {
        self.path().join(format!("{kind}-{p:04}.bin"))
    }
}

/// Buffered appends to one spill file.
struct SpillFile {
    file: File,
    buf: Vec<u8>,
}

impl SpillFile {
    fn create(path: &Path) -> std::io::Result<SpillFile> {
        Ok(SpillFile {
            file: File::create(path)?,
            buf: Vec::with_capacity(SPILL_BUF + 1024),
        })
    }
    fn spill_if_full(&mut self) -> std::io::Result<()> {
        if self.buf.len() >= SPILL_BUF {
            self.file.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }
    fn finish(mut self) -> std::io::Result<()> {
        self.file.write_all(&self.buf)?;
        self.file.flush()
    }
}

/// A kept row in a chat file (29 bytes, little endian).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ChatRecord {
    ts: i64,
    row: u32,
    user: u64,
    waba: u16,
    number: u32,
    /// MKT-3: the explicit country, if any.
    country: Option<Country>,
    kind: Kind,
}

const CHAT_RECORD: usize = 29;
const TEMPLATES: [TemplateCategory; 3] = [
    TemplateCategory::Marketing,
    TemplateCategory::Utility,
    TemplateCategory::Authentication,
];
const STATUSES: [Status; 4] = [
    Status::Delivered,
    Status::Read,
    Status::Sent,
    Status::Failed,
];

impl ChatRecord {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.ts.to_le_bytes());
        out.extend_from_slice(&self.row.to_le_bytes());
        out.extend_from_slice(&self.user.to_le_bytes());
        out.extend_from_slice(&self.waba.to_le_bytes());
        out.extend_from_slice(&self.number.to_le_bytes());
        out.extend_from_slice(&self.country.map(|c| c.0).unwrap_or([0, 0]));
        // bit 0: inbound; inbound bit 1: entry point; outbound bits 1-2: template category
        // (0 = not a template), bits 3-4: status.
        out.push(match self.kind {
            Kind::In { entry_point } => 1 | (entry_point as u8) << 1,
            Kind::Out { template, status } => {
                let t = template.map_or(0, |t| {
                    1 + TEMPLATES.iter().position(|x| *x == t).unwrap_or(0) as u8
                });
                let s = STATUSES.iter().position(|x| *x == status).unwrap_or(0) as u8;
                t << 1 | s << 3
            }
        });
    }

    fn decode(b: &[u8]) -> ChatRecord {
        let k = b[28];
        ChatRecord {
            ts: i64::from_le_bytes(b[0..8].try_into().expect("8 bytes")),
            row: u32::from_le_bytes(b[8..12].try_into().expect("4 bytes")),
            user: u64::from_le_bytes(b[12..20].try_into().expect("8 bytes")),
            waba: u16::from_le_bytes([b[20], b[21]]),
            number: u32::from_le_bytes(b[22..26].try_into().expect("4 bytes")),
            country: (b[26] != 0).then_some(Country([b[26], b[27]])),
            kind: if k & 1 == 1 {
                Kind::In {
                    entry_point: k & 2 != 0,
                }
            } else {
                let t = (k >> 1) & 3;
                Kind::Out {
                    template: (t > 0).then(|| TEMPLATES[t as usize - 1]),
                    status: STATUSES[((k >> 3) & 3) as usize],
                }
            },
        }
    }
}

/// The scan's sink: routes rows to the spill files.
struct Scan<'a> {
    rules: RowRules<'a>,
    chat_files: Vec<SpillFile>,
    id_files: Vec<SpillFile>,
    /// For a ledger: each kept row's id and type, in its chat file's order.
    text_files: Option<Vec<SpillFile>>,
    numbers: Interner,
    rows: u64,
    rejects: Vec<Reject>,
    ranges: WabaRanges,
    error: Option<std::io::Error>,
}

fn fx_hash<T: std::hash::Hash + ?Sized>(v: &T) -> u64 {
    std::hash::BuildHasher::hash_one(&rustc_hash::FxBuildHasher, v)
}

/// Partition of a hash: the high bits, multiplied down (FxHash's low bits are weak).
fn part_of(hash: u64, parts: usize) -> usize {
    ((hash.rotate_left(26) as u128 * parts as u128) >> 64) as usize
}

impl Scan<'_> {
    /// Route a kept row to its chat file, and its id to its id file.
    fn spill(&mut self, p: &Parsed, row: u64) -> std::io::Result<()> {
        let number = self.numbers.id(p.number);
        self.ranges.add(p.waba, p.ts);
        let parts = self.chat_files.len();
        let rec = ChatRecord {
            ts: p.ts,
            row: row as u32,
            user: p.user,
            waba: p.waba,
            number,
            country: p.country,
            kind: p.kind,
        };
        let part = part_of(fx_hash(&(p.waba, number, p.user)), parts);
        let f = &mut self.chat_files[part];
        rec.encode(&mut f.buf);
        f.spill_if_full()?;
        if let Some(texts) = &mut self.text_files {
            let f = &mut texts[part];
            for text in [p.id, p.ty] {
                f.buf.extend_from_slice(&(text.len() as u32).to_le_bytes());
                f.buf.extend_from_slice(text.as_bytes());
            }
            f.spill_if_full()?;
        }
        if !p.id.is_empty() {
            let hash = fx_hash(p.id.as_bytes());
            let f = &mut self.id_files[part_of(hash, parts)];
            IdRecord::encode(
                &mut f.buf,
                hash,
                p.ts,
                row as u32,
                p.country.is_some(),
                p.user,
                p.id,
            );
            f.spill_if_full()?;
        }
        Ok(())
    }
}

impl<'a> RowSink<'a> for Scan<'a> {
    fn rules(&self) -> RowRules<'a> {
        self.rules.clone()
    }
    fn next_row(&mut self) -> u64 {
        self.rows += 1;
        self.rows
    }
    fn rows(&self) -> u64 {
        self.rows
    }
    fn keep(&mut self, p: &Parsed, row: u64) {
        if let Err(e) = self.spill(p, row) {
            self.error.get_or_insert(e);
        }
    }
    fn reject(&mut self, r: Reject) {
        self.rejects.push(r);
    }
}

/// One message id occurrence in an id file.
struct IdRecord {
    ts: i64,
    row: u32,
    user: u64,
    explicit_country: bool,
    start: usize,
    len: usize,
}

impl IdRecord {
    /// Hash, instant, row, flags (bit 0: explicit country, bit 1: long id), id length (1 byte,
    /// or 4 for an id over 255 bytes), the user only without an explicit country, the id.
    fn encode(
        buf: &mut Vec<u8>,
        hash: u64,
        ts: i64,
        row: u32,
        explicit_country: bool,
        user: u64,
        id: &str,
    ) {
        let long = id.len() > 255;
        buf.extend_from_slice(&hash.to_le_bytes());
        buf.extend_from_slice(&ts.to_le_bytes());
        buf.extend_from_slice(&row.to_le_bytes());
        buf.push(explicit_country as u8 | (long as u8) << 1);
        if long {
            buf.extend_from_slice(&(id.len() as u32).to_le_bytes());
        } else {
            buf.push(id.len() as u8);
        }
        if !explicit_country {
            buf.extend_from_slice(&user.to_le_bytes());
        }
        buf.extend_from_slice(id.as_bytes());
    }

    /// The record at `at`, and the offset of the next one.
    fn at(bytes: &[u8], at: usize) -> (u64, IdRecord, usize) {
        let at8 = |k: usize| <[u8; 8]>::try_from(&bytes[at + k..at + k + 8]).expect("8 bytes");
        let at4 = |k: usize| <[u8; 4]>::try_from(&bytes[at + k..at + k + 4]).expect("4 bytes");
        let flags = bytes[at + 20];
        let explicit_country = flags & 1 != 0;
        let (len, mut i) = if flags & 2 != 0 {
            (u32::from_le_bytes(at4(21)) as usize, 25)
        } else {
            (bytes[at + 21] as usize, 22)
        };
        let user = if explicit_country {
            0
        } else {
            i += 8;
            u64::from_le_bytes(at8(i - 8))
        };
        let r = IdRecord {
            ts: i64::from_le_bytes(at8(8)),
            row: u32::from_le_bytes(at4(16)),
            user,
            explicit_country,
            start: at + i,
            len,
        };
        (u64::from_le_bytes(at8(0)), r, at + i + len)
    }
}

/// Step 2: duplicate ids of one id file → the rows to drop, and their rejects. Occurrences
/// are sorted by id hash; only ids of equal hash are read and compared byte by byte, and within
/// an id the first in CONV-1 order is kept, as in memory.
fn duplicates_in(bytes: &[u8], markets: &MarketTable) -> (Vec<u32>, Vec<Reject>) {
    let (mut dropped, mut rejects) = (Vec::new(), Vec::new());
    let mut keys: Vec<(u64, u64)> = Vec::with_capacity(bytes.len() / 40);
    let mut i = 0;
    while i < bytes.len() {
        let (hash, _, next) = IdRecord::at(bytes, i);
        keys.push((hash, i as u64));
        i = next;
    }
    keys.par_sort_unstable();
    let id = |r: &IdRecord| &bytes[r.start..r.start + r.len];
    let mut memo = std::collections::HashMap::new();
    let mut g = 0;
    while g < keys.len() {
        let mut end = g + 1;
        while end < keys.len() && keys[end].0 == keys[g].0 {
            end += 1;
        }
        if end - g > 1 {
            let mut group: Vec<IdRecord> = keys[g..end]
                .iter()
                .map(|k| IdRecord::at(bytes, k.1 as usize).1)
                .collect();
            group.sort_by_key(|r| (r.ts, r.row));
            // Rows whose user has no country are rejected for that (step 3) and do not count
            // as the first of their id, as in memory.
            let eligible: Vec<bool> = group
                .iter()
                .map(|r| {
                    r.explicit_country
                        || markets
                            .country_of_number_memo(&r.user.to_string(), &mut memo)
                            .is_ok()
                })
                .collect();
            let ids: Vec<&[u8]> = group.iter().map(id).collect();
            for (j, first) in repeated_ids(&ids, &eligible) {
                let r = &group[j];
                dropped.push(r.row);
                rejects.push(Reject::duplicate_id(
                    r.row,
                    &String::from_utf8_lossy(id(r)),
                    group[first].row,
                ));
            }
        }
        g = end;
    }
    (dropped, rejects)
}

/// A partition's rows as events, built once and replayed under each context.
struct Loaded {
    events: Vec<Event>,
    /// Per event: its record's index in the chat file (and text file).
    record: Vec<u32>,
    chats: Vec<ChatKey>,
    /// User numbers (digits), indexed by `chats[..].user`.
    users: Vec<u64>,
    countries: Vec<Country>,
    /// Rows whose number has no country (MKT-1).
    rejects: Vec<Reject>,
    messages: MessageCounts,
}

/// Step 3, first half: a chat file → events (rows of duplicate ids left out), users'
/// countries resolved once per user.
fn load_partition(bytes: &[u8], dropped: &FxHashSet<u32>, markets: &MarketTable) -> Loaded {
    let mut rejects = Vec::new();
    let mut events: Vec<Event> = Vec::with_capacity(bytes.len() / CHAT_RECORD);
    let mut record: Vec<u32> = Vec::with_capacity(bytes.len() / CHAT_RECORD);
    let mut chats: Vec<ChatKey> = Vec::new();
    // One lookup per row: (WABA, business number, user number) → chat; users are interned only
    // when a chat is new, and the previous row's chat answers without hashing.
    let mut chat_ix: FxHashMap<(u16, u32, u64), u32> = FxHashMap::default();
    let mut users: Vec<u64> = Vec::new();
    let mut user_ix: FxHashMap<u64, u32> = FxHashMap::default();
    let mut countries: Vec<Country> = Vec::new();
    // Countries are two letters A–Z: a direct table.
    let mut country_slot = [u16::MAX; 26 * 26];
    let mut country_ix: FxHashMap<Country, u16> = FxHashMap::default();
    let mut country_index = |c: Country, countries: &mut Vec<Country>| {
        let (a, b) = (c.0[0].wrapping_sub(b'A'), c.0[1].wrapping_sub(b'A'));
        let slot = (a < 26 && b < 26).then(|| a as usize * 26 + b as usize);
        if let Some(i) = slot.filter(|&i| country_slot[i] != u16::MAX) {
            return country_slot[i];
        }
        let ix = *country_ix.entry(c).or_insert_with(|| {
            countries.push(c);
            countries.len() as u16 - 1
        });
        if let Some(i) = slot {
            country_slot[i] = ix;
        }
        ix
    };
    let mut last: Option<((u16, u32, u64), u32)> = None;
    for (k, b) in bytes.chunks_exact(CHAT_RECORD).enumerate() {
        let r = ChatRecord::decode(b);
        if !dropped.is_empty() && dropped.contains(&r.row) {
            continue;
        }
        let key = (r.waba, r.number, r.user);
        let chat = match last {
            Some((k, c)) if k == key => c,
            _ => {
                let next = chats.len() as u32;
                let chat = *chat_ix.entry(key).or_insert(next);
                if chat == next {
                    let next_user = users.len() as u32;
                    let user = *user_ix.entry(r.user).or_insert(next_user);
                    if user == next_user {
                        users.push(r.user);
                    }
                    chats.push(ChatKey {
                        waba: r.waba,
                        number: r.number,
                        user,
                    });
                }
                last = Some((key, chat));
                chat
            }
        };
        record.push(k as u32);
        events.push(Event {
            ts: r.ts,
            row: r.row,
            chat,
            country: r
                .country
                .map_or(FROM_USER, |c| country_index(c, &mut countries)),
            kind: r.kind,
        });
    }
    drop(chat_ix);
    drop(user_ix);
    // MKT-1: users' countries, once per user; rows without one are rejected.
    let needed = users_needing_country(&events, &chats, users.len());
    let resolved = resolve_countries(markets, &users, &needed);
    let user_country: Vec<u16> = resolved
        .iter()
        .map(|r| match r {
            Some(Ok(c)) => country_index(*c, &mut countries),
            _ => FROM_USER,
        })
        .collect();
    let mut unresolved = false;
    for e in events.iter_mut().filter(|e| e.country == FROM_USER) {
        let user = chats[e.chat as usize].user as usize;
        e.country = user_country[user];
        if e.country == FROM_USER {
            unresolved = true;
            rejects.push(Reject::without_country(e.row, users[user], &resolved[user]));
        }
    }
    if unresolved {
        let mut k = 0;
        record.retain(|_| {
            k += 1;
            events[k - 1].country != FROM_USER
        });
        events.retain(|e| e.country != FROM_USER);
    }
    let mut messages = MessageCounts::default();
    for e in &events {
        messages.count(e.kind);
    }

    Loaded {
        events,
        record,
        chats,
        users,
        countries,
        rejects,
        messages,
    }
}

/// What one partition contributes under one context besides its unit file.
struct PartOut {
    totals: Totals,
    /// With (instant, row) for the CONV-1 order.
    issues: Vec<(i64, u32, JsonIssue)>,
    tallies: Vec<MonthTally>,
    /// First and last month (WABA-local) of the partition's messages.
    months: (u32, u32),
}

/// Step 3, second half: pass 1 over a loaded partition → sums, issues, tallies, and the
/// pending units written in CONV-1 order to `units`.
fn replay_loaded(
    l: &Loaded,
    ctx: &Context,
    calendars: &[WabaCalendar],
    units: &mut SpillFile,
) -> std::io::Result<PartOut> {
    let (events, chats) = (&l.events, &l.chats);
    let pass = engine::pass_one(events, chats, &l.countries, ctx, calendars);
    let mut out = PartOut {
        totals: Totals::default(),
        issues: Vec::new(),
        tallies: Vec::new(),
        months: (u32::MAX, 0),
    };
    if ctx.accounts.provider.is_some() {
        out.tallies = tally_outcomes(events, chats, &pass.outcomes, calendars);
    }
    for i in pass.issues {
        let e = &events[i.event as usize];
        out.issues.push((
            e.ts,
            e.row,
            JsonIssue {
                code: i.code.to_string(),
                rule: i.rule.id().to_string(),
                row: e.row as u64,
                message: i.message,
            },
        ));
    }
    for &ei in &pass.order {
        let o = &pass.outcomes[ei as usize];
        let e = &events[ei as usize];
        let chat = chats[e.chat as usize];
        let month = calendars[chat.waba as usize].info[o.period as usize].month;
        out.months = (out.months.0.min(month), out.months.1.max(month));
        if o.is_pending() {
            PendingUnit {
                ts: e.ts,
                row: e.row,
                chat,
                outcome: *o,
            }
            .encode(&mut units.buf);
            units.spill_if_full()?;
        } else {
            out.totals.add(chat.waba, calendars, o);
        }
    }
    Ok(out)
}

/// The head of one unit file in the k-way merge (ordered so the heap's top is the earliest).
struct Head {
    ts: i64,
    row: u32,
    part: usize,
    unit: PendingUnit,
}

impl PartialEq for Head {
    fn eq(&self, o: &Self) -> bool {
        (self.ts, self.row) == (o.ts, o.row)
    }
}
impl Eq for Head {}
impl PartialOrd for Head {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Head {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        // Reversed: BinaryHeap is a max-heap.
        (o.ts, o.row).cmp(&(self.ts, self.row))
    }
}

fn next_unit(r: &mut impl Read, part: usize) -> std::io::Result<Option<Head>> {
    let mut b = [0u8; PendingUnit::BYTES];
    match r.read_exact(&mut b) {
        Ok(()) => {
            let unit = PendingUnit::decode(&b);
            Ok(Some(Head {
                ts: unit.ts,
                row: unit.row,
                part,
                unit,
            }))
        }
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(None),
        Err(e) => Err(e),
    }
}

/// Step 1: read the log, validate every row, and route kept rows to the chat and id files of
/// `dir`. Returns the sink with its row count, rejects and instants seen.
#[allow(clippy::too_many_arguments)]
fn scan<'a>(
    path: &Path,
    format: LogFormat,
    accounts: &'a Accounts,
    auto_rulebook: bool,
    dir: &SpillDir,
    parts: usize,
    texts: bool,
    progress: Progress,
) -> Result<Scan<'a>, ScaleError> {
    let io = |source: std::io::Error| ScaleError::Spill {
        dir: dir.path().display().to_string(),
        source,
    };
    let create = |kind: &str| -> std::io::Result<Vec<SpillFile>> {
        (0..parts)
            .map(|p| SpillFile::create(&dir.file(kind, p)))
            .collect()
    };
    let mut scan = Scan {
        rules: RowRules::new(accounts, auto_rulebook),
        chat_files: create("chats").map_err(io)?,
        id_files: create("ids").map_err(io)?,
        text_files: if texts {
            Some(create("texts").map_err(io)?)
        } else {
            None
        },
        numbers: Interner::default(),
        rows: 0,
        rejects: Vec::new(),
        ranges: WabaRanges::new(accounts.wabas.len()),
        error: None,
    };
    let report = |n: u64| progress("scanning", n, 0);
    match format {
        LogFormat::Csv => crate::io::log::read_csv(path, &mut scan, &report)?,
        LogFormat::Jsonl => crate::io::log::read_jsonl(path, &mut scan, &report)?,
        LogFormat::Parquet => crate::io::parquet::read_parquet(path, &mut scan, &report)?,
        LogFormat::Webhooks => {
            return Err(fatal(
                path,
                "webhook input is not supported by the partitioned replay (drop --partitions)",
            )
            .into())
        }
    }
    if let Some(e) = scan.error.take() {
        return Err(io(e));
    }
    if scan.rows == 0 {
        return Err(fatal(path, "no messages (only a header)").into());
    }
    let texts = scan.text_files.take().unwrap_or_default();
    for f in scan
        .chat_files
        .drain(..)
        .chain(scan.id_files.drain(..))
        .chain(texts)
    {
        f.finish().map_err(io)?;
    }
    Ok(scan)
}

/// Step 4: the pending units of every partition's unit file, merged into one CONV-1 order
/// (each file is in that order) and priced by the one [`Pricer`], added to `totals`.
/// With `priced` (one path per unit file), each unit's decision is also written there, in its
/// unit file's order, for the ledger.
fn price_units(
    files: &[PathBuf],
    priced_files: Option<&[PathBuf]>,
    ctx: &Context,
    calendars: &[WabaCalendar],
    mut totals: Totals,
    progress: &dyn Fn(u64),
) -> std::io::Result<Result<Totals, BillingError>> {
    let mut decisions = match priced_files {
        Some(paths) => Some(
            paths
                .iter()
                .map(|p| SpillFile::create(p))
                .collect::<std::io::Result<Vec<_>>>()?,
        ),
        None => None,
    };
    let mut readers = files
        .iter()
        .map(|f| File::open(f).map(|f| BufReader::with_capacity(1 << 20, f)))
        .collect::<std::io::Result<Vec<_>>>()?;
    let mut heap = BinaryHeap::with_capacity(files.len());
    for (p, r) in readers.iter_mut().enumerate() {
        if let Some(h) = next_unit(r, p)? {
            heap.push(h);
        }
    }
    let mut pricer = Pricer::new(ctx, calendars);
    let mut priced = 0u64;
    while let Some(mut h) = heap.pop() {
        pricer.apply(h.ts, h.unit.chat, &mut h.unit.outcome);
        totals.add(h.unit.chat.waba, calendars, &h.unit.outcome);
        if let Some(d) = &mut decisions {
            let f = &mut d[h.part];
            PendingUnit::encode_priced(&h.unit.outcome, &mut f.buf);
            f.spill_if_full()?;
        }
        priced += 1;
        if priced.is_multiple_of(1 << 20) {
            progress(priced);
        }
        if let Some(next) = next_unit(&mut readers[h.part], h.part)? {
            heap.push(next);
        }
    }
    for f in decisions.into_iter().flatten() {
        f.finish()?;
    }
    Ok(pricer.finish().map(|()| totals))
}

/// A writer whose bytes the caller can take after each flush (one ledger record at a time).
struct Shared(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Step 5: the ledger. Each partition is loaded and replayed again (pass 1 is deterministic),
/// the pricing pass's decisions are laid over its pending units in order, and its business
/// messages become ledger records in CONV-1 order; the partitions' records are then merged by
/// (instant, row) into `out`, as the in-memory replay writes it.
#[allow(clippy::too_many_arguments)]
fn write_ledger(
    dir: &SpillDir,
    parts: usize,
    waves: &[Vec<usize>],
    dropped: &FxHashSet<u32>,
    ctx: &Context,
    calendars: &[WabaCalendar],
    accounts: &Accounts,
    numbers: &[String],
    out: &Path,
    progress: Progress,
) -> anyhow::Result<()> {
    for (w, wave) in waves.iter().enumerate() {
        progress(
            "writing the ledger",
            (w * waves[0].len()) as u64,
            parts as u64,
        );
        wave.par_iter()
            .map(|&p| -> anyhow::Result<()> {
                let read = |kind: &str| -> std::io::Result<Vec<u8>> {
                    let bytes = std::fs::read(dir.file(kind, p))?;
                    let _ = std::fs::remove_file(dir.file(kind, p));
                    Ok(bytes)
                };
                let loaded = load_partition(&read("chats")?, dropped, ctx.markets);
                let texts = read("texts")?;
                let decisions = read("priced")?;
                // Each chat record's id and type: (start, length) of both.
                let mut text_at: Vec<[(usize, usize); 2]> = Vec::new();
                let mut i = 0;
                while i < texts.len() {
                    let mut pair = [(0, 0); 2];
                    for t in &mut pair {
                        let len = u32::from_le_bytes(texts[i..i + 4].try_into()?) as usize;
                        *t = (i + 4, len);
                        i += 4 + len;
                    }
                    text_at.push(pair);
                }
                let text =
                    |(start, len): (usize, usize)| std::str::from_utf8(&texts[start..start + len]);
                let engine::PassOne {
                    order,
                    mut outcomes,
                    ..
                } = engine::pass_one(
                    &loaded.events,
                    &loaded.chats,
                    &loaded.countries,
                    ctx,
                    calendars,
                );
                let mut decisions = decisions.chunks_exact(PendingUnit::PRICED_BYTES);
                let mut file = SpillFile::create(&dir.file("ledger", p))?;
                let record = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
                let mut csv = csv::Writer::from_writer(Shared(record.clone()));
                for &ei in &order {
                    let o = &mut outcomes[ei as usize];
                    if o.is_pending() {
                        let d = decisions.next().ok_or_else(|| {
                            anyhow::anyhow!("partition {p}: a pending unit without its price")
                        })?;
                        PendingUnit::apply_priced(o, d);
                    }
                    let e = &loaded.events[ei as usize];
                    let Kind::Out { template, status } = e.kind else {
                        continue;
                    };
                    let chat = loaded.chats[e.chat as usize];
                    let [id, ty] = text_at[loaded.record[ei as usize] as usize];
                    let entry = crate::report::ledger::Entry {
                        row: e.row,
                        id: text(id)?,
                        ts: e.ts,
                        waba: &accounts.wabas[chat.waba as usize].id,
                        number: &numbers[chat.number as usize],
                        user: &loaded.users[chat.user as usize],
                        country: loaded.countries[e.country as usize],
                        market: ctx.markets.name(o.market),
                        month: crate::billing::calendar::month_label(
                            calendars[chat.waba as usize].info[o.period as usize].month,
                        ),
                        ty: text(ty)?,
                        template,
                        status,
                        outcome: o,
                    };
                    csv.write_record(entry.fields())?;
                    csv.flush()?;
                    let mut record = record.borrow_mut();
                    file.buf.extend_from_slice(&e.ts.to_le_bytes());
                    file.buf.extend_from_slice(&e.row.to_le_bytes());
                    file.buf
                        .extend_from_slice(&(record.len() as u32).to_le_bytes());
                    file.buf.extend_from_slice(&record);
                    record.clear();
                    file.spill_if_full()?;
                }
                file.finish()?;
                Ok(())
            })
            .collect::<anyhow::Result<Vec<()>>>()?;
    }

    // The partitions' records, merged by (instant, row) behind the header.
    progress("merging the ledger", 0, 0);
    let mut readers = (0..parts)
        .map(|p| File::open(dir.file("ledger", p)).map(|f| BufReader::with_capacity(1 << 16, f)))
        .collect::<std::io::Result<Vec<_>>>()?;
    let next = |r: &mut BufReader<File>| -> std::io::Result<Option<(i64, u32, Vec<u8>)>> {
        let mut head = [0u8; 16];
        match r.read_exact(&mut head) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(e),
        }
        let ts = i64::from_le_bytes(head[0..8].try_into().expect("8 bytes"));
        let row = u32::from_le_bytes(head[8..12].try_into().expect("4 bytes"));
        let mut record =
            vec![0u8; u32::from_le_bytes(head[12..16].try_into().expect("4 bytes")) as usize];
        r.read_exact(&mut record)?;
        Ok(Some((ts, row, record)))
    };
    let mut heap = BinaryHeap::new();
    for (p, r) in readers.iter_mut().enumerate() {
        if let Some((ts, row, record)) = next(r)? {
            heap.push(std::cmp::Reverse((ts, row, p, record)));
        }
    }
    let mut copy = |w: &mut dyn Write| -> anyhow::Result<()> {
        w.write_all(crate::report::ledger::COLUMNS.join(",").as_bytes())?;
        w.write_all(b"\n")?;
        let mut written = 0u64;
        while let Some(std::cmp::Reverse((_, _, p, record))) = heap.pop() {
            w.write_all(&record)?;
            written += 1;
            if written.is_multiple_of(1 << 20) {
                progress("merging the ledger", written, 0);
            }
            if let Some((ts, row, record)) = next(&mut readers[p])? {
                heap.push(std::cmp::Reverse((ts, row, p, record)));
            }
        }
        Ok(())
    };
    let parquet = out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"));
    crate::io::output::write_atomic_with(out, |w| {
        if parquet {
            let mut sink = crate::io::parquet::CsvToParquet::new(w);
            copy(&mut sink)?;
            sink.finish()
        } else {
            copy(w)
        }
    })
}

/// Errors of a partitioned replay.
#[derive(Debug, thiserror::Error)]
pub enum ScaleError {
    #[error(transparent)]
    Log(#[from] LogError),
    #[error(transparent)]
    Billing(#[from] BillingError),
    #[error("cannot use spill files in {dir} (--spill-dir)")]
    Spill { dir: String, source: std::io::Error },
    #[error("cannot write the ledger")]
    Ledger(#[source] anyhow::Error),
}

/// `--partitions`: `Some(0)` keeps the replay in memory (`None`), `Some(n)` asks for `n`
/// partitions, no option lets [`auto_partitions`] choose.
pub fn partitions(requested: Option<usize>, path: &Path, format: LogFormat) -> Option<usize> {
    match requested {
        Some(0) => None,
        Some(n) => Some(n),
        None => auto_partitions(path, format),
    }
}

/// The automatic partition count for a log, `None` below [`AUTO_FROM_ROWS`] (a Parquet
/// file's row count is in its footer; text logs are estimated at 90 bytes a row): about
/// [`ROWS_PER_PARTITION`] rows each, at most [`MAX_AUTO_PARTITIONS`], a multiple of the thread
/// count (partitions run a wave per thread).
pub fn auto_partitions(path: &Path, format: LogFormat) -> Option<usize> {
    let rows = match format {
        LogFormat::Parquet => crate::io::parquet::row_count(path).unwrap_or(0),
        _ => std::fs::metadata(path).map(|m| m.len() / 90).unwrap_or(0),
    };
    if rows < AUTO_FROM_ROWS {
        return None;
    }
    let parts = (rows.div_ceil(ROWS_PER_PARTITION) as usize).min(MAX_AUTO_PARTITIONS);
    let threads = rayon::current_num_threads().max(1);
    Some(parts.div_ceil(threads) * threads)
}

/// Replay `path` in `parts` partitions, spilling to a temporary folder under `spill`; with
/// `ledger`, also write the per-message ledger there (CSV, or Parquet by extension), the same
/// as the in-memory replay's.
#[allow(clippy::too_many_arguments)]
pub fn replay_partitioned(
    path: &Path,
    format: LogFormat,
    accounts: &Accounts,
    ctx: &Context,
    parts: usize,
    spill: &Path,
    ledger: Option<&Path>,
    progress: Progress,
) -> Result<Partitioned, ScaleError> {
    let auto = ctx.forced.is_none();
    let mut all = replay_partitioned_many(
        path,
        format,
        accounts,
        std::slice::from_ref(ctx),
        auto,
        parts,
        spill,
        ledger,
        progress,
    )?;
    Ok(all.pop().expect("one context")?)
}

/// Read once, price many: the log scanned, checked and loaded once, each partition replayed
/// under every context (rulebooks, `--rates-at`), one result per context. `auto_rulebook`: at
/// least one context follows the date (§1: business rows before 2022-02-01 are then rejected).
/// `ledger`: the first context's per-message ledger, written to that path.
#[allow(clippy::too_many_arguments)]
pub fn replay_partitioned_many(
    path: &Path,
    format: LogFormat,
    accounts: &Accounts,
    ctxs: &[Context],
    auto_rulebook: bool,
    parts: usize,
    spill: &Path,
    ledger: Option<&Path>,
    progress: Progress,
) -> Result<Vec<Result<Partitioned, BillingError>>, ScaleError> {
    check_log_file(path)?;
    let parts = parts.max(1);
    let markets = ctxs.first().expect("at least one context").markets;
    let dir = SpillDir::new(spill).map_err(|source| ScaleError::Spill {
        dir: spill.display().to_string(),
        source,
    })?;
    let io = |source: std::io::Error| ScaleError::Spill {
        dir: dir.path().display().to_string(),
        source,
    };
    let trace = std::env::var_os("WABILL_TRACE").is_some();
    let mut clock = std::time::Instant::now();
    let mut lap = |phase: &str| {
        if trace {
            eprintln!("wabill: {phase}: {:.3} s", clock.elapsed().as_secs_f64());
            clock = std::time::Instant::now();
        }
    };

    // 1. Scan.
    let scanned = scan(
        path,
        format,
        accounts,
        auto_rulebook,
        &dir,
        parts,
        ledger.is_some(),
        progress,
    )?;
    let mut rejects = scanned.rejects;
    let mut messages = MessageCounts {
        rows: scanned.rows,
        ..MessageCounts::default()
    };
    let currency = replay_currency(&ctxs[0]);
    let calendars: Vec<Vec<WabaCalendar>> = ctxs
        .iter()
        .map(|ctx| build_calendars(&scanned.ranges, ctx, &currency))
        .collect();
    lap("scan");

    // Partitions run a wave at a time, one per thread: memory holds at most that many.
    let waves: Vec<Vec<usize>> = (0..parts)
        .collect::<Vec<_>>()
        .chunks(rayon::current_num_threads().max(1))
        .map(|w| w.to_vec())
        .collect();

    // 2. Duplicate ids.
    let mut dropped = FxHashSet::default();
    for (k, wave) in waves.iter().enumerate() {
        progress("checking ids", (k * waves[0].len()) as u64, parts as u64);
        let found = wave
            .par_iter()
            .map(|&p| {
                let bytes = std::fs::read(dir.file("ids", p))?;
                let _ = std::fs::remove_file(dir.file("ids", p));
                Ok(duplicates_in(&bytes, markets))
            })
            .collect::<std::io::Result<Vec<_>>>()
            .map_err(io)?;
        for (rows, found) in found {
            dropped.extend(rows);
            rejects.extend(found);
        }
    }
    progress("checking ids", parts as u64, parts as u64);
    lap("duplicate ids");

    // 3. Chats, partition by partition, each under every context.
    let units_file = |k: usize, p: usize| dir.file(&format!("units-{k}"), p);
    let mut totals: Vec<Totals> = vec![Totals::default(); ctxs.len()];
    let mut issues: Vec<Vec<(i64, u32, JsonIssue)>> = vec![Vec::new(); ctxs.len()];
    let mut tallies: Vec<Vec<MonthTally>> = vec![Vec::new(); ctxs.len()];
    let mut months = vec![(u32::MAX, 0u32); ctxs.len()];
    for (w, wave) in waves.iter().enumerate() {
        progress(
            "replaying partitions",
            (w * waves[0].len()) as u64,
            parts as u64,
        );
        let done = wave
            .par_iter()
            .map(|&p| {
                let bytes = std::fs::read(dir.file("chats", p))?;
                if ledger.is_none() {
                    let _ = std::fs::remove_file(dir.file("chats", p));
                }
                let loaded = load_partition(&bytes, &dropped, markets);
                drop(bytes);
                let outs = ctxs
                    .iter()
                    .enumerate()
                    .map(|(k, ctx)| {
                        let mut units = SpillFile::create(&units_file(k, p))?;
                        let out = replay_loaded(&loaded, ctx, &calendars[k], &mut units)?;
                        units.finish()?;
                        Ok(out)
                    })
                    .collect::<std::io::Result<Vec<PartOut>>>()?;
                Ok((loaded.rejects, loaded.messages, outs))
            })
            .collect::<std::io::Result<Vec<_>>>()
            .map_err(io)?;
        // Merged in partition order; sums commute, lists are sorted below.
        for (found, m, outs) in done {
            rejects.extend(found);
            messages.inbound += m.inbound;
            messages.outbound += m.outbound;
            messages.delivered += m.delivered;
            messages.not_delivered += m.not_delivered;
            for (k, out) in outs.into_iter().enumerate() {
                totals[k].merge(out.totals);
                issues[k].extend(out.issues);
                tallies[k].extend(out.tallies);
                months[k] = (months[k].0.min(out.months.0), months[k].1.max(out.months.1));
            }
        }
    }
    progress("replaying partitions", parts as u64, parts as u64);
    lap("partitions");
    rejects.sort_by_key(|r| r.row);
    messages.rejected = rejects.len() as u64;

    // 4. Pricing, per context: the units of every partition in CONV-1 order.
    progress("pricing", 0, 0);
    let priced: Vec<std::io::Result<Result<Totals, BillingError>>> = ctxs
        .par_iter()
        .zip(&calendars)
        .zip(totals)
        .enumerate()
        .map(|(k, ((ctx, calendars), totals))| {
            let files: Vec<PathBuf> = (0..parts).map(|p| units_file(k, p)).collect();
            let priced: Option<Vec<PathBuf>> = (k == 0 && ledger.is_some())
                .then(|| (0..parts).map(|p| dir.file("priced", p)).collect());
            // Only the first context reports progress (they run side by side).
            let report = |n: u64| {
                if k == 0 {
                    progress("pricing", n, 0)
                }
            };
            price_units(&files, priced.as_deref(), ctx, calendars, totals, &report)
        })
        .collect();
    lap("pricing");

    let priced: Vec<Result<Totals, BillingError>> = priced
        .into_iter()
        .collect::<std::io::Result<_>>()
        .map_err(io)?;

    // 5. The ledger: each partition's rows in CONV-1 order, merged into one.
    if let (Some(out), Some(Ok(_))) = (ledger, priced.first()) {
        let written = write_ledger(
            &dir,
            parts,
            &waves,
            &dropped,
            &ctxs[0],
            &calendars[0],
            accounts,
            &scanned.numbers.names,
            out,
            progress,
        );
        written.map_err(|e| match e.downcast::<std::io::Error>() {
            Ok(source) => io(source),
            Err(e) => ScaleError::Ledger(e),
        })?;
        lap("ledger");
    }

    let mut results = Vec::with_capacity(ctxs.len());
    for (k, (res, ctx)) in priced.into_iter().zip(ctxs).enumerate() {
        let totals = match res {
            Ok(t) => t,
            Err(e) => {
                results.push(Err(e));
                continue;
            }
        };
        let mut issues = std::mem::take(&mut issues[k]);
        issues.sort_by(|a, b| (a.0, a.1, &a.2.code).cmp(&(b.0, b.1, &b.2.code)));
        let (lines, total) = totals.lines(ctx);
        let (lo, hi) = months[k];
        results.push(Ok(Partitioned {
            currency: currency.clone(),
            lines,
            total,
            messages: messages.clone(),
            issues: issues.into_iter().map(|i| i.2).collect(),
            rejects: if k + 1 == ctxs.len() {
                std::mem::take(&mut rejects)
            } else {
                rejects.clone()
            },
            tallies: std::mem::take(&mut tallies[k]),
            months: if lo > hi { 0 } else { u64::from(hi - lo) + 1 },
        }));
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_records_round_trip() {
        for kind in [
            Kind::In { entry_point: false },
            Kind::In { entry_point: true },
            Kind::Out {
                template: None,
                status: Status::Failed,
            },
            Kind::Out {
                template: Some(TemplateCategory::Authentication),
                status: Status::Read,
            },
            Kind::Out {
                template: Some(TemplateCategory::Marketing),
                status: Status::Delivered,
            },
        ] {
            let r = ChatRecord {
                ts: -62_135_596_800_000_000,
                row: u32::MAX,
                user: 999_999_999_999_999,
                waba: 3,
                number: 7,
                country: Some(Country(*b"BR")),
                kind,
            };
            let mut b = Vec::new();
            r.encode(&mut b);
            assert_eq!(b.len(), CHAT_RECORD);
            assert_eq!(ChatRecord::decode(&b), r);
            let r = ChatRecord { country: None, ..r };
            b.clear();
            r.encode(&mut b);
            assert_eq!(ChatRecord::decode(&b), r);
        }
    }

    #[test]
    fn id_records_round_trip() {
        let long = "w".repeat(300);
        let cases = [
            (true, 0u64, "wamid.1"),
            (false, 5_511_999_999_999, "wamid.2"),
            (false, 44_700_000_000, long.as_str()),
            (true, 0, long.as_str()),
        ];
        let mut buf = Vec::new();
        for (k, (explicit, user, id)) in cases.iter().enumerate() {
            IdRecord::encode(&mut buf, k as u64 * 7, -5, k as u32, *explicit, *user, id);
        }
        let mut at = 0;
        for (k, (explicit, user, id)) in cases.iter().enumerate() {
            let (hash, r, next) = IdRecord::at(&buf, at);
            assert_eq!((hash, r.ts, r.row), (k as u64 * 7, -5, k as u32));
            assert_eq!((r.explicit_country, r.user), (*explicit, *user));
            assert_eq!(&buf[r.start..r.start + r.len], id.as_bytes());
            at = next;
        }
        assert_eq!(at, buf.len());
    }

    #[test]
    fn partitions_spread_hashes() {
        let mut seen = [0u32; 7];
        for u in 0..7000u64 {
            seen[part_of(fx_hash(&(0u16, 0u32, 5_511_000_000_000 + u)), 7)] += 1;
        }
        assert!(seen.iter().all(|&n| n > 500), "{seen:?}");
    }
}
