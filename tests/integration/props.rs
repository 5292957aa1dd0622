//! Invariants of the billing rules: each property is named after the rule it protects
//! and runs the real engine on logs from `wabill_testing::arb_log` (few users, instants packed
//! around the 24 h and 72 h edges, month ends and switches, several WABAs in different time zones,
//! random rate cards and tier tables).
//!
//! What the engine decided is checked against facts recomputed here from the rows (CSW, entry
//! point replies, rulebook by date, card in force), not against the engine's own bookkeeping.
//! `model_props.rs` compares whole replays with the reference model; these properties state the
//! rules one at a time, so a failure names the rule.
//!
//! Longer run (these and `model_props`): `PROPTEST_CASES=5000 cargo test --test integration props::`.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use chrono::NaiveDate;
use chrono_tz::Tz;
use proptest::prelude::*;
use proptest::sample::{select, Index};
use rayon::ThreadPool;

use wabill::billing::calendar::{local_date, month_key, DAY};
use wabill::billing::engine::{Event, Replay, Unit};
use wabill::billing::money::Money;
use wabill::billing::rates::TierRate;
use wabill::billing::types::*;
use wabill_testing::*;

/// CBP-6 / PMP-3: free entry points last 72 h.
const FEP: i64 = 3 * DAY;

fn cases(n: u32) -> ProptestConfig {
    ProptestConfig {
        cases: n,
        ..ProptestConfig::default()
    }
}

/// Generated books price every charged unit (full tier tables, no blank cells).
fn replay(log: &TestLog, forced: Option<Rulebook>) -> Result<Replay, TestCaseError> {
    log.replay(forced)
        .map_err(|e| TestCaseError::fail(format!("unexpected missing rate: {e}")))
}

fn bill(log: &TestLog, forced: Option<Rulebook>) -> Result<Bill, TestCaseError> {
    replay(log, forced).map(|r| log.bill(&r))
}

fn tz_of(log: &TestLog, e: &Event) -> Tz {
    log.accounts.wabas[log.waba_of(e) as usize].tz
}

/// §1: the rulebook of a row's own delivery date in its WABA's time zone (or the forced one).
fn own_rulebook(log: &TestLog, e: &Event, forced: Option<Rulebook>) -> Rulebook {
    forced.unwrap_or_else(|| {
        let d = local_date(tz_of(log, e), e.ts);
        Rulebook::ALL
            .into_iter()
            .rev()
            .find(|r| {
                let (y, m, dd) = r.start();
                NaiveDate::from_ymd_opt(y, m, dd).unwrap() <= d
            })
            .expect("generated logs start after 2022-02-01")
    })
}

fn delivered_out(e: &Event) -> Option<Option<TemplateCategory>> {
    match e.kind {
        Kind::Out { template, status } if status.is_delivered() => Some(template),
        _ => None,
    }
}

/// Each chat's event indices in CONV-1 order.
fn chats(log: &TestLog) -> BTreeMap<u32, Vec<usize>> {
    let mut m: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    for i in log.conv1_order() {
        m.entry(log.events[i].chat).or_default().push(i);
    }
    m
}

/// CSW: open at position `pos` of a chat when the last inbound row before it (CONV-1) is less
/// than 24 h earlier (CONV-2).
fn csw_open(log: &TestLog, rows: &[usize], pos: usize) -> bool {
    let t = log.events[rows[pos]].ts;
    rows[..pos]
        .iter()
        .map(|&j| &log.events[j])
        .rev()
        .find(|x| matches!(x.kind, Kind::In { .. }))
        .is_some_and(|x| t < x.ts + DAY)
}

/// A delivered row that counts as a business message: every delivered one (CONV-4, amended:
/// deliveries are facts, so a non-template outside the CSW the log shows counts too).
fn counts(log: &TestLog, rows: &[usize], pos: usize) -> bool {
    delivered_out(&log.events[rows[pos]]).is_some()
}

/// CBP-6 / PMP-3: positions of the replies to entry points (the first counted business row
/// before the entry point + 24 h).
fn replies(log: &TestLog, rows: &[usize]) -> Vec<usize> {
    let mut deadline = None;
    let mut out = Vec::new();
    for (pos, &i) in rows.iter().enumerate() {
        let e = &log.events[i];
        match e.kind {
            Kind::In { entry_point: true } => deadline = Some(e.ts + DAY),
            Kind::In { .. } => {}
            Kind::Out { .. } if counts(log, rows, pos) => {
                if deadline.is_some_and(|d| e.ts < d) {
                    out.push(pos);
                }
                deadline = None;
            }
            Kind::Out { .. } => {}
            other => unreachable!("generated logs hold no {other:?}"),
        }
    }
    out
}

