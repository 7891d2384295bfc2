//! Bad input, each kind through the `hudi` binary: a clear error naming the culprit (the input
//! file, `hoodie.properties`, the instant, the missing file), or skipped as Hudi skips it (a
//! truncated log block), and what was committed before stays readable and unchanged.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::support;

/// A table of four rows in two cities, written by `hudi write`.
struct Table {
    dir: tempfile::TempDir,
    path: String,
}

impl Table {
    fn new(kind: &str) -> Table {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t").to_string_lossy().to_string();
        let t = Table { dir, path };
        let rows: Vec<Value> = (0..4).map(|i| row(i, 1, "a")).collect();
        let input = t.input("first.jsonl", &rows);
        t.ok(&support::sync::write_by_city(
            &t.path,
            &input,
            &["--type", kind],
        ));
        t
    }

    fn base(&self) -> &Path {
        Path::new(&self.path)
    }

    fn input(&self, name: &str, rows: &[Value]) -> String {
        support::sync::jsonl(self.dir.path(), name, rows)
    }

    fn ok(&self, args: &[&str]) -> String {
        let (ok, out, err) = support::run_hudi(args);
        assert!(ok, "hudi {args:?}: {err}");
        out
    }

    /// What `hudi verify` finds (it must find something), stdout and stderr together.
    fn findings(&self) -> String {
        let (ok, out, err) = support::run_hudi(&["verify", &self.path]);
        assert!(!ok, "verify found nothing: {out}");
        format!("{out}{err}")
    }

    /// The error of a command that must fail: one line, no panic.
    fn fails(&self, args: &[&str]) -> String {
        let (ok, _, err) = support::run_hudi(args);
        assert!(!ok, "hudi {args:?} succeeded");
        assert!(!err.contains("panicked"), "{err}");
        err
    }

    /// Every row of a snapshot read, as `{id, ts, v}` sorted by id.
    fn rows(&self) -> Vec<Value> {
        let text = self.ok(&["read", &self.path, "--format", "jsonl"]);
        let mut rows: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).expect("row"))
            .map(|r| json!({"id": r["id"], "ts": r["ts"], "v": r["v"]}))
            .collect();
        rows.sort_by_key(|r| r["id"].as_i64());
        rows
    }

    /// hudi-rs and Apache Hudi on Spark (when set up) read `want` too: what we skip, Hudi
    /// skips. Returns the peers that read.
    fn peers_read(&self, test: &str, want: &[Value]) -> Vec<&'static str> {
        let project = |rows: Vec<Value>| {
            let mut rows: Vec<Value> = rows
                .into_iter()
                .map(|r| json!({"id": r["id"], "ts": r["ts"], "v": r["v"]}))
                .collect();
            rows.sort_by_key(|r| r["id"].as_i64());
            rows
        };
        let mut read = Vec::new();
        let Some((_, mut oracle, _rt)) = support::oracle::setup(test) else {
            return read;
        };
        let hudi_rs = project(oracle.rows(self.base(), "snapshot", json!({})));
        assert_eq!(hudi_rs, want, "hudi-rs");
        read.push("hudi-rs");
        if support::spark::available(test) {
            let spark = support::spark::rows(self.base(), "snapshot", json!({}))
                .unwrap_or_else(|e| panic!("Spark's read: {e}"));
            assert_eq!(project(spark), want, "Spark");
            read.push("Spark");
        }
        read
    }

    fn files_under(&self, sub: &str) -> Vec<PathBuf> {
        support::all_files(&self.base().join(sub))
    }
}

fn row(id: i64, ts: i64, v: &str) -> Value {
    let city = if id % 2 == 0 { "ams" } else { "ber" };
    json!({"id": id, "city": city, "ts": ts, "v": v})
}

fn model(rows: &[(i64, i64, &str)]) -> Vec<Value> {
    rows.iter()
        .map(|(id, ts, v)| json!({"id": id, "ts": ts, "v": v}))
        .collect()
}

