//! Expanding activity starts into rows: a support contact into sessions of messages (with
//! follow-ups and re-engagement), an order into utility templates, a login into an
//! authentication template, a campaign send into a marketing template and maybe a reply.
//!
//! Each activity keeps its own view of the chat (the last inbound message it has seen) and sends
//! a non-template message only while that view's customer service window is open (CONV-2), so
//! the merged log never has a non-template message outside the window.

use std::ops::ControlFlow;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::emit::Emitter;
use super::sampling::{count_in, secs};
use super::starts::Start;
use super::{Summary, CSW_SECS};
use crate::billing::types::{Status, TemplateCategory};
use crate::traffic::model::{Direction, EntryPoint, MessageType, Row, User};
use crate::traffic::scenario::{Reengagement, Scenario, Span};

/// One chat's view for one activity: the last inbound message this activity has seen.
struct Chat {
    user: u32,
    number: u16,
    us: bool,
    last_in: Option<i64>,
    /// MBA-1: Meta Business Agent answers this contact; its replies' tokens are drawn here.
    agent: Option<ChaCha8Rng>,
}

/// The draws of `[agent]` and `[calls]` for one contact: a generator of their own, seeded by
/// the contact (its user and start), so that they change no other draw and a scenario without
/// them is generated exactly as before.
fn side_rng(st: &Start, salt: u64) -> ChaCha8Rng {
    let mut h = (u64::from(st.user) << 32) ^ (st.ts as u64) ^ salt.rotate_left(17);
    // splitmix64
    h = h.wrapping_add(0x9e37_79b9_7f4a_7c15);
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    ChaCha8Rng::seed_from_u64(h ^ (h >> 31))
}

impl Chat {
    /// CONV-2: open in [last inbound, +24 h).
    fn csw_open(&self, t: i64) -> bool {
        matches!(self.last_in, Some(li) if t >= li && t < li + CSW_SECS)
    }
}

/// What became of something the agent had to say.
enum Said {
    /// Sent as a non-template message (window open).
    Sent,
    /// The window was closed: a utility template went out and the user answered at this time.
    Reopened(i64),
    /// Nothing can be sent (waiting for the user, or the template failed).
    Stalled,
}

/// Gap between messages of one burst (several messages in a row from one side).
const BURST_GAP_SECONDS: Span<f64> = Span::new(5.0, 90.0);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    User,
    Agent,
}

/// Expands starts into rows for one run, counting what happened into the summary.
pub(super) struct Expander<'a, 'k, S> {
    pub sc: &'a Scenario,
    pub users: &'a [User],
    /// PMP-7: marketing templates to US numbers fail from this instant.
    pub us_pause: i64,
    pub out: Emitter<'k, S>,
    pub s: Summary,
}

impl<'a, 'k, S: FnMut(&Row) -> ControlFlow<()>> Expander<'a, 'k, S> {
    fn chat(&self, user: u32) -> Chat {
        let u = &self.users[user as usize];
        Chat {
            user,
            number: u.number,
            us: u.country.iso() == "US",
            last_in: None,
            agent: None,
        }
    }

    fn row(chat: &Chat, ts: i64, direction: Direction, kind: MessageType) -> Row {
        Row {
            ts,
            id: 0,
            user: chat.user,
            number: chat.number,
            direction,
            kind,
            category: None,
            status: None,
            entry_point: None,
            amount: 0,
        }
    }

    fn inbound(
        &mut self,
        chat: &mut Chat,
        ts: i64,
        entry: Option<EntryPoint>,
        rng: &mut ChaCha8Rng,
    ) {
        let kind = if rng.random_range(0..10u32) == 0 {
            MessageType::Image
        } else {
            MessageType::Text
        };
        let mut r = Self::row(chat, ts, Direction::In, kind);
        r.entry_point = entry;
        self.out.push(r);
        chat.last_in = Some(ts);
    }

    /// PMP-7 first, then the configured failure rate. The random draw is always made, so that
    /// the pause does not shift later draws.
    fn status(
        &mut self,
        chat: &Chat,
        ts: i64,
        category: Option<TemplateCategory>,
        rng: &mut ChaCha8Rng,
    ) -> Status {
        let random_fail = rng.random_bool(self.sc.failure_rate);
        if category == Some(TemplateCategory::Marketing) && chat.us && ts >= self.us_pause {
            self.s.us_marketing_failed += 1;
            Status::Failed
        } else if random_fail {
            Status::Failed
        } else {
            Status::Delivered
        }
    }