/// Conversation slots: one per category, authentication and authentication-international
/// together (CBP-2), the cbp-2022 kinds together (CBP-5), free entry points apart (CBP-6).
fn slot(b: Billed) -> u8 {
    match b {
        Billed::Marketing => 0,
        Billed::Utility => 1,
        Billed::Authentication | Billed::AuthenticationInternational => 2,
        Billed::Service => 3,
        Billed::BusinessInitiated | Billed::UserInitiated => 4,
        Billed::FreeEntryPoint => 5,
        other => unreachable!("generated logs bill no {other:?}"),
    }
}

fn length(b: Billed) -> i64 {
    if b == Billed::FreeEntryPoint {
        FEP
    } else {
        DAY
    }
}

/// PMP-4 counter group: utility, or authentication (both columns share one counter).
fn tier_group(b: Billed) -> Option<bool> {
    match b {
        Billed::Utility => Some(false),
        Billed::Authentication | Billed::AuthenticationInternational => Some(true),
        _ => None,
    }
}

fn pool(threads: usize) -> &'static ThreadPool {
    static POOLS: OnceLock<[ThreadPool; 2]> = OnceLock::new();
    let pools = POOLS.get_or_init(|| {
        let p = |n| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .expect("thread pool")
        };
        [p(1), p(2)]
    });
    &pools[threads - 1]
}

