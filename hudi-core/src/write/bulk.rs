//! Bulk insert as a stream, as Hudi's row writer does it without sorting: each input batch
//! is converted, keyed and split by partition, and its rows go to that partition's open base
//! file, which rolls over at `hoodie.parquet.max.file.size`. Nothing else holds the input:
//! a row is touched once on its way into a file. What stays in memory is the files being
//! written; once together they pass `hoodie.write.spill.threshold.bytes`, the largest is
//! closed early.

use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Instant as Stopwatch;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, RecordBatch, StringArray, StringBuilder, UInt32Array,
};
use arrow::compute::{filter_record_batch, take, take_record_batch};
use arrow::datatypes::SchemaRef;
use tokio::task::JoinHandle;

use crate::error::{HudiError, Result};
use crate::fs_view::FileGroupId;
use crate::io::row_store::logical_size;
use crate::keygen::KeyGenerator;
use crate::model::metadata::{RuntimeStats, WriteStat};
use crate::model::{BaseFileName, InstantTime, IS_DELETED_FIELD};
use crate::storage::Storage;
use crate::timeline::transition::ClockRef;
use crate::txn::markers::{create_marker, MarkerType};

use bytes::Bytes;
use futures::{Stream, StreamExt};

use crate::config::table::TableType;
use crate::model::metadata::CommitMetadata;
use crate::model::{with_meta_fields, Action};
use crate::txn::concurrency::ConcurrencyConfig;
use crate::txn::{policy, Transaction};

use super::base_writer::BaseFileWriter;
use super::config::WriteConfig;
use super::records::check_columns;
use super::run::Opened;
use super::schema::{self, to_stored};
use super::{json_bytes, write_partition_metadata, write_token, WriteBuilder, WriteMetrics};

/// Rows of a partition gathered before they are encoded (its columns are encoded in
/// parallel, which pays on chunks of this size).
const CHUNK_ROWS: usize = 65_536;

/// Rows waiting in all partitions at most: past it, the partition holding most is written.
/// Rows of many small partitions wait until the end of the input (or the memory budget), so
/// that each partition's file is written at once rather than a few rows at a time.
const PENDING_ROWS: usize = 64 * CHUNK_ROWS;

/// Files being stored at once while the next rows are encoded.
const CLOSING: usize = 2;

/// What the files of one bulk insert share.
pub(super) struct BulkContext<'a> {
    pub storage: &'a Storage,
    pub instant: &'a InstantTime,
    pub clock: &'a ClockRef,
    /// The write schema (no meta columns).
    pub data_schema: SchemaRef,
    /// Meta columns + write schema.
    pub schema: SchemaRef,
    /// The writer's Avro schema (meta fields included), as JSON.
    pub avro_schema: &'a str,
    pub record_name: String,
    pub config: &'a WriteConfig,
    pub keygen: &'a KeyGenerator,
}

/// A file being stored: its partition and write stat when done.
type Storing = JoinHandle<Result<(String, WriteStat)>>;

/// A file being written.
struct OpenFile {
    file_id: String,
    /// The write token's task number, also in the seqnos.
    task: usize,
    writer: BaseFileWriter,
    started: Stopwatch,
}

/// Rows of one input piece waiting for their partition's next chunk: the data columns and
/// the record keys.
struct Piece {
    data: RecordBatch,
    keys: StringArray,
    /// Bytes of its rows (not of buffers they may share).
    bytes: usize,
}

/// What an array costs beyond its values (its structs and the allocations of its buffers):
/// it matters for the many small pieces of an input spread over thousands of partitions.
const ARRAY_OVERHEAD: usize = 256;

impl Piece {
    fn new(data: RecordBatch, keys: StringArray) -> Self {
        let bytes = logical_size(&data)
            + keys.to_data().get_slice_memory_size().unwrap_or(0)
            + ARRAY_OVERHEAD * (data.num_columns() + 1);
        Piece { data, keys, bytes }
    }

    /// The rows of `pieces` (at least one, all of one schema) in one piece.
    fn concat(pieces: Vec<Piece>) -> Result<Piece> {
        let err = |e| HudiError::arrow("joining rows of a partition", e);
        let schema = pieces[0].data.schema();
        let data =
            arrow::compute::concat_batches(&schema, pieces.iter().map(|p| &p.data)).map_err(err)?;
        let keys: Vec<&dyn Array> = pieces.iter().map(|p| &p.keys as &dyn Array).collect();
        let keys = arrow::compute::concat(&keys).map_err(err)?;
        Ok(Piece::new(data, keys.as_string::<i32>().clone()))
    }

