//! Measuring tools: an open-loop pacer that schedules by absolute time (so a slow system is
//! measured from when each event *should* have been sent, not when the sender got round to it),
//! arrival recording shared between tasks, and latency percentiles.

use std::{
    future::Future,
    sync::atomic::{AtomicU64, AtomicUsize, Ordering},
    time::Duration,
};

use futures::future::BoxFuture;
use hdrhistogram::Histogram;
use tokio::{task::JoinSet, time::Instant};

/// When each event of an open-loop run is due: `start + seq / rate`.
#[derive(Clone, Copy, Debug)]
pub struct Schedule {
    pub start: Instant,
    period_nanos: f64,
    pub total: usize,
}

impl Schedule {
    /// `total` events at `rate` per second, the first one `lead` from now.
    pub fn new(rate: f64, total: usize, lead: Duration) -> Self {
        Self {
            start: Instant::now() + lead,
            period_nanos: 1e9 / rate,
            total,
        }
    }

    pub fn at(&self, seq: usize) -> Instant {
        self.start + Duration::from_nanos((self.period_nanos * seq as f64) as u64)
    }

    /// When the last event is due.
    pub fn end(&self) -> Instant {
        self.at(self.total.saturating_sub(1))
    }
}

/// What an open-loop run did on the sending side.
#[derive(Debug, Default)]
pub struct SendOutcome {
    pub sent: usize,
    pub errors: usize,
    pub first_error: Option<String>,
    /// The largest delay between an event's due time and the moment its task was spawned
    /// (the pacer itself falling behind, e.g. a starved runtime).
    pub worst_spawn_lag: Duration,
}

/// Runs `send(seq)` for every event at its due time, each in its own task, without waiting
/// for earlier sends: a slow send delays nothing but itself (open loop). Returns once every
/// send has finished.
pub async fn open_loop<F, Fut>(schedule: Schedule, send: F) -> SendOutcome
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let mut outcome = SendOutcome::default();
    let mut tasks = JoinSet::new();
    let collect = |result: Result<anyhow::Result<()>, tokio::task::JoinError>,
                   outcome: &mut SendOutcome| {
        let error = match result {
            Ok(Ok(())) => return,
            Ok(Err(error)) => format!("{error:#}"),
            Err(error) => error.to_string(),
        };
        outcome.errors += 1;
        outcome.first_error.get_or_insert(error);
    };
    for seq in 0..schedule.total {
        let due = schedule.at(seq);
        tokio::time::sleep_until(due).await;
        outcome.worst_spawn_lag = outcome
            .worst_spawn_lag
            .max(Instant::now().saturating_duration_since(due));
        tasks.spawn(send(seq));
        outcome.sent += 1;
        while let Some(result) = tasks.try_join_next() {
            collect(result, &mut outcome);
        }
    }
    while let Some(result) = tasks.join_next().await {
        collect(result, &mut outcome);
    }
    outcome
}

/// The first moment each event (by sequence number) was seen; shared by tasks lock-free.
pub struct Arrivals {
    base: Instant,
    slots: Box<[AtomicU64]>,
    count: AtomicUsize,
}

impl Arrivals {
    pub fn new(base: Instant, total: usize) -> Self {
        Self {
            base,
            slots: (0..total).map(|_| AtomicU64::new(0)).collect(),
            count: AtomicUsize::new(0),
        }
    }

    /// Records now as the arrival of `seq`; later arrivals (redeliveries) are ignored.
    pub fn record(&self, seq: usize) {
        let Some(slot) = self.slots.get(seq) else {
            return;
        };
        // +1 so that 0 means "not yet".
        let nanos = Instant::now()
            .saturating_duration_since(self.base)
            .as_nanos() as u64
            + 1;
        if slot
            .compare_exchange(0, nanos, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            self.count.fetch_add(1, Ordering::AcqRel);
        }
    }

    pub fn received(&self) -> usize {
        self.count.load(Ordering::Acquire)
    }

    pub fn at(&self, seq: usize) -> Option<Instant> {
        match self.slots.get(seq)?.load(Ordering::Acquire) {
            0 => None,
            nanos => Some(self.base + Duration::from_nanos(nanos - 1)),
        }
    }

