//! File sizing, small files, payloads and schema rules of copy-on-write writes.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, Int32Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use hudi_core::{Table, TableBuilder, WriteOperation};
use serde_json::json;

use crate::support;

fn rows(ids: std::ops::Range<i32>, ts: i64, note: &str) -> RecordBatch {
    let n = ids.len();
    RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int32, true),
            Field::new("ts", DataType::Int64, true),
            Field::new("note", DataType::Utf8, true),
        ])),
        vec![
            Arc::new(Int32Array::from(ids.collect::<Vec<_>>())) as ArrayRef,
            Arc::new(Int64Array::from(vec![ts; n])),
            Arc::new(StringArray::from(vec![note; n])),
        ],
    )
    .expect("batch")
}

async fn table(path: &Path, opts: &[(&str, &str)]) -> Table {
    let mut b = TableBuilder::new(path.to_string_lossy())
        .with_name("s")
        .with_record_key_fields(vec!["id".into()])
        .with_precombine_field("ts");
    for (k, v) in opts {
        b = b.with_option(*k, *v);
    }
    b.create().await.expect("create")
}

fn base_files(path: &Path) -> Vec<String> {
    let mut v: Vec<String> = support::all_files(path)
        .into_iter()
        .filter(|p| !p.to_string_lossy().contains("/.hoodie/"))
        .map(|p| {
            p.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
        .filter(|n| n.ends_with(".parquet"))
        .collect();
    v.sort();
    v
}

fn groups(files: &[String]) -> std::collections::BTreeSet<String> {
    files
        .iter()
        .map(|f| f.split('_').next().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn inserts_fill_small_files_and_new_groups_respect_the_size_estimate() {
    let Some((_, mut oracle, rt)) = crate::support::oracle::setup("inserts_fill_small_files")
    else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("t");
    // 1 KiB max file and a 100-byte record estimate: 10 records per new file group.
    let opts = [
        ("hoodie.parquet.max.file.size", "1024"),
        ("hoodie.copyonwrite.record.size.estimate", "100"),
        ("hoodie.parquet.small.file.limit", "0"),
    ];
    let t = rt.block_on(table(&path, &opts));
    let m = rt
        .block_on(
            t.write(WriteOperation::Insert)
                .execute_batches(vec![rows(0..25, 1, "a")]),
        )
        .expect("insert");
    assert_eq!(m.files_written, 3, "25 records at 10 per file group");
    assert_eq!(groups(&base_files(&path)).len(), 3);

    // With small-file handling on, the next insert goes into an existing (small) file group.
    let dir2 = tempfile::tempdir().expect("tempdir");
    let p2 = dir2.path().join("t");
    let t2 = rt.block_on(table(&p2, &[]));
    rt.block_on(
        t2.write(WriteOperation::Insert)
            .execute_batches(vec![rows(0..5, 1, "a")]),
    )
    .expect("c1");
    let before = groups(&base_files(&p2));
    let t2 = rt.block_on(t2.reload()).expect("reload");
    rt.block_on(
        t2.write(WriteOperation::Insert)
            .execute_batches(vec![rows(5..8, 1, "b")]),
    )
    .expect("c2");
    assert_eq!(
        groups(&base_files(&p2)),
        before,
        "the small file group took the inserts"
    );
    assert_eq!(base_files(&p2).len(), 2, "two slices of one file group");
    assert_eq!(oracle.rows(&p2, "snapshot", json!({})).len(), 8);
    // bulk_insert never uses small files.
    let t2 = rt.block_on(t2.reload()).expect("reload");
    rt.block_on(
        t2.write(WriteOperation::BulkInsert)
            .execute_batches(vec![rows(8..9, 1, "c")]),
    )
    .expect("c3");
    assert_eq!(groups(&base_files(&p2)).len(), 2);
}

#[test]
fn default_payload_keeps_the_stored_record_when_it_is_newer() {
    let Some((_, mut oracle, rt)) = crate::support::oracle::setup("default_payload") else {
        return;
    };
    for (payload, want) in [
        (
            "org.apache.hudi.common.model.DefaultHoodieRecordPayload",
            vec!["new", "stored"],
        ),
        (
            "org.apache.hudi.common.model.OverwriteWithLatestAvroPayload",
            vec!["new", "new"],
        ),
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t");
        let t = rt.block_on(table(
            &path,
            &[("hoodie.compaction.payload.class", payload)],
        ));
        rt.block_on(
            t.write(WriteOperation::BulkInsert)
                .execute_batches(vec![rows(0..1, 5, "stored"), rows(1..2, 5, "stored")]),
        )
        .expect("c1");
        let t = rt.block_on(t.reload()).expect("reload");
        // id 0 arrives with a greater ordering value, id 1 with a smaller one.
        rt.block_on(
            t.write(WriteOperation::Upsert)
                .execute_batches(vec![rows(0..1, 9, "new"), rows(1..2, 1, "new")]),
        )
        .expect("c2");
        let got: Vec<String> = oracle
            .rows(&path, "snapshot", json!({}))
            .iter()
            .map(|r| r["note"].as_str().unwrap_or_default().to_string())
            .collect();
        let mut got_sorted = got.clone();
        got_sorted.sort();
        let mut want_sorted: Vec<String> = want.iter().map(|s| s.to_string()).collect();
        want_sorted.sort();
        assert_eq!(got_sorted, want_sorted, "{payload}");
    }
}

#[test]
fn an_incompatible_schema_fails_before_anything_is_written() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("t");
    let t = rt.block_on(table(&path, &[]));
    rt.block_on(
        t.write(WriteOperation::Insert)
            .execute_batches(vec![rows(0..3, 1, "a")]),
    )
    .expect("c1");
    let files_before = support::all_files(&path);
    let t = rt.block_on(t.reload()).expect("reload");
    // `note` becomes an int: not a promotion Hudi allows.
    let bad = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int32, true),
            Field::new("ts", DataType::Int64, true),
            Field::new("note", DataType::Int32, true),
        ])),
        vec![
            Arc::new(Int32Array::from(vec![1])) as ArrayRef,
            Arc::new(Int64Array::from(vec![2])),
            Arc::new(Int32Array::from(vec![7])),
        ],
    )
    .expect("batch");
    let err = rt
        .block_on(t.write(WriteOperation::Upsert).execute_batches(vec![bad]))
        .expect_err("must fail");
    assert!(err.to_string().contains("'note'"), "{err}");
    assert_eq!(
        support::all_files(&path),
        files_before,
        "nothing was written"
    );
    // A promotion (int -> long) and a new column are accepted.
    let t = rt.block_on(t.reload()).expect("reload");
    let ok = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, true),
            Field::new("ts", DataType::Int64, true),
            Field::new("extra", DataType::Utf8, true),
        ])),
        vec![
            Arc::new(Int64Array::from(vec![1])) as ArrayRef,
            Arc::new(Int64Array::from(vec![3])),
            Arc::new(StringArray::from(vec!["x"])),
        ],
    )
    .expect("batch");
    rt.block_on(t.write(WriteOperation::Upsert).execute_batches(vec![ok]))
        .expect("evolving write");
    let t = rt.block_on(t.reload()).expect("reload");
    let (schema, _) = rt.block_on(t.schema()).expect("schema");
    assert_eq!(
        schema.field_with_name("id").expect("id").data_type(),
        &DataType::Int64
    );
    assert!(schema.field_with_name("extra").is_ok());
}

