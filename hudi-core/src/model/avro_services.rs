//! Avro encodings of the table services' instants: clean plans and metadata, savepoints,
//! restore plans and metadata, with the schemas Java writes (see `avro_schemas`).

use std::collections::HashMap;

use apache_avro::types::Value;

use super::avro_instants::{
    container, instant_info, opt, rollback_metadata_value, s, string_map, strings, version,
};
use super::avro_schemas::*;
use super::metadata::{
    CleanMetadata, CleanPlan, DecodeResult, RestoreMetadata, RestorePlan, SavepointMetadata,
};

/// `HoodieCleanerPlan` version 2 (the version-1 map and the extra metadata empty, as Java
/// writes them).
pub fn encode_clean_plan(p: &CleanPlan) -> DecodeResult<Vec<u8>> {
    let earliest = p.earliest_instant_to_retain.as_ref().map(|i| {
        Value::Record(vec![
            ("timestamp".into(), s(&i.timestamp)),
            ("action".into(), s(&i.action)),
            ("state".into(), s(&i.state)),
        ])
    });
    let paths: HashMap<String, Value> = p
        .file_paths_to_be_deleted_per_partition
        .iter()
        .map(|(part, files)| {
            let infos = files
                .iter()
                .map(|f| {
                    Value::Record(vec![
                        ("filePath".into(), opt(f.file_path.as_deref().map(s))),
                        (
                            "isBootstrapBaseFile".into(),
                            opt(f.is_bootstrap_base_file.map(Value::Boolean)),
                        ),
                    ])
                })
                .collect();
            (part.clone(), Value::Array(infos))
        })
        .collect();
    let v1: HashMap<String, Value> = p
        .files_to_be_deleted_per_partition
        .iter()
        .map(|(k, v)| (k.clone(), strings(v)))
        .collect();
    container(
        CLEANER_PLAN_SCHEMA,
        Value::Record(vec![
            ("earliestInstantToRetain".into(), opt(earliest)),
            (
                "lastCompletedCommitTimestamp".into(),
                s(&p.last_completed_commit_timestamp),
            ),
            ("policy".into(), s(&p.policy)),
            (
                "filesToBeDeletedPerPartition".into(),
                opt(Some(Value::Map(v1))),
            ),
            ("version".into(), version(p.version)),
            (
                "filePathsToBeDeletedPerPartition".into(),
                opt(Some(Value::Map(paths))),
            ),
            (
                "partitionsToBeDeleted".into(),
                opt(Some(strings(&p.partitions_to_be_deleted))),
            ),
            (
                "extraMetadata".into(),
                opt(Some(string_map(&p.extra_metadata))),
            ),
        ]),
    )
}

/// `HoodieCleanMetadata` version 2.
pub fn encode_clean_metadata(m: &CleanMetadata) -> DecodeResult<Vec<u8>> {
    let partitions: HashMap<String, Value> = m
        .partition_metadata
        .iter()
        .map(|(k, p)| {
            (
                k.clone(),
                Value::Record(vec![
                    ("partitionPath".into(), s(&p.partition_path)),
                    ("policy".into(), s(&p.policy)),
                    (
                        "deletePathPatterns".into(),
                        strings(&p.delete_path_patterns),
                    ),
                    (
                        "successDeleteFiles".into(),
                        strings(&p.success_delete_files),
                    ),
                    ("failedDeleteFiles".into(), strings(&p.failed_delete_files)),
                    (
                        "isPartitionDeleted".into(),
                        opt(p.is_partition_deleted.map(Value::Boolean)),
                    ),
                ]),
            )
        })
        .collect();
    container(
        CLEAN_METADATA_SCHEMA,
        Value::Record(vec![
            ("startCleanTime".into(), s(&m.start_clean_time)),
            (
                "timeTakenInMillis".into(),
                Value::Long(m.time_taken_in_millis),
            ),
            (
                "totalFilesDeleted".into(),
                Value::Int(m.total_files_deleted),
            ),
            (
                "earliestCommitToRetain".into(),
                s(&m.earliest_commit_to_retain),
            ),
            (
                "lastCompletedCommitTimestamp".into(),
                s(&m.last_completed_commit_timestamp),
            ),
            ("partitionMetadata".into(), Value::Map(partitions)),
            ("version".into(), version(m.version)),
            (
                "bootstrapPartitionMetadata".into(),
                opt(Some(Value::Map(HashMap::new()))),
            ),
            (
                "extraMetadata".into(),
                opt(Some(string_map(&m.extra_metadata))),
            ),
        ]),
    )
}

