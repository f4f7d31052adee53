//! Exponential backoff for the loops that wait on a dependency (the relay, consumers, stream
//! set-up): one definition of how long to wait, and one way to wait that ends at shutdown.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// Delays that double from `initial` up to `max`; [`Backoff::reset`] after a success.
#[derive(Clone, Debug)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    pub fn new(initial: Duration, max: Duration) -> Self {
        Self {
            initial,
            max,
            next: initial,
        }
    }

    /// The delay to wait now; the following one is twice as long, up to the cap.
    pub fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = (self.next * 2).min(self.max);
        delay
    }

    /// Back to the initial delay (the dependency answered).
    pub fn reset(&mut self) {
        self.next = self.initial;
    }

    /// Sleeps for the next delay; `false` when `shutdown` came first (stop retrying).
    pub async fn wait(&mut self, shutdown: &CancellationToken) -> bool {
        let delay = self.next_delay();
        tokio::select! {
            () = tokio::time::sleep(delay) => true,
            () = shutdown.cancelled() => false,
        }
    }

    /// The delay of the `attempt`-th try (1-based) without any state: `initial · 2^(attempt-1)`,
    /// capped. For redeliveries, whose count the broker keeps.
    pub fn delay_of_attempt(&self, attempt: u32) -> Duration {
        let exponent = attempt.clamp(1, 31) - 1;
        self.initial
            .checked_mul(1u32 << exponent.min(30))
            .unwrap_or(self.max)
            .min(self.max)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn delays_double_up_to_the_cap_and_reset() {
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_millis(500));
        let delays: Vec<u64> = (0..5)
            .map(|_| backoff.next_delay().as_millis() as u64)
            .collect();
        assert_eq!(delays, [100, 200, 400, 500, 500]);
        backoff.reset();
        assert_eq!(backoff.next_delay(), Duration::from_millis(100));
    }

    #[test]
    fn attempts_map_to_the_same_delays() {
        let backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(60));
        assert_eq!(backoff.delay_of_attempt(1), Duration::from_secs(1));
        assert_eq!(backoff.delay_of_attempt(3), Duration::from_secs(4));
        assert_eq!(backoff.delay_of_attempt(100), Duration::from_secs(60));
    }

    #[tokio::test]
    async fn waiting_ends_at_shutdown() {
        let mut backoff = Backoff::new(Duration::from_secs(3600), Duration::from_secs(3600));
        let shutdown = CancellationToken::new();
        shutdown.cancel();
        assert!(!backoff.wait(&shutdown).await);
    }

    proptest! {
        #[test]
        fn delays_never_shrink_nor_pass_the_cap(initial in 1u64..10_000, max in 1u64..100_000, steps in 1usize..40) {
            let max = max.max(initial);
            let mut backoff = Backoff::new(Duration::from_millis(initial), Duration::from_millis(max));
            let mut previous = Duration::ZERO;
            for _ in 0..steps {
                let delay = backoff.next_delay();
                prop_assert!(delay >= previous);
                prop_assert!(delay <= Duration::from_millis(max));
                previous = delay;
            }
        }
    }
}
