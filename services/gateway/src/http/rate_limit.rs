//! Per-caller rate limits (user id, API key, or client address before login): `governor`'s
//! GCRA, which behaves as a token bucket of `burst` tokens refilled at `rate` per second, kept
//! in one integer per caller. Every caller has the default limit (`CRM_GATEWAY_RATE_LIMIT_*`)
//! unless it calls with an API key an admin gave a limit of its own ([`RateLimit`]); each such
//! limit has its keyed limiter, so keys given the same limit still have their own buckets. In
//! memory, per gateway replica: with N replicas behind a balancer a caller gets up to N times
//! the rate (docs/operations.md says how to size it).
//!
//! Chosen over the hand-written bucket it replaced: the same guarantee (never more than
//! `burst + rate × T` in any T seconds) and an exact wait for Retry-After, with the state
//! store, the pruning of idle callers and a fake clock for tests maintained elsewhere. Built
//! lean: `std` only (no dashmap, quanta or jitter).

use std::{
    collections::HashMap,
    net::IpAddr,
    num::NonZeroU32,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU32, Ordering},
    },
    time::{Duration, Instant},
};

use governor::{
    Quota,
    clock::{Clock, DefaultClock},
    middleware::NoOpMiddleware,
    state::keyed::HashMapStateStore,
};
use sqlx::PgPool;
use uuid::Uuid;

pub use crate::domain::api_key::RateLimit;
use crate::store;

/// Who a limit applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Limited {
    User(Uuid),
    /// A token exchanged for this API key: the key's bucket, not its owner's.
    ApiKey(Uuid),
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
    /// The default limit; `None`: no limit.
    gcra: Option<Arc<Gcra<C>>>,
    /// The limiters of the API keys' own limits, one per distinct limit.
    own: Mutex<HashMap<RateLimit, Arc<Gcra<C>>>>,
    clock: C,
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

impl<C: Clock + Clone> RateLimiter<C> {
    pub fn with_clock(rate: u32, burst: u32, clock: C) -> Self {
        let gcra = NonZeroU32::new(rate).map(|rate| {
            let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
            Arc::new(Gcra::hashmap_with_clock(
                Quota::per_second(rate).allow_burst(burst),
                clock.clone(),
            ))
        });
        Self {
            gcra,
            own: Mutex::new(HashMap::new()),
            clock,
            checks: AtomicU32::new(0),
        }
    }