    fn template(
        &mut self,
        chat: &Chat,
        ts: i64,
        category: TemplateCategory,
        rng: &mut ChaCha8Rng,
    ) -> bool {
        let status = self.status(chat, ts, Some(category), rng);
        let mut r = Self::row(chat, ts, Direction::Out, MessageType::Template);
        r.category = Some(category);
        r.status = Some(status);
        self.out.push(r);
        status == Status::Delivered
    }

    /// A non-template business message; only ever called with the window open. When Meta's
    /// agent answers the contact (MBA-1) it is the agent's reply, with its tokens.
    fn free_form(&mut self, chat: &mut Chat, ts: i64, rng: &mut ChaCha8Rng) {
        debug_assert!(chat.csw_open(ts));
        let mut kind = match rng.random_range(0..20u32) {
            0 => MessageType::Image,
            1 | 2 => MessageType::Interactive,
            _ => MessageType::Text,
        };
        let status = self.status(chat, ts, None, rng);
        let mut amount = 0;
        if let Some(a) = &mut chat.agent {
            kind = MessageType::Agent;
            amount = count_in(a, self.sc.agent.tokens_per_reply);
            self.s.agent_replies += 1;
        }
        let mut r = Self::row(chat, ts, Direction::Out, kind);
        r.status = Some(status);
        r.amount = amount;
        self.out.push(r);
    }

    /// CALL-1…3: a call of `seconds` at `ts`, from the user (`Direction::In`) or the business
    /// (accepted). Either opens the window the generator's view of the chat keeps.
    fn call(&mut self, chat: &mut Chat, ts: i64, direction: Direction, seconds: i64) {
        let mut r = Self::row(chat, ts, direction, MessageType::Call);
        r.amount = seconds.clamp(1, i64::from(u32::MAX)) as u32;
        if direction == Direction::Out {
            // Written `accepted` (the user took the call).
            r.status = Some(Status::Delivered);
        }
        self.out.push(r);
        chat.last_in = Some(ts);
    }

    /// The agent has something to say at `t`. Inside the window: a non-template message.
    /// Outside: the re-engagement policy: a utility template that the user answers (the
    /// window opens again and the agent can then say it), or nothing.
    fn agent_says(&mut self, chat: &mut Chat, t: i64, rng: &mut ChaCha8Rng) -> Said {
        if chat.csw_open(t) {
            self.free_form(chat, t, rng);
            return Said::Sent;
        }
        match self.sc.support.reengagement {
            Reengagement::UtilityTemplate => {
                self.s.reengagement_templates += 1;
                if self.template(chat, t, TemplateCategory::Utility, rng) {
                    let reply = t + secs(rng, self.sc.support.reply_delay_minutes, 60.0);
                    self.inbound(chat, reply, None, rng);
                    Said::Reopened(reply)
                } else {
                    Said::Stalled
                }
            }
            Reengagement::WaitForUser => {
                self.s.waits_for_user += 1;
                Said::Stalled
            }
        }
    }

    /// A session: turns alternate, starting with `opener`. With `n_u` user and `n_a` agent
    /// messages there are `min(n_u, n_a)` turns each; the opener's extra messages come as a burst
    /// in its first turn (a user explaining in several messages), the other side's extra ones in
    /// its last turn (an agent's answer plus a list). Returns the time of the last message and
    /// whether the session got past its first message.
    fn session(
        &mut self,
        chat: &mut Chat,
        mut t: i64,
        opener: Side,
        entry: Option<EntryPoint>,
        rng: &mut ChaCha8Rng,
    ) -> (i64, bool) {
        let sc: &'a Scenario = self.sc;
        let sp = &sc.support;
        let (n_u, n_a) = (
            count_in(rng, sp.user_messages),
            count_in(rng, sp.agent_messages),
        );
        let pairs = n_u.min(n_a).max(1);
        let (n_open, n_other) = if opener == Side::User {
            (n_u, n_a)
        } else {
            (n_a, n_u)
        };
        let other = if opener == Side::User {
            Side::Agent
        } else {
            Side::User
        };
        let mut first = true;
        let (mut agent_spoke, mut user_spoke) = (false, false);
        for k in 0..2 * pairs {
            let side = if k % 2 == 0 { opener } else { other };
            let msgs = match (k, side == opener) {
                (0, true) => 1 + n_open.saturating_sub(pairs),
                (_, false) if k == 2 * pairs - 1 => 1 + n_other.saturating_sub(pairs),
                _ => 1,
            };
            for m in 0..msgs {
                if !first {
                    t += if m > 0 {
                        secs(rng, BURST_GAP_SECONDS, 1.0)
                    } else {
                        match side {
                            Side::Agent if !agent_spoke => {
                                secs(rng, sp.agent_latency_minutes, 60.0)
                            }
                            Side::User if !user_spoke => secs(rng, sp.reply_delay_minutes, 60.0),
                            _ => secs(rng, sp.turn_gap_seconds, 1.0),
                        }
                    };
                }
                match side {
                    Side::User => {
                        self.inbound(chat, t, if first { entry } else { None }, rng);
                        user_spoke = true;
                    }
                    Side::Agent => {
                        // A re-opened window lets the agent say it right after the reply; give
                        // up after a few templates (a turn gap longer than the window).
                        let mut tries = 0;
                        loop {
                            match self.agent_says(chat, t, rng) {
                                Said::Sent => break,
                                Said::Reopened(reply) if tries < 2 => {
                                    tries += 1;
                                    user_spoke = true;
                                    t = reply + secs(rng, sp.turn_gap_seconds, 1.0);
                                }
                                Said::Reopened(reply) => return (reply, true),
                                Said::Stalled => return (t, !first),
                            }
                        }
                        agent_spoke = true;
                    }
                }
                first = false;
            }
        }
        (t, true)
    }

