//! Write options (`hoodie.*`), parsed once into a typed struct.

use std::collections::BTreeMap;

use crate::config::ConfigKey;
use crate::error::{HudiError, Result};
use crate::io::bloom::BloomType;
use crate::io::parquet_writer::ParquetSettings;

pub const MAX_FILE_SIZE: ConfigKey =
    ConfigKey::new("hoodie.parquet.max.file.size").with_default("125829120");
pub const SMALL_FILE_LIMIT: ConfigKey =
    ConfigKey::new("hoodie.parquet.small.file.limit").with_default("104857600");
pub const BLOCK_SIZE: ConfigKey =
    ConfigKey::new("hoodie.parquet.block.size").with_default("125829120");
pub const PAGE_SIZE: ConfigKey = ConfigKey::new("hoodie.parquet.page.size").with_default("1048576");
pub const CODEC: ConfigKey =
    ConfigKey::new("hoodie.parquet.compression.codec").with_default("gzip");
pub const RECORD_SIZE_ESTIMATE: ConfigKey =
    ConfigKey::new("hoodie.copyonwrite.record.size.estimate").with_default("1024");
pub const INSERT_SPLIT_SIZE: ConfigKey =
    ConfigKey::new("hoodie.copyonwrite.insert.split.size").with_default("500000");
pub const INSERT_AUTO_SPLIT: ConfigKey =
    ConfigKey::new("hoodie.copyonwrite.insert.auto.split").with_default("true");
/// The index a table was created with, kept in `hoodie.properties` under a key Java does not
/// read; a write's own `hoodie.index.type` takes precedence.
pub const TABLE_INDEX_TYPE: &str = "hoodie.rust.index.type";
pub const INDEX_TYPE: ConfigKey = ConfigKey::new("hoodie.index.type")
    .with_aliases(&[TABLE_INDEX_TYPE])
    .with_default("BLOOM");
pub const BLOOM_TYPE: ConfigKey =
    ConfigKey::new("hoodie.bloom.index.filter.type").with_default("DYNAMIC_V0");
pub const BLOOM_ENTRIES: ConfigKey =
    ConfigKey::new("hoodie.index.bloom.num_entries").with_default("60000");
pub const BLOOM_FPP: ConfigKey =
    ConfigKey::new("hoodie.index.bloom.fpp").with_default("0.000000001");
pub const BLOOM_MAX_ENTRIES: ConfigKey =
    ConfigKey::new("hoodie.bloom.index.filter.dynamic.max.entries").with_default("100000");
pub const BLOOM_PRUNE_BY_RANGES: ConfigKey =
    ConfigKey::new("hoodie.bloom.index.prune.by.ranges").with_default("true");
pub const BLOOM_UPDATE_PARTITION_PATH: ConfigKey =
    ConfigKey::new("hoodie.bloom.index.update.partition.path").with_default("true");
pub const SIMPLE_UPDATE_PARTITION_PATH: ConfigKey =
    ConfigKey::new("hoodie.simple.index.update.partition.path").with_default("true");
pub const COMBINE_BEFORE_INSERT: ConfigKey =
    ConfigKey::new("hoodie.combine.before.insert").with_default("false");
pub const COMBINE_BEFORE_UPSERT: ConfigKey =
    ConfigKey::new("hoodie.combine.before.upsert").with_default("true");
pub const COMBINE_BEFORE_DELETE: ConfigKey =
    ConfigKey::new("hoodie.combine.before.delete").with_default("true");
pub const PAYLOAD_CLASS: ConfigKey = ConfigKey::new("hoodie.datasource.write.payload.class")
    .with_aliases(&["hoodie.compaction.payload.class"])
    .with_default("org.apache.hudi.common.model.OverwriteWithLatestAvroPayload");
pub const SPILL_THRESHOLD: ConfigKey =
    ConfigKey::new("hoodie.write.spill.threshold.bytes").with_default("268435456");
pub const BUCKETS: ConfigKey =
    ConfigKey::new("hoodie.bucket.index.num.buckets").with_default("256");
pub const BUCKET_HASH_FIELD: ConfigKey = ConfigKey::new("hoodie.bucket.index.hash.field");
pub const BUCKET_ENGINE: ConfigKey =
    ConfigKey::new("hoodie.index.bucket.engine").with_default("SIMPLE");
pub const LOG_BLOCK_FORMAT: ConfigKey =
    ConfigKey::new("hoodie.logfile.data.block.format").with_default("avro");
pub const LOG_BLOCK_MAX_SIZE: ConfigKey =
    ConfigKey::new("hoodie.logfile.data.block.max.size").with_default("268435456");
pub const LOG_FILE_MAX_SIZE: ConfigKey =
    ConfigKey::new("hoodie.logfile.max.size").with_default("1073741824");
