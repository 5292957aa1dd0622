//! [`LogSpec`]: what [`arb_log`](super::arb_log) generates, as a builder.

use chrono::NaiveDate;
use chrono_tz::Tz;

use wabill_core::markets::{MarketId, MarketTable};
use wabill_core::types::Country;

use super::{time_zones, EDGE_ANCHORS, MOVING_COUNTRIES, STEADY_ANCHORS, STEADY_COUNTRIES};

/// What [`arb_log`](super::arb_log) generates. Start from [`LogSpec::default`] (everything on,
/// around the edges) or [`LogSpec::steady`] (one rate card, mid-period anchors, no market moves
/// or eligibility change) and switch parts off with the builder methods.
#[derive(Debug, Clone)]
pub struct LogSpec {
    /// Distinct users: 1 ..= `users`, each of a country drawn from `countries`.
    pub users: usize,
    /// ISO 3166 alpha-2 codes the users' countries are drawn from.
    pub countries: Vec<&'static str>,
    /// WABAs: 1 ..= `wabas` (at most 3), each in a time zone drawn from `time_zones`.
    pub wabas: usize,
    pub time_zones: Vec<Tz>,
    /// Business numbers per WABA: 1 ..= `numbers` (CONV-3).
    pub numbers: usize,
    /// Rows per log: 1 ..= `max_events`.
    pub max_events: usize,
    /// RFC 3339 instants a log is placed around.
    pub anchors: Vec<&'static str>,
    /// Rows are placed from a day before the anchor to `span_days` after it (rows placed at an
    /// edge of an earlier row may fall up to four days later).
    pub span_days: i64,
    /// Inbound rows may come through an entry point (CBP-6, PMP-3).
    pub entry_points: bool,
    /// Business rows may be `sent` or `failed` (not delivered).
    pub failures: bool,
    /// Rate cards may carry volume-tier tables (PMP-4), with small thresholds most of the time
    /// so that small logs reach them.
    pub tiers: bool,
    /// Tier tables may end before an open band (a count beyond is a missing rate, RATE-4).
    pub partial_tiers: bool,
    /// Up to two more cards take effect one to three days after the anchor (RATE-1).
    pub card_switches: bool,
    /// The portfolio may be eligible for authentication-international (PMP-6), with India as its
    /// primary country.
    pub auth_international: bool,
    /// When eligible, the eligibility start (and an exception for Indonesia) falls inside the
    /// log's span; otherwise eligibility starts long before it.
    pub eligibility_changes: bool,
}

impl Default for LogSpec {
    fn default() -> Self {
        LogSpec {
            users: 4,
            countries: STEADY_COUNTRIES
                .iter()
                .chain(MOVING_COUNTRIES.iter())
                .copied()
                .collect(),
            wabas: 2,
            time_zones: time_zones(),
            numbers: 2,
            max_events: 40,
            anchors: EDGE_ANCHORS.to_vec(),
            span_days: 5,
            entry_points: true,
            failures: true,
            tiers: true,
            partial_tiers: false,
            card_switches: true,
            auth_international: true,
            eligibility_changes: true,
        }
    }
}

impl LogSpec {
    /// Logs inside one rate card, one rulebook period and one market table: mid-period anchors,
    /// steady countries, a single card, no eligibility change. Tiers, entry points and failures
    /// stay on.
    pub fn steady() -> Self {
        LogSpec {
            countries: STEADY_COUNTRIES.to_vec(),
            anchors: STEADY_ANCHORS.to_vec(),
            card_switches: false,
            eligibility_changes: false,
            ..LogSpec::default()
        }
    }
    pub fn users(mut self, n: usize) -> Self {
        self.users = n.max(1);
        self
    }
    pub fn wabas(mut self, n: usize) -> Self {
        self.wabas = n.clamp(1, 3);
        self
    }
    pub fn numbers(mut self, n: usize) -> Self {
        self.numbers = n.max(1);
        self
    }
    pub fn max_events(mut self, n: usize) -> Self {
        self.max_events = n.max(1);
        self
    }
    pub fn anchors(mut self, anchors: &[&'static str]) -> Self {
        self.anchors = anchors.to_vec();
        self
    }
    /// Rows from a day before the anchor to `days` after it.
    pub fn span_days(mut self, days: i64) -> Self {
        self.span_days = days.max(1);
        self
    }
    pub fn countries(mut self, countries: &[&'static str]) -> Self {
        self.countries = countries.to_vec();
        self
    }
    pub fn without_tiers(mut self) -> Self {
        self.tiers = false;
        self.partial_tiers = false;
        self
    }
    pub fn with_partial_tiers(mut self) -> Self {
        self.tiers = true;
        self.partial_tiers = true;
        self
    }
    pub fn without_entry_points(mut self) -> Self {
        self.entry_points = false;
        self
    }
    pub fn without_failures(mut self) -> Self {
        self.failures = false;
        self
    }
    pub fn single_card(mut self) -> Self {
        self.card_switches = false;
        self
    }
    pub fn without_auth_international(mut self) -> Self {
        self.auth_international = false;
        self
    }

    /// Every market the spec's countries belong to on some date.
    pub(super) fn markets(&self, table: &MarketTable) -> Vec<MarketId> {
        let mut dates = vec![NaiveDate::MIN];
        dates.extend(table.change_dates());
        let mut out: Vec<MarketId> = Vec::new();
        for c in &self.countries {
            let c = Country::parse(c).unwrap_or_else(|| panic!("`{c}` is not an ISO2 code"));
            for d in &dates {
                let m = table.market_of(c, *d);
                if !out.contains(&m) {
                    out.push(m);
                }
            }
        }
        out.sort();
        out
    }
}
