//! The in-memory [`Log`]: rows interned to integers as they arrive (numbers, business numbers,
//! WABAs, countries and message types), so the engine never touches a string; then, once, each
//! user's country (MKT-1) and the repeated message ids.

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::billing::accounts::Accounts;
use crate::billing::engine::{ChatKey, Event, Extras};
use crate::billing::markets::{MarketTable, Resolved};
use crate::billing::meta::MetaPricing;
use crate::billing::types::Country;

use super::options::ReadOptions;
use super::schema::{Parsed, Reject, RowRules};
use super::sink::RowSink;

/// A parsed log: events plus the tables they index into.
#[derive(Debug, Default)]
pub struct Log {
    pub path: String,
    pub events: Vec<Event>,
    pub chats: Vec<ChatKey>,
    pub countries: Vec<Country>,
    /// Users as the ledger names them: `+` and the number's digits, or the BSUID (MKT-4).
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
    /// MKT-1: threads whose user number is not a valid number (billed, and reported as issues
    /// once the replay knows their market), sorted by event.
    pub invalid_numbers: Vec<InvalidNumber>,
    /// Meta's pricing of each row read from Meta's webhooks, by data row (empty for a log).
    pub meta_pricing: Vec<(u32, MetaPricing)>,
    /// The durations, tokens and prices of the rows that have them (CALL-3, MBA-1, MAXP-1).
    pub extras: Extras,
    /// GRP-1: the member of each group row, by data row (sorted), as the ledger names users.
    pub members: Vec<(u32, String)>,
    /// CUR-1: rows of WABAs billed in another currency than the one chosen, left out.
    pub other_currency: u64,
}

/// A thread (CONV-3) whose user number the phone number metadata does not know as valid: its
/// first event (CONV-1 order) that took its country from the number, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidNumber {
    pub event: u32,
    /// The user's number, digits.
    pub number: u64,
    pub reason: String,
}

impl Log {
    /// GRP-1: the member a group row was delivered to or came from.
    pub fn member_of(&self, row: u32) -> Option<&str> {
        member_of(&self.members, row)
    }

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

/// GRP-1: the member of data row `row` in a table sorted by row.
pub fn member_of(members: &[(u32, String)], row: u32) -> Option<&str> {
    members
        .binary_search_by_key(&row, |m| m.0)
        .ok()
        .map(|i| members[i].1.as_str())
}

/// GRP-2: a group's thread has the group for its user: this bit and the group's index.
pub(crate) const GROUP_KEY: u64 = 1 << 61;

/// How the ledger names a group member: `+` and the number, or the BSUID.
pub(crate) fn member_label(p: &Parsed) -> String {
    if p.user == 0 {
        p.bsuid.to_string()
    } else {
        format!("+{}", p.user)
    }
}

/// Country index placeholder: the user's country, resolved in [`LogBuilder::finish`].
pub(crate) const FROM_USER: u16 = u16::MAX;

/// MKT-4: a user key is the user's number (E.164 digits, below 2^50), or this bit and the index
/// of the user's BSUID among the log's BSUIDs (in order of first sight).
pub(crate) const BSUID_KEY: u64 = 1 << 63;
/// In memory, a user key for the rows that give a number and a BSUID together: this bit and
/// the pair's index. Such rows take their country from the number (MKT-4) and are the BSUID's
/// once the log is read.
const PAIR_KEY: u64 = 1 << 62;

/// MKT-4: the first link of each number to a BSUID in CONV-1 order, from the rows that give
/// both: number → (instant, row, BSUID index).
#[derive(Debug, Default)]
pub(crate) struct Links {
    pub(crate) first: FxHashMap<u64, (i64, u32, u32)>,
}

impl Links {
    /// A row at (`ts`, `row`) gives `number` and BSUID `bsuid`.
    pub(crate) fn add(&mut self, number: u64, ts: i64, row: u32, bsuid: u32) {
        let at = (ts, row, bsuid);
        self.first
            .entry(number)
            .and_modify(|x| *x = (*x).min(at))
            .or_insert(at);
    }

