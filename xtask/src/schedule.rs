//! The scheduler: jobs on a few threads at once, results in the jobs' order
//! — how a check runs its VMs, one per core.
//!
//! Wiring: imports nothing of the crate; [`crate::commands`] runs a check's
//! VMs through it.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Run `jobs` on up to `parallel` threads, results in the jobs' order.
pub fn in_parallel<J: Sync, R: Send>(
    jobs: &[J],
    parallel: usize,
    work: impl Fn(&J) -> R + Sync,
) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..jobs.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..parallel.max(1).min(jobs.len()) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(job) = jobs.get(i) else { break };
                    let result = work(job);
                    results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(result);
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|r| r.expect("every job ran"))
        .collect()
}

/// How many VMs to run at once: one per core.
pub fn parallelism() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
