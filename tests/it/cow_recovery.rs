//! Failed writes, Spark-written tables, and indexes: a crash between the data files and the
//! completed instant changes nothing readers see and is rolled back by the next write; our
//! upserts and deletes into a copy of a Spark-written v6 table read back through hudi-rs; the
//! four index types route updates (and partition moves) as Hudi does.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, Int32Array, Int64Array, RecordBatch, StringArray};
use arrow::compute::filter_record_batch;
use arrow::datatypes::{DataType, Field, Schema};
use hudi_core::keygen::KeyGenKind;
use hudi_core::write::config::IndexType;
use hudi_core::{Table, TableBuilder, WriteOperation};
use serde_json::{json, Value};

use crate::support;

fn simple_batch(ids: &[i32], region: &str, ts: i64) -> RecordBatch {
    let n = ids.len();
    RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int32, true),
            Field::new("region", DataType::Utf8, true),
            Field::new("ts", DataType::Int64, true),
        ])),
        vec![
            Arc::new(Int32Array::from(ids.to_vec())) as ArrayRef,
            Arc::new(StringArray::from(vec![region; n])),
            Arc::new(Int64Array::from(vec![ts; n])),
        ],
    )
    .expect("batch")
}

async fn simple_table(path: &Path, index: IndexType, extra: &[(&str, &str)]) -> Table {
    let mut b = TableBuilder::new(path.to_string_lossy())
        .with_name("t")
        .with_record_key_fields(vec!["id".into()])
        .with_partition_fields(vec!["region".into()])
        .with_precombine_field("ts")
        .with_key_generator(KeyGenKind::Simple)
        .with_index(index);
    for (k, v) in extra {
        b = b.with_option(*k, *v);
    }
    b.create().await.expect("create")
}

/// (record key, partition path, ts) of each row hudi-rs reads.
fn summary(rows: &[Value]) -> Vec<(String, String, i64)> {
    let mut v: Vec<_> = rows
        .iter()
        .map(|r| {
            let (k, p) = crate::support::oracle::key_and_partition(r);
            (k, p, r["ts"].as_i64().unwrap_or(-1))
        })
        .collect();
    v.sort();
    v
}

fn s(k: &str, p: &str, ts: i64) -> (String, String, i64) {
    (k.to_string(), p.to_string(), ts)
}

