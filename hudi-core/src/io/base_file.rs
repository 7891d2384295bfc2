//! Reading parquet base files into Arrow.

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use bytes::Bytes;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use parquet::arrow::ProjectionMask;

use crate::error::{HudiError, Result};

/// Rows per batch read from base files.
pub const BATCH_SIZE: usize = 8192;

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
        ParquetRecordBatchReaderBuilder::try_new(self.bytes.clone())
            .map_err(|e| HudiError::parquet(self.path.clone(), e))
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
