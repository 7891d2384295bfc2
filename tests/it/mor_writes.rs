//! Merge-on-read writes in the matrix {Bloom, bucket} × {partitioned, non-partitioned} over
//! several delta commits (insert, upsert, delete by key, `_hoodie_is_deleted`,
//! insert_overwrite): after each commit hudi-rs's snapshot and read-optimized reads, and at the
//! end as-of and incremental reads, equal an independent model that tracks what base files and
//! what log files hold. Every log file we write must walk cleanly with `walk_log.py`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, Float64Array, Int32Array, Int64Array, RecordBatch, StringArray,
};
use arrow::datatypes::{DataType, Field, Schema};
use hudi_core::config::table::TableType;
use hudi_core::keygen::KeyGenKind;
use hudi_core::write::config::IndexType;
use hudi_core::{Table, TableBuilder, WriteOperation};
use serde_json::{json, Value};

use crate::oracle::Oracle;
use crate::support;

#[derive(Debug, Clone, PartialEq)]
struct Row {
    id: i32,
    region: String,
    ts: i64,
    amount: f64,
    deleted: Option<bool>,
}

fn r(id: i32, region: &str, ts: i64, amount: f64) -> Row {
    Row {
        id,
        region: region.into(),
        ts,
        amount,
        deleted: None,
    }
}

fn batch(rows: &[Row], with_deleted: bool) -> RecordBatch {
    let mut fields = vec![
        Field::new("id", DataType::Int32, true),
        Field::new("region", DataType::Utf8, true),
        Field::new("ts", DataType::Int64, true),
        Field::new("amount", DataType::Float64, true),
    ];
    let mut cols: Vec<ArrayRef> = vec![
        Arc::new(Int32Array::from(
            rows.iter().map(|r| r.id).collect::<Vec<_>>(),
        )),
        Arc::new(StringArray::from(
            rows.iter().map(|r| r.region.clone()).collect::<Vec<_>>(),
        )),
        Arc::new(Int64Array::from(
            rows.iter().map(|r| r.ts).collect::<Vec<_>>(),
        )),
        Arc::new(Float64Array::from(
            rows.iter().map(|r| r.amount).collect::<Vec<_>>(),
        )),
    ];
    if with_deleted {
        fields.push(Field::new("_hoodie_is_deleted", DataType::Boolean, true));
        cols.push(Arc::new(BooleanArray::from(
            rows.iter().map(|r| r.deleted).collect::<Vec<_>>(),
        )));
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).expect("batch")
}

/// Per (partition, key): what a snapshot returns and what base files hold (read-optimized).
#[derive(Debug, Clone, Default)]
struct Model {
    current: BTreeMap<(String, String), (String, Row)>,
    base: BTreeMap<(String, String), (String, Row)>,
}

fn rows_json(m: &BTreeMap<(String, String), (String, Row)>, with_deleted: bool) -> Vec<Value> {
    let mut v: Vec<Value> = m
        .iter()
        .map(|((p, k), (ct, r))| {
            let mut o = json!({"_hoodie_commit_time": ct, "_hoodie_partition_path": p, "_hoodie_record_key": k,
                "id": r.id, "region": r.region, "ts": r.ts, "amount": r.amount});
            if with_deleted {
                o["_hoodie_is_deleted"] = json!(r.deleted);
            }
            o
        })
        .collect();
    v.sort_by_key(|x| x.to_string());
    v
}

struct Setup {
    bucket: bool,
    partitioned: bool,
}

impl Setup {
    fn pk(&self, r: &Row) -> (String, String) {
        (
            if self.partitioned {
                r.region.clone()
            } else {
                String::new()
            },
            r.id.to_string(),
        )
    }
}

