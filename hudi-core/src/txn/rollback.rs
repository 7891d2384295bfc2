//! Rolling back an instant: its data files are found (a pending write's through its markers,
//! a completed instant's through its commit metadata; base files carrying its instant in
//! their name as a safety net), deleted (a log file that also holds other instants' blocks
//! gets a rollback command block instead), its timeline files removed, and a rollback
//! instant recorded as Hudi does: `R.rollback.requested` (plan) → `R.rollback.inflight` →
//! `R.rollback` (metadata). A completed instant stops being visible first: its completed
//! file goes before any data file. Writers roll back failed writes here (below `write`);
//! the rollback service and restore build on `plan_for` and `apply`.

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
use crate::timeline::transition::{Clock, Transitions};
use crate::timeline::{Timeline, TimelineInstant};

use super::concurrency::{ConcurrencyConfig, HeartbeatConfig};
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

/// What an instant wrote: files to delete, and log files that also hold other instants'
/// blocks (written by an appending writer), which get a rollback command block.
#[derive(Debug, Default)]
pub(crate) struct RollbackFiles {
    delete: Vec<String>,
    /// (relative path, size) of shared log files.
    shared_logs: Vec<(String, u64)>,
}

impl RollbackFiles {
    /// Sorts a candidate: a log file whose blocks all belong to `t` is deleted, one holding
    /// other instants' blocks too is shared; other files are deleted.
    async fn add(&mut self, storage: &Storage, t: &InstantTime, rel: String) -> Result<()> {
        let name = rel.rsplit('/').next().unwrap_or_default();
        if !matches!(DataFileName::classify(name), Some(Ok(DataFileName::Log(_)))) {
            self.delete.push(rel);
            return Ok(());
        }
        let bytes = match storage.get(&rel).await {
            Ok(b) => b,
            Err(HudiError::NotFound { .. }) => return Ok(()),
            Err(e) => return Err(e),
        };
        let walk = crate::io::log_block::walk(&bytes);
        if walk
            .blocks
            .iter()
            .all(|b| b.instant_time() == Some(t.as_str()))
        {
            self.delete.push(rel);
        } else {
            self.shared_logs.push((rel, bytes.len() as u64));
        }
        Ok(())
    }

    /// Adds the base files named after `t` (a crashed writer may not have marked them all).
    async fn add_named_base_files(&mut self, storage: &Storage, t: &InstantTime) -> Result<()> {
        for (_, listed) in list_partitions(storage).await? {
            for f in listed {
                if let Some(Ok(DataFileName::Base(b))) = DataFileName::classify(&f.name) {
                    if &b.instant == t {
                        self.delete.push(f.path.clone());
                    }
                }
            }
        }
        self.delete.sort();
        self.delete.dedup();
        Ok(())
    }
}

/// The files of a pending instant: those its markers name, plus base files carrying its
/// instant in their name.
pub(crate) async fn files_of_pending(storage: &Storage, t: &InstantTime) -> Result<RollbackFiles> {
    let mut out = RollbackFiles::default();
    for f in marked_files(storage, t).await? {
        out.add(storage, t, f).await?;
    }
    out.add_named_base_files(storage, t).await?;
    Ok(out)
}

