//! Merge-on-read: a crashed delta commit is invisible and rolled back; logs written while a
//! compaction is pending join the compaction's slice; upserts and deletes into copies of
//! Spark-written v6 merge-on-read tables read back through hudi-rs.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{
    ArrayRef, AsArray, Float64Array, Int32Array, Int64Array, RecordBatch, StringArray,
};
use arrow::compute::filter_record_batch;
use arrow::datatypes::{DataType, Field, Schema};
use hudi_core::config::table::TableType;
use hudi_core::keygen::KeyGenKind;
use hudi_core::{Table, TableBuilder, WriteOperation};
use serde_json::{json, Value};

use crate::support;
use crate::support::oracle::{key_and_partition, Oracle};

fn rows(ids: &[i32], ts: i64, v: f64) -> RecordBatch {
    let n = ids.len();
    RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int32, true),
            Field::new("region", DataType::Utf8, true),
            Field::new("ts", DataType::Int64, true),
            Field::new("v", DataType::Float64, true),
        ])),
        vec![
            Arc::new(Int32Array::from(ids.to_vec())) as ArrayRef,
            Arc::new(StringArray::from(vec!["a"; n])),
            Arc::new(Int64Array::from(vec![ts; n])),
            Arc::new(Float64Array::from(vec![v; n])),
        ],
    )
    .expect("batch")
}

async fn mor_table(path: &Path) -> Table {
    TableBuilder::new(path.to_string_lossy())
        .with_name("m")
        .with_table_type(TableType::MergeOnRead)
        .with_record_key_fields(vec!["id".into()])
        .with_partition_fields(vec!["region".into()])
        .with_precombine_field("ts")
        .with_key_generator(KeyGenKind::Simple)
        .create()
        .await
        .expect("create")
}

fn files(path: &Path) -> BTreeSet<PathBuf> {
    support::all_files(path)
        .into_iter()
        .filter(|p| !p.to_string_lossy().contains("/.hoodie/"))
        .collect()
}

/// id → v of what a reader returns.
fn values(batches: &[RecordBatch]) -> Vec<(i32, f64)> {
    let mut out = Vec::new();
    for b in batches {
        let ids = b
            .column_by_name("id")
            .expect("id")
            .as_primitive::<arrow::datatypes::Int32Type>()
            .clone();
        let vs = b
            .column_by_name("v")
            .expect("v")
            .as_primitive::<arrow::datatypes::Float64Type>()
            .clone();
        for i in 0..b.num_rows() {
            out.push((ids.value(i), vs.value(i)));
        }
    }
    out.sort_by_key(|a| a.0);
    out
}

#[test]
fn a_crashed_delta_commit_is_invisible_and_rolled_back() {
    let Some((_, mut oracle, rt)) =
        crate::support::oracle::setup("a_crashed_delta_commit_is_invisible_and_rolled_back")
    else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("t");
    let t = rt.block_on(mor_table(&path));
    rt.block_on(
        t.write(WriteOperation::Insert)
            .execute_batches(vec![rows(&[1, 2], 1, 1.0)]),
    )
    .expect("c1");
    let t = rt.block_on(t.reload()).expect("reload");
    let before = files(&path);
    let c2 = rt
        .block_on(
            t.write(WriteOperation::Upsert)
                .execute_batches(vec![rows(&[2], 5, 2.0)]),
        )
        .expect("c2");
    let new: Vec<PathBuf> = files(&path).difference(&before).cloned().collect();
    let log = new
        .iter()
        .find(|p| p.to_string_lossy().contains(".log."))
        .expect("c2 wrote a log file")
        .clone();
    // Crash before the completed instant: the marker is still there, the commit is not.
    support::crash_with_append_marker(&path, c2.instant.as_str(), "deltacommit", &log);

    let crashed = rt
        .block_on(Table::open(&path.to_string_lossy()))
        .expect("open");
    let (_, b) = rt.block_on(crashed.read().collect()).expect("read");
    assert_eq!(
        values(&b),
        vec![(1, 1.0), (2, 1.0)],
        "our reader ignores the uncommitted log block"
    );
    let hudi_rs: Vec<f64> = oracle
        .rows(&path, "snapshot", json!({}))
        .iter()
        .map(|r| r["v"].as_f64().unwrap_or(-1.0))
        .collect();
    assert_eq!(hudi_rs, vec![1.0, 1.0], "so does hudi-rs");

    let c3 = rt
        .block_on(
            crashed
                .write(WriteOperation::Upsert)
                .execute_batches(vec![rows(&[1], 7, 3.0)]),
        )
        .expect("c3");
    assert_eq!(c3.rolled_back, vec![c2.instant.clone()]);
    if log.exists() {
        let hoodie: Vec<String> = std::fs::read_dir(path.join(".hoodie"))
            .expect("ls")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        let temp: Vec<PathBuf> = support::all_files(&path.join(".hoodie/.temp"));
        panic!(
            "the failed log file {} is still there; .hoodie: {hoodie:?}; .temp: {temp:?}",
            log.display()
        );
    }
    let mut hudi_rs: Vec<(String, f64)> = oracle
        .rows(&path, "snapshot", json!({}))
        .iter()
        .map(|r| (key_and_partition(r).0, r["v"].as_f64().unwrap_or(-1.0)))
        .collect();
    hudi_rs.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        hudi_rs,
        vec![("1".to_string(), 3.0), ("2".to_string(), 1.0)]
    );
}