    pub(super) fn contact(&mut self, st: &Start, rng: &mut ChaCha8Rng) {
        let sc: &'a Scenario = self.sc;
        let sp = &sc.support;
        let u: f64 = rng.random();
        let entry = if u < sp.ctwa_share {
            self.s.contacts_ctwa += 1;
            Some(EntryPoint::Ctwa)
        } else if u < sp.ctwa_share + sp.page_cta_share {
            self.s.contacts_page_cta += 1;
            Some(EntryPoint::PageCta)
        } else {
            None
        };
        let fcr = rng.random_bool(sp.fcr);
        let followups = if fcr {
            0
        } else {
            count_in(rng, sp.followup_sessions)
        };
        let resolved = fcr || rng.random_bool(sp.followup_resolution);
        let (gap, policy) = (sp.followup_gap_hours, sp.reengagement);
        self.s.contacts += 1;
        self.s.contacts_resolved_first += u64::from(fcr);
        self.s.contacts_resolved += u64::from(resolved);
        self.s.sessions += 1 + u64::from(followups);
        self.s.followup_sessions += u64::from(followups);

        let mut chat = self.chat(st.user);
        let (agent, calls) = (&sc.agent, &sc.calls);
        if agent.share > 0.0 {
            let mut a = side_rng(st, 1);
            if a.random_bool(agent.share) {
                self.s.contacts_agent += 1;
                chat.agent = Some(a);
            }
        }
        let start = if calls.share > 0.0 {
            match self.call_first(st, &mut chat) {
                Some(start) => start,
                None => {
                    // Settled on the phone: resolved at first contact, no follow-up.
                    self.s.contacts_resolved_first += u64::from(!fcr);
                    self.s.contacts_resolved += u64::from(!resolved);
                    self.s.sessions -= u64::from(followups);
                    self.s.followup_sessions -= u64::from(followups);
                    return;
                }
            }
        } else {
            st.ts
        };
        let (mut t, _) = self.session(&mut chat, start, Side::User, entry, rng);
        for k in 0..followups {
            let at = t + secs(rng, gap, 3600.0);
            // The business owes the user an answer: it writes if it may (window open, or a
            // utility template under that policy); otherwise the user comes back on their own.
            let opener = if chat.csw_open(at) || policy == Reengagement::UtilityTemplate {
                Side::Agent
            } else {
                Side::User
            };
            if opener == Side::User {
                self.s.waits_for_user += 1;
                // Waiting has a price: a user who does not come back leaves the issue
                // unresolved, and the follow-ups left are never held.
                if sp.wait_return_share < 1.0 && !rng.random_bool(sp.wait_return_share) {
                    let left = u64::from(followups - k);
                    self.s.sessions -= left;
                    self.s.followup_sessions -= left;
                    self.s.contacts_resolved -= u64::from(resolved);
                    self.s.contacts_abandoned += 1;
                    break;
                }
            }
            let (end, started) = self.session(&mut chat, at, opener, None, rng);
            t = end;
            if !started {
                // The re-engagement template failed: the user writes again later.
                let again = t + secs(rng, gap, 3600.0);
                t = self.session(&mut chat, again, Side::User, None, rng).0;
            }
        }
    }

