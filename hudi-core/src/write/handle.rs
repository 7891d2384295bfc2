//! Writing one file group's new base file: copy the rows of the current base file that stay,
//! put updated records in place, drop deleted ones, append inserts. Meta columns are set as
//! Hudi does; the footer carries the Bloom filter and min/max record keys.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant as Stopwatch;

use std::fmt::Write as _;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringArray, StringBuilder};
use arrow::compute::interleave_record_batch;
use arrow::datatypes::SchemaRef;

use crate::error::{HudiError, Result};
use crate::fs_view::BaseFile;
use crate::io::align::align_batch;
use crate::io::base_file::ParquetFile;
use crate::model::metadata::{RuntimeStats, WriteStat};
use crate::model::{BaseFileName, InstantTime, OrderingValue, META_FIELDS, RECORD_KEY_FIELD};
use crate::storage::Storage;

use super::base_writer::{replace_column, BaseFileWriter};
use super::config::{Payload, WriteConfig};
use super::records::Prepared;
use crate::txn::markers::{create_marker, MarkerType};

/// Rows handed to the parquet writer at a time (its columns are encoded in parallel).
const WRITE_CHUNK: usize = 65_536;

/// What to do with one existing key of the file group.
#[derive(Debug, Clone, Copy)]
pub enum Change {
    /// Replace with input row `usize`.
    Update(usize),
    /// Remove (delete operation or `_hoodie_is_deleted`); `Some(row)` when the delete came from
    /// a data row carrying an ordering value.
    Delete(Option<usize>),
}

/// One file group to write in this commit.
#[derive(Debug, Clone, Default)]
pub struct FileGroupWrite {
    pub partition: String,
    pub file_id: String,
    /// The current base file, for a merge; `None` for a new file group.
    pub existing: Option<BaseFile>,
    pub changes: HashMap<String, Change>,
    /// Input rows to append as inserts.
    pub inserts: Vec<usize>,
}

impl FileGroupWrite {
    pub fn id(&self) -> crate::fs_view::FileGroupId {
        crate::fs_view::FileGroupId {
            partition: self.partition.clone(),
            file_id: self.file_id.clone(),
        }
    }
}

/// Context shared by the file writes of one commit.
pub struct WriteContext<'a> {
    pub storage: &'a Storage,
    pub instant: &'a InstantTime,
    /// Meta columns + write schema.
    pub schema: SchemaRef,
    /// The writer's Avro schema (meta fields included), as JSON.
    pub avro_schema: &'a str,
    /// The Avro record's full name (the parquet schema's root).
    pub record_name: String,
    pub config: &'a WriteConfig,
    pub prepared: &'a Prepared,
    pub ordering_field: Option<&'a str>,
}

fn string_col(values: Vec<String>) -> ArrayRef {
    Arc::new(StringArray::from(values))
}

/// Input rows with the meta columns of this commit: commit time, the given seqnos, key,
/// partition path and `file_name` (a base file name, or the file id in log blocks).
pub(super) fn rows_with_meta(
    ctx: &WriteContext<'_>,
    rows: &[usize],
    seqnos: Vec<String>,
    file_name: &str,
) -> Result<RecordBatch> {
    let data = ctx.prepared.rows.take(rows)?;
    let n = rows.len();
    let mut cols: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(std::iter::repeat_n(
            ctx.instant.as_str(),
            n,
        ))),
        string_col(seqnos),
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| ctx.prepared.key(*r)),
        )),
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| ctx.prepared.partition(*r)),
        )),
        Arc::new(StringArray::from_iter_values(std::iter::repeat_n(
            file_name, n,
        ))),
    ];
    for f in ctx.schema.fields().iter().skip(META_FIELDS.len()) {
        cols.push(
            data.column_by_name(f.name())
                .cloned()
                .unwrap_or_else(|| arrow::array::new_null_array(f.data_type(), n)),
        );
    }
    RecordBatch::try_new(ctx.schema.clone(), cols)
        .map_err(|e| HudiError::arrow("building records", e))
}

