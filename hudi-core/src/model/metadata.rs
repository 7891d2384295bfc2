//! Contents of instant files: commit metadata (v6 JSON, v8+ Avro), compaction plans, rollback
//! and clean metadata. Avro files are object container files with one record; they are turned
//! into JSON values and then into the same serde structs as the JSON form.

use std::collections::BTreeMap;

use apache_avro::types::Value as AvroValue;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value as JsonValue;

/// Deserializes `null` (Avro's optional fields) as the type's default.
fn null_default<'de, D, T>(d: D) -> std::result::Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Runtime statistics of one write handle.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuntimeStats {
    #[serde(default, deserialize_with = "null_default")]
    pub total_scan_time: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub total_upsert_time: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub total_create_time: i64,
}

/// One file written (or planned) by a write instant. Field order is the order 0.14/0.15 writes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WriteStat {
    #[serde(default)]
    pub file_id: Option<String>,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub cdc_stats: Option<BTreeMap<String, i64>>,
    #[serde(default)]
    pub prev_commit: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub num_writes: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub num_deletes: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub num_update_writes: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub num_inserts: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub total_write_bytes: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub total_write_errors: i64,
    #[serde(default)]
    pub temp_path: Option<String>,
    #[serde(default)]
    pub partition_path: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub total_log_records: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub total_log_files_compacted: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub total_log_size_compacted: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub total_updated_records_compacted: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub total_log_blocks: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub total_corrupt_log_block: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub total_rollback_blocks: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub file_size_in_bytes: i64,
    #[serde(default)]
    pub min_event_time: Option<i64>,
    #[serde(default)]
    pub max_event_time: Option<i64>,
    #[serde(default)]
    pub runtime_stats: Option<RuntimeStats>,
    /// Merge-on-read delta stats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_version: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_offset: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_files: Option<Vec<String>>,
}

/// `HoodieCommitMetadata` and `HoodieReplaceCommitMetadata`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommitMetadata {
    #[serde(default, deserialize_with = "null_default")]
    pub partition_to_write_stats: BTreeMap<String, Vec<WriteStat>>,
    /// Only in replace commits: the file groups this instant replaces, per partition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_to_replace_file_ids: Option<BTreeMap<String, Vec<String>>>,
    #[serde(default, deserialize_with = "null_default")]
    pub compacted: bool,
    #[serde(default, deserialize_with = "null_default")]
    pub extra_metadata: BTreeMap<String, String>,
    #[serde(default)]
    pub operation_type: Option<String>,
}

impl CommitMetadata {
    /// The writer's Avro schema (`extraMetadata.schema`), if recorded and non-empty.
    pub fn schema(&self) -> Option<&str> {
        self.extra_metadata
            .get("schema")
            .map(String::as_str)
            .filter(|s| !s.trim().is_empty())
    }

    /// All write stats, with their partition.
    pub fn write_stats(&self) -> impl Iterator<Item = (&str, &WriteStat)> {
        self.partition_to_write_stats
            .iter()
            .flat_map(|(p, v)| v.iter().map(move |s| (p.as_str(), s)))
    }

    /// `(partition, fileId)` of every file group this instant replaces.
    pub fn replaced_file_ids(&self) -> impl Iterator<Item = (&str, &str)> {
        self.partition_to_replace_file_ids
            .iter()
            .flatten()
            .flat_map(|(p, ids)| ids.iter().map(move |id| (p.as_str(), id.as_str())))
    }
}

/// One operation of a compaction plan.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompactionOperation {
    #[serde(default)]
    pub base_instant_time: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub delta_file_paths: Vec<String>,
    #[serde(default)]
    pub data_file_path: Option<String>,
    #[serde(default)]
    pub file_id: Option<String>,
    #[serde(default)]
    pub partition_path: Option<String>,
    #[serde(default)]
    pub metrics: Option<BTreeMap<String, f64>>,
    #[serde(default)]
    pub bootstrap_file_path: Option<String>,
}

/// `HoodieCompactionPlan`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompactionPlan {
    #[serde(default, deserialize_with = "null_default")]
    pub operations: Vec<CompactionOperation>,
    #[serde(default)]
    pub extra_metadata: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub version: Option<i32>,
    /// Log compaction's execution strategy (null for compaction).
    #[serde(default)]
    pub strategy: Option<JsonValue>,
    #[serde(default)]
    pub preserve_hoodie_metadata: Option<bool>,
}

/// `HoodieInstantInfo`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstantInfo {
    pub commit_time: String,
    pub action: String,
}

/// `HoodieRollbackPartitionMetadata`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RollbackPartitionMetadata {
    pub partition_path: String,
    #[serde(default, deserialize_with = "null_default")]
    pub success_delete_files: Vec<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub failed_delete_files: Vec<String>,
    #[serde(default)]
    pub rollback_log_files: Option<BTreeMap<String, i64>>,
    #[serde(default)]
    pub log_files_from_failed_commit: Option<BTreeMap<String, i64>>,
}

