//! `hudi log show`: the blocks of one log file, their headers and records.

use std::sync::Arc;

use arrow::datatypes::{Schema, SchemaRef};
use hudi_core::io::avro_arrow::{avro_schema_to_arrow, parse_avro_schema};
use hudi_core::io::log_block::{walk, BlockType, HeaderKey, LogBlock};
use hudi_core::io::log_reader::{LogContent, LogFileDecoder};
use hudi_core::storage::Storage;
use serde_json::{json, Value};

use crate::error::CliError;
use crate::output::print_json;
use crate::StorageArgs;

/// Log files of merge-on-read tables: `show` walks one.
///
/// Examples:
///   hudi log show /data/events/de/.f1-0_20261201153000123.log.1_0-1-0
///   hudi log show FILE --records 5 --json
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct LogArgs {
    #[command(subcommand)]
    pub command: LogCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum LogCommand {
    /// The blocks of a log file: type, offset, size, headers, record count; corrupt regions.
    ///
    /// Examples:
    ///   hudi log show /data/events/de/.f1-0_20261201153000123.log.1_0-1-0
    ///   hudi log show s3://bucket/events/de/.f1-0_20261201153000123.log.1_0-1-0 --json
    ///   hudi log show FILE --records 5     # and the first 5 records of each block
    #[command(verbatim_doc_comment)]
    Show(ShowArgs),
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// The log file (path or URL).
    pub file: String,
    /// Also print up to this many records of each data and delete block.
    #[arg(long, value_name = "N")]
    pub records: Option<usize>,
    /// Print one JSON object per block (and per corrupt region) instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub storage: StorageArgs,
}

pub async fn run(a: LogArgs) -> Result<(), CliError> {
    let LogCommand::Show(a) = a.command;
    let (dir, name) = match a.file.trim_end_matches('/').rsplit_once('/') {
        Some((d, n)) if !d.is_empty() => (d.to_string(), n.to_string()),
        Some((_, n)) => ("/".to_string(), n.to_string()),
        None => (".".to_string(), a.file.clone()),
    };
    let storage = Storage::open(&dir, &a.storage.options())?;
    let bytes = storage.get(&name).await?;
    let w = walk(&bytes);
    let mut decoder = LogFileDecoder::new(target_schema(&w.blocks, &a.file)?)?;
    let mut rows = Vec::new();
    for b in &w.blocks {
        rows.push(block_row(&mut decoder, &a.file, b, a.records)?);
    }
    for c in &w.corrupt {
        rows.push(json!({
            "offset": c.offset, "size": c.len, "type": "CORRUPT_REGION", "error": c.reason,
        }));
    }
    if a.json {
        for r in &rows {
            print_json(r)?;
        }
        return Ok(());
    }
    println!(
        "{}: {} bytes, {} blocks, {} corrupt regions",
        a.file,
        bytes.len(),
        w.blocks.len(),
        w.corrupt.len()
    );
    for r in &rows {
        print_block(r);
    }
    Ok(())
}

/// The schema records are shown in: the newest data block's (older blocks get nulls for
/// columns added later).
fn target_schema(blocks: &[LogBlock], file: &str) -> Result<SchemaRef, CliError> {
    let Some(text) = blocks.iter().rev().find_map(|b| b.schema()) else {
        return Ok(Arc::new(Schema::empty()));
    };
    let avro = parse_avro_schema(text, &format!("SCHEMA header of {file}"))?;
    Ok(Arc::new(avro_schema_to_arrow(&avro)?))
}

fn block_row(
    decoder: &mut LogFileDecoder,
    file: &str,
    b: &LogBlock,
    records: Option<usize>,
) -> Result<Value, CliError> {
    let header: serde_json::Map<String, Value> = b
        .header
        .iter()
        .map(|(k, v)| {
            let shown = match k {
                HeaderKey::Schema => Value::from(format!("<{} bytes>", v.len())),
                _ => Value::from(v.as_str()),
            };
            (k.name().to_string(), shown)
        })
        .collect();
    let mut row = json!({
        "offset": b.offset, "size": b.size, "type": b.block_type.name(),
        "format_version": b.format_version, "instant": b.instant_time(), "header": header,
    });
    let decoded = match b.block_type {
        BlockType::HFileData | BlockType::CdcData | BlockType::Corrupt => None,
        _ => Some(decoder.decode_block(file, b)),
    };
    let o = row.as_object_mut().expect("object");
    match decoded {
        Some(Ok(Some(LogContent::Data { batch, .. }))) => {
            o.insert("records".into(), batch.num_rows().into());
            if let Some(n) = records {
                o.insert(
                    "rows".into(),
                    batch_rows(&batch.slice(0, n.min(batch.num_rows())))?,
                );
            }
        }
        Some(Ok(Some(LogContent::Delete { records: keys, .. }))) => {
            o.insert("records".into(), keys.len().into());
            if let Some(n) = records {
                let shown: Vec<Value> = keys
                    .iter()
                    .take(n)
                    .map(|d| {
                        json!({"record_key": d.record_key, "partition_path": d.partition_path,
                               "ordering": format!("{:?}", d.ordering)})
                    })
                    .collect();
                o.insert("rows".into(), shown.into());
            }
        }
        Some(Ok(Some(LogContent::Rollback { target, .. }))) => {
            o.insert("rollback_of".into(), target.as_str().into());
        }
        Some(Ok(None)) | None => {}
        Some(Err(e)) => {
            o.insert("error".into(), e.to_string().into());
        }
    }
    Ok(row)
}

fn batch_rows(batch: &arrow::array::RecordBatch) -> Result<Value, CliError> {
    let mut w = arrow::json::ArrayWriter::new(Vec::new());
    w.write(batch).map_err(|source| CliError::Format {
        format: "json",
        source,
    })?;
    w.finish().map_err(|source| CliError::Format {
        format: "json",
        source,
    })?;
    let bytes = w.into_inner();
    if bytes.is_empty() {
        return Ok(Value::Array(Vec::new()));
    }
    serde_json::from_slice(&bytes).map_err(|e| CliError::Usage {
        arg: "--records",
        reason: format!("cannot show the records as JSON: {e}"),
    })
}

fn print_block(r: &Value) {
    let s = |k: &str| match &r[k] {
        Value::Null => "-".to_string(),
        Value::String(s) => s.clone(),
        v => v.to_string(),
    };
    println!(
        "block at {:>10}  {:>9} bytes  {:<18}  instant {}  records {}",
        s("offset"),
        s("size"),
        s("type"),
        s("instant"),
        s("records")
    );
    if let Some(h) = r["header"].as_object() {
        for (k, v) in h {
            let v = v
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string());
            println!("    {k} = {v}");
        }
    }
    for k in ["rollback_of", "error"] {
        if !r[k].is_null() {
            println!("    {k}: {}", s(k));
        }
    }
    if let Some(rows) = r["rows"].as_array() {
        for row in rows {
            println!("    {row}");
        }
    }
}