fn apply(m: &mut Model, s: &Setup, op: WriteOperation, rows: &[Row], ct: &str) {
    match op {
        WriteOperation::Insert | WriteOperation::Upsert => {
            let mut winners: BTreeMap<(String, String), Row> = BTreeMap::new();
            for row in rows {
                match winners.get(&s.pk(row)) {
                    Some(w) if w.ts > row.ts => {}
                    _ => {
                        winners.insert(s.pk(row), row.clone());
                    }
                }
            }
            for (k, row) in winners {
                let exists = m.base.contains_key(&k) || m.current.contains_key(&k);
                if row.deleted == Some(true) {
                    m.current.remove(&k);
                    continue;
                }
                // Bloom: new keys become base files, updates go to logs. Bucket: all to logs.
                if !s.bucket && !exists {
                    m.base.insert(k.clone(), (ct.to_string(), row.clone()));
                }
                m.current.insert(k, (ct.to_string(), row));
            }
        }
        WriteOperation::Delete => {
            for row in rows {
                m.current.remove(&s.pk(row));
            }
        }
        WriteOperation::InsertOverwrite => {
            let parts: Vec<String> = rows.iter().map(|row| s.pk(row).0).collect();
            m.current.retain(|(p, _), _| !parts.contains(p));
            m.base.retain(|(p, _), _| !parts.contains(p));
            for row in rows {
                m.current.insert(s.pk(row), (ct.to_string(), row.clone()));
                m.base.insert(s.pk(row), (ct.to_string(), row.clone()));
            }
        }
        other => panic!("not in this matrix: {other:?}"),
    }
}

fn steps() -> Vec<(WriteOperation, Vec<Row>)> {
    let mut del5 = r(5, "b", 50, 0.0);
    del5.deleted = Some(true);
    let mut ins10 = r(10, "b", 1, 10.0);
    ins10.deleted = Some(false);
    vec![
        (
            WriteOperation::Insert,
            (1..=6)
                .map(|i| r(i, if i % 2 == 0 { "a" } else { "b" }, 1, f64::from(i)))
                .collect(),
        ),
        (
            WriteOperation::Upsert,
            vec![
                r(2, "a", 5, 20.0),
                r(3, "b", 5, 30.0),
                r(4, "a", 9, 41.0),
                r(4, "a", 7, 40.0),
                r(7, "c", 1, 7.0),
            ],
        ),
        (
            WriteOperation::Delete,
            vec![r(1, "b", 0, 0.0), r(7, "c", 0, 0.0)],
        ),
        (WriteOperation::Upsert, vec![del5, ins10]),
        (
            WriteOperation::Upsert,
            vec![r(2, "a", 6, 21.0), r(11, "c", 1, 11.0)],
        ),
        (
            WriteOperation::InsertOverwrite,
            vec![r(12, "a", 1, 12.0), r(13, "a", 1, 13.0)],
        ),
    ]
}

async fn create(path: &Path, s: &Setup) -> Table {
    let mut b = TableBuilder::new(path.to_string_lossy())
        .with_name("m")
        .with_table_type(TableType::MergeOnRead)
        .with_record_key_fields(vec!["id".into()])
        .with_precombine_field("ts");
    b = if s.partitioned {
        b.with_partition_fields(vec!["region".into()])
            .with_key_generator(KeyGenKind::Simple)
    } else {
        b.with_key_generator(KeyGenKind::NonPartitioned)
    };
    if s.bucket {
        b = b
            .with_index(IndexType::Bucket)
            .with_option("hoodie.bucket.index.num.buckets", "4");
    }
    b.create().await.expect("create")
}

