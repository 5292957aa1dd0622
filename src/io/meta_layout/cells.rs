//! The cells of Meta's rate-card files: rates, message counts, band ends, rate types and
//! percentages, each checked as written (an error is a message; the caller names the cell).

use std::str::FromStr;

use rust_decimal::Decimal;

use crate::billing::money::Money;

/// Most decimal places a rate may be written with.
pub const MAX_RATE_DECIMALS: u32 = 6;

/// One rate cell of `Pricing.csv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RateCell {
    /// A rate per delivered message, in the card's currency.
    Rate(Decimal),
    /// `n/a`: the market has no such rate.
    NotOffered,
    /// A blank cell: the rate is not known.
    Unknown,
}

/// `n/a`, in any case: not offered.
pub(super) fn is_not_offered(value: &str) -> bool {
    value.trim().eq_ignore_ascii_case("n/a")
}

/// A rate as written: digits with an optional fraction of at most [`MAX_RATE_DECIMALS`] places;
/// the whole part may be grouped by thousands with commas (`"1,940.13"`, as in Meta's IDR files).
pub(crate) fn parse_decimal_rate(value: &str) -> Result<Decimal, String> {
    let v = value.trim();
    if v.starts_with('-') {
        return Err("negative rate".into());
    }
    let (int, frac) = match v.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (v, None),
    };
    let ungrouped;
    let (int, v) = if int.contains(',') {
        let groups: Vec<&str> = int.split(',').collect();
        let digits = |g: &str| !g.is_empty() && g.bytes().all(|b| b.is_ascii_digit());
        if !groups.iter().all(|g| digits(g))
            || groups[0].len() > 3
            || groups[1..].iter().any(|g| g.len() != 3)
        {
            return Err("misplaced thousands separator in a rate (expected e.g. 1,940.13)".into());
        }
        ungrouped = v.replace(',', "");
        let int_len = int.len() - (groups.len() - 1);
        (&ungrouped[..int_len], ungrouped.as_str())
    } else {
        (int, v)
    };
    let digits_only = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let well_formed = digits_only(int)
        && match frac {
            Some(f) => !f.is_empty() && digits_only(f),
            None => !int.is_empty(),
        };
    if !well_formed {
        return Err("not a rate (expected a decimal number such as 0.0099, `n/a` or blank)".into());
    }
    if let Some(f) = frac {
        if f.len() > MAX_RATE_DECIMALS as usize {
            return Err(format!(
                "rate has {} decimal places (at most {MAX_RATE_DECIMALS} allowed)",
                f.len()
            ));
        }
    }
    // RATE-3: a rate must be exact money, and at most `Money::MAX_RATE` (the one bound on rates
    // and fees), or the rates directory it is imported into could not be loaded any more.
    let out_of_range = || {
        format!(
            "rate out of range (at most {} per message)",
            Money::MAX_RATE
        )
    };
    let rate = Decimal::from_str(v).map_err(|_| out_of_range())?;
    match Money::from_decimal(rate) {
        Ok(m) if m <= Money::MAX_RATE => Ok(rate),
        _ => Err(out_of_range()),
    }
}

/// A `Pricing.csv` rate cell: a rate, `n/a` or blank.
pub(crate) fn parse_rate_cell(value: &str) -> Result<RateCell, String> {
    let v = value.trim();
    if v.is_empty() {
        Ok(RateCell::Unknown)
    } else if is_not_offered(v) {
        Ok(RateCell::NotOffered)
    } else {
        parse_decimal_rate(v).map(RateCell::Rate)
    }
}

/// A message count: digits, optionally grouped by thousands with commas (`"100,000"`).
pub(crate) fn parse_volume(value: &str) -> Result<u64, String> {
    let v = value.trim();
    let bad = || "not a message count (expected digits such as 100,000)".to_string();
    if v.is_empty() {
        return Err("missing message count".into());
    }
    let groups: Vec<&str> = v.split(',').collect();
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !groups.iter().all(|g| all_digits(g)) {
        return Err(bad());
    }
    if groups.len() > 1 && (groups[0].len() > 3 || groups[1..].iter().any(|g| g.len() != 3)) {
        return Err("misplaced thousands separator".into());
    }
    groups
        .concat()
        .parse::<u64>()
        .map_err(|_| "message count out of range".to_string())
}

/// An open end is written `--` (an en or em dash is accepted too).
pub(crate) fn is_open_end(value: &str) -> bool {
    let v = value.trim();
    !v.is_empty() && v.chars().all(|c| matches!(c, '-' | '–' | '—'))
}

/// `List rate` → `list`, `Tier 3` → `3`.
pub(super) fn parse_rate_type(value: &str) -> Result<String, String> {
    let words: Vec<String> = value.split_whitespace().map(str::to_lowercase).collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    match words.as_slice() {
        ["list", "rate"] | ["list"] => Ok("list".into()),
        ["tier", n] if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => n
            .parse::<u32>()
            .map(|n| n.to_string())
            .map_err(|_| "tier number out of range".to_string()),
        _ => Err("not a rate type (expected `List rate` or `Tier N`)".into()),
    }
}

/// A percentage such as `0%`, `-5%`, `-12.5%`.
pub(super) fn is_percentage(value: &str) -> bool {
    let Some(num) = value.trim().strip_suffix('%') else {
        return false;
    };
    let num = num.trim_end();
    let num = num.strip_prefix(['-', '+', '−']).unwrap_or(num);
    let (int, frac) = match num.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (num, None),
    };
    !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates() {
        assert_eq!(
            parse_rate_cell(" 0.0099 "),
            Ok(RateCell::Rate(Decimal::new(99, 4)))
        );
        assert_eq!(
            parse_rate_cell("0.123456"),
            Ok(RateCell::Rate(Decimal::new(123456, 6)))
        );
        assert_eq!(parse_rate_cell("N/A"), Ok(RateCell::NotOffered));
        assert_eq!(parse_rate_cell("  "), Ok(RateCell::Unknown));
        assert_eq!(parse_rate_cell("0"), Ok(RateCell::Rate(Decimal::ZERO)));
        assert!(parse_rate_cell("1000000").is_ok());
        for bad in [
            "abc",
            "0.1234567",
            "-0.01",
            "1e-3",
            "0,01",
            ".",
            "1.",
            "$0.01",
            "1_0",
            "9223372036854",
            "1000000.000001",
        ] {
            assert!(parse_rate_cell(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn volumes_and_types() {
        assert_eq!(parse_volume("0"), Ok(0));
        assert_eq!(parse_volume("100,000"), Ok(100_000));
        assert_eq!(parse_volume("40,000,001"), Ok(40_000_001));
        assert_eq!(parse_volume("1000001"), Ok(1_000_001));
        for bad in ["", "1,00", "1000,000", "1,000.5", "-1", "n/a", "1 000"] {
            assert!(parse_volume(bad).is_err(), "{bad}");
        }
        assert!(is_open_end("--") && is_open_end(" – ") && !is_open_end(""));
        assert_eq!(parse_rate_type("List rate").as_deref(), Ok("list"));
        assert_eq!(parse_rate_type("tier  12").as_deref(), Ok("12"));
        assert!(parse_rate_type("Tier").is_err() && parse_rate_type("Gold").is_err());
        for ok in ["0%", "-5%", "-12.5 %", "+3%"] {
            assert!(is_percentage(ok), "{ok}");
        }
        for bad in ["5", "%", "-%", "five%", "1.%"] {
            assert!(!is_percentage(bad), "{bad}");
        }
    }
}
