//! Readers: snapshot, read-optimized, incremental and time-travel queries, streaming one file
//! slice at a time.

pub mod merge;
pub mod schema;

use std::collections::HashSet;
use std::sync::Arc;

use arrow::array::{AsArray, BooleanArray, RecordBatch};
use arrow::compute::filter_record_batch;
use arrow::datatypes::SchemaRef;
use futures::stream::{self, BoxStream, StreamExt};

use crate::config::table::{BaseFileFormat, RecordMergeMode, TableConfig, TableType};
use crate::error::{HudiError, Result};
use crate::fs_view::{CommitIndex, FileGroupId, FileSlice, FileSystemView};
use crate::io::align::align_batch;
use crate::io::base_file::ParquetFile;
use crate::io::log_reader::{LogContent, LogFileDecoder};
use crate::model::{InstantTime, COMMIT_TIME_FIELD};
use crate::storage::Storage;
use crate::timeline::Timeline;

use merge::{resolve_merge_rule, LogBuffer, MergeRule, DEFAULT_MERGE_MEMORY};

/// What a read returns.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum QueryType {
    /// The latest (or as-of) merged view of every record.
    #[default]
    Snapshot,
    /// Base files only: no log merging (the same as snapshot on copy-on-write tables).
    ReadOptimized,
    /// Records written by instants in `(start, end]`. On layout-2 tables (v8+) the bounds are
    /// completion times; on v6 requested times.
    Incremental {
        start: Option<InstantTime>,
        end: Option<InstantTime>,
    },
}

/// What merging one file slice read (compaction reports it in its write stats).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SliceStats {
    pub base_records: u64,
    pub log_files: u64,
    pub log_bytes: u64,
    pub log_blocks: u64,
    pub rollback_blocks: u64,
    pub corrupt_blocks: u64,
    pub merge: merge::MergeStats,
    /// Whether the log records spilled to disk.
    pub spilled: bool,
}

/// Options of one read.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    pub query: QueryType,
    /// Time travel: read the table as of this (requested) instant.
    pub as_of: Option<InstantTime>,
    /// Column projection (all columns when `None`).
    pub columns: Option<Vec<String>>,
}

/// A planned read: which slices, how to gate log blocks, which rows to keep.
#[derive(Debug, Clone)]
pub struct ReadPlan {
    pub slices: Vec<FileSlice>,
    /// The table schema rows are read into.
    pub table_schema: SchemaRef,
    /// The schema of the returned batches (the projection of the table schema).
    pub output_schema: SchemaRef,
    base_only: bool,
    index: CommitIndex,
    /// Incremental: log blocks outside `[from, to]` (requested times) are skipped.
    block_range: Option<(InstantTime, InstantTime)>,
    /// Incremental: only rows whose commit time is one of these are returned.
    admitted: Option<HashSet<String>>,
    merge_rule: MergeRule,
    ordering_field: Option<String>,
    /// Tables with virtual keys: record keys come from the key generator.
    keygen: Option<Arc<crate::keygen::KeyGenerator>>,
    columns: Option<Vec<usize>>,
}

