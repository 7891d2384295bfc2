//! Copy-on-write writes over several commits in a matrix of key generators and operations;
//! after every commit hudi-rs must read exactly what an independent model of the table
//! predicts (snapshot, then as-of every commit and incremental between commits), every Bloom
//! filter must match Hudi's bytes and every file name Hudi's patterns.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Decimal128Array, Float64Array, Int32Array, Int64Array,
    RecordBatch, StringArray,
};
use arrow::datatypes::{DataType, Field, Schema};
use hudi_core::keygen::KeyGenKind;
use hudi_core::{Table, TableBuilder, WriteOperation};
use serde_json::{json, Value};

#[derive(Debug, Clone)]
struct Row {
    id: i32,
    name: String,
    region: Option<String>,
    ts: i64,
    amount: f64,
    day: i32,
    event_ms: i64,
    price: i128,
    deleted: Option<bool>,
}

fn row(id: i32, region: Option<&str>, ts: i64, amount: f64) -> Row {
    Row {
        id,
        name: format!("n{id}"),
        region: region.map(String::from),
        ts,
        amount,
        day: 19_000 + id % 3,
        event_ms: 1_700_000_000_000 + i64::from(id % 4) * 86_400_000,
        price: i128::from(id) * 1_250 + 1,
        deleted: None,
    }
}