    /// The BSUID a number's rows belong to, if a row links it (no hashing while no row does:
    /// the partitioned scan asks for every row).
    pub(crate) fn of(&self, number: u64) -> Option<u32> {
        if self.first.is_empty() {
            return None;
        }
        self.first.get(&number).map(|x| x.2)
    }
}

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
    trace: bool,
    log: Log,
    user_ix: FxHashMap<u64, u32>,
    /// Per user: the number its country comes from (MKT-1), 0 for a BSUID.
    user_num: Vec<u64>,
    /// Per user: its BSUID (index into `bsuids`), `u32::MAX` for a number alone (MKT-4).
    user_bsuid: Vec<u32>,
    /// The last chat of each user.
    user_chat: Vec<u32>,
    bsuids: Interner,
    pairs: FxHashMap<(u64, u32), u32>,
    links: Links,
    numbers: Interner,
    types: Interner,
    country_ix: FxHashMap<Country, u16>,
    chat_ix: FxHashMap<ChatKey, u32>,
    /// GRP-2: the groups, and per user the group it is (`u32::MAX`: a user).
    groups: Interner,
    user_group: Vec<u32>,
    /// GRP-1: each member number's country (index), or why it has none.
    member_country: FxHashMap<u64, Result<u16, String>>,
}

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

    fn meta_pricing(&mut self, row: u64, pricing: MetaPricing) {
        self.log.meta_pricing.push((row as u32, pricing));
    }

    fn reserve(&mut self, rows: usize) {
        self.log.events.reserve(rows);
        self.log.event_type.reserve(rows);
        self.log.event_id.reserve(rows);
        self.log.id_ends.reserve(rows);
    }
}

impl<'a> LogBuilder<'a> {
    /// A builder validating rows as `read` says (`auto_rulebook`); with `read.trace`,
    /// [`LogBuilder::finish`] times the country resolution on stderr.
    pub fn new(accounts: &'a Accounts, markets: &'a MarketTable, read: &ReadOptions) -> Self {
        LogBuilder {
            rules: RowRules::new(accounts, read.auto_rulebook),
            markets,
            trace: read.trace,
            log: Log::default(),
            user_ix: FxHashMap::default(),
            user_num: Vec::new(),
            user_bsuid: Vec::new(),
            user_chat: Vec::new(),
            bsuids: Interner::default(),
            pairs: FxHashMap::default(),
            links: Links::default(),
            numbers: Interner::default(),
            types: Interner::default(),
            country_ix: FxHashMap::default(),
            chat_ix: FxHashMap::default(),
            groups: Interner::default(),
            user_group: Vec::new(),
            member_country: FxHashMap::default(),
        }
    }

    /// GRP-1: a group row's country: the explicit one (or the BSUID's), else the member number's
    /// (once per number); `Err` when the number has none.
    fn member_country(&mut self, p: &Parsed) -> Result<u16, String> {
        if let Some(c) = p.country {
            return Ok(self.country_index(c));
        }
        if let Some(r) = self.member_country.get(&p.user) {
            return r.clone();
        }
        let r = self
            .markets
            .resolve_number(&p.user.to_string())
            .map(|r| self.country_index(r.country));
        self.member_country.insert(p.user, r.clone());
        r
    }

    /// GRP-2: the user index of group `name`.
    fn group_user(&mut self, name: &str) -> u32 {
        let g = self.groups.id(name);
        let u = self.user_index(GROUP_KEY | u64::from(g), 0, u32::MAX);
        if self.user_group.len() <= u as usize {
            self.user_group.resize(u as usize + 1, u32::MAX);
        }
        self.user_group[u as usize] = g;
        u
    }

