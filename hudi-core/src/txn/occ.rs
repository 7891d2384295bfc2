//! Optimistic concurrency control at the commit point, as Hudi 0.15's
//! `SimpleConcurrentFileWritesConflictResolutionStrategy` decides it: under the table lock the
//! timeline is loaded again, and the write fails with [`HudiError::WriteConflict`] when a file
//! group it wrote was also written by
//! - a commit, delta commit or replace commit that completed since the timeline the write is
//!   based on (Hudi: after the last one completed then, or pending then);
//! - a compaction or clustering planned after the write's instant, or one it did not see.
//!
//! A compaction the write saw planned before its instant is no conflict: it merges what came
//! before, and the write's logs start the slice after it.

use std::collections::BTreeSet;

use futures::future::BoxFuture;

use crate::error::{HudiError, Result};
use crate::fs_view::FileGroupId;
use crate::model::Action;
use crate::timeline::{Timeline, TimelineInstant};

use super::concurrency::HeartbeatConfig;
use super::lock::LockProvider;
use super::{CommitCandidate, CommitGuard, ConcurrencyPolicy};

/// Lock, reload, check: the policy of `optimistic_concurrency_control`. Table services take
/// the lock without the check (`check_conflicts: false`), as Hudi's do.
#[derive(Debug, Clone)]
pub struct Optimistic {
    pub lock: std::sync::Arc<dyn LockProvider>,
    pub heartbeat: HeartbeatConfig,
    pub check_conflicts: bool,
}

impl ConcurrencyPolicy for Optimistic {
    fn heartbeat(&self) -> Option<HeartbeatConfig> {
        Some(self.heartbeat)
    }

    fn pre_commit<'a>(&'a self, c: &'a CommitCandidate<'a>) -> BoxFuture<'a, Result<CommitGuard>> {
        Box::pin(async move {
            let lock = self.lock.acquire().await?;
            if self.check_conflicts {
                let checked = async {
                    let now = c.timeline.reload().await?;
                    check_still_ours(c, &now, self.heartbeat).await?;
                    check_conflicts(c, &now).await
                }
                .await;
                if let Err(e) = checked {
                    // The conflict is the error the caller must see, not a failed release.
                    if let Err(r) = lock.release().await {
                        log::warn!("releasing the lock after a refused commit: {r}");
                    }
                    return Err(e);
                }
            }
            Ok(CommitGuard::locked(lock))
        })
    }
}

/// Refuses to commit a write another writer has taken for a failed one: its instant is no
/// longer pending on `now` (rolled back), or its heartbeat expired (a rollback may be under
/// way), as Hudi's `abortIfHeartbeatExpired` refuses.
async fn check_still_ours(
    c: &CommitCandidate<'_>,
    now: &Timeline,
    heartbeat: HeartbeatConfig,
) -> Result<()> {
    let pending = now
        .pending()
        .any(|i| i.requested() == c.instant && i.action() == c.action);
    let at = chrono::Utc::now().timestamp_millis();
    let reason = if !pending {
        "it is no longer pending (another writer rolled it back)"
    } else if super::heartbeat::is_expired(c.storage, c.instant, heartbeat, at).await? {
        "its heartbeat expired (another writer may be rolling it back)"
    } else {
        return Ok(());
    };
    Err(HudiError::Refused {
        operation: format!("committing {}", c.instant),
        table: c.storage.location().to_string(),
        reason: reason.to_string(),
    })
}

/// Whether `i` (on the timeline `now`) is a candidate for a conflict with the write `c`: a
/// write that completed since the timeline the write is based on (by presence, not by
/// instant order: a writer may create an earlier instant late), or a compaction or
/// clustering that is planned after the write's instant, or that the write did not see.
fn is_candidate(c: &CommitCandidate<'_>, i: &TimelineInstant) -> bool {
    if i.requested() == c.instant {
        return false;
    }
    let based = c
        .timeline
        .instants()
        .iter()
        .find(|x| x.requested() == i.requested());
    let service = matches!(i.planned_action, Action::Compaction | Action::Clustering)
        || matches!(i.action(), Action::ReplaceCommit);
    if i.is_completed_write() {
        if based.is_some_and(|b| b.is_completed()) {
            return false;
        }
        // A compaction the write saw planned (before its instant) merged what came before:
        // the write's logs start the slice after it.
        let seen_compaction =
            i.planned_action == Action::Compaction && based.is_some() && i.requested() < c.instant;
        return !seen_compaction;
    }
    !i.is_completed() && service && (based.is_none() || i.requested() > c.instant)
}

/// Fails when a candidate instant on `now` touched a file group `c` touched.
pub async fn check_conflicts(c: &CommitCandidate<'_>, now: &Timeline) -> Result<()> {
    for i in now.instants().iter().filter(|i| is_candidate(c, i)) {
        let theirs = footprint(now, i).await?;
        let both: Vec<String> = c
            .touched
            .iter()
            .filter(|g| theirs.contains(*g))
            .map(|g| {
                if g.partition.is_empty() {
                    g.file_id.clone()
                } else {
                    format!("{}/{}", g.partition, g.file_id)
                }
            })
            .collect();
        if !both.is_empty() {
            return Err(HudiError::WriteConflict {
                instant: c.instant.to_string(),
                other: i.requested().to_string(),
                other_action: i.planned_action.to_string(),
                file_groups: both,
            });
        }
    }
    Ok(())
}

