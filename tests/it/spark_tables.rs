//! We write into tables Apache Hudi on Spark created and filled (copy-on-write and
//! merge-on-read, partitioned or not, every key generator, the bucket index with keys that
//! test Hudi 0.15's bucket hashing), Spark writes on top of ours, and our reader, hudi-rs and
//! Spark read the model after every step.

use arrow::datatypes::{DataType, SchemaRef};
use hudi_core::keygen::KeyGenKind;
use hudi_core::write::config::IndexType;
use hudi_core::WriteOperation as Op;
use serde_json::json;

use crate::support::data::{self, field, row, Row};
use crate::support::scenario::{Ctx, Scenario, Writer};
use crate::support::spec::TableSpec;

fn schema() -> SchemaRef {
    data::schema(vec![
        field("id", DataType::Int32),
        field("name", DataType::Utf8),
        field("region", DataType::Utf8),
        field("day", DataType::Date32),
        field("event_ms", DataType::Int64),
        field("ts", DataType::Int64),
        field("v", DataType::Utf8),
        field("_hoodie_is_deleted", DataType::Boolean),
    ])
}

fn r(id: i32, region: &str, ts: i64, v: &str) -> Row {
    row(json!({
        "id": id, "name": format!("n{id}"), "region": region,
        "day": format!("2024-01-0{}", 1 + id % 3),
        "event_ms": 1_700_000_000_000i64 + i64::from(id % 3) * 86_400_000,
        "ts": ts, "v": v,
    }))
}

fn specs() -> Vec<TableSpec> {
    let base = |name: &str, key: &[&str]| TableSpec::new(name, schema(), key).precombine("ts");
    vec![
        base("sp_cow_simple", &["id"]).partitioned(&["region"], KeyGenKind::Simple),
        base("sp_cow_complex_hive", &["id", "name"])
            .partitioned(&["region", "day"], KeyGenKind::Complex)
            .hive_style(),
        base("sp_cow_nonpartitioned_global", &["id"]).index(IndexType::GlobalBloom),
        base("sp_cow_timestamp", &["id"]).timestamp_partitioned("event_ms"),
        base("sp_cow_custom", &["id"])
            .partitioned(&["region:SIMPLE", "event_ms:TIMESTAMP"], KeyGenKind::Custom)
            .option(
                "hoodie.keygen.timebased.timestamp.type",
                "EPOCHMILLISECONDS",
            )
            .option("hoodie.keygen.timebased.output.dateformat", "yyyyMMdd"),
        base("sp_mor_simple", &["id"])
            .partitioned(&["region"], KeyGenKind::Simple)
            .mor(),
        base("sp_mor_nonpartitioned_simple_index", &["id"])
            .index(IndexType::Simple)
            .mor(),
        base("sp_mor_complex_bucket", &["id", "name"])
            .partitioned(&["region"], KeyGenKind::Complex)
            .buckets(4)
            .mor(),
    ]
}

/// Spark creates and fills the table, we upsert and delete, Spark writes again, we again.
fn steps(s: &mut Scenario) {
    let first: Vec<Row> = (1..=6)
        .map(|i| r(i, if i % 2 == 0 { "a" } else { "b" }, 1, "spark"))
        .collect();
    s.write(Writer::Spark, Op::Insert, first);
    s.write(
        Writer::Spark,
        Op::Upsert,
        vec![r(1, "b", 2, "spark 2"), r(7, "c", 1, "spark")],
    );
    s.write(
        Writer::Ours,
        Op::Upsert,
        vec![
            r(2, "a", 3, "ours"),
            r(1, "b", 3, "ours"),
            r(8, "a", 1, "ours"),
        ],
    );
    let mut gone = r(3, "b", 4, "");
    gone.insert("_hoodie_is_deleted".into(), json!(true));
    s.write(Writer::Ours, Op::Upsert, vec![gone, r(9, "c", 1, "ours")]);
    s.write(Writer::Ours, Op::Delete, vec![r(4, "a", 0, "")]);
    s.write(
        Writer::Spark,
        Op::Upsert,
        vec![r(2, "a", 5, "spark on ours"), r(8, "a", 5, "spark on ours")],
    );
    s.write(Writer::Spark, Op::Delete, vec![r(9, "c", 0, "")]);
    s.write(
        Writer::Ours,
        Op::Upsert,
        vec![r(8, "a", 6, "ours on spark"), r(10, "b", 1, "ours")],
    );
}

