//! Repairs (`hudi repair ...`), each planned first and applied only on request, as Hudi CLI's
//! `repair` commands: partition metadata files, stray markers, a replacement
//! `hoodie.properties`, duplicate keys. Nothing committed is rewritten in place: duplicates go
//! through a new replace commit, replaced properties are kept.

use std::collections::BTreeMap;

use arrow::array::{Array, RecordBatch, StringArray};
use bytes::Bytes;
use futures::TryStreamExt;

use crate::config::capability::Changes;
use crate::config::properties;
use crate::config::table::{properties_file_text, TableConfig};
use crate::error::{HudiError, Result};
use crate::model::{
    InstantTime, COMMIT_SEQNO_FIELD, COMMIT_TIME_FIELD, META_FIELDS, RECORD_KEY_FIELD,
};
use crate::snapshot::Snapshot;
use crate::storage::{Storage, PROPERTIES_FILE};
use crate::timeline::transition::ClockRef;
use crate::timeline::Timeline;
use crate::txn::mutation::Mutation;

/// What a repair found to do, and whether it did it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepairPlan {
    /// One entry per change: the path, and what happens to it.
    pub actions: Actions,
    pub applied: bool,
    /// Where replaced content was kept.
    pub backup: Option<String>,
}

/// Where repairs keep what they replace.
pub const BACKUP_DIR: &str = ".hoodie/.aux/repair_backup";

/// Writes the missing `.hoodie_partition_metadata` of every directory holding data files,
/// with the latest completed write's instant (as Hudi CLI's `repair addpartitionmeta`).
pub async fn add_partition_metadata(
    storage: &Storage,
    timeline: &Timeline,
    apply: bool,
    clock: &ClockRef,
) -> Result<RepairPlan> {
    if apply {
        Mutation::begin(
            storage,
            "repair add-partition-meta",
            Changes::Files,
            &BTreeMap::new(),
        )
        .await?;
    }
    let missing = super::verify::partitions_without_metadata(storage).await?;
    let latest = timeline
        .completed_writes()
        .last()
        .map(|i| i.requested().clone())
        .unwrap_or_else(InstantTime::zero);
    let mut actions = Vec::new();
    for p in &missing {
        if apply {
            crate::write::write_partition_metadata(storage, p, &latest, clock).await?;
        }
        let shown = if p.is_empty() { "." } else { p };
        actions.push((
            format!("{shown}/.hoodie_partition_metadata"),
            format!("create (commitTime={latest})"),
        ));
    }
    Ok(RepairPlan {
        actions,
        applied: apply,
        backup: None,
    })
}

/// Deletes the marker directories of completed instants and of instants the timeline does not
/// know (markers of pending instants stay: their rollback needs them). Markers are empty
/// files: nothing is backed up.
pub async fn delete_stray_markers(
    storage: &Storage,
    timeline: &Timeline,
    apply: bool,
) -> Result<RepairPlan> {
    if apply {
        Mutation::begin(storage, "repair markers", Changes::Files, &BTreeMap::new()).await?;
    }
    let mut actions = Vec::new();
    for (dir, why) in super::verify::stray_marker_dirs(storage, timeline).await? {
        let files = storage.list_recursive(&dir).await?;
        if apply {
            for f in &files {
                storage.delete(&f.path).await?;
            }
        }
        actions.push((dir, format!("delete {} markers: {why}", files.len())));
    }
    Ok(RepairPlan {
        actions,
        applied: apply,
        backup: None,
    })
}

/// Replaces `hoodie.properties` with `text` (as Hudi CLI's `repair overwrite-hoodie-props`),
/// once it parses as a readable table config; the checksum is recomputed and the current file
/// kept under [`BACKUP_DIR`]. Works when the current file is corrupt (the table need not open).
pub async fn overwrite_properties(
    storage: &Storage,
    text: &str,
    source: &str,
    apply: bool,
    clock: &ClockRef,
) -> Result<RepairPlan> {
    let new = properties::parse(text);
    let config = TableConfig::from_properties(new.clone(), source)?;
    // The properties written must describe a table this library maintains.
    crate::txn::mutation::require_maintained(
        storage,
        &config,
        "repair overwrite-props",
        Changes::Files,
    )
    .await?;
    let current = match storage.get(PROPERTIES_FILE).await {
        Ok(b) => Some(b),
        Err(HudiError::NotFound { .. }) => None,
        Err(e) => return Err(e),
    };
    let old = current
        .as_ref()
        .map(|b| properties::parse(&String::from_utf8_lossy(b)))
        .unwrap_or_default();
    let mut actions = Vec::new();
    for (k, v) in &new {
        match old.get(k) {
            Some(o) if o == v => {}
            Some(o) => actions.push((k.clone(), format!("'{o}' -> '{v}'"))),
            None => actions.push((k.clone(), format!("add '{v}'"))),
        }
    }
    for (k, o) in &old {
        if !new.contains_key(k) {
            actions.push((k.clone(), format!("remove '{o}'")));
        }
    }
    let now = clock.now();
    let backup = current.as_ref().map(|_| {
        format!(
            "{BACKUP_DIR}/hoodie.properties.{}",
            InstantTime::from_datetime_utc(&now)
        )
    });
    if apply {
        if let (Some(bytes), Some(path)) = (&current, &backup) {
            storage.put(path, bytes.clone()).await?;
        }
        let written = properties_file_text(&new, &now);
        match current {
            Some(_) => {
                crate::storage::update_table_properties(storage, written).await?;
            }
            None => storage.put(PROPERTIES_FILE, Bytes::from(written)).await?,
        }
    }
    Ok(RepairPlan {
        actions,
        applied: apply,
        backup,
    })
}