/// `HoodieRollbackMetadata`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RollbackMetadata {
    pub start_rollback_time: String,
    #[serde(default, deserialize_with = "null_default")]
    pub time_taken_in_millis: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub total_files_deleted: i32,
    #[serde(default, deserialize_with = "null_default")]
    pub commits_rollback: Vec<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub partition_metadata: BTreeMap<String, RollbackPartitionMetadata>,
    #[serde(default)]
    pub version: Option<i32>,
    #[serde(default, deserialize_with = "null_default")]
    pub instants_rollback: Vec<InstantInfo>,
}

/// `HoodieActionInstant`: an instant named in a clean plan.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ActionInstant {
    pub timestamp: String,
    pub action: String,
    pub state: String,
}

/// `HoodieCleanFileInfo`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CleanFileInfo {
    #[serde(default)]
    pub file_path: Option<String>,
    #[serde(default)]
    pub is_bootstrap_base_file: Option<bool>,
}

/// `HoodieCleanerPlan` (version 2).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CleanPlan {
    #[serde(default)]
    pub earliest_instant_to_retain: Option<ActionInstant>,
    #[serde(default, deserialize_with = "null_default")]
    pub last_completed_commit_timestamp: String,
    #[serde(default, deserialize_with = "null_default")]
    pub policy: String,
    /// Full paths of the files to delete, per partition.
    #[serde(default, deserialize_with = "null_default")]
    pub file_paths_to_be_deleted_per_partition: BTreeMap<String, Vec<CleanFileInfo>>,
    /// Version 1's field: file names per partition.
    #[serde(default, deserialize_with = "null_default")]
    pub files_to_be_deleted_per_partition: BTreeMap<String, Vec<String>>,
    #[serde(default, deserialize_with = "null_default")]
    pub partitions_to_be_deleted: Vec<String>,
    #[serde(default)]
    pub version: Option<i32>,
    #[serde(default, deserialize_with = "null_default")]
    pub extra_metadata: BTreeMap<String, String>,
}

/// `HoodieCleanPartitionMetadata`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CleanPartitionMetadata {
    pub partition_path: String,
    #[serde(default, deserialize_with = "null_default")]
    pub policy: String,
    #[serde(default, deserialize_with = "null_default")]
    pub delete_path_patterns: Vec<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub success_delete_files: Vec<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub failed_delete_files: Vec<String>,
    #[serde(default)]
    pub is_partition_deleted: Option<bool>,
}

/// `HoodieCleanMetadata`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CleanMetadata {
    #[serde(default, deserialize_with = "null_default")]
    pub start_clean_time: String,
    #[serde(default, deserialize_with = "null_default")]
    pub time_taken_in_millis: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub total_files_deleted: i32,
    #[serde(default, deserialize_with = "null_default")]
    pub earliest_commit_to_retain: String,
    #[serde(default, deserialize_with = "null_default")]
    pub last_completed_commit_timestamp: String,
    #[serde(default, deserialize_with = "null_default")]
    pub partition_metadata: BTreeMap<String, CleanPartitionMetadata>,
    #[serde(default)]
    pub version: Option<i32>,
    #[serde(default, deserialize_with = "null_default")]
    pub extra_metadata: BTreeMap<String, String>,
}

/// `HoodieSavepointPartitionMetadata`: the file names a savepoint keeps in one partition.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SavepointPartitionMetadata {
    pub partition_path: String,
    #[serde(default, deserialize_with = "null_default")]
    pub savepoint_data_file: Vec<String>,
}

/// `HoodieSavepointMetadata`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SavepointMetadata {
    #[serde(default, deserialize_with = "null_default")]
    pub savepointed_by: String,
    /// Epoch milliseconds.
    #[serde(default, deserialize_with = "null_default")]
    pub savepointed_at: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub comments: String,
    #[serde(default, deserialize_with = "null_default")]
    pub partition_metadata: BTreeMap<String, SavepointPartitionMetadata>,
    #[serde(default)]
    pub version: Option<i32>,
}

impl SavepointMetadata {
    /// Every file name the savepoint keeps.
    pub fn files(&self) -> impl Iterator<Item = &str> {
        self.partition_metadata
            .values()
            .flat_map(|p| p.savepoint_data_file.iter().map(String::as_str))
    }
}

/// `HoodieRestorePlan` (version 2).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestorePlan {
    /// Newest first.
    #[serde(default, deserialize_with = "null_default")]
    pub instants_to_rollback: Vec<InstantInfo>,
    #[serde(default)]
    pub version: Option<i32>,
    #[serde(default)]
    pub savepoint_to_restore_timestamp: Option<String>,
}