#[test]
fn tables_with_a_metadata_table_are_not_written() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("t");
    let t = rt.block_on(table(
        &path,
        &[("hoodie.table.metadata.partitions", "files")],
    ));
    let err = rt
        .block_on(
            t.write(WriteOperation::Insert)
                .execute_batches(vec![rows(0..1, 1, "a")]),
        )
        .expect_err("must refuse");
    assert!(err.to_string().contains("metadata table"), "{err}");
    assert!(!path.join(".hoodie_partition_metadata").exists());
}

fn region_rows(ids: &[i32], regions: &[&str]) -> RecordBatch {
    RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int32, true),
            Field::new("region", DataType::Utf8, true),
            Field::new("event_ms", DataType::Int64, true),
        ])),
        vec![
            Arc::new(Int32Array::from(ids.to_vec())) as ArrayRef,
            Arc::new(StringArray::from(regions.to_vec())),
            Arc::new(Int64Array::from(vec![1_700_000_000_000i64; ids.len()])),
        ],
    )
    .expect("batch")
}

#[test]
fn partition_values_are_escaped_on_disk_and_kept_out_of_hidden_folders() {
    let Some((_, mut oracle, rt)) =
        crate::support::oracle::setup("partition_values_are_escaped_on_disk")
    else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("my-table");
    // A table name that is no valid Avro name, hive-style url-encoded partitions.
    let t = rt
        .block_on(
            TableBuilder::new(path.to_string_lossy())
                .with_record_key_fields(vec!["id".into()])
                .with_partition_fields(vec!["region".into()])
                .with_hive_style_partitioning(true)
                .with_urlencode_partitions(true)
                .create(),
        )
        .expect("create");
    rt.block_on(
        t.write(WriteOperation::Insert)
            .execute_batches(vec![region_rows(&[1, 2], &["a:b/c", "x y%"])]),
    )
    .expect("c1");
    assert!(
        path.join("region=a%3Ab%2Fc").is_dir(),
        "{:?}",
        std::fs::read_dir(&path)
            .expect("ls")
            .flatten()
            .map(|e| e.file_name())
            .collect::<Vec<_>>()
    );
    assert!(path.join("region=x y%25").is_dir());
    let t = rt.block_on(t.reload()).expect("reload");
    // A second write parses the schema the first recorded (sanitized names).
    rt.block_on(
        t.write(WriteOperation::Upsert)
            .execute_batches(vec![region_rows(&[1], &["a:b/c"])]),
    )
    .expect("c2");
    let mut parts: Vec<String> = oracle
        .rows(&path, "snapshot", json!({}))
        .iter()
        .map(|r| crate::support::oracle::key_and_partition(r).1)
        .collect();
    parts.sort();
    assert_eq!(parts, vec!["region=a%3Ab%2Fc", "region=x y%25"]);

    // Without url-encoding, values that would land in hidden folders are refused.
    let dir2 = tempfile::tempdir().expect("tempdir");
    let p2 = dir2.path().join("t");
    let t2 = rt
        .block_on(
            TableBuilder::new(p2.to_string_lossy())
                .with_record_key_fields(vec!["id".into()])
                .with_partition_fields(vec!["region".into()])
                .create(),
        )
        .expect("create");
    for evil in [".hoodie", "../escape", "ok/../../x"] {
        let err = rt
            .block_on(
                t2.write(WriteOperation::Insert)
                    .execute_batches(vec![region_rows(&[9], &[evil])]),
            )
            .expect_err("refused");
        assert!(err.to_string().contains("partition path"), "{evil}: {err}");
    }
    assert!(!p2.join(".hoodie/metadata").exists() && !dir2.path().join("escape").exists());
    assert!(support::all_files(&p2)
        .iter()
        .all(|f| !f.to_string_lossy().ends_with(".parquet")));
}

