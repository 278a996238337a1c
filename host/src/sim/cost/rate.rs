//! Exact rate arithmetic: an f64 rate as `mant · 2^exp / div`, and `ceil(amount / rate)` in
//! integers, so no float rounding enters a time.

/// An exact rate of `mant · 2^exp / div` units per nanosecond.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Rate {
    mant: u64,
    exp: i32,
    div: u64,
}

impl Rate {
    /// `value / div` units per ns, exactly. A non-positive or non-finite value (which a
    /// validated topology never holds) gives a zero rate: every amount takes `u64::MAX` ns.
    pub(super) fn new(value: f64, div: u64) -> Rate {
        if !(value.is_finite() && value > 0.0) || div == 0 {
            return Rate {
                mant: 0,
                exp: 0,
                div: 1,
            };
        }
        let bits = value.to_bits();
        let biased = ((bits >> 52) & 0x7ff) as i32;
        let fraction = bits & ((1u64 << 52) - 1);
        let (mut mant, mut exp) = if biased == 0 {
            (fraction, -1074)
        } else {
            (fraction | (1u64 << 52), biased - 1075)
        };
        let zeros = mant.trailing_zeros();
        mant >>= zeros;
        exp += zeros as i32;
        Rate { mant, exp, div }
    }

    /// `ceil(amount / rate)` ns, saturating.
    pub(super) fn ns(self, amount: u128) -> u64 {
        if self.mant == 0 {
            return if amount == 0 { 0 } else { u64::MAX };
        }
        ceil_div_pow2(
            amount.saturating_mul(u128::from(self.div)),
            self.mant,
            self.exp,
        )
    }
}

/// `ceil(n / (d · 2^e))` for `d ≥ 1`, saturating at `u64::MAX`.
pub(super) fn ceil_div_pow2(n: u128, d: u64, e: i32) -> u64 {
    let saturate = |q: u128| u64::try_from(q).unwrap_or(u64::MAX);
    if n == 0 {
        return 0;
    }
    let d = u128::from(d);
    if e >= 0 {
        let e = e.unsigned_abs();
        if e >= 128 || d.leading_zeros() < e {
            return 1; // the divisor is at least 2^128 > n >= 1
        }
        return saturate(n.div_ceil(d << e));
    }
    let s = e.unsigned_abs();
    if s < 128 && n.leading_zeros() >= s {
        return saturate((n << s).div_ceil(d));
    }
    // ceil(n · 2^s / d) by binary long division, stopping once past u64::MAX.
    let (mut q, mut r) = (n / d, n % d);
    for _ in 0..s {
        if q > u128::from(u64::MAX) {
            return u64::MAX;
        }
        q *= 2;
        r *= 2; // r < d < 2^64, no overflow
        if r >= d {
            r -= d;
            q += 1;
        }
    }
    saturate(q + u128::from(r != 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_rates_round_up() {
        // 50 GB/s = 25 · 2^1; 1 MiB / 50 = 20971.52 -> 20972.
        assert_eq!(
            Rate::new(50.0, 1),
            Rate {
                mant: 25,
                exp: 1,
                div: 1
            }
        );
        assert_eq!(Rate::new(50.0, 1).ns(1_048_576), 20_972);
        assert_eq!(Rate::new(50.0, 1).ns(100), 2);
        assert_eq!(Rate::new(50.0, 1).ns(101), 3);
        // 0.1 is not 1/10 in binary: 10 bytes at "0.1 B/ns" takes ceil(10 / 0.1000000000000000055...) = 100.
        assert_eq!(Rate::new(0.1, 1).ns(10), 100);
        // 800 GB/s shared by 8 PEs = 100 B/ns per PE.
        assert_eq!(Rate::new(800.0, 8).ns(1000), 10);
        assert_eq!(Rate::new(800.0, 8).ns(1001), 11);
        // Tiny and huge rates stay exact or saturate instead of overflowing.
        assert_eq!(Rate::new(f64::MIN_POSITIVE, 1).ns(1), u64::MAX);
        assert_eq!(Rate::new(f64::MAX, 1).ns(u128::from(u64::MAX)), 1);
        assert_eq!(Rate::new(2f64.powi(-70), 1).ns(1), u64::MAX); // 2^70 ns
        assert_eq!(Rate::new(2f64.powi(-40), 1).ns(3), 3 << 40);
        assert_eq!(Rate::new(1.0, 1).ns(0), 0);
        assert_eq!(ceil_div_pow2(3, 1, -62), 3 << 62);
        assert_eq!(ceil_div_pow2(3, 3, -64), u64::MAX); // 2^64 does not fit
    }
}