#[test]
fn logs_written_during_a_pending_compaction_join_its_slice() {
    let Some((_, mut oracle, rt)) =
        crate::support::oracle::setup("logs_written_during_a_pending_compaction_join_its_slice")
    else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("t");
    let t = rt.block_on(mor_table(&path));
    let c1 = rt
        .block_on(
            t.write(WriteOperation::Insert)
                .execute_batches(vec![rows(&[1, 2], 1, 1.0)]),
        )
        .expect("c1");
    let t = rt.block_on(t.reload()).expect("reload");
    rt.block_on(
        t.write(WriteOperation::Upsert)
            .execute_batches(vec![rows(&[1], 5, 2.0)]),
    )
    .expect("c2");
    let t = rt.block_on(t.reload()).expect("reload");
    let view = rt.block_on(t.file_system_view(None)).expect("view");
    let slice = view
        .latest_slices()
        .into_iter()
        .find(|s| !s.log_files.is_empty())
        .expect("slice with a log")
        .clone();
    let base = slice.base_file.clone().expect("base file");

    // A compaction planned (as Hudi would) over that file group, still pending.
    let c = hudi_core::timeline::transition::next_instant(
        t.timeline(),
        &hudi_core::timeline::transition::SystemClock,
    );
    let plan_path = path.join(format!(".hoodie/{c}.compaction.requested"));
    let script = format!(
        r#"import fastavro, json
schema = json.loads(r"""{{"type":"record","name":"HoodieCompactionPlan","namespace":"org.apache.hudi.avro.model","fields":[
 {{"name":"operations","type":["null",{{"type":"array","items":{{"type":"record","name":"HoodieCompactionOperation","fields":[
   {{"name":"baseInstantTime","type":["null","string"]}},{{"name":"deltaFilePaths","type":["null",{{"type":"array","items":"string"}}],"default":null}},
   {{"name":"dataFilePath","type":["null","string"],"default":null}},{{"name":"fileId","type":["null","string"]}},
   {{"name":"partitionPath","type":["null","string"],"default":null}},{{"name":"metrics","type":["null",{{"type":"map","values":"double"}}],"default":null}},
   {{"name":"bootstrapFilePath","type":["null","string"],"default":null}}]}}}}],"default":null}},
 {{"name":"extraMetadata","type":["null",{{"type":"map","values":"string"}}],"default":null}},
 {{"name":"version","type":["int","null"],"default":1}}]}}""")
rec = {{"operations":[{{"baseInstantTime":"{c1}","deltaFilePaths":["{log}"],"dataFilePath":"{base}","fileId":"{fid}","partitionPath":"a","metrics":{{}},"bootstrapFilePath":None}}],"extraMetadata":None,"version":2}}
with open("{out}","wb") as f:
    fastavro.writer(f, fastavro.parse_schema(schema), [rec])
"#,
        c1 = c1.instant,
        log = slice.log_files[0].name,
        base = base.name,
        fid = slice.file_id,
        out = plan_path.to_string_lossy()
    );
    let (rc, _, err) = oracle.python(&script);
    assert_eq!(rc, 0, "{err}");

    let t = rt.block_on(t.reload()).expect("reload");
    let before = files(&path);
    rt.block_on(
        t.write(WriteOperation::Upsert)
            .execute_batches(vec![rows(&[1], 9, 3.0)]),
    )
    .expect("c3");
    let new: Vec<PathBuf> = files(&path).difference(&before).cloned().collect();
    assert_eq!(new.len(), 1, "{new:?}");
    let name = new[0]
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    assert!(
        name.starts_with(&format!(".{}_{c}.log.1_", slice.file_id)),
        "a new slice at the compaction instant: {name}"
    );
    // Readers merge the previous slice with the logs of both.
    let t = rt.block_on(t.reload()).expect("reload");
    let (_, b) = rt.block_on(t.read().collect()).expect("read");
    assert_eq!(values(&b), vec![(1, 3.0), (2, 1.0)]);
    let (_, b) = rt
        .block_on(t.read().with_read_optimized().collect())
        .expect("ro");
    assert_eq!(values(&b), vec![(1, 1.0), (2, 1.0)]);
}

