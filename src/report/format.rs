//! Money and numbers for people: thousands separators and money rounded for display, shared by
//! the charts and the report pages. Display only: amounts in tables, JSON and CSV stay exact.

use rust_decimal::RoundingStrategy;

use crate::billing::money::Money;

/// Money for labels: rounded half away from zero to `dp` places, with thousands separators.
pub fn display_money(m: Money, dp: u32) -> String {
    let d = m
        .to_decimal()
        .round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero);
    group_number(&format!("{d:.prec$}", prec = dp as usize))
}

/// `1234567` → `1,234,567` (digits with an optional leading `-`).
pub fn group_thousands(int: &str) -> String {
    let (sign, digits) = int.strip_prefix('-').map_or(("", int), |rest| ("-", rest));
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    format!("{sign}{out}")
}

/// `-1234.50` → `-1,234.50`: [`group_thousands`] on the whole part of a formatted number.
pub fn group_number(s: &str) -> String {
    let (int, frac) = s.split_once('.').map_or((s, ""), |(a, b)| (a, b));
    let grouped = group_thousands(int);
    if frac.is_empty() {
        grouped
    } else {
        format!("{grouped}.{frac}")
    }
}

/// A count with thousands separators: `1234567` → `1,234,567`.
pub fn count(n: u64) -> String {
    group_thousands(&n.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_money_rounds_half_away_from_zero_and_groups_thousands() {
        assert_eq!(display_money(Money(1_234_565_000), 2), "1,234.57");
        assert_eq!(display_money(Money(125_000), 1), "0.1");
        assert_eq!(display_money(Money(150_000), 1), "0.2");
        assert_eq!(display_money(Money(999_500_000), 0), "1,000");
        assert_eq!(display_money(Money(41_600), 4), "0.0416");
    }

    #[test]
    fn numbers_group_by_thousands_with_their_sign_and_fraction() {
        assert_eq!(group_thousands("-1234567"), "-1,234,567");
        assert_eq!(group_thousands("123"), "123");
        assert_eq!(group_number("-1234.50"), "-1,234.50");
        assert_eq!(count(1_000), "1,000");
    }
}