#[test]
fn we_write_into_spark_written_tables() {
    let Some(mut ctx) = Ctx::setup("we_write_into_spark_written_tables") else {
        return;
    };
    if !ctx.spark {
        return;
    }
    for spec in specs() {
        let mut s = Scenario::created_by(&mut ctx, spec, Writer::Spark);
        steps(&mut s);
        s.check_history();
    }
    println!("Spark-written tables: {}", ctx.summary());
}

fn key_schema() -> SchemaRef {
    data::schema(vec![
        field("id", DataType::Int32),
        field("name", DataType::Utf8),
        field("region", DataType::Utf8),
        field("ts", DataType::Int64),
        field("v", DataType::Utf8),
    ])
}

/// Names that exercise Hudi 0.15's `BucketIdentifier`: a `:` inside a value, an empty value
/// (`__empty__`), a null (`__null__`), unicode; hash fields in another order than the key.
fn tricky(id: i32, v: &str) -> Row {
    let name = match id % 6 {
        0 => json!("a:b"),
        1 => json!(""),
        2 => json!(null),
        3 => json!("ünï"),
        4 => json!("__x"),
        _ => json!(format!("n{id}")),
    };
    row(
        json!({"id": id, "name": name, "region": if id % 2 == 0 { "a" } else { "b" }, "ts": i64::from(id), "v": v}),
    )
}

/// Spark buckets records, we route updates and new keys to the same buckets, Spark routes
/// ours to theirs: a key in two buckets would read twice.
#[test]
fn bucket_hashing_matches_hudi_0_15() {
    let Some(mut ctx) = Ctx::setup("bucket_hashing_matches_hudi_0_15") else {
        return;
    };
    if !ctx.spark {
        return;
    }
    for (name, mor, hash) in [
        ("bk_cow_name_id", false, "name,id"),
        ("bk_mor_name", true, "name"),
        ("bk_cow_id", false, "id"),
    ] {
        let mut spec = TableSpec::new(name, key_schema(), &["id", "name"])
            .partitioned(&["region"], KeyGenKind::Complex)
            .precombine("ts")
            .buckets(8)
            .option("hoodie.bucket.index.hash.field", hash);
        if mor {
            spec = spec.mor();
        }
        let mut s = Scenario::created_by(&mut ctx, spec, Writer::Spark);
        s.write(
            Writer::Spark,
            Op::Upsert,
            (0..12).map(|i| tricky(i, "spark")).collect(),
        );
        s.write(
            Writer::Ours,
            Op::Upsert,
            (6..18).map(|i| tricky(i, "ours")).collect(),
        );
        s.write(
            Writer::Spark,
            Op::Upsert,
            (12..24).map(|i| tricky(i, "spark 2")).collect(),
        );
        s.write(
            Writer::Ours,
            Op::Delete,
            (0..24).step_by(5).map(|i| tricky(i, "")).collect(),
        );
    }
    // Our bulk insert stores its input by partition and bucket, spilled to disk here (a
    // threshold of one byte): each bucket's file group must hold exactly its keys, or
    // Spark's upserts of the same keys would find them in the wrong file group.
    for (name, mor) in [("bk_bulk_cow", false), ("bk_bulk_mor", true)] {
        let mut spec = TableSpec::new(name, key_schema(), &["id", "name"])
            .partitioned(&["region"], KeyGenKind::Complex)
            .precombine("ts")
            .buckets(4);
        if mor {
            spec = spec.mor();
        }
        let mut s = Scenario::created_by(&mut ctx, spec, Writer::Ours);
        s.write_with(
            Writer::Ours,
            Op::BulkInsert,
            (0..40).map(|i| tricky(i, "ours bulk")).collect(),
            &[],
            &[("hoodie.write.spill.threshold.bytes", "1")],
        );
        s.write(
            Writer::Spark,
            Op::Upsert,
            (30..50).map(|i| tricky(i, "spark")).collect(),
        );
    }
    println!("bucket hashing: {}", ctx.summary());
}