pub const RECORD_SIZE_THRESHOLD: ConfigKey =
    ConfigKey::new("hoodie.record.size.estimation.threshold").with_default("1.0");
pub const PARTITIONS_TO_DELETE: ConfigKey =
    ConfigKey::new("hoodie.datasource.write.partitions.to.delete");

/// The index used to find existing records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexType {
    Bloom,
    GlobalBloom,
    Simple,
    GlobalSimple,
    Bucket,
}

impl IndexType {
    pub fn parse(s: &str) -> Option<IndexType> {
        Some(match s.to_ascii_uppercase().as_str() {
            "BLOOM" => IndexType::Bloom,
            "GLOBAL_BLOOM" => IndexType::GlobalBloom,
            "SIMPLE" => IndexType::Simple,
            "GLOBAL_SIMPLE" => IndexType::GlobalSimple,
            "BUCKET" => IndexType::Bucket,
            _ => return None,
        })
    }

    pub fn is_global(&self) -> bool {
        matches!(self, IndexType::GlobalBloom | IndexType::GlobalSimple)
    }

    pub fn name(&self) -> &'static str {
        match self {
            IndexType::Bloom => "BLOOM",
            IndexType::GlobalBloom => "GLOBAL_BLOOM",
            IndexType::Simple => "SIMPLE",
            IndexType::GlobalSimple => "GLOBAL_SIMPLE",
            IndexType::Bucket => "BUCKET",
        }
    }
}

/// How a newer record combines with an existing one on write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payload {
    /// `OverwriteWithLatestAvroPayload`: the incoming record always wins.
    OverwriteWithLatest,
    /// `DefaultHoodieRecordPayload`: the stored record wins if its ordering value is greater.
    Default,
}

/// Typed write configuration.
#[derive(Debug, Clone)]
pub struct WriteConfig {
    pub max_file_size: u64,
    pub small_file_limit: u64,
    pub record_size_estimate: u64,
    /// Commits smaller than this many bytes do not inform the record size estimate.
    pub record_size_threshold_bytes: u64,
    pub insert_split_size: u64,
    pub insert_auto_split: bool,
    pub parquet: ParquetSettings,
    pub index: IndexType,
    pub bloom_type: BloomType,
    pub bloom_entries: u32,
    pub bloom_fpp: f64,
    pub bloom_max_entries: u32,
    pub bloom_prune_by_ranges: bool,
    pub update_partition_path: bool,
    pub combine_before_insert: bool,
    pub combine_before_upsert: bool,
    pub combine_before_delete: bool,
    pub payload: Payload,
    pub partitions_to_delete: Vec<String>,
    /// Input bytes kept in memory before spilling to a local file.
    pub spill_threshold: usize,
    /// Bucket index: buckets per partition and hash fields (empty: the record key fields).
    pub num_buckets: u32,
    pub bucket_hash_fields: Vec<String>,
    /// Merge-on-read log files.
    pub log: super::log_handle::LogSettings,
}

fn bad(key: &ConfigKey, v: &str, reason: &str) -> HudiError {
    HudiError::InvalidConfig {
        key: key.key.to_string(),
        value: v.to_string(),
        source_name: "write options".into(),
        reason: reason.to_string(),
    }
}

fn num<T: std::str::FromStr>(o: &BTreeMap<String, String>, key: &ConfigKey) -> Result<T> {
    let v = key.get(o).unwrap_or("");
    v.trim().parse().map_err(|_| bad(key, v, "not a number"))
}

fn flag(o: &BTreeMap<String, String>, key: &ConfigKey) -> Result<bool> {
    let v = key.get(o).unwrap_or("");
    match v.trim().to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(bad(key, v, "expected true or false")),
    }
}

impl WriteConfig {
    /// The fields the bucket index hashes: its own, else the record key fields.
    pub fn hash_fields(&self, record_key_fields: &[String]) -> Vec<String> {
        if self.bucket_hash_fields.is_empty() {
            record_key_fields.to_vec()
        } else {
            self.bucket_hash_fields.clone()
        }
    }