    /// Waits until every event arrived or `deadline` passed.
    pub async fn wait_all(&self, deadline: Instant) -> bool {
        loop {
            if self.received() >= self.slots.len() {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

/// A latency distribution in microseconds.
pub struct Latencies {
    histogram: Histogram<u64>,
    pub missing: usize,
}

impl Latencies {
    pub fn new() -> Self {
        Self {
            // 1 µs .. 10 min at 3 significant digits.
            histogram: Histogram::new_with_bounds(1, 600_000_000, 3)
                .expect("valid histogram bounds"),
            missing: 0,
        }
    }

    /// `to - from` for every event in `range` that has both instants.
    pub fn between(
        range: std::ops::Range<usize>,
        from: impl Fn(usize) -> Option<Instant>,
        to: impl Fn(usize) -> Option<Instant>,
    ) -> Self {
        let mut latencies = Self::new();
        for seq in range {
            match (from(seq), to(seq)) {
                (Some(from), Some(to)) => latencies.record(to.saturating_duration_since(from)),
                _ => latencies.missing += 1,
            }
        }
        latencies
    }

    pub fn record(&mut self, latency: Duration) {
        self.histogram
            .saturating_record((latency.as_micros() as u64).max(1));
    }

    /// Adds another distribution's samples to this one.
    pub fn merge(&mut self, other: &Latencies) {
        // Same bounds on both sides, so adding cannot fail.
        let _ = self.histogram.add(&other.histogram);
        self.missing += other.missing;
    }

    pub fn count(&self) -> u64 {
        self.histogram.len()
    }

    /// The latency at `quantile` (0.99 = p99), in milliseconds.
    pub fn ms(&self, quantile: f64) -> Option<f64> {
        (self.count() > 0).then(|| self.histogram.value_at_quantile(quantile) as f64 / 1000.0)
    }

    /// The latency at `quantile`, in microseconds (the histogram's resolution).
    pub fn us(&self, quantile: f64) -> Option<f64> {
        (self.count() > 0).then(|| self.histogram.value_at_quantile(quantile) as f64)
    }

    pub fn max_ms(&self) -> Option<f64> {
        (self.count() > 0).then(|| self.histogram.max() as f64 / 1000.0)
    }

    pub fn mean_ms(&self) -> Option<f64> {
        (self.count() > 0).then(|| self.histogram.mean() / 1000.0)
    }

    /// `p50 a / p99 b / p999 c / max d ms`, for notes.
    pub fn summary(&self) -> String {
        let show = |value: Option<f64>| {
            value
                .map(|v| format!("{v:.2}"))
                .unwrap_or_else(|| "-".to_owned())
        };
        format!(
            "p50 {} / p99 {} / p999 {} / max {} ms ({} samples{})",
            show(self.ms(0.5)),
            show(self.ms(0.99)),
            show(self.ms(0.999)),
            show(self.max_ms()),
            self.count(),
            if self.missing > 0 {
                format!(", {} missing", self.missing)
            } else {
                String::new()
            }
        )
    }
}

impl Default for Latencies {
    fn default() -> Self {
        Self::new()
    }
}

/// One read a latency comparison sends: each call makes one request and waits for its reply.
pub type Probe = Box<dyn Fn() -> BoxFuture<'static, anyhow::Result<()>> + Send + Sync>;

/// How long [`alternating`] samples: at least `duration` and at least `min_samples` per probe.
#[derive(Clone, Copy, Debug)]
pub struct Sampling {
    /// Unmeasured calls of each probe first (caches, prepared statements, connections).
    pub warm_up: usize,
    pub duration: Duration,
    pub min_samples: u64,
}

/// Latency of each probe from one client: sequential calls, rotating between the probes call
/// by call, so that changes in background load hit all of them alike. The first error ends
/// the run (a read that fails is a broken setup, not a slow one).
pub async fn alternating(probes: &[Probe], sampling: Sampling) -> anyhow::Result<Vec<Latencies>> {
    for probe in probes {
        for _ in 0..sampling.warm_up {
            probe().await?;
        }
    }
    let mut latencies: Vec<Latencies> = probes.iter().map(|_| Latencies::new()).collect();
    let started = Instant::now();
    while started.elapsed() < sampling.duration
        || latencies
            .iter()
            .any(|latency| latency.count() < sampling.min_samples)
    {
        for (probe, latency) in probes.iter().zip(&mut latencies) {
            let begun = Instant::now();
            probe().await?;
            latency.record(begun.elapsed());
        }
    }
    Ok(latencies)
}

/// Linux's USER_HZ is 100: `/proc/stat` counts in 10 ms ticks.
const NANOS_PER_TICK: u64 = 10_000_000;

/// The whole machine's CPU since boot from `/proc/stat`: (busy, total) in ns of all its cores.
pub fn machine_cpu() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let cpu: Vec<u64> = stat
        .lines()
        .next()?
        .strip_prefix("cpu ")?
        .split_whitespace()
        .filter_map(|field| field.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is inside user), in ticks.
    let total: u64 = cpu.iter().take(8).sum();
    let idle = cpu.get(3).copied().unwrap_or(0) + cpu.get(4).copied().unwrap_or(0);
    Some((
        total.saturating_sub(idle) * NANOS_PER_TICK,
        total * NANOS_PER_TICK,
    ))
}

/// Waits until the machine is quiet — under a tenth of its CPU busy over half a second —
/// or `limit` has passed: what a load left running in the background (merges, relays,
/// PostgreSQL's writes) is over before what follows is measured. How long it took.
pub async fn until_quiet(limit: Duration) -> Duration {
    const WINDOW: Duration = Duration::from_millis(500);
    let started = Instant::now();
    let Some(mut before) = machine_cpu() else {
        return Duration::ZERO;
    };
    while started.elapsed() < limit {
        tokio::time::sleep(WINDOW).await;
        let Some(now) = machine_cpu() else {
            break;
        };
        let (busy, total) = (now.0 - before.0, now.1 - before.1);
        before = now;
        if total > 0 && busy * 10 < total {
            break;
        }
    }
    started.elapsed()
}

/// The machine's load average (1, 5 and 15 minutes) from `/proc/loadavg`.
pub fn load_average() -> Option<String> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    Some(
        text.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
    )
}
