//! Planning a write: tag records with their current location through the index, then route
//! updates and deletes to their file groups, and inserts to small files first and new file
//! groups after (Hudi's upsert partitioner), or replace whole partitions.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::error::Result;
use crate::fs_view::{FileGroupId, FileSlice, FileSystemView};
use crate::index::{lookup, IndexKind};
use crate::model::metadata::{CommitMetadata, WriteStat};
use crate::storage::Storage;
use crate::timeline::Timeline;

use super::config::{IndexType, WriteConfig};
use super::handle::{Change, FileGroupWrite};
use super::records::Prepared;
use super::WriteOperation;

/// The file groups a commit writes and the ones it replaces.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub groups: Vec<FileGroupWrite>,
    pub replaced: Vec<FileGroupId>,
}

impl Plan {
    /// Partitions receiving files.
    pub fn partitions_written(&self) -> BTreeSet<String> {
        self.groups.iter().map(|g| g.partition.clone()).collect()
    }
}

/// A new file group id: a random UUID and `-0`.
pub fn new_file_id() -> String {
    format!("{}-0", uuid::Uuid::new_v4())
}

/// Average bytes per record of the latest completed commit that wrote records, else the
/// configured estimate (`hoodie.copyonwrite.record.size.estimate`).
pub async fn average_record_size(timeline: &Timeline, estimate: u64) -> Result<u64> {
    let writes: Vec<_> = timeline.completed_writes().collect();
    for i in writes.into_iter().rev() {
        let m = timeline.commit_metadata(&i.instant).await?;
        let (bytes, records) = m.write_stats().fold((0i64, 0i64), |(b, r), (_, s)| {
            (b + s.total_write_bytes, r + s.num_writes)
        });
        if records > 0 && bytes > 0 {
            return Ok((bytes / records).max(1) as u64);
        }
    }
    Ok(estimate)
}

fn group_entry<'a>(
    groups: &'a mut BTreeMap<FileGroupId, FileGroupWrite>,
    view: &FileSystemView,
    id: &FileGroupId,
) -> &'a mut FileGroupWrite {
    groups.entry(id.clone()).or_insert_with(|| FileGroupWrite {
        partition: id.partition.clone(),
        file_id: id.file_id.clone(),
        existing: view
            .groups
            .get(id)
            .and_then(|g| g.slices.values().next_back())
            .and_then(|s| s.base_file.clone()),
        ..Default::default()
    })
}

