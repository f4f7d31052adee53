//! The threads searches run on: one per core, taking searches first come, first served.
//!
//! A search is CPU work from its start to its end. Run each on a thread of its own (tokio's
//! blocking pool) and the operating system shares the cores among all of them: at 16 at once
//! on two cores every search takes eight times its own time, the costly ones longest. On as
//! many threads as there are cores, each taking the next search the moment it is done, a
//! search takes its own time plus its wait in line: the same throughput with a far shorter
//! tail, and no hand-over between a finished search and the next (measured in
//! docs/benchmarks.md).

use std::{
    panic::AssertUnwindSafe,
    sync::{Arc, Mutex, PoisonError, mpsc},
};

type Job = Box<dyn FnOnce() + Send>;

/// The line of searches and the threads taking them; the threads end when the last handle
/// is dropped.
#[derive(Clone)]
pub struct Workers {
    line: mpsc::Sender<Job>,
}

impl Workers {
    /// `threads` threads named `name-0`, `name-1`, …
    pub fn new(name: &str, threads: usize) -> Self {
        let (line, taken) = mpsc::channel::<Job>();
        let taken = Arc::new(Mutex::new(taken));
        for number in 0..threads.max(1) {
            let taken = taken.clone();
            std::thread::Builder::new()
                .name(format!("{name}-{number}"))
                .spawn(move || {
                    loop {
                        // One thread waits at the line at a time; the others wait for it.
                        let next = taken.lock().unwrap_or_else(PoisonError::into_inner).recv();
                        match next {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                })
                .expect("a search thread starts");
        }
        Self { line }
    }

    /// One per core the process may use (cgroup quotas included).
    pub fn per_core(name: &str) -> Self {
        Self::new(
            name,
            std::thread::available_parallelism().map_or(1, usize::from),
        )
    }

    /// Runs `work` in its turn and gives its result; `Err` when it panicked.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, String> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        self.line
            .send(Box::new(move || {
                // A panic stays in its search: the thread goes on with the next one.
                if let Ok(result) = std::panic::catch_unwind(AssertUnwindSafe(work)) {
                    let _ = answer.send(result);
                }
            }))
            .map_err(|_| "the search threads have stopped".to_owned())?;
        answered
            .await
            .map_err(|_| "the search failed unexpectedly".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn work_runs_in_turn_and_a_panic_stays_in_its_job() {
        let workers = Workers::new("test-search", 2);
        let answers: Vec<_> = (0..8u32)
            .map(|number| {
                let workers = workers.clone();
                tokio::spawn(async move { workers.run(move || number * 2).await })
            })
            .collect();
        for (number, answer) in answers.into_iter().enumerate() {
            assert_eq!(answer.await.unwrap(), Ok(number as u32 * 2));
        }
        let failed = workers.run(|| -> u32 { panic!("a broken search") }).await;
        assert!(failed.is_err());
        // The threads are still there.
        assert_eq!(workers.run(|| 7).await, Ok(7));
    }
}
