//! Per-caller rate limits: a token bucket per caller (user id, or client address before login).
//! In memory, per gateway replica: with N replicas behind a balancer a caller gets up to N times
//! the rate (docs/operations.md says how to size it).

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

/// A bucket's state: tokens left at `updated`.
#[derive(Clone, Copy, Debug)]
pub struct Bucket {
    tokens: f64,
    updated: Instant,
}

impl Bucket {
    pub fn full(burst: u32, now: Instant) -> Self {
        Self {
            tokens: f64::from(burst),
            updated: now,
        }
    }

    /// Takes one token at `now` (refilled at `rate` per second up to `burst`), or says how long
    /// until one is available.
    pub fn take(&mut self, now: Instant, rate: u32, burst: u32) -> Result<(), Duration> {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * f64::from(rate)).min(f64::from(burst));
        self.updated = now.max(self.updated);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64(
                (1.0 - self.tokens) / f64::from(rate),
            ))
        }
    }

    fn is_full_at(&self, now: Instant, rate: u32, burst: u32) -> bool {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens + elapsed * f64::from(rate) >= f64::from(burst)
    }
}

#[derive(Debug)]
pub struct RateLimiter {
    rate: u32,
    burst: u32,
    buckets: Mutex<HashMap<String, Bucket>>,
}

/// Buckets kept before full ones (callers idle long enough) are dropped.
const PRUNE_ABOVE: usize = 10_000;

impl RateLimiter {
    /// `rate` requests per second sustained, `burst` at once; a rate of 0 means no limit.
    pub fn new(rate: u32, burst: u32) -> Self {
        Self {
            rate,
            burst: burst.max(1),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(wait)` when `caller` is over its limit.
    pub fn check(&self, caller: &str) -> Result<(), Duration> {
        if self.rate == 0 {
            return Ok(());
        }
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() > PRUNE_ABOVE && !buckets.contains_key(caller) {
            let (rate, burst) = (self.rate, self.burst);
            buckets.retain(|_, bucket| !bucket.is_full_at(now, rate, burst));
        }
        buckets
            .entry(caller.to_owned())
            .or_insert_with(|| Bucket::full(self.burst, now))
            .take(now, self.rate, self.burst)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn a_burst_passes_then_the_rate_holds() {
        let start = Instant::now();
        let mut bucket = Bucket::full(3, start);
        for _ in 0..3 {
            assert!(bucket.take(start, 2, 3).is_ok());
        }
        let wait = bucket.take(start, 2, 3).unwrap_err();
        assert!((wait.as_secs_f64() - 0.5).abs() < 1e-9, "{wait:?}");
        assert!(bucket.take(start + wait, 2, 3).is_ok());
    }

    #[test]
    fn callers_have_their_own_buckets() {
        let limiter = RateLimiter::new(1, 2);
        assert!(limiter.check("ada").is_ok());
        assert!(limiter.check("ada").is_ok());
        assert!(limiter.check("ada").is_err());
        assert!(limiter.check("bob").is_ok());
        assert!(RateLimiter::new(0, 1).check("ada").is_ok(), "0 is no limit");
    }

    proptest! {
        /// However requests arrive, no more pass in a window of T seconds than the burst plus
        /// T times the rate; and a caller that waits the advised time is let through.
        #[test]
        fn never_more_than_burst_plus_rate_times_time(
            rate in 1u32..50,
            burst in 1u32..50,
            gaps in proptest::collection::vec(0u64..200, 1..300),
        ) {
            let start = Instant::now();
            let mut bucket = Bucket::full(burst, start);
            let mut now = start;
            let mut passed = 0u64;
            for gap in gaps {
                now += Duration::from_millis(gap);
                match bucket.take(now, rate, burst) {
                    Ok(()) => passed += 1,
                    Err(wait) => {
                        let mut later = bucket;
                        prop_assert!(later.take(now + wait + Duration::from_micros(1), rate, burst).is_ok());
                    }
                }
            }
            let window = now.duration_since(start).as_secs_f64();
            prop_assert!(passed as f64 <= f64::from(burst) + window * f64::from(rate) + 1e-6);
        }
    }
}