/// The rows of a base file being written: a chunk's picks from the incoming rows (source 0)
/// and the stored batches read since the last flush (sources 1..).
struct MergeOutput<'a> {
    incoming: &'a RecordBatch,
    stored: Vec<RecordBatch>,
    picks: Vec<(usize, usize)>,
    /// Rows written so far (the position of the next one).
    written: usize,
    seq_prefix: String,
}

impl MergeOutput<'_> {
    /// Picks the rows of one stored batch: kept, replaced by an update, or dropped by a
    /// delete. Returns (updates, deletes).
    fn merge_stored(
        &mut self,
        ctx: &WriteContext<'_>,
        fg: &FileGroupWrite,
        batch: RecordBatch,
        position: &HashMap<usize, usize>,
    ) -> Result<(i64, i64)> {
        let keys = batch
            .column_by_name(RECORD_KEY_FIELD)
            .and_then(|c| c.as_string_opt::<i32>().cloned())
            .ok_or_else(|| HudiError::Corrupt {
                what: format!(
                    "of file group {} in partition '{}'",
                    fg.file_id, fg.partition
                ),
                reason: "existing base file has no string _hoodie_record_key".into(),
            })?;
        let order = ctx
            .ordering_field
            .and_then(|f| batch.column_by_name(f))
            .cloned();
        let stored_wins = |i: usize, incoming: usize| -> bool {
            ctx.config.payload == Payload::Default
                && match (&order, ctx.prepared.ordering(incoming)) {
                    (Some(col), inc) => {
                        let stored: OrderingValue = OrderingValue::from_array(col, i);
                        matches!(stored.compare(inc), Some(std::cmp::Ordering::Greater))
                    }
                    _ => false,
                }
        };
        let src = self.stored.len() + 1;
        let (mut updates, mut deletes) = (0, 0);
        for i in 0..batch.num_rows() {
            let change = match keys.is_null(i) {
                true => None,
                false => fg.changes.get(keys.value(i)),
            };
            match change {
                None => self.picks.push((src, i)),
                Some(Change::Update(r)) if stored_wins(i, *r) => self.picks.push((src, i)),
                Some(Change::Update(r)) => {
                    self.picks.push((0, position[r]));
                    updates += 1;
                }
                Some(Change::Delete(Some(r))) if stored_wins(i, *r) => self.picks.push((src, i)),
                Some(Change::Delete(_)) => deletes += 1,
            }
        }
        self.stored.push(batch);
        Ok((updates, deletes))
    }

    /// Writes the picked rows (one copy, straight from their batches) with their seqnos: new
    /// rows get this commit's, kept rows keep theirs.
    fn flush(&mut self, writer: &mut BaseFileWriter) -> Result<()> {
        if self.picks.is_empty() {
            self.stored.clear();
            return Ok(());
        }
        let sequential = self.stored.is_empty()
            && self
                .picks
                .iter()
                .enumerate()
                .all(|(j, (src, row))| *src == 0 && *row == self.picks[0].1 + j);
        let out = if sequential {
            // A new file group's rows are the incoming ones in order: a slice, no copy.
            self.incoming.slice(self.picks[0].1, self.picks.len())
        } else {
            let mut sources: Vec<&RecordBatch> = vec![self.incoming];
            sources.extend(self.stored.iter());
            interleave_record_batch(&sources, &self.picks)
                .map_err(|e| HudiError::arrow("merging", e))?
        };
        let old_seq = out
            .column_by_name(META_FIELDS[1])
            .and_then(|c| c.as_string_opt::<i32>().cloned());
        let n = self.picks.len();
        let mut seq = StringBuilder::with_capacity(n, n * (self.seq_prefix.len() + 6));
        for (j, (src, _)) in self.picks.iter().enumerate() {
            if *src == 0 {
                write!(seq, "{}{}", self.seq_prefix, self.written + j).map_err(|e| {
                    HudiError::Internal {
                        what: format!("seqno: {e}"),
                    }
                })?;
                seq.append_value("");
            } else {
                match old_seq.as_ref().filter(|s| !s.is_null(j)) {
                    Some(s) => seq.append_value(s.value(j)),
                    None => seq.append_null(),
                }
            }
        }
        let out = replace_column(&out, META_FIELDS[1], Arc::new(seq.finish()))?;
        writer.write(&out)?;
        self.written += n;
        self.picks.clear();
        self.stored.clear();
        Ok(())
    }
}

