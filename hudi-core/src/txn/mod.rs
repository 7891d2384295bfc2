//! The transaction core: every writer and table service commits through it.
//!
//! `begin` picks an instant after every existing one and creates its requested file, `start`
//! its inflight file, the operation writes its files (naming each file group it touches),
//! and `commit` creates the completed file — the commit point — then runs the post-commit
//! steps (markers removed). `timeline::transition` stays the only code that creates or
//! removes timeline files, and only `txn` calls it: [`instants`] has the changes that are not
//! a new instant's (archival, savepoint deletion, a restore's inner rollbacks). The commit point goes through a [`ConcurrencyPolicy`]: the one
//! place where a multi-writer policy takes a lock, reloads the timeline and checks for
//! conflicts ([`occ::Optimistic`]); a single writer ([`SingleWriter`]) needs none of that.
//! Under optimistic concurrency a write also beats a heartbeat from before its requested file
//! to its commit, so that other writers leave it alone.

pub mod concurrency;
pub mod heartbeat;
pub mod instants;
pub mod lock;
pub mod markers;
pub mod mutation;
pub mod occ;
pub mod rollback;

use std::collections::BTreeSet;
use std::sync::Arc;

use bytes::Bytes;
use futures::future::BoxFuture;

use crate::error::Result;
use crate::fs_view::FileGroupId;
use crate::model::{Action, InstantTime};
use crate::storage::Storage;
use crate::timeline::transition::{instant_after, next_instant, Clock, Transitions};
use crate::timeline::Timeline;

use concurrency::{ConcurrencyConfig, HeartbeatConfig};
use heartbeat::Heartbeat;
use lock::TableLock;

/// What a transaction knows at its commit point, for a concurrency policy to check.
#[derive(Debug)]
pub struct CommitCandidate<'a> {
    pub storage: &'a Storage,
    /// The timeline as the transaction began.
    pub timeline: &'a Timeline,
    pub instant: &'a InstantTime,
    pub action: Action,
    pub touched: &'a BTreeSet<FileGroupId>,
}

/// How concurrent writers are kept apart at the commit point.
pub trait ConcurrencyPolicy: Send + Sync + std::fmt::Debug {
    /// Runs right before the completed file is created; an error aborts the commit (the
    /// caller then rolls the transaction back). The guard is held until the commit is done.
    fn pre_commit<'a>(
        &'a self,
        candidate: &'a CommitCandidate<'a>,
    ) -> BoxFuture<'a, Result<CommitGuard>>;

    /// The heartbeat a write beats while it runs, if the policy keeps them.
    fn heartbeat(&self) -> Option<HeartbeatConfig> {
        None
    }
}

/// What a policy holds through a commit (the table lock, under optimistic concurrency).
#[derive(Debug, Default)]
pub struct CommitGuard {
    lock: Option<Box<dyn TableLock>>,
}

impl CommitGuard {
    pub fn locked(lock: Box<dyn TableLock>) -> Self {
        CommitGuard { lock: Some(lock) }
    }

    async fn release(self) -> Result<()> {
        match self.lock {
            Some(l) => l.release().await,
            None => Ok(()),
        }
    }
}

/// One writer at a time (Hudi's default `SINGLE_WRITER` mode): nothing to check.
#[derive(Debug, Default, Clone, Copy)]
pub struct SingleWriter;

impl ConcurrencyPolicy for SingleWriter {
    fn pre_commit<'a>(&'a self, _: &'a CommitCandidate<'a>) -> BoxFuture<'a, Result<CommitGuard>> {
        Box::pin(async { Ok(CommitGuard::default()) })
    }
}

/// The policy of a configuration: a writer checks conflicts, a table service only locks.
pub fn policy(
    storage: &Storage,
    cc: &ConcurrencyConfig,
    check_conflicts: bool,
) -> Arc<dyn ConcurrencyPolicy> {
    match cc.lock_provider(storage) {
        None => Arc::new(SingleWriter),
        Some(lock) => Arc::new(occ::Optimistic {
            lock,
            heartbeat: cc.heartbeat,
            check_conflicts: check_conflicts
                && !crate::storage::failpoint::conflict_check_skipped(),
        }),
    }
}

/// Runs `f` under the table lock when `options` ask for optimistic concurrency control (a
/// table service beside concurrent writers: clean, archival, compaction), else as it is.
pub async fn under_table_lock<T>(
    storage: &Storage,
    options: &std::collections::BTreeMap<String, String>,
    f: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    locked(
        storage,
        &ConcurrencyConfig::from_options(storage, options)?,
        f,
    )
    .await
}

/// Runs `f` under the table lock of `cc` (as it is without one).
pub async fn locked<T>(
    storage: &Storage,
    cc: &ConcurrencyConfig,
    f: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    let Some(provider) = cc.lock_provider(storage) else {
        return f.await;
    };
    let lock = provider.acquire().await?;
    let out = f.await;
    let released = lock.release().await;
    let out = out?;
    released.map(|()| out)
}

