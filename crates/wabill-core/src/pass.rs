//! Pass 1 over a whole log: events in CONV-1 order, grouped by chat (CONV-3), and the chats run
//! through their windows (`window`) in parallel. Results land at their event's index, so the
//! output never depends on the thread count.

use rayon::prelude::*;

use super::calendar::WabaCalendar;
use super::context::Context;
use super::markets::MarketIndex;
use super::model::{ChatKey, Event, Extras, Issue, Outcome};
use super::scatter::Scatter;
use super::types::Country;
use super::window::{ChatState, Env};

/// The result of the per-chat pass: CONV-1 order, outcomes (units still to price are
/// [`Outcome::is_pending`]) and issues in CONV-1 order.
pub struct PassOne {
    pub order: Vec<u32>,
    pub outcomes: Vec<Outcome>,
    pub issues: Vec<Issue>,
}

/// CONV-1: event indices ordered by UTC instant, then file row (most logs already are).
fn conv1_order(events: &[Event]) -> Vec<u32> {
    let in_order = events
        .par_windows(2)
        .all(|w| (w[0].ts, w[0].row) <= (w[1].ts, w[1].row));
    if in_order {
        return (0..events.len() as u32).collect();
    }
    let mut keyed: Vec<(i64, u32, u32)> = events
        .par_iter()
        .enumerate()
        .map(|(i, e)| (e.ts, e.row, i as u32))
        .collect();
    keyed.par_sort_unstable();
    keyed.into_par_iter().map(|k| k.2).collect()
}

/// The CONV-1 order grouped by chat (a counting sort, which keeps the order within each chat):
/// chat `c`'s events are `grouped[offsets[c]..offsets[c + 1]]`.
struct ByChat {
    offsets: Vec<u32>,
    grouped: Vec<u32>,
}

impl ByChat {
    fn new(events: &[Event], chats: usize, order: &[u32]) -> ByChat {
        let mut offsets = vec![0u32; chats + 1];
        for e in events {
            offsets[e.chat as usize + 1] += 1;
        }
        for i in 0..chats {
            offsets[i + 1] += offsets[i];
        }
        let mut fill = offsets.clone();
        let mut grouped = vec![0u32; events.len()];
        for &i in order {
            let c = events[i as usize].chat as usize;
            grouped[fill[c] as usize] = i;
            fill[c] += 1;
        }
        ByChat { offsets, grouped }
    }

    fn of(&self, chat: usize) -> &[u32] {
        &self.grouped[self.offsets[chat] as usize..self.offsets[chat + 1] as usize]
    }
}

/// Pass 1: windows per chat (CONV-3), in parallel. `calendars` must cover every event's
/// instant (see [`crate::calendar::build_calendars`]).
pub fn pass_one(
    events: &[Event],
    chats: &[ChatKey],
    countries: &[Country],
    extras: &Extras,
    ctx: &Context,
    calendars: &[WabaCalendar],
) -> PassOne {
    let order = conv1_order(events);
    let by_chat = ByChat::new(events, chats.len(), &order);
    let markets = MarketIndex::new(ctx.markets, countries);
    let env = Env {
        ctx,
        markets: &markets,
        countries,
        extras,
    };

    let mut outcomes = vec![Outcome::default(); events.len()];
    let slots = Scatter::new(&mut outcomes);
    let chunk_chats = (chats.len() / (rayon::current_num_threads() * 16)).max(64);
    let chunks: Vec<usize> = (0..chats.len()).step_by(chunk_chats).collect();
    let issues_per_chunk: Vec<Vec<Issue>> = chunks
        .into_par_iter()
        .map(|c0| {
            let mut issues = Vec::new();
            for c in c0..(c0 + chunk_chats).min(chats.len()) {
                let cal = &calendars[chats[c].waba as usize];
                let mut st = ChatState::new(&chats[c]);
                for &ei in by_chat.of(c) {
                    let o = st.step(&events[ei as usize], ei, cal, &env, &mut issues);
                    // SAFETY: `by_chat` is a permutation of the event indices in which each chat
                    // owns one range, and chunks are disjoint runs of chats: no other task
                    // writes `ei` (see `Scatter`).
                    unsafe { slots.write(ei as usize, o) };
                }
            }
            issues
        })
        .collect();
    let mut issues: Vec<Issue> = issues_per_chunk.into_iter().flatten().collect();
    issues.sort_by_key(|i| {
        let e = &events[i.event as usize];
        (e.ts, e.row, i.code)
    });
    PassOne {
        order,
        outcomes,
        issues,
    }
}
