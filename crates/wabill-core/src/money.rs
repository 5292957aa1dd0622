//! Exact money (RATE-3): integer micro-units (10⁻⁶ of the currency unit).
//!
//! Meta's rate files carry at most 6 decimal places, so every rate is an exact integer number of
//! micro-units, and sums are exact integer sums. Conversion to text happens only at the edges and
//! never rounds: [`Money::to_decimal_string`] prints the exact value (at least 4 decimals, trailing
//! zeros beyond that trimmed). Charts convert to `f64` at the very end, for drawing only.

use std::fmt;
use std::ops::{Add, AddAssign};

use rust_decimal::{Decimal, RoundingStrategy};

/// Number of decimal places kept exactly.
pub const SCALE: u32 = 6;
const UNIT: i64 = 1_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(pub i64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("`{0}` has more than 6 decimal places (RATE-3: rates are exact to 6 places)")]
    TooPrecise(String),
    #[error("`{0}` is not a decimal number")]
    NotANumber(String),
    #[error("`{0}` is negative")]
    Negative(String),
    #[error("`{0}` is too large")]
    TooLarge(String),
    #[error("`{0}` is above the largest rate or fee per message wabill accepts ({max})", max = Money::MAX_RATE)]
    AboveMaxRate(String),
}

/// An amount beyond what [`Money`] holds ([`Money::MAX`]): names the amount that overflowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0} exceeds the largest amount wabill can hold ({max})", max = Money::MAX)]
pub struct Overflow(pub String);

impl Money {
    pub const ZERO: Money = Money(0);

    /// The largest amount: 9,223,372,036,854.775807 of the currency (`i64` micro-units).
    pub const MAX: Money = Money(i64::MAX);

    /// The largest rate or fee per message wabill accepts, in any currency: 1,000,000 (some 400
    /// times Meta's highest published rate, in IDR). Rate cards and provider fees above it are
    /// refused when read, so that a mistyped value is named at once; sums and products are
    /// checked as well ([`Overflow`]).
    pub const MAX_RATE: Money = Money(1_000_000 * UNIT);

    /// [`Money::parse`], then at most [`Money::MAX_RATE`]: a rate or a per-message fee.
    pub fn parse_rate(s: &str) -> Result<Money, MoneyError> {
        let m = Money::parse(s)?;
        if m > Money::MAX_RATE {
            return Err(MoneyError::AboveMaxRate(s.trim().to_string()));
        }
        Ok(m)
    }

    pub fn micros(self) -> i64 {
        self.0
    }

    /// Exact conversion from a decimal; fails rather than rounds.
    pub fn from_decimal(d: Decimal) -> Result<Money, MoneyError> {
        let d = d.normalize();
        if d.scale() > SCALE {
            return Err(MoneyError::TooPrecise(d.to_string()));
        }
        if d.is_sign_negative() && !d.is_zero() {
            return Err(MoneyError::Negative(d.to_string()));
        }
        let scaled = d
            .checked_mul(Decimal::from(UNIT))
            .ok_or_else(|| MoneyError::TooLarge(d.to_string()))?;
        let v: i64 = scaled
            .trunc()
            .try_into()
            .map_err(|_| MoneyError::TooLarge(d.to_string()))?;
        Ok(Money(v))
    }

    /// Parse a non-negative decimal string such as `0.0618`, `.5`, `12`.
    pub fn parse(s: &str) -> Result<Money, MoneyError> {
        let t = s.trim();
        let d: Decimal = t
            .parse()
            .map_err(|_| MoneyError::NotANumber(t.to_string()))?;
        Money::from_decimal(d)
    }

    pub fn to_decimal(self) -> Decimal {
        Decimal::new(self.0, SCALE)
    }

    /// Exact decimal text: at least 4 decimals, trailing zeros beyond the 4th trimmed.
    pub fn to_decimal_string(self) -> String {
        let neg = self.0 < 0;
        let abs = self.0.unsigned_abs();
        let int = abs / UNIT as u64;
        let frac = abs % UNIT as u64;
        let mut f = format!("{frac:06}");
        while f.len() > 4 && f.ends_with('0') {
            f.pop();
        }
        format!("{}{int}.{f}", if neg { "-" } else { "" })
    }

    /// All six decimals (`29.437240`): for rounded quotients, whose precision is the point.
    pub fn to_string_6dp(self) -> String {
        let abs = self.0.unsigned_abs();
        format!(
            "{}{}.{:06}",
            if self.0 < 0 { "-" } else { "" },
            abs / UNIT as u64,
            abs % UNIT as u64
        )
    }

    /// For charts only: the nearest `f64` (never used for sums).
    pub fn to_f64_for_display(self) -> f64 {
        self.0 as f64 / UNIT as f64
    }

    pub fn checked_add(self, o: Money) -> Option<Money> {
        self.0.checked_add(o.0).map(Money)
    }

