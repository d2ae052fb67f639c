//! Largest-remainder split: an amount in whole minor units shared out in proportion to weights so
//! the shares add up exactly to the amount.

/// Splits `total` minor units in proportion to `weights`. Each share is the floor of its exact
/// proportion; the units left over go one each to the largest remainders (ties: earlier first).
/// All-zero weights split nothing (every share zero), which callers avoid by construction.
pub(crate) fn largest_remainder(total: i64, weights: &[u64]) -> Vec<i64> {
    let sum: u128 = weights.iter().map(|w| u128::from(*w)).sum();
    if sum == 0 || total == 0 {
        return vec![0; weights.len()];
    }
    let magnitude = u128::from(total.unsigned_abs());
    let sign = total.signum();
    let mut shares = Vec::with_capacity(weights.len());
    let mut remainders: Vec<(u128, usize)> = Vec::new();
    let mut given: u128 = 0;
    for (index, w) in weights.iter().enumerate() {
        let exact = magnitude * u128::from(*w);
        let share = exact / sum;
        given += share;
        shares.push(share as i64 * sign);
        if exact % sum != 0 {
            remainders.push((exact % sum, index));
        }
    }
    let left = (magnitude - given) as usize;
    if left > 0 {
        // Largest remainder first; on equal remainders the earlier member first.
        remainders.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        for &(_, index) in remainders.iter().take(left) {
            shares[index] += sign;
        }
    }
    shares
}

#[cfg(test)]
mod tests {
    use super::largest_remainder;
    use proptest::prelude::*;

    #[test]
    fn table() {
        // (total, weights, shares, how)
        let cases: &[(i64, &[u64], &[i64], &str)] = &[
            (
                100,
                &[1, 1, 1],
                &[34, 33, 33],
                "100/3 = 33.33 each; the 1 left goes to the first",
            ),
            (
                10,
                &[3, 1],
                &[8, 2],
                "7.5 and 2.5: equal remainders, the earlier wins",
            ),
            (7, &[0, 5, 0], &[0, 7, 0], "only one member has weight"),
            (5, &[2, 3], &[2, 3], "exact"),
            (
                1,
                &[1, 2],
                &[0, 1],
                "0.33 vs 0.67: the larger remainder wins",
            ),
            (0, &[4, 4], &[0, 0], "nothing to split"),
        ];
        for (total, weights, want, how) in cases {
            assert_eq!(&largest_remainder(*total, weights), want, "{how}");
        }
    }

    proptest! {
        #[test]
        fn shares_add_up_and_stay_within_one_unit(total in 0i64..10_000_000_000, weights in proptest::collection::vec(0u64..1u64 << 40, 1..50)) {
            let shares = largest_remainder(total, &weights);
            let sum: u128 = weights.iter().map(|w| u128::from(*w)).sum();
            if sum > 0 {
                prop_assert_eq!(shares.iter().sum::<i64>(), total);
                for (s, w) in shares.iter().zip(&weights) {
                    let exact = total as f64 * *w as f64 / sum as f64;
                    prop_assert!((*s as f64 - exact).abs() < 1.0 + 1e-6 * exact.max(1.0));
                }
            }
        }
    }
}