    /// The piece in slices of about `bytes` each.
    fn split(self, bytes: usize) -> Vec<Piece> {
        let n = self.data.num_rows();
        let parts = self.bytes.div_ceil(bytes.max(1)).clamp(1, n.max(1));
        if parts == 1 {
            return vec![self];
        }
        let per = n.div_ceil(parts);
        (0..n)
            .step_by(per)
            .map(|start| {
                let len = per.min(n - start);
                Piece::new(self.data.slice(start, len), self.keys.slice(start, len))
            })
            .collect()
    }
}

/// One partition of the input.
struct Partition {
    path: String,
    pending: Vec<Piece>,
    pending_rows: usize,
    pending_bytes: usize,
    file: Option<OpenFile>,
    /// Whether `.hoodie_partition_metadata` was written.
    has_metadata: bool,
    /// The partition path repeated (sliced for each piece).
    paths: StringArray,
}

/// A bulk insert in progress.
pub(super) struct BulkInsert<'a> {
    ctx: BulkContext<'a>,
    ids: HashMap<String, usize, ahash::RandomState>,
    partitions: Vec<Partition>,
    /// Files opened so far (the next one's task number).
    opened: usize,
    /// Rows waiting in all partitions, their bytes, and the pieces they are in.
    pending_rows: usize,
    pending_bytes: usize,
    pending_pieces: usize,
    /// Input bytes written to a file at a time, at most: an eighth of the maximum file size
    /// (a file is checked against that size after each step, and so can pass it by a step).
    step_bytes: usize,
    /// The instant repeated (sliced for each piece).
    times: StringArray,
    /// Files being stored, with the memory they hold.
    closing: VecDeque<(usize, Storing)>,
    /// Write stats of the files written, with their partitions.
    stats: Vec<(String, WriteStat)>,
    /// The file groups written (for the transaction's conflict check).
    touched: Vec<FileGroupId>,
}

/// `value` `n` times.
fn repeated(value: &str, n: usize) -> StringArray {
    StringArray::from_iter_values(std::iter::repeat_n(value, n))
}

impl<'a> BulkInsert<'a> {
    pub fn new(ctx: BulkContext<'a>) -> Self {
        let times = repeated(ctx.instant.as_str(), CHUNK_ROWS);
        let step_bytes = (ctx.config.max_file_size / 8).clamp(64 << 10, 32 << 20) as usize;
        BulkInsert {
            ctx,
            ids: HashMap::default(),
            partitions: Vec::new(),
            opened: 0,
            pending_rows: 0,
            pending_bytes: 0,
            pending_pieces: 0,
            step_bytes,
            times,
            closing: VecDeque::new(),
            stats: Vec::new(),
            touched: Vec::new(),
        }
    }

    /// Converts, keys and routes one input batch; rows marked `_hoodie_is_deleted` are left
    /// out, as an insert leaves them. A large batch goes a chunk at a time (its copies by
    /// partition are no larger than a chunk).
    pub async fn push(&mut self, input: &RecordBatch) -> Result<()> {
        check_columns(&self.ctx.data_schema, input)?;
        let mut start = 0;
        while start < input.num_rows() {
            let n = CHUNK_ROWS.min(input.num_rows() - start);
            self.push_chunk(&input.slice(start, n)).await?;
            start += n;
        }
        Ok(())
    }