    /// `self - o`, which may be negative (differences between two bills).
    pub fn minus(self, o: Money) -> Money {
        Money(self.0.checked_sub(o.0).expect("money overflow"))
    }

    /// `self × n`, exact (a unit price times a message count).
    pub fn times(self, n: u64) -> Money {
        self.checked_times(n).expect("money overflow")
    }

    /// `self × n`, exact; `None` beyond [`Money::MAX`].
    pub fn checked_times(self, n: u64) -> Option<Money> {
        i64::try_from(n)
            .ok()
            .and_then(|n| self.0.checked_mul(n))
            .map(Money)
    }

    /// `self × n`, or the [`Overflow`] naming the product (`rate × n`).
    pub fn times_or_overflow(self, n: u64) -> Result<Money, Overflow> {
        self.checked_times(n)
            .ok_or_else(|| Overflow(format!("{self} × {n}")))
    }

    /// `self × n ÷ d` (a rate per minute times pulses of a tenth of a minute, CALL-3; a rate per
    /// million tokens times tokens, MBA-1): the exact product rounded once to micro-units
    /// (6 decimal places), half to even. `None` beyond [`Money::MAX`] or when `d` is 0.
    pub fn times_ratio(self, n: u64, d: u64) -> Option<Money> {
        if d == 0 {
            return None;
        }
        let num = i128::from(self.0) * i128::from(n);
        let d = i128::from(d);
        let (q, r) = (num.div_euclid(d), num.rem_euclid(d));
        let q = match (2 * r).cmp(&d) {
            std::cmp::Ordering::Less => q,
            std::cmp::Ordering::Greater => q + 1,
            std::cmp::Ordering::Equal => q + (q & 1),
        };
        i64::try_from(q).ok().map(Money)
    }

    /// The exact sum of `amounts`; `None` beyond [`Money::MAX`].
    pub fn checked_sum(amounts: impl IntoIterator<Item = Money>) -> Option<Money> {
        amounts
            .into_iter()
            .try_fold(Money::ZERO, |a, b| a.checked_add(b))
    }

    /// `self × factor` (e.g. a provider's markup), the exact product rounded once to micro-units,
    /// half to even ([`ROUNDING`]).
    pub fn times_decimal(self, factor: Decimal) -> Money {
        self.checked_times_decimal(factor).expect("money overflow")
    }

    /// [`Money::times_decimal`]; `None` beyond [`Money::MAX`].
    pub fn checked_times_decimal(self, factor: Decimal) -> Option<Money> {
        let exact = self.to_decimal().checked_mul(factor)?;
        let r = exact.round_dp_with_strategy(SCALE, RoundingStrategy::MidpointNearestEven);
        let scaled = r.checked_mul(Decimal::from(UNIT))?;
        scaled.trunc().try_into().ok().map(Money)
    }

    /// `self ÷ n` (cost per contact, per month…): exact division is generally impossible, so the
    /// quotient is rounded once to micro-units, half to even ([`ROUNDING`]). `None` when `n` is 0.
    pub fn per(self, n: u64) -> Option<Money> {
        if n == 0 {
            return None;
        }
        let q = self
            .to_decimal()
            .checked_div(Decimal::from(n))
            .expect("money overflow");
        Some(Money::from_rounded(q))
    }

    /// A decimal rounded to micro-units, half to even.
    pub fn from_rounded(d: Decimal) -> Money {
        let r = d.round_dp_with_strategy(SCALE, RoundingStrategy::MidpointNearestEven);
        let scaled = r.checked_mul(Decimal::from(UNIT)).expect("money overflow");
        Money(scaled.trunc().try_into().expect("money overflow"))
    }

    /// `self` as a percentage of `base` (`12.34` = 12.34 %), rounded half to even to 2 places;
    /// `None` when `base` is zero.
    pub fn percent_of(self, base: Money) -> Option<Decimal> {
        if base.0 == 0 {
            return None;
        }
        let p = Decimal::from(self.0)
            .checked_mul(Decimal::from(100))
            .and_then(|x| x.checked_div(Decimal::from(base.0)))
            .expect("percentage overflow");
        Some(p.round_dp_with_strategy(2, RoundingStrategy::MidpointNearestEven))
    }
}

/// The one rounding rule for figures that cannot be exact (quotients, markups): the exact value
/// rounded half to even to 6 decimal places (micro-units); percentages to 2 places.
pub const ROUNDING: &str = "quotients and markups: exact value rounded half to even to 6 decimal places; percentages to 2 places";

/// How provider markups are rounded, for reports that have no quotients.
pub const MARKUP_ROUNDING: &str =
    "provider markups: exact product rounded half to even to 6 decimal places, once per month and category";

impl Add for Money {
    type Output = Money;
    fn add(self, o: Money) -> Money {
        Money(self.0.checked_add(o.0).expect("money overflow"))
    }
}

impl AddAssign for Money {
    fn add_assign(&mut self, o: Money) {
        *self = *self + o;
    }
}