#[test]
fn custom_key_generator_stores_field_names_and_writes_typed_partitions() {
    let Some((_, mut oracle, rt)) = crate::support::oracle::setup("custom_key_generator") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("t");
    let t = rt
        .block_on(
            TableBuilder::new(path.to_string_lossy())
                .with_record_key_fields(vec!["id".into()])
                .with_partition_fields(vec!["region:SIMPLE".into(), "event_ms:TIMESTAMP".into()])
                .with_key_generator(hudi_core::keygen::KeyGenKind::Custom)
                .with_option(
                    "hoodie.keygen.timebased.timestamp.type",
                    "EPOCHMILLISECONDS",
                )
                .with_option("hoodie.keygen.timebased.output.dateformat", "yyyyMMdd")
                .create(),
        )
        .expect("create");
    assert_eq!(t.config().partition_fields, vec!["region", "event_ms"]);
    let props = std::fs::read_to_string(path.join(".hoodie/hoodie.properties")).expect("props");
    assert!(
        props.contains("hoodie.table.partition.fields=region,event_ms\n"),
        "{props}"
    );
    rt.block_on(
        t.write(WriteOperation::Insert)
            .execute_batches(vec![region_rows(&[1], &["eu"])]),
    )
    .expect("write");
    let rows = oracle.rows(&path, "snapshot", json!({}));
    assert_eq!(
        crate::support::oracle::key_and_partition(&rows[0]).1,
        "eu/20231114"
    );
}