/// Plans the write. May rewrite `prepared.partitions` (global index without partition moves).
pub async fn plan(
    storage: &Storage,
    op: WriteOperation,
    wc: &WriteConfig,
    view: &FileSystemView,
    prepared: &mut Prepared,
    avg_record_size: u64,
    partitions_to_drop: &[String],
) -> Result<Plan> {
    let latest: Vec<&FileSlice> = view.latest_slices();
    let mut groups: BTreeMap<FileGroupId, FileGroupWrite> = BTreeMap::new();
    let mut inserts: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut replaced = Vec::new();

    match op {
        WriteOperation::Upsert | WriteOperation::Delete => {
            let global = wc.index.is_global();
            let keys: Vec<(String, String)> = prepared
                .live
                .iter()
                .map(|&i| (prepared.keys[i].clone(), prepared.partitions[i].clone()))
                .collect();
            let kind = IndexKind {
                bloom: matches!(wc.index, IndexType::Bloom | IndexType::GlobalBloom),
                global,
            };
            let (found, _) =
                lookup(storage, kind, wc.bloom_prune_by_ranges, &latest, &keys).await?;
            let live = prepared.live.clone();
            for i in live {
                let bucket = if global {
                    String::new()
                } else {
                    prepared.partitions[i].clone()
                };
                let loc = found.get(&(prepared.keys[i].clone(), bucket));
                let key = prepared.keys[i].clone();
                if prepared.deletes[i] {
                    if let Some(loc) = loc {
                        let from_row = (op != WriteOperation::Delete).then_some(i);
                        group_entry(&mut groups, view, &loc.group)
                            .changes
                            .insert(key, Change::Delete(from_row));
                    }
                    continue;
                }
                match loc {
                    Some(loc)
                        if loc.group.partition != prepared.partitions[i]
                            && wc.update_partition_path =>
                    {
                        // The record moves: delete the old copy, insert into its new partition.
                        group_entry(&mut groups, view, &loc.group)
                            .changes
                            .insert(key, Change::Delete(None));
                        inserts
                            .entry(prepared.partitions[i].clone())
                            .or_default()
                            .push(i);
                    }
                    Some(loc) => {
                        prepared.partitions[i] = loc.group.partition.clone();
                        group_entry(&mut groups, view, &loc.group)
                            .changes
                            .insert(key, Change::Update(i));
                    }
                    None => inserts
                        .entry(prepared.partitions[i].clone())
                        .or_default()
                        .push(i),
                }
            }
        }
        WriteOperation::Insert
        | WriteOperation::BulkInsert
        | WriteOperation::InsertOverwrite
        | WriteOperation::InsertOverwriteTable => {
            for &i in &prepared.live {
                if !prepared.deletes[i] {
                    inserts
                        .entry(prepared.partitions[i].clone())
                        .or_default()
                        .push(i);
                }
            }
        }
        WriteOperation::DeletePartition => {}
    }

    match op {
        WriteOperation::InsertOverwrite => {
            replaced.extend(
                latest
                    .iter()
                    .filter(|s| inserts.contains_key(&s.partition))
                    .map(|s| id_of(s)),
            );
        }
        WriteOperation::InsertOverwriteTable => replaced.extend(latest.iter().map(|s| id_of(s))),
        WriteOperation::DeletePartition => {
            replaced.extend(
                latest
                    .iter()
                    .filter(|s| partitions_to_drop.iter().any(|p| p == &s.partition))
                    .map(|s| id_of(s)),
            );
        }
        _ => {}
    }

    let per_group = if wc.insert_auto_split {
        (wc.max_file_size / avg_record_size.max(1)).max(1)
    } else {
        wc.insert_split_size
    } as usize;
    let use_small_files =
        matches!(op, WriteOperation::Insert | WriteOperation::Upsert) && wc.small_file_limit > 0;
    for (partition, rows) in inserts {
        let mut rest: &[usize] = &rows;
        if use_small_files {
            let mut small: Vec<&&FileSlice> = latest
                .iter()
                .filter(|s| s.partition == partition)
                .filter(|s| {
                    s.base_file
                        .as_ref()
                        .is_some_and(|b| b.size < wc.small_file_limit)
                })
                .collect();
            small.sort_by_key(|s| s.base_file.as_ref().map_or(0, |b| b.size));
            for s in small {
                if rest.is_empty() {
                    break;
                }
                let size = s.base_file.as_ref().map_or(0, |b| b.size);
                let capacity =
                    (wc.max_file_size.saturating_sub(size) / avg_record_size.max(1)) as usize;
                let take = capacity.min(rest.len());
                if take == 0 {
                    continue;
                }
                group_entry(&mut groups, view, &id_of(s))
                    .inserts
                    .extend_from_slice(&rest[..take]);
                rest = &rest[take..];
            }
        }
        for chunk in rest.chunks(per_group.max(1)) {
            let id = FileGroupId {
                partition: partition.clone(),
                file_id: new_file_id(),
            };
            groups.insert(
                id.clone(),
                FileGroupWrite {
                    partition: id.partition.clone(),
                    file_id: id.file_id.clone(),
                    existing: None,
                    changes: HashMap::new(),
                    inserts: chunk.to_vec(),
                },
            );
        }
    }
    Ok(Plan {
        groups: groups.into_values().collect(),
        replaced,
    })
}

fn id_of(s: &FileSlice) -> FileGroupId {
    FileGroupId {
        partition: s.partition.clone(),
        file_id: s.file_id.clone(),
    }
}

/// The inflight "workload profile": per partition one stat with `fileId:""` carrying the
/// insert count, and one per updated file group with its `prevCommit` and update count.
pub fn workload_profile(p: &Plan, op: WriteOperation) -> CommitMetadata {
    let mut m = CommitMetadata {
        operation_type: Some(op.token().to_string()),
        ..Default::default()
    };
    let mut inserts: BTreeMap<String, i64> = BTreeMap::new();
    for g in &p.groups {
        if g.existing.is_none() {
            *inserts.entry(g.partition.clone()).or_default() += g.inserts.len() as i64;
            continue;
        }
        let updates = g
            .changes
            .values()
            .filter(|c| matches!(c, Change::Update(_)))
            .count() as i64;
        m.partition_to_write_stats
            .entry(g.partition.clone())
            .or_default()
            .push(WriteStat {
                file_id: Some(g.file_id.clone()),
                prev_commit: g.existing.as_ref().map(|b| b.name.instant.to_string()),
                num_update_writes: updates,
                num_inserts: g.inserts.len() as i64,
                ..Default::default()
            });
    }
    for (partition, n) in inserts {
        m.partition_to_write_stats
            .entry(partition)
            .or_default()
            .insert(
                0,
                WriteStat {
                    file_id: Some(String::new()),
                    prev_commit: Some("null".into()),
                    num_inserts: n,
                    ..Default::default()
                },
            );
    }
    if op.is_replace() {
        m.partition_to_replace_file_ids = Some(BTreeMap::new());
    }
    m
}