/// The files of a completed instant: those its commit metadata names (its markers are gone),
/// plus base files carrying its instant in their name.
pub(crate) async fn files_of_completed(
    storage: &Storage,
    timeline: &Timeline,
    target: &TimelineInstant,
) -> Result<RollbackFiles> {
    let t = target.requested();
    let meta = timeline.commit_metadata(&target.instant).await?;
    let mut out = RollbackFiles::default();
    for (_, stat) in meta.write_stats() {
        if let Some(path) = stat.path.as_deref().filter(|p| !p.is_empty()) {
            out.add(storage, t, path.trim_start_matches('/').to_string())
                .await?;
        }
    }
    out.add_named_base_files(storage, t).await?;
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

fn partition_of(path: &str) -> String {
    path.rsplit_once('/')
        .map(|(p, _)| p.to_string())
        .unwrap_or_default()
}

/// The instant a rollback plan targets, and the action it names.
fn plan_target(r: &InstantTime, plan: &RollbackPlan) -> Result<(InstantTime, Action)> {
    let target = plan.instant_to_rollback.as_ref().ok_or_else(|| {
        HudiError::instant_content(r, "rollback plan", "no instantToRollback".into())
    })?;
    let t = InstantTime::parse(&target.commit_time)?;
    let action = Action::from_token(&target.action).ok_or_else(|| {
        HudiError::instant_content(
            r,
            "rollback plan",
            format!("unknown action {}", target.action),
        )
    })?;
    Ok((t, action))
}

fn plan_path(storage: &Storage, r: &InstantTime, f: &str) -> Result<String> {
    storage
        .relative(f)
        .ok_or_else(|| HudiError::InvalidLocation {
            location: f.to_string(),
            reason: format!("rollback plan of {r} names a file outside the table"),
        })
}

/// Carries out a rollback plan under the name `r`: the target stops being visible (its
/// completed file goes), its files are deleted or get command blocks, its remaining timeline
/// files and markers go. Returns the rollback metadata; the caller records it (a rollback
/// instant, or a restore). Safe to run again after an interruption.
pub(crate) async fn apply(
    storage: &Storage,
    timeline: &Timeline,
    r: &InstantTime,
    plan: &RollbackPlan,
) -> Result<RollbackMetadata> {
    let started = Clock0::now();
    let (t, action) = plan_target(r, plan)?;
    let transitions = Transitions::new(storage, timeline);
    let current = timeline.instants().iter().find(|i| i.requested() == &t);
    if let Some(ti) = current {
        transitions.uncomplete(ti).await?;
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
            let rel = plan_path(storage, r, f)?;
            let (new_rel, new_size) = append_rollback_block(storage, &rel, r, &t).await?;
            pm.rollback_log_files
                .get_or_insert_with(BTreeMap::new)
                .insert(storage.display(&new_rel), new_size as i64);
            pm.log_files_from_failed_commit
                .get_or_insert_with(BTreeMap::new)
                .insert(f.clone(), *size);
        }
        for f in &req.files_to_be_deleted {
            let rel = plan_path(storage, r, f)?;
            // A delete that fails (other than on a missing file) stops the rollback unfinished:
            // it runs again from its plan, and the instant stays pending meanwhile.
            storage.delete(&rel).await?;
            pm.success_delete_files.push(f.clone());
            deleted += 1;
        }
    }
    // The instant disappears from the timeline before the rollback completes.
    let planned = current.map(|i| i.planned_action).unwrap_or(action);
    transitions.remove_pending(&t, planned).await?;
    delete_markers(storage, &t).await?;
    super::heartbeat::delete(storage, &t).await?;
    Ok(RollbackMetadata {
        start_rollback_time: r.to_string(),
        time_taken_in_millis: started.elapsed().as_millis() as i64,
        total_files_deleted: deleted as i32,
        commits_rollback: vec![t.to_string()],
        partition_metadata: partitions,
        version: Some(1),
        instants_rollback: plan.instant_to_rollback.iter().cloned().collect(),
    })
}