#[test]
fn upserts_and_deletes_into_spark_written_v6_mor_tables() {
    let Some((shared, mut oracle, rt)) =
        crate::support::oracle::setup("upserts_and_deletes_into_spark_written_v6_mor_tables")
    else {
        return;
    };
    for name in [
        "quickstart_trips_table/mor/avro/v6_trips_8i1u",
        "sample_table/mor/parquet/v6_simplekeygen_nonhivestyle",
    ] {
        let fx = support::fixtures(&shared)
            .into_iter()
            .find(|f| f.name == name)
            .expect("fixture");
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t");
        support::copy_tree(&fx.table, &path);
        let before = oracle.rows(&path, "snapshot", json!({}));
        let table = rt
            .block_on(Table::open(&path.to_string_lossy()))
            .expect("open");
        let (_, batches) = rt.block_on(table.read().collect()).expect("read");
        // Update the first record (a full row as our reader returns it) with a greater ordering
        // value, delete the last one by key.
        let keys: Vec<String> = before.iter().map(|r| key_and_partition(r).0).collect();
        let (upd, del) = (keys[0].clone(), keys[keys.len() - 1].clone());
        let pick = |k: &str| -> RecordBatch {
            let found: Vec<RecordBatch> = batches
                .iter()
                .map(|b| {
                    let col = b
                        .column_by_name("_hoodie_record_key")
                        .expect("key")
                        .as_string::<i32>();
                    let mask = arrow::array::BooleanArray::from(
                        col.iter().map(|x| Some(x == Some(k))).collect::<Vec<_>>(),
                    );
                    filter_record_batch(b, &mask).expect("filter")
                })
                .filter(|b| b.num_rows() == 1)
                .collect();
            found[0].clone()
        };
        let precombine = table.config().precombine_field.clone().expect("precombine");
        let row = pick(&upd);
        let schema = row.schema();
        let mut cols = row.columns().to_vec();
        let pi = schema.index_of(&precombine).expect("precombine column");
        let new_ts: ArrayRef = match schema.field(pi).data_type() {
            DataType::Int64 => Arc::new(Int64Array::from(vec![i64::MAX / 2])),
            DataType::Int32 => Arc::new(Int32Array::from(vec![i32::MAX / 2])),
            other => panic!("precombine type {other}"),
        };
        cols[pi] = new_ts.clone();
        let updated = RecordBatch::try_new(schema, cols).expect("row");
        let m = rt
            .block_on(
                table
                    .write(WriteOperation::Upsert)
                    .execute_batches(vec![updated]),
            )
            .expect("upsert");
        assert_eq!(m.records_updated, 1, "{name}");
        let table = rt.block_on(table.reload()).expect("reload");
        let d = rt
            .block_on(
                table
                    .write(WriteOperation::Delete)
                    .execute_batches(vec![pick(&del)]),
            )
            .expect("delete");
        assert_eq!(d.records_deleted, 1, "{name}");

        let after = oracle.rows(&path, "snapshot", json!({}));
        let expect: Vec<Value> = before
            .iter()
            .filter(|r| key_and_partition(r).0 != del)
            .map(|r| {
                let mut r = r.clone();
                if key_and_partition(&r).0 == upd {
                    r[precombine.as_str()] = serde_json::to_value(match new_ts.data_type() {
                        DataType::Int64 => json!(i64::MAX / 2),
                        _ => json!(i32::MAX / 2),
                    })
                    .expect("json");
                    r["_hoodie_commit_time"] = json!(m.instant.to_string());
                }
                r
            })
            .collect();
        let sort = |mut v: Vec<Value>| {
            v.sort_by_key(|x| key_and_partition(x).0);
            v
        };
        assert_eq!(sort(after), sort(expect), "{name}");
        // Spark's own commits still read as before.
        let first = table
            .timeline()
            .completed_writes()
            .next()
            .expect("commit")
            .requested()
            .to_string();
        assert_eq!(
            oracle.rows(&path, "as_of", json!({"as_of": first})),
            oracle.rows(&fx.table, "as_of", json!({"as_of": first})),
            "{name}"
        );
    }
}