    async fn push_chunk(&mut self, input: &RecordBatch) -> Result<()> {
        let batch = to_stored(input, &self.ctx.data_schema)?;
        let keys = self.ctx.keygen.key_columns(&batch)?;
        let (batch, record_keys, of_row) = match batch
            .column_by_name(IS_DELETED_FIELD)
            .and_then(|c| c.as_boolean_opt().cloned())
            .filter(|d| d.true_count() > 0)
        {
            None => (batch, keys.record_keys, keys.partition_of_row),
            Some(d) => {
                let deleted = match d.nulls() {
                    Some(n) => d.values() & n.inner(),
                    None => d.values().clone(),
                };
                let keep = BooleanArray::new(!&deleted, None);
                let of_row = keys
                    .partition_of_row
                    .iter()
                    .zip(keep.values())
                    .filter_map(|(p, k)| k.then_some(*p))
                    .collect();
                let kept_keys = arrow::compute::filter(&keys.record_keys, &keep)
                    .map_err(|e| HudiError::arrow("dropping deleted rows", e))?;
                let batch = filter_record_batch(&batch, &keep)
                    .map_err(|e| HudiError::arrow("dropping deleted rows", e))?;
                (batch, kept_keys.as_string::<i32>().clone(), of_row)
            }
        };
        if batch.num_rows() == 0 {
            return Ok(()); // every row was a delete: no file for them
        }
        let ids: Vec<usize> = keys.partitions.iter().map(|p| self.partition(p)).collect();
        if ids.len() == 1 {
            return self.add(ids[0], batch, record_keys).await;
        }
        for (local, rows) in rows_by_partition(&of_row, ids.len()) {
            if rows.is_empty() {
                continue;
            }
            let idx = UInt32Array::from(rows);
            let data = take_record_batch(&batch, &idx)
                .map_err(|e| HudiError::arrow("grouping input rows", e))?;
            let k = take(&record_keys, &idx, None)
                .map_err(|e| HudiError::arrow("grouping input rows", e))?;
            self.add(ids[local], data, k.as_string::<i32>().clone())
                .await?;
        }
        Ok(())
    }

    /// Ends the input: every partition's last rows are written and its file closed.
    pub async fn finish(&mut self) -> Result<(Vec<(String, WriteStat)>, Vec<FileGroupId>)> {
        for p in 0..self.partitions.len() {
            self.flush(p).await?;
            self.close(p).await?;
        }
        while !self.closing.is_empty() {
            self.await_oldest().await?;
        }
        Ok((
            std::mem::take(&mut self.stats),
            std::mem::take(&mut self.touched),
        ))
    }

    fn partition(&mut self, path: &str) -> usize {
        if let Some(i) = self.ids.get(path) {
            return *i;
        }
        self.partitions.push(Partition {
            path: path.to_string(),
            pending: Vec::new(),
            pending_rows: 0,
            pending_bytes: 0,
            file: None,
            has_metadata: false,
            // Grown as its pieces need (thousands of partitions may be open at once).
            paths: repeated(path, 1),
        });
        self.ids.insert(path.to_string(), self.partitions.len() - 1);
        self.partitions.len() - 1
    }

    async fn add(&mut self, p: usize, data: RecordBatch, keys: StringArray) -> Result<()> {
        if data.num_rows() == 0 {
            return Ok(());
        }
        let part = &mut self.partitions[p];
        let piece = Piece::new(data, keys);
        part.pending_rows += piece.data.num_rows();
        part.pending_bytes += piece.bytes;
        self.pending_rows += piece.data.num_rows();
        self.pending_bytes += piece.bytes;
        part.pending.push(piece);
        self.pending_pieces += 1;
        if part.pending_rows >= CHUNK_ROWS || part.pending_bytes >= self.step_bytes {
            return self.flush(p).await;
        }
        let over = |b: &Self| {
            b.pending_rows > PENDING_ROWS || b.pending_bytes > b.ctx.config.spill_threshold / 2
        };
        if over(self) && self.pending_pieces > 2 * self.partitions.len() {
            // Many small pieces (an input spread over many partitions): each partition's are
            // joined into one, which holds far less than they did.
            self.coalesce()?;
        }
        if over(self) {
            // Many partitions each short of a chunk: the one holding most goes now.
            let most = (0..self.partitions.len()).max_by_key(|i| self.partitions[*i].pending_bytes);
            if let Some(i) = most {
                self.flush(i).await?;
            }
        }
        Ok(())
    }

    /// Joins each partition's waiting pieces into one.
    fn coalesce(&mut self) -> Result<()> {
        for part in &mut self.partitions {
            if part.pending.len() < 2 {
                continue;
            }
            let joined = Piece::concat(std::mem::take(&mut part.pending))?;
            self.pending_bytes = self.pending_bytes - part.pending_bytes + joined.bytes;
            part.pending_bytes = joined.bytes;
            part.pending.push(joined);
        }
        self.pending_pieces = self.partitions.iter().map(|p| p.pending.len()).sum();
        Ok(())
    }