/// Spark writes with its default metadata table; we refuse every mutation (writes, compaction:
/// the data-loss case where new base files the metadata table did not list sent Spark's next
/// upsert to the old slice, clean, rollback, savepoints, restore, archival, repairs, checkpoint
/// and property changes) with nothing written and name the remedy; a dry-run clean still
/// plans; `hudi metadata delete` turns it off; then both write and every reader (Spark with
/// and without its metadata table) reads the model. A Spark writer that enables it again
/// rebuilds it from the files, ours included.
#[test]
fn metadata_table_refusal_and_hudi_metadata_delete() {
    let Some(mut ctx) = Ctx::setup("metadata_table_refusal_and_hudi_metadata_delete") else {
        return;
    };
    if !ctx.spark {
        return;
    }
    for mor in [false, true] {
        let mut spec = TableSpec::new(if mor { "mdt_mor" } else { "mdt_cow" }, schema(), &["id"])
            .partitioned(&["region"], KeyGenKind::Simple)
            .precombine("ts");
        if mor {
            spec = spec.mor();
        }
        let mut s = Scenario::created_by(&mut ctx, spec, Writer::Spark);
        let mdt = [("hoodie.metadata.enable", "true")];
        let rows: Vec<Row> = (1..=4).map(|i| r(i, "a", 1, "spark")).collect();
        s.write_with(Writer::Spark, Op::Insert, rows, &[], &mdt);
        s.write_with(
            Writer::Spark,
            Op::Upsert,
            vec![r(1, "a", 2, "spark 2")],
            &[],
            &mdt,
        );
        let props =
            std::fs::read_to_string(s.path.join(".hoodie/hoodie.properties")).expect("props");
        assert!(
            props.contains("hoodie.table.metadata.partitions=files"),
            "{props}"
        );
        // We refuse, naming the remedy.
        let w = s
            .table()
            .write(Op::Upsert)
            .execute_batches(vec![data::batch(&schema(), &[r(2, "a", 3, "ours")])]);
        let err = s
            .ctx
            .rt
            .block_on(w)
            .expect_err("a table with a metadata table");
        assert!(err.to_string().contains("hudi metadata delete"), "{err}");
        let input = s.ctx.scratch.path().join("mdt-input.parquet");
        let rows = [r(2, "a", 3, "ours")];
        data::write_parquet(&input, &schema(), &[data::batch(&schema(), &rows)]);
        let refused =
            crate::unmaintained::assert_mutations_refused(&s.path, "a metadata table", &input, "a");
        println!("metadata table: {refused} mutations refused");
        let table = s.path.to_string_lossy().to_string();
        let (ok, out, e) = crate::support::run_hudi(&["clean", &table, "--dry-run", "--json"]);
        assert!(ok, "a dry-run clean only looks: {out} {e}");
        s.check("the refusals");
        let (ok, out, e) = crate::support::run_hudi(&["metadata", "delete", &table, "--json"]);
        assert!(ok, "hudi metadata delete: {e}");
        let v: serde_json::Value = serde_json::from_str(&out).expect("json");
        assert!(v["files_deleted"].as_u64().unwrap_or(0) > 0, "{v}");
        assert!(!s.path.join(".hoodie/metadata").exists());
        let props =
            std::fs::read_to_string(s.path.join(".hoodie/hoodie.properties")).expect("props");
        assert!(
            !props.contains("hoodie.table.metadata.partitions"),
            "{props}"
        );
        // A second delete has nothing to do, and says so.
        let (ok, _, e) = crate::support::run_hudi(&["metadata", "delete", &table]);
        assert!(!ok && e.contains("no metadata table"), "{e}");
        // Both write now.
        s.write(
            Writer::Ours,
            Op::Upsert,
            vec![r(2, "a", 3, "ours"), r(5, "b", 1, "ours")],
        );
        s.write(Writer::Spark, Op::Upsert, vec![r(3, "a", 4, "spark 3")]);
        s.write(Writer::Ours, Op::Delete, vec![r(4, "a", 0, "")]);
        // Spark re-enables its metadata table: it lists every file, ours included.
        s.write_with(
            Writer::Spark,
            Op::Upsert,
            vec![r(6, "b", 1, "spark mdt")],
            &[],
            &mdt,
        );
        let want = s.expected(
            crate::support::scenario::Reader::Spark,
            s.model.live.values(),
        );
        let got = crate::support::spark::rows(
            &s.path,
            "snapshot",
            json!({"options": {"hoodie.metadata.enable": "true"}}),
        )
        .expect("Spark read through its metadata table");
        crate::support::scenario::assert_rows(
            "Spark through the rebuilt metadata table",
            &got,
            &want,
        );
        s.check_history();
    }
    println!("metadata table: {}", ctx.summary());
}
