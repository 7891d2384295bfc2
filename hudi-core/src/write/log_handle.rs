//! Appending to a file group's log (merge-on-read): one new log file version per write (object
//! stores cannot append), holding Avro (or Parquet) data blocks of the new record versions and
//! a delete block of the deleted keys; rolled over past `hoodie.logfile.max.size`.

use std::collections::BTreeMap;
use std::time::Instant as Stopwatch;

use apache_avro::schema::Schema as AvroSchema;
use arrow::array::RecordBatch;

use crate::error::{HudiError, Result};
use crate::fs_view::LogFile;
use crate::io::arrow_avro::encode_delete_content;
use crate::io::avro_encode::encode_batch_content;
use crate::io::log_block::{encode_block, BlockType, HeaderKey};
use crate::io::parquet_writer::ParquetBuffer;
use crate::model::metadata::{RuntimeStats, WriteStat};
use crate::model::{InstantTime, LogFileName, OrderingValue};

use super::handle::{rows_with_meta, WriteContext};
use crate::txn::markers::{create_marker, MarkerType};

/// Log data block format (`hoodie.logfile.data.block.format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogBlockFormat {
    Avro,
    Parquet,
}

/// One file group receiving a log file in this commit.
#[derive(Debug, Clone)]
pub struct LogGroupWrite {
    pub partition: String,
    pub file_id: String,
    /// Base instant of the slice the log joins (v6 names logs with it).
    pub base_instant: InstantTime,
    /// The slice's base file name, if any (for the write stat).
    pub base_file: Option<String>,
    /// Log files already in the slice.
    pub existing_logs: Vec<LogFile>,
    /// Next free log version for this file id and base instant.
    pub next_version: u32,
    /// Input rows to append as new record versions.
    pub rows: Vec<usize>,
    /// For each of `rows`: whether it updates an existing record (else an insert).
    pub updates: Vec<bool>,
    /// Keys to delete, with their partition and ordering value.
    pub deletes: Vec<(String, String, OrderingValue)>,
}

impl LogGroupWrite {
    pub fn id(&self) -> crate::fs_view::FileGroupId {
        crate::fs_view::FileGroupId {
            partition: self.partition.clone(),
            file_id: self.file_id.clone(),
        }
    }

    /// Adds an input row: an update of an existing record, or an insert.
    pub fn push(&mut self, row: usize, update: bool) {
        self.rows.push(row);
        self.updates.push(update);
    }

    /// How many rows update existing records.
    pub fn update_count(&self) -> usize {
        self.updates.iter().filter(|u| **u).count()
    }
}

/// One encoded block and the records it holds.
struct Block {
    bytes: Vec<u8>,
    writes: usize,
    updates: usize,
    deletes: usize,
}

/// Settings of the log writer.
#[derive(Debug, Clone)]
pub struct LogSettings {
    pub format: LogBlockFormat,
    pub max_block_bytes: usize,
    pub max_file_bytes: usize,
}

fn avro_err(reason: impl Into<String>) -> HudiError {
    HudiError::Avro {
        context: "log block".into(),
        reason: reason.into(),
    }
}

/// Rows with meta columns for a log block (file name = file id, as Hudi writes in logs).
fn log_rows(
    ctx: &WriteContext<'_>,
    rows: &[usize],
    file_id: &str,
    seq_start: usize,
    task: usize,
) -> Result<RecordBatch> {
    let seqnos = (0..rows.len())
        .map(|i| format!("{}_{task}_{}", ctx.instant, seq_start + i))
        .collect();
    rows_with_meta(ctx, rows, seqnos, file_id)
}