    /// Writes partition `p`'s pending rows into its open file, a step at a time (see
    /// [`BulkInsert::step_bytes`]): a file is closed once it reaches the maximum size and the
    /// rest go to a new one. Then, if the open files hold more than the memory budget, the
    /// largest is closed.
    async fn flush(&mut self, p: usize) -> Result<()> {
        let pieces = std::mem::take(&mut self.partitions[p].pending);
        self.pending_pieces -= pieces.len();
        self.pending_rows -= self.partitions[p].pending_rows;
        self.pending_bytes -= self.partitions[p].pending_bytes;
        self.partitions[p].pending_rows = 0;
        self.partitions[p].pending_bytes = 0;
        let mut step: Vec<Piece> = Vec::new();
        let mut step_bytes = 0;
        let limit = self.step_bytes;
        for piece in pieces.into_iter().flat_map(|x| x.split(limit)) {
            step_bytes += piece.bytes;
            step.push(piece);
            if step_bytes >= limit {
                self.write_step(p, std::mem::take(&mut step)).await?;
                step_bytes = 0;
            }
        }
        if !step.is_empty() {
            self.write_step(p, step).await?;
        }
        // Over the budget (open files, rows waiting, files being stored), the largest open
        // files are closed until it holds.
        while self.held() > self.ctx.config.spill_threshold {
            let largest = self
                .open_files()
                .max_by_key(|(_, f)| f.writer.memory_size())
                .map(|(i, _)| i);
            match largest {
                Some(i) => self.close(i).await?,
                None => break,
            }
        }
        Ok(())
    }

    /// Memory the write holds: open files, rows waiting for their partition's next step,
    /// files being stored.
    fn held(&self) -> usize {
        let open: usize = self.open_files().map(|(_, f)| f.writer.memory_size()).sum();
        let storing: usize = self.closing.iter().map(|(bytes, _)| bytes).sum();
        open + self.pending_bytes + storing
    }

    /// Writes pieces of partition `p` into its open file (opened if needed), closed if it
    /// reached the maximum size.
    async fn write_step(&mut self, p: usize, pieces: Vec<Piece>) -> Result<()> {
        if self.partitions[p].file.is_none() {
            self.open(p).await?;
        }
        let most = pieces.iter().map(|x| x.data.num_rows()).max().unwrap_or(0);
        let part = &mut self.partitions[p];
        if part.paths.len() < most {
            let n = (part.paths.len() * 2).clamp(most, CHUNK_ROWS.max(most));
            part.paths = repeated(&part.path, n);
        }
        let part = &self.partitions[p];
        let file = part.file.as_ref().expect("opened above");
        let mut seq = file.writer.rows();
        let prefix = format!("{}_{}_", self.ctx.instant, file.task);
        let mut batches = Vec::with_capacity(pieces.len());
        for piece in pieces {
            batches.push(self.with_meta(piece, &part.paths, &prefix, seq)?);
            seq += batches.last().map_or(0, RecordBatch::num_rows);
        }
        let file = self.partitions[p].file.as_mut().expect("opened above");
        file.writer.write_all(&batches)?;
        if file.writer.estimated_size() as u64 >= self.ctx.config.max_file_size {
            self.close(p).await?;
        }
        Ok(())
    }

    fn open_files(&self) -> impl Iterator<Item = (usize, &OpenFile)> {
        self.partitions
            .iter()
            .enumerate()
            .filter_map(|(i, p)| p.file.as_ref().map(|f| (i, f)))
    }

