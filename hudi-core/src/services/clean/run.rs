//! Running a clean: unfinished cleans first (their plans again), then a new plan
//! (`T.clean.requested`, Avro `HoodieCleanerPlan` v2 with full paths), the same plan as
//! `T.clean.inflight`, the deletes, and `T.clean` (Avro `HoodieCleanMetadata` v2, file names
//! per partition).

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Instant as Stopwatch;

use bytes::Bytes;

use super::config::{CleanConfig, CleanPolicy};
use super::plan::{nothing_due, select, CleanInputs, CleanSelection};
use crate::error::{HudiError, Result};
use crate::fs_view::FileSystemView;
use crate::model::avro_services::{encode_clean_metadata, encode_clean_plan};
use crate::model::metadata::{
    decode_json_or_avro, ActionInstant, CleanFileInfo, CleanMetadata, CleanPartitionMetadata,
    CleanPlan,
};
use crate::model::{Action, Instant, InstantTime, State};
use crate::services::savepoint::savepointed_files;
use crate::storage::Storage;
use crate::timeline::transition::{next_instant, Clock};
use crate::timeline::Timeline;
use crate::txn::{SingleWriter, Transaction};

/// What one clean instant deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CleanReport {
    pub instant: InstantTime,
    pub policy: String,
    pub earliest_retained: Option<InstantTime>,
    /// File names deleted, per partition.
    pub deleted: BTreeMap<String, Vec<String>>,
    /// Files the plan named that were already gone.
    pub missing: Vec<String>,
    pub partitions_deleted: Vec<String>,
    pub duration_ms: u64,
}

impl CleanReport {
    pub fn files_deleted(&self) -> usize {
        self.deleted.values().map(Vec::len).sum()
    }
}

/// What a clean did, or would do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CleanOutcome {
    Cleaned(CleanReport),
    /// A dry run: what a clean now would delete (table-relative paths).
    WouldClean(CleanSelection),
    NothingToClean {
        reason: String,
    },
}

/// A clean request: unfinished cleans are completed first, then a new one planned.
#[derive(Debug, Clone)]
pub struct CleanRun {
    /// Cleans that an earlier run left unfinished, completed now.
    pub finished: Vec<CleanReport>,
    pub outcome: CleanOutcome,
}

/// Plans what a clean would delete now, without changing anything.
pub async fn plan(
    storage: &Storage,
    timeline: &Timeline,
    cc: &CleanConfig,
    clock: &dyn Clock,
) -> Result<std::result::Result<CleanSelection, String>> {
    let now = clock.now();
    if let Some(reason) = nothing_due(timeline, cc, now) {
        return Ok(Err(reason));
    }
    let savepointed: HashSet<String> = savepointed_files(timeline).await?;
    let view = FileSystemView::load(storage, timeline, None).await?;
    let inputs = CleanInputs {
        timeline,
        config: cc,
        now,
        savepointed: &savepointed,
    };
    let selection = select(&view, &inputs);
    if selection.is_empty() {
        let reason = match &selection.earliest_retained {
            Some((t, _)) => format!(
                "no file slice is older than what the earliest retained commit {t} reads, outside savepoints and pending compactions"
            ),
            None => format!(
                "no file group has more than {} versions (hoodie.cleaner.fileversions.retained)",
                cc.file_versions_retained
            ),
        };
        return Ok(Err(reason));
    }
    Ok(Ok(selection))
}

