//! Encoding the Avro instant files a writer produces: requested replace metadata, rollback
//! plans and rollback metadata. Each is an Avro object container file (codec null) holding one
//! record named `org.apache.hudi.avro.model.<Name>`, with the writer schema Hudi 0.14/0.15
//! embeds (its generated classes' schemas, `avro.java.string` properties included), as read
//! from files Apache Hudi 0.15 wrote.

use std::collections::{BTreeMap, HashMap};

use apache_avro::types::Value;
use apache_avro::{Codec, Schema, Writer};

use super::avro_schemas::*;
use super::metadata::{CompactionPlan, DecodeResult, InstantInfo, RollbackMetadata};

/// One request of a rollback plan.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RollbackRequest {
    pub partition_path: String,
    #[serde(default)]
    pub file_id: Option<String>,
    #[serde(default)]
    pub latest_base_instant: Option<String>,
    #[serde(default)]
    pub files_to_be_deleted: Vec<String>,
    #[serde(default)]
    pub log_blocks_to_be_deleted: Option<BTreeMap<String, i64>>,
}

/// `HoodieRollbackPlan`.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RollbackPlan {
    #[serde(rename = "instantToRollback", default)]
    pub instant_to_rollback: Option<InstantInfo>,
    #[serde(rename = "RollbackRequests", default)]
    pub requests: Option<Vec<RollbackRequest>>,
    #[serde(default)]
    pub version: Option<i32>,
}

pub(super) fn s(v: &str) -> Value {
    Value::String(v.to_string())
}

/// `["null", T]` union.
pub(super) fn opt(v: Option<Value>) -> Value {
    match v {
        None => Value::Union(0, Box::new(Value::Null)),
        Some(v) => Value::Union(1, Box::new(v)),
    }
}

/// `[int, null]` union.
pub(super) fn version(v: Option<i32>) -> Value {
    match v {
        Some(i) => Value::Union(0, Box::new(Value::Int(i))),
        None => Value::Union(1, Box::new(Value::Null)),
    }
}

pub(super) fn strings(v: &[String]) -> Value {
    Value::Array(v.iter().map(|x| s(x)).collect())
}

pub(super) fn long_map(m: &BTreeMap<String, i64>) -> Value {
    Value::Map(
        m.iter()
            .map(|(k, v)| (k.clone(), Value::Long(*v)))
            .collect::<HashMap<_, _>>(),
    )
}

pub(super) fn instant_info(i: &InstantInfo) -> Value {
    Value::Record(vec![
        ("commitTime".into(), s(&i.commit_time)),
        ("action".into(), s(&i.action)),
    ])
}

pub(super) fn container(schema_text: &str, value: Value) -> DecodeResult<Vec<u8>> {
    let schema = Schema::parse_str(schema_text).map_err(|e| e.to_string())?;
    let mut w = Writer::with_codec(&schema, Vec::new(), Codec::Null).map_err(|e| e.to_string())?;
    w.append_value(value).map_err(|e| e.to_string())?;
    w.into_inner().map_err(|e| e.to_string())
}

/// `HoodieRequestedReplaceMetadata` with every field null (the clustering plan an explicit null
/// branch), as 0.14/0.15 write for insert_overwrite and delete_partition.
pub fn encode_requested_replace() -> DecodeResult<Vec<u8>> {
    container(
        REQUESTED_REPLACE_SCHEMA,
        Value::Record(vec![
            ("operationType".into(), opt(None)),
            ("clusteringPlan".into(), opt(None)),
            ("extraMetadata".into(), opt(None)),
            ("version".into(), version(None)),
        ]),
    )
}

pub(super) fn string_map(m: &BTreeMap<String, String>) -> Value {
    Value::Map(m.iter().map(|(k, v)| (k.clone(), s(v))).collect())
}

/// `HoodieCompactionPlan` (version 2, as 0.14/0.15 write it: no strategy, metadata not
/// preserved).
pub fn encode_compaction_plan(p: &CompactionPlan) -> DecodeResult<Vec<u8>> {
    let ops = p
        .operations
        .iter()
        .map(|o| {
            Value::Record(vec![
                (
                    "baseInstantTime".into(),
                    opt(o.base_instant_time.as_deref().map(s)),
                ),
                (
                    "deltaFilePaths".into(),
                    opt(Some(strings(&o.delta_file_paths))),
                ),
                (
                    "dataFilePath".into(),
                    opt(o.data_file_path.as_deref().map(s)),
                ),
                ("fileId".into(), opt(o.file_id.as_deref().map(s))),
                (
                    "partitionPath".into(),
                    opt(o.partition_path.as_deref().map(s)),
                ),
                (
                    "metrics".into(),
                    opt(o.metrics.as_ref().map(|m| {
                        Value::Map(
                            m.iter()
                                .map(|(k, v)| (k.clone(), Value::Double(*v)))
                                .collect(),
                        )
                    })),
                ),
                (
                    "bootstrapFilePath".into(),
                    opt(o.bootstrap_file_path.as_deref().map(s)),
                ),
            ])
        })
        .collect();
    container(
        COMPACTION_PLAN_SCHEMA,
        Value::Record(vec![
            ("operations".into(), opt(Some(Value::Array(ops)))),
            (
                "extraMetadata".into(),
                opt(p.extra_metadata.as_ref().map(string_map)),
            ),
            ("version".into(), version(p.version)),
            ("strategy".into(), opt(None)),
            (
                "preserveHoodieMetadata".into(),
                Value::Union(
                    0,
                    Box::new(Value::Boolean(p.preserve_hoodie_metadata.unwrap_or(false))),
                ),
            ),
        ]),
    )
}

