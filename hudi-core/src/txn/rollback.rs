//! Rolling back failed writes: a pending (requested or inflight) write instant's data files
//! are found through its markers (and, as a safety net, by their instant in the file name),
//! deleted, its timeline files removed, and a rollback instant recorded as Hudi does:
//! `R.rollback.requested` (plan) → `R.rollback.inflight` → `R.rollback` (metadata).

use std::collections::BTreeMap;
use std::time::Instant as Clock0;

use bytes::Bytes;

use crate::error::{HudiError, Result};
use crate::fs_view::list_partitions;
use crate::model::avro_instants::{
    encode_rollback_metadata, encode_rollback_plan, RollbackPlan, RollbackRequest,
};
use crate::model::metadata::{
    decode_json_or_avro, InstantInfo, RollbackMetadata, RollbackPartitionMetadata,
};
use crate::model::{Action, DataFileName, Instant, InstantTime, State};
use crate::storage::Storage;
use crate::timeline::transition::{next_instant, Clock};
use crate::timeline::{Timeline, TimelineInstant};

use super::markers::{delete_markers, marked_files};
use super::{SingleWriter, Transaction};
use std::sync::Arc;

/// What one rollback did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollbackOutcome {
    pub rolled_back: InstantTime,
    pub action: Action,
    pub rollback_instant: InstantTime,
    pub files_deleted: usize,
}

fn avro_err(t: &InstantTime, what: &'static str, reason: String) -> HudiError {
    HudiError::InstantMetadata {
        instant: t.to_string(),
        path: String::new(),
        what,
        reason,
    }
}

/// Whether a pending instant is an ingestion write that the next writer must roll back
/// (pending compactions and clustering are retried, not rolled back).
pub async fn is_rollbackable_write(timeline: &Timeline, i: &TimelineInstant) -> Result<bool> {
    if i.is_completed() {
        return Ok(false);
    }
    match i.action() {
        Action::Commit | Action::DeltaCommit => Ok(true),
        Action::ReplaceCommit => Ok(!crate::fs_view::pending::is_clustering(timeline, i).await?),
        _ => Ok(false),
    }
}

/// What a pending instant left: files to delete, and log files that also hold other
/// instants' blocks (written by an appending writer), which get a rollback command block.
#[derive(Debug, Default)]
struct FailedFiles {
    delete: Vec<String>,
    /// (relative path, size) of shared log files.
    shared_logs: Vec<(String, u64)>,
}

/// Finds the files of a pending instant: those its markers name, plus base files carrying its
/// instant in their name. A marked log file is deleted only if every block in it belongs to
/// the failed instant.
async fn files_of(storage: &Storage, t: &InstantTime) -> Result<FailedFiles> {
    let mut out = FailedFiles::default();
    for f in marked_files(storage, t).await? {
        let name = f.rsplit('/').next().unwrap_or_default();
        if !matches!(DataFileName::classify(name), Some(Ok(DataFileName::Log(_)))) {
            out.delete.push(f);
            continue;
        }
        let bytes = match storage.get(&f).await {
            Ok(b) => b,
            Err(HudiError::NotFound { .. }) => continue,
            Err(e) => return Err(e),
        };
        let walk = crate::io::log_block::walk(&bytes);
        if walk
            .blocks
            .iter()
            .all(|b| b.instant_time() == Some(t.as_str()))
        {
            out.delete.push(f);
        } else {
            out.shared_logs.push((f, bytes.len() as u64));
        }
    }
    for (_, listed) in list_partitions(storage).await? {
        for f in listed {
            if let Some(Ok(DataFileName::Base(b))) = DataFileName::classify(&f.name) {
                if &b.instant == t {
                    out.delete.push(f.path.clone());
                }
            }
        }
    }
    out.delete.sort();
    out.delete.dedup();
    Ok(out)
}

/// Appends a rollback command block for `target` as a new log version next to `log_rel`;
/// returns the new file's relative path and size.
async fn append_rollback_block(
    storage: &Storage,
    log_rel: &str,
    r: &InstantTime,
    target: &InstantTime,
) -> Result<(String, u64)> {
    use crate::io::log_block::{encode_block, BlockType, HeaderKey};
    let (dir, name) = match log_rel.rsplit_once('/') {
        Some((d, n)) => (format!("{d}/"), n),
        None => (String::new(), log_rel),
    };
    let log = crate::model::LogFileName::parse(name)?;
    let siblings = storage.list_dir(dir.trim_end_matches('/')).await?;
    let max_version = siblings
        .files
        .iter()
        .filter_map(|f| crate::model::LogFileName::parse(&f.name).ok())
        .filter(|l| l.file_id == log.file_id && l.instant == log.instant)
        .map(|l| l.version)
        .max()
        .unwrap_or(log.version);
    let new = crate::model::LogFileName {
        version: max_version + 1,
        write_token: Some("1-0-1".into()),
        ..log
    };
    let mut header = BTreeMap::new();
    header.insert(HeaderKey::InstantTime, r.to_string());
    header.insert(HeaderKey::TargetInstantTime, target.to_string());
    header.insert(HeaderKey::CommandBlockType, "0".to_string());
    let block = encode_block(BlockType::Command, &header, &[]);
    let rel = format!("{dir}{new}");
    let size = block.len() as u64;
    storage.put_if_absent(&rel, Bytes::from(block)).await?;
    Ok((rel, size))
}