/// Executes a rollback whose plan is on the timeline (new or interrupted). Unless
/// `completed_target` says the plan was made for a completed instant, a target that has
/// completed in the meantime is refused: it was a live writer, not a failed one.
async fn execute(
    mut txn: Transaction,
    plan: &RollbackPlan,
    completed_target: bool,
) -> Result<RollbackOutcome> {
    let storage = &txn.storage().clone();
    let timeline = &txn.timeline().clone();
    let r = &txn.instant().clone();
    let (t, action) = plan_target(r, plan)?;
    let inflight = Instant::new(r.clone(), Action::Rollback, State::Inflight);
    if !storage.exists(&timeline.instant_path(&inflight)).await? {
        txn.start(Bytes::new()).await?;
    }
    if !completed_target {
        let completed = Instant::new(t.clone(), action.completed_action(), State::Completed);
        if storage.exists(&timeline.instant_path(&completed)).await? {
            return Err(HudiError::Unsupported {
                path: storage.display(&timeline.instant_path(&completed)),
                feature: format!(
                    "rolling back {t} in rollback {r}: it completed after the rollback was planned"
                ),
            });
        }
    }
    let meta = apply(storage, timeline, r, plan).await?;
    let deleted = meta.total_files_deleted as usize;
    let bytes = encode_rollback_metadata(&meta)
        .map_err(|e| HudiError::instant_content(r, "rollback metadata", e))?;
    txn.commit(Bytes::from(bytes)).await?;
    Ok(RollbackOutcome {
        rolled_back: t,
        action,
        rollback_instant: r.clone(),
        files_deleted: deleted,
    })
}

