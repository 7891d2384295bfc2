//! Restoring a table to a savepoint: every instant of the write timeline after it (pending
//! ones included) is rolled back, newest first, under one restore instant, as Hudi does:
//! `R.restore.requested` (Avro `HoodieRestorePlan`) → `R.restore.inflight` → one pending
//! rollback instant per target holding its rollback plan → `R.restore` (Avro
//! `HoodieRestoreMetadata`, each target's rollback metadata) → the pending rollbacks removed.
//! An interrupted restore runs again from its plans; writers refuse to write meanwhile.

use std::sync::Arc;
use std::time::Instant as Stopwatch;

use bytes::Bytes;

use crate::config::table::TableConfig;
use crate::error::{HudiError, Result};
use crate::model::avro_instants::{encode_rollback_plan, RollbackPlan};
use crate::model::avro_services::{encode_restore_metadata, encode_restore_plan};
use crate::model::metadata::{decode_json_or_avro, InstantInfo, RestoreMetadata, RestorePlan};
use crate::model::{Action, Instant, InstantTime, State};
use crate::storage::Storage;
use crate::timeline::transition::{next_instant, Clock};
use crate::timeline::{Timeline, TimelineInstant};
use crate::txn::rollback::{apply, files_of_completed, files_of_pending, plan_for};
use crate::txn::{SingleWriter, Transaction};

/// What a restore did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreOutcome {
    pub restore_instant: InstantTime,
    pub savepoint: InstantTime,
    /// The instants rolled back, newest first.
    pub rolled_back: Vec<(InstantTime, String)>,
    pub files_deleted: usize,
    pub duration_ms: u64,
}

fn refused(storage: &Storage, sp: &InstantTime, reason: String) -> HudiError {
    HudiError::Refused {
        operation: format!("restore to savepoint {sp}"),
        table: storage.location().to_string(),
        reason,
    }
}

/// Restores the table to the savepoint `sp` (finishing an interrupted restore first).
pub async fn restore(
    storage: &Storage,
    config: &TableConfig,
    sp: &InstantTime,
    clock: &dyn Clock,
) -> Result<RestoreOutcome> {
    let timeline = Timeline::load(storage, config).await?;
    if let Some(pending) = timeline.pending().find(|i| i.action() == Action::Restore) {
        let plan = read_plan(&timeline, pending.requested()).await?;
        let planned_sp = plan
            .savepoint_to_restore_timestamp
            .clone()
            .unwrap_or_default();
        if planned_sp != sp.as_str() {
            return Err(refused(
                storage,
                sp,
                format!(
                    "the restore {} to savepoint {planned_sp} is unfinished: run it again first",
                    pending.requested()
                ),
            ));
        }
        let txn = Transaction::resume(
            storage,
            &timeline,
            pending.requested().clone(),
            Action::Restore,
            Arc::new(SingleWriter),
        );
        return execute(txn, &plan, clock).await;
    }
    if !timeline
        .instants()
        .iter()
        .any(|i| i.action() == Action::Savepoint && i.is_completed() && i.requested() == sp)
    {
        return Err(HudiError::InstantNotFound {
            instant: format!("savepoint {sp}"),
            table: storage.location().to_string(),
        });
    }
    let later_savepoints: Vec<String> = timeline
        .instants()
        .iter()
        .filter(|i| i.action() == Action::Savepoint && i.requested() > sp)
        .map(|i| i.requested().to_string())
        .collect();
    if !later_savepoints.is_empty() {
        return Err(refused(
            storage,
            sp,
            format!(
                "the later savepoints {} would be rolled back: delete them first",
                later_savepoints.join(", ")
            ),
        ));
    }
    let targets: Vec<InstantInfo> = timeline
        .instants()
        .iter()
        .rev()
        .filter(|i| i.requested() > sp && (i.action().is_write() || i.planned_action.is_write()))
        .map(|i| InstantInfo {
            commit_time: i.requested().to_string(),
            action: i.action().to_string(),
        })
        .collect();
    if targets.is_empty() {
        return Err(refused(
            storage,
            sp,
            "nothing was written after the savepoint: the table is at it already".into(),
        ));
    }
    let plan = RestorePlan {
        instants_to_rollback: targets,
        version: Some(2),
        savepoint_to_restore_timestamp: Some(sp.to_string()),
    };
    let r = next_instant(&timeline, clock);
    let bytes = encode_restore_plan(&plan)
        .map_err(|e| HudiError::instant_content(&r, "restore plan", e))?;
    let txn = Transaction::begin_at(
        storage,
        &timeline,
        r,
        Action::Restore,
        Bytes::from(bytes),
        Arc::new(SingleWriter),
    )
    .await?;
    execute(txn, &plan, clock).await
}

async fn read_plan(timeline: &Timeline, r: &InstantTime) -> Result<RestorePlan> {
    let req = Instant::new(r.clone(), Action::Restore, State::Requested);
    let bytes = timeline.read(&req).await?;
    decode_json_or_avro(&bytes).map_err(|e| HudiError::instant_content(r, "restore plan", e))
}

