//! Sync options, under the keys Hudi's Hive and Glue sync read
//! (`hoodie.datasource.hive_sync.*`, `hoodie.datasource.meta.sync.*`).

use std::collections::BTreeMap;

use hudi_core::Table;

use crate::error::{Result, SyncError};
use crate::partitions::Extractor;

pub const HIVE_SYNC: &str = "hoodie.datasource.hive_sync.";
pub const ENABLE_META_SYNC: &str = "hoodie.datasource.meta.sync.enable";
pub const ENABLE_HIVE_SYNC: &str = "hoodie.datasource.hive_sync.enable";
pub const SYNC_TOOL_CLASS: &str = "hoodie.meta.sync.client.tool.class";
pub const GLUE_TOOL: &str = "org.apache.hudi.aws.sync.AwsGlueCatalogSyncTool";
pub const HIVE_TOOL: &str = "org.apache.hudi.hive.HiveSyncTool";

/// Which of a merge-on-read table's catalog tables to register.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableStrategy {
    /// `<t>_ro` and `<t>_rt`.
    All,
    /// The read-optimized table only, under the plain name.
    Ro,
    /// The realtime table only, under the plain name.
    Rt,
}

/// What a sync registers, and how.
#[derive(Debug, Clone)]
pub struct SyncConfig {
    pub database: String,
    pub table: String,
    pub skip_ro_suffix: bool,
    pub strategy: TableStrategy,
    pub support_timestamp: bool,
    pub partition_fields: Vec<String>,
    pub extractor: Extractor,
    pub auto_create_database: bool,
    pub sync_as_datasource: bool,
    pub schema_length_threshold: usize,
    pub sync_comment: bool,
    pub omit_metadata_fields: bool,
    pub create_managed_table: bool,
    pub batch_size: usize,
    pub table_properties: BTreeMap<String, String>,
    pub serde_properties: BTreeMap<String, String>,
    pub spark_version: Option<String>,
    /// `hoodie.meta.sync.sync_snapshot_with_table_name`: a merge-on-read table's plain name
    /// is a snapshot table too.
    pub snapshot_with_table_name: bool,
    /// `hoodie.datasource.meta.sync.glue.metadata_file_listing` (Glue's
    /// `hudi.metadata-listing-enabled`).
    pub glue_metadata_listing: bool,
}

fn flag(options: &BTreeMap<String, String>, key: &str, default: bool) -> Result<bool> {
    match options.get(key).map(|v| v.trim().to_ascii_lowercase()) {
        None => Ok(default),
        Some(v) if v == "true" => Ok(true),
        Some(v) if v == "false" => Ok(false),
        Some(v) => Err(SyncError::InvalidOption {
            key: key.into(),
            value: v,
            reason: "expected true or false".into(),
        }),
    }
}

fn number(options: &BTreeMap<String, String>, key: &str, default: usize) -> Result<usize> {
    match options.get(key) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| SyncError::InvalidOption {
                key: key.into(),
                value: v.clone(),
                reason: "expected a positive number".into(),
            }),
    }
}