#[test]
fn a_crashed_write_is_invisible_then_rolled_back_by_the_next_write() {
    let Some((_, mut oracle, rt)) = crate::support::oracle::setup(
        "a_crashed_write_is_invisible_then_rolled_back_by_the_next_write",
    ) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("t");
    let table = rt.block_on(simple_table(&path, IndexType::Bloom, &[]));
    rt.block_on(
        table
            .write(WriteOperation::BulkInsert)
            .execute_batches(vec![simple_batch(&[1, 2], "a", 1)]),
    )
    .expect("c1");
    let table = rt.block_on(table.reload()).expect("reload");
    let before = oracle.rows(&path, "snapshot", json!({}));

    // c2 writes its files, then "crashes" before its completed instant exists.
    let c2 = rt
        .block_on(
            table
                .write(WriteOperation::Upsert)
                .execute_batches(vec![simple_batch(&[2, 3], "a", 2)]),
        )
        .expect("c2");
    std::fs::remove_file(path.join(format!(".hoodie/{}.commit", c2.instant))).expect("crash");
    let c2_files: Vec<_> = support::all_files(&path)
        .into_iter()
        .filter(|p| {
            p.to_string_lossy()
                .contains(&format!("_{}.parquet", c2.instant))
        })
        .collect();
    assert!(!c2_files.is_empty());

    // Our reader shows the table as before the crash.
    let crashed = rt
        .block_on(Table::open(&path.to_string_lossy()))
        .expect("open");
    let (_, batches) = rt.block_on(crashed.read().collect()).expect("read");
    let keys: Vec<String> = batches
        .iter()
        .flat_map(|b| {
            b.column_by_name("_hoodie_record_key")
                .expect("key")
                .as_string::<i32>()
                .iter()
                .flatten()
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert!(batches.iter().all(|b| b
        .column_by_name("_hoodie_commit_time")
        .expect("ct")
        .as_string::<i32>()
        .iter()
        .all(|t| t != Some(c2.instant.as_str()))));

    // The next write rolls c2 back first.
    let c3 = rt
        .block_on(
            crashed
                .write(WriteOperation::Upsert)
                .execute_batches(vec![simple_batch(&[4], "a", 3)]),
        )
        .expect("c3");
    assert_eq!(c3.rolled_back, vec![c2.instant.clone()]);
    assert!(
        c2_files.iter().all(|p| !p.exists()),
        "c2's files are deleted"
    );
    let hoodie: Vec<String> = std::fs::read_dir(path.join(".hoodie"))
        .expect("ls")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        hoodie.iter().all(|n| !n.starts_with(c2.instant.as_str())),
        "{hoodie:?}"
    );
    let rollbacks: Vec<&String> = hoodie.iter().filter(|n| n.contains(".rollback")).collect();
    assert_eq!(
        rollbacks.len(),
        3,
        "requested, inflight, completed: {rollbacks:?}"
    );
    assert!(
        !path.join(format!(".hoodie/.temp/{}", c2.instant)).exists()
            || support::all_files(&path.join(format!(".hoodie/.temp/{}", c2.instant))).is_empty()
    );

    let after = oracle.rows(&path, "snapshot", json!({}));
    let mut expect = summary(&before);
    expect.push(s("4", "a", 3));
    expect.sort();
    assert_eq!(summary(&after), expect);

    // The rollback metadata is the Avro Hudi writes: fastavro decodes it with its own schema.
    let completed = hoodie
        .iter()
        .find(|n| n.ends_with(".rollback"))
        .expect("completed rollback");
    let script = format!(
        "import fastavro,json;r=list(fastavro.reader(open('{}','rb')));print(json.dumps(r[0]['commitsRollback']))",
        path.join(".hoodie").join(completed).to_string_lossy()
    );
    let (rc, out, err) = oracle.python(&script);
    assert_eq!(rc, 0, "{err}");
    assert_eq!(out.trim(), format!("[\"{}\"]", c2.instant));
}

#[test]
fn indexes_route_updates_and_partition_moves() {
    let Some((_, mut oracle, rt)) =
        crate::support::oracle::setup("indexes_route_updates_and_partition_moves")
    else {
        return;
    };
    type Case = (
        IndexType,
        &'static [(&'static str, &'static str)],
        Vec<(String, String, i64)>,
    );
    let cases: Vec<Case> = vec![
        // Per-partition indexes: the same key in another partition is another record.
        (
            IndexType::Bloom,
            &[],
            vec![s("1", "a", 1), s("1", "b", 2), s("2", "a", 2)],
        ),
        (
            IndexType::Simple,
            &[],
            vec![s("1", "a", 1), s("1", "b", 2), s("2", "a", 2)],
        ),
        // Global indexes move the record (update.partition.path defaults to true)...
        (
            IndexType::GlobalBloom,
            &[],
            vec![s("1", "b", 2), s("2", "a", 2)],
        ),
        (
            IndexType::GlobalSimple,
            &[],
            vec![s("1", "b", 2), s("2", "a", 2)],
        ),
        // ... or update it where it is.
        (
            IndexType::GlobalBloom,
            &[("hoodie.bloom.index.update.partition.path", "false")],
            vec![s("1", "a", 2), s("2", "a", 2)],
        ),
        // DefaultHoodieRecordPayload: an incoming record with a greater ordering value moves...
        (
            IndexType::GlobalSimple,
            &[(
                "hoodie.compaction.payload.class",
                "org.apache.hudi.common.model.DefaultHoodieRecordPayload",
            )],
            vec![s("1", "b", 2), s("2", "a", 2)],
        ),
    ];
    for (index, opts, want) in cases {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t");
        let table = rt.block_on(simple_table(&path, index, opts));
        rt.block_on(
            table
                .write(WriteOperation::Insert)
                .execute_batches(vec![simple_batch(&[1, 2], "a", 1)]),
        )
        .expect("c1");
        let table = rt.block_on(table.reload()).expect("reload");
        let batches = vec![simple_batch(&[1], "b", 2), simple_batch(&[2], "a", 2)];
        rt.block_on(table.write(WriteOperation::Upsert).execute_batches(batches))
            .expect("c2");
        let got = summary(&oracle.rows(&path, "snapshot", json!({})));
        assert_eq!(got, want, "{index:?} {opts:?}");
    }
    // ... and one with a smaller ordering value neither moves nor overwrites the stored record.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("t");
    let opts: &[(&str, &str)] = &[(
        "hoodie.compaction.payload.class",
        "org.apache.hudi.common.model.DefaultHoodieRecordPayload",
    )];
    let table = rt.block_on(simple_table(&path, IndexType::GlobalBloom, opts));
    rt.block_on(
        table
            .write(WriteOperation::Insert)
            .execute_batches(vec![simple_batch(&[1], "a", 5)]),
    )
    .expect("c1");
    let table = rt.block_on(table.reload()).expect("reload");
    rt.block_on(
        table
            .write(WriteOperation::Upsert)
            .execute_batches(vec![simple_batch(&[1], "b", 2)]),
    )
    .expect("c2");
    assert_eq!(
        summary(&oracle.rows(&path, "snapshot", json!({}))),
        vec![s("1", "a", 5)]
    );
}

#[test]
fn upserts_and_deletes_into_a_spark_written_v6_table_read_back_through_hudi_rs() {
    let Some((shared, mut oracle, rt)) =
        crate::support::oracle::setup("upserts_and_deletes_into_a_spark_written_v6_table")
    else {
        return;
    };
    let fx = support::fixtures(&shared)
        .into_iter()
        .find(|f| f.name.ends_with("cow/v6_complexkeygen_hivestyle"))
        .expect("fixture");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("t");
    support::copy_tree(&fx.table, &path);
    let before = oracle.rows(&path, "snapshot", json!({}));
    let table = rt
        .block_on(Table::open(&path.to_string_lossy()))
        .expect("open");
    // Take Alice's full row as our reader returns it, change intField and longField, upsert.
    let (_, batches) = rt.block_on(table.read().collect()).expect("read");
    let alice: Vec<RecordBatch> = batches
        .iter()
        .map(|b| {
            let keys = b
                .column_by_name("_hoodie_record_key")
                .expect("key")
                .as_string::<i32>();
            let mask = arrow::array::BooleanArray::from(
                keys.iter()
                    .map(|k| Some(k == Some("id:1,name:Alice")))
                    .collect::<Vec<_>>(),
            );
            filter_record_batch(b, &mask).expect("filter")
        })
        .filter(|b| b.num_rows() == 1)
        .collect();
    assert_eq!(alice.len(), 1);
    let mut cols = alice[0].columns().to_vec();
    let schema = alice[0].schema();
    cols[schema.index_of("intField").expect("intField")] =
        Arc::new(Int32Array::from(vec![424_242]));
    cols[schema.index_of("longField").expect("longField")] =
        Arc::new(Int64Array::from(vec![9_999_999_999i64]));
    let updated = RecordBatch::try_new(schema, cols).expect("updated row");
    let m = rt
        .block_on(
            table
                .write(WriteOperation::Upsert)
                .execute_batches(vec![updated]),
        )
        .expect("upsert");
    assert_eq!((m.records_updated, m.records_inserted), (1, 0));

    let after = oracle.rows(&path, "snapshot", json!({}));
    assert_eq!(after.len(), before.len());
    let by_key = |rows: &[Value]| -> std::collections::BTreeMap<String, Value> {
        rows.iter()
            .map(|r| {
                (
                    r["_hoodie_record_key"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                    r.clone(),
                )
            })
            .collect()
    };
    let (before_k, after_k) = (by_key(&before), by_key(&after));
    assert_eq!(
        before_k.keys().collect::<Vec<_>>(),
        after_k.keys().collect::<Vec<_>>()
    );
    for (b, a) in before_k.values().zip(after_k.values()) {
        if b["_hoodie_record_key"] == "id:1,name:Alice" {
            let mut expect = b.clone();
            expect["intField"] = json!(424_242);
            expect["longField"] = json!(9_999_999_999i64);
            expect["_hoodie_commit_time"] = json!(m.instant.to_string());
            assert_eq!(a, &expect, "the updated row keeps every other column");
        } else {
            assert_eq!(a, b, "untouched rows are unchanged");
        }
    }
    // Delete Bob by key.
    let table = rt.block_on(table.reload()).expect("reload");
    let bob = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int32, true),
            Field::new("name", DataType::Utf8, true),
            Field::new("byteField", DataType::Int32, true),
            Field::new("shortField", DataType::Int32, true),
        ])),
        vec![
            Arc::new(Int32Array::from(vec![2])) as ArrayRef,
            Arc::new(StringArray::from(vec!["Bob"])),
            Arc::new(Int32Array::from(vec![20])),
            Arc::new(Int32Array::from(vec![100])),
        ],
    )
    .expect("bob");
    let d = rt
        .block_on(
            table
                .write(WriteOperation::Delete)
                .execute_batches(vec![bob]),
        )
        .expect("delete");
    assert_eq!(d.records_deleted, 1);
    let last = oracle.rows(&path, "snapshot", json!({}));
    let expect: Vec<&Value> = after
        .iter()
        .filter(|r| r["_hoodie_record_key"] != "id:2,name:Bob")
        .collect();
    assert_eq!(last.iter().collect::<Vec<_>>(), expect);
    // The original commits still time-travel as Spark wrote them.
    let first = oracle.rows(&fx.table, "as_of", json!({"as_of": "20240418173235694"}));
    assert_eq!(
        oracle.rows(&path, "as_of", json!({"as_of": "20240418173235694"})),
        first
    );
}
