//! Pure policies around the calls: a per-account token bucket, retries with exponential backoff
//! and seeded jitter, timeouts. Time is always an argument (Unix milliseconds); state is plain
//! data that serializes with the job.

use serde::{Deserialize, Serialize};
use simopt_core::random::SplitMix64;

/// How a job calls one carrier account. Plain data: it travels with the job's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// Requests per second, sustained (the token bucket's refill).
    pub requests_per_second: u32,
    /// Requests that may go back to back before the rate applies (the bucket's size).
    pub burst: u32,
    /// Rate plan changes per minute (a second bucket, for edits only); 0: no separate limit.
    pub changes_per_minute: u32,
    /// Retries.
    pub retry: RetryPolicy,
    /// Each request's timeout, for the transport to apply.
    pub request_timeout_ms: u64,
}

impl Default for Policy {
    /// 10 requests a second and 60 changes a minute: assumed safe for Control Center, not
    /// measured against it (a 429's `Retry-After` holds the whole account's bucket anyway).
    fn default() -> Policy {
        Policy {
            requests_per_second: 10,
            burst: 10,
            changes_per_minute: 60,
            retry: RetryPolicy::default(),
            request_timeout_ms: 30_000,
        }
    }
}

/// Retries: exponential backoff `base × 2^(attempt-1)`, capped, with "equal jitter" (a uniform
/// draw in [delay/2, delay]) from the job's seeded generator. A `Retry-After` is honoured as a
/// floor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryPolicy {
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// The first retry's delay.
    pub base_delay_ms: u64,
    /// The largest delay.
    pub max_delay_ms: u64,
    /// Whether to draw jitter (off: exact, deterministic delays).
    pub jitter: bool,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 8,
            base_delay_ms: 500,
            max_delay_ms: 60_000,
            jitter: true,
        }
    }
}

impl RetryPolicy {
    /// The delay before retry number `retry` (1 = the first retry), at least `floor_ms`.
    pub fn delay_ms(&self, retry: u32, floor_ms: u64, rng: &mut Rng) -> u64 {
        let shift = retry.saturating_sub(1).min(32);
        let exponential = self
            .base_delay_ms
            .saturating_mul(1u64 << shift)
            .min(self.max_delay_ms);
        let delay = if self.jitter && exponential > 1 {
            let half = exponential / 2;
            half + rng.below(exponential - half + 1)
        } else {
            exponential
        };
        delay.max(floor_ms)
    }
}

/// The core's SplitMix64, serializable (as its state): the same draws natively and in wasm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "u64", into = "u64")]
pub struct Rng(SplitMix64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Rng {
        Rng(SplitMix64::new(seed))
    }

    /// A draw in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        self.0.below(n)
    }
}

impl From<u64> for Rng {
    fn from(state: u64) -> Rng {
        Rng::new(state)
    }
}

impl From<Rng> for u64 {
    fn from(rng: Rng) -> u64 {
        rng.0.state()
    }
}

/// A token bucket in milli-tokens: `capacity` tokens, refilled at `per_period` tokens every
/// `period_ms`. The time is passed in; nothing here reads a clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenBucket {
    capacity_milli: u64,
    per_period: u64,
    period_ms: u64,
    level_milli: u64,
    updated_ms: Option<i64>,
    /// No token before this moment (a carrier's 429 `Retry-After`).
    hold_until_ms: i64,
}

impl TokenBucket {
    /// A full bucket of `capacity` tokens refilled at `per_period` per `period_ms`.
    pub fn new(capacity: u32, per_period: u32, period_ms: u64) -> TokenBucket {
        let capacity_milli = u64::from(capacity.max(1)) * 1000;
        TokenBucket {
            capacity_milli,
            per_period: u64::from(per_period.max(1)),
            period_ms: period_ms.max(1),
            level_milli: capacity_milli,
            updated_ms: None,
            hold_until_ms: i64::MIN,
        }
    }

    /// `requests_per_second` with a burst.
    pub fn per_second(rate: u32, burst: u32) -> TokenBucket {
        TokenBucket::new(burst.max(1), rate, 1000)
    }

