//! Planning a write: tag records with their current location through the index, then route
//! updates and deletes to their file groups, and inserts to small files first and new file
//! groups after (Hudi's upsert partitioner), or replace whole partitions.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::error::Result;
use crate::fs_view::{FileGroupId, FileSlice, FileSystemView};
use crate::index::bucket::{bucket_id, bucket_of_file_id, new_bucket_file_id};
use crate::index::{lookup, IndexKind};
use crate::model::metadata::{CommitMetadata, WriteStat};
use crate::model::{InstantTime, OrderingValue};
use crate::storage::Storage;
use crate::timeline::Timeline;

use super::config::{IndexType, Payload, WriteConfig};
use super::handle::{Change, FileGroupWrite};
use super::log_handle::LogGroupWrite;
use super::records::Prepared;
use super::WriteOperation;

/// The file groups a commit writes and the ones it replaces.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// New base files (create or merge).
    pub groups: Vec<FileGroupWrite>,
    /// Log appends (merge-on-read).
    pub logs: Vec<LogGroupWrite>,
    pub replaced: Vec<FileGroupId>,
}

impl Plan {
    /// Partitions receiving files.
    pub fn partitions_written(&self) -> BTreeSet<String> {
        self.groups
            .iter()
            .map(|g| g.partition.clone())
            .chain(self.logs.iter().map(|l| l.partition.clone()))
            .collect()
    }
}

/// What the planner needs to know about the table and this commit.
pub struct PlanContext<'a> {
    pub op: WriteOperation,
    pub wc: &'a WriteConfig,
    pub view: &'a FileSystemView,
    pub merge_on_read: bool,
    /// The record key fields (default bucket hash fields).
    pub record_key_fields: &'a [String],
    pub instant: &'a InstantTime,
    /// The precombine field, for payloads that compare ordering values.
    pub ordering_field: Option<&'a str>,
}

/// Log targets of a merge-on-read commit, one per file group.
struct LogTargets<'a> {
    ctx: &'a PlanContext<'a>,
    groups: BTreeMap<FileGroupId, LogGroupWrite>,
}