/// An instant in progress.
#[derive(Debug)]
pub struct Transaction {
    storage: Storage,
    timeline: Timeline,
    instant: InstantTime,
    action: Action,
    touched: BTreeSet<FileGroupId>,
    policy: Arc<dyn ConcurrencyPolicy>,
    heartbeat: Option<Heartbeat>,
}

/// A completed transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committed {
    pub instant: InstantTime,
    pub action: Action,
    pub touched: BTreeSet<FileGroupId>,
}

impl Transaction {
    /// Begins an instant of `action` after every instant on `timeline` (by the clock, or 1 ms
    /// after the latest): creates `T.<action>.requested` with `requested` as its content. An
    /// instant another writer took in the meantime ([`crate::HudiError::InstantConflict`]) is
    /// passed over for a later one (a few times).
    pub async fn begin(
        storage: &Storage,
        timeline: &Timeline,
        action: Action,
        requested: Bytes,
        clock: &dyn Clock,
        policy: Arc<dyn ConcurrencyPolicy>,
    ) -> Result<Transaction> {
        let mut instant = next_instant(timeline, clock);
        for _ in 0..16 {
            let t = instant.clone();
            match Self::begin_at(
                storage,
                timeline,
                t,
                action,
                requested.clone(),
                policy.clone(),
            )
            .await
            {
                Err(crate::HudiError::InstantConflict { .. }) => {
                    instant = next_instant(timeline, clock).max(instant_after(&instant));
                }
                done => return done,
            }
        }
        Self::begin_at(storage, timeline, instant, action, requested, policy).await
    }

    /// Begins at an instant chosen beforehand with [`next_instant`] (a writer names its files
    /// after it while planning, before anything is created).
    pub async fn begin_at(
        storage: &Storage,
        timeline: &Timeline,
        instant: InstantTime,
        action: Action,
        requested: Bytes,
        policy: Arc<dyn ConcurrencyPolicy>,
    ) -> Result<Transaction> {
        let heartbeat = match policy.heartbeat() {
            Some(hb) => Some(Heartbeat::start(storage, &instant, hb).await?),
            None => None,
        };
        Transitions::new(storage, timeline)
            .request(&instant, action, requested)
            .await?;
        let mut txn = Self::resume(storage, timeline, instant, action, policy);
        txn.heartbeat = heartbeat;
        Ok(txn)
    }

    /// Begins an instant Hudi creates without a requested state: a savepoint of the existing
    /// commit `instant` (`T.savepoint.inflight`, then `T.savepoint`).
    pub async fn begin_inflight(
        storage: &Storage,
        timeline: &Timeline,
        instant: InstantTime,
        action: Action,
        inflight: Bytes,
        policy: Arc<dyn ConcurrencyPolicy>,
    ) -> Result<Transaction> {
        Transitions::new(storage, timeline)
            .inflight(&instant, action, inflight)
            .await?;
        Ok(Self::resume(storage, timeline, instant, action, policy))
    }

    /// Resumes an instant whose requested file exists (a scheduled compaction or clean, a
    /// rollback plan): nothing is created.
    pub fn resume(
        storage: &Storage,
        timeline: &Timeline,
        instant: InstantTime,
        action: Action,
        policy: Arc<dyn ConcurrencyPolicy>,
    ) -> Transaction {
        Transaction {
            storage: storage.clone(),
            timeline: timeline.clone(),
            instant,
            action,
            touched: BTreeSet::new(),
            policy,
            heartbeat: None,
        }
    }

    pub fn instant(&self) -> &InstantTime {
        &self.instant
    }

    pub fn action(&self) -> Action {
        self.action
    }

    pub fn storage(&self) -> &Storage {
        &self.storage
    }

    /// The timeline as the transaction began.
    pub fn timeline(&self) -> &Timeline {
        &self.timeline
    }

    /// Creates the inflight file (the write's workload profile, a plan's copy, or empty).
    /// Beside concurrent writers, refused when another writer rolled the instant back.
    pub async fn start(&mut self, inflight: Bytes) -> Result<()> {
        if self.heartbeat.is_some() {
            let requested = crate::model::Instant::new(
                self.instant.clone(),
                self.action,
                crate::model::State::Requested,
            );
            if !self
                .storage
                .exists(&self.timeline.instant_path(&requested))
                .await?
            {
                return Err(crate::HudiError::Refused {
                    operation: format!("starting {}", self.instant),
                    table: self.storage.location().to_string(),
                    reason: "another writer rolled it back (its heartbeat had expired)".into(),
                });
            }
        }
        Transitions::new(&self.storage, &self.timeline)
            .inflight(&self.instant, self.action, inflight)
            .await
            .map(|_| ())
    }

    /// Bases the transaction on a later load of the timeline (what the write read): conflicts
    /// are looked for among instants that completed after it.
    pub fn rebase(&mut self, timeline: Timeline) {
        self.timeline = timeline;
    }

    /// Records that the transaction writes (or replaces) a file group.
    pub fn touch(&mut self, group: FileGroupId) {
        self.touched.insert(group);
    }

    pub fn touched(&self) -> &BTreeSet<FileGroupId> {
        &self.touched
    }