    fn country_index(&mut self, c: Country) -> u16 {
        let n = self.log.countries.len() as u16;
        *self.country_ix.entry(c).or_insert_with(|| {
            self.log.countries.push(c);
            n
        })
    }

    /// The user of `key`: its number is `number` (0: none), its BSUID `bsuid` (`u32::MAX`: none).
    fn user_index(&mut self, key: u64, number: u64, bsuid: u32) -> u32 {
        match self.user_ix.get(&key) {
            Some(&u) => u,
            None => {
                let u = self.user_num.len() as u32;
                self.user_num.push(number);
                self.user_bsuid.push(bsuid);
                self.user_chat.push(u32::MAX);
                self.user_ix.insert(key, u);
                u
            }
        }
    }

    /// The user of a row (MKT-4): its number alone; its BSUID alone; or the pair, which takes
    /// its country from the number and links the number to the BSUID.
    fn row_user(&mut self, p: &Parsed, row: u64) -> u32 {
        if p.bsuid.is_empty() {
            return self.user_index(p.user, p.user, u32::MAX);
        }
        let b = self.bsuids.id(p.bsuid);
        if p.user == 0 {
            return self.user_index(BSUID_KEY | u64::from(b), 0, b);
        }
        self.links.add(p.user, p.ts, row as u32, b);
        let next = self.pairs.len() as u32;
        let pair = *self.pairs.entry((p.user, b)).or_insert(next);
        self.user_index(PAIR_KEY | u64::from(pair), p.user, b)
    }

    /// MKT-4: every chat of a user with a BSUID, or of a number linked to one, becomes the
    /// BSUID's chat (one person is one user); chats merged so are numbered by first sight.
    /// `resolved` grows with the BSUID users this adds (they need no country: their rows have
    /// their own).
    fn link_users(&mut self, log: &mut Log, resolved: &mut Vec<Option<Result<Resolved, String>>>) {
        if self.bsuids.names.is_empty() {
            return;
        }
        let users = self.user_num.len();
        let mut target: Vec<u32> = (0..users as u32).collect();
        for (u, t) in target.iter_mut().enumerate() {
            let b = match self.user_bsuid[u] {
                u32::MAX => self.links.of(self.user_num[u]),
                b => Some(b),
            };
            if let Some(b) = b {
                *t = self.user_index(BSUID_KEY | u64::from(b), 0, b);
            }
        }
        resolved.resize(self.user_num.len(), None);
        let mut ix: FxHashMap<ChatKey, u32> = FxHashMap::default();
        let mut chats = Vec::new();
        let remap: Vec<u32> = log
            .chats
            .iter()
            .map(|c| {
                let key = ChatKey {
                    user: target[c.user as usize],
                    ..*c
                };
                *ix.entry(key).or_insert_with(|| {
                    chats.push(key);
                    chats.len() as u32 - 1
                })
            })
            .collect();
        for e in &mut log.events {
            e.chat = remap[e.chat as usize];
        }
        log.chats = chats;
    }

    /// How the ledger names each user: `+` and the number, or the BSUID.
    fn user_labels(&self) -> Vec<String> {
        self.user_num
            .iter()
            .zip(&self.user_bsuid)
            .enumerate()
            .map(|(u, (&n, &b))| match b {
                _ if self.user_group.get(u).is_some_and(|&g| g != u32::MAX) => {
                    format!("group {}", self.groups.names[self.user_group[u] as usize])
                }
                u32::MAX => format!("+{n}"),
                b => self.bsuids.names[b as usize].clone(),
            })
            .collect()
    }

    /// The chat of `key` (CONV-3), new ones numbered in order of first sight.
    fn chat_index(&mut self, key: ChatKey) -> u32 {
        // Most users talk to one business number: their last chat answers without hashing.
        let user = key.user as usize;
        let cached = self.user_chat[user];
        if cached != u32::MAX && self.log.chats[cached as usize] == key {
            return cached;
        }
        let next_chat = self.chat_ix.len() as u32;
        let chat = *self.chat_ix.entry(key).or_insert(next_chat);
        if chat == next_chat {
            self.log.chats.push(key);
        }
        self.user_chat[user] = chat;
        chat
    }

