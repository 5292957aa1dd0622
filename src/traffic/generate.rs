//! The generator: turns a [`Scenario`] and a seed into message rows, in timestamp order.
//!
//! How it works, and why:
//!
//! 1. **Population.** Users get numbers of their country (see [`crate::traffic::countries`]) and a business
//!    number; business numbers come from a fixed seed, so every seed talks from the same numbers.
//! 2. **Activity starts.** Each user's contacts, orders and logins follow a Poisson process over
//!    the period (count drawn from a Poisson law, times spread uniformly over the days and by a
//!    daytime curve in the user's local time); campaigns pick an exact number of recipients.
//!    Starts are 16-byte records, sorted once.
//! 3. **Expansion.** Starts are expanded in time order into rows (a support contact becomes
//!    sessions of messages; an order a few utility templates…). Rows of an activity are always
//!    later than its start, so every row earlier than the next start is final: those are sorted
//!    in small batches, merged with the rows still waiting, and handed to the sink. Memory stays
//!    around a few days of traffic plus the starts, and no row allocates.
//!
//! **Customer service window.** Each activity keeps its own "last inbound" time and sends a
//! non-template message only before that + 24 h (CONV-2: half-open). Other activities of the
//! same user can only add inbound messages, which only extend the real window, so a message
//! valid for its own activity is valid in the merged log: the replay sees no `outside-csw`.
//! A reply is always at least one second after the message it answers, so ties in time never
//! put a reply before its inbound.
//!
//! **Determinism.** Every random draw comes from `ChaCha8Rng::seed_from_u64(seed)` on a
//! separate stream per purpose (population, each kind of start, each kind of expansion, each
//! campaign), and each activity expands from its own lane of its stream. Changing one part of a
//! scenario (say the re-engagement policy) therefore keeps the same users, the same contacts at
//! the same times with the same entry points and resolutions, which makes `compare` runs fair. No clock, no hash
//! order, no transcendental float functions (whose last bit may differ between platforms' libm):
//! the Poisson law uses an `exp` built from plain arithmetic. Ties in time are broken by
//! generation order, which is itself fixed.

use std::collections::HashSet;
use std::ops::ControlFlow;

use chrono::{NaiveDate, NaiveTime};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::traffic::countries::make_number;
use crate::traffic::model::{
    Category, Direction, EntryPoint, MessageType, Population, Row, Status, User,
};
use crate::traffic::scenario::{local_instant, Reengagement, Scenario, Span};

const DAY: i64 = 86_400;
/// CONV-2: the customer service window is [last inbound, +24 h).
const CSW_SECS: i64 = DAY;
/// How much simulated time separates two merges of waiting rows.
const FLUSH_EVERY: i64 = 6 * 3600;
/// Average Gregorian month: 365.2425 / 12 days.
const MONTH_SECS: f64 = 30.436_875 * 86_400.0;
/// Business numbers do not depend on the seed.
const BUSINESS_NUMBER_SEED: u64 = 0x5741_4249_4c4c_0001;

const STREAM_POPULATION: u64 = 1;
const STREAM_CONTACT_STARTS: u64 = 2;
const STREAM_ORDER_STARTS: u64 = 3;
const STREAM_LOGIN_STARTS: u64 = 4;
const STREAM_CONTACTS: u64 = 5;
const STREAM_ORDERS: u64 = 6;
const STREAM_LOGINS: u64 = 7;
/// Campaign `i` draws its recipients from stream `CAMPAIGN + 2i` and expands on `CAMPAIGN + 2i + 1`.
const STREAM_CAMPAIGN: u64 = 1000;

/// PMP-7: Meta stopped delivering marketing templates to US numbers on 2025-04-01. The
/// generator uses the earlier of 00:00 in the WABA's zone and 00:00 UTC, so that a replay reading
/// the date either way finds every such message failed.
pub fn us_marketing_pause(scenario: &Scenario) -> i64 {
    let d = NaiveDate::from_ymd_opt(2025, 4, 1).unwrap();
    let utc = d.and_time(NaiveTime::MIN).and_utc().timestamp();
    utc.min(local_instant(scenario.account.timezone, d, NaiveTime::MIN))
}