#[test]
fn malformed_input_files_are_named_and_commit_nothing() {
    let t = Table::new("cow");
    let before = t.rows();
    let timeline = t.files_under(".hoodie");
    let garbage = t.dir.path().join("garbage.parquet");
    std::fs::write(&garbage, b"PAR1 this is not parquet at all").expect("write");
    let truncated = t.dir.path().join("truncated.jsonl");
    std::fs::write(&truncated, "{\"id\": 9, \"city\": \"ams\", \"ts\"").expect("write");
    let typed = t.input(
        "typed.jsonl",
        &[json!({"id": 9, "city": "ams", "ts": "late", "v": "x"})],
    );
    for (input, culprit) in [
        (garbage.to_string_lossy().to_string(), "garbage.parquet"),
        (truncated.to_string_lossy().to_string(), "truncated.jsonl"),
        (typed, "ts"),
    ] {
        let err = t.fails(&["write", &t.path, "--input", &input]);
        assert!(err.contains(culprit), "{culprit}: {err}");
        assert_eq!(t.rows(), before, "after {culprit}");
        assert_eq!(t.files_under(".hoodie"), timeline, "after {culprit}");
    }
    t.ok(&["verify", &t.path]);
}

#[test]
fn duplicate_keys_in_an_insert_are_kept_unless_combined_as_hudi_does() {
    let t = Table::new("cow");
    let dup = t.input("dup.jsonl", &[row(8, 1, "x"), row(8, 2, "y")]);
    t.ok(&["write", &t.path, "--input", &dup, "--operation", "insert"]);
    let eights =
        |t: &Table| -> Vec<Value> { t.rows().into_iter().filter(|r| r["id"] == 8).collect() };
    assert_eq!(
        eights(&t).len(),
        2,
        "hoodie.combine.before.insert is false by default"
    );
    let t2 = Table::new("cow");
    t2.ok(&[
        "write",
        &t2.path,
        "--input",
        &dup,
        "--operation",
        "insert",
        "--option",
        "hoodie.combine.before.insert=true",
    ]);
    assert_eq!(eights(&t2), model(&[(8, 2, "y")]), "the greater ts wins");
}

#[test]
fn huge_values_round_trip() {
    let t = Table::new("mor");
    let big = "x".repeat(24 << 20);
    let input = t.input("big.jsonl", &[row(1, 2, &big)]);
    t.ok(&["write", &t.path, "--input", &input]);
    let rows = t.rows();
    let one = rows.iter().find(|r| r["id"] == 1).expect("row 1");
    assert_eq!(one["v"].as_str().map(str::len), Some(big.len()));
    assert_eq!(one["ts"], 2);
}

#[test]
fn a_corrupt_or_missing_properties_file_is_named_and_nothing_is_written() {
    let t = Table::new("cow");
    let props = t.base().join(".hoodie/hoodie.properties");
    let good = std::fs::read(&props).expect("properties");
    std::fs::write(&props, b"\x00\xffhoodie.table.name\n=\n\\").expect("write");
    let err = t.fails(&["read", &t.path]);
    assert!(err.contains("hoodie.properties"), "{err}");
    let input = t.input("more.jsonl", &[row(5, 1, "a")]);
    let files = t.files_under("");
    let err = t.fails(&["write", &t.path, "--input", &input]);
    assert!(err.contains("hoodie.properties"), "{err}");
    assert_eq!(
        t.files_under(""),
        files,
        "a write into a broken table wrote nothing"
    );
    std::fs::remove_file(&props).expect("remove");
    let err = t.fails(&["read", &t.path]);
    assert!(err.contains(&t.path), "{err}");
    std::fs::write(&props, good).expect("restore");
    assert_eq!(t.rows().len(), 4);
}

#[test]
fn an_instant_file_that_does_not_parse_is_named() {
    let t = Table::new("cow");
    let input = t.input("second.jsonl", &[row(0, 2, "b")]);
    t.ok(&["write", &t.path, "--input", &input]);
    let mut commits: Vec<PathBuf> = t
        .files_under(".hoodie")
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "commit"))
        .collect();
    commits.sort();
    let last = commits.last().expect("a commit").clone();
    let name = last
        .file_name()
        .expect("name")
        .to_string_lossy()
        .to_string();
    std::fs::write(&last, b"{\"partitionToWriteStats\": [not json").expect("write");
    let err = t.fails(&["read", &t.path]);
    let instant = name.trim_end_matches(".commit");
    assert!(err.contains(instant), "{err}");
    let found = t.findings();
    assert!(found.contains(instant), "verify names it: {found}");
}