    /// `rate` per minute, with a burst of a second's worth (at least one): it keeps the
    /// long-run rate and lets the first calls go.
    pub fn per_minute(rate: u32) -> TokenBucket {
        TokenBucket::new((rate / 60).max(1), rate, 60_000)
    }

    fn refill(&mut self, now_ms: i64) {
        match self.updated_ms {
            None => self.updated_ms = Some(now_ms),
            Some(then) if now_ms > then => {
                let elapsed = (now_ms - then) as u64;
                let add = elapsed.saturating_mul(self.per_period) * 1000 / self.period_ms;
                self.level_milli = (self.level_milli.saturating_add(add)).min(self.capacity_milli);
                self.updated_ms = Some(now_ms);
            }
            Some(_) => {}
        }
    }

    /// Takes a token if one is there now; else the moment one will be.
    ///
    /// # Errors
    /// `Err(ready_at_ms)`: try again then.
    pub fn take(&mut self, now_ms: i64) -> Result<(), i64> {
        if now_ms < self.hold_until_ms {
            return Err(self.hold_until_ms);
        }
        self.refill(now_ms);
        if self.level_milli >= 1000 {
            self.level_milli -= 1000;
            return Ok(());
        }
        let missing = 1000 - self.level_milli;
        let wait = (missing * self.period_ms).div_ceil(self.per_period * 1000);
        Err(now_ms + wait.max(1) as i64)
    }

    /// No tokens before `until_ms` (the carrier said 429, Retry-After); the bucket empties.
    pub fn hold_until(&mut self, until_ms: i64) {
        self.hold_until_ms = self.hold_until_ms.max(until_ms);
        self.level_milli = 0;
        self.updated_ms = Some(until_ms);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_paces_to_its_rate() {
        let mut b = TokenBucket::per_second(5, 2);
        let t0 = 1_000_000;
        assert_eq!(b.take(t0), Ok(()));
        assert_eq!(b.take(t0), Ok(()));
        // Empty: one token every 200 ms.
        assert_eq!(b.take(t0), Err(t0 + 200));
        assert_eq!(b.take(t0 + 199), Err(t0 + 200));
        assert_eq!(b.take(t0 + 200), Ok(()));
        // 100 requests at the pace it asks for take 20 s: 5/s.
        let mut now = t0 + 200;
        let mut sent = 0;
        while sent < 100 {
            match b.take(now) {
                Ok(()) => sent += 1,
                Err(at) => now = at,
            }
        }
        assert_eq!(now - (t0 + 200), 20_000);
    }

    #[test]
    fn bucket_holds_after_a_429() {
        let mut b = TokenBucket::per_second(100, 100);
        b.hold_until(5_000);
        assert_eq!(b.take(4_999), Err(5_000));
        assert_eq!(b.take(5_000), Err(5_010));
        assert_eq!(b.take(5_010), Ok(()));
    }

    #[test]
    fn per_minute_bucket_allows_its_rate() {
        let mut b = TokenBucket::per_minute(60);
        let mut now = 0;
        let mut sent = 0;
        while sent < 61 {
            match b.take(now) {
                Ok(()) => sent += 1,
                Err(at) => now = at,
            }
        }
        assert_eq!(now, 60_000);
    }

    #[test]
    fn backoff_grows_caps_and_honours_retry_after() {
        let p = RetryPolicy {
            max_attempts: 8,
            base_delay_ms: 100,
            max_delay_ms: 1_000,
            jitter: false,
        };
        let mut rng = Rng::new(1);
        let delays: Vec<u64> = (1..=6).map(|r| p.delay_ms(r, 0, &mut rng)).collect();
        assert_eq!(delays, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(p.delay_ms(1, 3_000, &mut rng), 3_000);
    }

    #[test]
    fn jitter_is_seeded_and_bounded() {
        let p = RetryPolicy {
            jitter: true,
            ..RetryPolicy::default()
        };
        let draw = |seed| {
            let mut rng = Rng::new(seed);
            (1..=5)
                .map(|r| p.delay_ms(r, 0, &mut rng))
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(7), draw(7));
        assert_ne!(draw(7), draw(8));
        for (r, d) in draw(9).into_iter().enumerate() {
            let full = 500u64 << r;
            assert!(d >= full / 2 && d <= full, "retry {r}: {d}");
        }
    }
}