/// Weights of the local hour at which users start something (messages, orders, logins).
const HOUR_WEIGHTS: [u32; 24] = [
    3, 2, 1, 1, 1, 2, 4, 8, 14, 18, 20, 20, 19, 18, 18, 18, 18, 19, 20, 21, 20, 16, 10, 5,
];

/// What the run counted. Activity counts (contacts, recipients…) include activities whose later
/// rows fell after the period end; row counts are of rows actually emitted.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Summary {
    /// Users in the population.
    pub users: u64,
    /// Length of the period in months (1/12 of 365.2425 days).
    pub months: f64,
    /// Rows emitted.
    pub rows: u64,
    /// Inbound rows.
    pub inbound: u64,
    /// Outbound rows.
    pub outbound: u64,
    /// Outbound rows delivered.
    pub delivered: u64,
    /// Outbound rows failed (random failures and PMP-7).
    pub failed: u64,
    /// Outbound non-template rows (text, interactive, image).
    pub non_template: u64,
    /// Outbound marketing templates.
    pub marketing: u64,
    /// Outbound utility templates.
    pub utility: u64,
    /// Outbound authentication templates.
    pub authentication: u64,
    /// Marketing templates to US numbers failed because of PMP-7.
    pub us_marketing_failed: u64,
    /// Inbound rows with `entry_point = ctwa`.
    pub ctwa_messages: u64,
    /// Inbound rows with `entry_point = page_cta`.
    pub page_cta_messages: u64,
    /// Rows that would have fallen after the period end and were left out.
    pub rows_after_end: u64,
    /// Support contacts (issues) started.
    pub contacts: u64,
    /// Contacts resolved in their first session (FCR).
    pub contacts_resolved_first: u64,
    /// Contacts resolved in the end (first session or follow-ups).
    pub contacts_resolved: u64,
    /// Contacts whose first message came from a Click-to-WhatsApp ad.
    pub contacts_ctwa: u64,
    /// Contacts whose first message came from a Page button.
    pub contacts_page_cta: u64,
    /// Sessions of support contacts, first ones included.
    pub sessions: u64,
    /// Follow-up sessions.
    pub followup_sessions: u64,
    /// Utility templates sent because the window had closed (policy `utility_template`).
    pub reengagement_templates: u64,
    /// Times the business had to wait for the user (policy `wait_for_user`, window closed).
    pub waits_for_user: u64,
    /// Marketing templates sent by campaigns (all campaigns).
    pub campaign_recipients: u64,
    /// Users who wrote back after a campaign.
    pub campaign_replies: u64,
    /// Per campaign, in scenario order.
    pub campaigns: Vec<CampaignSummary>,
    /// Orders.
    pub orders: u64,
    /// Logins (one authentication template each).
    pub logins: u64,
}

impl Summary {
    /// Support contacts per user per month.
    pub fn contacts_per_user_month(&self) -> f64 {
        self.contacts as f64 / (self.users as f64 * self.months).max(f64::MIN_POSITIVE)
    }
    /// Share of contacts resolved at first contact.
    pub fn fcr_share(&self) -> f64 {
        self.contacts_resolved_first as f64 / (self.contacts as f64).max(1.0)
    }
    /// Share of contacts that came from a Click-to-WhatsApp ad.
    pub fn ctwa_share(&self) -> f64 {
        self.contacts_ctwa as f64 / (self.contacts as f64).max(1.0)
    }
}

/// Counts for one campaign.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CampaignSummary {
    /// The campaign's name.
    pub name: String,
    /// Users eligible (country filter).
    pub eligible: u64,
    /// Users sent the template (within the period).
    pub recipients: u64,
    /// Templates not delivered.
    pub failed: u64,
    /// Users who wrote back.
    pub replies: u64,
}

/// Where generation is, for a progress bar.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Progress {
    /// Rows handed to the sink so far.
    pub rows: u64,
    /// Share of the period already written, 0 to 1.
    pub fraction: f64,
}

/// The population and summary of a finished run.
#[derive(Clone, Debug, PartialEq)]
pub struct Generated {
    /// Users and business numbers the rows point into.
    pub population: Population,
    /// Counts.
    pub summary: Summary,
}