    /// A piece's rows with their meta columns: commit time, seqno, key, partition path (the
    /// file name is set by the writer).
    fn with_meta(
        &self,
        piece: Piece,
        paths: &StringArray,
        prefix: &str,
        first_seq: usize,
    ) -> Result<RecordBatch> {
        let n = piece.data.num_rows();
        let mut seq = StringBuilder::with_capacity(n, n * (prefix.len() + 7));
        for j in 0..n {
            write!(seq, "{prefix}{}", first_seq + j).map_err(|e| HudiError::Internal {
                what: format!("seqno: {e}"),
            })?;
            seq.append_value("");
        }
        let times = if self.times.len() >= n {
            self.times.slice(0, n)
        } else {
            repeated(self.ctx.instant.as_str(), n).slice(0, n)
        };
        let paths = if paths.len() >= n {
            paths.slice(0, n)
        } else {
            repeated(paths.value(0), n).slice(0, n)
        };
        let times: ArrayRef = Arc::new(times);
        let mut cols: Vec<ArrayRef> = vec![
            times.clone(),
            Arc::new(seq.finish()),
            Arc::new(piece.keys),
            Arc::new(paths),
            times,
        ];
        cols.extend(piece.data.columns().iter().cloned());
        RecordBatch::try_new(self.ctx.schema.clone(), cols)
            .map_err(|e| HudiError::arrow("building records", e))
    }

    /// Opens a new file group in partition `p` (its partition metadata first, and the
    /// file's marker).
    async fn open(&mut self, p: usize) -> Result<()> {
        let ctx = &self.ctx;
        let part = &mut self.partitions[p];
        if !part.has_metadata {
            write_partition_metadata(ctx.storage, &part.path, ctx.instant, ctx.clock).await?;
            part.has_metadata = true;
        }
        let task = self.opened;
        self.opened += 1;
        let file_id = super::plan::new_file_id();
        let name = BaseFileName {
            file_id: file_id.clone(),
            write_token: write_token(ctx.instant, task),
            instant: ctx.instant.clone(),
            extension: "parquet".into(),
        }
        .to_string();
        let writer = BaseFileWriter::new(
            ctx.storage,
            &part.path,
            name,
            &ctx.schema,
            ctx.config,
            &ctx.record_name,
            ctx.avro_schema,
        )?;
        create_marker(ctx.storage, ctx.instant, &writer.rel, MarkerType::Create).await?;
        self.touched.push(FileGroupId {
            partition: part.path.clone(),
            file_id: file_id.clone(),
        });
        part.file = Some(OpenFile {
            file_id,
            task,
            writer,
            started: Stopwatch::now(),
        });
        Ok(())
    }

    /// Closes partition `p`'s open file, if any: its last row group is encoded and the file
    /// stored by a task of its own (the next rows are encoded meanwhile), at most
    /// [`CLOSING`] at a time; its write stat is kept.
    async fn close(&mut self, p: usize) -> Result<()> {
        let part = &mut self.partitions[p];
        let Some(f) = part.file.take() else {
            return Ok(());
        };
        let partition = part.path.clone();
        while self.closing.len() >= CLOSING {
            self.await_oldest().await?;
        }
        let storage = self.ctx.storage.clone();
        let bytes = f.writer.memory_size();
        let task = tokio::spawn(async move {
            let rows = f.writer.rows() as i64;
            let rel = f.writer.rel.clone();
            let size = f.writer.finish(&storage).await? as i64;
            let stat = WriteStat {
                file_id: Some(f.file_id),
                path: Some(rel),
                prev_commit: Some("null".into()),
                num_writes: rows,
                num_inserts: rows,
                total_write_bytes: size,
                partition_path: Some(partition.clone()),
                file_size_in_bytes: size,
                runtime_stats: Some(RuntimeStats {
                    total_scan_time: 0,
                    total_upsert_time: 0,
                    total_create_time: f.started.elapsed().as_millis() as i64,
                }),
                ..Default::default()
            };
            Ok((partition, stat))
        });
        self.closing.push_back((bytes, task));
        Ok(())
    }

    async fn await_oldest(&mut self) -> Result<()> {
        if let Some((_, task)) = self.closing.pop_front() {
            let closed = task.await.map_err(|e| HudiError::Internal {
                what: format!("storing a base file: {e}"),
            })??;
            self.stats.push(closed);
        }
        Ok(())
    }

    /// Waits for the files being stored, whatever becomes of them (after a failure, before
    /// what was written is removed: none may land after).
    pub async fn settle(&mut self) {
        while let Some((_, task)) = self.closing.pop_front() {
            let _ = task.await;
        }
    }
}

/// Row numbers of each of `n` partitions, in input order.
fn rows_by_partition(of_row: &[u32], n: usize) -> impl Iterator<Item = (usize, Vec<u32>)> {
    let mut out: Vec<Vec<u32>> = vec![Vec::new(); n];
    for (i, p) in of_row.iter().enumerate() {
        out[*p as usize].push(i as u32);
    }
    out.into_iter().enumerate()
}