    /// Parses table properties overlaid with write options.
    pub fn from_options(o: &BTreeMap<String, String>) -> Result<Self> {
        let codec_s = CODEC.get(o).unwrap_or("gzip");
        let codec = ParquetSettings::codec_from_name(codec_s)
            .ok_or_else(|| bad(&CODEC, codec_s, "unknown codec"))?;
        let index_s = INDEX_TYPE.get(o).unwrap_or("BLOOM");
        let index = IndexType::parse(index_s)
            .ok_or_else(|| bad(&INDEX_TYPE, index_s, "unknown index type"))?;
        let bloom_s = BLOOM_TYPE.get(o).unwrap_or("DYNAMIC_V0");
        let bloom_type = BloomType::from_code(bloom_s)
            .ok_or_else(|| bad(&BLOOM_TYPE, bloom_s, "SIMPLE or DYNAMIC_V0"))?;
        let payload_s = PAYLOAD_CLASS.get(o).unwrap_or_default();
        let payload = match payload_s.rsplit('.').next().unwrap_or_default() {
            "OverwriteWithLatestAvroPayload" => Payload::OverwriteWithLatest,
            "DefaultHoodieRecordPayload" | "EventTimeAvroPayload" => Payload::Default,
            _ => {
                return Err(bad(
                    &PAYLOAD_CLASS,
                    payload_s,
                    "supported: OverwriteWithLatestAvroPayload, DefaultHoodieRecordPayload",
                ))
            }
        };
        let update_key = if matches!(index, IndexType::GlobalSimple) {
            &SIMPLE_UPDATE_PARTITION_PATH
        } else {
            &BLOOM_UPDATE_PARTITION_PATH
        };
        let c = WriteConfig {
            max_file_size: num(o, &MAX_FILE_SIZE)?,
            small_file_limit: num(o, &SMALL_FILE_LIMIT)?,
            record_size_estimate: num::<u64>(o, &RECORD_SIZE_ESTIMATE)?.max(1),
            record_size_threshold_bytes: {
                let f: f64 = num(o, &RECORD_SIZE_THRESHOLD)?;
                let limit: f64 = num(o, &SMALL_FILE_LIMIT)?;
                (f * limit).max(0.0) as u64
            },
            insert_split_size: num::<u64>(o, &INSERT_SPLIT_SIZE)?.max(1),
            insert_auto_split: flag(o, &INSERT_AUTO_SPLIT)?,
            parquet: ParquetSettings {
                codec,
                row_group_bytes: num(o, &BLOCK_SIZE)?,
                page_bytes: num(o, &PAGE_SIZE)?,
            },
            index,
            bloom_type,
            bloom_entries: num(o, &BLOOM_ENTRIES)?,
            bloom_fpp: num(o, &BLOOM_FPP)?,
            bloom_max_entries: num(o, &BLOOM_MAX_ENTRIES)?,
            bloom_prune_by_ranges: flag(o, &BLOOM_PRUNE_BY_RANGES)?,
            update_partition_path: flag(o, update_key)?,
            combine_before_insert: flag(o, &COMBINE_BEFORE_INSERT)?,
            combine_before_upsert: flag(o, &COMBINE_BEFORE_UPSERT)?,
            combine_before_delete: flag(o, &COMBINE_BEFORE_DELETE)?,
            payload,
            partitions_to_delete: PARTITIONS_TO_DELETE
                .get(o)
                .map(|s| {
                    s.split(',')
                        .map(|x| x.trim().to_string())
                        .filter(|x| !x.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            spill_threshold: num(o, &SPILL_THRESHOLD)?,
            num_buckets: num(o, &BUCKETS)?,
            bucket_hash_fields: BUCKET_HASH_FIELD
                .get(o)
                .map(|s| {
                    s.split(',')
                        .map(|x| x.trim().to_string())
                        .filter(|x| !x.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            log: super::log_handle::LogSettings {
                format: match LOG_BLOCK_FORMAT
                    .get(o)
                    .unwrap_or("avro")
                    .to_ascii_lowercase()
                    .as_str()
                {
                    "avro" => super::log_handle::LogBlockFormat::Avro,
                    "parquet" => super::log_handle::LogBlockFormat::Parquet,
                    other => return Err(bad(&LOG_BLOCK_FORMAT, other, "avro or parquet")),
                },
                max_block_bytes: num(o, &LOG_BLOCK_MAX_SIZE)?,
                max_file_bytes: num(o, &LOG_FILE_MAX_SIZE)?,
            },
        };
        let engine = BUCKET_ENGINE.get(o).unwrap_or("SIMPLE");
        if c.index == IndexType::Bucket && !engine.eq_ignore_ascii_case("SIMPLE") {
            return Err(bad(
                &BUCKET_ENGINE,
                engine,
                "only the SIMPLE bucket engine is supported",
            ));
        }
        if c.num_buckets == 0 {
            return Err(bad(&BUCKETS, "0", "must be positive"));
        }
        if c.max_file_size == 0 {
            return Err(bad(&MAX_FILE_SIZE, "0", "must be positive"));
        }
        if !(c.bloom_fpp > 0.0 && c.bloom_fpp < 1.0) || c.bloom_entries == 0 {
            return Err(bad(
                &BLOOM_FPP,
                &c.bloom_fpp.to_string(),
                "fpp must be in (0,1) and entries positive",
            ));
        }
        Ok(c)
    }
}
