//! One base file being written, as Hudi writes them: records with their meta columns (the
//! file-name column set to this file), a Bloom filter and the min/max record keys in the
//! footer with parquet-avro's own entries. Writers and compaction share it.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringArray};
use arrow::datatypes::SchemaRef;

use crate::error::{HudiError, Result};
use crate::io::bloom::{
    BloomFilter, BloomType, FOOTER_KEY, MAX_RECORD_KEY, MIN_RECORD_KEY, TYPE_CODE_KEY,
};
use crate::io::parquet_writer::ParquetBuffer;
use crate::model::{FILE_NAME_FIELD, RECORD_KEY_FIELD};
use crate::storage::Storage;

use super::config::WriteConfig;

/// The footer entries parquet-avro writes: the writer's Avro schema and the object model.
pub fn avro_footer(avro_schema: &str) -> Vec<(String, String)> {
    vec![
        ("parquet.avro.schema".to_string(), avro_schema.to_string()),
        ("writer.model.name".to_string(), "avro".to_string()),
    ]
}

/// Replaces one column of a batch.
pub fn replace_column(batch: &RecordBatch, name: &str, col: ArrayRef) -> Result<RecordBatch> {
    let i = batch
        .schema()
        .index_of(name)
        .map_err(|e| HudiError::arrow("meta column", e))?;
    let mut cols = batch.columns().to_vec();
    cols[i] = col;
    RecordBatch::try_new(batch.schema(), cols).map_err(|e| HudiError::arrow("meta column", e))
}

/// A base file under construction (in memory until [`finish`](Self::finish)).
pub struct BaseFileWriter {
    /// Path relative to the base path.
    pub rel: String,
    /// The file name (what `_hoodie_file_name` holds).
    pub name: String,
    writer: ParquetBuffer,
    bloom: BloomFilter,
    min_key: Option<String>,
    max_key: Option<String>,
    footer: Vec<(String, String)>,
    settings: crate::io::parquet_writer::ParquetSettings,
    /// `name` repeated, for the file-name column (sliced to each batch).
    names: StringArray,
}

impl BaseFileWriter {
    /// A new file `name` in `partition`, for records of `schema` (meta columns first).
    pub fn new(
        storage: &Storage,
        partition: &str,
        name: String,
        schema: &SchemaRef,
        config: &WriteConfig,
        record_name: &str,
        avro_schema: &str,
    ) -> Result<Self> {
        let rel = if partition.is_empty() {
            name.clone()
        } else {
            format!("{partition}/{name}")
        };
        let writer =
            ParquetBuffer::new(storage.display(&rel), schema, &config.parquet, record_name)?;
        Ok(BaseFileWriter {
            rel,
            name,
            writer,
            bloom: BloomFilter::new(
                config.bloom_type,
                config.bloom_entries,
                config.bloom_fpp,
                config.bloom_max_entries,
            ),
            min_key: None,
            max_key: None,
            footer: avro_footer(avro_schema),
            settings: config.parquet.clone(),
            names: StringArray::from(Vec::<&str>::new()),
        })
    }

    /// Rows written so far.
    pub fn rows(&self) -> usize {
        self.writer.rows()
    }

    /// Writes records (the file-name column is set to this file; keys go to the Bloom
    /// filter and the key range).
    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        self.write_all(std::slice::from_ref(batch))
    }

    /// Writes the records of `batches` in order (see [`write`](Self::write)).
    pub fn write_all(&mut self, batches: &[RecordBatch]) -> Result<()> {
        let n = batches.iter().map(RecordBatch::num_rows).max().unwrap_or(0);
        if n == 0 {
            return Ok(());
        }
        if self.names.len() < n {
            self.names = StringArray::from_iter_values(std::iter::repeat_n(self.name.as_str(), n));
        }
        let mut out = Vec::with_capacity(batches.len());
        for b in batches {
            let names: ArrayRef = Arc::new(self.names.slice(0, b.num_rows()));
            out.push(replace_column(b, FILE_NAME_FIELD, names)?);
        }
        let keys: Vec<StringArray> = out
            .iter()
            .filter_map(|b| {
                b.column_by_name(RECORD_KEY_FIELD)
                    .and_then(|c| c.as_string_opt::<i32>())
                    .cloned()
            })
            .collect();
        let (bloom, min_key, max_key) = (&mut self.bloom, &mut self.min_key, &mut self.max_key);
        // The keys go to the Bloom filter while the columns are encoded.
        let side = move || {
            let present: Vec<&str> = keys.iter().flat_map(|k| k.iter().flatten()).collect();
            bloom.add_all(&present);
            let (mut lo, mut hi): (Option<&str>, Option<&str>) = (None, None);
            for &k in &present {
                if lo.is_none_or(|m| k < m) {
                    lo = Some(k);
                }
                if hi.is_none_or(|m| k > m) {
                    hi = Some(k);
                }
            }
            if let Some(lo) = lo.filter(|lo| min_key.as_deref().is_none_or(|m| *lo < m)) {
                *min_key = Some(lo.to_string());
            }
            if let Some(hi) = hi.filter(|hi| max_key.as_deref().is_none_or(|m| *hi > m)) {
                *max_key = Some(hi.to_string());
            }
        };
        self.writer.write_all(&out, &self.settings, side)
    }

    /// Memory the file holds while it is written: its bytes and encoders, its Bloom filter,
    /// its file-name column.
    pub fn memory_size(&self) -> usize {
        self.writer.memory_size() + self.bloom.memory_size() + self.names.get_buffer_memory_size()
    }

    /// Bytes written plus the estimate of those buffered.
    pub fn estimated_size(&self) -> usize {
        self.writer.estimated_size()
    }

    /// Closes the file and stores it; returns its size in bytes.
    pub async fn finish(self, storage: &Storage) -> Result<u64> {
        let mut footer = self.footer;
        footer.push((FOOTER_KEY.to_string(), self.bloom.serialize()));
        if self.bloom.kind() == BloomType::DynamicV0 {
            footer.push((
                TYPE_CODE_KEY.to_string(),
                BloomType::DynamicV0.code().to_string(),
            ));
        }
        if let (Some(lo), Some(hi)) = (self.min_key, self.max_key) {
            footer.push((MIN_RECORD_KEY.to_string(), lo));
            footer.push((MAX_RECORD_KEY.to_string(), hi));
        }
        let parts = self.writer.finish(footer)?;
        let size = parts.iter().map(|p| p.len() as u64).sum();
        storage.put_parts(&self.rel, parts).await?;
        Ok(size)
    }
}