    fn intern(&mut self, p: &Parsed, row: u64) {
        if !self.rules.accounts().bills_waba(p.waba as usize) {
            self.log.other_currency += 1;
            return;
        }
        let group = !p.group.is_empty();
        let (user, country) = if group {
            let country = match self.member_country(p) {
                Ok(c) => c,
                Err(message) => {
                    self.log.rejects.push(Reject {
                        row,
                        column: "user".into(),
                        value: member_label(p),
                        message,
                        record: String::new(),
                    });
                    return;
                }
            };
            self.log.members.push((row as u32, member_label(p)));
            (self.group_user(p.group), country)
        } else {
            // MKT-3: an explicit country overrides the number (resolved later, once per user).
            let country = match p.country {
                Some(c) => self.country_index(c),
                None => FROM_USER,
            };
            (self.row_user(p, row), country)
        };
        let number = self.numbers.id(p.number);
        let chat = self.chat_index(ChatKey {
            waba: p.waba,
            group,
            number,
            user,
        });
        self.log.extras.push(row as u32, p.extra);
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
        let t = std::time::Instant::now();
        let needed = users_needing_country(&self.log.events, &self.log.chats, self.user_num.len());
        let mut resolved = resolve_countries(self.markets, &self.user_num, &needed);
        let user_cidx: Vec<u16> = resolved
            .iter()
            .map(|r| match r {
                Some(Ok(r)) => self.country_index(r.country),
                _ => FROM_USER,
            })
            .collect();
        // Which events take their country from the number, kept only when a number is invalid.
        let mut from_number = any_invalid(&resolved).then(|| {
            self.log
                .events
                .iter()
                .map(|e| e.country == FROM_USER)
                .collect::<Vec<_>>()
        });
        if self.trace {
            eprintln!("wabill: resolve users: {:.3} s", t.elapsed().as_secs_f64());
        }
        let mut log = std::mem::take(&mut self.log);
        log.path = path.to_string();
        log.extras.seal();
        log.members.sort_by_key(|m| m.0);
        let mut drop = vec![false; log.events.len()];
        let mut dropped =
            assign_countries(&mut log, &user_cidx, &resolved, &self.user_num, &mut drop);
        dropped.extend(duplicate_ids(&log, &mut drop));
        if !dropped.is_empty() {
            retain_kept(&mut log.events, &drop);
            retain_kept(&mut log.event_type, &drop);
            retain_kept(&mut log.event_id, &drop);
            if let Some(f) = &mut from_number {
                retain_kept(f, &drop);
            }
            log.rejects.extend(dropped);
        }
        // MKT-4, after the countries: a linked number's rows keep its country.
        self.link_users(&mut log, &mut resolved);
        log.users = self.user_labels();
        if let Some(f) = &from_number {
            log.invalid_numbers =
                invalid_numbers(&log.events, &log.chats, f, &resolved, &self.user_num);
        }
        log.rejects.sort_by_key(|r| r.row);
        log
    }
}

/// MKT-1: each event whose country comes from the number gets its user's (`user_cidx`); an
/// event whose user has none is marked in `drop` and rejected.
fn assign_countries(
    log: &mut Log,
    user_cidx: &[u16],
    resolved: &[Option<Result<Resolved, String>>],
    user_num: &[u64],
    drop: &mut [bool],
) -> Vec<Reject> {
    let mut dropped = Vec::new();
    for (i, e) in log.events.iter_mut().enumerate() {
        if e.country == FROM_USER {
            let user = log.chats[e.chat as usize].user as usize;
            e.country = user_cidx[user];
            if e.country == FROM_USER {
                drop[i] = true;
                dropped.push(Reject::without_country(
                    e.row,
                    user_num[user],
                    &resolved[user],
                ));
            }
        }
    }
    dropped
}

