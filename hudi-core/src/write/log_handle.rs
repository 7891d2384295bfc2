//! Appending to a file group's log (merge-on-read): one new log file version per write (object
//! stores cannot append), holding Avro (or Parquet) data blocks of the new record versions and
//! a delete block of the deleted keys; rolled over past `hoodie.logfile.max.size`.

use std::collections::BTreeMap;
use std::time::Instant as Stopwatch;

use apache_avro::schema::Schema as AvroSchema;
use arrow::array::RecordBatch;

use crate::error::{HudiError, Result};
use crate::fs_view::LogFile;
use crate::io::arrow_avro::{batch_to_records, encode_avro_data_content, encode_delete_content};
use crate::io::log_block::{encode_block, BlockType, HeaderKey};
use crate::io::parquet_writer::ParquetBuffer;
use crate::model::metadata::{RuntimeStats, WriteStat};
use crate::model::{InstantTime, LogFileName, OrderingValue};

use super::handle::{rows_with_meta, WriteContext};
use super::markers::{create_marker, MarkerType};

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
    /// How many of `rows` update existing records.
    pub updates: usize,
    /// Keys to delete, with their partition and ordering value.
    pub deletes: Vec<(String, String, OrderingValue)>,
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

/// Writes the group's new log file(s); returns the write stat.
pub async fn append_log(
    ctx: &WriteContext<'_>,
    lg: &LogGroupWrite,
    settings: &LogSettings,
    schema_json: &str,
    avro_schema: &AvroSchema,
    delete_schema: &AvroSchema,
    task: usize,
) -> Result<WriteStat> {
    let started = Stopwatch::now();
    let token = super::write_token(ctx.instant, task);
    let mut header = BTreeMap::new();
    header.insert(HeaderKey::InstantTime, ctx.instant.to_string());
    header.insert(HeaderKey::Schema, schema_json.to_string());

    // Encode blocks, each under the block size limit.
    let mut blocks: Vec<Vec<u8>> = Vec::new();
    let flush = |rows: &[usize], start: usize| -> Result<Vec<u8>> {
        let batch = log_rows(ctx, rows, &lg.file_id, start, task)?;
        let content = match settings.format {
            LogBlockFormat::Avro => {
                let records = batch_to_records(&batch, avro_schema, "log data block")?;
                encode_avro_data_content(&records, avro_schema, "log data block")?
            }
            LogBlockFormat::Parquet => {
                let mut w =
                    ParquetBuffer::new("parquet log block", &ctx.schema, &ctx.config.parquet)?;
                w.write(&batch, &ctx.config.parquet)?;
                w.finish(Vec::new())?.to_vec()
            }
        };
        let kind = match settings.format {
            LogBlockFormat::Avro => BlockType::AvroData,
            LogBlockFormat::Parquet => BlockType::ParquetData,
        };
        Ok(encode_block(kind, &header, &content))
    };
    // Rows per block: the block size limit over the encoded size of a probe.
    if !lg.rows.is_empty() {
        let probe = lg.rows.len().min(1024);
        let probe_block = flush(&lg.rows[..probe], 0)?;
        let per_row = (probe_block.len() / probe).max(1);
        let rows_per_block = (settings.max_block_bytes / per_row).max(1);
        if probe == lg.rows.len() && probe <= rows_per_block {
            blocks.push(probe_block);
        } else {
            let mut start = 0;
            for chunk in lg.rows.chunks(rows_per_block) {
                blocks.push(flush(chunk, start)?);
                start += chunk.len();
            }
        }
    }
    if !lg.deletes.is_empty() {
        let content = encode_delete_content(&lg.deletes, delete_schema)?;
        blocks.push(encode_block(BlockType::Delete, &header, &content));
    }
    if blocks.is_empty() {
        return Err(avro_err(format!(
            "nothing to append to file group {}",
            lg.file_id
        )));
    }

    // Files: roll over to the next version past the log file size limit.
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut version = lg.next_version;
    for b in blocks {
        let start_new = files.last().is_none_or(|(_, buf)| {
            buf.len() + b.len() > settings.max_file_bytes && !buf.is_empty()
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
            files.push((name, Vec::new()));
        }
        if let Some((_, buf)) = files.last_mut() {
            buf.extend_from_slice(&b);
        }
    }
    let mut total = 0i64;
    let mut last_path = String::new();
    let mut new_names = Vec::new();
    for (name, bytes) in files {
        let rel = if lg.partition.is_empty() {
            name.clone()
        } else {
            format!("{}/{name}", lg.partition)
        };
        create_marker(ctx.storage, ctx.instant, &rel, MarkerType::Append).await?;
        total += bytes.len() as i64;
        ctx.storage.put(&rel, bytes::Bytes::from(bytes)).await?;
        last_path = rel;
        new_names.push(name);
    }
    let mut log_files: Vec<String> = lg
        .existing_logs
        .iter()
        .map(|l| l.name.to_string())
        .collect();
    log_files.extend(new_names);
    let inserts = lg.rows.len() - lg.updates;
    Ok(WriteStat {
        file_id: Some(lg.file_id.clone()),
        path: Some(last_path),
        prev_commit: Some(lg.base_instant.to_string()),
        num_writes: lg.rows.len() as i64,
        num_deletes: lg.deletes.len() as i64,
        num_update_writes: lg.updates as i64,
        num_inserts: inserts as i64,
        total_write_bytes: total,
        partition_path: Some(lg.partition.clone()),
        file_size_in_bytes: total,
        runtime_stats: Some(RuntimeStats {
            total_upsert_time: started.elapsed().as_millis() as i64,
            ..Default::default()
        }),
        log_version: Some((version - 1) as i32),
        log_offset: Some(0),
        base_file: Some(lg.base_file.clone().unwrap_or_default()),
        log_files: Some(log_files),
        ..Default::default()
    })
}