#[test]
fn file_groups_under_pending_clustering_are_left_alone() {
    let Some((_, mut oracle, rt)) =
        crate::support::oracle::setup("file_groups_under_pending_clustering")
    else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("t");
    let t = rt.block_on(table(&path, &[]));
    rt.block_on(
        t.write(WriteOperation::Insert)
            .execute_batches(vec![rows(0..3, 1, "a")]),
    )
    .expect("c1");
    let t = rt.block_on(t.reload()).expect("reload");
    let view = rt.block_on(t.file_system_view(None)).expect("view");
    let fg = view.latest_slices()[0].file_id.clone();
    // Hudi scheduled a clustering of that file group (v6: replacecommit.requested with a plan).
    let c = hudi_core::timeline::transition::next_instant(
        t.timeline(),
        &hudi_core::timeline::transition::SystemClock,
    );
    let out = path.join(format!(".hoodie/{c}.replacecommit.requested"));
    let script = format!(
        r#"import fastavro, json
slice = {{"type":"record","name":"HoodieSliceInfo","fields":[{{"name":"fileId","type":["null","string"]}},{{"name":"partitionPath","type":["null","string"],"default":None}}]}}
schema = {{"type":"record","name":"HoodieRequestedReplaceMetadata","namespace":"org.apache.hudi.avro.model","fields":[
 {{"name":"operationType","type":["null","string"]}},
 {{"name":"clusteringPlan","type":["null",{{"type":"record","name":"HoodieClusteringPlan","fields":[
   {{"name":"inputGroups","type":["null",{{"type":"array","items":{{"type":"record","name":"HoodieClusteringGroup","fields":[
     {{"name":"slices","type":["null",{{"type":"array","items":slice}}]}}]}}}}]}}]}}]}}]}}
rec = {{"operationType":"CLUSTER","clusteringPlan":{{"inputGroups":[{{"slices":[{{"fileId":"{fg}","partitionPath":""}}]}}]}}}}
with open("{out}","wb") as f:
    fastavro.writer(f, fastavro.parse_schema(schema), [rec])
"#,
        out = out.to_string_lossy()
    );
    let (rc, _, err) = oracle.python(&script);
    assert_eq!(rc, 0, "{err}");
    let t = rt.block_on(t.reload()).expect("reload");
    let err = rt
        .block_on(
            t.write(WriteOperation::Upsert)
                .execute_batches(vec![rows(1..2, 5, "u")]),
        )
        .expect_err("updates to a file group being clustered are refused");
    assert!(err.to_string().contains("pending clustering"), "{err}");
    // Inserts avoid the (small) file group and the clustering is not rolled back.
    let t = rt.block_on(t.reload()).expect("reload");
    rt.block_on(
        t.write(WriteOperation::Insert)
            .execute_batches(vec![rows(9..10, 1, "n")]),
    )
    .expect("insert");
    assert_eq!(groups(&base_files(&path)).len(), 2);
    assert!(out.exists(), "the pending clustering stays");
}