/// The rollback plan of `target` for the files it wrote.
pub(crate) fn plan_for(
    storage: &Storage,
    target: &TimelineInstant,
    files: RollbackFiles,
) -> Result<RollbackPlan> {
    let mut requests: Vec<RollbackRequest> = Vec::new();
    let mut by_partition: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in files.delete {
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
    for (log, size) in files.shared_logs {
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
    Ok(RollbackPlan {
        instant_to_rollback: Some(InstantInfo {
            commit_time: target.requested().to_string(),
            action: target.action().to_string(),
        }),
        requests: Some(requests),
        version: Some(1),
    })
}

/// Plans and runs a rollback of `target` under a fresh instant.
async fn rollback_with_plan(
    storage: &Storage,
    timeline: &Timeline,
    target: &TimelineInstant,
    plan: RollbackPlan,
    clock: &dyn Clock,
) -> Result<RollbackOutcome> {
    let bytes = encode_rollback_plan(&plan)
        .map_err(|e| HudiError::instant_content(target.requested(), "rollback plan", e))?;
    let txn = Transaction::begin(
        storage,
        timeline,
        Action::Rollback,
        Bytes::from(bytes),
        clock,
        Arc::new(SingleWriter),
    )
    .await?;
    execute(txn, &plan, target.is_completed()).await
}

/// Rolls back one pending write instant.
pub async fn rollback_instant(
    storage: &Storage,
    timeline: &Timeline,
    target: &TimelineInstant,
    clock: &dyn Clock,
) -> Result<RollbackOutcome> {
    let files = files_of_pending(storage, target.requested()).await?;
    let plan = plan_for(storage, target, files)?;
    rollback_with_plan(storage, timeline, target, plan, clock).await
}

/// Rolls back a completed instant (the caller has checked that nothing depends on it).
pub(crate) async fn rollback_completed(
    storage: &Storage,
    timeline: &Timeline,
    target: &TimelineInstant,
    clock: &dyn Clock,
) -> Result<RollbackOutcome> {
    let files = files_of_completed(storage, timeline, target).await?;
    let plan = plan_for(storage, target, files)?;
    rollback_with_plan(storage, timeline, target, plan, clock).await
}

/// Finishes interrupted rollbacks, then rolls back every failed write: each pending ingestion
/// write whose heartbeat is missing (a single writer keeps none) or expired. A write whose
/// heartbeat lives is another writer's, running. Under optimistic concurrency this runs under
/// the table lock. Returns what was rolled back.
pub async fn rollback_failed_writes(
    storage: &Storage,
    timeline: &Timeline,
    clock: &dyn Clock,
    cc: &ConcurrencyConfig,
) -> Result<Vec<RollbackOutcome>> {
    if !cc.is_optimistic() {
        return rollback_failed(storage, timeline, clock, cc.heartbeat, false).await;
    }
    super::locked(storage, cc, async {
        let now = timeline.reload().await?;
        rollback_failed(storage, &now, clock, cc.heartbeat, true).await
    })
    .await
}

/// Whether the pending write `i` has failed: its heartbeat expired, or it has none (a single
/// writer keeps none). Beside concurrent writers a write without a heartbeat counts as failed
/// only once it is older than the heartbeat expiry: Hudi's writers remove the heartbeat of a
/// write that failed and roll it back themselves soon after, and two rollbacks of one instant
/// at once fail one of them.
async fn is_failed(
    storage: &Storage,
    i: &TimelineInstant,
    heartbeat: HeartbeatConfig,
    optimistic: bool,
    now: i64,
) -> Result<bool> {
    Ok(
        match super::heartbeat::last_beat(storage, i.requested()).await? {
            Some(beat) => heartbeat.expired(beat, now),
            None if optimistic => heartbeat.expired(i.modified_ms, now),
            None => true,
        },
    )
}

async fn rollback_failed(
    storage: &Storage,
    timeline: &Timeline,
    clock: &dyn Clock,
    heartbeat: HeartbeatConfig,
    optimistic: bool,
) -> Result<Vec<RollbackOutcome>> {
    if let Some(r) = timeline.pending().find(|i| i.action() == Action::Restore) {
        return Err(HudiError::Refused {
            operation: "writing".into(),
            table: storage.location().to_string(),
            reason: format!(
                "the restore {} is unfinished: run the restore to its savepoint again first",
                r.requested()
            ),
        });
    }
    let mut timeline = timeline.clone();
    if remove_restore_leftovers(storage, &timeline).await? > 0 {
        timeline = timeline.reload().await?;
    }
    let mut out = Vec::new();
    let now = chrono::Utc::now().timestamp_millis();
    // Targets of rollbacks another writer is running: neither resumed nor rolled back twice.
    let mut busy = std::collections::BTreeSet::new();
    for i in timeline
        .pending()
        .filter(|i| i.action() == Action::Rollback)
    {
        // Beside concurrent writers a young pending rollback is another writer's, running.
        if optimistic && !heartbeat.expired(i.modified_ms, now) {
            log::info!("the rollback {} is running: not resumed", i.requested());
            busy.insert(plan_target(i.requested(), &read_plan(&timeline, i).await?)?.0);
            continue;
        }
        out.push(resume(storage, &timeline, i).await?);
    }
    if !out.is_empty() {
        timeline = timeline.reload().await?;
    }
    let pending: Vec<TimelineInstant> = timeline.pending().cloned().collect();
    for i in pending {
        if busy.contains(i.requested()) || !is_rollbackable_write(&timeline, &i).await? {
            continue;
        }
        if !is_failed(storage, &i, heartbeat, optimistic, now).await? {
            log::info!(
                "{} is running (its heartbeat lives): not rolled back",
                i.requested()
            );
            continue;
        }
        {
            out.push(rollback_instant(storage, &timeline, &i, clock).await?);
            timeline = timeline.reload().await?;
        }
    }
    remove_markers_of_completed(storage, &timeline).await?;
    Ok(out)
}

async fn read_plan(timeline: &Timeline, i: &TimelineInstant) -> Result<RollbackPlan> {
    let req = Instant::new(i.requested().clone(), Action::Rollback, State::Requested);
    let bytes = timeline.read(&req).await?;
    decode_json_or_avro(&bytes)
        .map_err(|e| HudiError::instant_content(i.requested(), "rollback plan", e))
}

/// Deletes what the instant `t`, which is on the timeline no more, wrote after another writer
/// rolled it back while it ran: the files its markers name and the base files named after
/// it, its markers and its heartbeat. Log files that also hold other instants' blocks stay
/// (readers skip blocks of instants that never completed).
pub(crate) async fn purge_uncommitted(storage: &Storage, t: &InstantTime) -> Result<()> {
    purge_files(storage, t).await?;
    super::heartbeat::delete(storage, t).await
}

/// Deletes the files the pending instant `t` wrote, then its markers.
pub(crate) async fn purge_files(storage: &Storage, t: &InstantTime) -> Result<()> {
    let files = files_of_pending(storage, t).await?;
    for f in &files.delete {
        storage.delete(f).await?;
    }
    delete_markers(storage, t).await
}

/// Finishes the interrupted rollback `i` from its plan.
pub(crate) async fn resume(
    storage: &Storage,
    timeline: &Timeline,
    i: &TimelineInstant,
) -> Result<RollbackOutcome> {
    let plan = read_plan(timeline, i).await?;
    // A rollback planned for a completed instant (the rollback service's) found it completed
    // before its own files were written; a live writer's instant completes only after a
    // rollback mistook it for a failed one.
    let (t, _) = plan_target(i.requested(), &plan)?;
    let completed_target = timeline
        .instants()
        .iter()
        .any(|x| x.requested() == &t && x.is_completed() && x.modified_ms <= i.modified_ms);
    let txn = Transaction::resume(
        storage,
        timeline,
        i.requested().clone(),
        Action::Rollback,
        Arc::new(SingleWriter),
    );
    execute(txn, &plan, completed_target).await
}

/// The interrupted rollback whose plan targets `t`, if any: a rollback of `t` asked for again
/// finishes it rather than planning a second one (as Hudi reuses a pending rollback).
pub(crate) async fn pending_rollback_of<'a>(
    timeline: &'a Timeline,
    t: &InstantTime,
) -> Result<Option<&'a TimelineInstant>> {
    for i in timeline
        .pending()
        .filter(|i| i.action() == Action::Rollback)
    {
        let plan = read_plan(timeline, i).await?;
        if &plan_target(i.requested(), &plan)?.0 == t {
            return Ok(Some(i));
        }
    }
    Ok(None)
}