/// `copies` copies of the log side by side, each with its own users, so that pass 1 of the
/// engine splits the chats into several parallel chunks (64 chats each).
fn replicate(log: &TestLog, copies: u32) -> TestLog {
    let mut out = log.with_events(Vec::new());
    let users = log.users.len() as u32;
    let rows = log.events.iter().map(|e| e.row).max().unwrap_or(0);
    for c in 0..copies {
        for e in &log.events {
            let k = log.chats[e.chat as usize];
            let chat = out.chat(k.waba, k.number, k.user + c * users);
            out.events.push(Event {
                row: e.row + c * rows,
                chat,
                ..*e
            });
        }
        if c > 0 {
            out.users
                .extend(log.users.iter().map(|u| format!("{u}{c}")));
            out.countries.extend(log.countries.iter().copied());
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// CONV-1, CONV-3, CONV-5, §0 "Delivered"
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(cases(512))]

    /// CONV-1: the replay depends on the instants and, for equal instants, on the row order only:
    /// shuffling the rows (keeping the order of rows with equal instants) changes nothing but
    /// row numbers.
    #[test]
    fn conv1_replay_is_independent_of_row_order(
        log in arb_log(LogSpec::default()),
        forced in arb_rulebook(),
        swaps in proptest::collection::vec((any::<Index>(), any::<Index>()), 0..60),
    ) {
        let n = log.events.len();
        let mut perm: Vec<usize> = (0..n).collect();
        for (a, b) in &swaps {
            perm.swap(a.index(n), b.index(n));
        }
        // New file order = perm; new rows by position, then rows with equal instants get their
        // group's rows back in their old order.
        let mut events: Vec<Event> = perm
            .iter()
            .enumerate()
            .map(|(pos, &i)| Event { row: pos as u32 + 1, ..log.events[i] })
            .collect();
        let mut groups: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
        for (k, e) in events.iter().enumerate() {
            groups.entry(e.ts).or_default().push(k);
        }
        for ks in groups.values() {
            let mut rows: Vec<u32> = ks.iter().map(|&k| events[k].row).collect();
            rows.sort_unstable();
            let mut by_old: Vec<usize> = ks.clone();
            by_old.sort_by_key(|&k| log.events[perm[k]].row);
            for (k, row) in by_old.into_iter().zip(rows) {
                events[k].row = row;
            }
        }
        let shuffled = log.with_events(events);
        let a = bill(&log, forced)?;
        let b = bill(&shuffled, forced)?;
        prop_assert_eq!(a.total, b.total);
        prop_assert_eq!(&a.lines, &b.lines);
        let old_row = |new: u32| {
            let k = shuffled.events.iter().position(|e| e.row == new).unwrap();
            log.events[perm[k]].row
        };
        for (k, &i) in perm.iter().enumerate() {
            let (x, y) = (&a.messages[i], &b.messages[k]);
            prop_assert_eq!(&MessageBill { row: 0, ..x.clone() }, &MessageBill { row: 0, ..y.clone() });
        }
        let issues: Vec<(u32, &str)> = b.issues.iter().map(|(r, c)| (old_row(*r), *c)).collect();
        prop_assert_eq!(a.issues, issues);
    }

    /// CONV-1 / ARCHITECTURE "Deterministic": the same log gives the same bill on one thread, on
    /// two, and again; the log is replicated 8 times so that pass 1 really runs in parallel.
    #[test]
    fn conv1_replay_is_deterministic_whatever_the_thread_count(
        log in arb_log(LogSpec::default()),
        forced in arb_rulebook(),
    ) {
        let big = replicate(&log, 8);
        let one = pool(1).install(|| replay(&big, forced))?;
        let two = pool(2).install(|| replay(&big, forced))?;
        let again = pool(2).install(|| replay(&big, forced))?;
        prop_assert_eq!(&one.order, &two.order);
        let (b1, b2, b3) = (big.bill(&one), big.bill(&two), big.bill(&again));
        prop_assert_eq!(&b1, &b2);
        prop_assert_eq!(&b2, &b3);
    }

    /// CONV-5 / formats.md §4: message prices add up to the total and so do line costs; lines
    /// count exactly the units; free units and messages that are not units cost nothing.
    #[test]
    fn conv5_line_costs_and_message_prices_add_up_to_the_total(
        log in arb_log(LogSpec::default()),
        forced in arb_rulebook(),
    ) {
        let b = bill(&log, forced)?;
        let prices: Money = b.messages.iter().map(|m| m.price).sum();
        let lines: Money = b.lines.iter().map(|l| l.cost).sum();
        prop_assert_eq!(prices, b.total);
        prop_assert_eq!(lines, b.total);
        let charged = b.messages.iter().filter(|m| m.unit == Unit::Charged).count() as u64;
        let free = b.messages.iter().filter(|m| m.unit == Unit::Free).count() as u64;
        prop_assert_eq!(b.lines.iter().map(|l| l.charged).sum::<u64>(), charged);
        prop_assert_eq!(b.lines.iter().map(|l| l.free).sum::<u64>(), free);
        for m in &b.messages {
            if m.unit != Unit::Charged {
                prop_assert_eq!(m.price, Money::ZERO, "row {} is not charged but costs {}", m.row, m.price);
            }
        }
    }

    /// RATE-1 / RATE-4: every charged unit pays a rate of the card in force on its WABA-local
    /// delivery date, for its market on that date (MKT-2) — the list rate or, for tiered PMP
    /// categories, a band of the market's table.
    #[test]
    fn rate1_every_charged_unit_pays_a_rate_of_the_card_in_force(
        log in arb_log(LogSpec::default()),
        forced in arb_rulebook(),
    ) {
        let r = replay(&log, forced)?;
        for (e, o) in log.events.iter().zip(&r.outcomes) {
            if o.unit != Unit::Charged {
                continue;
            }
            let date = local_date(tz_of(&log, e), e.ts);
            let card = log.rates.card_at(CURRENCY, date);
            prop_assert!(card.is_some(), "row {}: no card on {}", e.row, date);
            let card = &log.rates.cards[card.unwrap()];
            let market = log.markets.market_of(log.countries[e.country as usize], date);
            prop_assert_eq!(o.market, market, "row {}: market", e.row);
            let col = o.billed.and_then(|b| b.rate_column());
            prop_assert!(col.is_some(), "row {}: charged without a rate column", e.row);
            let col = col.unwrap();
            let list = card.rate(market, col);
            prop_assert!(list.is_some(), "row {}: charged without a rate", e.row);
            let band_rates: Vec<Money> = card
                .tiers(market, col)
                .map(|b| b.iter().map(|b| b.rate).collect())
                .unwrap_or_default();
            prop_assert!(
                o.price == list.unwrap() || band_rates.contains(&o.price),
                "row {}: price {} is neither the list rate {} nor a band rate {:?}",
                e.row, o.price, list.unwrap(), band_rates
            );
        }
    }

    /// CONV-3: chats are independent. Without volume tiers and far below the 1,000 free-tier
    /// and service allowances, a log costs the sum of its users' costs, and every message is
    /// billed as when its user's rows are replayed alone.
    #[test]
    fn conv3_a_log_costs_the_sum_of_its_users_without_tiers(
        log in arb_log(LogSpec::default().without_tiers()),
        forced in arb_rulebook(),
    ) {
        let all = bill(&log, forced)?;
        let mut sum = Money::ZERO;
        let mut issues = Vec::new();
        for u in log.users_with_rows() {
            let one = log.only_user(u);
            let b = bill(&one, forced)?;
            sum += b.total;
            for (e, m) in one.events.iter().zip(&b.messages) {
                let i = log.events.iter().position(|x| x.row == e.row).unwrap();
                prop_assert_eq!(&all.messages[i], m);
            }
            issues.extend(b.issues);
        }
        prop_assert_eq!(sum, all.total);
        issues.sort();
        let mut expected = all.issues.clone();
        expected.sort();
        prop_assert_eq!(issues, expected);
    }

    /// CBP-2 / PMP-1: sending one more delivered template never makes the bill smaller — within
    /// one card, rulebook period and market table, without entry points and without
    /// authentication-international. (Answering an entry point *can* lower the bill, and so can
    /// a conversation or tier counter that straddles a card, market, eligibility or rulebook
    /// change: see `entry_point_replies_can_lower_the_total`.)
    #[test]
    fn cbp2_pmp1_adding_a_delivered_template_never_lowers_the_total(
        log in arb_log(LogSpec::steady().without_entry_points().without_auth_international()),
        forced in arb_rulebook(),
        near in any::<Index>(),
        delta in prop_oneof![
            select(vec![0i64, 1, -1, 86_399, 86_400, 86_401, -86_400, 3 * 86_400]),
            -2 * 86_400i64..5 * 86_400,
        ],
        chat in any::<Index>(),
        category in select(vec![
            TemplateCategory::Marketing,
            TemplateCategory::Utility,
            TemplateCategory::Authentication,
        ]),
    ) {
        let before = replay(&log, forced)?.total;
        let mut more = log.clone();
        let ts = log.events[near.index(log.events.len())].ts + delta * SECOND;
        let chat = chat.index(log.chats.len()) as u32;
        more.add_row(ts, chat, Kind::Out { template: Some(category), status: Status::Delivered });
        let after = replay(&more, forced)?.total;
        prop_assert!(after >= before, "one more {} template: {} → {}", category.id(), before, after);
    }

    /// §0 "Delivered": a failed or unconfirmed message costs nothing and changes no state:
    /// removing one leaves every other message's bill, the lines and the total as they were.
    #[test]
    fn delivered_removing_a_failed_message_changes_nothing(
        log in arb_log(LogSpec::default()),
        forced in arb_rulebook(),
        pick in any::<Index>(),
    ) {
        let failed: Vec<usize> = (0..log.events.len())
            .filter(|&i| matches!(log.events[i].kind, Kind::Out { status, .. } if !status.is_delivered()))
            .collect();
        if failed.is_empty() {
            return Ok(());
        }
        let gone = failed[pick.index(failed.len())];
        let mut events = log.events.clone();
        events.remove(gone);
        let a = bill(&log, forced)?;
        let b = bill(&log.with_events(events), forced)?;
        prop_assert_eq!(a.messages[gone].price, Money::ZERO);
        prop_assert_eq!(a.total, b.total);
        prop_assert_eq!(&a.lines, &b.lines);
        prop_assert_eq!(&a.issues, &b.issues);
        let mut kept = a.messages.clone();
        kept.remove(gone);
        prop_assert_eq!(kept, b.messages);
    }
}

// ---------------------------------------------------------------------------------------------
// Conversation-based pricing
// ---------------------------------------------------------------------------------------------

fn arb_cbp() -> impl Strategy<Value = Option<Rulebook>> {
    select(vec![
        None,
        Some(Rulebook::Cbp2022),
        Some(Rulebook::Cbp2023),
        Some(Rulebook::Cbp2024),
    ])
}

/// A conversation as the replay shows it: its opening unit.
#[derive(Debug, Clone, Copy)]
struct Conv {
    start: i64,
    /// The opening row: `(start, row)` is the CONV-1 position of the opening.
    row: u32,
    billed: Billed,
}

/// The CBP conversations of a chat, from the replay's units, in opening order.
fn conversations(log: &TestLog, r: &Replay, rows: &[usize]) -> Vec<Conv> {
    rows.iter()
        .filter_map(|&i| {
            let o = &r.outcomes[i];
            (o.unit != Unit::None && o.rulebook.is_some_and(|b| b.is_cbp())).then(|| Conv {
                start: log.events[i].ts,
                row: log.events[i].row,
                billed: o.billed.expect("units have a category"),
            })
        })
        .collect()
}

/// Whether a free entry point conversation opened after `c` and before row `e` (CONV-1
/// order) closed `c` (CBP-6).
fn closed_by_fep(convs: &[Conv], c: &Conv, e: &Event) -> bool {
    c.billed != Billed::FreeEntryPoint
        && convs.iter().any(|f| {
            f.billed == Billed::FreeEntryPoint
                && (c.start, c.row) < (f.start, f.row)
                && (f.start, f.row) < (e.ts, e.row)
        })
}

proptest! {
    #![proptest_config(cases(512))]

    /// CBP-1 / CONV-2: a conversation opens at its unit's delivery and lasts exactly 24 h (free
    /// entry point: 72 h); per chat and category, conversations never overlap; every message
    /// riding in one is inside it and the conversation was not closed by a free entry point.
    #[test]
    fn cbp1_conversations_last_24h_and_never_overlap(
        log in arb_log(LogSpec::default()),
        forced in arb_cbp(),
    ) {
        let r = replay(&log, forced)?;
        for rows in chats(&log).values() {
            let convs = conversations(&log, &r, rows);
            for &i in rows {
                let o = &r.outcomes[i];
                if o.unit != Unit::None && o.rulebook.is_some_and(|b| b.is_cbp()) {
                    prop_assert_eq!(o.conv_start, Some(log.events[i].ts), "row {} opens at its delivery", log.events[i].row);
                }
            }
            for s in 0..6u8 {
                let starts: Vec<&Conv> = convs.iter().filter(|c| slot(c.billed) == s).collect();
                for w in starts.windows(2) {
                    prop_assert!(
                        w[1].start >= w[0].start + length(w[0].billed),
                        "two {} conversations overlap: {} and {}",
                        w[0].billed.id(), w[0].start, w[1].start
                    );
                }
            }
            for &i in rows {
                let (e, o) = (&log.events[i], &r.outcomes[i]);
                if o.reason != Some(Reason::InConversation) || !o.rulebook.is_some_and(|b| b.is_cbp()) {
                    continue;
                }
                let c = convs.iter().find(|c| Some(c.start) == o.conv_start && Some(c.billed) == o.billed);
                prop_assert!(c.is_some(), "row {} rides in a conversation that never opened", e.row);
                let c = c.unwrap();
                prop_assert!(c.start <= e.ts && e.ts < c.start + length(c.billed),
                    "row {} rides outside its conversation [{}, +{} h)", e.row, c.start, length(c.billed) / 3_600_000_000);
                prop_assert!(!closed_by_fep(&convs, c, e), "row {} rides in a conversation a free entry point closed", e.row);
            }
        }
    }

    /// CBP-6: the reply to an entry point opens a free 72 h conversation; while it is open,
    /// nothing else opens and everything delivered (under a CBP rulebook) is free and rides in it.
    #[test]
    fn cbp6_nothing_opens_inside_a_free_entry_point_conversation(
        log in arb_log(LogSpec::default()),
        forced in arb_cbp(),
    ) {
        let r = replay(&log, forced)?;
        for rows in chats(&log).values() {
            let mut fep_until: Option<(i64, i64)> = None;
            let replies = replies(&log, rows);
            for (pos, &i) in rows.iter().enumerate() {
                let (e, o) = (&log.events[i], &r.outcomes[i]);
                if !counts(&log, rows, pos) || !own_rulebook(&log, e, forced).is_cbp() {
                    continue;
                }
                let inside = fep_until.filter(|(_, until)| e.ts < *until);
                if let Some((start, _)) = inside {
                    prop_assert_eq!(o.unit, Unit::None, "row {} opens something inside a free entry point", e.row);
                    prop_assert_eq!(o.price, Money::ZERO);
                    prop_assert_eq!(o.billed, Some(Billed::FreeEntryPoint), "row {}", e.row);
                    prop_assert_eq!(o.conv_start, Some(start), "row {}", e.row);
                } else if replies.contains(&pos) {
                    prop_assert_eq!(o.unit, Unit::Free, "row {}: the reply is a free unit", e.row);
                    prop_assert_eq!(o.billed, Some(Billed::FreeEntryPoint), "row {}", e.row);
                    fep_until = Some((e.ts, e.ts + FEP));
                }
            }
        }
    }

    /// CBP-2 / CBP-4 (CBP-5 under cbp-2022): a template opens a conversation of its category
    /// exactly when none is open — never a second one while one is, always one when none is —
    /// outside free entry point conversations.
    #[test]
    fn cbp2_a_template_opens_a_conversation_only_when_none_of_its_category_is_open(
        log in arb_log(LogSpec::default()),
        forced in arb_cbp(),
    ) {
        let r = replay(&log, forced)?;
        for rows in chats(&log).values() {
            let mut open: Vec<Conv> = Vec::new();
            for (pos, &i) in rows.iter().enumerate() {
                let (e, o) = (&log.events[i], &r.outcomes[i]);
                if !counts(&log, rows, pos) {
                    continue;
                }
                let rb = own_rulebook(&log, e, forced);
                let in_fep = open.iter().any(|c| c.billed == Billed::FreeEntryPoint && e.ts < c.start + FEP);
                let template = delivered_out(e).flatten();
                if rb.is_cbp() && !in_fep && o.billed != Some(Billed::FreeEntryPoint) {
                    // The slot this message competes for: its template category, or under
                    // cbp-2022 the one user/business-initiated conversation.
                    let want = match (rb, template) {
                        (Rulebook::Cbp2022, _) => Some(4),
                        (_, Some(c)) => Some(slot(Billed::from_template(c))),
                        (_, None) => None,
                    };
                    if let Some(s) = want {
                        let current = open.iter().find(|c| {
                            slot(c.billed) == s
                                && e.ts < c.start + DAY
                                && !closed_by_fep(&open, c, e)
                        });
                        match current {
                            Some(c) => {
                                prop_assert_eq!(o.unit, Unit::None, "row {} opens a second {} conversation", e.row, c.billed.id());
                                prop_assert_eq!(o.conv_start, Some(c.start), "row {}", e.row);
                            }
                            None => prop_assert!(o.unit != Unit::None, "row {} opens nothing although no conversation of its category is open", e.row),
                        }
                    }
                }
                if o.unit != Unit::None && o.rulebook.is_some_and(|b| b.is_cbp()) {
                    open.push(Conv { start: e.ts, row: e.row, billed: o.billed.unwrap() });
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Per-message pricing
// ---------------------------------------------------------------------------------------------

fn arb_pmp() -> impl Strategy<Value = Option<Rulebook>> {
    select(vec![None, Some(Rulebook::Pmp2025), Some(Rulebook::Pmp2026)])
}

proptest! {
    #![proptest_config(cases(512))]

    /// PMP-2: under pmp-2025 non-template messages are free — as free customer service (or in a
    /// free entry point window; CONV-4: also one outside the CSW the log shows), never by using up pmp-2026's
    /// service allowance.
    #[test]
    fn pmp2_non_template_messages_cost_nothing_under_pmp_2025(
        log in arb_log(LogSpec::default()),
        forced in arb_pmp(),
    ) {
        let r = replay(&log, forced)?;
        for (e, o) in log.events.iter().zip(&r.outcomes) {
            if delivered_out(e) == Some(None) && own_rulebook(&log, e, forced) == Rulebook::Pmp2025 {
                prop_assert_eq!(o.price, Money::ZERO, "row {}", e.row);
                prop_assert!(o.unit != Unit::Charged, "row {}", e.row);
                prop_assert!(
                    matches!(o.reason, Some(Reason::FreeCustomerService | Reason::FreeEntryPoint)),
                    "row {}: free as {:?}", e.row, o.reason
                );
            }
        }
    }

    /// PMP-2: under pmp-2025 a utility template delivered while the user's CSW is open is free.
    #[test]
    fn pmp2_utility_inside_the_csw_costs_nothing_under_pmp_2025(
        log in arb_log(LogSpec::default()),
        forced in arb_pmp(),
    ) {
        let r = replay(&log, forced)?;
        for rows in chats(&log).values() {
            for (pos, &i) in rows.iter().enumerate() {
                let (e, o) = (&log.events[i], &r.outcomes[i]);
                if delivered_out(e) == Some(Some(TemplateCategory::Utility))
                    && own_rulebook(&log, e, forced) == Rulebook::Pmp2025
                    && csw_open(&log, rows, pos)
                {
                    prop_assert_eq!(o.price, Money::ZERO, "row {}: utility inside the CSW", e.row);
                    prop_assert!(o.unit != Unit::Charged, "row {}", e.row);
                    // Free customer service, or free for a reason that applies anyway: a free
                    // entry point window (PMP-3), a CBP utility conversation still open (CBP-9).
                    prop_assert!(
                        matches!(o.reason, Some(Reason::FreeCustomerService | Reason::FreeEntryPoint | Reason::InConversation)),
                        "row {}: free as {:?}", e.row, o.reason
                    );
                }
            }
        }
    }

    /// PMP-3: the reply to an entry point opens a 72 h window from its delivery (a later reply
    /// opens a new one); everything delivered in a window costs nothing, templates included.
    #[test]
    fn pmp3_everything_inside_a_free_entry_point_window_costs_nothing(
        log in arb_log(LogSpec::default()),
        forced in arb_pmp(),
    ) {
        let r = replay(&log, forced)?;
        for rows in chats(&log).values() {
            let replies = replies(&log, rows);
            let mut window: Option<i64> = None;
            for (pos, &i) in rows.iter().enumerate() {
                let (e, o) = (&log.events[i], &r.outcomes[i]);
                if delivered_out(e).is_none() || own_rulebook(&log, e, forced).is_cbp() {
                    continue;
                }
                if replies.contains(&pos) {
                    window = Some(e.ts);
                }
                if window.is_some_and(|w| e.ts < w + FEP) {
                    prop_assert_eq!(o.price, Money::ZERO, "row {} inside a free entry point window", e.row);
                    prop_assert!(o.unit != Unit::Charged, "row {}", e.row);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Volume tiers, rate cards
// ---------------------------------------------------------------------------------------------

/// The smallest end of a first band over all tier tables (counts up to it pay the list rate).
fn min_first_band(log: &TestLog) -> u64 {
    log.rates
        .cards
        .iter()
        .flat_map(|c| c.tier_tables().map(|(_, b)| b[0].to.unwrap_or(u64::MAX)))
        .min()
        .unwrap_or(u64::MAX)
}

/// Whether two logs with the same rows group them into months alike (per WABA time zone): the
/// counters of CBP-7, PMP-4 and PMP-5 then see the same groups.
fn same_month_partition(a: &TestLog, b: &TestLog) -> bool {
    let mut map: BTreeMap<u32, u32> = BTreeMap::new();
    let mut back: BTreeMap<u32, u32> = BTreeMap::new();
    for (x, y) in a.events.iter().zip(&b.events) {
        let mx = month_key(local_date(tz_of(a, x), x.ts));
        let my = month_key(local_date(tz_of(b, y), y.ts));
        if *map.entry(mx).or_insert(my) != my || *back.entry(my).or_insert(mx) != mx {
            return false;
        }
    }
    true
}

proptest! {
    #![proptest_config(cases(512))]

    /// PMP-4: volume tiers never make a bill dearer than list prices, and change nothing while
    /// every month's count stays within the first band.
    #[test]
    fn pmp4_tiers_never_raise_the_total_and_change_nothing_below_the_first_threshold(
        log in arb_log(LogSpec::default()),
        forced in arb_rulebook(),
    ) {
        let tiered = replay(&log, forced)?;
        let list_log = log.without_tiers();
        let list = replay(&list_log, forced)?;
        prop_assert!(tiered.total <= list.total, "tiers {} > list {}", tiered.total, list.total);
        let mut counts: BTreeMap<(u16, bool, u32), u64> = BTreeMap::new();
        for (e, o) in log.events.iter().zip(&list.outcomes) {
            if o.unit == Unit::Charged && o.rulebook.is_some_and(|b| !b.is_cbp()) {
                if let Some(g) = o.billed.and_then(tier_group) {
                    let month = month_key(local_date(tz_of(&log, e), e.ts));
                    *counts.entry((o.market, g, month)).or_default() += 1;
                }
            }
        }
        if counts.values().all(|&n| n <= min_first_band(&log)) {
            prop_assert_eq!(tiered.total, list.total);
        }
    }

    /// PMP-4: the n-th charged utility (or authentication, both columns on one counter) message
    /// of a market and WABA-local month, counted in delivery order across all WABAs (CONV-1),
    /// pays the band holding n of the table of the card in force — whatever WABA, number or row
    /// it comes from.
    #[test]
    fn pmp4_the_tier_reached_depends_only_on_delivery_order(
        log in arb_log(LogSpec::default()),
        forced in arb_pmp(),
    ) {
        let r = replay(&log, forced)?;
        let mut counts: BTreeMap<(u16, bool, u32), u64> = BTreeMap::new();
        for i in log.conv1_order() {
            let (e, o) = (&log.events[i], &r.outcomes[i]);
            if o.unit != Unit::Charged || o.rulebook.is_none_or(|b| b.is_cbp()) {
                continue;
            }
            let Some(g) = o.billed.and_then(tier_group) else { continue };
            let date = local_date(tz_of(&log, e), e.ts);
            let n = counts.entry((o.market, g, month_key(date))).or_default();
            *n += 1;
            let card = &log.rates.cards[log.rates.card_at(CURRENCY, date).expect("card")];
            let col = o.billed.unwrap().rate_column().unwrap();
            let expected = match card.tier_rate(o.market, col, *n) {
                TierRate::NoTable => card.rate(o.market, col),
                TierRate::Rate(r) => Some(r),
                TierRate::BeyondTable => None,
            };
            prop_assert_eq!(Some(o.price), expected, "row {}: message {} of the month", e.row, *n);
        }
    }

    /// RATE-1 / §1: nothing but the instant's place in a card's and a rulebook's period matters:
    /// moving every row by whole weeks inside one card, one rulebook period and the same months
    /// leaves every message's bill, the lines (but their month) and the total unchanged.
    #[test]
    fn rate1_shifting_by_whole_weeks_within_one_card_and_rulebook_changes_nothing(
        log in arb_log(LogSpec::steady()),
        forced in arb_rulebook(),
        weeks in select(vec![-1i64, 1]),
    ) {
        let delta = weeks * 7 * DAY;
        let moved = log.shifted(delta);
        prop_assume!(same_month_partition(&log, &moved));
        for (x, y) in log.events.iter().zip(&moved.events) {
            prop_assume!(own_rulebook(&log, x, forced) == own_rulebook(&moved, y, forced));
        }
        let a = bill(&log, forced)?;
        let b = bill(&moved, forced)?;
        prop_assert_eq!(a.total, b.total);
        for (x, y) in a.messages.iter().zip(&b.messages) {
            let y = MessageBill {
                month: x.month.clone(),
                conversation: y.conversation.map(|c| c - delta),
                ..y.clone()
            };
            prop_assert_eq!(x, &y);
        }
        let strip = |lines: &[wabill::billing::engine::Line]| -> Vec<_> {
            let mut v: Vec<_> = lines
                .iter()
                .map(|l| (l.waba.clone(), l.market.clone(), l.category, l.rulebook, l.charged, l.free, l.cost))
                .collect();
            v.sort();
            v
        };
        prop_assert_eq!(strip(&a.lines), strip(&b.lines));
        prop_assert_eq!(a.issues, b.issues);
    }
}

// ---------------------------------------------------------------------------------------------
// The log formats
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(cases(256))]

    /// formats.md §1: a generated log written as CSV and as JSON Lines reads back without a
    /// reject and bills row for row as the generated events.
    #[test]
    fn formats_generated_logs_read_back_from_csv_and_jsonl_bill_the_same(
        log in arb_log(LogSpec::default()),
        forced in arb_rulebook(),
    ) {
        let expected = bill(&log, forced)?;
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in [("log.csv", log.to_csv()), ("log.jsonl", log.to_jsonl())] {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            let options = wabill::io::log::ReadOptions {
                auto_rulebook: forced.is_none(),
                ..Default::default()
            };
            let format = wabill::io::log::LogFormat::from_path(&path);
            let read = wabill::io::log::read_log(&path, format, &log.accounts, &log.markets, &options, &|_| {})
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert!(read.rejects.is_empty(), "{}: {:?}", name, read.rejects);
            let again = TestLog {
                events: read.events.clone(),
                chats: read.chats.clone(),
                countries: read.countries.clone(),
                users: read.users.iter().map(|u| format!("+{u}")).collect(),
                numbers: read.numbers.clone(),
                ..log.clone()
            };
            let got = bill(&again, forced)?;
            prop_assert_eq!(expected.total, got.total, "{}", name);
            prop_assert_eq!(&expected.lines, &got.lines, "{}", name);
            let mut by_row: Vec<MessageBill> = got.messages.clone();
            by_row.sort_by_key(|m| m.row);
            let mut want: Vec<MessageBill> = expected.messages.clone();
            want.sort_by_key(|m| m.row);
            // Rows are renumbered 1..n in file order, which is the generated row order.
            for (k, m) in want.iter_mut().enumerate() {
                m.row = k as u32 + 1;
            }
            prop_assert_eq!(want, by_row, "{}", name);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Why the monotonicity property excludes entry points
// ---------------------------------------------------------------------------------------------

/// CBP-6 / PMP-3: answering an entry point is the one place where sending one more delivered
/// template makes the bill smaller — the reply opens a free window over messages that were
/// charged before. Hence `cbp2_pmp1_adding_a_delivered_template_never_lowers_the_total` runs
/// without entry points.
#[test]
fn entry_point_replies_can_lower_the_total() {
    for start in ["2025-01-14T00:00:00Z", "2025-08-12T00:00:00Z"] {
        let without = FlowBuilder::new()
            .start(start)
            .entry_point(hours(0))
            .template(hours(30), "marketing")
            .build();
        let with = FlowBuilder::new()
            .start(start)
            .entry_point(hours(0))
            .template(hours(30), "marketing")
            .template(hours(23), "utility")
            .build();
        let a = without.replay(None).unwrap().total;
        let b = with.replay(None).unwrap().total;
        assert_eq!(a.to_decimal_string(), "0.0500", "{start}");
        assert_eq!(b, Money::ZERO, "{start}");
    }
}

/// Counter-example kept as a test: under CBP-6 a second entry point answered after an earlier
/// reply moved the first free entry point conversation earlier opens a new one, so adding a
/// template can lower the total even when the added template is not the only reply.
#[test]
fn cbp6_an_earlier_first_reply_lets_a_second_entry_point_open_its_own_window() {
    let base = || {
        FlowBuilder::new()
            .start("2025-01-14T00:00:00Z")
            .entry_point(hours(0))
            .template(hours(23), "utility")
            .entry_point(hours(70))
            .template(hours(74), "utility")
            .template(hours(100), "marketing")
    };
    let without = base().build();
    let with = base().template(hours(1), "utility").build();
    // without: the free entry point runs [23 h, 95 h) and covers the 74 h reply; 100 h opens a
    // marketing conversation. with: [1 h, 73 h); the 74 h reply opens [74 h, 146 h), covering 100 h.
    assert_eq!(
        without.replay(None).unwrap().total.to_decimal_string(),
        "0.0500"
    );
    assert_eq!(with.replay(None).unwrap().total, Money::ZERO);
}