    /// GRP-1…3: a template to every member of the group (one delivery each, at the group's
    /// business number); with `groups.reply_share` a member answers, and the business replies
    /// to the whole group inside the window that message opened (GRP-2: free).
    pub(super) fn broadcast(
        &mut self,
        st: &Start,
        pop: &crate::traffic::model::Population,
        rng: &mut ChaCha8Rng,
    ) {
        let g = &self.sc.groups;
        let group = u32::from(st.campaign);
        let Some(members) = pop.groups.get(group as usize) else {
            return;
        };
        let Some(&first) = members.first() else {
            return;
        };
        self.s.group_broadcasts += 1;
        let number = self.users[first as usize].number;
        let category = if rng.random_bool(g.utility_share) {
            TemplateCategory::Utility
        } else {
            TemplateCategory::Marketing
        };
        let row = |user: u32, ts: i64, direction, kind| Row {
            ts,
            id: 0,
            user,
            number,
            direction,
            kind,
            category: None,
            status: None,
            entry_point: None,
            amount: group + 1,
        };
        for &m in members {
            let chat = self.chat(m);
            let status = self.status(&chat, st.ts, Some(category), rng);
            let mut r = row(m, st.ts, Direction::Out, MessageType::Template);
            r.category = Some(category);
            r.status = Some(status);
            self.out.push(r);
        }
        if rng.random_bool(g.reply_share) {
            self.s.group_replies += 1;
            let who = members[rng.random_range(0..members.len())];
            let at = st.ts + secs(rng, self.sc.support.reply_delay_minutes, 60.0);
            self.out
                .push(row(who, at, Direction::In, MessageType::Text));
            let answer =
                at + secs(rng, self.sc.support.agent_latency_minutes, 60.0).min(CSW_SECS - 1);
            for &m in members {
                let chat = self.chat(m);
                let status = self.status(&chat, answer, None, rng);
                let mut r = row(m, answer, Direction::Out, MessageType::Text);
                r.status = Some(status);
                self.out.push(r);
            }
        }
    }

    /// `[calls]`: a contact may begin with the user's call (free, CALL-2; it opens the window,
    /// CALL-1); the business may call back and settle it on the phone (CALL-3): `None`. Else
    /// when the user's written session starts (after the call, if any).
    fn call_first(&mut self, st: &Start, chat: &mut Chat) -> Option<i64> {
        let calls = &self.sc.calls;
        let mut c = side_rng(st, 2);
        if !c.random_bool(calls.share) {
            return Some(st.ts);
        }
        self.s.calls_from_users += 1;
        let seconds = secs(&mut c, calls.duration_seconds, 1.0);
        self.call(chat, st.ts, Direction::In, seconds);
        if c.random_bool(calls.callback_share) {
            self.s.callbacks += 1;
            let at = st.ts + secs(&mut c, self.sc.support.agent_latency_minutes, 60.0);
            let seconds = secs(&mut c, calls.duration_seconds, 1.0);
            self.call(chat, at, Direction::Out, seconds);
            return None;
        }
        Some(st.ts + seconds + 60)
    }

    pub(super) fn campaign_send(&mut self, st: &Start, rng: &mut ChaCha8Rng) {
        let c = &self.sc.campaigns[st.campaign as usize];
        let reply_rate = c.reply_rate;
        let mut chat = self.chat(st.user);
        self.s.campaign_recipients += 1;
        let delivered = self.template(&chat, st.ts, TemplateCategory::Marketing, rng);
        let replies = delivered && rng.random_bool(reply_rate);
        let cs = &mut self.s.campaigns[st.campaign as usize];
        if !delivered {
            cs.failed += 1;
        }
        if replies {
            cs.replies += 1;
            self.s.campaign_replies += 1;
            let at = st.ts + secs(rng, self.sc.support.reply_delay_minutes, 60.0);
            self.session(&mut chat, at, Side::User, None, rng);
        }
    }

    pub(super) fn order(&mut self, st: &Start, rng: &mut ChaCha8Rng) {
        let u = &self.sc.utility;
        let (n, gap) = (count_in(rng, u.messages_per_order), u.message_gap_hours);
        self.s.orders += 1;
        let chat = self.chat(st.user);
        // Confirmation shortly after the order, then updates hours apart.
        let mut t = st.ts + rng.random_range(30..300i64);
        for i in 0..n {
            if i > 0 {
                t += secs(rng, gap, 3600.0);
            }
            self.template(&chat, t, TemplateCategory::Utility, rng);
        }
    }

    pub(super) fn login(&mut self, st: &Start, rng: &mut ChaCha8Rng) {
        self.s.logins += 1;
        let chat = self.chat(st.user);
        self.template(&chat, st.ts, TemplateCategory::Authentication, rng);
    }
}