/// The pending rollbacks a restore `r` created for its targets, by target instant.
async fn inner_rollbacks(
    timeline: &Timeline,
    r: &InstantTime,
) -> Result<Vec<(InstantTime, RollbackPlan)>> {
    let mut out = Vec::new();
    for i in timeline
        .pending()
        .filter(|i| i.action() == Action::Rollback && i.requested() > r)
    {
        let req = Instant::new(i.requested().clone(), Action::Rollback, State::Requested);
        let bytes = timeline.read(&req).await?;
        let plan: RollbackPlan = decode_json_or_avro(&bytes)
            .map_err(|e| HudiError::instant_content(i.requested(), "rollback plan", e))?;
        out.push((i.requested().clone(), plan));
    }
    Ok(out)
}

/// Rolls back the plan's targets still on the timeline and completes the restore.
async fn execute(
    mut txn: Transaction,
    plan: &RestorePlan,
    clock: &dyn Clock,
) -> Result<RestoreOutcome> {
    let started = Stopwatch::now();
    let storage = txn.storage().clone();
    let r = txn.instant().clone();
    let sp = InstantTime::parse(plan.savepoint_to_restore_timestamp.as_deref().unwrap_or(""))?;
    let inflight = Instant::new(r.clone(), Action::Restore, State::Inflight);
    if !storage
        .exists(&txn.timeline().instant_path(&inflight))
        .await?
    {
        txn.start(Bytes::new()).await?;
    }
    let mut timeline = txn.timeline().reload().await?;
    let mut meta = RestoreMetadata {
        start_restore_time: r.to_string(),
        version: Some(1),
        ..Default::default()
    };
    let mut inner: Vec<InstantTime> = Vec::new();
    // Rollbacks an interrupted run planned: their plans were made before anything was deleted.
    for (ri, rplan) in inner_rollbacks(&timeline, &r).await? {
        let m = apply(&storage, &timeline, &ri, &rplan).await?;
        record(&mut meta, &rplan, m);
        inner.push(ri);
        timeline = timeline.reload().await?;
    }
    for target in &plan.instants_to_rollback {
        let Some(ti) = timeline
            .instants()
            .iter()
            .find(|i| i.requested().as_str() == target.commit_time)
            .cloned()
        else {
            continue;
        };
        let ri = next_instant(&timeline, clock);
        let rplan = rollback_plan(&storage, &timeline, &ti).await?;
        let bytes = encode_rollback_plan(&rplan)
            .map_err(|e| HudiError::instant_content(&ri, "rollback plan", e))?;
        crate::txn::instants::begin_inner_rollback(&storage, &timeline, &ri, Bytes::from(bytes))
            .await?;
        let m = apply(&storage, &timeline, &ri, &rplan).await?;
        record(&mut meta, &rplan, m);
        inner.push(ri);
        timeline = timeline.reload().await?;
    }
    meta.time_taken_in_millis = started.elapsed().as_millis() as i64;
    let files_deleted = meta
        .hoodie_restore_metadata
        .values()
        .flatten()
        .map(|m| m.total_files_deleted.max(0) as usize)
        .sum();
    let bytes = encode_restore_metadata(&meta)
        .map_err(|e| HudiError::instant_content(&r, "restore metadata", e))?;
    txn.commit(Bytes::from(bytes)).await?;
    crate::txn::instants::remove_inner_rollbacks(&storage, &timeline, &inner).await?;
    Ok(RestoreOutcome {
        restore_instant: r,
        savepoint: sp.clone(),
        rolled_back: meta
            .restore_instant_info
            .iter()
            .map(|i| {
                (
                    InstantTime::parse(&i.commit_time).unwrap_or_else(|_| sp.clone()),
                    i.action.clone(),
                )
            })
            .collect(),
        files_deleted,
        duration_ms: started.elapsed().as_millis() as u64,
    })
}

/// The rollback plan of one restore target, from its markers (pending) or its commit
/// metadata (completed).
async fn rollback_plan(
    storage: &Storage,
    timeline: &Timeline,
    ti: &TimelineInstant,
) -> Result<RollbackPlan> {
    let files = if ti.is_completed() {
        files_of_completed(storage, timeline, ti).await?
    } else {
        files_of_pending(storage, ti.requested()).await?
    };
    plan_for(storage, ti, files)
}

fn record(
    meta: &mut RestoreMetadata,
    plan: &RollbackPlan,
    m: crate::model::metadata::RollbackMetadata,
) {
    if let Some(info) = &plan.instant_to_rollback {
        meta.instants_to_rollback.push(info.commit_time.clone());
        meta.restore_instant_info.push(info.clone());
        meta.hoodie_restore_metadata
            .entry(info.commit_time.clone())
            .or_default()
            .push(m);
    }
}