/// Completes unfinished cleans, then cleans what `cc` allows (or, with `dry_run`, reports it),
/// starting from `timeline` as the caller loaded it (under the table lock when there is one).
pub async fn clean(
    storage: &Storage,
    mut timeline: Timeline,
    cc: &CleanConfig,
    clock: &dyn Clock,
    dry_run: bool,
    progress: Option<&crate::services::Progress>,
) -> Result<CleanRun> {
    let mut finished = Vec::new();
    if !dry_run {
        finished = finish_pending(storage, &timeline, progress).await?;
        if !finished.is_empty() {
            timeline = timeline.reload().await?;
        }
    }
    let selection = match plan(storage, &timeline, cc, clock).await? {
        Ok(s) => s,
        Err(reason) => {
            return Ok(CleanRun {
                finished,
                outcome: CleanOutcome::NothingToClean { reason },
            })
        }
    };
    if dry_run {
        return Ok(CleanRun {
            finished,
            outcome: CleanOutcome::WouldClean(selection),
        });
    }
    let plan = to_plan(storage, cc.policy, &selection);
    let bytes = encode_clean_plan(&plan).map_err(|e| {
        HudiError::instant_content(&next_instant(&timeline, clock), "clean plan", e)
    })?;
    let txn = Transaction::begin(
        storage,
        &timeline,
        Action::Clean,
        Bytes::from(bytes),
        clock,
        Arc::new(SingleWriter),
    )
    .await?;
    let report = execute(txn, &plan, progress).await?;
    Ok(CleanRun {
        finished,
        outcome: CleanOutcome::Cleaned(report),
    })
}

fn to_plan(storage: &Storage, policy: CleanPolicy, s: &CleanSelection) -> CleanPlan {
    CleanPlan {
        earliest_instant_to_retain: s.earliest_retained.as_ref().map(|(t, a)| ActionInstant {
            timestamp: t.to_string(),
            action: a.token().to_string(),
            state: "COMPLETED".into(),
        }),
        last_completed_commit_timestamp: s
            .last_completed
            .as_ref()
            .map(|t| t.to_string())
            .unwrap_or_default(),
        policy: policy.name().to_string(),
        file_paths_to_be_deleted_per_partition: s
            .files
            .iter()
            .map(|(p, files)| {
                let infos = files
                    .iter()
                    .map(|f| CleanFileInfo {
                        file_path: Some(storage.display(f)),
                        is_bootstrap_base_file: Some(false),
                    })
                    .collect();
                (p.clone(), infos)
            })
            .collect(),
        files_to_be_deleted_per_partition: BTreeMap::new(),
        partitions_to_be_deleted: s.partitions.clone(),
        version: Some(2),
        extra_metadata: BTreeMap::new(),
    }
}

/// Executes every requested or inflight clean on the timeline, oldest first.
pub async fn finish_pending(
    storage: &Storage,
    timeline: &Timeline,
    progress: Option<&crate::services::Progress>,
) -> Result<Vec<CleanReport>> {
    let mut out = Vec::new();
    for i in timeline.pending().filter(|i| i.action() == Action::Clean) {
        let t = i.requested().clone();
        let requested = Instant::new(t.clone(), Action::Clean, State::Requested);
        let bytes = timeline.read(&requested).await?;
        let plan: CleanPlan = decode_json_or_avro(&bytes)
            .map_err(|e| HudiError::instant_content(&t, "clean plan", e))?;
        let txn = Transaction::resume(storage, timeline, t, Action::Clean, Arc::new(SingleWriter));
        out.push(execute(txn, &plan, progress).await?);
    }
    Ok(out)
}

/// The table-relative path of a file a plan names. A plan written where the table lived
/// before it moved names the old location: its partition and file name are taken, so a clean
/// never deletes outside the table.
fn plan_file(storage: &Storage, partition: &str, full: &str) -> Result<String> {
    if let Some(rel) = storage.relative(full) {
        return Ok(rel);
    }
    let name = full.rsplit('/').next().unwrap_or_default();
    if name.is_empty() {
        return Err(HudiError::InvalidLocation {
            location: full.to_string(),
            reason: "a clean plan names a path without a file name".into(),
        });
    }
    Ok(if partition.is_empty() {
        name.to_string()
    } else {
        format!("{partition}/{name}")
    })
}