/// The table-relative path of a file named in a rollback plan. Plans hold full paths in the
/// writer's own form (`/abs/t/p/f`, `file:/abs/t/p/f`, `s3a://b/t/p/f` for an `s3://` table),
/// so the scheme is normalised before matching the table's location.
fn table_relative(location: &str, full: &str) -> Option<String> {
    fn norm(s: &str) -> String {
        let s = s
            .strip_prefix("file://")
            .or_else(|| s.strip_prefix("file:"))
            .unwrap_or(s);
        let s = s
            .replacen("s3a://", "s3://", 1)
            .replacen("s3n://", "s3://", 1);
        let s = s.replacen("abfss://", "abfs://", 1);
        // Collapse repeated leading slashes left by `file:///`.
        let trimmed = s.trim_start_matches('/');
        if s.starts_with('/') {
            format!("/{trimmed}")
        } else {
            s
        }
    }
    let base = format!("{}/", norm(location).trim_end_matches('/'));
    norm(full).strip_prefix(&base).map(String::from)
}

fn partition_of(path: &str) -> String {
    path.rsplit_once('/')
        .map(|(p, _)| p.to_string())
        .unwrap_or_default()
}

/// Executes a rollback whose plan is on the timeline (new or interrupted).
async fn execute(mut txn: Transaction, plan: &RollbackPlan) -> Result<RollbackOutcome> {
    let storage = &txn.storage().clone();
    let timeline = &txn.timeline().clone();
    let r = &txn.instant().clone();
    let started = Clock0::now();
    let target = plan
        .instant_to_rollback
        .as_ref()
        .ok_or_else(|| avro_err(r, "rollback plan", "no instantToRollback".into()))?;
    let t = InstantTime::parse(&target.commit_time)?;
    let action = Action::from_token(&target.action).ok_or_else(|| {
        avro_err(
            r,
            "rollback plan",
            format!("unknown action {}", target.action),
        )
    })?;
    let inflight = Instant::new(r.clone(), Action::Rollback, State::Inflight);
    if !storage.exists(&timeline.instant_path(&inflight)).await? {
        txn.start(Bytes::new()).await?;
    }
    // Never roll back an instant that has completed in the meantime (that is a restore).
    let completed = Instant::new(t.clone(), action.completed_action(), State::Completed);
    if storage.exists(&timeline.instant_path(&completed)).await? {
        return Err(HudiError::Unsupported {
            path: storage.display(&timeline.instant_path(&completed)),
            feature: format!("rolling back the completed instant {t} (restore) in rollback {r}"),
        });
    }
    let mut partitions: BTreeMap<String, RollbackPartitionMetadata> = BTreeMap::new();
    let mut deleted = 0usize;
    for req in plan.requests.iter().flatten() {
        let pm = partitions
            .entry(req.partition_path.clone())
            .or_insert_with(|| RollbackPartitionMetadata {
                partition_path: req.partition_path.clone(),
                // Java always writes both maps, empty when there are no log files.
                rollback_log_files: Some(BTreeMap::new()),
                log_files_from_failed_commit: Some(BTreeMap::new()),
                ..Default::default()
            });
        for (f, size) in req.log_blocks_to_be_deleted.iter().flatten() {
            let rel = table_relative(storage.location(), f).ok_or_else(|| {
                HudiError::InvalidLocation {
                    location: f.clone(),
                    reason: format!("rollback plan of {r} names a file outside the table"),
                }
            })?;
            let (new_rel, new_size) = append_rollback_block(storage, &rel, r, &t).await?;
            pm.rollback_log_files
                .get_or_insert_with(BTreeMap::new)
                .insert(storage.display(&new_rel), new_size as i64);
            pm.log_files_from_failed_commit
                .get_or_insert_with(BTreeMap::new)
                .insert(f.clone(), *size);
        }
        for f in &req.files_to_be_deleted {
            let rel = table_relative(storage.location(), f).ok_or_else(|| {
                HudiError::InvalidLocation {
                    location: f.clone(),
                    reason: format!("rollback plan of {r} names a file outside the table"),
                }
            })?;
            // A delete that fails (other than on a missing file) stops the rollback unfinished:
            // the next writer retries it, and the failed instant stays pending meanwhile.
            storage.delete(&rel).await?;
            pm.success_delete_files.push(f.clone());
            deleted += 1;
        }
    }
    // The failed instant disappears from the timeline before the rollback completes.
    txn.retire(&t, action).await?;
    let meta = RollbackMetadata {
        start_rollback_time: r.to_string(),
        time_taken_in_millis: started.elapsed().as_millis() as i64,
        total_files_deleted: deleted as i32,
        commits_rollback: vec![t.to_string()],
        partition_metadata: partitions,
        version: Some(1),
        instants_rollback: vec![target.clone()],
    };
    let bytes = encode_rollback_metadata(&meta).map_err(|e| avro_err(r, "rollback metadata", e))?;
    txn.commit(Bytes::from(bytes)).await?;
    delete_markers(storage, &t).await?;
    Ok(RollbackOutcome {
        rolled_back: t,
        action,
        rollback_instant: r.clone(),
        files_deleted: deleted,
    })
}