impl WriteBuilder {
    /// Runs a streaming bulk insert: one transaction whose files are written while the input
    /// is read. The inflight file is empty, as Hudi's row-writer bulk insert leaves it. A
    /// failure before the commit removes what was written and gives the instant up, so the
    /// timeline is as it was.
    pub(super) async fn run_bulk<S>(
        &self,
        opened: &Opened,
        wc: &WriteConfig,
        write_schema: SchemaRef,
        first: Option<RecordBatch>,
        mut rest: S,
        started: Stopwatch,
    ) -> Result<WriteMetrics>
    where
        S: Stream<Item = Result<RecordBatch>> + Unpin,
    {
        let config = &opened.config;
        let keygen = KeyGenerator::from_table(config, &self.options)?;
        let action = match config.table_type {
            TableType::MergeOnRead => Action::DeltaCommit,
            TableType::CopyOnWrite => Action::Commit,
        };
        let mut txn = Transaction::begin(
            &self.storage,
            &opened.timeline,
            action,
            Bytes::new(),
            self.clock.as_ref(),
            policy(&self.storage, &opened.cc, true),
        )
        .await?;
        let t = txn.instant().clone();
        let mut metrics = WriteMetrics::new(t.clone(), self.operation, opened.rolled_back.clone());
        let written = async {
            let based = self.base_timeline(opened, &mut txn).await?;
            txn.start(Bytes::new()).await?;
            let avro_schema = schema::avro_schema(&write_schema, &config.name, true, true)?;
            let mut bulk = BulkInsert::new(BulkContext {
                storage: &self.storage,
                instant: &t,
                clock: &self.clock,
                data_schema: write_schema.clone(),
                schema: Arc::new(with_meta_fields(&write_schema)),
                avro_schema: &avro_schema,
                record_name: schema::record_full_name(&config.name),
                config: wc,
                keygen: &keygen,
            });
            let fed = async {
                // The first batch is not held past its rows.
                let mut first = first;
                if let Some(b) = first.take() {
                    bulk.push(&b).await?;
                }
                while let Some(b) = rest.next().await {
                    bulk.push(&b?).await?;
                }
                bulk.finish().await
            }
            .await;
            let (stats, touched) = match fed {
                Ok(done) => done,
                Err(e) => {
                    bulk.settle().await;
                    return Err(e);
                }
            };
            for g in touched {
                txn.touch(g);
            }
            let mut meta = CommitMetadata {
                operation_type: Some(self.operation.token().to_string()),
                ..Default::default()
            };
            for (partition, stat) in stats {
                metrics.add(&stat);
                meta.partition_to_write_stats
                    .entry(partition)
                    .or_default()
                    .push(stat);
            }
            self.add_extra_metadata(config, &write_schema, &mut meta)?;
            Ok::<_, HudiError>((based, json_bytes(&meta)?))
        }
        .await;
        let (based, meta) = match written {
            Ok(w) => w,
            Err(e) => {
                if let Err(r) = give_up(&self.storage, &opened.cc, txn).await {
                    log::warn!("removing what the failed write {t} wrote: {r}");
                }
                return Err(e);
            }
        };
        let committed = match txn.commit(meta).await {
            Ok(c) => c,
            Err(e) if opened.cc.is_optimistic() || matches!(e, HudiError::WriteConflict { .. }) => {
                if let Err(r) = self.roll_back_own(opened, &t).await {
                    log::warn!("rolling back the failed write {t}: {r}");
                }
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        self.after_committed(
            config,
            &based,
            &write_schema,
            &committed.instant,
            metrics,
            started,
        )
        .await
    }
}

/// Removes the files a failed write wrote (data files, then markers), then its instant, and
/// its heartbeat last: nothing of it stays. Beside concurrent writers, under the table lock
/// (none of them takes it for a failed write meanwhile). Interrupted, it leaves a pending
/// instant the next writer rolls back.
async fn give_up(storage: &Storage, cc: &ConcurrencyConfig, txn: Transaction) -> Result<()> {
    crate::txn::locked(storage, cc, async {
        crate::txn::rollback::purge_files(storage, txn.instant()).await?;
        txn.abandon().await
    })
    .await
}
