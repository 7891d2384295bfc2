//! Running a compaction plan: each file group's slice (base file and the plan's log files) is
//! merged by the snapshot reader's merger and streamed into a new base file at the compaction
//! instant; the instant completes as `C.commit` with compaction write stats. A failed earlier
//! attempt (an inflight compaction) is cleaned up and run again from its plan.

use std::sync::Arc;
use std::time::Instant as Stopwatch;

use arrow::datatypes::SchemaRef;
use bytes::Bytes;

use super::config::CompactionConfig;
use super::plan::check_table;
use crate::config::table::TableConfig;
use crate::error::{HudiError, Result};
use crate::fs_view::{BaseFile, FileSlice, LogFile};
use crate::model::metadata::{CommitMetadata, CompactionOperation, RuntimeStats, WriteStat};
use crate::model::{
    with_meta_fields, Action, BaseFileName, DataFileName, Instant, InstantTime, LogFileName, State,
};
use crate::read::{ReadOptions, ReadPlan};
use crate::storage::Storage;
use crate::timeline::Timeline;
use crate::txn::markers::{create_marker, delete_markers, marked_files, MarkerType};
use crate::txn::{SingleWriter, Transaction};
use crate::write::base_writer::BaseFileWriter;
use crate::write::config::WriteConfig;
use crate::write::schema::{avro_schema, record_full_name, stored_schema, to_stored};

/// What one compaction did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompactionOutcome {
    pub instant: InstantTime,
    pub file_groups: usize,
    pub records_written: u64,
    pub log_records: u64,
    pub bytes_written: u64,
    /// File groups whose log records went over the memory budget and spilled to disk.
    pub spilled_groups: usize,
    /// Whether an earlier, failed attempt was cleaned up first.
    pub retried: bool,
    pub duration_ms: u64,
}

/// What running the pending compaction, or scheduling one first, came to (see
/// `CompactionBuilder::run_or_schedule`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PendingRun {
    Ran(CompactionOutcome),
    /// None was pending and no file group has anything to compact.
    NothingToCompact {
        reason: String,
    },
}

/// What the file-group merges of one compaction share.
struct Ctx<'a> {
    storage: &'a Storage,
    instant: &'a InstantTime,
    read: ReadPlan,
    write_schema: SchemaRef,
    avro_schema: String,
    record_name: String,
    wc: WriteConfig,
    memory_budget: usize,
}

