//! Decoding the contents of log blocks: data blocks (Avro or Parquet) into Arrow, delete blocks
//! into keys with ordering values, command blocks into rollback targets.

use std::collections::HashMap;

use super::base_file::checked_builder;
use apache_avro::schema::Schema as AvroSchema;
use apache_avro::types::Value;
use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use bytes::Bytes;

use super::align::align_batch;
use super::avro_arrow::{parse_avro_schema, records_to_batch};
use super::avro_decode::BlockDecoder;
use super::log_block::{walk, BlockType, LogBlock};
use crate::error::{HudiError, Result};
use crate::model::{InstantTime, OrderingValue};

/// Avro schema of a version-3 delete block (`HoodieDeleteRecordList`, with wrapper records
/// for the ordering value, as Java writes it).
pub const DELETE_RECORD_LIST_SCHEMA: &str = r#"{"namespace":"org.apache.hudi.avro.model","type":"record","name":"HoodieDeleteRecordList","fields":[{"name":"deleteRecordList","type":{"type":"array","items":{"name":"HoodieDeleteRecord","type":"record","fields":[{"name":"recordKey","type":["null","string"],"default":null},{"name":"partitionPath","type":["null","string"],"default":null},{"name":"orderingVal","type":["null",{"type":"record","name":"BooleanWrapper","fields":[{"name":"value","type":"boolean"}]},{"type":"record","name":"IntWrapper","fields":[{"name":"value","type":"int"}]},{"type":"record","name":"LongWrapper","fields":[{"name":"value","type":"long"}]},{"type":"record","name":"FloatWrapper","fields":[{"name":"value","type":"float"}]},{"type":"record","name":"DoubleWrapper","fields":[{"name":"value","type":"double"}]},{"type":"record","name":"BytesWrapper","fields":[{"name":"value","type":"bytes"}]},{"type":"record","name":"StringWrapper","fields":[{"name":"value","type":"string"}]},{"type":"record","name":"DateWrapper","fields":[{"name":"value","type":"int"}]},{"type":"record","name":"DecimalWrapper","fields":[{"name":"value","type":{"type":"bytes","logicalType":"decimal","precision":30,"scale":15}}]},{"type":"record","name":"TimeMicrosWrapper","fields":[{"name":"value","type":{"type":"long","logicalType":"time-micros"}}]},{"type":"record","name":"TimestampMicrosWrapper","fields":[{"name":"value","type":{"type":"long","logicalType":"timestamp-micros"}}]}],"default":null}]}}}]}"#;

/// One deleted key.
#[derive(Debug, Clone, PartialEq)]
pub struct DeleteRecord {
    pub record_key: String,
    pub partition_path: Option<String>,
    pub ordering: OrderingValue,
}

/// What one intact block means.
#[derive(Debug, Clone)]
pub enum LogContent {
    Data {
        instant: InstantTime,
        batch: RecordBatch,
    },
    Delete {
        instant: InstantTime,
        records: Vec<DeleteRecord>,
    },
    Rollback {
        instant: InstantTime,
        target: InstantTime,
    },
}

impl LogContent {
    pub fn instant(&self) -> &InstantTime {
        match self {
            LogContent::Data { instant, .. }
            | LogContent::Delete { instant, .. }
            | LogContent::Rollback { instant, .. } => instant,
        }
    }
}

fn format_err(path: &str, block: &LogBlock, reason: impl Into<String>) -> HudiError {
    HudiError::LogFormat {
        path: path.to_string(),
        offset: block.offset,
        reason: reason.into(),
    }
}

/// Decodes the blocks of one log file. Corrupt regions are skipped with a warning, as Java
/// does. CDC blocks are ignored; HFile blocks (metadata table only) are refused.
pub struct LogFileDecoder {
    target: SchemaRef,
    /// Writer schemas seen in SCHEMA headers, each with its direct decoder when one applies.
    schemas: HashMap<String, (AvroSchema, Option<BlockDecoder>)>,
    delete_schema: AvroSchema,
    /// Corrupt regions skipped so far.
    pub corrupt_regions: usize,
}

impl LogFileDecoder {
    pub fn new(target: SchemaRef) -> Result<Self> {
        Ok(LogFileDecoder {
            target,
            schemas: HashMap::new(),
            delete_schema: parse_avro_schema(DELETE_RECORD_LIST_SCHEMA, "delete block schema")?,
            corrupt_regions: 0,
        })
    }

    /// Walks and decodes a whole log file (`path` names it in errors).
    pub fn decode_file(&mut self, path: &str, bytes: &Bytes) -> Result<Vec<LogContent>> {
        let w = walk(bytes);
        self.corrupt_regions += w.corrupt.len();
        for c in &w.corrupt {
            log::warn!(
                "{path}: skipping corrupt log region at byte {} ({} bytes): {}",
                c.offset,
                c.len,
                c.reason
            );
        }
        let mut out = Vec::with_capacity(w.blocks.len());
        for b in &w.blocks {
            if let Some(c) = self.decode_block(path, b)? {
                out.push(c);
            }
        }
        Ok(out)
    }

