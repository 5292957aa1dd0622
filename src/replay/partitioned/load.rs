//! Steps 2 and 3 of the partitioned replay: duplicate ids per id file, then each partition's
//! chat file becomes events (countries resolved once per user, MKT-1) and goes through pass 1.

use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};

use super::units::PendingUnit;
use crate::billing::engine::{self, ChatKey, Context, Event, Extras, Totals, WabaCalendar};
use crate::billing::markets::MarketTable;
use crate::billing::types::Country;
use crate::io::log::{
    any_invalid, invalid_numbers, repeated_ids, resolve_countries, users_needing_country,
    InvalidNumber, Reject, FROM_USER,
};
use crate::replay::sink::{invalid_number_issues, Outcomes, Tally};

use super::records::{ChatRecord, IdRecord, CHAT_RECORD};
use super::spill::SpillFile;

/// Step 2: duplicate ids of one id file → the rows to drop, and their rejects. Occurrences
/// are sorted by id hash; only ids of equal hash are read and compared byte by byte, and within
/// an id the first in CONV-1 order is kept, as in memory.
pub(super) fn duplicates_in(bytes: &[u8], markets: &MarketTable) -> (Vec<u32>, Vec<Reject>) {
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
pub(super) struct Loaded {
    pub(super) events: Vec<Event>,
    /// Per event: its record's index in the chat file (and text file).
    pub(super) record: Vec<u32>,
    pub(super) chats: Vec<ChatKey>,
    /// User numbers (digits), indexed by `chats[..].user`.
    pub(super) users: Vec<u64>,
    pub(super) countries: Vec<Country>,
    /// Rows whose number has no country (MKT-1).
    pub(super) rejects: Vec<Reject>,
    /// Threads whose user number is not valid (MKT-1), as in memory.
    pub(super) invalid: Vec<InvalidNumber>,
}

/// Step 3, first half: a chat file → events (rows of duplicate ids left out), users'
/// countries resolved once per user.
pub(super) fn load_partition(
    bytes: &[u8],
    dropped: &FxHashSet<u32>,
    markets: &MarketTable,
) -> Loaded {
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
                        group: r.group,
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
    let mut loaded = Loaded {
        events,
        record,
        chats,
        users,
        countries,
        rejects: Vec::new(),
        invalid: Vec::new(),
    };
    resolve_users(&mut loaded, markets, &mut country_index);
    loaded
}

/// MKT-1: users' countries, once per user; rows without one are rejected (their events
/// dropped), and the threads of numbers that are not valid found, as in memory.
fn resolve_users(
    l: &mut Loaded,
    markets: &MarketTable,
    country_index: &mut dyn FnMut(Country, &mut Vec<Country>) -> u16,
) {
    let needed = users_needing_country(&l.events, &l.chats, l.users.len());
    let resolved = resolve_countries(markets, &l.users, &needed);
    let user_country: Vec<u16> = resolved
        .iter()
        .map(|r| match r {
            Some(Ok(r)) => country_index(r.country, &mut l.countries),
            _ => FROM_USER,
        })
        .collect();
    let mut from_number = any_invalid(&resolved).then(|| {
        l.events
            .iter()
            .map(|e| e.country == FROM_USER)
            .collect::<Vec<_>>()
    });
    let mut unresolved = false;
    for e in l.events.iter_mut().filter(|e| e.country == FROM_USER) {
        let user = l.chats[e.chat as usize].user as usize;
        e.country = user_country[user];
        if e.country == FROM_USER {
            unresolved = true;
            let reject = Reject::without_country(e.row, l.users[user], &resolved[user]);
            l.rejects.push(reject);
        }
    }
    if unresolved {
        retain_resolved(&mut l.record, &l.events);
        if let Some(f) = &mut from_number {
            retain_resolved(f, &l.events);
        }
        l.events.retain(|e| e.country != FROM_USER);
    }
    if let Some(f) = from_number {
        l.invalid = invalid_numbers(&l.events, &l.chats, &f, &resolved, &l.users);
    }
}

/// Keep the items of `v` (indexed like `events`) whose event has a country.
fn retain_resolved<T>(v: &mut Vec<T>, events: &[Event]) {
    let mut k = 0;
    v.retain(|_| {
        k += 1;
        events[k - 1].country != FROM_USER
    });
}

/// Step 3, second half: pass 1 over a loaded partition → the totals of units that need no
/// pricing pass, the partition's [`Tally`], and the pending units written in CONV-1 order to
/// `units`.
pub(super) fn replay_loaded(
    l: &Loaded,
    ctx: &Context,
    calendars: &[WabaCalendar],
    units: &mut SpillFile,
    provider: bool,
    extras: &Extras,
) -> std::io::Result<(Totals, Tally)> {
    let (events, chats) = (&l.events, &l.chats);
    let pass = engine::pass_one(events, chats, &l.countries, extras, ctx, calendars);
    let mut tally = Tally::new(provider);
    tally.absorb(&Outcomes {
        events,
        chats,
        outcomes: &pass.outcomes,
        issues: &pass.issues,
        calendars,
    });
    let numbers = invalid_number_issues(
        &l.invalid,
        events,
        &l.countries,
        &pass.outcomes,
        ctx.markets,
    );
    tally.absorb_issues(events, &numbers);
    let mut totals = Totals::default();
    for &ei in &pass.order {
        let o = &pass.outcomes[ei as usize];
        let e = &events[ei as usize];
        let chat = chats[e.chat as usize];
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
            totals.add(chat.waba, calendars, o);
        }
    }
    Ok((totals, tally))
}