/// Runs the pending compaction `instant` (the earliest pending one when `None`).
pub async fn run(
    storage: &Storage,
    config: &TableConfig,
    instant: Option<&InstantTime>,
    cc: &CompactionConfig,
    options: &std::collections::BTreeMap<String, String>,
    progress: Option<&crate::services::Progress>,
) -> Result<CompactionOutcome> {
    let started = Stopwatch::now();
    check_table(storage, config)?;
    let timeline = Timeline::load(storage, config).await?;
    let pending: Vec<InstantTime> = timeline
        .pending()
        .filter(|i| i.action() == Action::Compaction)
        .map(|i| i.requested().clone())
        .collect();
    let c = match instant {
        Some(t) if pending.contains(t) => t.clone(),
        Some(t) => {
            return Err(HudiError::InstantNotFound {
                instant: format!("{t} (pending compactions: {})", list(&pending)),
                table: storage.location().to_string(),
            })
        }
        None => pending
            .first()
            .cloned()
            .ok_or_else(|| HudiError::InvalidReadOptions {
                reason: format!(
                    "no compaction is pending on '{}': schedule one first",
                    storage.location()
                ),
            })?,
    };
    let plan = timeline.compaction_plan(&c).await?;
    let mut txn = Transaction::resume(
        storage,
        &timeline,
        c.clone(),
        Action::Compaction,
        Arc::new(SingleWriter),
    );
    let inflight = Instant::new(c.clone(), Action::Compaction, State::Inflight);
    let retried = storage.exists(&timeline.instant_path(&inflight)).await?;
    if retried {
        undo_failed_attempt(storage, &c, &plan.operations).await?;
        txn.revert_to_requested().await?;
    }
    txn.start(Bytes::new()).await?;

    let (table_schema, _) = crate::read::schema::table_schema(storage, config, &timeline).await?;
    let write_schema = Arc::new(with_meta_fields(stored_schema(&table_schema)?.as_ref()));
    let options_all = config.options_with(options);
    let ctx = Ctx {
        storage,
        instant: &c,
        read: ReadPlan::new(config, &timeline, table_schema, &ReadOptions::default())?
            .with_blocks_up_to(&c),
        avro_schema: avro_schema(&write_schema, &config.name, true, true)?,
        record_name: record_full_name(&config.name),
        write_schema,
        wc: WriteConfig::from_options(&options_all)?,
        memory_budget: cc.memory_budget,
    };
    let mut meta = CommitMetadata {
        compacted: true,
        operation_type: Some("COMPACT".into()),
        ..Default::default()
    };
    let mut outcome = CompactionOutcome {
        instant: c.clone(),
        file_groups: 0,
        records_written: 0,
        log_records: 0,
        bytes_written: 0,
        spilled_groups: 0,
        retried,
        duration_ms: 0,
    };
    let total = plan.operations.len();
    crate::services::report(progress, "compaction", "file groups", 0, total);
    // File groups are compacted on several cores at once.
    let done = std::sync::atomic::AtomicUsize::new(0);
    let results = crate::io::parallel::each_file_group(plan.operations.len(), |task| {
        let (ctx, done) = (&ctx, &done);
        let op = &plan.operations[task];
        async move {
            let r = compact_group(ctx, op, task).await?;
            let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            crate::services::report(progress, "compaction", "file groups", n, total);
            Ok(r)
        }
    })
    .await?;
    for (stat, spilled) in results {
        outcome.file_groups += 1;
        outcome.records_written += stat.num_writes as u64;
        outcome.log_records += stat.total_log_records as u64;
        outcome.bytes_written += stat.file_size_in_bytes as u64;
        outcome.spilled_groups += usize::from(spilled);
        txn.touch(crate::fs_view::FileGroupId {
            partition: stat.partition_path.clone().unwrap_or_default(),
            file_id: stat.file_id.clone().unwrap_or_default(),
        });
        meta.partition_to_write_stats
            .entry(stat.partition_path.clone().unwrap_or_default())
            .or_default()
            .push(stat);
    }
    let table_avro = avro_schema(&ctx.write_schema, &config.name, false, true)?;
    meta.extra_metadata.insert("schema".into(), table_avro);
    let bytes = serde_json::to_vec_pretty(&meta).map_err(|e| HudiError::Internal {
        what: format!("compaction metadata of {c}: {e}"),
    })?;
    txn.commit(Bytes::from(bytes)).await?;
    outcome.duration_ms = started.elapsed().as_millis() as u64;
    Ok(outcome)
}

