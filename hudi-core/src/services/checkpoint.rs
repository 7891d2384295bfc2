//! The streaming checkpoint Hudi's streamer (`HoodieStreamer`, formerly DeltaStreamer) keeps
//! in the extra metadata of its commits: reading it, and (on request) replacing it.

use bytes::Bytes;

use crate::config::capability::Changes;
use crate::config::table::TableType;
use crate::error::{HudiError, Result};
use crate::model::{Action, InstantTime};
use crate::snapshot::Snapshot;
use crate::timeline::transition::Clock;
use crate::timeline::TimelineInstant;

/// The checkpoint key of table versions before 8.
pub const CHECKPOINT_KEY: &str = "deltastreamer.checkpoint.key";
/// The checkpoint key of table versions 8 and later.
pub const CHECKPOINT_KEY_V2: &str = "streamer.checkpoint.key.v2";
/// A checkpoint the streamer resets to once (`--checkpoint`).
pub const CHECKPOINT_RESET_KEY: &str = "deltastreamer.checkpoint.reset_key";

/// A checkpoint and the commit that holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub instant: InstantTime,
    pub key: String,
    pub value: String,
    pub reset_key: Option<String>,
}

/// The commits the streamer reads its checkpoint from, newest first: delta commits on
/// merge-on-read tables (compactions hold none), commits and replace commits otherwise.
fn streamer_commits(table: &Snapshot) -> Vec<&TimelineInstant> {
    let mor = table.config().table_type == TableType::MergeOnRead;
    let mut v: Vec<&TimelineInstant> = table
        .timeline()
        .completed_writes()
        .filter(|i| match mor {
            true => i.action() == Action::DeltaCommit,
            false => matches!(i.action(), Action::Commit | Action::ReplaceCommit),
        })
        .collect();
    v.reverse();
    v
}

fn keys(table: &Snapshot) -> &'static [&'static str] {
    match table.config().version.has_v2_checkpoint_key() {
        true => &[CHECKPOINT_KEY_V2, CHECKPOINT_KEY],
        false => &[CHECKPOINT_KEY],
    }
}

/// The latest checkpoint, as the streamer resumes from it.
pub async fn latest(table: &Snapshot) -> Result<Option<Checkpoint>> {
    for i in streamer_commits(table) {
        let m = table.timeline().commit_metadata(&i.instant).await?;
        let reset_key = m.extra_metadata.get(CHECKPOINT_RESET_KEY).cloned();
        for k in keys(table) {
            if let Some(v) = m.extra_metadata.get(*k).filter(|v| !v.is_empty()) {
                return Ok(Some(Checkpoint {
                    instant: i.requested().clone(),
                    key: k.to_string(),
                    value: v.clone(),
                    reset_key,
                }));
            }
        }
    }
    Ok(None)
}

/// What [`set`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointChange {
    pub instant: InstantTime,
    pub old: Option<String>,
    pub new: String,
    /// Where the commit's previous metadata was kept.
    pub backup: String,
}

/// Writes `value` as the checkpoint of the latest commit the streamer reads, after keeping
/// that commit's metadata under `.hoodie/.aux/repair_backup/`. Version-6 tables only.
pub async fn set(table: &Snapshot, value: &str, clock: &dyn Clock) -> Result<CheckpointChange> {
    let refuse = |reason: String| HudiError::Refused {
        operation: "checkpoint set".into(),
        table: table.location().to_string(),
        reason,
    };
    let none = std::collections::BTreeMap::new();
    crate::txn::mutation::Mutation::begin(table.storage(), "checkpoint set", Changes::Files, &none)
        .await?;
    let Some(target) = streamer_commits(table).into_iter().next() else {
        return Err(refuse("no completed commit to hold a checkpoint".into()));
    };
    let tl = table.timeline();
    let bytes = tl.read(&target.instant).await?;
    let bad = |reason: String| HudiError::InstantMetadata {
        instant: target.requested().to_string(),
        path: tl.instant_path(&target.instant),
        what: "commit metadata",
        reason,
    };
    let mut json: serde_json::Value = match bytes.is_empty() {
        true => {
            serde_json::json!({"partitionToWriteStats": {}, "compacted": false, "extraMetadata": {}})
        }
        false => serde_json::from_slice(&bytes).map_err(|e| bad(e.to_string()))?,
    };
    let extra = json
        .as_object_mut()
        .ok_or_else(|| bad("not a JSON object".into()))?
        .entry("extraMetadata")
        .or_insert_with(|| serde_json::json!({}));
    let extra = extra
        .as_object_mut()
        .ok_or_else(|| bad("extraMetadata is not an object".into()))?;
    let old = extra
        .insert(CHECKPOINT_KEY.to_string(), value.into())
        .and_then(|v| v.as_str().map(String::from));
    let name = tl.instant_path(&target.instant);
    let file = name.rsplit('/').next().unwrap_or(&name);
    let backup = format!(
        "{}/{file}.{}",
        super::repair::BACKUP_DIR,
        InstantTime::from_datetime_utc(&clock.now())
    );
    table.storage().put(&backup, bytes).await?;
    let text = serde_json::to_vec_pretty(&json).map_err(|e| bad(e.to_string()))?;
    crate::txn::instants::rewrite_completed(table.storage(), tl, target, Bytes::from(text)).await?;
    Ok(CheckpointChange {
        instant: target.requested().clone(),
        old,
        new: value.to_string(),
        backup,
    })
}