/// `k1=v1\nk2=v2` (Hudi's format for table and SerDe properties given as one option).
fn properties(options: &BTreeMap<String, String>, key: &str) -> BTreeMap<String, String> {
    options
        .get(key)
        .map(|v| {
            v.lines()
                .filter_map(|l| l.split_once('='))
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .filter(|(k, _)| !k.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

impl SyncConfig {
    /// The options (`hoodie.datasource.hive_sync.*` keys), defaulted from the table as Hudi
    /// infers them.
    pub fn from_options(table: &Table, options: &BTreeMap<String, String>) -> Result<Self> {
        let key = |k: &str| format!("{HIVE_SYNC}{k}");
        let get = |k: &str| options.get(&key(k)).map(|v| v.trim().to_string());
        let cfg = table.config();
        refuse_unsupported(options)?;
        let partition_fields: Vec<String> = match get("partition_fields") {
            Some(v) => v
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
            // `field:TYPE` (custom key generator) names the field before the colon.
            None => cfg
                .partition_fields
                .iter()
                .map(|f| f.split(':').next().unwrap_or(f).to_string())
                .collect(),
        };
        let extractor = match get("partition_extractor_class") {
            Some(c) => Extractor::from_class(&c)?,
            None => Extractor::infer(partition_fields.len(), cfg.hive_style_partitioning),
        };
        let strategy = match get("table.strategy").map(|s| s.to_ascii_uppercase()) {
            None => TableStrategy::All,
            Some(s) if s == "ALL" => TableStrategy::All,
            Some(s) if s == "RO" => TableStrategy::Ro,
            Some(s) if s == "RT" => TableStrategy::Rt,
            Some(s) => {
                return Err(SyncError::InvalidOption {
                    key: key("table.strategy"),
                    value: s,
                    reason: "expected ALL, RO or RT".into(),
                })
            }
        };
        let table_name = get("table").unwrap_or_else(|| cfg.name.clone());
        Ok(SyncConfig {
            database: get("database").unwrap_or_else(|| "default".into()),
            table: table_name,
            skip_ro_suffix: flag(options, &key("skip_ro_suffix"), false)?,
            strategy,
            support_timestamp: flag(options, &key("support_timestamp"), false)?,
            partition_fields,
            extractor,
            auto_create_database: flag(options, &key("auto_create_database"), true)?,
            sync_as_datasource: flag(options, &key("sync_as_datasource"), true)?,
            schema_length_threshold: number(options, &key("schema_string_length_thresh"), 4000)?,
            sync_comment: flag(options, &key("sync_comment"), false)?,
            omit_metadata_fields: flag(options, &key("omit_metadata_fields"), false)?,
            create_managed_table: flag(options, &key("create_managed_table"), false)?,
            batch_size: number(options, &key("batch_num"), 1000)?,
            table_properties: properties(options, &key("table_properties")),
            serde_properties: properties(options, &key("serde_properties")),
            spark_version: options
                .get("hoodie.meta_sync.spark.version")
                .filter(|v| !v.is_empty())
                .cloned(),
            snapshot_with_table_name: flag(
                options,
                "hoodie.meta.sync.sync_snapshot_with_table_name",
                true,
            )?,
            glue_metadata_listing: flag(
                options,
                "hoodie.datasource.meta.sync.glue.metadata_file_listing",
                false,
            )?,
        })
    }
}

/// Options this sync cannot honour, refused rather than ignored: Glue partition indexes
/// (moto, the Glue we test against, does not implement them, so they are not built).
fn refuse_unsupported(options: &BTreeMap<String, String>) -> Result<()> {
    let k = "hoodie.datasource.meta.sync.glue.partition_index_fields.enable";
    if let Some(v) = options.get(k).filter(|v| v.trim() == "true") {
        return Err(SyncError::InvalidOption {
            key: k.into(),
            value: v.clone(),
            reason: "Glue partition indexes are not synced by this build; create them with \
                     `aws glue create-partition-index`"
                .into(),
        });
    }
    Ok(())
}

/// Whether the options ask for a sync after each commit, and with which tool.
pub fn sync_requested(options: &BTreeMap<String, String>) -> Option<&'static str> {
    let on = |k: &str| options.get(k).is_some_and(|v| v.trim() == "true");
    if !(on(ENABLE_META_SYNC) || on(ENABLE_HIVE_SYNC)) {
        return None;
    }
    let tools = options
        .get(SYNC_TOOL_CLASS)
        .map(String::as_str)
        .unwrap_or(HIVE_TOOL);
    Some(if tools.contains("AwsGlueCatalogSyncTool") {
        GLUE_TOOL
    } else {
        HIVE_TOOL
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_indexes_are_refused_not_ignored() {
        let mut o = BTreeMap::new();
        assert!(refuse_unsupported(&o).is_ok());
        let k = "hoodie.datasource.meta.sync.glue.partition_index_fields.enable";
        o.insert(k.to_string(), "false".to_string());
        assert!(refuse_unsupported(&o).is_ok());
        o.insert(k.to_string(), "true".to_string());
        let e = refuse_unsupported(&o).expect_err("refused").to_string();
        assert!(e.contains(k), "{e}");
    }
}
