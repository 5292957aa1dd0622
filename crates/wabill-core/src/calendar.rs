//! WABA calendars: instants are UTC; months, rulebook switches, rate-card switches and market
//! moves happen at 00:00 in the WABA's time zone (§0, RATE-1, MKT-2).
//!
//! Instead of converting every message's instant to a local date, each WABA gets a sorted list of
//! boundary instants (every local month start in the log's range plus every switch date). A
//! message's period is a binary search away, and everything that depends on the local date is
//! constant within a period: [`build_calendars`] gives each WABA's periods their rulebook, rate
//! card and market-table version once ([`WabaCalendar`]).

use chrono::{Datelike, Duration, NaiveDate, TimeZone};
use chrono_tz::Tz;

use super::context::Context;
use super::rulebook::{rulebook_on, switch_dates, ymd, Rulebook, US_MARKETING_PAUSE};

pub const MICROS_PER_HOUR: i64 = 3_600_000_000;
pub const DAY: i64 = 24 * MICROS_PER_HOUR;

/// UTC instant (micros) of 00:00 local time on `date` in `tz`. When midnight does not exist (a
/// DST gap at midnight), the day starts at the first local instant that does.
pub fn local_midnight(tz: Tz, date: NaiveDate) -> i64 {
    let mut t = date.and_hms_opt(0, 0, 0).expect("midnight");
    for _ in 0..16 {
        if let Some(dt) = tz.from_local_datetime(&t).earliest() {
            return dt.timestamp_micros();
        }
        t += Duration::minutes(15);
    }
    tz.from_utc_datetime(&date.and_hms_opt(0, 0, 0).expect("midnight"))
        .timestamp_micros()
}

/// The local date of an instant.
pub fn local_date(tz: Tz, ts: i64) -> NaiveDate {
    tz.timestamp_micros(ts)
        .single()
        .map(|d| d.date_naive())
        .unwrap_or_else(|| {
            chrono::DateTime::from_timestamp_micros(ts)
                .expect("instant in range")
                .with_timezone(&tz)
                .date_naive()
        })
}

/// Month key: months since year 0, comparable across WABAs (EX-6).
pub fn month_key(date: NaiveDate) -> u32 {
    (date.year() as u32) * 12 + date.month0()
}

pub fn month_label(key: u32) -> String {
    format!("{:04}-{:02}", key / 12, key % 12 + 1)
}

fn first_of_month(key: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt((key / 12) as i32, key % 12 + 1, 1).expect("valid month")
}

#[derive(Debug, Clone, Copy)]
pub struct Period {
    /// UTC instant of the period's start.
    pub start: i64,
    /// Local date at the start: every date-dependent choice is constant within the period.
    pub date: NaiveDate,
    pub month: u32,
}

#[derive(Debug, Clone)]
pub struct Calendar {
    pub tz: Tz,
    starts: Vec<i64>,
    pub periods: Vec<Period>,
}

impl Calendar {
    /// Boundaries for instants in `[min_ts, max_ts]`: local month starts plus `switch_dates`.
    pub fn new(tz: Tz, min_ts: i64, max_ts: i64, switch_dates: &[NaiveDate]) -> Calendar {
        let lo = month_key(local_date(tz, min_ts)).saturating_sub(1);
        let hi = month_key(local_date(tz, max_ts)) + 1;
        let mut dates: Vec<NaiveDate> = (lo..=hi).map(first_of_month).collect();
        let (dlo, dhi) = (first_of_month(lo), first_of_month(hi));
        dates.extend(switch_dates.iter().filter(|d| **d > dlo && **d <= dhi));
        dates.sort();
        dates.dedup();
        let periods: Vec<Period> = dates
            .iter()
            .map(|d| Period {
                start: local_midnight(tz, *d),
                date: *d,
                month: month_key(*d),
            })
            .collect();
        Calendar {
            tz,
            starts: periods.iter().map(|p| p.start).collect(),
            periods,
        }
    }

