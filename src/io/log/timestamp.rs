//! Instants in a log (formats.md §1): RFC 3339 with an offset, or integer Unix seconds, read as
//! UTC microseconds; and the range of instants a log may hold.

use chrono::{DateTime, NaiveDate};

/// The first and last instants a log may hold (UTC micros): 0001-01-01T00:00:00Z and
/// 9999-12-31T23:59:59.999999Z, RFC 3339's four-digit years. Beyond them the calendar (WABA-local
/// dates and months) is undefined, so a row outside them (Unix seconds such as 9223372036854) is
/// rejected.
pub const MIN_INSTANT: i64 = -62_135_596_800_000_000;
pub const MAX_INSTANT: i64 = 253_402_300_799_999_999;

/// RFC 3339 with offset, or integer Unix seconds → UTC microseconds (not range-checked: see
/// [`MIN_INSTANT`], [`MAX_INSTANT`]).
pub fn parse_timestamp(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if s.bytes().all(|b| b.is_ascii_digit())
        || (s.starts_with('-') && s.len() > 1 && s[1..].bytes().all(|b| b.is_ascii_digit()))
    {
        let secs: i64 = s.parse().ok()?;
        return secs.checked_mul(1_000_000);
    }
    if let Some(t) = parse_utc_fast(s.as_bytes()) {
        return Some(t);
    }
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| d.timestamp_micros())
}

/// Fast path for the common `YYYY-MM-DDTHH:MM:SSZ`; anything else goes to chrono.
fn parse_utc_fast(b: &[u8]) -> Option<i64> {
    if b.len() != 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'Z'
    {
        return None;
    }
    let n = |r: std::ops::Range<usize>| -> Option<u32> {
        let mut v = 0u32;
        for &c in &b[r] {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + (c - b'0') as u32;
        }
        Some(v)
    };
    let (y, mo, d, h, mi, se) = (
        n(0..4)?,
        n(5..7)?,
        n(8..10)?,
        n(11..13)?,
        n(14..16)?,
        n(17..19)?,
    );
    if h > 23 || mi > 59 || se > 59 {
        return None;
    }
    // Day 719,163 of the common era is 1970-01-01.
    let days = chrono::Datelike::num_days_from_ce(&NaiveDate::from_ymd_opt(y as i32, mo, d)?)
        as i64
        - 719_163;
    Some((days * 86_400 + (h * 3600 + mi * 60 + se) as i64) * 1_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast `…Z` path agrees with chrono's RFC 3339 parser, years 0001 to 9999, leap days
    /// and the epoch included; impossible dates are refused.
    #[test]
    fn fast_utc_timestamps_equal_chrono() {
        let mut t: i64 = MIN_INSTANT / 1_000_000;
        let end = MAX_INSTANT / 1_000_000;
        let step = (end - t) / 20_011;
        let mut checked = 0;
        while t <= end {
            for s in [t, 0, 951_782_400, 1_709_164_800, -86_401] {
                let text = DateTime::from_timestamp(s, 0)
                    .unwrap()
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                assert_eq!(
                    parse_utc_fast(text.as_bytes()),
                    Some(s * 1_000_000),
                    "{text}"
                );
                checked += 1;
            }
            t += step;
        }
        assert!(checked > 100_000);
        for bad in [
            "2023-02-29T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-04-31T10:00:00Z",
        ] {
            assert_eq!(parse_utc_fast(bad.as_bytes()), None, "{bad}");
        }
    }
}