    /// Removes the timeline files of the pending instant this transaction rolls back (a
    /// rollback or restore retires its target before it completes).
    pub async fn retire(&self, target: &InstantTime, action: Action) -> Result<()> {
        Transitions::new(&self.storage, &self.timeline)
            .remove_pending(target, action)
            .await
    }

    /// Gives the instant up before anything was written under it: its timeline files and its
    /// heartbeat go.
    pub async fn abandon(mut self) -> Result<()> {
        Transitions::new(&self.storage, &self.timeline)
            .remove_pending(&self.instant, self.action)
            .await?;
        match self.heartbeat.take() {
            Some(hb) => hb.stop().await,
            None => Ok(()),
        }
    }

    /// Takes this transaction's inflight instant back to requested, after its files of an
    /// earlier, failed attempt were removed.
    pub async fn revert_to_requested(&self) -> Result<()> {
        Transitions::new(&self.storage, &self.timeline)
            .revert_to_requested(&self.instant, self.action)
            .await
    }

    /// The commit point: the policy's check, then the completed file with `completed` as its
    /// content, then the instant's markers are removed.
    pub async fn commit(mut self, completed: Bytes) -> Result<Committed> {
        let heartbeat = self.heartbeat.take();
        let candidate = CommitCandidate {
            storage: &self.storage,
            timeline: &self.timeline,
            instant: &self.instant,
            action: self.action,
            touched: &self.touched,
        };
        let guard = self.policy.pre_commit(&candidate).await?;
        let completed = Transitions::new(&self.storage, &self.timeline)
            .complete(&self.instant, self.action, completed)
            .await;
        if completed.is_ok() {
            // Past the commit point nothing may report the commit as failed: what is left
            // over (markers, a heartbeat) the next writer removes.
            if let Err(e) = markers::delete_markers(&self.storage, &self.instant).await {
                log::warn!("removing the markers of {}: {e}", self.instant);
            }
            if let Some(hb) = heartbeat {
                if let Err(e) = hb.stop().await {
                    log::warn!("removing the heartbeat of {}: {e}", self.instant);
                }
            }
        }
        let released = guard.release().await;
        completed?;
        if let Err(e) = released {
            log::warn!("releasing the lock after committing {}: {e}", self.instant);
        }
        Ok(Committed {
            instant: self.instant,
            action: self.action,
            touched: self.touched,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timeline::transition::FixedClock;

    /// A policy that refuses every commit touching a given file group.
    #[derive(Debug)]
    struct Refuse(FileGroupId);

    impl ConcurrencyPolicy for Refuse {
        fn pre_commit<'a>(
            &'a self,
            c: &'a CommitCandidate<'a>,
        ) -> BoxFuture<'a, Result<CommitGuard>> {
            Box::pin(async move {
                if c.touched.contains(&self.0) {
                    return Err(crate::HudiError::Internal {
                        what: format!("refused {}", c.instant),
                    });
                }
                Ok(CommitGuard::default())
            })
        }
    }

    #[tokio::test]
    async fn begins_after_every_instant_and_commits_through_the_policy() {
        let (st, tl) = crate::storage::test_support::memory_timeline().await;
        let clock = FixedClock(chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap());
        let mut a = Transaction::begin(
            &st,
            &tl,
            Action::Commit,
            Bytes::new(),
            &clock,
            Arc::new(SingleWriter),
        )
        .await
        .unwrap();
        a.start(Bytes::new()).await.unwrap();
        let g = FileGroupId {
            partition: "p".into(),
            file_id: "f-0".into(),
        };
        a.touch(g.clone());
        let done = a.commit(Bytes::from_static(b"{}")).await.unwrap();
        assert_eq!(done.instant.as_str(), "20231114221320000");
        assert!(st.exists(".hoodie/20231114221320000.commit").await.unwrap());
        // The same clock: the next instant is 1 ms later.
        let tl = tl.reload().await.unwrap();
        let mut b = Transaction::begin(
            &st,
            &tl,
            Action::Commit,
            Bytes::new(),
            &clock,
            Arc::new(Refuse(g.clone())),
        )
        .await
        .unwrap();
        assert_eq!(b.instant().as_str(), "20231114221320001");
        b.touch(g);
        let e = b.commit(Bytes::new()).await.unwrap_err();
        assert!(e.to_string().contains("refused"), "{e}");
        assert!(!st.exists(".hoodie/20231114221320001.commit").await.unwrap());
        // An instant someone else holds is a typed conflict; `begin` passes over it.
        let taken: InstantTime = "20231114221320001".parse().unwrap();
        let e = Transaction::begin_at(
            &st,
            &tl,
            taken,
            Action::Commit,
            Bytes::new(),
            Arc::new(SingleWriter),
        )
        .await
        .unwrap_err();
        assert!(matches!(e, crate::HudiError::InstantConflict { .. }), "{e}");
        let c = Transaction::begin(
            &st,
            &tl,
            Action::Commit,
            Bytes::new(),
            &clock,
            Arc::new(SingleWriter),
        )
        .await
        .unwrap();
        assert_eq!(c.instant().as_str(), "20231114221320002");
    }
}