    /// Index of the period holding `ts` (which must be within the range given to `new`).
    pub fn period_of(&self, ts: i64) -> usize {
        match self.starts.binary_search(&ts) {
            Ok(i) => i,
            Err(0) => 0,
            Err(i) => i - 1,
        }
    }
}

/// Per-period facts of one WABA's calendar.
#[derive(Debug, Clone, Copy)]
pub struct PeriodInfo {
    pub month: u32,
    pub date: NaiveDate,
    /// Index of the rate card in force (RATE-1, or `--rates-at`).
    pub card: Option<usize>,
    /// The rulebook in force (§1, or `--rulebook`).
    pub rulebook: Option<Rulebook>,
    /// PMP-7: the US marketing pause is in force.
    pub us_pause: bool,
    /// Version of the market table in force (MKT-2): how many change dates have passed.
    pub(crate) mkt_version: u16,
}

/// A WABA's calendar with the facts of each period.
#[derive(Debug, Clone)]
pub struct WabaCalendar {
    pub calendar: Calendar,
    pub info: Vec<PeriodInfo>,
}

/// The first and last instant of each WABA's messages: the span its calendar must cover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WabaRanges(pub Vec<(i64, i64)>);

impl WabaRanges {
    pub fn new(wabas: usize) -> WabaRanges {
        WabaRanges(vec![(i64::MAX, i64::MIN); wabas])
    }
    pub fn add(&mut self, waba: u16, ts: i64) {
        let r = &mut self.0[waba as usize];
        r.0 = r.0.min(ts);
        r.1 = r.1.max(ts);
    }
}

/// Every WABA's calendar over its messages' span, with the rulebook, rate card and market
/// table version of each period.
pub fn build_calendars(ranges: &WabaRanges, ctx: &Context, currency: &str) -> Vec<WabaCalendar> {
    let versions = ctx.markets.change_dates();
    let mut switches = switch_dates();
    switches.extend(ctx.rates.dates(currency));
    switches.extend(versions.iter().copied());
    let pause = ymd(US_MARKETING_PAUSE);
    ctx.accounts
        .wabas
        .iter()
        .zip(&ranges.0)
        .map(|(w, &(lo, hi))| {
            let (lo, hi) = if lo > hi { (0, 0) } else { (lo, hi) };
            let calendar = Calendar::new(w.tz, lo, hi, &switches);
            let info = calendar
                .periods
                .iter()
                .map(|p| PeriodInfo {
                    month: p.month,
                    date: p.date,
                    card: ctx.rates.card_at(currency, ctx.rates_at.unwrap_or(p.date)),
                    rulebook: ctx.forced.or_else(|| rulebook_on(p.date)),
                    us_pause: p.date >= pause,
                    mkt_version: versions.partition_point(|d| *d <= ctx.rates_at.unwrap_or(p.date))
                        as u16,
                })
                .collect();
            WabaCalendar { calendar, info }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;

    fn ts(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp_micros()
    }

    #[test]
    fn months_and_switches_follow_the_waba_time_zone() {
        let tz: Tz = "Asia/Kolkata".parse().unwrap();
        let sw = [NaiveDate::from_ymd_opt(2025, 7, 1).unwrap()];
        let cal = Calendar::new(
            tz,
            ts("2025-06-01T00:00:00Z"),
            ts("2025-08-01T00:00:00Z"),
            &sw,
        );
        // 2025-06-30T18:30Z is 2025-07-01 00:00 in Kolkata
        let p = cal.periods[cal.period_of(ts("2025-06-30T18:30:00Z"))];
        assert_eq!(month_label(p.month), "2025-07");
        let p = cal.periods[cal.period_of(ts("2025-06-30T18:29:59Z"))];
        assert_eq!(month_label(p.month), "2025-06");
    }

    #[test]
    fn midnight_in_a_dst_gap_starts_at_the_first_valid_instant() {
        // America/Santiago skipped 2022-09-11 00:00 → 01:00
        let tz: Tz = "America/Santiago".parse().unwrap();
        let d = NaiveDate::from_ymd_opt(2022, 9, 11).unwrap();
        assert_eq!(local_date(tz, local_midnight(tz, d)), d);
    }
}