/// Keeps one record per key in `partition` — the copy of the latest commit (the later sequence
/// number on a tie) — by an `insert_overwrite` of the partition with the kept rows: one
/// replace commit, so readers switch atomically and rollback or restore undo it. The rows of
/// the partition are held in memory.
pub async fn deduplicate(table: &Snapshot, partition: &str, apply: bool) -> Result<RepairPlan> {
    if apply {
        Mutation::begin(
            table.storage(),
            "repair deduplicate",
            Changes::Records,
            &BTreeMap::new(),
        )
        .await?;
    }
    let partition = partition.trim_matches('/');
    let (schema, _) = table.schema().await?;
    let mut plan = crate::read::plan(
        table.storage(),
        table.config(),
        table.timeline(),
        schema.clone(),
        &crate::read::ReadOptions::default(),
    )
    .await?;
    if !plan.slices.iter().any(|s| s.partition == partition) {
        return Err(HudiError::Refused {
            operation: "repair deduplicate".into(),
            table: table.location().to_string(),
            reason: format!("'{partition}' is not a partition with file groups"),
        });
    }
    plan.slices.retain(|s| s.partition == partition);
    let out_schema = plan.output_schema.clone();
    let batches: Vec<RecordBatch> = plan.stream(table.storage().clone()).try_collect().await?;
    let all = arrow::compute::concat_batches(&out_schema, &batches)
        .map_err(|e| HudiError::arrow(format!("partition '{partition}'"), e))?;
    let (keep, actions) = kept_rows(&all, partition)?;
    if apply && !actions.is_empty() {
        let data_cols: Vec<usize> = (0..all.num_columns())
            .filter(|i| !META_FIELDS.contains(&out_schema.field(*i).name().as_str()))
            .collect();
        let indices = arrow::array::UInt32Array::from(keep);
        let rows = arrow::compute::take_record_batch(
            &all.project(&data_cols)
                .map_err(|e| HudiError::arrow(format!("partition '{partition}'"), e))?,
            &indices,
        )
        .map_err(|e| HudiError::arrow(format!("partition '{partition}'"), e))?;
        let overwrite = crate::write::WriteOperation::InsertOverwrite;
        crate::write::WriteBuilder::new(table.storage().clone(), overwrite)
            .with_option("hoodie.combine.before.insert", "false")
            .execute_batches(vec![rows])
            .await?;
    }
    Ok(RepairPlan {
        actions,
        applied: apply,
        backup: None,
    })
}

/// A repair's changes: (path, what happens to it).
type Actions = Vec<(String, String)>;

/// The rows to keep (one per key) and, per duplicated key, what happens to its copies.
fn kept_rows(all: &RecordBatch, partition: &str) -> Result<(Vec<u32>, Actions)> {
    let col = |name: &str| -> Result<StringArray> {
        all.column_by_name(name)
            .and_then(|c| c.as_any().downcast_ref::<StringArray>().cloned())
            .ok_or_else(|| HudiError::Refused {
                operation: "repair deduplicate".into(),
                table: partition.to_string(),
                reason: format!("the table has no {name} column (virtual keys)"),
            })
    };
    let (keys, commits, seqnos) = (
        col(RECORD_KEY_FIELD)?,
        col(COMMIT_TIME_FIELD)?,
        col(COMMIT_SEQNO_FIELD)?,
    );
    let mut best: BTreeMap<&str, (u32, usize)> = BTreeMap::new();
    let rank = |i: usize| (commits.value(i), seqnos.value(i));
    for i in 0..all.num_rows() {
        let e = best.entry(keys.value(i)).or_insert((i as u32, 0));
        e.1 += 1;
        if rank(i) > rank(e.0 as usize) {
            e.0 = i as u32;
        }
    }
    let actions = best
        .iter()
        .filter(|(_, (_, n))| *n > 1)
        .map(|(k, (i, n))| {
            (
                format!("{partition}/{k}"),
                format!(
                    "keep the copy of commit {}, drop {} other(s)",
                    commits.value(*i as usize),
                    n - 1
                ),
            )
        })
        .collect();
    let mut keep: Vec<u32> = best.values().map(|(i, _)| *i).collect();
    keep.sort_unstable();
    Ok((keep, actions))
}