    /// `Err(wait)` when `caller` is over its limit — `own` if the caller has one, else the
    /// default: the time until a request would pass.
    pub fn check(&self, caller: Limited, own: Option<RateLimit>) -> Result<(), Duration> {
        let gcra = match own {
            Some(limit) => self.own_limiter(limit),
            None => match &self.gcra {
                Some(gcra) => gcra.clone(),
                None => return Ok(()),
            },
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

    fn own_limiter(&self, limit: RateLimit) -> Arc<Gcra<C>> {
        let mut own = self
            .own
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        own.entry(limit)
            .or_insert_with(|| {
                let quota = Quota::per_second(limit.per_second).allow_burst(limit.burst);
                Arc::new(Gcra::hashmap_with_clock(quota, self.clock.clone()))
            })
            .clone()
    }
}

/// How long the front door trusts what it read of a key's own limit: an admin's change
/// applies within this long.
pub const KEY_LIMIT_REFRESH: Duration = Duration::from_secs(5);

/// The API keys' own limits as the gateway's database holds them, each read again once it is
/// [`KEY_LIMIT_REFRESH`] old.
#[derive(Debug, Default)]
pub struct KeyLimits {
    read: Mutex<HashMap<Uuid, (Instant, Option<RateLimit>)>>,
}

impl KeyLimits {
    /// The own limit of the key `id` (`None`: the default, also for a key revoked or unknown).
    /// While the database cannot answer, the limit last read holds (or the default).
    pub async fn limit_of(&self, pool: &PgPool, id: Uuid) -> Option<RateLimit> {
        let now = Instant::now();
        let known = self.known(id);
        if let Some((read_at, limit)) = known
            && now.duration_since(read_at) < KEY_LIMIT_REFRESH
        {
            return limit;
        }
        match store::api_key_rate_limit(pool, id).await {
            Ok(found) => {
                let limit = found.flatten();
                self.remember(id, now, limit);
                limit
            }
            Err(error) => {
                tracing::warn!(api_key_id = %id, error = %error, "api key rate limit not read; keeping the last known");
                known.and_then(|(_, limit)| limit)
            }
        }
    }

    fn known(&self, id: Uuid) -> Option<(Instant, Option<RateLimit>)> {
        self.lock().get(&id).copied()
    }

    fn remember(&self, id: Uuid, now: Instant, limit: Option<RateLimit>) {
        let mut read = self.lock();
        if read.len() > PRUNE_ABOVE {
            read.retain(|_, (read_at, _)| now.duration_since(*read_at) < KEY_LIMIT_REFRESH);
        }
        read.insert(id, (now, limit));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, (Instant, Option<RateLimit>)>> {
        self.read
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
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
            assert!(limiter.check(ada(), None).is_ok());
        }
        let wait = limiter.check(ada(), None).unwrap_err();
        assert!((wait.as_secs_f64() - 0.5).abs() < 1e-6, "{wait:?}");
        clock.advance(wait);
        assert!(limiter.check(ada(), None).is_ok());
    }

    #[test]
    fn callers_have_their_own_buckets() {
        let limiter = RateLimiter::new(1, 2);
        assert!(limiter.check(ada(), None).is_ok());
        assert!(limiter.check(ada(), None).is_ok());
        assert!(limiter.check(ada(), None).is_err());
        assert!(
            limiter
                .check(Limited::User(Uuid::from_u128(2)), None)
                .is_ok()
        );
        assert!(
            limiter
                .check(Limited::Client([127, 0, 0, 1].into()), None)
                .is_ok()
        );
        assert!(
            RateLimiter::new(0, 1).check(ada(), None).is_ok(),
            "0 is no limit"
        );
    }

    fn key(n: u128) -> Limited {
        Limited::ApiKey(Uuid::from_u128(n))
    }

    fn limit(per_second: u32, burst: u32) -> Option<RateLimit> {
        Some(RateLimit::new("rate_limit", per_second, burst).unwrap())
    }

    #[test]
    fn a_key_with_its_own_limit_gets_it_in_a_bucket_of_its_own() {
        let clock = FakeRelativeClock::default();
        let limiter = RateLimiter::with_clock(1, 2, clock.clone());
        // More than the default lets through, without waiting.
        for _ in 0..10 {
            assert!(limiter.check(key(1), limit(100, 10)).is_ok());
        }
        assert!(limiter.check(key(1), limit(100, 10)).is_err());
        // Another key with the same limit has its own bucket; one without, the default.
        assert!(limiter.check(key(2), limit(100, 10)).is_ok());
        assert!(limiter.check(key(3), None).is_ok());
        assert!(limiter.check(key(3), None).is_ok());
        assert!(limiter.check(key(3), None).is_err());
        // A low limit throttles, and says how long to wait.
        assert!(limiter.check(key(4), limit(1, 1)).is_ok());
        let wait = limiter.check(key(4), limit(1, 1)).unwrap_err();
        assert!((wait.as_secs_f64() - 1.0).abs() < 1e-6, "{wait:?}");
        clock.advance(wait);
        assert!(limiter.check(key(4), limit(1, 1)).is_ok());
        // Its own limit applies even where the default is off.
        let unlimited = RateLimiter::with_clock(0, 1, clock);
        assert!(unlimited.check(key(5), limit(1, 1)).is_ok());
        assert!(unlimited.check(key(5), limit(1, 1)).is_err());
        assert!(unlimited.check(key(6), None).is_ok());
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
                match limiter.check(ada(), None) {
                    Ok(()) => passed += 1,
                    Err(wait) => {
                        // The caller waits as told, and is let through.
                        clock.advance(wait);
                        elapsed += wait;
                        prop_assert!(limiter.check(ada(), None).is_ok(), "refused after {wait:?}");
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