/// (key, v) of the rows hudi-rs reads, sorted.
fn hudi_rs_values(oracle: &mut Oracle, path: &Path, mode: &str) -> Vec<(String, f64)> {
    let mut v: Vec<(String, f64)> = oracle
        .rows(path, mode, json!({}))
        .iter()
        .map(|r| (key_and_partition(r).0, r["v"].as_f64().unwrap_or(-1.0)))
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

#[test]
fn parquet_log_blocks_block_limits_and_log_rollover() {
    let Some(shared) = support::shared_dir("parquet_log_blocks_block_limits_and_log_rollover")
    else {
        return;
    };
    let python = support::oracle_python(&shared);
    let mut oracle = Oracle::start(&python, &shared);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    for (opts, want_files, kind) in [
        (
            vec![("hoodie.logfile.data.block.format", "parquet")],
            1usize,
            "PARQUET_DATA_BLOCK",
        ),
        // Tiny limits: one block per record, one log file per block.
        (
            vec![
                ("hoodie.logfile.data.block.max.size", "1"),
                ("hoodie.logfile.max.size", "1"),
            ],
            3,
            "AVRO_DATA_BLOCK",
        ),
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t");
        let mut b = TableBuilder::new(path.to_string_lossy())
            .with_name("m")
            .with_table_type(TableType::MergeOnRead)
            .with_record_key_fields(vec!["id".into()])
            .with_partition_fields(vec!["region".into()])
            .with_precombine_field("ts");
        for (k, v) in &opts {
            b = b.with_option(*k, *v);
        }
        let t = rt.block_on(b.create()).expect("create");
        rt.block_on(t.write(WriteOperation::Insert).execute_batches(vec![rows(
            &[1, 2, 3],
            1,
            1.0,
        )]))
        .expect("c1");
        let t = rt.block_on(t.reload()).expect("reload");
        let before = files(&path);
        rt.block_on(t.write(WriteOperation::Upsert).execute_batches(vec![rows(
            &[1, 2, 3],
            5,
            2.0,
        )]))
        .expect("c2");
        let logs: Vec<PathBuf> = files(&path).difference(&before).cloned().collect();
        assert_eq!(logs.len(), want_files, "{opts:?}: {logs:?}");
        assert_eq!(
            hudi_rs_values(&mut oracle, &path, "snapshot"),
            vec![("1".into(), 2.0), ("2".into(), 2.0), ("3".into(), 2.0)],
            "{opts:?}"
        );
        assert_eq!(
            hudi_rs_values(&mut oracle, &path, "read_optimized"),
            vec![("1".into(), 1.0), ("2".into(), 1.0), ("3".into(), 1.0)]
        );
        let logs: Vec<&Path> = logs.iter().map(PathBuf::as_path).collect();
        let (rc, out, err) = oracle.checker("walk_log.py", &logs);
        // pyarrow may abort at interpreter exit after a parquet block; the walk is complete.
        assert!(
            rc == 0 || err.trim() == "terminate called without an active exception",
            "{err}"
        );
        let blocks = if kind == "PARQUET_DATA_BLOCK" { 1 } else { 3 };
        assert_eq!(out.matches(kind).count(), blocks, "{out}");
    }
}

#[test]
fn copy_on_write_tables_with_a_bucket_index() {
    let Some((_, mut oracle, rt)) =
        crate::support::oracle::setup("copy_on_write_tables_with_a_bucket_index")
    else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("t");
    let t = rt
        .block_on(
            TableBuilder::new(path.to_string_lossy())
                .with_record_key_fields(vec!["id".into()])
                .with_partition_fields(vec!["region".into()])
                .with_precombine_field("ts")
                .with_index(hudi_core::write::config::IndexType::Bucket)
                .with_option("hoodie.bucket.index.num.buckets", "2")
                .create(),
        )
        .expect("create");
    rt.block_on(t.write(WriteOperation::Insert).execute_batches(vec![rows(
        &[1, 2, 3, 4, 5],
        1,
        1.0,
    )]))
    .expect("c1");
    let t = rt.block_on(t.reload()).expect("reload");
    rt.block_on(
        t.write(WriteOperation::Upsert)
            .execute_batches(vec![rows(&[2, 6], 5, 2.0)]),
    )
    .expect("c2");
    let t = rt.block_on(t.reload()).expect("reload");
    rt.block_on(
        t.write(WriteOperation::Delete)
            .execute_batches(vec![rows(&[5], 0, 0.0)]),
    )
    .expect("c3");
    let want: Vec<(String, f64)> = vec![
        ("1".into(), 1.0),
        ("2".into(), 2.0),
        ("3".into(), 1.0),
        ("4".into(), 1.0),
        ("6".into(), 2.0),
    ];
    assert_eq!(hudi_rs_values(&mut oracle, &path, "snapshot"), want);
    // Every file group is a bucket: 2 buckets, so at most 2 file groups, ids `0000000N-`.
    let t = rt.block_on(t.reload()).expect("reload");
    let view = rt.block_on(t.file_system_view(None)).expect("view");
    let ids: BTreeSet<String> = view
        .latest_slices()
        .iter()
        .map(|s| s.file_id.clone())
        .collect();
    assert!(
        ids.len() <= 2
            && ids
                .iter()
                .all(|i| i.starts_with("00000000-") || i.starts_with("00000001-")),
        "{ids:?}"
    );
    for s in view.latest_slices() {
        let bucket: u32 = s.file_id[..8].parse().expect("bucket");
        let (_, b) = rt.block_on(t.read().collect()).expect("read");
        for batch in &b {
            let keys = batch
                .column_by_name("_hoodie_record_key")
                .expect("k")
                .as_string::<i32>();
            let names = batch
                .column_by_name("_hoodie_file_name")
                .expect("f")
                .as_string::<i32>();
            for i in 0..batch.num_rows() {
                if names.value(i).starts_with(&s.file_id) {
                    let k = keys.value(i).to_string();
                    assert_eq!(
                        hudi_core::index::bucket::bucket_id(&k, &["id".to_string()], 2),
                        bucket,
                        "key {k}"
                    );
                }
            }
        }
    }
}

#[test]
fn a_failed_append_to_a_shared_log_file_gets_a_rollback_block() {
    let Some((_, mut oracle, rt)) =
        crate::support::oracle::setup("a_failed_append_to_a_shared_log_file")
    else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("t");
    let t = rt
        .block_on(
            TableBuilder::new(path.to_string_lossy())
                .with_table_type(TableType::MergeOnRead)
                .with_record_key_fields(vec!["id".into()])
                .with_partition_fields(vec!["region".into()])
                .with_precombine_field("ts")
                .with_index(hudi_core::write::config::IndexType::Bucket)
                .with_option("hoodie.bucket.index.num.buckets", "1")
                .create(),
        )
        .expect("create");
    rt.block_on(
        t.write(WriteOperation::Insert)
            .execute_batches(vec![rows(&[1, 2], 1, 1.0)]),
    )
    .expect("c1");
    let first_log = files(&path)
        .into_iter()
        .find(|p| p.to_string_lossy().contains(".log."))
        .expect("c1 log");
    let t = rt.block_on(t.reload()).expect("reload");
    let before = files(&path);
    let c2 = rt
        .block_on(
            t.write(WriteOperation::Upsert)
                .execute_batches(vec![rows(&[2], 5, 9.0)]),
        )
        .expect("c2");
    let c2_log = files(&path)
        .difference(&before)
        .next()
        .cloned()
        .expect("c2 log");
    // Make it look like c2 appended to the first log file (as an HDFS writer does) and crashed.
    let mut shared_bytes = std::fs::read(&first_log).expect("read");
    shared_bytes.extend(std::fs::read(&c2_log).expect("read"));
    std::fs::write(&first_log, &shared_bytes).expect("append");
    std::fs::remove_file(&c2_log).expect("rm");
    support::crash_with_append_marker(&path, c2.instant.as_str(), "deltacommit", &first_log);

    let t = rt
        .block_on(Table::open(&path.to_string_lossy()))
        .expect("open");
    let c3 = rt
        .block_on(
            t.write(WriteOperation::Upsert)
                .execute_batches(vec![rows(&[1], 7, 3.0)]),
        )
        .expect("c3");
    assert_eq!(c3.rolled_back, vec![c2.instant.clone()]);
    assert!(
        first_log.exists(),
        "a log file that holds committed blocks is kept"
    );
    let rollback_logs: Vec<PathBuf> = files(&path)
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with("_1-0-1"))
        .collect();
    assert_eq!(rollback_logs.len(), 1, "one rollback command block file");
    let bytes = bytes::Bytes::from(std::fs::read(&rollback_logs[0]).expect("read"));
    let walk = hudi_core::io::log_block::walk(&bytes);
    assert!(walk.blocks.len() == 1 && walk.blocks[0].is_rollback_command());
    assert_eq!(
        walk.blocks[0].target_instant_time(),
        Some(c2.instant.as_str())
    );
    assert_eq!(
        hudi_rs_values(&mut oracle, &path, "snapshot"),
        vec![("1".into(), 3.0), ("2".into(), 1.0)]
    );
    let t = rt.block_on(t.reload()).expect("reload");
    let (_, b) = rt.block_on(t.read().collect()).expect("read");
    assert_eq!(values(&b), vec![(1, 3.0), (2, 1.0)]);
}