/// Writes the group's new log file(s); returns one write stat per log file, as Java's
/// `HoodieAppendHandle` starts a new stat when it rolls over to a new file.
pub async fn append_log(
    ctx: &WriteContext<'_>,
    lg: &LogGroupWrite,
    settings: &LogSettings,
    avro_schema: &AvroSchema,
    delete_schema: &AvroSchema,
    task: usize,
) -> Result<Vec<WriteStat>> {
    let started = Stopwatch::now();
    let token = super::write_token(ctx.instant, task);
    let mut header = BTreeMap::new();
    header.insert(HeaderKey::InstantTime, ctx.instant.to_string());
    header.insert(HeaderKey::Schema, ctx.avro_schema.to_string());
    let blocks = encode_blocks(ctx, lg, settings, &header, avro_schema, delete_schema, task)?;

    // Files: roll over to the next version past the log file size limit.
    let mut files: Vec<(String, Vec<u8>, Vec<&Block>)> = Vec::new();
    let mut version = lg.next_version;
    for b in &blocks {
        let start_new = files.last().is_none_or(|(_, buf, _)| {
            buf.len() + b.bytes.len() > settings.max_file_bytes && !buf.is_empty()
        });
        if start_new {
            let name = LogFileName {
                file_id: lg.file_id.clone(),
                instant: lg.base_instant.clone(),
                extension: "log".into(),
                version,
                write_token: Some(token.clone()),
                cdc_suffix: None,
            }
            .to_string();
            version += 1;
            files.push((name, Vec::new(), Vec::new()));
        }
        if let Some((_, buf, held)) = files.last_mut() {
            buf.extend_from_slice(&b.bytes);
            held.push(b);
        }
    }
    let mut log_files: Vec<String> = lg
        .existing_logs
        .iter()
        .map(|l| l.name.to_string())
        .collect();
    let mut stats = Vec::with_capacity(files.len());
    for (n, (name, bytes, held)) in files.into_iter().enumerate() {
        let rel = if lg.partition.is_empty() {
            name.clone()
        } else {
            format!("{}/{name}", lg.partition)
        };
        create_marker(ctx.storage, ctx.instant, &rel, MarkerType::Append).await?;
        let size = bytes.len() as i64;
        ctx.storage.put(&rel, bytes::Bytes::from(bytes)).await?;
        log_files.push(name);
        let (writes, updates, deletes) = held.iter().fold((0, 0, 0), |(w, u, d), b| {
            (w + b.writes, u + b.updates, d + b.deletes)
        });
        stats.push(WriteStat {
            file_id: Some(lg.file_id.clone()),
            path: Some(rel),
            prev_commit: Some(lg.base_instant.to_string()),
            num_writes: writes as i64,
            num_deletes: deletes as i64,
            num_update_writes: updates as i64,
            num_inserts: (writes - updates) as i64,
            total_write_bytes: size,
            partition_path: Some(lg.partition.clone()),
            file_size_in_bytes: size,
            runtime_stats: Some(RuntimeStats {
                total_upsert_time: if n == 0 {
                    started.elapsed().as_millis() as i64
                } else {
                    0
                },
                ..Default::default()
            }),
            log_version: Some((lg.next_version as usize + n) as i32),
            log_offset: Some(0),
            base_file: Some(lg.base_file.clone().unwrap_or_default()),
            log_files: Some(log_files.clone()),
            ..Default::default()
        });
    }
    Ok(stats)
}

/// The group's data blocks (each under the block size limit) and its delete block.
fn encode_blocks(
    ctx: &WriteContext<'_>,
    lg: &LogGroupWrite,
    settings: &LogSettings,
    header: &BTreeMap<HeaderKey, String>,
    avro_schema: &AvroSchema,
    delete_schema: &AvroSchema,
    task: usize,
) -> Result<Vec<Block>> {
    let data_block = |range: std::ops::Range<usize>| -> Result<Block> {
        let rows = &lg.rows[range.clone()];
        let batch = log_rows(ctx, rows, &lg.file_id, range.start, task)?;
        let (kind, content) = match settings.format {
            LogBlockFormat::Avro => {
                let content = encode_batch_content(&batch, avro_schema, "log data block")?;
                (BlockType::AvroData, content)
            }
            LogBlockFormat::Parquet => {
                let mut w = ParquetBuffer::new(
                    "parquet log block",
                    &ctx.schema,
                    &ctx.config.parquet,
                    &ctx.record_name,
                )?;
                w.write(&batch, &ctx.config.parquet, || ())?;
                let content = crate::io::parquet_writer::concat(
                    &w.finish(super::base_writer::avro_footer(ctx.avro_schema))?,
                );
                (BlockType::ParquetData, content)
            }
        };
        Ok(Block {
            bytes: encode_block(kind, header, &content),
            writes: rows.len(),
            updates: lg.updates[range].iter().filter(|u| **u).count(),
            deletes: 0,
        })
    };
    let mut blocks = Vec::new();
    if !lg.rows.is_empty() {
        // Rows per block: the block size limit over the encoded size of a probe.
        let probe = lg.rows.len().min(1024);
        let probe_block = data_block(0..probe)?;
        let per_row = (probe_block.bytes.len() / probe).max(1);
        let rows_per_block = (settings.max_block_bytes / per_row).max(1);
        if probe == lg.rows.len() && probe <= rows_per_block {
            blocks.push(probe_block);
        } else {
            let mut start = 0;
            while start < lg.rows.len() {
                let end = (start + rows_per_block).min(lg.rows.len());
                blocks.push(data_block(start..end)?);
                start = end;
            }
        }
    }
    if !lg.deletes.is_empty() {
        let content = encode_delete_content(&lg.deletes, delete_schema)?;
        blocks.push(Block {
            bytes: encode_block(BlockType::Delete, header, &content),
            writes: 0,
            updates: 0,
            deletes: lg.deletes.len(),
        });
    }
    if blocks.is_empty() {
        return Err(avro_err(format!(
            "nothing to append to file group {}",
            lg.file_id
        )));
    }
    Ok(blocks)
}
