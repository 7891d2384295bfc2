//! Savepoints: a completed commit whose files clean and archival keep, so that the table can
//! be read as of it and restored to it. Hudi writes `T.savepoint.inflight` (empty), then
//! `T.savepoint` (Avro `HoodieSavepointMetadata`: the file names of every partition's latest
//! slices as of T) under the commit's own instant time.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use bytes::Bytes;

use crate::config::table::TableConfig;
use crate::error::{HudiError, Result};
use crate::fs_view::FileSystemView;
use crate::model::avro_services::encode_savepoint_metadata;
use crate::model::metadata::{decode_json_or_avro, SavepointMetadata, SavepointPartitionMetadata};
use crate::model::{Action, Instant, InstantTime, State};
use crate::storage::Storage;
use crate::timeline::transition::Clock;
use crate::timeline::Timeline;
use crate::txn::{SingleWriter, Transaction};

/// One savepoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavepointInfo {
    pub instant: InstantTime,
    pub savepointed_at_ms: i64,
    pub savepointed_by: String,
    pub comments: String,
    pub partitions: usize,
    pub files: usize,
}

impl SavepointInfo {
    fn of(instant: InstantTime, m: &SavepointMetadata) -> Self {
        SavepointInfo {
            instant,
            savepointed_at_ms: m.savepointed_at,
            savepointed_by: m.savepointed_by.clone(),
            comments: m.comments.clone(),
            partitions: m.partition_metadata.len(),
            files: m.files().count(),
        }
    }
}

fn refused(storage: &Storage, operation: &str, reason: String) -> HudiError {
    HudiError::Refused {
        operation: operation.to_string(),
        table: storage.location().to_string(),
        reason,
    }
}

/// The completed savepoints on the timeline with their metadata, oldest first.
pub async fn savepoints(timeline: &Timeline) -> Result<Vec<(InstantTime, SavepointMetadata)>> {
    let mut out = Vec::new();
    for i in timeline
        .instants()
        .iter()
        .filter(|i| i.action() == Action::Savepoint && i.is_completed())
    {
        let bytes = timeline.read(&i.instant).await?;
        let m: SavepointMetadata =
            decode_json_or_avro(&bytes).map_err(|reason| HudiError::InstantMetadata {
                instant: i.requested().to_string(),
                path: timeline.instant_path(&i.instant),
                what: "savepoint metadata",
                reason,
            })?;
        out.push((i.requested().clone(), m));
    }
    Ok(out)
}

/// Every file name some savepoint keeps.
pub async fn savepointed_files(timeline: &Timeline) -> Result<HashSet<String>> {
    Ok(savepoints(timeline)
        .await?
        .iter()
        .flat_map(|(_, m)| m.files().map(String::from).collect::<Vec<_>>())
        .collect())
}

/// The earliest instant the last clean kept readable (the first completed commit when none
/// ran): a savepoint before it would name files that are gone.
async fn earliest_readable(timeline: &Timeline) -> Result<Option<InstantTime>> {
    if let Some(t) = timeline.clean_retained_from().await? {
        return Ok(Some(t));
    }
    Ok(timeline
        .completed_writes()
        .map(|i| i.requested().clone())
        .next())
}

