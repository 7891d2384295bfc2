//! Reading parquet base files into Arrow.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use bytes::{Buf, Bytes};
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReader,
    ParquetRecordBatchReaderBuilder,
};
use parquet::arrow::ProjectionMask;
use parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader};
use parquet::file::reader::{ChunkReader, Length};

use crate::error::{HudiError, Result};

/// Rows per batch read from base files.
pub const BATCH_SIZE: usize = 8192;

/// A reader of a parquet file in memory (`path` names it in errors), once every column chunk
/// of its footer lies inside the file: the parquet crate panics on a negative offset or size,
/// which a corrupt footer can hold (found by the `log_block` fuzz target, in a parquet log
/// block).
pub fn checked_builder<T: ChunkReader + 'static>(
    path: &str,
    reader: T,
) -> Result<ParquetRecordBatchReaderBuilder<T>> {
    let len = reader.len();
    let b = ParquetRecordBatchReaderBuilder::try_new(reader)
        .map_err(|e| HudiError::parquet(path.to_string(), e))?;
    check_chunks(path, b.metadata(), len)?;
    Ok(b)
}

/// Fails unless every column chunk of the footer lies inside the file's `len` bytes.
fn check_chunks(path: &str, meta: &ParquetMetaData, len: u64) -> Result<()> {
    let len = i64::try_from(len).unwrap_or(i64::MAX);
    for (g, rg) in meta.row_groups().iter().enumerate() {
        for c in rg.columns() {
            let start = c.dictionary_page_offset().unwrap_or(c.data_page_offset());
            let size = c.compressed_size();
            let inside =
                start >= 0 && size >= 0 && start.checked_add(size).is_some_and(|e| e <= len);
            if !inside {
                return Err(HudiError::parquet(
                    path.to_string(),
                    parquet::errors::ParquetError::General(format!(
                        "column chunk {} of row group {g} claims bytes {start}..+{size} of a \
                         {len}-byte file",
                        c.column_path()
                    )),
                ));
            }
        }
    }
    Ok(())
}

/// A parquet file held in memory (one file group's base file at a time).
pub struct ParquetFile {
    path: String,
    bytes: Bytes,
}

impl ParquetFile {
    pub fn new(path: impl Into<String>, bytes: Bytes) -> Self {
        ParquetFile {
            path: path.into(),
            bytes,
        }
    }

    fn builder(&self) -> Result<ParquetRecordBatchReaderBuilder<Bytes>> {
        checked_builder(&self.path, self.bytes.clone())
    }

    /// The Arrow schema the parquet reader produces for this file.
    pub fn arrow_schema(&self) -> Result<SchemaRef> {
        Ok(self.builder()?.schema().clone())
    }