    /// Decodes one intact block (`None`: a block that carries nothing to merge: CDC, or a
    /// command other than rollback).
    pub fn decode_block(&mut self, path: &str, b: &LogBlock) -> Result<Option<LogContent>> {
        let instant_str = b
            .instant_time()
            .ok_or_else(|| format_err(path, b, "block has no INSTANT_TIME header"))?;
        let instant =
            InstantTime::parse(instant_str).map_err(|e| format_err(path, b, e.to_string()))?;
        match b.block_type {
            BlockType::Command => {
                if !b.is_rollback_command() {
                    return Ok(None);
                }
                let t = b.target_instant_time().ok_or_else(|| {
                    format_err(path, b, "rollback block has no TARGET_INSTANT_TIME")
                })?;
                let target =
                    InstantTime::parse(t).map_err(|e| format_err(path, b, e.to_string()))?;
                Ok(Some(LogContent::Rollback { instant, target }))
            }
            BlockType::AvroData => {
                let batch = self.decode_avro_data(path, b)?;
                Ok(Some(LogContent::Data { instant, batch }))
            }
            BlockType::ParquetData => {
                let ctx = format!("parquet data block at byte {} of {path}", b.offset);
                let reader = checked_builder(&ctx, b.content.clone())?
                    .build()
                    .map_err(|e| HudiError::parquet(ctx.clone(), e))?;
                let mut batches = Vec::new();
                for batch in reader {
                    let batch = batch.map_err(|e| HudiError::arrow(ctx.clone(), e))?;
                    batches.push(align_batch(&batch, &self.target, &ctx)?);
                }
                let batch = arrow::compute::concat_batches(&self.target, &batches)
                    .map_err(|e| HudiError::arrow(ctx, e))?;
                Ok(Some(LogContent::Data { instant, batch }))
            }
            BlockType::Delete => {
                let records = self.decode_delete(path, b)?;
                Ok(Some(LogContent::Delete { instant, records }))
            }
            BlockType::CdcData | BlockType::Corrupt => Ok(None),
            BlockType::HFileData => Err(HudiError::Unsupported {
                path: path.to_string(),
                feature: "HFile data blocks (metadata table log files)".into(),
            }),
        }
    }

    fn decode_avro_data(&mut self, path: &str, b: &LogBlock) -> Result<RecordBatch> {
        let schema_text = b
            .schema()
            .ok_or_else(|| format_err(path, b, "data block has no SCHEMA header"))?;
        if !self.schemas.contains_key(schema_text) {
            let s = parse_avro_schema(schema_text, &format!("SCHEMA header of {path}"))?;
            let direct = BlockDecoder::compile(&s, &self.target);
            self.schemas.insert(schema_text.to_string(), (s, direct));
        }
        let (schema, direct) = &self.schemas[schema_text];
        let context = format!("data block at byte {} of {path}", b.offset);
        if let Some(d) = direct {
            let (count, pos) = data_block_header(&b.content).map_err(|e| format_err(path, b, e))?;
            return d
                .decode(&b.content, pos, count, &context)
                .map_err(|e| format_err(path, b, e));
        }
        let records = avro_data_values(&b.content, schema).map_err(|e| format_err(path, b, e))?;
        records_to_batch(&records, &self.target, &context)
    }

    fn decode_delete(&self, path: &str, b: &LogBlock) -> Result<Vec<DeleteRecord>> {
        let c = &b.content;
        if c.len() < 8 {
            return Err(format_err(path, b, "delete block content too short"));
        }
        let version = u32::from_be_bytes([c[0], c[1], c[2], c[3]]);
        if version != 3 {
            return Err(format_err(
                path,
                b,
                format!("delete block version {version} (Kryo-serialized) is not supported; only version 3"),
            ));
        }
        let len = u32::from_be_bytes([c[4], c[5], c[6], c[7]]) as usize;
        let mut data = c
            .get(8..8 + len)
            .ok_or_else(|| format_err(path, b, "delete data runs past the block"))?;
        let v = apache_avro::reader::datum::GenericDatumReader::builder(&self.delete_schema)
            .build()
            .and_then(|r| r.read_value(&mut data))
            .map_err(|e| format_err(path, b, e.to_string()))?;
        let items = match v {
            Value::Record(fields) => match fields.into_iter().next() {
                Some((_, Value::Array(items))) => items,
                _ => return Err(format_err(path, b, "delete list has no array")),
            },
            _ => return Err(format_err(path, b, "delete list is not a record")),
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let Value::Record(fields) = item else {
                return Err(format_err(path, b, "delete record is not a record"));
            };
            let mut key = None;
            let mut partition = None;
            let mut ordering = OrderingValue::Null;
            for (name, val) in fields {
                match (name.as_str(), val) {
                    ("orderingVal", Value::Union(branch, w)) => {
                        ordering = unwrap_ordering(branch, *w)
                    }
                    (name, Value::Union(_, inner)) => match (name, *inner) {
                        ("recordKey", Value::String(s)) => key = Some(s),
                        ("partitionPath", Value::String(s)) => partition = Some(s),
                        _ => {}
                    },
                    ("recordKey", Value::String(s)) => key = Some(s),
                    ("partitionPath", Value::String(s)) => partition = Some(s),
                    _ => {}
                }
            }
            let record_key =
                key.ok_or_else(|| format_err(path, b, "delete record without a record key"))?;
            out.push(DeleteRecord {
                record_key,
                partition_path: partition,
                ordering,
            });
        }
        Ok(out)
    }
}