/// Without a metadata table, Hudi finds file slices by listing the partitions, so a base file
/// deleted behind its back is not read (its rows are gone, the rest is read); ours does the
/// same, and `hudi verify` names the file the timeline says is missing.
#[test]
fn a_missing_base_file_is_skipped_as_hudi_skips_it_and_verify_names_it() {
    let t = Table::new("cow");
    let gone = t
        .files_under("city=ams")
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == "parquet"))
        .expect("a base file");
    std::fs::remove_file(&gone).expect("remove");
    let name = gone
        .file_name()
        .expect("name")
        .to_string_lossy()
        .to_string();
    let want = model(&[(1, 1, "a"), (3, 1, "a")]);
    assert_eq!(t.rows(), want, "ber is read");
    let peers = t.peers_read("a_missing_base_file_is_skipped_as_hudi_skips_it", &want);
    println!("a missing base file: skipped by us and by {peers:?}");
    let found = t.findings();
    assert!(found.contains(&name), "verify names it: {found}");
}

#[test]
fn a_truncated_log_block_is_skipped_and_the_blocks_before_it_are_read() {
    let t = Table::new("mor");
    let first = t.input("u1.jsonl", &[row(0, 2, "b"), row(1, 2, "b")]);
    t.ok(&["write", &t.path, "--input", &first]);
    let second = t.input("u2.jsonl", &[row(0, 3, "c")]);
    t.ok(&["write", &t.path, "--input", &second]);
    let mut logs: Vec<PathBuf> = t
        .files_under("city=ams")
        .into_iter()
        .filter(|p| p.to_string_lossy().contains(".log."))
        .collect();
    logs.sort();
    let log = logs.last().expect("a log file").clone();
    let bytes = std::fs::read(&log).expect("log");
    std::fs::write(&log, &bytes[..bytes.len() - 12]).expect("truncate");
    // The second upsert's block lost its end: skipped, as Hudi's log reader skips a corrupt
    // block; the first upsert's block is still read.
    let want = model(&[(0, 2, "b"), (1, 2, "b"), (2, 1, "a"), (3, 1, "a")]);
    assert_eq!(t.rows(), want);
    let peers = t.peers_read("a_truncated_log_block_is_skipped", &want);
    println!("a truncated log block: skipped by us and by {peers:?}");
    let name = log.file_name().expect("name").to_string_lossy().to_string();
    let found = t.findings();
    assert!(found.contains(&name), "verify names the log file: {found}");
}

/// A clock that goes backwards between two writes (another machine, a corrected clock): the
/// second commit still gets an instant after the first, so the timeline keeps its order and
/// the later write wins, as it must.
#[tokio::test]
async fn a_clock_that_goes_backwards_still_orders_commits() {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};
    use chrono::TimeZone;
    use hudi_core::keygen::KeyGenKind;
    use hudi_core::timeline::transition::FixedClock;
    use hudi_core::{TableBuilder, WriteOperation};

    let dir = tempfile::tempdir().expect("tempdir");
    let at = |day: u32| {
        Arc::new(FixedClock(
            chrono::Utc
                .with_ymd_and_hms(2026, 3, day, 12, 0, 0)
                .single()
                .expect("date"),
        ))
    };
    let batch = |v: &str| {
        RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new("id", DataType::Int64, true),
                Field::new("ts", DataType::Int64, true),
                Field::new("v", DataType::Utf8, true),
            ])),
            vec![
                Arc::new(Int64Array::from(vec![1])) as ArrayRef,
                Arc::new(Int64Array::from(vec![1])),
                Arc::new(StringArray::from(vec![v])),
            ],
        )
        .expect("batch")
    };
    let table = TableBuilder::new(dir.path().to_string_lossy())
        .with_name("t")
        .with_record_key_fields(vec!["id".into()])
        .with_precombine_field("ts")
        .with_key_generator(KeyGenKind::NonPartitioned)
        .with_clock(at(20))
        .create()
        .await
        .expect("create");
    let first = table
        .write(WriteOperation::Upsert)
        .with_clock(at(20))
        .execute_batches(vec![batch("first")])
        .await
        .expect("first write");
    let table = table.reload().await.expect("reload");
    let second = table
        .write(WriteOperation::Upsert)
        .with_clock(at(10))
        .execute_batches(vec![batch("second")])
        .await
        .expect("second write, ten days earlier by its clock");
    assert!(
        second.instant > first.instant,
        "{} after {}",
        second.instant,
        first.instant
    );
    let path = dir.path().to_string_lossy().to_string();
    let (ok, out, err) = support::run_hudi(&["read", &path, "--format", "jsonl"]);
    assert!(ok, "{err}");
    let v: Value = serde_json::from_str(out.trim()).expect("one row");
    assert_eq!(v["v"], "second", "the later commit wins: {out}");
}