/// `HoodieSavepointMetadata` (version 1).
pub fn encode_savepoint_metadata(m: &SavepointMetadata) -> DecodeResult<Vec<u8>> {
    let partitions: HashMap<String, Value> = m
        .partition_metadata
        .iter()
        .map(|(k, p)| {
            (
                k.clone(),
                Value::Record(vec![
                    ("partitionPath".into(), s(&p.partition_path)),
                    ("savepointDataFile".into(), strings(&p.savepoint_data_file)),
                ]),
            )
        })
        .collect();
    container(
        SAVEPOINT_METADATA_SCHEMA,
        Value::Record(vec![
            ("savepointedBy".into(), s(&m.savepointed_by)),
            ("savepointedAt".into(), Value::Long(m.savepointed_at)),
            ("comments".into(), s(&m.comments)),
            ("partitionMetadata".into(), Value::Map(partitions)),
            ("version".into(), version(m.version)),
        ]),
    )
}

/// `HoodieRestorePlan` (version 2).
pub fn encode_restore_plan(p: &RestorePlan) -> DecodeResult<Vec<u8>> {
    container(
        RESTORE_PLAN_SCHEMA,
        Value::Record(vec![
            (
                "instantsToRollback".into(),
                Value::Array(p.instants_to_rollback.iter().map(instant_info).collect()),
            ),
            ("version".into(), version(p.version)),
            (
                "savepointToRestoreTimestamp".into(),
                opt(p.savepoint_to_restore_timestamp.as_deref().map(s)),
            ),
        ]),
    )
}