/// Rolls back one pending write instant.
pub async fn rollback_instant(
    storage: &Storage,
    timeline: &Timeline,
    target: &TimelineInstant,
    clock: &dyn Clock,
) -> Result<RollbackOutcome> {
    let t = target.requested().clone();
    let failed = files_of(storage, &t).await?;
    let mut requests: Vec<RollbackRequest> = Vec::new();
    let mut by_partition: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in failed.delete {
        by_partition
            .entry(partition_of(&f))
            .or_default()
            .push(storage.display(&f));
    }
    for (p, files) in by_partition {
        requests.push(RollbackRequest {
            partition_path: p,
            file_id: Some(String::new()),
            latest_base_instant: Some(String::new()),
            files_to_be_deleted: files,
            log_blocks_to_be_deleted: Some(BTreeMap::new()),
        });
    }
    for (log, size) in failed.shared_logs {
        let name = log.rsplit('/').next().unwrap_or_default();
        let parsed = crate::model::LogFileName::parse(name)?;
        requests.push(RollbackRequest {
            partition_path: partition_of(&log),
            file_id: Some(parsed.file_id.clone()),
            latest_base_instant: Some(parsed.instant.to_string()),
            files_to_be_deleted: Vec::new(),
            log_blocks_to_be_deleted: Some(BTreeMap::from([(storage.display(&log), size as i64)])),
        });
    }
    let plan = RollbackPlan {
        instant_to_rollback: Some(InstantInfo {
            commit_time: t.to_string(),
            action: target.action().to_string(),
        }),
        requests: Some(requests),
        version: Some(1),
    };
    let r = next_instant(timeline, clock);
    let bytes = encode_rollback_plan(&plan).map_err(|e| avro_err(&r, "rollback plan", e))?;
    let txn = Transaction::begin_at(
        storage,
        timeline,
        r,
        Action::Rollback,
        Bytes::from(bytes),
        Arc::new(SingleWriter),
    )
    .await?;
    execute(txn, &plan).await
}

/// Finishes interrupted rollbacks, then rolls back every pending ingestion write (Hudi's
/// EAGER failed-writes policy for a single writer). Returns what was rolled back.
pub async fn rollback_failed_writes(
    storage: &Storage,
    timeline: &Timeline,
    clock: &dyn Clock,
) -> Result<Vec<RollbackOutcome>> {
    let mut out = Vec::new();
    for i in timeline
        .pending()
        .filter(|i| i.action() == Action::Rollback)
    {
        let req = Instant::new(i.requested().clone(), Action::Rollback, State::Requested);
        let bytes = timeline.read(&req).await?;
        let plan: RollbackPlan =
            decode_json_or_avro(&bytes).map_err(|e| avro_err(i.requested(), "rollback plan", e))?;
        let txn = Transaction::resume(
            storage,
            timeline,
            i.requested().clone(),
            Action::Rollback,
            Arc::new(SingleWriter),
        );
        out.push(execute(txn, &plan).await?);
    }
    let mut timeline = timeline.clone();
    if !out.is_empty() {
        timeline = timeline.reload().await?;
    }
    let pending: Vec<TimelineInstant> = timeline.pending().cloned().collect();
    for i in pending {
        if is_rollbackable_write(&timeline, &i).await? {
            out.push(rollback_instant(storage, &timeline, &i, clock).await?);
            timeline = timeline.reload().await?;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::table_relative;

    #[test]
    fn plan_paths_in_other_forms_resolve_to_the_table() {
        let rel = |l: &str, f: &str| table_relative(l, f);
        assert_eq!(
            rel("/opt/t", "/opt/t/p=1/f.parquet").as_deref(),
            Some("p=1/f.parquet")
        );
        assert_eq!(
            rel("/opt/t", "file:/opt/t/f.parquet").as_deref(),
            Some("f.parquet")
        );
        assert_eq!(
            rel("/opt/t", "file:///opt/t/a/.f_1.log.1_0-1-2").as_deref(),
            Some("a/.f_1.log.1_0-1-2")
        );
        assert_eq!(rel("s3://b/t", "s3a://b/t/p/f").as_deref(), Some("p/f"));
        assert_eq!(rel("/opt/t", "/opt/other/f"), None);
        assert_eq!(rel("/opt/t", "/opt/tt/f"), None);
    }
}