    /// The footer's key/value metadata.
    pub fn key_value_metadata(&self) -> Result<Vec<(String, Option<String>)>> {
        let b = self.builder()?;
        Ok(b.metadata()
            .file_metadata()
            .key_value_metadata()
            .map(|kv| {
                kv.iter()
                    .map(|e| (e.key.clone(), e.value.clone()))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Reads the file's batches, keeping only `columns` (all when `None`) that exist in it.
    pub fn read(&self, columns: Option<&[String]>) -> Result<BatchIter> {
        let b = self.builder()?;
        let b = match columns {
            None => b,
            Some(cols) => {
                let schema = b.parquet_schema();
                let arrow = b.schema().clone();
                let roots: Vec<usize> = arrow
                    .fields()
                    .iter()
                    .enumerate()
                    .filter(|(_, f)| cols.iter().any(|c| c == f.name()))
                    .map(|(i, _)| i)
                    .collect();
                let mask = ProjectionMask::roots(schema, roots);
                b.with_projection(mask)
            }
        };
        let reader = b
            .with_batch_size(BATCH_SIZE)
            .build()
            .map_err(|e| HudiError::parquet(self.path.clone(), e))?;
        Ok(BatchIter {
            path: self.path.clone(),
            reader,
        })
    }
}

/// Batches of one parquet file.
pub struct BatchIter {
    path: String,
    reader: ParquetRecordBatchReader,
}

impl Iterator for BatchIter {
    type Item = Result<RecordBatch>;
    fn next(&mut self) -> Option<Self::Item> {
        self.reader
            .next()
            .map(|r| r.map_err(|e| HudiError::arrow(format!("reading {}", self.path), e)))
    }
}

/// The footer of a parquet file on storage, fetched with two ranged reads (tail, footer), its
/// column chunks checked to lie inside the file.
pub async fn read_footer(
    storage: &crate::storage::Storage,
    rel: &str,
    size: u64,
) -> Result<Arc<ParquetMetaData>> {
    let path = storage.display(rel);
    let bad = |reason: &str| {
        HudiError::parquet(
            path.clone(),
            parquet::errors::ParquetError::General(reason.to_string()),
        )
    };
    if size < 12 {
        return Err(bad("file too small to be parquet"));
    }
    let tail_len = size.min(64 * 1024);
    let tail = storage.get_range(rel, size - tail_len..size).await?;
    if &tail[tail.len() - 4..] != b"PAR1" {
        return Err(bad("no PAR1 magic at the end"));
    }
    let n = tail.len();
    let meta_len = u32::from_le_bytes([tail[n - 8], tail[n - 7], tail[n - 6], tail[n - 5]]) as u64;
    if meta_len + 8 > size {
        return Err(bad("footer length exceeds the file"));
    }
    let footer = if meta_len + 8 <= tail_len {
        tail.slice((n - 8 - meta_len as usize)..(n - 8))
    } else {
        storage
            .get_range(rel, size - 8 - meta_len..size - 8)
            .await?
    };
    let md = ParquetMetaDataReader::decode_metadata(&footer)
        .map_err(|e| HudiError::parquet(path.clone(), e))?;
    check_chunks(&path, &md, size)?;
    Ok(Arc::new(md))
}

/// The footer's key/value metadata (entries with a value).
pub fn footer_kv(meta: &ParquetMetaData) -> HashMap<String, String> {
    meta.file_metadata()
        .key_value_metadata()
        .map(|kv| {
            kv.iter()
                .filter_map(|e| e.value.clone().map(|v| (e.key.clone(), v)))
                .collect()
        })
        .unwrap_or_default()
}

/// Reads only the top-level `columns` of a parquet file whose footer is `meta`: their column
/// chunks are fetched by ranged reads (one per row group and column), nothing else.
pub async fn read_columns(
    storage: &crate::storage::Storage,
    rel: &str,
    size: u64,
    meta: Arc<ParquetMetaData>,
    columns: &[String],
) -> Result<BatchIter> {
    let path = storage.display(rel);
    let perr = |e| HudiError::parquet(path.clone(), e);
    let arrow =
        ArrowReaderMetadata::try_new(meta.clone(), ArrowReaderOptions::new()).map_err(perr)?;
    let roots: Vec<usize> = arrow
        .schema()
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, f)| columns.iter().any(|c| c == f.name()))
        .map(|(i, _)| i)
        .collect();
    let mask = ProjectionMask::roots(meta.file_metadata().schema_descr(), roots);
    let mut ranges = Vec::new();
    for rg in meta.row_groups() {
        for (i, c) in rg.columns().iter().enumerate() {
            if mask.leaf_included(i) {
                let (start, len) = c.byte_range();
                ranges.push(start..start + len);
            }
        }
    }
    let fetched =
        futures::future::try_join_all(ranges.iter().map(|r| storage.get_range(rel, r.clone())))
            .await?;
    let parts = ranges.iter().map(|r| r.start).zip(fetched).collect();
    let reader =
        ParquetRecordBatchReaderBuilder::new_with_metadata(SparseFile { size, parts }, arrow)
            .with_projection(mask)
            .with_batch_size(BATCH_SIZE)
            .build()
            .map_err(perr)?;
    Ok(BatchIter { path, reader })
}

/// The byte ranges of a file that were fetched (column chunks), addressed by file offset.
struct SparseFile {
    size: u64,
    /// (offset, bytes), one per fetched range.
    parts: Vec<(u64, Bytes)>,
}

impl SparseFile {
    fn part(&self, start: u64, len: u64) -> parquet::errors::Result<Bytes> {
        self.parts
            .iter()
            .find(|(off, b)| start >= *off && start + len <= off + b.len() as u64)
            .map(|(off, b)| b.slice((start - off) as usize..(start - off + len) as usize))
            .ok_or_else(|| {
                parquet::errors::ParquetError::General(format!(
                    "bytes {start}..+{len} were not fetched"
                ))
            })
    }
}

impl Length for SparseFile {
    fn len(&self) -> u64 {
        self.size
    }
}

impl ChunkReader for SparseFile {
    type T = bytes::buf::Reader<Bytes>;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        let (off, b) = self
            .parts
            .iter()
            .find(|(off, b)| start >= *off && start < off + b.len() as u64)
            .ok_or_else(|| {
                parquet::errors::ParquetError::General(format!("byte {start} was not fetched"))
            })?;
        Ok(b.slice((start - off) as usize..).reader())
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
        self.part(start, length as u64)
    }
}