/// `HoodieRestoreMetadata` (version 1), each instant's rollback metadata embedded.
pub fn encode_restore_metadata(m: &RestoreMetadata) -> DecodeResult<Vec<u8>> {
    let per_instant: HashMap<String, Value> = m
        .hoodie_restore_metadata
        .iter()
        .map(|(t, rs)| {
            let items = rs
                .iter()
                .map(|r| opt(Some(rollback_metadata_value(r))))
                .collect();
            (t.clone(), Value::Array(items))
        })
        .collect();
    container(
        RESTORE_METADATA_SCHEMA,
        Value::Record(vec![
            ("startRestoreTime".into(), s(&m.start_restore_time)),
            (
                "timeTakenInMillis".into(),
                Value::Long(m.time_taken_in_millis),
            ),
            (
                "instantsToRollback".into(),
                strings(&m.instants_to_rollback),
            ),
            ("hoodieRestoreMetadata".into(), Value::Map(per_instant)),
            ("version".into(), version(m.version)),
            (
                "restoreInstantInfo".into(),
                Value::Array(m.restore_instant_info.iter().map(instant_info).collect()),
            ),
        ]),
    )
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::model::metadata::{
        decode_json_or_avro, InstantInfo, RollbackMetadata, SavepointPartitionMetadata,
    };

    #[test]
    fn clean_plans_and_metadata_round_trip() {
        use crate::model::metadata::{ActionInstant, CleanFileInfo, CleanPartitionMetadata};
        let plan = CleanPlan {
            earliest_instant_to_retain: Some(ActionInstant {
                timestamp: "20250101000000000".into(),
                action: "commit".into(),
                state: "COMPLETED".into(),
            }),
            last_completed_commit_timestamp: "20250102000000000".into(),
            policy: "KEEP_LATEST_COMMITS".into(),
            file_paths_to_be_deleted_per_partition: BTreeMap::from([(
                "p".to_string(),
                vec![CleanFileInfo {
                    file_path: Some("file:/t/p/f-0_0-1-2_20241231000000000.parquet".into()),
                    is_bootstrap_base_file: Some(false),
                }],
            )]),
            files_to_be_deleted_per_partition: BTreeMap::new(),
            partitions_to_be_deleted: vec![],
            version: Some(2),
            extra_metadata: BTreeMap::new(),
        };
        let bytes = encode_clean_plan(&plan).unwrap();
        assert_eq!(decode_json_or_avro::<CleanPlan>(&bytes).unwrap(), plan);
        let meta = CleanMetadata {
            start_clean_time: "20250103000000000".into(),
            time_taken_in_millis: 3,
            total_files_deleted: 1,
            earliest_commit_to_retain: "20250101000000000".into(),
            last_completed_commit_timestamp: "20250102000000000".into(),
            partition_metadata: BTreeMap::from([(
                "p".to_string(),
                CleanPartitionMetadata {
                    partition_path: "p".into(),
                    policy: "KEEP_LATEST_COMMITS".into(),
                    delete_path_patterns: vec!["f-0_0-1-2_20241231000000000.parquet".into()],
                    success_delete_files: vec!["f-0_0-1-2_20241231000000000.parquet".into()],
                    failed_delete_files: vec![],
                    is_partition_deleted: Some(false),
                },
            )]),
            version: Some(2),
            extra_metadata: BTreeMap::new(),
        };
        let bytes = encode_clean_metadata(&meta).unwrap();
        assert_eq!(decode_json_or_avro::<CleanMetadata>(&bytes).unwrap(), meta);
    }

    #[test]
    fn savepoint_and_restore_round_trip() {
        let sp = SavepointMetadata {
            savepointed_by: "hudi-rs".into(),
            savepointed_at: 1_796_120_672_742,
            comments: "before the backfill".into(),
            partition_metadata: BTreeMap::from([(
                "asia".to_string(),
                SavepointPartitionMetadata {
                    partition_path: "asia".into(),
                    savepoint_data_file: vec!["f-0_0-1-2_20250101000000000.parquet".into()],
                },
            )]),
            version: Some(1),
        };
        let bytes = encode_savepoint_metadata(&sp).unwrap();
        assert_eq!(
            decode_json_or_avro::<SavepointMetadata>(&bytes).unwrap(),
            sp
        );
        let info = InstantInfo {
            commit_time: "20250102000000000".into(),
            action: "deltacommit".into(),
        };
        let plan = RestorePlan {
            instants_to_rollback: vec![info.clone()],
            version: Some(2),
            savepoint_to_restore_timestamp: Some("20250101000000000".into()),
        };
        let bytes = encode_restore_plan(&plan).unwrap();
        assert_eq!(decode_json_or_avro::<RestorePlan>(&bytes).unwrap(), plan);
        let meta = RestoreMetadata {
            start_restore_time: "20250103000000000".into(),
            time_taken_in_millis: 5,
            instants_to_rollback: vec![info.commit_time.clone()],
            hoodie_restore_metadata: BTreeMap::from([(
                info.commit_time.clone(),
                vec![RollbackMetadata {
                    start_rollback_time: "20250103000000001".into(),
                    commits_rollback: vec![info.commit_time.clone()],
                    version: Some(1),
                    instants_rollback: vec![info.clone()],
                    ..Default::default()
                }],
            )]),
            version: Some(1),
            restore_instant_info: vec![info],
        };
        let bytes = encode_restore_metadata(&meta).unwrap();
        assert_eq!(
            decode_json_or_avro::<RestoreMetadata>(&bytes).unwrap(),
            meta
        );
    }
}
