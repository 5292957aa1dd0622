//! The generator's random draws: one ChaCha8 stream per purpose, lanes within a stream, and
//! the laws drawn from (daytime instants, Poisson counts, spans) in plain IEEE arithmetic, so
//! that the same seed gives the same bits on every platform.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::DAY;
use crate::traffic::scenario::Span;

/// Weights of the local hour at which users start something (messages, orders, logins).
const HOUR_WEIGHTS: [u32; 24] = [
    3, 2, 1, 1, 1, 2, 4, 8, 14, 18, 20, 20, 19, 18, 18, 18, 18, 19, 20, 21, 20, 16, 10, 5,
];

/// Stream `stream` of the generator seeded with `seed`.
pub(super) fn stream(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

/// One stream cut into lanes of 2^20 words: the n-th activity of a kind draws from lane n. So an
/// activity's draws depend on its rank among its kind only, not on how many draws the activities
/// before it made: a change inside contacts (say the re-engagement policy) leaves every other
/// contact's opening draws (entry point, resolution, follow-up count) as they were.
pub(super) struct Lanes {
    rng: ChaCha8Rng,
    next: u128,
}

impl Lanes {
    pub(super) fn new(seed: u64, s: u64) -> Self {
        Lanes {
            rng: stream(seed, s),
            next: 0,
        }
    }
    pub(super) fn next(&mut self) -> &mut ChaCha8Rng {
        self.rng.set_word_pos(self.next << 20);
        self.next += 1;
        &mut self.rng
    }
}

/// A user's daytime instant in `[start, end)`: a uniform day, an hour by [`HOUR_WEIGHTS`] in the
/// user's local time, a uniform second. `None` if 32 draws all fell outside (very short periods).
pub(super) fn daytime_instant(
    rng: &mut ChaCha8Rng,
    offset_secs: i64,
    start: i64,
    end: i64,
) -> Option<i64> {
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
pub(super) struct Poisson {
    parts: u32,
    limit: f64,
}

impl Poisson {
    pub(super) fn new(mean: f64) -> Self {
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
    pub(super) fn is_zero(&self) -> bool {
        self.parts == 0
    }
    pub(super) fn sample(&self, rng: &mut ChaCha8Rng) -> u32 {
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

/// Draws from a span of seconds (`unit` seconds per scenario unit), at least one second.
pub(super) fn secs(rng: &mut ChaCha8Rng, span: Span<f64>, unit: f64) -> i64 {
    let v = if span.max > span.min {
        rng.random_range(span.min..=span.max)
    } else {
        span.min
    };
    ((v * unit).round() as i64).max(1)
}

/// Draws a whole number from a span.
pub(super) fn count_in(rng: &mut ChaCha8Rng, span: Span<u32>) -> u32 {
    if span.max > span.min {
        rng.random_range(span.min..=span.max)
    } else {
        span.min
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
