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
//!
//! Files: `starts` draws the activity starts, `expand` turns them into rows, `emit` hands the
//! rows out in order, `sampling` holds the random draws.

use std::collections::HashSet;
use std::ops::ControlFlow;

use chrono::{NaiveDate, NaiveTime};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::billing::engine::US_MARKETING_PAUSE;
use crate::traffic::countries::make_number;
use crate::traffic::model::{Known, Population, Row, User};
use crate::traffic::scenario::{local_instant, Scenario};

mod emit;
mod expand;
mod sampling;
mod starts;

use emit::Emitter;
use expand::Expander;
use sampling::{count_in, stream, Lanes};
use starts::{draw_starts, Activity};

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
/// Who is known by a BSUID (MKT-4): its own stream, so that `[log]` changes no other draw.
const STREAM_BSUIDS: u64 = 8;
/// GRP-1: who is in which group, and when the groups get broadcasts.
const STREAM_GROUPS: u64 = 9;
pub(super) const STREAM_GROUP_STARTS: u64 = 10;
const STREAM_GROUP_EXPAND: u64 = 11;
/// Campaign `i` draws its recipients from stream `CAMPAIGN + 2i` and expands on `CAMPAIGN + 2i + 1`.
const STREAM_CAMPAIGN: u64 = 1000;

/// PMP-7: Meta stopped delivering marketing templates to US numbers on
/// [`US_MARKETING_PAUSE`] (2025-04-01). The generator uses the earlier of 00:00 in the WABA's
/// zone and 00:00 UTC, so that a replay reading the date either way finds every such message
/// failed.
pub fn us_marketing_pause(scenario: &Scenario) -> i64 {
    let (y, m, d) = US_MARKETING_PAUSE;
    let d = NaiveDate::from_ymd_opt(y, m, d).unwrap();
    let utc = d.and_time(NaiveTime::MIN).and_utc().timestamp();
    utc.min(local_instant(scenario.account.timezone, d, NaiveTime::MIN))
}

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
    /// Rows before `log.from`, left out of the log (the traffic was generated from the
    /// period start, so conversations are cut where the log starts).
    pub rows_before_log_start: u64,
    /// Inbound rows left out because `log.inbound = false`.
    pub inbound_left_out: u64,
    /// Users known by a BSUID (MKT-4).
    pub bsuid_users: u64,
    /// Contacts whose user did not come back while the business waited (`wait_for_user`,
    /// `support.wait_return_share`): unresolved.
    pub contacts_abandoned: u64,
    /// MBA-1: support contacts Meta Business Agent answered (`[agent] share`).
    pub contacts_agent: u64,
    /// MBA-1: the agent's replies.
    pub agent_replies: u64,
    /// CALL-1…3: contacts that began with a call from the user (`[calls] share`).
    pub calls_from_users: u64,
    /// CALL-3: of those, the ones the business called back.
    pub callbacks: u64,
    /// GRP-1: templates sent to groups (`[groups]`).
    pub group_broadcasts: u64,
    /// GRP-2: broadcasts a member answered.
    pub group_replies: u64,
    /// Of those, users whose rows carry no phone number.
    pub bsuid_only_users: u64,
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
        let (starts, campaigns) = draw_starts(
            sc,
            self.seed,
            &self.population.users,
            start,
            end,
            summary.months,
        );
        summary.campaigns = campaigns;

        let mut eng = Expander {
            sc,
            users: &self.population.users,
            us_pause: us_marketing_pause(sc),
            out: Emitter::new(sc.log_start(), sc.log.inbound, end, sink),
            s: summary,
        };
        let mut contacts = Lanes::new(self.seed, STREAM_CONTACTS);
        let mut orders = Lanes::new(self.seed, STREAM_ORDERS);
        let mut logins = Lanes::new(self.seed, STREAM_LOGINS);
        let mut broadcasts = Lanes::new(self.seed, STREAM_GROUP_EXPAND);
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
                Activity::Contact => eng.contact(st, contacts.next()),
                Activity::Order => eng.order(st, orders.next()),
                Activity::Login => eng.login(st, logins.next()),
                Activity::Campaign => eng.campaign_send(st, camp_rngs[st.campaign as usize].next()),
                Activity::Broadcast => eng.broadcast(st, &self.population, broadcasts.next()),
            }
        }
        eng.out.flush(i64::MAX);
        progress(Progress {
            rows: eng.out.emitted,
            fraction: 1.0,
        });
        let mut s = eng.s;
        eng.out.counts.add_to(&mut s);
        for u in &self.population.users {
            match u.known {
                Known::Number => {}
                Known::Linked(_) => s.bsuid_users += 1,
                Known::Bsuid(_) => {
                    s.bsuid_users += 1;
                    s.bsuid_only_users += 1;
                }
            }
        }
        s
    }
}

/// GRP-1: `groups.groups` groups of distinct users (`groups.members` each), from a stream of
/// their own, so that a scenario without `[groups]` draws nothing more.
fn assign_groups(sc: &Scenario, seed: u64, users: usize) -> Vec<Vec<u32>> {
    if sc.groups.groups == 0 || users == 0 {
        return Vec::new();
    }
    let mut rng = stream(seed, STREAM_GROUPS);
    (0..sc.groups.groups)
        .map(|_| {
            let n = (count_in(&mut rng, sc.groups.members) as usize).min(users);
            let mut members: Vec<u32> = Vec::with_capacity(n);
            while members.len() < n {
                let u = rng.random_range(0..users as u32);
                if !members.contains(&u) {
                    members.push(u);
                }
            }
            members
        })
        .collect()
}

/// MKT-4: each user is known by a BSUID with probability `log.bsuid_share`, and then by the
/// BSUID only with probability `log.bsuid_only`. The digits are 20 like Meta's examples and
/// unique within the population. Nothing is drawn when the share is 0.
fn assign_bsuids(sc: &Scenario, seed: u64, users: &mut [User]) {
    if sc.log.bsuid_share <= 0.0 {
        return;
    }
    let mut rng = stream(seed, STREAM_BSUIDS);
    let mut seen = HashSet::new();
    for u in users {
        let known = rng.random_bool(sc.log.bsuid_share);
        let only = rng.random_bool(sc.log.bsuid_only);
        let digits = loop {
            let d = rng.random_range(10_000_000_000_000_000_000..=u64::MAX);
            if seen.insert(d) {
                break d;
            }
        };
        if known {
            u.known = if only {
                Known::Bsuid(digits)
            } else {
                Known::Linked(digits)
            };
        }
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
                known: Known::Number,
            });
        }
    }
    assign_bsuids(sc, seed, &mut users);
    let mut pop = Population {
        waba: sc.account.waba.clone(),
        numbers,
        users,
        extras: sc.agent.share > 0.0 || sc.calls.share > 0.0,
        groups: Vec::new(),
    };
    pop.groups = assign_groups(sc, seed, pop.users.len());
    pop
}
