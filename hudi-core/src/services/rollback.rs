//! Rollback as a service: of failed (pending) writes, and of the latest completed instant —
//! a commit, delta commit, replace commit or compaction — or a pending compaction or
//! clustering nothing was written after. Anything that depends on the instant refuses the
//! rollback with the instant it depends through: a later instant, a savepoint, or a
//! previous file version a clean has deleted.

use crate::config::table::TableConfig;
use crate::error::{HudiError, Result};
use crate::fs_view::{FileGroupId, FileSystemView};
use crate::model::{Action, BaseFileName, InstantTime};
use crate::storage::Storage;
use crate::timeline::transition::Clock;
use crate::timeline::{Timeline, TimelineInstant};
use crate::txn::concurrency::ConcurrencyConfig;
use crate::txn::rollback::{self, is_rollbackable_write, RollbackOutcome};

fn refused(storage: &Storage, t: &InstantTime, reason: String) -> HudiError {
    HudiError::Refused {
        operation: format!("rollback of {t}"),
        table: storage.location().to_string(),
        reason,
    }
}

/// Rolls back every failed write (and finishes interrupted rollbacks). An empty result means
/// there was none.
pub async fn rollback_failed_writes(
    storage: &Storage,
    config: &TableConfig,
    clock: &dyn Clock,
    cc: &ConcurrencyConfig,
) -> Result<Vec<RollbackOutcome>> {
    let timeline = Timeline::load(storage, config).await?;
    rollback::rollback_failed_writes(storage, &timeline, clock, cc).await
}

/// Rolls back the instant `t`: a failed write, the latest completed instant, or a pending
/// compaction or clustering with nothing after it.
pub async fn rollback_instant(
    storage: &Storage,
    config: &TableConfig,
    t: &InstantTime,
    clock: &dyn Clock,
) -> Result<RollbackOutcome> {
    let timeline = Timeline::load(storage, config).await?;
    if let Some(pending) = rollback::pending_rollback_of(&timeline, t).await? {
        return rollback::resume(storage, &timeline, pending).await;
    }
    let target = timeline
        .instants()
        .iter()
        .find(|i| i.requested() == t && (i.action().is_write() || i.planned_action.is_write()))
        .ok_or_else(|| HudiError::InstantNotFound {
            instant: format!("{t} (no commit, delta commit, replace commit or compaction)"),
            table: storage.location().to_string(),
        })?;
    if is_rollbackable_write(&timeline, target).await? {
        let beat = crate::txn::heartbeat::last_beat(storage, t).await?;
        let hb = ConcurrencyConfig::single_writer().heartbeat;
        if beat.is_some_and(|b| !hb.expired(b, chrono::Utc::now().timestamp_millis())) {
            return Err(refused(
                storage,
                t,
                "it is running: its heartbeat lives (.hoodie/.heartbeat/)".into(),
            ));
        }
        return rollback::rollback_instant(storage, &timeline, target, clock).await;
    }
    check_nothing_after(storage, &timeline, target)?;
    check_not_savepointed(storage, &timeline, t)?;
    if target.is_completed() {
        check_previous_versions(storage, &timeline, target).await?;
        rollback::rollback_completed(storage, &timeline, target, clock).await
    } else {
        // A pending compaction or clustering nothing has written after.
        rollback::rollback_instant(storage, &timeline, target, clock).await
    }
}

/// Refuses when any instant of the write timeline (pending ones included) follows `target`.
fn check_nothing_after(
    storage: &Storage,
    timeline: &Timeline,
    target: &TimelineInstant,
) -> Result<()> {
    let later: Vec<String> = timeline
        .instants()
        .iter()
        .filter(|i| i.requested() > target.requested())
        .filter(|i| i.action().is_write() || i.planned_action.is_write())
        .map(|i| format!("{} ({} {:?})", i.requested(), i.action(), i.state()))
        .collect();
    if later.is_empty() {
        return Ok(());
    }
    Err(refused(
        storage,
        target.requested(),
        format!(
            "later instants depend on it: {}; roll those back first (newest first), or restore a savepoint",
            later.join(", ")
        ),
    ))
}

fn check_not_savepointed(storage: &Storage, timeline: &Timeline, t: &InstantTime) -> Result<()> {
    if timeline
        .instants()
        .iter()
        .any(|i| i.action() == Action::Savepoint && i.requested() == t)
    {
        return Err(refused(
            storage,
            t,
            "it is a savepoint: delete the savepoint first".into(),
        ));
    }
    Ok(())
}

/// Refuses when rolling back would leave a file group without the version it had before the
/// instant (a clean deleted it), or a group the instant replaced without its files.
async fn check_previous_versions(
    storage: &Storage,
    timeline: &Timeline,
    target: &TimelineInstant,
) -> Result<()> {
    let t = target.requested();
    let meta = timeline.commit_metadata(&target.instant).await?;
    let view = FileSystemView::load(storage, timeline, None).await?;
    for (partition, stat) in meta.write_stats() {
        let Some(path) = stat.path.as_deref() else {
            continue;
        };
        let name = path.rsplit('/').next().unwrap_or(path);
        let Ok(base) = BaseFileName::parse(name) else {
            continue;
        };
        if &base.instant != t {
            continue;
        }
        let id = FileGroupId {
            partition: partition.to_string(),
            file_id: base.file_id.clone(),
        };
        let prev = stat
            .prev_commit
            .as_deref()
            .filter(|p| !p.is_empty() && *p != "null")
            .and_then(|p| InstantTime::parse(p).ok());
        let older = view
            .groups
            .get(&id)
            .map(|g| g.slices.range(..t.clone()).count())
            .unwrap_or(0);
        let needs_older = prev.is_some() || target.planned_action == Action::Compaction;
        if needs_older && older == 0 {
            return Err(refused(
                storage,
                t,
                format!(
                    "the version of file group {}/{} before it{} was cleaned: rolling back would lose that file group",
                    id.partition,
                    id.file_id,
                    prev.map(|p| format!(" ({p})")).unwrap_or_default()
                ),
            ));
        }
    }
    for (partition, file_id) in meta.replaced_file_ids() {
        let id = FileGroupId {
            partition: partition.to_string(),
            file_id: file_id.to_string(),
        };
        let kept = view
            .replaced
            .get(&id)
            .is_some_and(|r| !r.group.slices.is_empty());
        if !kept {
            return Err(refused(
                storage,
                t,
                format!(
                    "the files of file group {partition}/{file_id} it replaced were cleaned: rolling back would lose them"
                ),
            ));
        }
    }
    Ok(())
}
