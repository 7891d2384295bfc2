//! Writing parquet base files as Hudi (parquet-avro) does: data page v1, dictionary and
//! statistics on, the configured codec, INT64 microsecond timestamps, decimals as
//! FIXED_LEN_BYTE_ARRAY of the Avro fixed's size whatever their precision, the Avro record's
//! full name as the schema root, and footer key/value metadata (Bloom filter, min/max record
//! keys, the Avro schema).

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use bytes::Bytes;
use parquet::arrow::arrow_writer::ArrowWriterOptions;
use parquet::arrow::{ArrowSchemaConverter, ArrowWriter};
use parquet::basic::{Compression, GzipLevel, LogicalType, Type as PhysicalType, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{WriterProperties, WriterVersion};
use parquet::schema::types::{SchemaDescriptor, Type, TypePtr};

use crate::error::{HudiError, Result};

/// Parquet writer settings from `hoodie.parquet.*`.
#[derive(Debug, Clone)]
pub struct ParquetSettings {
    pub codec: Compression,
    pub row_group_bytes: usize,
    pub page_bytes: usize,
}

impl ParquetSettings {
    /// Parses `hoodie.parquet.compression.codec` as parquet-mr's `CompressionCodecName` does
    /// (gzip, snappy, zstd, lz4, lz4_raw, uncompressed). `lz4` is parquet's LZ4 codec with
    /// Hadoop's framing, what parquet-mr writes for it; `lz4_raw` the newer LZ4_RAW codec.
    pub fn codec_from_name(name: &str) -> Option<Compression> {
        Some(match name.to_ascii_lowercase().as_str() {
            "gzip" => Compression::GZIP(GzipLevel::default()),
            "snappy" => Compression::SNAPPY,
            "zstd" => Compression::ZSTD(ZstdLevel::default()),
            "lz4" => Compression::LZ4,
            "lz4_raw" => Compression::LZ4_RAW,
            "uncompressed" | "none" => Compression::UNCOMPRESSED,
            _ => return None,
        })
    }
}

impl Default for ParquetSettings {
    fn default() -> Self {
        ParquetSettings {
            codec: Compression::GZIP(GzipLevel::default()),
            row_group_bytes: 120 * 1024 * 1024,
            page_bytes: 1024 * 1024,
        }
    }
}

/// A parquet file being written into memory.
pub struct ParquetBuffer {
    path: String,
    writer: ArrowWriter<Vec<u8>>,
    rows: usize,
    /// Rows per row group, estimated from the configured bytes and the first batch.
    rows_per_group: usize,
}

/// Minimal bytes of a fixed holding a decimal of `precision` digits.
pub fn decimal_fixed_size(precision: u8) -> usize {
    let mut n = 1usize;
    while 2f64.powi(8 * n as i32 - 1) < 10f64.powi(i32::from(precision)) {
        n += 1;
    }
    n
}

/// The parquet schema parquet-avro writes for `schema`: the Arrow mapping with list and map
/// elements named as the parquet spec says, and every decimal a FIXED_LEN_BYTE_ARRAY of the
/// minimal size for its precision (Hudi's Avro schema makes each decimal a `fixed`; Java's
/// Avro-based readers cannot decode INT32/INT64 decimals).
pub fn hudi_parquet_schema(schema: &SchemaRef, root: &str) -> Result<SchemaDescriptor> {
    let descr = ArrowSchemaConverter::new()
        .with_coerce_types(true)
        .schema_root(root)
        .convert(schema)
        .map_err(|e| HudiError::parquet(format!("parquet schema of {root}"), e))?;
    let rewritten = fixed_decimals(&descr.root_schema_ptr())
        .map_err(|e| HudiError::parquet(format!("parquet schema of {root}"), e))?;
    Ok(SchemaDescriptor::new(rewritten))
}

fn fixed_decimals(t: &TypePtr) -> parquet::errors::Result<TypePtr> {
    let info = t.get_basic_info();
    if t.is_group() {
        let fields = t
            .get_fields()
            .iter()
            .map(fixed_decimals)
            .collect::<parquet::errors::Result<Vec<_>>>()?;
        let mut b = Type::group_type_builder(info.name())
            .with_fields(fields)
            .with_logical_type(info.logical_type_ref().cloned())
            .with_converted_type(info.converted_type());
        if info.has_repetition() {
            b = b.with_repetition(info.repetition());
        }
        if info.has_id() {
            b = b.with_id(Some(info.id()));
        }
        return Ok(Arc::new(b.build()?));
    }
    let is_small_decimal = matches!(info.logical_type_ref(), Some(LogicalType::Decimal { .. }))
        && matches!(
            t.get_physical_type(),
            PhysicalType::INT32 | PhysicalType::INT64
        );
    if !is_small_decimal {
        return Ok(t.clone());
    }
    let precision = t.get_precision();
    let size = decimal_fixed_size(precision as u8) as i32;
    let mut b = Type::primitive_type_builder(info.name(), PhysicalType::FIXED_LEN_BYTE_ARRAY)
        .with_repetition(info.repetition())
        .with_length(size)
        .with_logical_type(info.logical_type_ref().cloned())
        .with_converted_type(info.converted_type())
        .with_precision(precision)
        .with_scale(t.get_scale());
    if info.has_id() {
        b = b.with_id(Some(info.id()));
    }
    Ok(Arc::new(b.build()?))
}

impl ParquetBuffer {
    /// A new file of `schema`; `root` names the parquet schema (Hudi: the Avro record's full
    /// name, e.g. `hoodie.trips.trips_record`).
    pub fn new(
        path: impl Into<String>,
        schema: &SchemaRef,
        settings: &ParquetSettings,
        root: &str,
    ) -> Result<Self> {
        let path = path.into();
        let props = WriterProperties::builder()
            .set_writer_version(WriterVersion::PARQUET_1_0)
            .set_compression(settings.codec)
            .set_dictionary_enabled(true)
            .set_data_page_size_limit(settings.page_bytes)
            .set_max_row_group_row_count(None)
            .build();
        let options = ArrowWriterOptions::new()
            .with_properties(props)
            .with_parquet_schema(hudi_parquet_schema(schema, root)?);
        let writer = ArrowWriter::try_new_with_options(Vec::new(), schema.clone(), options)
            .map_err(|e| HudiError::parquet(path.clone(), e))?;
        Ok(ParquetBuffer {
            path,
            writer,
            rows: 0,
            rows_per_group: 0,
        })
    }

    /// Rows written so far.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Bytes written plus the buffered (not yet flushed) estimate.
    pub fn estimated_size(&self) -> usize {
        self.writer.bytes_written() + self.writer.in_progress_size()
    }

    pub fn write(&mut self, batch: &RecordBatch, settings: &ParquetSettings) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        self.writer
            .write(batch)
            .map_err(|e| HudiError::parquet(self.path.clone(), e))?;
        self.rows += batch.num_rows();
        if self.rows_per_group == 0 {
            let per_row = (batch.get_array_memory_size() / batch.num_rows()).max(1);
            self.rows_per_group = (settings.row_group_bytes / per_row).max(1);
        }
        if self.writer.in_progress_size() >= settings.row_group_bytes {
            self.writer
                .flush()
                .map_err(|e| HudiError::parquet(self.path.clone(), e))?;
        }
        Ok(())
    }

    /// Closes the file with the given footer key/value metadata and returns its bytes.
    pub fn finish(mut self, footer: Vec<(String, String)>) -> Result<Bytes> {
        for (k, v) in footer {
            self.writer.append_key_value_metadata(KeyValue::new(k, v));
        }
        let buf = self
            .writer
            .into_inner()
            .map_err(|e| HudiError::parquet(self.path.clone(), e))?;
        Ok(Bytes::from(buf))
    }
}