/// Repeated message ids among the events not yet dropped: each later occurrence is marked in
/// `drop` and rejected, the first in CONV-1 order is kept. The ids are sorted by (hash, instant,
/// row) in parallel, then the ids of equal hashes compared.
fn duplicate_ids(log: &Log, drop: &mut [bool]) -> Vec<Reject> {
    let hasher = rustc_hash::FxBuildHasher;
    let mut keyed: Vec<(u64, i64, u32, u32)> = (0..log.events.len() as u32)
        .into_par_iter()
        .filter(|&i| log.event_id[i as usize] != u32::MAX && !drop[i as usize])
        .map(|i| {
            let e = &log.events[i as usize];
            let h = std::hash::BuildHasher::hash_one(&hasher, log.id_str(log.event_id[i as usize]));
            (h, e.ts, e.row, i)
        })
        .collect();
    keyed.par_sort_unstable();
    let mut dropped = Vec::new();
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
    dropped
}

/// Keep the items of `v` not marked in `drop` (one mark per item).
fn retain_kept<T>(v: &mut Vec<T>, drop: &[bool]) {
    let mut k = 0;
    v.retain(|_| {
        k += 1;
        !drop[k - 1]
    });
}

/// MKT-1: each user number's country, in parallel (a +1 area-code memo per chunk).
/// Only users with a row that has no explicit country (`needed`) are looked up (MKT-3: an
/// explicit country wins); the others are `None`.
pub(crate) fn resolve_countries(
    markets: &MarketTable,
    users: &[u64],
    needed: &[bool],
) -> Vec<Option<Result<Resolved, String>>> {
    users
        .par_chunks(4096)
        .zip(needed.par_chunks(4096))
        .flat_map_iter(|(chunk, needed)| {
            let mut memo = std::collections::HashMap::new();
            chunk
                .iter()
                .zip(needed)
                .map(|(n, &need)| {
                    need.then(|| markets.resolve_number_memo(&n.to_string(), &mut memo))
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Whether one of the resolved numbers is not a valid number.
pub(crate) fn any_invalid(resolved: &[Option<Result<Resolved, String>>]) -> bool {
    resolved
        .iter()
        .any(|r| matches!(r, Some(Ok(r)) if r.invalid.is_some()))
}

/// MKT-1: for each chat whose user number is not valid, its first event in CONV-1 order among
/// those that took their country from the number (`from_number`, indexed like `events`), with
/// the number's reason; sorted by event. The same for the whole log and for a partition (a
/// chat lies in one partition), so both replays report the same issues.
pub(crate) fn invalid_numbers(
    events: &[Event],
    chats: &[ChatKey],
    from_number: &[bool],
    resolved: &[Option<Result<Resolved, String>>],
    users: &[u64],
) -> Vec<InvalidNumber> {
    let mut first: FxHashMap<u32, usize> = FxHashMap::default();
    for (i, e) in events.iter().enumerate().filter(|(i, _)| from_number[*i]) {
        let user = chats[e.chat as usize].user as usize;
        if !matches!(&resolved[user], Some(Ok(r)) if r.invalid.is_some()) {
            continue;
        }
        let at = first.entry(e.chat).or_insert(i);
        if (e.ts, e.row) < (events[*at].ts, events[*at].row) {
            *at = i;
        }
    }
    let mut out: Vec<InvalidNumber> = first
        .into_values()
        .map(|i| {
            let user = chats[events[i].chat as usize].user as usize;
            let reason = match &resolved[user] {
                Some(Ok(r)) => r.invalid.clone().unwrap_or_default(),
                _ => String::new(),
            };
            InvalidNumber {
                event: i as u32,
                number: users[user],
                reason,
            }
        })
        .collect();
    out.sort_by_key(|n| n.event);
    out
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
