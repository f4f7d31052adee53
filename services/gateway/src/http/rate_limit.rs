//! Per-caller rate limits (user id, or client address before login): `governor`'s GCRA, which
//! behaves as a token bucket of `burst` tokens refilled at `rate` per second, kept in one
//! integer per caller. In memory, per gateway replica: with N replicas behind a balancer a
//! caller gets up to N times the rate (docs/operations.md says how to size it).
//!
//! Chosen over the hand-written bucket it replaced: the same guarantee (never more than
//! `burst + rate × T` in any T seconds) and an exact wait for Retry-After, with the state
//! store, the pruning of idle callers and a fake clock for tests maintained elsewhere. Built
//! lean: `std` only (no dashmap, quanta or jitter).

use std::{
    net::IpAddr,
    num::NonZeroU32,
    sync::atomic::{AtomicU32, Ordering},
    time::Duration,
};

use governor::{
    Quota,
    clock::{Clock, DefaultClock},
    middleware::NoOpMiddleware,
    state::keyed::HashMapStateStore,
};
use uuid::Uuid;

/// Who a limit applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Limited {
    User(Uuid),
    /// A caller without a token (login), by address.
    Client(IpAddr),
}

type Gcra<C> = governor::RateLimiter<
    Limited,
    HashMapStateStore<Limited>,
    C,
    NoOpMiddleware<<C as Clock>::Instant>,
>;

pub struct RateLimiter<C: Clock = DefaultClock> {
    /// `None`: no limit.
    gcra: Option<Gcra<C>>,
    checks: AtomicU32,
}

/// Callers kept before those idle long enough to have a full bucket again are dropped.
const PRUNE_ABOVE: usize = 10_000;
/// How often (in checks) the number of callers kept is looked at.
const PRUNE_EVERY: u32 = 1024;

impl RateLimiter {
    /// `rate` requests per second sustained, `burst` at once; a rate of 0 means no limit.
    pub fn new(rate: u32, burst: u32) -> Self {
        Self::with_clock(rate, burst, DefaultClock::default())
    }
}

impl<C: Clock> RateLimiter<C> {
    pub fn with_clock(rate: u32, burst: u32, clock: C) -> Self {
        let gcra = NonZeroU32::new(rate).map(|rate| {
            let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
            Gcra::hashmap_with_clock(Quota::per_second(rate).allow_burst(burst), clock)
        });
        Self {
            gcra,
            checks: AtomicU32::new(0),
        }
    }

    /// `Err(wait)` when `caller` is over its limit: the time until a request would pass.
    pub fn check(&self, caller: Limited) -> Result<(), Duration> {
        let Some(gcra) = &self.gcra else {
            return Ok(());
        };
        if self
            .checks
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(PRUNE_EVERY)
            && gcra.len() > PRUNE_ABOVE
        {
            gcra.retain_recent();
        }
        gcra.check_key(&caller)
            .map_err(|not_until| not_until.wait_time_from(gcra.clock().now()))
    }
}

impl<C: Clock> std::fmt::Debug for RateLimiter<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("limited", &self.gcra.is_some())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use governor::clock::FakeRelativeClock;
    use proptest::prelude::*;

    use super::*;

    fn ada() -> Limited {
        Limited::User(Uuid::from_u128(1))
    }

    #[test]
    fn a_burst_passes_then_the_rate_holds() {
        let clock = FakeRelativeClock::default();
        let limiter = RateLimiter::with_clock(2, 3, clock.clone());
        for _ in 0..3 {
            assert!(limiter.check(ada()).is_ok());
        }
        let wait = limiter.check(ada()).unwrap_err();
        assert!((wait.as_secs_f64() - 0.5).abs() < 1e-6, "{wait:?}");
        clock.advance(wait);
        assert!(limiter.check(ada()).is_ok());
    }

    #[test]
    fn callers_have_their_own_buckets() {
        let limiter = RateLimiter::new(1, 2);
        assert!(limiter.check(ada()).is_ok());
        assert!(limiter.check(ada()).is_ok());
        assert!(limiter.check(ada()).is_err());
        assert!(limiter.check(Limited::User(Uuid::from_u128(2))).is_ok());
        assert!(
            limiter
                .check(Limited::Client([127, 0, 0, 1].into()))
                .is_ok()
        );
        assert!(RateLimiter::new(0, 1).check(ada()).is_ok(), "0 is no limit");
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
            let clock = FakeRelativeClock::default();
            let limiter = RateLimiter::with_clock(rate, burst, clock.clone());
            let mut elapsed = Duration::ZERO;
            let mut passed = 0u64;
            for gap in gaps {
                clock.advance(Duration::from_millis(gap));
                elapsed += Duration::from_millis(gap);
                match limiter.check(ada()) {
                    Ok(()) => passed += 1,
                    Err(wait) => {
                        // The caller waits as told, and is let through.
                        clock.advance(wait);
                        elapsed += wait;
                        prop_assert!(limiter.check(ada()).is_ok(), "refused after {wait:?}");
                        passed += 1;
                    }
                }
            }
            // Time is kept in whole nanoseconds (1/rate s rounded down), so the bound holds to
            // within a thousandth of a request over a run this long.
            let window = elapsed.as_secs_f64();
            prop_assert!(passed as f64 <= f64::from(burst) + window * f64::from(rate) + 1e-3);
        }
    }
}