impl<'a> LogTargets<'a> {
    fn entry(&mut self, id: &FileGroupId) -> &mut LogGroupWrite {
        if self.groups.contains_key(id) {
            return self.groups.get_mut(id).expect("present");
        }
        let ctx = self.ctx;
        self.groups.entry(id.clone()).or_insert_with(|| {
            let group = ctx.view.groups.get(id);
            let latest = group.and_then(|g| g.slices.values().next_back());
            // A pending compaction starts a new slice at its instant: logs are named after it.
            let base_instant = ctx
                .view
                .pending_compactions
                .get(id)
                .map(|c| c.instant.clone())
                .or_else(|| latest.map(|s| s.base_instant.clone()))
                .unwrap_or_else(|| ctx.instant.clone());
            let all_logs = group
                .map(|g| {
                    g.slices
                        .values()
                        .flat_map(|s| s.log_files.iter())
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default();
            let next_version = all_logs
                .iter()
                .filter(|l| l.name.instant == base_instant)
                .map(|l| l.name.version)
                .max()
                .map_or(1, |v| v + 1);
            let existing_logs = all_logs
                .into_iter()
                .filter(|l| l.name.instant == base_instant)
                .cloned()
                .collect();
            let base_file = latest
                .filter(|s| s.base_instant == base_instant)
                .and_then(|s| s.base_file.as_ref())
                .map(|b| b.name.to_string());
            LogGroupWrite {
                partition: id.partition.clone(),
                file_id: id.file_id.clone(),
                base_instant,
                base_file,
                existing_logs,
                next_version,
                rows: Vec::new(),
                updates: Vec::new(),
                deletes: Vec::new(),
            }
        })
    }
}

/// A new file group id: a random UUID and `-0`.
pub fn new_file_id() -> String {
    format!("{}-0", uuid::Uuid::new_v4())
}

/// Average bytes per record, as Hudi's upsert partitioner estimates it: from the newest
/// completed (non-replace) commit that wrote more than `threshold_bytes` (rounded up), else
/// the configured estimate (`hoodie.copyonwrite.record.size.estimate`).
pub async fn average_record_size(
    timeline: &Timeline,
    estimate: u64,
    threshold_bytes: u64,
) -> Result<u64> {
    let writes: Vec<_> = timeline
        .completed_writes()
        .filter(|i| i.action() != crate::model::Action::ReplaceCommit)
        .collect();
    for i in writes.into_iter().rev() {
        let m = match timeline.commit_metadata(&i.instant).await {
            Ok(m) => m,
            // Archived by another writer since the timeline was loaded.
            Err(crate::HudiError::NotFound { .. }) => continue,
            Err(e) => return Err(e),
        };
        let (bytes, records) = m.write_stats().fold((0i64, 0i64), |(b, r), (_, s)| {
            (b + s.total_write_bytes, r + s.num_writes)
        });
        if records > 0 && bytes as u64 > threshold_bytes {
            return Ok((bytes as u64).div_ceil(records as u64).max(1));
        }
    }
    Ok(estimate)
}

fn group_entry<'a>(
    groups: &'a mut BTreeMap<FileGroupId, FileGroupWrite>,
    view: &FileSystemView,
    id: &FileGroupId,
) -> &'a mut FileGroupWrite {
    if groups.contains_key(id) {
        return groups.get_mut(id).expect("present");
    }
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

/// The file group of a bucket in a partition: the existing one, or a new id.
fn bucket_group(
    view: &FileSystemView,
    partition: &str,
    bucket: u32,
    fresh: &mut HashMap<(String, u32), String>,
) -> (FileGroupId, bool) {
    let existing = view
        .groups
        .keys()
        .find(|id| id.partition == partition && bucket_of_file_id(&id.file_id) == Some(bucket));
    match existing {
        Some(id) => (id.clone(), true),
        None => {
            let file_id = fresh
                .entry((partition.to_string(), bucket))
                .or_insert_with(|| new_bucket_file_id(bucket))
                .clone();
            (
                FileGroupId {
                    partition: partition.to_string(),
                    file_id,
                },
                false,
            )
        }
    }
}

/// Rows by partition path, each partition's rows in input order (a partition's name is
/// copied once, not once a row).
fn by_partition(prepared: &Prepared, rows: Vec<usize>) -> BTreeMap<String, Vec<usize>> {
    let mut by_id: HashMap<u32, Vec<usize>> = HashMap::new();
    for i in rows {
        by_id
            .entry(prepared.partition_index(i))
            .or_default()
            .push(i);
    }
    by_id
        .into_iter()
        .map(|(id, rows)| (prepared.partition_names()[id as usize].clone(), rows))
        .collect()
}

/// Live rows by the file group of their bucket (and whether it exists), in file group order.
/// A (partition, bucket) pair is looked up once, not once a row.
fn by_bucket(
    view: &FileSystemView,
    prepared: &Prepared,
    hash_fields: &[String],
    num_buckets: u32,
) -> Vec<((FileGroupId, bool), Vec<usize>)> {
    let mut fresh: HashMap<(String, u32), String> = HashMap::new();
    let mut slot: HashMap<(u32, u32), usize> = HashMap::new();
    let mut out: Vec<((FileGroupId, bool), Vec<usize>)> = Vec::new();
    for &i in &prepared.live {
        let b = bucket_id(prepared.key(i), hash_fields, num_buckets);
        let k = *slot
            .entry((prepared.partition_index(i), b))
            .or_insert_with(|| {
                let group = bucket_group(view, prepared.partition(i), b, &mut fresh);
                out.push((group, Vec::new()));
                out.len() - 1
            });
        out[k].1.push(i);
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Plans the write. May rewrite `prepared.partitions` (global index without partition moves).
pub async fn plan(
    storage: &Storage,
    pc: &PlanContext<'_>,
    prepared: &mut Prepared,
    avg_record_size: u64,
    partitions_to_drop: &[String],
) -> Result<Plan> {
    let (op, wc, view) = (pc.op, pc.wc, pc.view);
    let latest: Vec<&FileSlice> = view.latest_slices();
    let mut groups: BTreeMap<FileGroupId, FileGroupWrite> = BTreeMap::new();
    let mut logs = LogTargets {
        ctx: pc,
        groups: BTreeMap::new(),
    };
    // Rows to insert, grouped by partition once they are all known.
    let mut insert_rows: Vec<usize> = Vec::new();
    let mut replaced = Vec::new();
    let bucketed = wc.index == IndexType::Bucket;
    let hash_fields = wc.hash_fields(pc.record_key_fields);

    if bucketed && !op.is_replace() {
        // Records go to their bucket's file group; no lookup is needed to route them.
        for ((id, exists), rows) in by_bucket(view, prepared, &hash_fields, wc.num_buckets) {
            // A bulk insert starts new buckets with base files, as Java's bucket bulk-insert
            // writer does; other writes start them with logs (the bucket index indexes logs).
            let fresh_base = op == WriteOperation::BulkInsert && !exists;
            if pc.merge_on_read && !fresh_base {
                let lg = logs.entry(&id);
                for i in rows {
                    if prepared.deletes[i] {
                        if exists {
                            lg.deletes.push((
                                prepared.key(i).to_string(),
                                prepared.partition(i).to_string(),
                                delete_ordering(op, prepared.ordering(i)),
                            ));
                        }
                    } else {
                        // Java tags every record of an existing bucket with its location,
                        // so it counts as an update.
                        lg.push(i, exists);
                    }
                }
                continue;
            }
            // Copy-on-write: rewrite the bucket's file group (or create it).
            let present: HashSet<String> = match view
                .groups
                .get(&id)
                .and_then(|g| g.slices.values().next_back())
                .and_then(|s| s.base_file.as_ref())
            {
                Some(b) => crate::index::file_keys(storage, b)
                    .await?
                    .into_iter()
                    .collect(),
                None => HashSet::new(),
            };
            let g = group_entry(&mut groups, view, &id);
            for i in rows {
                let key = prepared.key(i);
                if !present.contains(key) {
                    if !prepared.deletes[i] {
                        g.inserts.push(i);
                    }
                } else if prepared.deletes[i] {
                    g.changes.insert(
                        key.to_string(),
                        Change::Delete((op != WriteOperation::Delete).then_some(i)),
                    );
                } else {
                    g.changes.insert(key.to_string(), Change::Update(i));
                }
            }
        }
        let logs: Vec<LogGroupWrite> = logs
            .groups
            .into_values()
            .filter(|l| !l.rows.is_empty() || !l.deletes.is_empty())
            .collect();
        return reject_clustering(
            pc,
            Plan {
                groups: groups
                    .into_values()
                    .filter(|g| {
                        g.existing.is_none() || !g.changes.is_empty() || !g.inserts.is_empty()
                    })
                    .collect(),
                logs,
                replaced,
            },
        );
    }

    match op {
        WriteOperation::Upsert | WriteOperation::Delete => {
            let global = wc.index.is_global();
            let kind = IndexKind {
                bloom: matches!(wc.index, IndexType::Bloom | IndexType::GlobalBloom),
                global,
            };
            // DefaultHoodieRecordPayload compares ordering values: fetch the stored ones.
            let ordering_field = pc.ordering_field.filter(|_| wc.payload == Payload::Default);
            let live = prepared.live.clone();
            let found = {
                let p: &Prepared = prepared;
                lookup(
                    storage,
                    kind,
                    wc.bloom_prune_by_ranges,
                    ordering_field,
                    &latest,
                    live.len(),
                    |j| (p.key(live[j]), p.partition(live[j])),
                )
                .await?
                .0
            };
            let ids: Vec<FileGroupId> = latest.iter().map(|s| id_of(s)).collect();
            let mut found = found.into_iter().peekable();
            for (j, i) in live.into_iter().enumerate() {
                let loc = found.next_if(|(fj, _)| *fj == j).map(|(_, l)| Found {
                    group: &ids[l.slice],
                    ordering: l.ordering,
                });
                let key = prepared.key(i).to_string();
                let delete_in = |logs: &mut LogTargets,
                                 groups: &mut BTreeMap<FileGroupId, FileGroupWrite>,
                                 id: &FileGroupId,
                                 from_row: Option<usize>,
                                 partition: &str| {
                    if pc.merge_on_read {
                        let ordering =
                            from_row.map_or(OrderingValue::Null, |r| prepared.ordering(r).clone());
                        logs.entry(id)
                            .deletes
                            .push((key.clone(), partition.to_string(), ordering));
                    } else {
                        group_entry(groups, view, id)
                            .changes
                            .insert(key.clone(), Change::Delete(from_row));
                    }
                };
                if prepared.deletes[i] {
                    if let Some(loc) = loc {
                        let from_row = (op != WriteOperation::Delete).then_some(i);
                        delete_in(
                            &mut logs,
                            &mut groups,
                            loc.group,
                            from_row,
                            &loc.group.partition,
                        );
                    }
                    continue;
                }
                match loc {
                    // A stored record with a greater ordering value wins (Default payload):
                    // the incoming one is dropped, and nothing moves.
                    Some(loc)
                        if loc.group.partition != prepared.partition(i)
                            && wc.payload == Payload::Default
                            && matches!(
                                loc.ordering.compare(prepared.ordering(i)),
                                Some(std::cmp::Ordering::Greater)
                            ) => {}
                    Some(loc)
                        if loc.group.partition != prepared.partition(i)
                            && wc.update_partition_path =>
                    {
                        // The record moves: delete the old copy, insert into its new partition.
                        delete_in(
                            &mut logs,
                            &mut groups,
                            loc.group,
                            None,
                            &loc.group.partition,
                        );
                        insert_rows.push(i);
                    }
                    Some(loc) => {
                        prepared.set_partition(i, &loc.group.partition);
                        if pc.merge_on_read {
                            logs.entry(loc.group).push(i, true);
                        } else {
                            group_entry(&mut groups, view, loc.group)
                                .changes
                                .insert(key, Change::Update(i));
                        }
                    }
                    None => insert_rows.push(i),
                }
            }
        }
        WriteOperation::Insert
        | WriteOperation::BulkInsert
        | WriteOperation::InsertOverwrite
        | WriteOperation::InsertOverwriteTable => {
            insert_rows.extend(prepared.live.iter().filter(|&&i| !prepared.deletes[i]));
        }
        WriteOperation::DeletePartition => {}
    }
    let inserts = by_partition(prepared, insert_rows);

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
    // Small files take inserts on copy-on-write tables (a merge-on-read writer with a Bloom
    // index cannot find records in logs, so it writes inserts to new base files).
    let use_small_files = !pc.merge_on_read
        && matches!(op, WriteOperation::Insert | WriteOperation::Upsert)
        && wc.small_file_limit > 0;
    for (partition, rows) in inserts {
        if bucketed {
            // Replace operations with a bucket index: one new file group per bucket.
            let mut by_bucket: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
            for i in rows {
                by_bucket
                    .entry(bucket_id(prepared.key(i), &hash_fields, wc.num_buckets))
                    .or_default()
                    .push(i);
            }
            for (b, rows) in by_bucket {
                new_group(&mut groups, &partition, new_bucket_file_id(b), rows);
            }
            continue;
        }
        let mut rest: &[usize] = &rows;
        if use_small_files {
            let mut small: Vec<&&FileSlice> = latest
                .iter()
                .filter(|s| s.partition == partition)
                .filter(|s| !pc.view.pending_clustering.contains_key(&id_of(s)))
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
            new_group(&mut groups, &partition, new_file_id(), chunk.to_vec());
        }
    }
    reject_clustering(
        pc,
        Plan {
            groups: groups.into_values().collect(),
            logs: logs
                .groups
                .into_values()
                .filter(|l| !l.rows.is_empty() || !l.deletes.is_empty())
                .collect(),
            replaced,
        },
    )
}

/// Where the index found a record.
struct Found<'a> {
    group: &'a FileGroupId,
    ordering: OrderingValue,
}

/// Fails if the plan changes a file group that a pending clustering will replace: its output
/// would be built from the older slice and the change lost (Hudi rejects such updates too).
fn reject_clustering(pc: &PlanContext<'_>, plan: Plan) -> Result<Plan> {
    let touched = plan
        .groups
        .iter()
        .filter(|g| g.existing.is_some())
        .map(|g| (g.partition.as_str(), g.file_id.as_str()))
        .chain(
            plan.logs
                .iter()
                .map(|l| (l.partition.as_str(), l.file_id.as_str())),
        )
        .chain(
            plan.replaced
                .iter()
                .map(|r| (r.partition.as_str(), r.file_id.as_str())),
        );
    for (p, f) in touched {
        let id = FileGroupId {
            partition: p.to_string(),
            file_id: f.to_string(),
        };
        if let Some(c) = pc.view.pending_clustering.get(&id) {
            return Err(crate::error::HudiError::Unsupported {
                path: format!("file group {f} in partition '{p}'"),
                feature: format!(
                    "changing a file group that the pending clustering {c} will replace; run or roll back the clustering first"
                ),
            });
        }
    }
    Ok(plan)
}

/// The ordering value a delete carries: a delete operation's is the "natural order" default
/// (written as `Integer` 0, as Java's deletes by key are); a `_hoodie_is_deleted` row carries
/// its own.
fn delete_ordering(op: WriteOperation, row_ordering: &OrderingValue) -> OrderingValue {
    if op == WriteOperation::Delete {
        OrderingValue::Null
    } else {
        row_ordering.clone()
    }
}

/// A new file group receiving only inserts.
fn new_group(
    groups: &mut BTreeMap<FileGroupId, FileGroupWrite>,
    partition: &str,
    file_id: String,
    inserts: Vec<usize>,
) {
    let id = FileGroupId {
        partition: partition.to_string(),
        file_id,
    };
    let fg = FileGroupWrite {
        partition: id.partition.clone(),
        file_id: id.file_id.clone(),
        existing: None,
        changes: HashMap::new(),
        inserts,
    };
    groups.insert(id, fg);
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
    for l in &p.logs {
        m.partition_to_write_stats
            .entry(l.partition.clone())
            .or_default()
            .push(WriteStat {
                file_id: Some(l.file_id.clone()),
                prev_commit: Some(l.base_instant.to_string()),
                num_update_writes: l.update_count() as i64,
                num_inserts: (l.rows.len() - l.update_count()) as i64,
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