#[test]
fn mor_write_matrix_reads_back_through_hudi_rs() {
    let Some(shared) = support::shared_dir("mor_write_matrix_reads_back_through_hudi_rs") else {
        return;
    };
    let python = support::oracle_python(&shared);
    let mut oracle = Oracle::start(&python, &shared);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let mut checks = 0;
    let mut log_files = Vec::new();
    for (bucket, partitioned) in [(false, true), (false, false), (true, true), (true, false)] {
        let s = Setup {
            bucket,
            partitioned,
        };
        let what = format!("bucket={bucket} partitioned={partitioned}");
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t");
        let mut table = rt.block_on(create(&path, &s));
        let mut model = Model::default();
        let mut with_deleted = false;
        let mut history = Vec::new();
        for (op, rows) in steps() {
            let wd = rows.iter().any(|x| x.deleted.is_some());
            with_deleted |= wd;
            let m = rt
                .block_on(table.write(op).execute_batches(vec![batch(&rows, wd)]))
                .unwrap_or_else(|e| panic!("{what} {op:?}: {e}"));
            let ct = m.instant.to_string();
            apply(&mut model, &s, op, &rows, &ct);
            table = rt.block_on(table.reload()).expect("reload");
            let got = oracle.rows(&path, "snapshot", json!({}));
            assert_eq!(
                got,
                rows_json(&model.current, with_deleted),
                "{what}: snapshot after {op:?}"
            );
            let got = oracle.rows(&path, "read_optimized", json!({}));
            assert_eq!(
                got,
                rows_json(&model.base, with_deleted),
                "{what}: read-optimized after {op:?}"
            );
            // Our reader returns the same rows as hudi-rs, in both modes.
            for ro in [false, true] {
                let read = if ro {
                    table.read().with_read_optimized()
                } else {
                    table.read()
                };
                let (schema, ours) = rt.block_on(read.collect()).expect("our read");
                let out = dir.path().join("ours.parquet");
                let mut w = parquet::arrow::ArrowWriter::try_new(
                    std::fs::File::create(&out).expect("f"),
                    schema,
                    None,
                )
                .expect("w");
                for b in &ours {
                    w.write(b).expect("write");
                }
                w.close().expect("close");
                let want = if ro { &model.base } else { &model.current };
                assert_eq!(
                    oracle.file_rows(&out),
                    rows_json(want, with_deleted),
                    "{what}: our reader, read_optimized={ro}"
                );
            }
            checks += 4;
            history.push((ct, model.current.clone()));
        }
        let mut prev: Option<String> = None;
        for (ct, snap) in &history {
            assert_eq!(
                oracle.rows(&path, "as_of", json!({"as_of": ct})),
                rows_json(snap, with_deleted),
                "{what}: as of {ct}"
            );
            let start = prev.clone().unwrap_or_else(|| "0".into());
            let changed: BTreeMap<_, _> = snap
                .iter()
                .filter(|(_, (c, _))| c == ct)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            assert_eq!(
                oracle.rows(&path, "incremental", json!({"start": start, "end": ct})),
                rows_json(&changed, with_deleted),
                "{what}: incremental ({start}, {ct}]"
            );
            prev = Some(ct.clone());
            checks += 2;
        }
        let logs: Vec<_> = support::all_files(&path)
            .into_iter()
            .filter(|p| p.to_string_lossy().contains(".log."))
            .collect();
        assert!(!logs.is_empty(), "{what}: no log files written");
        // Keep the files for the walker below.
        let keep = std::env::temp_dir().join(format!(
            "hudi-mor-logs-{}-{bucket}-{partitioned}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&keep);
        for (i, l) in logs.iter().enumerate() {
            std::fs::create_dir_all(&keep).expect("mkdir");
            let dest = keep.join(format!(
                "{i}{}",
                l.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            ));
            std::fs::copy(l, &dest).expect("copy log");
            log_files.push(dest);
        }
    }
    // The oracle's walker decodes every block (delete blocks with the wrapper-union schema).
    let mut args: Vec<&Path> = vec![Path::new("-v")];
    args.extend(log_files.iter().map(PathBuf::as_path));
    let (rc, out, err) = oracle.checker("walk_log.py", &args);
    assert_eq!(rc, 0, "walk_log.py failed: {err}\n{out}");
    assert!(
        !out.contains("Traceback") && !out.to_lowercase().contains("error"),
        "{out}"
    );
    assert!(
        out.contains("DELETE_BLOCK") && out.contains("AVRO_DATA_BLOCK"),
        "{out}"
    );
    assert!(
        out.contains("'orderingVal': {'value': 0}") || out.contains("orderingVal"),
        "{out}"
    );
    for l in &log_files {
        let _ = std::fs::remove_file(l);
    }
    println!(
        "{checks} merge-on-read checks against hudi-rs passed; {} log files walked",
        log_files.len()
    );
}
