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
use parquet::schema::types::{ColumnPath, SchemaDescriptor, Type, TypePtr};

use crate::error::{HudiError, Result};
use crate::model::{COMMIT_SEQNO_FIELD, RECORD_KEY_FIELD};

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
    file: SerializedFileWriter<Blocks>,
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
        let mut props = WriterProperties::builder()
            .set_writer_version(WriterVersion::PARQUET_1_0)
            .set_compression(settings.codec)
            .set_dictionary_enabled(true)
            .set_data_page_size_limit(settings.page_bytes)
            .set_max_row_group_row_count(None);
        // Keys and seqnos are unique in a file: a dictionary of them only grows until the
        // encoder gives up on it (time and memory spent for nothing); they go plain.
        for unique in [COMMIT_SEQNO_FIELD, RECORD_KEY_FIELD] {
            props = props.set_column_dictionary_enabled(ColumnPath::from(unique), false);
        }
        let props = props.build();
        let options = ArrowWriterOptions::new()
            .with_properties(props)
            .with_parquet_schema(hudi_parquet_schema(schema, root)?);
        let (file, factory) =
            ArrowWriter::try_new_with_options(Blocks::default(), schema.clone(), options)
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

    /// Memory the file holds: its bytes so far and its encoders' buffers (pages, and values
    /// not yet encoded such as dictionary keys).
    pub fn memory_size(&self) -> usize {
        let columns = self
            .columns
            .as_ref()
            .map_or(0, |cols| cols.iter().map(|c| c.memory_size()).sum());
        self.file.inner().allocated().max(self.file.bytes_written()) + columns
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
        self.write_all(std::slice::from_ref(batch), settings, side)
    }

    /// Writes `batches` in order, each column encoded on its own thread through all of them
    /// (pieces of an input need not be concatenated first); `side` runs alongside.
    pub fn write_all(
        &mut self,
        batches: &[RecordBatch],
        settings: &ParquetSettings,
        side: impl FnOnce() + Send,
    ) -> Result<()> {
        let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
        if rows == 0 {
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
        // The leaves of each column, batch after batch.
        let mut leaves: Vec<Vec<ArrowLeafColumn>> = Vec::new();
        for batch in batches.iter().filter(|b| b.num_rows() > 0) {
            let mut col = 0;
            for (field, array) in self.schema.fields().iter().zip(batch.columns()) {
                for leaf in compute_leaves(field, array).map_err(|e| self.err(e))? {
                    if leaves.len() <= col {
                        leaves.push(Vec::new());
                    }
                    leaves[col].push(leaf);
                    col += 1;
                }
            }
        }
        let threads = self.threads;
        let columns = self.columns.as_mut().expect("row group in progress");
        encode_parallel(columns, &leaves, threads, side).map_err(|e| self.err(e))?;
        self.rows += rows;
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

    /// Closes the file with the given footer key/value metadata and returns its bytes, in
    /// parts (see [`Blocks`]).
    pub fn finish(mut self, footer: Vec<(String, String)>) -> Result<Vec<Bytes>> {
        self.flush()?;
        for (k, v) in footer {
            self.file.append_key_value_metadata(KeyValue::new(k, v));
        }
        let path = self.path.clone();
        let blocks = self
            .file
            .into_inner()
            .map_err(|e| HudiError::parquet(path, e))?;
        Ok(blocks.into_parts())
    }
}

/// Bytes of a file written into memory in blocks: growing never copies what was written (a
/// `Vec` doubling its capacity copies it all again, and faults in fresh pages each time), and
/// the parts are stored as they are. Blocks start at [`Blocks::FIRST`] and double up to
/// [`Blocks::SIZE`], so that a small file (one of thousands open at once) holds little.
#[derive(Default)]
pub struct Blocks {
    done: Vec<Bytes>,
    current: Vec<u8>,
    /// Bytes allocated: the finished blocks and the current one's capacity.
    allocated: usize,
}

impl Blocks {
    pub const FIRST: usize = 64 << 10;
    pub const SIZE: usize = 4 << 20;

    /// Bytes the blocks hold in memory (written or reserved).
    pub fn allocated(&self) -> usize {
        self.allocated
    }

    pub fn into_parts(mut self) -> Vec<Bytes> {
        if !self.current.is_empty() {
            self.done
                .push(Bytes::from(std::mem::take(&mut self.current)));
        }
        self.done
    }

    fn next_block(&self) -> usize {
        match self.done.last() {
            None => Self::FIRST,
            Some(last) => (last.len() * 2).min(Self::SIZE),
        }
    }
}

impl std::io::Write for Blocks {
    fn write(&mut self, mut buf: &[u8]) -> std::io::Result<usize> {
        let n = buf.len();
        while !buf.is_empty() {
            if self.current.capacity() == 0 {
                let size = self.next_block();
                self.current = Vec::with_capacity(size);
                self.allocated += self.current.capacity();
            }
            let take = (self.current.capacity() - self.current.len()).min(buf.len());
            self.current.extend_from_slice(&buf[..take]);
            buf = &buf[take..];
            if self.current.len() == self.current.capacity() {
                self.done
                    .push(Bytes::from(std::mem::take(&mut self.current)));
            }
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The parts of a file as one buffer.
pub fn concat(parts: &[Bytes]) -> Vec<u8> {
    let mut out = Vec::with_capacity(parts.iter().map(Bytes::len).sum());
    for p in parts {
        out.extend_from_slice(p);
    }
    out
}

/// Encodes `leaves[i]` (pieces in order) into `columns[i]` on up to `threads` threads (one
/// column at a time each, taken in order from a shared counter), `side` on one of them first.
fn encode_parallel(
    columns: &mut [ArrowColumnWriter],
    leaves: &[Vec<ArrowLeafColumn>],
    threads: usize,
    side: impl FnOnce() + Send,
) -> parquet::errors::Result<()> {
    let encode = |c: &mut ArrowColumnWriter, pieces: &Vec<ArrowLeafColumn>| {
        pieces.iter().try_for_each(|l| c.write(l))
    };
    if threads <= 1 || columns.len() <= 1 {
        side();
        for (c, l) in columns.iter_mut().zip(leaves) {
            encode(c, l)?;
        }
        return Ok(());
    }
    let jobs: Vec<Mutex<(&mut ArrowColumnWriter, &Vec<ArrowLeafColumn>)>> =
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
            encode(c, l)?;
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

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn blocks_start_small_double_and_keep_every_byte() {
        let mut b = Blocks::default();
        b.write_all(b"PAR1").unwrap();
        assert_eq!(
            b.allocated(),
            Blocks::FIRST,
            "a new file holds one small block"
        );
        let data: Vec<u8> = (0..20_000_000u32).map(|i| (i % 251) as u8).collect();
        for chunk in data.chunks(1_000_003) {
            b.write_all(chunk).unwrap();
        }
        let allocated = b.allocated();
        let parts = b.into_parts();
        let sizes: Vec<usize> = parts.iter().map(Bytes::len).collect();
        assert_eq!(sizes[0], Blocks::FIRST);
        assert_eq!(sizes[1], 2 * Blocks::FIRST);
        assert!(sizes.iter().all(|s| *s <= Blocks::SIZE), "{sizes:?}");
        let all = concat(&parts);
        assert_eq!(&all[..4], b"PAR1");
        assert!(all[4..] == data[..], "bytes lost or reordered");
        assert!(allocated >= all.len() && allocated < all.len() + Blocks::SIZE);
    }
}