pub fn encode_rollback_plan(p: &RollbackPlan) -> DecodeResult<Vec<u8>> {
    let requests = p.requests.as_ref().map(|rs| {
        Value::Array(
            rs.iter()
                .map(|r| {
                    Value::Record(vec![
                        ("partitionPath".into(), s(&r.partition_path)),
                        ("fileId".into(), opt(r.file_id.as_deref().map(s))),
                        (
                            "latestBaseInstant".into(),
                            opt(r.latest_base_instant.as_deref().map(s)),
                        ),
                        ("filesToBeDeleted".into(), strings(&r.files_to_be_deleted)),
                        (
                            "logBlocksToBeDeleted".into(),
                            opt(r.log_blocks_to_be_deleted.as_ref().map(long_map)),
                        ),
                    ])
                })
                .collect(),
        )
    });
    container(
        ROLLBACK_PLAN_SCHEMA,
        Value::Record(vec![
            (
                "instantToRollback".into(),
                opt(p.instant_to_rollback.as_ref().map(instant_info)),
            ),
            ("RollbackRequests".into(), opt(requests)),
            ("version".into(), version(p.version)),
        ]),
    )
}

pub fn encode_rollback_metadata(m: &RollbackMetadata) -> DecodeResult<Vec<u8>> {
    container(ROLLBACK_METADATA_SCHEMA, rollback_metadata_value(m))
}

/// A `HoodieRollbackMetadata` record (restore metadata embeds them).
pub(super) fn rollback_metadata_value(m: &RollbackMetadata) -> Value {
    let partitions: HashMap<String, Value> = m
        .partition_metadata
        .iter()
        .map(|(k, p)| {
            (
                k.clone(),
                Value::Record(vec![
                    ("partitionPath".into(), s(&p.partition_path)),
                    (
                        "successDeleteFiles".into(),
                        strings(&p.success_delete_files),
                    ),
                    ("failedDeleteFiles".into(), strings(&p.failed_delete_files)),
                    (
                        "rollbackLogFiles".into(),
                        opt(p.rollback_log_files.as_ref().map(long_map)),
                    ),
                    (
                        "logFilesFromFailedCommit".into(),
                        opt(p.log_files_from_failed_commit.as_ref().map(long_map)),
                    ),
                ]),
            )
        })
        .collect();
    Value::Record(vec![
        ("startRollbackTime".into(), s(&m.start_rollback_time)),
        (
            "timeTakenInMillis".into(),
            Value::Long(m.time_taken_in_millis),
        ),
        (
            "totalFilesDeleted".into(),
            Value::Int(m.total_files_deleted),
        ),
        ("commitsRollback".into(), strings(&m.commits_rollback)),
        ("partitionMetadata".into(), Value::Map(partitions)),
        ("version".into(), version(m.version)),
        (
            "instantsRollback".into(),
            Value::Array(m.instants_rollback.iter().map(instant_info).collect()),
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::metadata::{decode_json_or_avro, RollbackPartitionMetadata};

    #[test]
    fn rollback_plan_and_metadata_round_trip() {
        let plan = RollbackPlan {
            instant_to_rollback: Some(InstantInfo {
                commit_time: "20250126040826878".into(),
                action: "commit".into(),
            }),
            requests: Some(vec![RollbackRequest {
                partition_path: "p=1".into(),
                file_id: Some("f-0".into()),
                latest_base_instant: None,
                files_to_be_deleted: vec!["/t/p=1/f-0_0-1-2_20250126040826878.parquet".into()],
                log_blocks_to_be_deleted: Some(BTreeMap::new()),
            }]),
            version: Some(1),
        };
        let bytes = encode_rollback_plan(&plan).unwrap();
        assert!(bytes.starts_with(b"Obj\x01"));
        assert_eq!(decode_json_or_avro::<RollbackPlan>(&bytes).unwrap(), plan);

        let mut pm = BTreeMap::new();
        pm.insert(
            "p=1".to_string(),
            RollbackPartitionMetadata {
                partition_path: "p=1".into(),
                success_delete_files: vec!["a".into()],
                failed_delete_files: vec![],
                rollback_log_files: None,
                log_files_from_failed_commit: None,
            },
        );
        let meta = RollbackMetadata {
            start_rollback_time: "20250126040936578".into(),
            time_taken_in_millis: 5,
            total_files_deleted: 1,
            commits_rollback: vec!["20250126040826878".into()],
            partition_metadata: pm,
            version: Some(1),
            instants_rollback: vec![InstantInfo {
                commit_time: "20250126040826878".into(),
                action: "commit".into(),
            }],
        };
        let bytes = encode_rollback_metadata(&meta).unwrap();
        assert_eq!(
            decode_json_or_avro::<RollbackMetadata>(&bytes).unwrap(),
            meta
        );
        assert!(encode_requested_replace().unwrap().starts_with(b"Obj\x01"));
    }

    #[test]
    fn compaction_plans_round_trip() {
        use crate::model::metadata::CompactionOperation;
        let plan = CompactionPlan {
            operations: vec![CompactionOperation {
                base_instant_time: Some("20250126040826878".into()),
                delta_file_paths: vec![".f-0_20250126040826878.log.1_0-1-2".into()],
                data_file_path: Some("f-0_0-1-2_20250126040826878.parquet".into()),
                file_id: Some("f-0".into()),
                partition_path: Some("p".into()),
                metrics: Some(BTreeMap::from([("TOTAL_LOG_FILES".to_string(), 1.0)])),
                bootstrap_file_path: None,
            }],
            extra_metadata: None,
            version: Some(2),
            strategy: None,
            preserve_hoodie_metadata: Some(false),
        };
        let bytes = encode_compaction_plan(&plan).unwrap();
        assert_eq!(decode_json_or_avro::<CompactionPlan>(&bytes).unwrap(), plan);
    }
}
