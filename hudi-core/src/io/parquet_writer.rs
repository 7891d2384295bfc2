//! Writing parquet base files as Hudi does: data page v1, dictionary and statistics on, the
//! configured codec, INT64 microsecond timestamps, and footer key/value metadata (Bloom
//! filter, min/max record keys).

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use bytes::Bytes;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, GzipLevel, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{WriterProperties, WriterVersion};

use crate::error::{HudiError, Result};

/// Parquet writer settings from `hoodie.parquet.*`.
#[derive(Debug, Clone)]
pub struct ParquetSettings {
    pub codec: Compression,
    pub row_group_bytes: usize,
    pub page_bytes: usize,
}

impl ParquetSettings {
    /// Parses `hoodie.parquet.compression.codec` (gzip, snappy, zstd, lz4, uncompressed).
    pub fn codec_from_name(name: &str) -> Option<Compression> {
        Some(match name.to_ascii_lowercase().as_str() {
            "gzip" => Compression::GZIP(GzipLevel::default()),
            "snappy" => Compression::SNAPPY,
            "zstd" => Compression::ZSTD(ZstdLevel::default()),
            "lz4" | "lz4_raw" => Compression::LZ4_RAW,
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

impl ParquetBuffer {
    pub fn new(
        path: impl Into<String>,
        schema: &SchemaRef,
        settings: &ParquetSettings,
    ) -> Result<Self> {
        let path = path.into();
        let props = WriterProperties::builder()
            .set_writer_version(WriterVersion::PARQUET_1_0)
            .set_compression(settings.codec)
            .set_dictionary_enabled(true)
            .set_data_page_size_limit(settings.page_bytes)
            .set_max_row_group_row_count(None)
            .build();
        let writer = ArrowWriter::try_new(Vec::new(), schema.clone(), Some(props))
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
