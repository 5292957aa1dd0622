//! [`FlowBuilder`]: hand-written flows for tests, row by row, with offsets from a start instant.

use chrono::TimeDelta;
use chrono_tz::Tz;

use wabill_core::accounts::Waba;
use wabill_core::engine::Event;
use wabill_core::markets::normalize_number;
use wabill_core::rates::RateBook;
use wabill_core::types::*;

use super::{flat_rates, instant, TestLog, CURRENCY};

/// Hand-written flows for tests:
///
/// ```
/// use wabill_testing::{hours, FlowBuilder};
/// let log = FlowBuilder::new()                 // 2025-07-01T00:00Z, WABA `default` (UTC)
///     .user("+91 98000 00001")                 // India, from the number (MKT-1)
///     .inbound(hours(0))
///     .template(hours(1), "utility")           // inside the CSW: free under pmp-2025
///     .template(hours(30), "utility")          // outside: charged at the flat 0.02
///     .build();
/// let replay = log.replay(None).unwrap();
/// assert_eq!(replay.total.to_decimal_string(), "0.0200");
/// ```
///
/// Times are offsets from the start ([`hours`], [`minutes`], [`seconds`], [`days`]); rows are
/// numbered in the order the calls are made, so equal instants keep call order (CONV-1). Rates
/// default to [`flat_rates`]. Business messages before 2022-02-01 need a forced rulebook.
#[derive(Clone)]
pub struct FlowBuilder {
    start: i64,
    log: TestLog,
    rates: Option<RateBook>,
    waba: u16,
    number: u32,
    user: u32,
}

impl Default for FlowBuilder {
    fn default() -> Self {
        FlowBuilder::new()
    }
}

impl FlowBuilder {
    /// Starts at 2025-07-01T00:00:00Z, WABA `default` in UTC (USD), business number `""`, user
    /// `+919800000001` (India).
    pub fn new() -> FlowBuilder {
        let mut log = TestLog::empty();
        log.numbers.push(String::new());
        let b = FlowBuilder {
            start: instant("2025-07-01T00:00:00Z"),
            log,
            rates: None,
            waba: 0,
            number: 0,
            user: 0,
        };
        b.user("+919800000001")
    }

    /// The instant offsets count from (RFC 3339).
    pub fn start(mut self, rfc3339: &str) -> Self {
        self.start = instant(rfc3339);
        self
    }

    /// Following rows are for this WABA (added with time zone `tz` if new; `tz` is ignored for
    /// a known id). The default WABA `default` is replaced by the first WABA named.
    pub fn waba(mut self, id: &str, tz: &str) -> Self {
        let tz: Tz = tz
            .parse()
            .unwrap_or_else(|_| panic!("`{tz}` is not an IANA time zone"));
        let wabas = &mut self.log.accounts.wabas;
        if let Some(i) = wabas.iter().position(|w| w.id == id) {
            self.waba = i as u16;
        } else if wabas.len() == 1 && wabas[0].id == "default" && self.log.events.is_empty() {
            wabas[0] = Waba {
                id: id.into(),
                tz,
                currency: CURRENCY.into(),
            };
            self.waba = 0;
        } else {
            wabas.push(Waba {
                id: id.into(),
                tz,
                currency: CURRENCY.into(),
            });
            self.waba = wabas.len() as u16 - 1;
        }
        self
    }

    /// Following rows are from/to this business number (CONV-3).
    pub fn number(mut self, number: &str) -> Self {
        self.number = match self.log.numbers.iter().position(|n| n == number) {
            Some(i) => i as u32,
            None => {
                self.log.numbers.push(number.into());
                self.log.numbers.len() as u32 - 1
            }
        };
        self
    }

    /// Following rows are with this user; the country comes from the number (MKT-1).
    pub fn user(self, number: &str) -> Self {
        let digits =
            normalize_number(number).unwrap_or_else(|| panic!("`{number}` is not a phone number"));
        let country = self
            .log
            .markets
            .country_of_number(&digits)
            .unwrap_or_else(|e| panic!("`{number}`: {e}"));
        self.user_in(number, country.as_str())
    }

    /// Following rows are with this user, of an explicit country (MKT-3).
    pub fn user_in(mut self, number: &str, country_iso2: &str) -> Self {
        let country =
            Country::parse(country_iso2).unwrap_or_else(|| panic!("`{country_iso2}` is not ISO2"));
        let digits =
            normalize_number(number).unwrap_or_else(|| panic!("`{number}` is not a phone number"));
        let name = format!("+{digits}");
        self.user = match self.log.users.iter().position(|u| *u == name) {
            Some(i) => {
                self.log.countries[i] = country;
                i as u32
            }
            None => {
                self.log.users.push(name);
                self.log.countries.push(country);
                self.log.users.len() as u32 - 1
            }
        };
        self
    }

    /// PMP-6: the portfolio's primary country and the instant eligibility starts.
    pub fn auth_international(mut self, primary_iso2: &str, from_rfc3339: &str) -> Self {
        self.log.accounts.portfolio.primary_country = Country::parse(primary_iso2);
        self.log.accounts.portfolio.auth_international_start = Some(instant(from_rfc3339));
        self
    }

    /// Rate cards keyed by [`market_table`]'s ids, e.g. from [`arb_rates`].
    pub fn rates(mut self, rates: RateBook) -> Self {
        self.rates = Some(rates);
        self
    }

    /// A row of any kind at `start + at`.
    pub fn row(mut self, at: TimeDelta, kind: Kind) -> Self {
        let ts = self.start + at.num_microseconds().expect("offset in range");
        let chat = self.log.chat(self.waba, self.number, self.user);
        let row = self.log.events.len() as u32 + 1;
        self.log.events.push(Event {
            ts,
            row,
            chat,
            country: self.user as u16,
            kind,
        });
        self
    }

    /// The user writes.
    pub fn inbound(self, at: TimeDelta) -> Self {
        self.row(at, Kind::In { entry_point: false })
    }

    /// The user writes through a Click-to-WhatsApp ad or Page button (CBP-6, PMP-3).
    pub fn entry_point(self, at: TimeDelta) -> Self {
        self.row(at, Kind::In { entry_point: true })
    }

    /// A delivered template of `category` (`marketing`, `utility`, `authentication`).
    pub fn template(self, at: TimeDelta, category: &str) -> Self {
        self.out(at, Some(category), Status::Delivered)
    }

    /// A template that failed (not delivered: costs nothing, changes nothing).
    pub fn failed_template(self, at: TimeDelta, category: &str) -> Self {
        self.out(at, Some(category), Status::Failed)
    }

    /// A delivered non-template message (text, media, interactive…).
    pub fn text(self, at: TimeDelta) -> Self {
        self.out(at, None, Status::Delivered)
    }

    /// A non-template message that failed.
    pub fn failed_text(self, at: TimeDelta) -> Self {
        self.out(at, None, Status::Failed)
    }

    fn out(self, at: TimeDelta, category: Option<&str>, status: Status) -> Self {
        let template = category.map(|c| {
            TemplateCategory::parse(c).unwrap_or_else(|| {
                panic!("`{c}` is not a template category (marketing, utility, authentication)")
            })
        });
        self.row(at, Kind::Out { template, status })
    }

    pub fn build(self) -> TestLog {
        let mut log = self.log;
        log.rates = match self.rates {
            Some(r) => r,
            None => flat_rates(&log.markets),
        };
        log
    }
}