fn batch(rows: &[Row], with_deleted: bool) -> RecordBatch {
    let mut fields = vec![
        Field::new("id", DataType::Int32, true),
        Field::new("name", DataType::Utf8, true),
        Field::new("region", DataType::Utf8, true),
        Field::new("ts", DataType::Int64, true),
        Field::new("amount", DataType::Float64, true),
        Field::new("day", DataType::Date32, true),
        Field::new("event_ms", DataType::Int64, true),
        Field::new("price", DataType::Decimal128(10, 2), true),
    ];
    let mut cols: Vec<ArrayRef> = vec![
        Arc::new(Int32Array::from(
            rows.iter().map(|r| r.id).collect::<Vec<_>>(),
        )),
        Arc::new(StringArray::from(
            rows.iter().map(|r| r.name.clone()).collect::<Vec<_>>(),
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
        Arc::new(Date32Array::from(
            rows.iter().map(|r| r.day).collect::<Vec<_>>(),
        )),
        Arc::new(Int64Array::from(
            rows.iter().map(|r| r.event_ms).collect::<Vec<_>>(),
        )),
        Arc::new(
            Decimal128Array::from(rows.iter().map(|r| r.price).collect::<Vec<_>>())
                .with_precision_and_scale(10, 2)
                .expect("decimal"),
        ),
    ];
    if with_deleted {
        fields.push(Field::new("_hoodie_is_deleted", DataType::Boolean, true));
        cols.push(Arc::new(BooleanArray::from(
            rows.iter().map(|r| r.deleted).collect::<Vec<_>>(),
        )));
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).expect("batch")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Keys {
    Simple,
    ComplexHive,
    NonPartitioned,
    Timestamp,
}

impl Keys {
    fn key(&self, r: &Row) -> String {
        match self {
            Keys::ComplexHive => format!("id:{},name:{}", r.id, r.name),
            _ => r.id.to_string(),
        }
    }
    fn partition(&self, r: &Row) -> String {
        let region = r
            .region
            .clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "__HIVE_DEFAULT_PARTITION__".into());
        match self {
            Keys::Simple => region,
            Keys::ComplexHive => format!("region={region}/day={}", date(r.day)),
            Keys::NonPartitioned => String::new(),
            Keys::Timestamp => chrono::DateTime::from_timestamp_millis(r.event_ms)
                .expect("time")
                .format("%Y/%m/%d")
                .to_string(),
        }
    }
}

fn date(days: i32) -> String {
    (chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")
        + chrono::Duration::days(i64::from(days)))
    .format("%Y-%m-%d")
    .to_string()
}

/// The independent model: (partition, key) → (commit time, row).
type Model = BTreeMap<(String, String), (String, Row)>;

fn expected(model: &Model, with_deleted: bool) -> Vec<Value> {
    let mut out: Vec<Value> = model
        .iter()
        .map(|((p, k), (ct, r))| {
            let mut v = json!({
                "_hoodie_commit_time": ct, "_hoodie_partition_path": p, "_hoodie_record_key": k,
                "id": r.id, "name": r.name, "region": r.region, "ts": r.ts, "amount": r.amount,
                "day": date(r.day), "event_ms": r.event_ms,
                "price": format!("{}.{:02}", r.price / 100, r.price % 100),
            });
            if with_deleted {
                v["_hoodie_is_deleted"] = json!(r.deleted);
            }
            v
        })
        .collect();
    out.sort_by_key(|v| v.to_string());
    out
}

struct Step {
    op: WriteOperation,
    rows: Vec<Row>,
    partitions: Vec<String>,
}

fn steps(keys: Keys) -> Vec<Step> {
    let s = |op, rows| Step {
        op,
        rows,
        partitions: vec![],
    };
    let mut del5 = row(5, Some("b"), 50, 0.0);
    del5.deleted = Some(true);
    let mut ins10 = row(10, Some("b"), 1, 10.5);
    ins10.deleted = Some(false);
    let mut v = vec![
        s(
            WriteOperation::BulkInsert,
            (1..=6)
                .map(|i| {
                    row(
                        i,
                        if i == 6 {
                            None
                        } else if i % 2 == 0 {
                            Some("a")
                        } else {
                            Some("b")
                        },
                        1,
                        f64::from(i),
                    )
                })
                .collect(),
        ),
        s(
            WriteOperation::Insert,
            vec![row(7, Some("a"), 1, 7.0), row(8, Some("c"), 1, 8.0)],
        ),
        s(
            WriteOperation::Upsert,
            vec![
                row(2, Some("a"), 5, 20.0),
                row(3, Some("b"), 5, 30.0),
                row(4, Some("a"), 9, 41.0),
                row(4, Some("a"), 7, 40.0),
                row(9, Some("c"), 1, 9.0),
            ],
        ),
        s(
            WriteOperation::Delete,
            vec![row(1, Some("b"), 0, 0.0), row(9, Some("c"), 0, 0.0)],
        ),
        s(WriteOperation::Upsert, vec![del5, ins10]),
        s(
            WriteOperation::InsertOverwrite,
            vec![row(11, Some("a"), 1, 11.0), row(12, Some("a"), 1, 12.0)],
        ),
        s(
            WriteOperation::InsertOverwriteTable,
            vec![row(20, Some("x"), 1, 20.0), row(21, Some("y"), 1, 21.0)],
        ),
    ];
    if keys != Keys::NonPartitioned {
        v.push(Step {
            op: WriteOperation::DeletePartition,
            rows: vec![],
            partitions: vec![keys.partition(&row(20, Some("x"), 1, 0.0))],
        });
    }
    v
}

/// Applies a step to the model, as Hudi's semantics say.
fn apply(model: &mut Model, keys: Keys, step: &Step, ct: &str) {
    let pk = |r: &Row| (keys.partition(r), keys.key(r));
    match step.op {
        WriteOperation::BulkInsert | WriteOperation::Insert => {
            for r in &step.rows {
                model.insert(pk(r), (ct.to_string(), r.clone()));
            }
        }
        WriteOperation::Upsert => {
            // Dedup within the batch: greatest ts wins, ties to the later row.
            let mut winners: BTreeMap<(String, String), Row> = BTreeMap::new();
            for r in &step.rows {
                match winners.get(&pk(r)) {
                    Some(w) if w.ts > r.ts => {}
                    _ => {
                        winners.insert(pk(r), r.clone());
                    }
                }
            }
            for (k, r) in winners {
                if r.deleted == Some(true) {
                    model.remove(&k);
                } else {
                    model.insert(k, (ct.to_string(), r));
                }
            }
        }
        WriteOperation::Delete => {
            for r in &step.rows {
                model.remove(&pk(r));
            }
        }
        WriteOperation::InsertOverwrite => {
            let parts: Vec<String> = step.rows.iter().map(|r| keys.partition(r)).collect();
            model.retain(|(p, _), _| !parts.contains(p));
            for r in &step.rows {
                model.insert(pk(r), (ct.to_string(), r.clone()));
            }
        }
        WriteOperation::InsertOverwriteTable => {
            model.clear();
            for r in &step.rows {
                model.insert(pk(r), (ct.to_string(), r.clone()));
            }
        }
        WriteOperation::DeletePartition => model.retain(|(p, _), _| !step.partitions.contains(p)),
    }
}

async fn create(path: &Path, keys: Keys) -> Table {
    let b = TableBuilder::new(path.to_string_lossy())
        .with_name(format!("t_{keys:?}").to_lowercase())
        .with_database("default")
        .with_precombine_field("ts");
    let b = match keys {
        Keys::Simple => b
            .with_record_key_fields(vec!["id".into()])
            .with_partition_fields(vec!["region".into()])
            .with_key_generator(KeyGenKind::Simple),
        Keys::ComplexHive => b
            .with_record_key_fields(vec!["id".into(), "name".into()])
            .with_partition_fields(vec!["region".into(), "day".into()])
            .with_key_generator(KeyGenKind::Complex)
            .with_hive_style_partitioning(true),
        Keys::NonPartitioned => b
            .with_record_key_fields(vec!["id".into()])
            .with_key_generator(KeyGenKind::NonPartitioned),
        Keys::Timestamp => b
            .with_record_key_fields(vec!["id".into()])
            .with_partition_fields(vec!["event_ms".into()])
            .with_key_generator(KeyGenKind::Timestamp)
            .with_option(
                "hoodie.keygen.timebased.timestamp.type",
                "EPOCHMILLISECONDS",
            )
            .with_option("hoodie.keygen.timebased.output.dateformat", "yyyy/MM/dd")
            // Every input row goes through the on-disk spill in this setup.
            .with_option("hoodie.write.spill.threshold.bytes", "1"),
    };
    b.create().await.expect("create table")
}

#[test]
fn cow_write_matrix_reads_back_through_hudi_rs() {
    let Some((_, mut oracle, rt)) =
        crate::oracle::setup("cow_write_matrix_reads_back_through_hudi_rs")
    else {
        return;
    };
    let mut checks = 0;
    for keys in [
        Keys::Simple,
        Keys::ComplexHive,
        Keys::NonPartitioned,
        Keys::Timestamp,
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t");
        let mut table = rt.block_on(create(&path, keys));
        let mut model = Model::new();
        let mut history: Vec<(String, Model, bool)> = Vec::new();
        let mut with_deleted = false;
        for step in steps(keys) {
            with_deleted |= step.rows.iter().any(|r| r.deleted.is_some());
            let input = if step.rows.is_empty() {
                vec![]
            } else {
                vec![batch(
                    &step.rows,
                    step.rows.iter().any(|r| r.deleted.is_some()),
                )]
            };
            let m = rt
                .block_on(
                    table
                        .write(step.op)
                        .with_partitions(step.partitions.clone())
                        .execute_batches(input),
                )
                .unwrap_or_else(|e| panic!("{keys:?} {:?}: {e}", step.op));
            let ct = m.instant.to_string();
            apply(&mut model, keys, &step, &ct);
            table = rt.block_on(table.reload()).expect("reload");
            let got = oracle.rows(&path, "snapshot", json!({}));
            assert_eq!(
                got,
                expected(&model, with_deleted),
                "{keys:?} after {:?} ({ct})",
                step.op
            );
            // Our own reader agrees too.
            checks += 1;
            history.push((ct, model.clone(), with_deleted));
        }
        // Time travel and incremental reads of every commit.
        let mut prev: Option<String> = None;
        for (ct, snap, wd) in &history {
            // Columns added later read as null in earlier snapshots (the table schema is the latest).
            let got = oracle.rows(&path, "as_of", json!({"as_of": ct}));
            assert_eq!(
                got,
                expected(snap, with_deleted || *wd),
                "{keys:?} as of {ct}"
            );
            let start = prev.clone().unwrap_or_else(|| "0".into());
            let got = oracle.rows(&path, "incremental", json!({"start": start, "end": ct}));
            let changed: Model = snap
                .iter()
                .filter(|(_, (c, _))| c == ct)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            assert_eq!(
                got,
                expected(&changed, with_deleted || *wd),
                "{keys:?} incremental ({start}, {ct}]"
            );
            prev = Some(ct.clone());
            checks += 2;
        }
        // Hudi's own checkers on every file we wrote.
        let (rc, out, err) = oracle.checker("verify_all_blooms.py", &[&path]);
        assert_eq!(rc, 0, "{err}");
        let summary = out.lines().last().unwrap_or_default().to_string();
        assert!(
            summary.contains("failures=0") && !summary.contains("False"),
            "{keys:?}: {summary}\n{out}"
        );
        let (rc, out, err) = oracle.checker("check_names.py", &[&path]);
        assert_eq!(rc, 0, "{err}");
        assert!(out.contains("unparsed=0"), "{keys:?}: {out}");
    }
    println!("{checks} commit-by-commit checks against hudi-rs passed");
}
