//! File groups written (or compacted) on several cores at once.
//!
//! A file group's work is mostly CPU (decoding, merging, encoding) between a few awaits on
//! storage. On a multi-threaded Tokio runtime, [`each_file_group`] runs the jobs on scoped
//! threads that borrow the caller's context and drive their futures on the same runtime (so
//! object stores keep their connections and IO driver); elsewhere (a current-thread runtime)
//! the jobs run two at a time on the calling task, one encoding while the other's bytes are
//! stored. Either way results come back in job order and the first failure (by job order)
//! stops jobs not yet started.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use futures::StreamExt;
use tokio::runtime::{Handle, RuntimeFlavor};

use crate::error::{HudiError, Result};

/// Most file groups in flight at once (each holds one file group's rows in memory).
pub const MAX_WORKERS: usize = 4;

/// Jobs run at once: the cores, at most [`MAX_WORKERS`]. Also the threads that encode one
/// file's columns and the file slices a read merges at once.
pub fn workers() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, MAX_WORKERS)
}

/// Runs `job(0..n)` and returns their results in order (see the module docs).
pub async fn each_file_group<T, F, Fut>(n: usize, job: F) -> Result<Vec<T>>
where
    T: Send,
    F: Fn(usize) -> Fut + Sync,
    Fut: Future<Output = Result<T>>,
{
    let workers = workers().min(n);
    let multi = Handle::try_current()
        .map(|h| h.runtime_flavor() == RuntimeFlavor::MultiThread)
        .unwrap_or(false);
    if !multi || workers <= 1 {
        let jobs: Vec<Fut> = (0..n).map(&job).collect();
        let mut out = Vec::with_capacity(n);
        let mut results = futures::stream::iter(jobs).buffered(2);
        while let Some(r) = results.next().await {
            out.push(r?);
        }
        return Ok(out);
    }
    let handle = Handle::current();
    let slots: Vec<Mutex<Option<Result<T>>>> = (0..n).map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    tokio::task::block_in_place(|| {
        std::thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n || failed.load(Ordering::Relaxed) {
                        return;
                    }
                    let r = handle.block_on(job(i));
                    if r.is_err() {
                        failed.store(true, Ordering::Relaxed);
                    }
                    if let Ok(mut slot) = slots[i].lock() {
                        *slot = Some(r);
                    }
                });
            }
        });
    });
    let mut out = Vec::with_capacity(n);
    for (i, slot) in slots.into_iter().enumerate() {
        let r = slot.into_inner().ok().flatten();
        match r {
            Some(r) => out.push(r?),
            // Jobs are taken in order, so one skipped after a failure comes after that
            // failure, which was returned above.
            None => {
                return Err(HudiError::Internal {
                    what: format!("file group job {i} of {n} did not run"),
                })
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn job(i: usize, ran: &AtomicUsize) -> Result<usize> {
        ran.fetch_add(1, Ordering::Relaxed);
        tokio::task::yield_now().await;
        if i == 3 {
            return Err(HudiError::Internal {
                what: format!("job {i} failed"),
            });
        }
        Ok(i * 10)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn results_come_back_in_job_order_on_a_multi_threaded_runtime() {
        let ran = AtomicUsize::new(0);
        let out = each_file_group(3, |i| job(i, &ran)).await.unwrap();
        assert_eq!(out, vec![0, 10, 20]);
        assert_eq!(ran.load(Ordering::Relaxed), 3);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_first_failure_is_returned_and_later_jobs_may_be_skipped() {
        let ran = AtomicUsize::new(0);
        let e = each_file_group(100, |i| job(i, &ran)).await.unwrap_err();
        assert!(e.to_string().contains("job 3 failed"), "{e}");
        assert!(
            ran.load(Ordering::Relaxed) < 100,
            "jobs after the failure were skipped"
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_current_thread_runtime_runs_them_on_the_calling_task() {
        let ran = AtomicUsize::new(0);
        let out = each_file_group(5, |i| async move { Ok::<_, HudiError>(i + 1) })
            .await
            .unwrap();
        assert_eq!(out, vec![1, 2, 3, 4, 5]);
        let e = each_file_group(5, |i| job(i, &ran)).await.unwrap_err();
        assert!(e.to_string().contains("job 3 failed"), "{e}");
    }
}