/// The ordering value of a delete record's `orderingVal` wrapper (its union branch gives the
/// Java class, as `HoodieAvroUtils.unwrapAvroValueWrapper` does).
fn unwrap_ordering(branch: u32, wrapped: Value) -> OrderingValue {
    use crate::io::arrow_avro::wrapper as w;
    let Value::Record(fields) = wrapped else {
        return OrderingValue::Null;
    };
    let Some((_, v)) = fields.into_iter().next() else {
        return OrderingValue::Null;
    };
    match (branch, v) {
        (w::BOOLEAN, Value::Boolean(b)) => OrderingValue::Bool(b),
        (w::INT, Value::Int(i)) => OrderingValue::Int(i),
        (w::LONG, Value::Long(i)) => OrderingValue::Long(i),
        (w::FLOAT, Value::Float(f)) => OrderingValue::Float(f),
        (w::DOUBLE, Value::Double(f)) => OrderingValue::Double(f),
        (w::BYTES, Value::Bytes(b)) => OrderingValue::Bytes(b),
        (w::STRING, Value::String(s)) => OrderingValue::Str(s),
        (w::DATE, Value::Int(d) | Value::Date(d)) => OrderingValue::Date(d),
        (w::DECIMAL, Value::Decimal(d)) => {
            let bytes: Vec<u8> = Vec::try_from(&d).unwrap_or_default();
            let mut buf = if bytes.first().is_some_and(|b| b & 0x80 != 0) {
                [0xFF; 16]
            } else {
                [0; 16]
            };
            let n = bytes.len().min(16);
            buf[16 - n..].copy_from_slice(&bytes[bytes.len() - n..]);
            OrderingValue::Decimal(i128::from_be_bytes(buf), w::DECIMAL_SCALE)
        }
        (w::TIME_MICROS, Value::TimeMicros(t) | Value::Long(t)) => OrderingValue::Long(t),
        (w::TIMESTAMP_MICROS, Value::TimestampMicros(t) | Value::Long(t)) => {
            OrderingValue::Instant(t)
        }
        // A wrapper of a schema this reader does not know: keep the value's own class.
        (_, Value::Int(i)) => OrderingValue::Int(i),
        (_, Value::Long(i)) => OrderingValue::Long(i),
        (_, Value::String(s)) => OrderingValue::Str(s),
        _ => OrderingValue::Null,
    }
}

/// The record count of an Avro data block's content and where its records start.
fn data_block_header(c: &[u8]) -> std::result::Result<(usize, usize), String> {
    if c.len() < 8 {
        return Err("data block content too short".into());
    }
    let version = u32::from_be_bytes([c[0], c[1], c[2], c[3]]);
    if version < 2 {
        return Err(format!("unsupported data block version {version}"));
    }
    let count = u32::from_be_bytes([c[4], c[5], c[6], c[7]]) as usize;
    // Every record has a 4-byte length: a count the content cannot hold is corrupt, and must
    // not size the buffers.
    if count > (c.len() - 8) / 4 {
        return Err(format!(
            "data block claims {count} records in {} bytes",
            c.len() - 8
        ));
    }
    Ok((count, 8))
}

/// The records of an Avro data block's content (block version 2 or 3: count, then
/// length-prefixed datums of `schema`).
pub fn avro_data_values(
    c: &[u8],
    schema: &apache_avro::Schema,
) -> std::result::Result<Vec<apache_avro::types::Value>, String> {
    let (count, mut pos) = data_block_header(c)?;
    let mut records = Vec::with_capacity(count.min(c.len()));
    let reader = apache_avro::reader::datum::GenericDatumReader::builder(schema)
        .build()
        .map_err(|e| e.to_string())?;
    for i in 0..count {
        let (start, end) = super::avro_decode::record_span(c, pos, i)?;
        let mut data = &c[start..end];
        let v = reader
            .read_value(&mut data)
            .map_err(|e| format!("record {i}: {e}"))?;
        records.push(v);
        pos = end;
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the `log_block` fuzz target: a record count the block cannot hold sized the
    /// column buffers (10 GB for a 1.4 kB block).
    #[test]
    fn a_record_count_the_block_cannot_hold_is_refused() {
        let mut c = 2u32.to_be_bytes().to_vec();
        c.extend(u32::MAX.to_be_bytes());
        c.extend([0u8; 16]);
        let e = data_block_header(&c).expect_err("refused");
        assert!(e.contains("claims 4294967295 records in 16 bytes"), "{e}");
        let mut ok = 2u32.to_be_bytes().to_vec();
        ok.extend(4u32.to_be_bytes());
        ok.extend([0u8; 16]);
        assert_eq!(data_block_header(&ok), Ok((4, 8)));
    }
}