fn list(v: &[InstantTime]) -> String {
    if v.is_empty() {
        "none".into()
    } else {
        v.iter()
            .map(InstantTime::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Removes what a failed attempt of compaction `c` wrote: files its markers name and base
/// files at instant `c` in the plan's file groups.
async fn undo_failed_attempt(
    storage: &Storage,
    c: &InstantTime,
    ops: &[CompactionOperation],
) -> Result<()> {
    for f in marked_files(storage, c).await? {
        storage.delete(&f).await?;
    }
    let mut partitions: Vec<String> = ops
        .iter()
        .filter_map(|o| o.partition_path.clone())
        .collect();
    partitions.sort();
    partitions.dedup();
    for p in partitions {
        for f in storage.list_dir(&p).await?.files {
            if let Some(Ok(DataFileName::Base(b))) = DataFileName::classify(&f.name) {
                let planned = ops
                    .iter()
                    .any(|o| o.file_id.as_deref() == Some(b.file_id.as_str()));
                if &b.instant == c && planned {
                    storage.delete(&f.path).await?;
                }
            }
        }
    }
    delete_markers(storage, c).await
}

/// The slice an operation names: its base file and log files, which must all exist.
async fn slice_of(storage: &Storage, op: &CompactionOperation) -> Result<FileSlice> {
    let partition = op.partition_path.clone().unwrap_or_default();
    let file_id = op
        .file_id
        .clone()
        .ok_or_else(|| HudiError::InstantMetadata {
            instant: String::new(),
            path: String::new(),
            what: "compaction plan",
            reason: "an operation without a file id".into(),
        })?;
    let rel = |name: &str| {
        if partition.is_empty() {
            name.to_string()
        } else {
            format!("{partition}/{name}")
        }
    };
    let base_file = match &op.data_file_path {
        Some(name) if !name.is_empty() => {
            // Plans may hold names or paths: the name is what counts.
            let name = name.rsplit('/').next().unwrap_or(name);
            let path = rel(name);
            Some(BaseFile {
                name: BaseFileName::parse(name)?,
                size: storage.size(&path).await?,
                path,
            })
        }
        _ => None,
    };
    let mut log_files = Vec::new();
    for name in &op.delta_file_paths {
        let name = name.rsplit('/').next().unwrap_or(name);
        let path = rel(name);
        log_files.push(LogFile {
            name: LogFileName::parse(name)?,
            size: storage.size(&path).await?,
            path,
            completion: None,
        });
    }
    log_files.sort_by(|a, b| a.name.slice_order(&b.name));
    let base_instant = match &op.base_instant_time {
        Some(t) => InstantTime::parse(t)?,
        None => base_file
            .as_ref()
            .map(|b| b.name.instant.clone())
            .unwrap_or_else(InstantTime::zero),
    };
    Ok(FileSlice {
        partition,
        file_id,
        base_instant,
        base_file,
        log_files,
    })
}

/// Compacts one file group into a new base file; returns its write stat and whether its logs
/// spilled to disk.
async fn compact_group(
    ctx: &Ctx<'_>,
    op: &CompactionOperation,
    task: usize,
) -> Result<(WriteStat, bool)> {
    let started = Stopwatch::now();
    let slice = slice_of(ctx.storage, op).await?;
    let name = BaseFileName {
        file_id: slice.file_id.clone(),
        write_token: crate::write::write_token(ctx.instant, task),
        instant: ctx.instant.clone(),
        extension: "parquet".into(),
    }
    .to_string();
    let mut writer = BaseFileWriter::new(
        ctx.storage,
        &slice.partition,
        name,
        &ctx.write_schema,
        &ctx.wc,
        &ctx.record_name,
        &ctx.avro_schema,
    )?;
    let kind = if slice.base_file.is_some() {
        MarkerType::Merge
    } else {
        MarkerType::Create
    };
    create_marker(ctx.storage, ctx.instant, &writer.rel, kind).await?;
    let schema = ctx.write_schema.clone();
    let mut sink =
        |b: arrow::array::RecordBatch| -> Result<()> { writer.write(&to_stored(&b, &schema)?) };
    let scan_started = Stopwatch::now();
    let stats = ctx
        .read
        .merge_slice(ctx.storage, &slice, ctx.memory_budget, &mut sink)
        .await?;
    let scan_ms = scan_started.elapsed().as_millis() as i64;
    let rows = writer.rows() as i64;
    let rel = writer.rel.clone();
    let size = writer.finish(ctx.storage).await? as i64;
    let kept_base =
        stats.base_records as i64 - stats.merge.updated as i64 - stats.merge.deleted as i64;
    let stat = WriteStat {
        file_id: Some(slice.file_id.clone()),
        path: Some(rel),
        prev_commit: Some(slice.base_instant.to_string()),
        num_writes: rows,
        num_deletes: stats.merge.deleted as i64,
        num_update_writes: stats.merge.updated as i64,
        num_inserts: (rows - kept_base - stats.merge.updated as i64).max(0),
        total_write_bytes: size,
        partition_path: Some(slice.partition.clone()),
        total_log_records: stats.merge.log_records as i64,
        total_log_files_compacted: stats.log_files as i64,
        total_log_size_compacted: stats.log_bytes as i64,
        total_updated_records_compacted: stats.merge.updated as i64,
        total_log_blocks: stats.log_blocks as i64,
        total_corrupt_log_block: stats.corrupt_blocks as i64,
        total_rollback_blocks: stats.rollback_blocks as i64,
        file_size_in_bytes: size,
        runtime_stats: Some(RuntimeStats {
            total_scan_time: scan_ms,
            total_upsert_time: started.elapsed().as_millis() as i64,
            total_create_time: 0,
        }),
        ..Default::default()
    };
    Ok((stat, stats.spilled))
}