/// `HoodieRestoreMetadata`: one rollback metadata per instant rolled back.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestoreMetadata {
    pub start_restore_time: String,
    #[serde(default, deserialize_with = "null_default")]
    pub time_taken_in_millis: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub instants_to_rollback: Vec<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub hoodie_restore_metadata: BTreeMap<String, Vec<RollbackMetadata>>,
    #[serde(default)]
    pub version: Option<i32>,
    #[serde(default, deserialize_with = "null_default")]
    pub restore_instant_info: Vec<InstantInfo>,
}

/// Decoding failures, as text for the caller to put in context.
pub type DecodeResult<T> = std::result::Result<T, String>;

/// Whether bytes are an Avro object container file.
pub fn is_avro_container(bytes: &[u8]) -> bool {
    bytes.starts_with(b"Obj\x01")
}

/// Decodes the single record of an Avro object container file into JSON.
pub fn avro_container_to_json(bytes: &[u8]) -> DecodeResult<JsonValue> {
    let reader = apache_avro::Reader::new(bytes).map_err(|e| e.to_string())?;
    let mut values = Vec::new();
    for v in reader {
        values.push(avro_to_json(&v.map_err(|e| e.to_string())?));
    }
    match values.len() {
        1 => Ok(values.remove(0)),
        0 => Err("the Avro file holds no record".into()),
        n => Err(format!("the Avro file holds {n} records, expected 1")),
    }
}

/// Converts an Avro value to JSON, unwrapping unions (the shape Java's JSON mapper uses).
pub fn avro_to_json(v: &AvroValue) -> JsonValue {
    use serde_json::json;
    match v {
        AvroValue::Null => JsonValue::Null,
        AvroValue::Boolean(b) => json!(b),
        AvroValue::Int(i) | AvroValue::Date(i) | AvroValue::TimeMillis(i) => json!(i),
        AvroValue::Long(i)
        | AvroValue::TimeMicros(i)
        | AvroValue::TimestampMillis(i)
        | AvroValue::TimestampMicros(i)
        | AvroValue::TimestampNanos(i)
        | AvroValue::LocalTimestampMillis(i)
        | AvroValue::LocalTimestampMicros(i)
        | AvroValue::LocalTimestampNanos(i) => json!(i),
        AvroValue::Float(f) => json!(f),
        AvroValue::Double(f) => json!(f),
        AvroValue::Bytes(b) | AvroValue::Fixed(_, b) => {
            JsonValue::String(String::from_utf8_lossy(b).into_owned())
        }
        AvroValue::String(s) | AvroValue::Enum(_, s) => JsonValue::String(s.clone()),
        AvroValue::Union(_, inner) => avro_to_json(inner),
        AvroValue::Array(items) => JsonValue::Array(items.iter().map(avro_to_json).collect()),
        AvroValue::Map(m) => JsonValue::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), avro_to_json(v)))
                .collect(),
        ),
        AvroValue::Record(fields) => JsonValue::Object(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), avro_to_json(v)))
                .collect(),
        ),
        AvroValue::Uuid(u) => JsonValue::String(u.to_string()),
        other => JsonValue::String(format!("{other:?}")),
    }
}

/// Decodes instant content that is JSON (v6 commits) or an Avro container (v8+ and all plans).
pub fn decode_json_or_avro<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> DecodeResult<T> {
    if is_avro_container(bytes) {
        let json = avro_container_to_json(bytes)?;
        serde_json::from_value(json).map_err(|e| e.to_string())
    } else {
        serde_json::from_slice(bytes).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_v6_commit_json_with_nulls_and_replace_ids() {
        let text = r#"{"partitionToWriteStats":{"p":[{"fileId":"f-0","path":"p/f-0_0-1-2_20240101000000000.parquet",
            "prevCommit":"null","numWrites":2,"numInserts":2,"totalWriteBytes":10,"partitionPath":"p",
            "fileSizeInBytes":10,"runtimeStats":null,"minEventTime":null}]},
            "partitionToReplaceFileIds":{"p":["g-0"]},"compacted":false,
            "extraMetadata":{"schema":"{}"},"operationType":"INSERT_OVERWRITE"}"#;
        let m: CommitMetadata = decode_json_or_avro(text.as_bytes()).unwrap();
        let stats: Vec<_> = m.write_stats().collect();
        assert_eq!(stats.len(), 1);
        assert_eq!(stats[0].1.num_writes, 2);
        assert_eq!(
            m.replaced_file_ids().collect::<Vec<_>>(),
            vec![("p", "g-0")]
        );
        assert_eq!(m.schema(), Some("{}"));
    }

    #[test]
    fn rejects_garbage() {
        assert!(decode_json_or_avro::<CommitMetadata>(b"not json").is_err());
        assert!(decode_json_or_avro::<CommitMetadata>(b"Obj\x01garbage").is_err());
    }
}