/// Creates a savepoint of the completed commit `instant` (the latest one when `None`).
pub async fn create(
    storage: &Storage,
    config: &TableConfig,
    instant: Option<&InstantTime>,
    by: &str,
    comments: &str,
    clock: &dyn Clock,
) -> Result<SavepointInfo> {
    const OP: &str = "savepoint";
    let timeline = Timeline::load(storage, config).await?;
    let target = match instant {
        Some(t) => timeline
            .completed_write(t)
            .ok_or_else(|| HudiError::InstantNotFound {
                instant: t.to_string(),
                table: storage.location().to_string(),
            })?,
        None => timeline
            .completed_writes()
            .last()
            .ok_or_else(|| refused(storage, OP, "the table has no completed commit".into()))?,
    };
    let t = target.requested().clone();
    let existing = timeline
        .instants()
        .iter()
        .find(|i| i.action() == Action::Savepoint && i.requested() == &t);
    if existing.is_some_and(|i| i.is_completed()) {
        return Err(refused(storage, OP, format!("{t} is already a savepoint")));
    }
    if let Some(earliest) = earliest_readable(&timeline).await? {
        if t < earliest {
            return Err(refused(
                storage,
                OP,
                format!("{t} precedes {earliest}, the earliest commit clean has kept readable: its files may be gone"),
            ));
        }
    }
    let view = FileSystemView::load(storage, &timeline, Some(&t)).await?;
    let mut partitions: BTreeMap<String, SavepointPartitionMetadata> = view
        .partitions
        .iter()
        .map(|p| {
            (
                p.clone(),
                SavepointPartitionMetadata {
                    partition_path: p.clone(),
                    savepoint_data_file: Vec::new(),
                },
            )
        })
        .collect();
    for slice in view.latest_slices() {
        let files = &mut partitions
            .entry(slice.partition.clone())
            .or_insert_with(|| SavepointPartitionMetadata {
                partition_path: slice.partition.clone(),
                savepoint_data_file: Vec::new(),
            })
            .savepoint_data_file;
        files.extend(slice.base_file.iter().map(|b| b.name.to_string()));
        files.extend(slice.log_files.iter().map(|l| l.name.to_string()));
    }
    let meta = SavepointMetadata {
        savepointed_by: by.to_string(),
        savepointed_at: clock.now().timestamp_millis(),
        comments: comments.to_string(),
        partition_metadata: partitions,
        version: Some(1),
    };
    let bytes = encode_savepoint_metadata(&meta).map_err(|reason| HudiError::Avro {
        context: format!("savepoint metadata of {t}"),
        reason,
    })?;
    let txn = if existing.is_some() {
        // A create that stopped after its inflight file: finish it.
        Transaction::resume(
            storage,
            &timeline,
            t.clone(),
            Action::Savepoint,
            Arc::new(SingleWriter),
        )
    } else {
        Transaction::begin_inflight(
            storage,
            &timeline,
            t.clone(),
            Action::Savepoint,
            Bytes::new(),
            Arc::new(SingleWriter),
        )
        .await?
    };
    txn.commit(Bytes::from(bytes)).await?;
    Ok(SavepointInfo::of(t, &meta))
}

/// The table's savepoints, oldest first.
pub async fn list(storage: &Storage, config: &TableConfig) -> Result<Vec<SavepointInfo>> {
    let timeline = Timeline::load(storage, config).await?;
    Ok(savepoints(&timeline)
        .await?
        .iter()
        .map(|(t, m)| SavepointInfo::of(t.clone(), m))
        .collect())
}

/// Deletes the savepoint of `instant`: its files become ordinary (clean may delete them).
pub async fn delete(storage: &Storage, config: &TableConfig, instant: &InstantTime) -> Result<()> {
    let timeline = Timeline::load(storage, config).await?;
    let sp = timeline
        .instants()
        .iter()
        .find(|i| i.action() == Action::Savepoint && i.requested() == instant)
        .ok_or_else(|| {
            let known: Vec<String> = timeline
                .instants()
                .iter()
                .filter(|i| i.action() == Action::Savepoint)
                .map(|i| i.requested().to_string())
                .collect();
            HudiError::InstantNotFound {
                instant: format!(
                    "savepoint {instant} (savepoints: {})",
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                ),
                table: storage.location().to_string(),
            }
        })?;
    crate::txn::instants::delete_savepoint(storage, &timeline, sp).await
}

/// The savepoint metadata of `instant`, if it is a completed savepoint.
pub async fn metadata(timeline: &Timeline, instant: &InstantTime) -> Result<SavepointMetadata> {
    let i = Instant::new(instant.clone(), Action::Savepoint, State::Completed);
    let bytes = timeline.read(&i).await?;
    decode_json_or_avro(&bytes).map_err(|reason| HudiError::InstantMetadata {
        instant: instant.to_string(),
        path: timeline.instant_path(&i),
        what: "savepoint metadata",
        reason,
    })
}