/// Writes the file group's new base file; returns its write stat.
pub async fn write_file_group(
    ctx: &WriteContext<'_>,
    fg: &FileGroupWrite,
    task: usize,
) -> Result<WriteStat> {
    let started = Stopwatch::now();
    let token = super::write_token(ctx.instant, task);
    let name = BaseFileName {
        file_id: fg.file_id.clone(),
        write_token: token,
        instant: ctx.instant.clone(),
        extension: "parquet".into(),
    }
    .to_string();
    let mut writer = BaseFileWriter::new(
        ctx.storage,
        &fg.partition,
        name.clone(),
        &ctx.schema,
        ctx.config,
        &ctx.record_name,
        ctx.avro_schema,
    )?;
    let rel = writer.rel.clone();
    let kind = if fg.existing.is_some() {
        MarkerType::Merge
    } else {
        MarkerType::Create
    };
    create_marker(ctx.storage, ctx.instant, &rel, kind).await?;

    // Every input row the group may take (updates can still lose to the stored row), once.
    let mut candidates: Vec<usize> = fg
        .changes
        .values()
        .filter_map(|c| match c {
            Change::Update(r) => Some(*r),
            Change::Delete(_) => None,
        })
        .collect();
    candidates.extend(&fg.inserts);
    let position: HashMap<usize, usize> = candidates
        .iter()
        .enumerate()
        .map(|(p, r)| (*r, p))
        .collect();
    // Seqnos of new rows depend on their final position, and the writer sets the file-name
    // column: both are set while writing.
    let incoming = rows_with_meta(ctx, &candidates, vec![String::new(); candidates.len()], "")?;

    let mut out = MergeOutput {
        incoming: &incoming,
        stored: Vec::new(),
        picks: Vec::new(),
        written: 0,
        seq_prefix: format!("{}_{task}_", ctx.instant),
    };
    let (mut updates, mut deletes) = (0i64, 0i64);
    // The stored rows stream through, one batch at a time: none is held beyond its chunk.
    if let Some(b) = &fg.existing {
        let bytes = ctx.storage.get(&b.path).await?;
        let display = ctx.storage.display(&b.path);
        let file = ParquetFile::new(display.clone(), bytes);
        for batch in file.read(None)? {
            let batch = align_batch(&batch?, &ctx.schema, &display)?;
            let (u, d) = out.merge_stored(ctx, fg, batch, &position)?;
            updates += u;
            deletes += d;
            if out.picks.len() >= WRITE_CHUNK {
                out.flush(&mut writer)?;
            }
        }
    }
    for r in &fg.inserts {
        out.picks.push((0, position[r]));
        if out.picks.len() >= WRITE_CHUNK {
            out.flush(&mut writer)?;
        }
    }
    out.flush(&mut writer)?;
    let rows = writer.rows();
    let size = writer.finish(ctx.storage).await? as i64;
    let elapsed = started.elapsed().as_millis() as i64;
    Ok(WriteStat {
        file_id: Some(fg.file_id.clone()),
        path: Some(rel),
        prev_commit: Some(
            fg.existing
                .as_ref()
                .map_or("null".to_string(), |b| b.name.instant.to_string()),
        ),
        num_writes: rows as i64,
        num_deletes: deletes,
        num_update_writes: updates,
        num_inserts: fg.inserts.len() as i64,
        total_write_bytes: size,
        partition_path: Some(fg.partition.clone()),
        file_size_in_bytes: size,
        runtime_stats: Some(RuntimeStats {
            total_scan_time: 0,
            total_upsert_time: if fg.existing.is_some() { elapsed } else { 0 },
            total_create_time: if fg.existing.is_some() { 0 } else { elapsed },
        }),
        ..Default::default()
    })
}