fn project_schema(
    schema: &SchemaRef,
    columns: &Option<Vec<String>>,
) -> Result<(SchemaRef, Option<Vec<usize>>)> {
    let Some(cols) = columns else {
        return Ok((schema.clone(), None));
    };
    let idx = cols
        .iter()
        .map(|c| {
            schema
                .index_of(c)
                .map_err(|_| HudiError::InvalidReadOptions {
                    reason: format!(
                        "no column '{c}' in the table (columns: {})",
                        schema
                            .fields()
                            .iter()
                            .map(|f| f.name().as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((
        Arc::new(
            schema
                .project(&idx)
                .map_err(|e| HudiError::arrow("projecting the schema", e))?,
        ),
        Some(idx),
    ))
}

/// Plans a read.
pub async fn plan(
    storage: &Storage,
    config: &TableConfig,
    timeline: &Timeline,
    table_schema: SchemaRef,
    opts: &ReadOptions,
) -> Result<ReadPlan> {
    if config.base_file_format == BaseFileFormat::Lance {
        return Err(HudiError::Unsupported {
            path: storage.location().to_string(),
            feature: "Lance base files (hoodie.table.base.file.format=LANCE)".into(),
        });
    }
    let mut plan = ReadPlan::new(config, timeline, table_schema, opts)?;
    match &opts.query {
        QueryType::Snapshot | QueryType::ReadOptimized => {
            if let Some(t) = &opts.as_of {
                check_not_cleaned(storage, timeline, t).await?;
            }
            let view = FileSystemView::load(storage, timeline, opts.as_of.as_ref()).await?;
            plan.slices = view.latest_slices().into_iter().cloned().collect();
        }
        QueryType::Incremental { start, end } => {
            if !config.populate_meta_fields {
                // Without _hoodie_commit_time there is no telling when a record changed.
                return Err(HudiError::InvalidReadOptions {
                    reason: format!(
                        "incremental queries need the meta fields, which '{}' does not store (hoodie.populate.meta.fields=false); Apache Hudi refuses them too",
                        storage.location()
                    ),
                });
            }
            if opts.as_of.is_some() {
                return Err(HudiError::InvalidReadOptions {
                    reason: "an incremental read takes --start/--end, not --as-of".into(),
                });
            }
            plan_incremental(&mut plan, storage, timeline, start.as_ref(), end.as_ref()).await?;
        }
    }
    Ok(plan)
}

/// Refuses a read as of an instant whose files a clean may have deleted (as Hudi does), unless
/// it is a savepoint: its files are kept.
async fn check_not_cleaned(storage: &Storage, timeline: &Timeline, t: &InstantTime) -> Result<()> {
    if timeline.is_savepoint(t) {
        return Ok(());
    }
    match timeline.clean_retained_from().await? {
        Some(f) if t < &f => Err(HudiError::InvalidReadOptions {
            reason: format!(
                "a read as of {t} of '{}' may miss files: the last clean kept reads as of {f} and later (raise hoodie.cleaner.commits.retained, or savepoint instants to keep them)",
                storage.location()
            ),
        }),
        _ => Ok(()),
    }
}

async fn plan_incremental(
    plan: &mut ReadPlan,
    storage: &Storage,
    timeline: &Timeline,
    start: Option<&InstantTime>,
    end: Option<&InstantTime>,
) -> Result<()> {
    let admitted: Vec<_> = timeline
        .completed_writes()
        .filter(|i| {
            start.is_none_or(|s| i.ordering_time() > s)
                && end.is_none_or(|e| i.ordering_time() <= e)
        })
        .collect();
    let (Some(first), Some(last)) = (
        admitted.iter().map(|i| i.requested()).min().cloned(),
        admitted.iter().map(|i| i.requested()).max().cloned(),
    ) else {
        plan.admitted = Some(HashSet::new());
        return Ok(());
    };
    plan.admitted = Some(admitted.iter().map(|i| i.requested().to_string()).collect());
    // Files come from the commits requested within the admitted window; rows are masked later.
    let window: Vec<_> = timeline
        .completed_writes()
        .filter(|i| i.requested() >= &first && i.requested() <= &last)
        .collect();
    let mut touched: HashSet<FileGroupId> = HashSet::new();
    for i in window {
        let m = timeline.commit_metadata(&i.instant).await?;
        for (p, s) in m.write_stats() {
            if let Some(id) = s.file_id.as_deref().filter(|id| !id.is_empty()) {
                touched.insert(FileGroupId {
                    partition: p.to_string(),
                    file_id: id.to_string(),
                });
            }
        }
    }
    // The view as of the last admitted instant already hides every group replaced by then;
    // only the partitions the window touched are listed.
    let mut parts: Vec<String> = touched.iter().map(|g| g.partition.clone()).collect();
    parts.sort();
    parts.dedup();
    let view = FileSystemView::load_partitions(storage, timeline, Some(&last), &parts).await?;
    plan.slices = view
        .groups
        .iter()
        .filter(|(id, _)| touched.contains(*id))
        .filter_map(|(_, g)| g.slices.values().next_back().cloned())
        .collect();
    plan.index = CommitIndex::new(timeline, Some(&last));
    plan.block_range = Some((first, last));
    Ok(())
}

impl ReadPlan {
    /// A plan without slices: the schema, the merge rule and the committed instants a read
    /// (or a compaction, with default options) merges slices with.
    pub fn new(
        config: &TableConfig,
        timeline: &Timeline,
        table_schema: SchemaRef,
        opts: &ReadOptions,
    ) -> Result<ReadPlan> {
        let (output_schema, columns) = project_schema(&table_schema, &opts.columns)?;
        let base_only =
            config.table_type == TableType::CopyOnWrite || opts.query == QueryType::ReadOptimized;
        Ok(ReadPlan {
            slices: Vec::new(),
            table_schema,
            output_schema,
            base_only,
            index: CommitIndex::new(timeline, opts.as_of.as_ref()),
            block_range: None,
            admitted: None,
            merge_rule: resolve_merge_rule(config)?,
            ordering_field: config.precombine_field.clone(),
            keygen: if config.populate_meta_fields {
                None
            } else {
                Some(Arc::new(crate::keygen::KeyGenerator::from_table(
                    config,
                    &Default::default(),
                )?))
            },
            columns,
        })
    }

    /// Admits only log blocks of instants at or before `t` (a compaction merges the blocks
    /// written before it was scheduled).
    pub fn with_blocks_up_to(mut self, t: &InstantTime) -> ReadPlan {
        self.block_range = Some((InstantTime::zero(), t.clone()));
        self
    }

    /// The schema slices merge into (meta columns first).
    pub fn table_schema(&self) -> &SchemaRef {
        &self.table_schema
    }

    /// Streams the result, one file slice at a time.
    pub fn stream(self, storage: Storage) -> BoxStream<'static, Result<RecordBatch>> {
        let plan = Arc::new(ReadPlan {
            slices: Vec::new(),
            ..self.clone()
        });
        // Slices are merged on tasks of their own, a few at a time (in parallel on a
        // multi-threaded runtime), and come out in plan order.
        stream::iter(self.slices)
            .map(move |slice| {
                let plan = plan.clone();
                let storage = storage.clone();
                tokio::spawn(async move { plan.read_slice(&storage, &slice).await })
            })
            .buffered(crate::io::parallel::workers())
            .map(|joined| {
                joined.unwrap_or_else(|e| {
                    Err(HudiError::Internal {
                        what: format!("a file slice's read task failed: {e}"),
                    })
                })
            })
            .flat_map(|r| match r {
                Ok(batches) => stream::iter(batches.into_iter().map(Ok)).boxed(),
                Err(e) => stream::iter(vec![Err(e)]).boxed(),
            })
            .boxed()
    }

    fn finish(&self, batch: RecordBatch, ctx: &str) -> Result<Option<RecordBatch>> {
        let batch = match &self.admitted {
            Some(admitted) => {
                let col =
                    batch
                        .column_by_name(COMMIT_TIME_FIELD)
                        .ok_or_else(|| HudiError::Corrupt {
                            what: ctx.to_string(),
                            reason: format!(
                                "incremental reads need the {COMMIT_TIME_FIELD} column"
                            ),
                        })?;
                let times = col
                    .as_string_opt::<i32>()
                    .ok_or_else(|| HudiError::Corrupt {
                        what: ctx.to_string(),
                        reason: format!("{COMMIT_TIME_FIELD} is not a string column"),
                    })?;
                let mask: BooleanArray = times
                    .iter()
                    .map(|t| Some(t.is_some_and(|t| admitted.contains(t))))
                    .collect();
                filter_record_batch(&batch, &mask)
                    .map_err(|e| HudiError::arrow(ctx.to_string(), e))?
            }
            None => batch,
        };
        if batch.num_rows() == 0 {
            return Ok(None);
        }
        let batch = match &self.columns {
            Some(idx) => batch
                .project(idx)
                .map_err(|e| HudiError::arrow(ctx.to_string(), e))?,
            None => batch,
        };
        Ok(Some(batch))
    }

    /// Whether an incremental read can skip the slice's base file: it was written before the
    /// window (so none of its rows is admitted) and a log record always replaces its base
    /// record, so the merged rows the window admits are exactly its log records.
    fn base_unseen(&self, slice: &FileSlice) -> bool {
        let log_wins = matches!(
            self.merge_rule,
            MergeRule::Payload {
                event_time_base: false
            } | MergeRule::Mode(RecordMergeMode::CommitTimeOrdering)
        );
        let before_window = match (&self.admitted, &self.block_range, &slice.base_file) {
            (Some(_), Some((first, _)), Some(base)) => &base.name.instant < first,
            _ => false,
        };
        log_wins && before_window
    }

    fn block_admitted(&self, instant: &InstantTime) -> bool {
        self.index.is_committed(instant)
            && self
                .block_range
                .as_ref()
                .is_none_or(|(from, to)| instant >= from && instant <= to)
    }

    async fn read_slice(&self, storage: &Storage, slice: &FileSlice) -> Result<Vec<RecordBatch>> {
        let mut out = Vec::new();
        if self.admitted.as_ref().is_some_and(HashSet::is_empty) {
            return Ok(out);
        }
        self.merge_slice(storage, slice, DEFAULT_MERGE_MEMORY, &mut |b| {
            out.push(b);
            Ok(())
        })
        .await?;
        Ok(out)
    }

    /// Merges one file slice (its base file with its committed log blocks, rollback command
    /// blocks applied) and hands the result to `sink` batch by batch: base rows as they
    /// stream, then the winning log records. Log rows past `memory_budget` bytes spill to a
    /// local file. Snapshot reads and compaction both merge through here.
    pub async fn merge_slice(
        &self,
        storage: &Storage,
        slice: &FileSlice,
        memory_budget: usize,
        sink: &mut (dyn FnMut(RecordBatch) -> Result<()> + Send),
    ) -> Result<SliceStats> {
        let mut stats = SliceStats::default();
        let mut buffer = LogBuffer::new(
            self.table_schema.clone(),
            self.merge_rule,
            self.ordering_field.clone(),
            memory_budget,
        );
        if let Some(k) = &self.keygen {
            buffer = buffer.with_key_generator(k.clone());
        }
        if !self.base_only && !slice.log_files.is_empty() {
            let mut decoder = LogFileDecoder::new(self.table_schema.clone())?;
            let mut contents: Vec<(String, LogContent)> = Vec::new();
            for lf in &slice.log_files {
                let path = storage.display(&lf.path);
                let bytes = storage.get(&lf.path).await?;
                stats.log_files += 1;
                stats.log_bytes += bytes.len() as u64;
                for c in decoder.decode_file(&path, &bytes)? {
                    stats.log_blocks += 1;
                    match &c {
                        LogContent::Rollback { target, .. } => {
                            stats.rollback_blocks += 1;
                            contents.retain(|(_, x)| x.instant() != target);
                        }
                        _ => contents.push((path.clone(), c)),
                    }
                }
            }
            stats.corrupt_blocks = decoder.corrupt_regions as u64;
            for (path, c) in contents {
                if !self.block_admitted(c.instant()) {
                    continue;
                }
                match c {
                    LogContent::Data { batch, .. } => buffer.add_data(batch, &path)?,
                    LogContent::Delete { records, .. } => buffer.add_deletes(&records),
                    LogContent::Rollback { .. } => {}
                }
            }
        }
        if let Some(base) = slice
            .base_file
            .as_ref()
            .filter(|_| !self.base_unseen(slice))
        {
            let path = storage.display(&base.path);
            if base.name.extension != "parquet" {
                return Err(HudiError::Unsupported {
                    path,
                    feature: format!("{} base files", base.name.extension),
                });
            }
            let bytes = storage.get(&base.path).await?;
            let file = ParquetFile::new(path.clone(), bytes);
            for batch in file.read(None)? {
                let batch = align_batch(&batch?, &self.table_schema, &path)?;
                stats.base_records += batch.num_rows() as u64;
                let merged = buffer.merge_base(&batch, &path)?;
                if let Some(b) = self.finish(merged, &path)? {
                    sink(b)?;
                }
            }
        }
        let ctx = format!(
            "log files of file group {} in partition '{}'",
            slice.file_id, slice.partition
        );
        for rest in buffer.remaining(&ctx)? {
            if let Some(b) = self.finish(rest, &ctx)? {
                sink(b)?;
            }
        }
        stats.merge = buffer.stats();
        stats.spilled = buffer.spilled();
        Ok(stats)
    }
}