/// The file groups an instant wrote, replaced or plans to rewrite.
async fn footprint(tl: &Timeline, i: &TimelineInstant) -> Result<BTreeSet<FileGroupId>> {
    let group = |p: &str, f: &str| FileGroupId {
        partition: p.to_string(),
        file_id: f.to_string(),
    };
    let mut out = BTreeSet::new();
    if i.is_completed() {
        let meta = tl.commit_metadata(&i.instant).await?;
        for (p, s) in meta.write_stats() {
            if let Some(f) = s.file_id.as_deref() {
                out.insert(group(p, f));
            }
        }
        out.extend(meta.replaced_file_ids().map(|(p, f)| group(p, f)));
    } else if i.action() == Action::Compaction {
        for op in tl.compaction_plan(i.requested()).await?.operations {
            if let (Some(p), Some(f)) = (op.partition_path.as_deref(), op.file_id.as_deref()) {
                out.insert(group(p, f));
            }
        }
    } else if let Some(v) = crate::fs_view::pending::requested_replace(tl, i).await? {
        for g in v["clusteringPlan"]["inputGroups"]
            .as_array()
            .into_iter()
            .flatten()
        {
            for s in g["slices"].as_array().into_iter().flatten() {
                if let (Some(f), Some(p)) = (s["fileId"].as_str(), s["partitionPath"].as_str()) {
                    out.insert(group(p, f));
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use bytes::Bytes;

    use super::*;
    use crate::model::InstantTime;
    use crate::storage::Storage;
    use crate::txn::Transaction;

    fn occ(st: &Storage) -> Arc<Optimistic> {
        Arc::new(Optimistic {
            lock: Arc::new(crate::txn::lock::StorageLock {
                storage: st.clone(),
                config: crate::txn::concurrency::LockConfig {
                    path: ".hoodie/lock".into(),
                    expire: None,
                    wait: Duration::from_secs(5),
                    retry_wait: Duration::from_millis(5),
                },
            }),
            heartbeat: HeartbeatConfig {
                interval: Duration::from_secs(60),
                misses: 2,
            },
            check_conflicts: true,
        })
    }

    fn g(file_id: &str) -> FileGroupId {
        FileGroupId {
            partition: "p".into(),
            file_id: file_id.into(),
        }
    }

    fn wrote(file_id: &str) -> Bytes {
        Bytes::from(format!(
            r#"{{"partitionToWriteStats":{{"p":[{{"fileId":"{file_id}","path":"p/{file_id}_0-1-0_1.parquet"}}]}},"operationType":"UPSERT"}}"#
        ))
    }

    async fn begin(st: &Storage, tl: &Timeline, t: &str) -> Transaction {
        let t: InstantTime = t.parse().unwrap();
        let mut txn = Transaction::begin_at(st, tl, t, Action::Commit, Bytes::new(), occ(st))
            .await
            .unwrap();
        txn.start(Bytes::new()).await.unwrap();
        txn
    }

    #[tokio::test]
    async fn the_second_of_two_overlapping_writes_loses_and_disjoint_ones_both_commit() {
        let (st, tl) = crate::storage::test_support::memory_timeline().await;
        let mut a = begin(&st, &tl, "20250101000000001").await;
        let mut b = begin(&st, &tl, "20250101000000002").await;
        let mut c = begin(&st, &tl, "20250101000000003").await;
        // Each beats a heartbeat while it runs.
        assert!(st
            .exists(".hoodie/.heartbeat/20250101000000002")
            .await
            .unwrap());
        a.touch(g("f-0"));
        b.touch(g("f-0"));
        c.touch(g("f-1"));
        a.commit(wrote("f-0")).await.unwrap();
        assert!(!st
            .exists(".hoodie/.heartbeat/20250101000000001")
            .await
            .unwrap());
        let e = b.commit(wrote("f-0")).await.unwrap_err();
        match &e {
            HudiError::WriteConflict {
                instant,
                other,
                file_groups,
                ..
            } => {
                assert_eq!(instant, "20250101000000002");
                assert_eq!(other, "20250101000000001");
                assert_eq!(file_groups, &vec!["p/f-0".to_string()]);
            }
            e => panic!("{e}"),
        }
        assert!(!st.exists(".hoodie/20250101000000002.commit").await.unwrap());
        // The lock is free again, and the disjoint write commits.
        assert!(!st.exists(".hoodie/lock").await.unwrap());
        c.commit(wrote("f-1")).await.unwrap();
        // A write that began after a's commit does not conflict with it.
        let tl = tl.reload().await.unwrap();
        let mut d = begin(&st, &tl, "20250101000000004").await;
        d.touch(g("f-0"));
        d.commit(wrote("f-0")).await.unwrap();
        // A write another writer rolled back (its heartbeat had expired) does not commit.
        let tl = tl.reload().await.unwrap();
        let mut e = begin(&st, &tl, "20250101000000005").await;
        e.touch(g("f-2"));
        for f in ["inflight", "commit.requested"] {
            st.delete(&format!(".hoodie/20250101000000005.{f}"))
                .await
                .unwrap();
        }
        let err = e.commit(wrote("f-2")).await.unwrap_err();
        assert!(err.to_string().contains("no longer pending"), "{err}");
        assert!(!st.exists(".hoodie/20250101000000005.commit").await.unwrap());
    }
}