/// Generates the traffic of `scenario` with `seed`, handing each row to `sink` in timestamp
/// order. Same scenario and seed, same rows, on any machine.
pub fn generate(scenario: &Scenario, seed: u64, sink: &mut impl FnMut(&Row)) -> Generated {
    let traffic = Traffic::new(scenario, seed);
    let summary = traffic.run(
        &mut |r: &Row| {
            sink(r);
            ControlFlow::Continue(())
        },
        &mut |_| {},
    );
    Generated {
        population: traffic.population,
        summary,
    }
}

/// Generates everything into memory. Convenient for tests and small scenarios.
pub fn generate_vec(scenario: &Scenario, seed: u64) -> (Vec<Row>, Generated) {
    let mut rows = Vec::new();
    let g = generate(scenario, seed, &mut |r| rows.push(*r));
    (rows, g)
}

/// A prepared run: the population exists (so a writer can be set up), rows do not yet.
pub struct Traffic<'s> {
    scenario: &'s Scenario,
    seed: u64,
    population: Population,
}

fn stream(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

/// One stream cut into lanes of 2^20 words: the n-th activity of a kind draws from lane n. So an
/// activity's draws depend on its rank among its kind only, not on how many draws the activities
/// before it made: a change inside contacts (say the re-engagement policy) leaves every other
/// contact's opening draws (entry point, resolution, follow-up count) as they were.
struct Lanes {
    rng: ChaCha8Rng,
    next: u128,
}

impl Lanes {
    fn new(seed: u64, s: u64) -> Self {
        Lanes {
            rng: stream(seed, s),
            next: 0,
        }
    }
    fn next(&mut self) -> &mut ChaCha8Rng {
        self.rng.set_word_pos(self.next << 20);
        self.next += 1;
        &mut self.rng
    }
}

impl<'s> Traffic<'s> {
    /// Builds the population for `scenario` and `seed`.
    pub fn new(scenario: &'s Scenario, seed: u64) -> Self {
        let population = build_population(scenario, seed);
        Traffic {
            scenario,
            seed,
            population,
        }
    }

    /// The users and business numbers that rows point into.
    pub fn population(&self) -> &Population {
        &self.population
    }

    /// Takes the population out (after [`Traffic::run`]).
    pub fn into_population(self) -> Population {
        self.population
    }

    /// Generates the rows in timestamp order. `sink` may stop the run early by returning
    /// `ControlFlow::Break` (e.g. on a write error); `progress` is called a few hundred times.
    pub fn run(
        &self,
        sink: &mut impl FnMut(&Row) -> ControlFlow<()>,
        progress: &mut impl FnMut(Progress),
    ) -> Summary {
        let sc = self.scenario;
        let (start, end) = sc.bounds();
        let mut summary = Summary {
            users: self.population.users.len() as u64,
            months: (end - start) as f64 / MONTH_SECS,
            ..Summary::default()
        };
        let (starts, campaigns) = self.starts(start, end, summary.months);
        summary.campaigns = campaigns;

        let mut eng = Engine {
            sc,
            users: &self.population.users,
            us_pause: us_marketing_pause(sc),
            out: Out::new(end, sink),
            s: summary,
        };
        let mut contacts = Lanes::new(self.seed, STREAM_CONTACTS);
        let mut orders = Lanes::new(self.seed, STREAM_ORDERS);
        let mut logins = Lanes::new(self.seed, STREAM_LOGINS);
        let mut camp_rngs: Vec<Lanes> = (0..sc.campaigns.len() as u64)
            .map(|i| Lanes::new(self.seed, STREAM_CAMPAIGN + 2 * i + 1))
            .collect();

        let span = (end - start).max(1) as f64;
        let mut next_flush = i64::MIN;
        for st in &starts {
            if st.ts >= next_flush {
                eng.out.flush(st.ts);
                progress(Progress {
                    rows: eng.out.emitted,
                    fraction: ((st.ts - start) as f64 / span).clamp(0.0, 1.0),
                });
                if eng.out.stopped {
                    break;
                }
                next_flush = st.ts + FLUSH_EVERY;
            }
            match st.kind {
                Kind::Contact => eng.contact(st, contacts.next()),
                Kind::Order => eng.order(st, orders.next()),
                Kind::Login => eng.login(st, logins.next()),
                Kind::Campaign => eng.campaign_send(st, camp_rngs[st.campaign as usize].next()),
            }
        }
        eng.out.flush(i64::MAX);
        progress(Progress {
            rows: eng.out.emitted,
            fraction: 1.0,
        });
        let mut s = eng.s;
        eng.out.counts.add_to(&mut s);
        s
    }

    /// Draws every activity start and sorts them.
    fn starts(&self, start: i64, end: i64, months: f64) -> (Vec<Start>, Vec<CampaignSummary>) {
        let sc = self.scenario;
        let users = &self.population.users;
        let mut starts = Vec::new();
        let kinds = [
            (
                Kind::Contact,
                STREAM_CONTACT_STARTS,
                sc.support.contacts_per_user_month,
            ),
            (
                Kind::Order,
                STREAM_ORDER_STARTS,
                sc.utility.orders_per_user_month,
            ),
            (
                Kind::Login,
                STREAM_LOGIN_STARTS,
                sc.authentication.logins_per_user_month,
            ),
        ];
        for (kind, s, rate) in kinds {
            let mut rng = stream(self.seed, s);
            let poisson = Poisson::new(rate * months);
            if poisson.is_zero() {
                continue;
            }
            for (i, u) in users.iter().enumerate() {
                let n = poisson.sample(&mut rng);
                let offset = i64::from(u.country.info().utc_offset_min) * 60;
                for _ in 0..n {
                    if let Some(ts) = daytime_instant(&mut rng, offset, start, end) {
                        starts.push(Start {
                            ts,
                            user: i as u32,
                            kind,
                            campaign: 0,
                        });
                    }
                }
            }
        }

        let mut summaries = Vec::with_capacity(sc.campaigns.len());
        let mut eligible: Vec<u32> = Vec::new();
        for (ci, c) in sc.campaigns.iter().enumerate() {
            let mut rng = stream(self.seed, STREAM_CAMPAIGN + 2 * ci as u64);
            eligible.clear();
            eligible.extend(
                users
                    .iter()
                    .enumerate()
                    .filter(|(_, u)| c.countries.is_empty() || c.countries.contains(&u.country))
                    .map(|(i, _)| i as u32),
            );
            let k = ((eligible.len() as f64) * c.share).round() as usize;
            let k = k.min(eligible.len());
            // Partial Fisher–Yates: an exact-size uniform sample.
            for j in 0..k {
                let r = rng.random_range(j as u64..eligible.len() as u64) as usize;
                eligible.swap(j, r);
            }
            let t0 = local_instant(sc.account.timezone, c.date, c.time);
            let dur = (c.duration_minutes * 60.0).round() as i64;
            let mut recipients = 0;
            for &u in &eligible[..k] {
                let ts = if dur > 0 {
                    t0 + rng.random_range(0..dur)
                } else {
                    t0
                };
                if ts >= start && ts < end {
                    starts.push(Start {
                        ts,
                        user: u,
                        kind: Kind::Campaign,
                        campaign: ci as u16,
                    });
                    recipients += 1;
                }
            }
            summaries.push(CampaignSummary {
                name: c.name.clone(),
                eligible: eligible.len() as u64,
                recipients,
                ..CampaignSummary::default()
            });
        }
        // Equal keys are equal starts, so an unstable sort is still deterministic.
        starts.sort_unstable_by_key(|s| (s.ts, s.kind, s.campaign, s.user));
        (starts, summaries)
    }
}

fn build_population(sc: &Scenario, seed: u64) -> Population {
    let total = sc.total_users() as usize;
    let mut seen: HashSet<u64> = HashSet::with_capacity(total + sc.account.numbers as usize);
    let mut numbers = Vec::with_capacity(sc.account.numbers as usize);
    let mut brng = ChaCha8Rng::seed_from_u64(BUSINESS_NUMBER_SEED);
    while numbers.len() < sc.account.numbers as usize {
        let n = make_number(sc.account.number_country, |m| brng.random_range(0..m));
        if seen.insert(n) {
            numbers.push(n);
        }
    }
    let mut rng = stream(seed, STREAM_POPULATION);
    let mut users = Vec::with_capacity(total);
    for a in &sc.audience {
        for _ in 0..a.users {
            let phone = loop {
                let n = make_number(a.country, |m| rng.random_range(0..m));
                if seen.insert(n) {
                    break n;
                }
            };
            let number = if numbers.len() > 1 {
                rng.random_range(0..numbers.len() as u32) as u16
            } else {
                0
            };
            users.push(User {
                phone,
                country: a.country,
                number,
            });
        }
    }
    Population {
        waba: sc.account.waba.clone(),
        numbers,
        users,
    }
}

/// A user's daytime instant in `[start, end)`: a uniform day, an hour by [`HOUR_WEIGHTS`] in the
/// user's local time, a uniform second. `None` if 32 draws all fell outside (very short periods).
fn daytime_instant(rng: &mut ChaCha8Rng, offset_secs: i64, start: i64, end: i64) -> Option<i64> {
    let first_day = start.div_euclid(DAY) - 1;
    let last_day = (end - 1).div_euclid(DAY) + 1;
    const TOTAL: u32 = {
        let mut t = 0;
        let mut i = 0;
        while i < 24 {
            t += HOUR_WEIGHTS[i];
            i += 1;
        }
        t
    };
    for _ in 0..32 {
        let day = rng.random_range(first_day..=last_day);
        let mut r = rng.random_range(0..TOTAL);
        let mut hour = 0i64;
        for (h, w) in HOUR_WEIGHTS.iter().enumerate() {
            if r < *w {
                hour = h as i64;
                break;
            }
            r -= w;
        }
        let sec = rng.random_range(0..3600i64);
        let ts = day * DAY + hour * 3600 + sec - offset_secs;
        if ts >= start && ts < end {
            return Some(ts);
        }
    }
    None
}

/// e^(-x) for x >= 0 with plain IEEE arithmetic (same bits everywhere, unlike libm's `exp`):
/// e^(-n) by binary powers of the constant e^(-1) for the whole part, and for the fraction a
/// Taylor series on f/16 raised back to the 16th power. Relative error about 1e-15.
fn exp_neg(x: f64) -> f64 {
    const E_INV: f64 = 0.367_879_441_171_442_33;
    let whole = x.floor();
    let frac = x - whole;
    let mut n = whole as u64;
    let mut base = E_INV;
    let mut result = 1.0;
    while n > 0 {
        if n & 1 == 1 {
            result *= base;
        }
        base *= base;
        n >>= 1;
    }
    let y = frac / 16.0;
    let mut term = 1.0;
    let mut sum = 1.0;
    for k in 1..=12 {
        term *= -y / f64::from(k);
        sum += term;
    }
    for _ in 0..4 {
        sum *= sum;
    }
    result * sum
}

/// Poisson law by Knuth's product of uniforms, split in parts of mean ≤ 500 so that e^(-λ)
/// never underflows. Cost is proportional to the count, like the rows it leads to.
struct Poisson {
    parts: u32,
    limit: f64,
}

impl Poisson {
    fn new(mean: f64) -> Self {
        if mean.is_nan() || mean <= 0.0 {
            return Poisson {
                parts: 0,
                limit: 1.0,
            };
        }
        let parts = (mean / 500.0).ceil().max(1.0) as u32;
        Poisson {
            parts,
            limit: exp_neg(mean / f64::from(parts)),
        }
    }
    fn is_zero(&self) -> bool {
        self.parts == 0
    }
    fn sample(&self, rng: &mut ChaCha8Rng) -> u32 {
        let mut n = 0;
        for _ in 0..self.parts {
            let mut p = 1.0;
            loop {
                p *= rng.random::<f64>();
                if p <= self.limit {
                    break;
                }
                n += 1;
            }
        }
        n
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
enum Kind {
    Contact,
    Order,
    Login,
    Campaign,
}

#[derive(Clone, Copy, Debug)]
struct Start {
    ts: i64,
    user: u32,
    kind: Kind,
    campaign: u16,
}

/// Row counts kept while emitting.
#[derive(Default)]
struct Counts {
    rows: u64,
    inbound: u64,
    outbound: u64,
    delivered: u64,
    failed: u64,
    non_template: u64,
    marketing: u64,
    utility: u64,
    authentication: u64,
    ctwa: u64,
    page_cta: u64,
    after_end: u64,
}

impl Counts {
    fn add_to(&self, s: &mut Summary) {
        s.rows = self.rows;
        s.inbound = self.inbound;
        s.outbound = self.outbound;
        s.delivered = self.delivered;
        s.failed = self.failed;
        s.non_template = self.non_template;
        s.marketing = self.marketing;
        s.utility = self.utility;
        s.authentication = self.authentication;
        s.ctwa_messages = self.ctwa;
        s.page_cta_messages = self.page_cta;
        s.rows_after_end = self.after_end;
    }
}

/// Rows waiting to be emitted. `Row::id` holds a generation counter until emission, which makes
/// `(ts, id)` a unique sort key (ties in time keep generation order).
struct Out<'k, S> {
    end: i64,
    batch: Vec<Row>,
    carry: Vec<Row>,
    spare: Vec<Row>,
    seq: u64,
    emitted: u64,
    stopped: bool,
    counts: Counts,
    sink: &'k mut S,
}

impl<'k, S: FnMut(&Row) -> ControlFlow<()>> Out<'k, S> {
    fn new(end: i64, sink: &'k mut S) -> Self {
        Out {
            end,
            batch: Vec::with_capacity(1 << 16),
            carry: Vec::with_capacity(1 << 16),
            spare: Vec::with_capacity(1 << 16),
            seq: 0,
            emitted: 0,
            stopped: false,
            counts: Counts::default(),
            sink,
        }
    }

    #[inline]
    fn push(&mut self, mut row: Row) {
        if row.ts >= self.end {
            self.counts.after_end += 1;
            return;
        }
        row.id = self.seq;
        self.seq += 1;
        self.batch.push(row);
    }

    /// Emits, in order, every waiting row earlier than `cutoff`.
    fn flush(&mut self, cutoff: i64) {
        if self.stopped {
            return;
        }
        self.batch.sort_unstable_by_key(|r| (r.ts, r.id));
        self.spare.clear();
        let (mut i, mut j) = (0, 0);
        let (a, b) = (&self.carry, &self.batch);
        while i < a.len() || j < b.len() {
            let take_a = j >= b.len() || (i < a.len() && (a[i].ts, a[i].id) < (b[j].ts, b[j].id));
            let row = if take_a {
                i += 1;
                a[i - 1]
            } else {
                j += 1;
                b[j - 1]
            };
            if row.ts < cutoff && !self.stopped {
                self.emitted += 1;
                let mut r = row;
                r.id = self.emitted;
                count(&mut self.counts, &r);
                if (self.sink)(&r).is_break() {
                    self.stopped = true;
                }
            } else if row.ts >= cutoff {
                self.spare.push(row);
            }
        }
        std::mem::swap(&mut self.carry, &mut self.spare);
        self.batch.clear();
    }
}

#[inline]
fn count(c: &mut Counts, r: &Row) {
    c.rows += 1;
    match r.direction {
        Direction::In => {
            c.inbound += 1;
            match r.entry_point {
                Some(EntryPoint::Ctwa) => c.ctwa += 1,
                Some(EntryPoint::PageCta) => c.page_cta += 1,
                None => {}
            }
        }
        Direction::Out => {
            c.outbound += 1;
            match r.status {
                Some(Status::Failed) => c.failed += 1,
                _ => c.delivered += 1,
            }
            match r.category {
                Some(Category::Marketing) => c.marketing += 1,
                Some(Category::Utility) => c.utility += 1,
                Some(Category::Authentication) => c.authentication += 1,
                None => c.non_template += 1,
            }
        }
    }
}

/// One chat's view for one activity: the last inbound message this activity has seen.
struct Chat {
    user: u32,
    number: u16,
    us: bool,
    last_in: Option<i64>,
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

struct Engine<'a, 'k, S> {
    sc: &'a Scenario,
    users: &'a [User],
    us_pause: i64,
    out: Out<'k, S>,
    s: Summary,
}

/// Draws from a span of seconds (`unit` seconds per scenario unit), at least one second.
fn secs(rng: &mut ChaCha8Rng, span: Span<f64>, unit: f64) -> i64 {
    let v = if span.max > span.min {
        rng.random_range(span.min..=span.max)
    } else {
        span.min
    };
    ((v * unit).round() as i64).max(1)
}

fn count_in(rng: &mut ChaCha8Rng, span: Span<u32>) -> u32 {
    if span.max > span.min {
        rng.random_range(span.min..=span.max)
    } else {
        span.min
    }
}

impl<'a, 'k, S: FnMut(&Row) -> ControlFlow<()>> Engine<'a, 'k, S> {
    fn chat(&self, user: u32) -> Chat {
        let u = &self.users[user as usize];
        Chat {
            user,
            number: u.number,
            us: u.country.iso() == "US",
            last_in: None,
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
        category: Option<Category>,
        rng: &mut ChaCha8Rng,
    ) -> Status {
        let random_fail = rng.random_bool(self.sc.failure_rate);
        if category == Some(Category::Marketing) && chat.us && ts >= self.us_pause {
            self.s.us_marketing_failed += 1;
            Status::Failed
        } else if random_fail {
            Status::Failed
        } else {
            Status::Delivered
        }
    }

    fn template(&mut self, chat: &Chat, ts: i64, category: Category, rng: &mut ChaCha8Rng) -> bool {
        let status = self.status(chat, ts, Some(category), rng);
        let mut r = Self::row(chat, ts, Direction::Out, MessageType::Template);
        r.category = Some(category);
        r.status = Some(status);
        self.out.push(r);
        status == Status::Delivered
    }

    /// A non-template business message; only ever called with the window open.
    fn free_form(&mut self, chat: &Chat, ts: i64, rng: &mut ChaCha8Rng) {
        debug_assert!(chat.csw_open(ts));
        let kind = match rng.random_range(0..20u32) {
            0 => MessageType::Image,
            1 | 2 => MessageType::Interactive,
            _ => MessageType::Text,
        };
        let status = self.status(chat, ts, None, rng);
        let mut r = Self::row(chat, ts, Direction::Out, kind);
        r.status = Some(status);
        self.out.push(r);
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
                if self.template(chat, t, Category::Utility, rng) {
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

    fn contact(&mut self, st: &Start, rng: &mut ChaCha8Rng) {
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
        let (mut t, _) = self.session(&mut chat, st.ts, Side::User, entry, rng);
        for _ in 0..followups {
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

    fn campaign_send(&mut self, st: &Start, rng: &mut ChaCha8Rng) {
        let c = &self.sc.campaigns[st.campaign as usize];
        let reply_rate = c.reply_rate;
        let mut chat = self.chat(st.user);
        self.s.campaign_recipients += 1;
        let delivered = self.template(&chat, st.ts, Category::Marketing, rng);
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

    fn order(&mut self, st: &Start, rng: &mut ChaCha8Rng) {
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
            self.template(&chat, t, Category::Utility, rng);
        }
    }

    fn login(&mut self, st: &Start, rng: &mut ChaCha8Rng) {
        self.s.logins += 1;
        let chat = self.chat(st.user);
        self.template(&chat, st.ts, Category::Authentication, rng);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_neg_is_accurate() {
        for &x in &[
            0.0f64, 0.01, 0.5, 1.0, 3.7, 20.0, 100.0, 123.456, 499.0, 500.0,
        ] {
            let want = (-x).exp();
            let got = exp_neg(x);
            assert!(
                ((got - want) / want).abs() < 1e-13,
                "x={x} got={got} want={want}"
            );
        }
    }

    #[test]
    fn poisson_mean_and_variance() {
        let mut rng = stream(7, 99);
        for &m in &[0.3, 4.0, 900.0] {
            let p = Poisson::new(m);
            let n = 20_000;
            let xs: Vec<f64> = (0..n).map(|_| f64::from(p.sample(&mut rng))).collect();
            let mean = xs.iter().sum::<f64>() / n as f64;
            let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n as f64;
            let se = (m / n as f64).sqrt();
            assert!((mean - m).abs() < 5.0 * se, "mean {mean} vs {m}");
            assert!((var / m - 1.0).abs() < 0.1, "var {var} vs {m}");
        }
    }
}