/// Deletes what the plan names and completes the clean.
async fn execute(
    mut txn: Transaction,
    plan: &CleanPlan,
    progress: Option<&crate::services::Progress>,
) -> Result<CleanReport> {
    let started = Stopwatch::now();
    let storage = txn.storage().clone();
    let t = txn.instant().clone();
    let inflight = Instant::new(t.clone(), Action::Clean, State::Inflight);
    if !storage
        .exists(&txn.timeline().instant_path(&inflight))
        .await?
    {
        let bytes =
            encode_clean_plan(plan).map_err(|e| HudiError::instant_content(&t, "clean plan", e))?;
        txn.start(Bytes::from(bytes)).await?;
    }
    let mut files: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (p, infos) in &plan.file_paths_to_be_deleted_per_partition {
        for path in infos.iter().filter_map(|i| i.file_path.as_deref()) {
            files
                .entry(p.clone())
                .or_default()
                .push(plan_file(&storage, p, path)?);
        }
    }
    // Version 1 plans name files per partition.
    for (p, names) in &plan.files_to_be_deleted_per_partition {
        for n in names {
            files
                .entry(p.clone())
                .or_default()
                .push(plan_file(&storage, p, n)?);
        }
    }
    let mut report = CleanReport {
        instant: t.clone(),
        policy: plan.policy.clone(),
        earliest_retained: plan
            .earliest_instant_to_retain
            .as_ref()
            .and_then(|i| InstantTime::parse(&i.timestamp).ok()),
        deleted: BTreeMap::new(),
        missing: Vec::new(),
        partitions_deleted: Vec::new(),
        duration_ms: 0,
    };
    let mut partitions: BTreeMap<String, CleanPartitionMetadata> = BTreeMap::new();
    let total: usize = files.values().map(Vec::len).sum();
    let mut done = 0;
    for (p, rels) in &files {
        let pm = partition_metadata(&mut partitions, p, &plan.policy);
        for rel in rels {
            let name = rel.rsplit('/').next().unwrap_or(rel).to_string();
            pm.delete_path_patterns.push(name.clone());
            done += 1;
            if done % 64 == 0 || done == total {
                crate::services::report(progress, "clean", "files", done, total);
            }
            if storage.delete_existing(rel).await? {
                pm.success_delete_files.push(name.clone());
                report.deleted.entry(p.clone()).or_default().push(name);
            } else {
                pm.failed_delete_files.push(name);
                report.missing.push(rel.clone());
            }
        }
    }
    for p in &plan.partitions_to_be_deleted {
        if p.is_empty() {
            continue;
        }
        storage.delete_tree(p).await?;
        partition_metadata(&mut partitions, p, &plan.policy).is_partition_deleted = Some(true);
        report.partitions_deleted.push(p.clone());
    }
    report.duration_ms = started.elapsed().as_millis() as u64;
    let meta = CleanMetadata {
        start_clean_time: t.to_string(),
        time_taken_in_millis: report.duration_ms as i64,
        total_files_deleted: report.files_deleted() as i32,
        earliest_commit_to_retain: report
            .earliest_retained
            .as_ref()
            .map(|t| t.to_string())
            .unwrap_or_default(),
        last_completed_commit_timestamp: plan.last_completed_commit_timestamp.clone(),
        partition_metadata: partitions,
        version: Some(2),
        extra_metadata: plan.extra_metadata.clone(),
    };
    let bytes = encode_clean_metadata(&meta)
        .map_err(|e| HudiError::instant_content(&t, "clean metadata", e))?;
    txn.commit(Bytes::from(bytes)).await?;
    Ok(report)
}

fn partition_metadata<'m>(
    m: &'m mut BTreeMap<String, CleanPartitionMetadata>,
    p: &str,
    policy: &str,
) -> &'m mut CleanPartitionMetadata {
    m.entry(p.to_string())
        .or_insert_with(|| CleanPartitionMetadata {
            partition_path: p.to_string(),
            policy: policy.to_string(),
            is_partition_deleted: Some(false),
            ..Default::default()
        })
}

/// Whether an automatic clean is due: at least `hoodie.clean.max.commits` commits completed
/// since the last clean planned.
pub async fn automatic_due(timeline: &Timeline, cc: &CleanConfig) -> Result<bool> {
    let since = timeline
        .last_clean()
        .await?
        .and_then(|(_, m)| InstantTime::parse(&m.last_completed_commit_timestamp).ok());
    let commits = timeline
        .completed_writes()
        .filter(|i| since.as_ref().is_none_or(|s| i.requested() > s))
        .count();
    Ok(commits >= cc.max_commits.max(1))
}