impl std::iter::Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, |a, b| a + b)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_decimal_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_ratio_rounds_once_half_to_even() {
        // CALL-3: 0.0125 per minute, 10 pulses = one minute.
        assert_eq!(Money(12_500).times_ratio(10, 10), Some(Money(12_500)));
        // 0.000015 per minute × 1 pulse = 0.0000015 → 0.000002 (half to even: 1.5 → 2).
        assert_eq!(Money(15).times_ratio(1, 10), Some(Money(2)));
        // 0.000025 × 1 / 10 = 2.5 micros → 2 (even).
        assert_eq!(Money(25).times_ratio(1, 10), Some(Money(2)));
        // MBA-1: USD 2.00 per million tokens × 1,234 tokens = 0.002468.
        assert_eq!(
            Money(2_000_000).times_ratio(1_234, 1_000_000),
            Some(Money(2_468))
        );
        assert_eq!(Money(1).times_ratio(1, 0), None);
    }

    #[test]
    fn rate3_parse_is_exact_and_prints_exactly() {
        assert_eq!(Money::parse("0.0618").unwrap(), Money(61_800));
        assert_eq!(Money::parse("0.16").unwrap().to_decimal_string(), "0.1600");
        assert_eq!(
            Money::parse("356.65").unwrap().to_decimal_string(),
            "356.6500"
        );
        assert_eq!(Money(1).to_decimal_string(), "0.000001");
        assert_eq!(Money(0).to_decimal_string(), "0.0000");
        assert_eq!(Money(29_437_240).to_string_6dp(), "29.437240");
        assert_eq!(Money(-5).to_string_6dp(), "-0.000005");
        assert_eq!(Money::parse("0.123456").unwrap(), Money(123_456));
    }

    #[test]
    fn rate3_refuses_to_round() {
        assert!(matches!(
            Money::parse("0.1234567"),
            Err(MoneyError::TooPrecise(_))
        ));
        assert!(matches!(
            Money::parse("abc"),
            Err(MoneyError::NotANumber(_))
        ));
        assert!(matches!(Money::parse("-1"), Err(MoneyError::Negative(_))));
        // trailing zeros beyond 6 places are not extra precision
        assert_eq!(Money::parse("0.06180000").unwrap(), Money(61_800));
    }

    #[test]
    fn quotients_and_markups_round_half_even_to_micro_units() {
        let m = |s: &str| Money::parse(s).unwrap();
        // 1 / 3 = 0.333333|33… → 0.333333
        assert_eq!(m("1").per(3), Some(m("0.333333")));
        // 0.000005 / 2 = 0.0000025 → half to even → 0.000002
        assert_eq!(m("0.000005").per(2), Some(m("0.000002")));
        // 0.000007 / 2 = 0.0000035 → 0.000004
        assert_eq!(m("0.000007").per(2), Some(m("0.000004")));
        assert_eq!(m("1").per(0), None);
        // 6 % of 0.0625 = 0.00375 exactly
        let six: Decimal = "0.06".parse().unwrap();
        assert_eq!(m("0.0625").times_decimal(six), m("0.00375"));
        // 6 % of 0.000025 = 0.0000015 → 0.000002
        assert_eq!(m("0.000025").times_decimal(six), m("0.000002"));
        assert_eq!(m("0.0014").times(250_000), m("350"));
        assert_eq!(m("1").minus(m("1.5")).to_decimal_string(), "-0.5000");
        assert_eq!(m("1").percent_of(m("3")).unwrap().to_string(), "33.33");
        assert_eq!(m("1").percent_of(Money::ZERO), None);
    }

    #[test]
    fn overflow_is_an_error_naming_the_product() {
        let fee = Money::MAX_RATE;
        assert_eq!(
            Money::parse_rate("9223372036854").unwrap_err().to_string(),
            "`9223372036854` is above the largest rate or fee per message wabill accepts (1000000.0000)"
        );
        assert_eq!(Money::parse_rate("1000000").unwrap(), fee);
        assert_eq!(
            fee.times_or_overflow(10_000_000).unwrap_err().to_string(),
            "1000000.0000 × 10000000 exceeds the largest amount wabill can hold (9223372036854.775807)"
        );
        assert_eq!(fee.checked_times(u64::MAX), None);
        assert_eq!(Money::checked_sum([Money::MAX, Money(1)]), None);
        assert_eq!(Money::checked_sum([Money(1), Money(2)]), Some(Money(3)));
        let huge: Decimal = "79228162514264337593543950335".parse().unwrap();
        assert_eq!(Money(1).checked_times_decimal(huge), None);
        assert_eq!(Money::MAX.checked_times_decimal(Decimal::TWO), None);
    }

    #[test]
    fn rate3_sums_are_exact() {
        let r = Money::parse("0.0001").unwrap();
        let total: Money = std::iter::repeat_n(r, 10_000).sum();
        assert_eq!(total.to_decimal_string(), "1.0000");
    }
}