/// Removes the pending rollbacks a completed restore left behind: a restore completes, then
/// removes the rollback instants it planned for its targets (those after it whose target it
/// lists), and a crash in between leaves them pending. Returns how many went.
async fn remove_restore_leftovers(storage: &Storage, timeline: &Timeline) -> Result<usize> {
    let restores: Vec<&TimelineInstant> = timeline
        .instants()
        .iter()
        .filter(|i| i.action() == Action::Restore && i.is_completed())
        .collect();
    let Some(first) = restores.first() else {
        return Ok(0);
    };
    let mut gone = 0;
    for i in timeline
        .pending()
        .filter(|i| i.action() == Action::Rollback && i.requested() > first.requested())
    {
        let (t, _) = plan_target(i.requested(), &read_plan(timeline, i).await?)?;
        for r in restores.iter().filter(|r| r.requested() < i.requested()) {
            let bytes = timeline.read(&r.instant).await?;
            let meta: crate::model::metadata::RestoreMetadata = decode_json_or_avro(&bytes)
                .map_err(|e| HudiError::instant_content(r.requested(), "restore metadata", e))?;
            if meta.instants_to_rollback.iter().any(|x| x == t.as_str()) {
                log::info!(
                    "removing the rollback {} the completed restore {} left pending",
                    i.requested(),
                    r.requested()
                );
                Transitions::new(storage, timeline)
                    .remove_pending(i.requested(), Action::Rollback)
                    .await?;
                gone += 1;
                break;
            }
        }
    }
    Ok(gone)
}

/// Removes the marker directories of completed instants: a commit removes its markers right
/// after its completed file, and a crash in between leaves them.
async fn remove_markers_of_completed(storage: &Storage, timeline: &Timeline) -> Result<()> {
    for dir in storage.list_dir(".hoodie/.temp").await?.dirs {
        let name = dir.trim_end_matches('/').rsplit('/').next().unwrap_or(&dir);
        let Ok(t) = InstantTime::parse(name) else {
            continue;
        };
        if timeline
            .instants()
            .iter()
            .any(|i| i.requested() == &t && i.is_completed())
        {
            log::info!("removing the markers of the completed instant {t}");
            delete_markers(storage, &t).await?;
        }
    }
    Ok(())
}
