//! Writing parquet base files as Hudi (parquet-avro) does: data page v1, dictionary and
//! statistics on, the configured codec, INT64 microsecond timestamps, decimals as
//! FIXED_LEN_BYTE_ARRAY of the Avro fixed's size whatever their precision, the Avro record's
//! full name as the schema root, and footer key/value metadata (Bloom filter, min/max record
//! keys, the Avro schema).

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use bytes::Bytes;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use parquet::arrow::arrow_writer::{
    compute_leaves, ArrowColumnWriter, ArrowLeafColumn, ArrowRowGroupWriterFactory,
    ArrowWriterOptions,
};
use parquet::arrow::{ArrowSchemaConverter, ArrowWriter};
use parquet::basic::{Compression, GzipLevel, LogicalType, Type as PhysicalType, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{WriterProperties, WriterVersion};
use parquet::file::writer::SerializedFileWriter;
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

/// A parquet file being written into memory. Columns are encoded in parallel (one job per
/// column, spread over [`workers`](super::parallel::workers) threads), each into its own chunk
/// of the row group; the chunks are appended in schema order, so the bytes are those of a
/// sequential writer.
pub struct ParquetBuffer {
    path: String,
    file: SerializedFileWriter<Vec<u8>>,
    factory: ArrowRowGroupWriterFactory,
    schema: SchemaRef,
    /// Column writers of the row group in progress (`None` between row groups).
    columns: Option<Vec<ArrowColumnWriter>>,
    rows: usize,
    threads: usize,
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
        let (file, factory) =
            ArrowWriter::try_new_with_options(Vec::with_capacity(1 << 20), schema.clone(), options)
                .and_then(|w| w.into_serialized_writer())
                .map_err(|e| HudiError::parquet(path.clone(), e))?;
        let threads = super::parallel::workers();
        Ok(ParquetBuffer {
            path,
            file,
            factory,
            schema: schema.clone(),
            columns: None,
            rows: 0,
            threads,
        })
    }

    fn err(&self, e: parquet::errors::ParquetError) -> HudiError {
        HudiError::parquet(self.path.clone(), e)
    }

    /// Rows written so far.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Bytes of the row group in progress, as the encoders estimate them.
    fn in_progress_size(&self) -> usize {
        self.columns.as_ref().map_or(0, |cols| {
            cols.iter().map(|c| c.get_estimated_total_bytes()).sum()
        })
    }

    /// Bytes written plus the buffered (not yet flushed) estimate.
    pub fn estimated_size(&self) -> usize {
        self.file.bytes_written() + self.in_progress_size()
    }

    /// Writes `batch`; `side` runs alongside the column encoders (e.g. the Bloom filter of
    /// the batch's keys).
    pub fn write(
        &mut self,
        batch: &RecordBatch,
        settings: &ParquetSettings,
        side: impl FnOnce() + Send,
    ) -> Result<()> {
        if batch.num_rows() == 0 {
            side();
            return Ok(());
        }
        if self.columns.is_none() {
            let index = self.file.flushed_row_groups().len();
            let cols = self
                .factory
                .create_column_writers(index)
                .map_err(|e| self.err(e))?;
            self.columns = Some(cols);
        }
        let mut leaves = Vec::new();
        for (field, array) in self.schema.fields().iter().zip(batch.columns()) {
            leaves.extend(compute_leaves(field, array).map_err(|e| self.err(e))?);
        }
        let threads = self.threads;
        let columns = self.columns.as_mut().expect("row group in progress");
        encode_parallel(columns, &leaves, threads, side).map_err(|e| self.err(e))?;
        self.rows += batch.num_rows();
        if self.in_progress_size() >= settings.row_group_bytes {
            self.flush()?;
        }
        Ok(())
    }

    /// Ends the row group in progress.
    fn flush(&mut self) -> Result<()> {
        let Some(columns) = self.columns.take() else {
            return Ok(());
        };
        let mut chunks = Vec::with_capacity(columns.len());
        for c in columns {
            chunks.push(c.close().map_err(|e| self.err(e))?);
        }
        let path = self.path.clone();
        let err = |e| HudiError::parquet(path.clone(), e);
        let mut group = self.file.next_row_group().map_err(err)?;
        for chunk in chunks {
            chunk.append_to_row_group(&mut group).map_err(err)?;
        }
        group.close().map_err(err)?;
        Ok(())
    }

    /// Closes the file with the given footer key/value metadata and returns its bytes.
    pub fn finish(mut self, footer: Vec<(String, String)>) -> Result<Bytes> {
        self.flush()?;
        for (k, v) in footer {
            self.file.append_key_value_metadata(KeyValue::new(k, v));
        }
        let path = self.path.clone();
        let buf = self
            .file
            .into_inner()
            .map_err(|e| HudiError::parquet(path, e))?;
        Ok(Bytes::from(buf))
    }
}

/// Encodes `leaves[i]` into `columns[i]` on up to `threads` threads (one column at a time
/// each, taken in order from a shared counter), `side` on one of them first.
fn encode_parallel(
    columns: &mut [ArrowColumnWriter],
    leaves: &[ArrowLeafColumn],
    threads: usize,
    side: impl FnOnce() + Send,
) -> parquet::errors::Result<()> {
    if threads <= 1 || columns.len() <= 1 {
        side();
        for (c, l) in columns.iter_mut().zip(leaves) {
            c.write(l)?;
        }
        return Ok(());
    }
    let jobs: Vec<Mutex<(&mut ArrowColumnWriter, &ArrowLeafColumn)>> =
        columns.iter_mut().zip(leaves).map(Mutex::new).collect();
    let next = AtomicUsize::new(0);
    let work = || -> parquet::errors::Result<()> {
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(job) = jobs.get(i) else {
                return Ok(());
            };
            let mut job = job.lock().map_err(|_| {
                parquet::errors::ParquetError::General("column encoder poisoned".into())
            })?;
            let (c, l) = &mut *job;
            c.write(l)?;
        }
    };
    std::thread::scope(|s| {
        let helpers: Vec<_> = (1..threads).map(|_| s.spawn(work)).collect();
        side();
        let mut result = work();
        for h in helpers {
            let r = h.join().unwrap_or_else(|_| {
                Err(parquet::errors::ParquetError::General(
                    "column encoder panicked".into(),
                ))
            });
            result = result.and(r);
        }
        result
    })
}