/// A full disk (a failing object store) in the middle of a write: the write fails naming the
/// file and the cause, readers still see exactly the last commit, and the next write rolls the
/// failed one back and commits. For each table type, the fault hits a data file (base file
/// or log file) and then the completed instant file.
#[tokio::test]
async fn a_storage_fault_mid_write_loses_nothing_and_the_next_write_recovers() {
    use std::sync::Arc;

    use hudi_core::storage::Storage;
    use hudi_core::Table as HudiTable;
    use object_store::local::LocalFileSystem;

    // A data file, the completed instant file.
    type Fault = fn(&str) -> bool;
    let cow: [(&str, Fault); 2] = [
        ("a base file", |p| p.ends_with(".parquet")),
        ("the completed commit", |p| p.ends_with(".commit")),
    ];
    let mor: [(&str, Fault); 2] = [
        ("a log file", |p| p.contains(".log.")),
        ("the completed delta commit", |p| {
            p.ends_with(".deltacommit")
        }),
    ];
    for (kind, faults) in [("cow", cow), ("mor", mor)] {
        for (fault, matches) in faults {
            let t = Table::new(kind);
            let committed = t.rows();
            let local = LocalFileSystem::new_with_prefix(&t.path).expect("local store");
            let store = Arc::new(support::faulty::FaultyStore::new(Arc::new(local)));
            let storage = Storage::from_store(store.clone(), "", &t.path);
            let table = HudiTable::open_storage(storage).await.expect("open");
            store.fail_puts(matches, 0);
            let batch = support::data::batch(
                &support::data::schema(vec![
                    support::data::field("id", arrow::datatypes::DataType::Int64),
                    support::data::field("city", arrow::datatypes::DataType::Utf8),
                    support::data::field("ts", arrow::datatypes::DataType::Int64),
                    support::data::field("v", arrow::datatypes::DataType::Utf8),
                ]),
                &[
                    support::data::row(row(0, 5, "lost")),
                    support::data::row(row(9, 5, "lost")),
                ],
            );
            let err = table
                .write(hudi_core::WriteOperation::Upsert)
                .execute_batches(vec![batch])
                .await
                .expect_err("the write must fail")
                .to_string();
            let failed = store.failed.lock().expect("failed").clone();
            assert!(!failed.is_empty(), "{kind} {fault}: nothing failed: {err}");
            // Files are written in parallel: the error names one that failed.
            let named = failed
                .iter()
                .any(|f| err.contains(f.rsplit('/').next().unwrap_or_default()));
            assert!(
                err.contains("No space left on device") && named,
                "{kind} {fault}: the error names a file of {failed:?} and the cause: {err}"
            );
            assert_eq!(
                t.rows(),
                committed,
                "{kind} {fault}: readers see the last commit"
            );
            let next = t.input("next.jsonl", &[row(1, 6, "next")]);
            t.ok(&["write", &t.path, "--input", &next]);
            assert_eq!(
                t.rows(),
                model(&[(0, 1, "a"), (1, 6, "next"), (2, 1, "a"), (3, 1, "a")]),
                "{kind} {fault}: the failed write rolled back, the next one committed"
            );
            t.ok(&["verify", &t.path]);
        }
    }
}

/// An Avro instant that does not decode (a pending compaction plan of garbage): every reader
/// needs the plan to know which file groups it holds, so reads fail naming the instant and
/// its file, and `hudi verify` finds it.
#[test]
fn a_plan_that_does_not_decode_is_named() {
    let t = Table::new("mor");
    let plan = t
        .base()
        .join(".hoodie/29991231000000000.compaction.requested");
    std::fs::write(&plan, b"Obj\x01\x04garbage-not-avro").expect("write");
    let err = t.fails(&["read", &t.path]);
    assert!(
        err.contains("29991231000000000") && err.contains("compaction.requested"),
        "{err}"
    );
    let found = t.findings();
    assert!(
        found.contains("29991231000000000"),
        "verify names it: {found}"
    );
    std::fs::remove_file(&plan).expect("remove");
    assert_eq!(t.rows().len(), 4, "the table reads again without it");
}
