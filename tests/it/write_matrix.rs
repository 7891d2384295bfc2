//! The write matrix: copy-on-write and merge-on-read tables over every operation, index, key
//! generator, hive-style on and off, schema evolution, deletes by key and by
//! `_hoodie_is_deleted`, a crashed write rolled back by the next, Spark's upserts and deletes
//! on top of ours and ours again on top of Spark's. After every step our reader, hudi-rs and
//! Spark read exactly the model (snapshot and read-optimized); at the end every commit's
//! as-of and incremental reads. Every Bloom filter must be Hudi's bytes, every file name
//! Hudi's pattern, every log file must walk cleanly.

use std::path::{Path, PathBuf};

use arrow::datatypes::{DataType, SchemaRef};
use hudi_core::keygen::KeyGenKind;
use hudi_core::write::config::IndexType;
use hudi_core::WriteOperation as Op;
use serde_json::json;

use crate::support::data::{self, field, row, Row};
use crate::support::scenario::{Ctx, Scenario, Writer};
use crate::support::spec::TableSpec;
use crate::support::{self as sup};

fn schema() -> SchemaRef {
    data::schema(vec![
        field("id", DataType::Int32),
        field("name", DataType::Utf8),
        field("region", DataType::Utf8),
        field("ts", DataType::Int64),
        field("amount", DataType::Float64),
        field("day", DataType::Date32),
        field("event_ms", DataType::Int64),
        field("price", DataType::Decimal128(10, 2)),
        field("_hoodie_is_deleted", DataType::Boolean),
        field("note", DataType::Utf8),
    ])
}

fn date(days: i64) -> String {
    (chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch") + chrono::Duration::days(days))
        .format("%Y-%m-%d")
        .to_string()
}

/// A record of the matrix's data.
fn r(id: i32, region: Option<&str>, ts: i64, amount: f64) -> Row {
    let price = i64::from(id) * 1_250 + 1;
    row(json!({
        "id": id, "name": format!("n{id}"), "region": region, "ts": ts, "amount": amount,
        "day": date(19_000 + i64::from(id % 3)),
        "event_ms": 1_700_000_000_000i64 + i64::from(id % 4) * 86_400_000,
        "price": format!("{}.{:02}", price / 100, price % 100),
    }))
}

fn flagged(mut x: Row, deleted: bool) -> Row {
    x.insert("_hoodie_is_deleted".into(), json!(deleted));
    x
}

fn noted(mut x: Row, note: &str) -> Row {
    x.insert("note".into(), json!(note));
    x
}

/// Bulk insert, insert, upsert (with duplicates in the batch), a crashed write, delete by
/// key, `_hoodie_is_deleted`, Spark's upsert and delete, ours again with a new column,
/// insert_overwrite, insert_overwrite_table and delete_partition.
fn cow_steps(s: &mut Scenario) {
    let region = |i: i32| {
        if i == 6 {
            None
        } else if i % 2 == 0 {
            Some("a")
        } else {
            Some("b")
        }
    };
    let first: Vec<Row> = (1..=6).map(|i| r(i, region(i), 1, f64::from(i))).collect();
    s.write(Writer::Ours, Op::BulkInsert, first);
    s.write(
        Writer::Ours,
        Op::Insert,
        vec![r(7, Some("a"), 1, 7.0), r(8, Some("c"), 1, 8.0)],
    );
    s.write(
        Writer::Ours,
        Op::Upsert,
        vec![
            r(2, Some("a"), 5, 20.0),
            r(3, Some("b"), 5, 30.0),
            r(4, Some("a"), 9, 41.0),
            r(4, Some("a"), 7, 40.0),
            r(9, Some("c"), 1, 9.0),
        ],
    );
    s.crashed_write(
        Op::Upsert,
        vec![r(2, Some("a"), 6, 666.0), r(30, Some("a"), 1, 30.0)],
    );
    s.write(
        Writer::Ours,
        Op::Delete,
        vec![r(1, Some("b"), 0, 0.0), r(9, Some("c"), 0, 0.0)],
    );
    s.write(
        Writer::Ours,
        Op::Upsert,
        vec![
            flagged(r(5, Some("b"), 50, 0.0), true),
            flagged(r(10, Some("b"), 1, 10.5), false),
        ],
    );
    if s.ctx.spark {
        // Spark's writer rolls back our crashed replace commit (reading its requested
        // replace metadata) before its own write.
        s.crashed_write(Op::InsertOverwrite, vec![r(40, Some("a"), 1, 40.0)]);
        s.write(
            Writer::Spark,
            Op::Upsert,
            vec![
                r(2, Some("a"), 20, 22.0),
                r(11, Some("c"), 1, 11.0),
                flagged(r(3, Some("b"), 60, 0.0), true),
            ],
        );
        s.write(Writer::Spark, Op::Delete, vec![r(4, Some("a"), 0, 0.0)]);
    }
    s.write(
        Writer::Ours,
        Op::Upsert,
        vec![
            noted(r(2, Some("a"), 30, 23.0), "after spark"),
            noted(r(12, Some("c"), 1, 12.0), "new column"),
        ],
    );
    s.write(
        Writer::Ours,
        Op::InsertOverwrite,
        vec![r(13, Some("a"), 1, 13.0), r(14, Some("a"), 1, 14.0)],
    );
    s.write(
        Writer::Ours,
        Op::InsertOverwriteTable,
        vec![r(20, Some("x"), 1, 20.0), r(21, Some("y"), 1, 21.0)],
    );
    if !s.spec.partition_by.is_empty() {
        let x = s.spec.partition_path(&r(20, Some("x"), 1, 0.0));
        s.write_with(Writer::Ours, Op::DeletePartition, vec![], &[&x], &[]);
    }
}

/// Bulk insert, insert, upsert, delete, a crashed write, `_hoodie_is_deleted`, Spark's upsert
/// and delete, ours again with a new column, insert_overwrite, insert_overwrite_table, an
/// upsert into a log, delete_partition.
fn mor_steps(s: &mut Scenario) {
    let first: Vec<Row> = (1..=6)
        .map(|i| r(i, Some(if i % 2 == 0 { "a" } else { "b" }), 1, f64::from(i)))
        .collect();
    s.write(Writer::Ours, Op::BulkInsert, first);
    s.write(Writer::Ours, Op::Insert, vec![r(8, Some("b"), 1, 8.0)]);
    s.write(
        Writer::Ours,
        Op::Upsert,
        vec![
            r(2, Some("a"), 5, 20.0),
            r(3, Some("b"), 5, 30.0),
            r(4, Some("a"), 9, 41.0),
            r(4, Some("a"), 7, 40.0),
            r(7, Some("c"), 1, 7.0),
        ],
    );
    s.write(
        Writer::Ours,
        Op::Delete,
        vec![r(1, Some("b"), 0, 0.0), r(7, Some("c"), 0, 0.0)],
    );
    s.crashed_write(
        Op::Upsert,
        vec![r(2, Some("a"), 6, 666.0), r(30, Some("a"), 1, 30.0)],
    );
    s.write(
        Writer::Ours,
        Op::Upsert,
        vec![
            flagged(r(5, Some("b"), 50, 0.0), true),
            flagged(r(10, Some("b"), 1, 10.0), false),
        ],
    );
    if s.ctx.spark {
        // Spark's writer rolls back our crashed delta commit (its log files) first.
        s.crashed_write(
            Op::Upsert,
            vec![r(3, Some("b"), 7, 99.0), r(41, Some("a"), 1, 41.0)],
        );
        s.write(
            Writer::Spark,
            Op::Upsert,
            vec![
                r(2, Some("a"), 20, 22.0),
                r(11, Some("c"), 1, 11.0),
                flagged(r(3, Some("b"), 60, 0.0), true),
            ],
        );
        s.write(Writer::Spark, Op::Delete, vec![r(4, Some("a"), 0, 0.0)]);
    }
    s.write(
        Writer::Ours,
        Op::Upsert,
        vec![
            noted(r(2, Some("a"), 30, 23.0), "after spark"),
            noted(r(12, Some("c"), 1, 12.0), "new column"),
        ],
    );
    s.write(
        Writer::Ours,
        Op::InsertOverwrite,
        vec![r(13, Some("a"), 1, 13.0), r(14, Some("a"), 1, 14.0)],
    );
    s.write(
        Writer::Ours,
        Op::InsertOverwriteTable,
        vec![r(20, Some("x"), 1, 20.0), r(21, Some("y"), 1, 21.0)],
    );
    s.write(Writer::Ours, Op::Upsert, vec![r(21, Some("y"), 2, 21.5)]);
    if !s.spec.partition_by.is_empty() {
        let x = s.spec.partition_path(&r(20, Some("x"), 1, 0.0));
        s.write_with(Writer::Ours, Op::DeletePartition, vec![], &[&x], &[]);
    }
}

fn cow_specs() -> Vec<TableSpec> {
    let base = |name: &str, key: &[&str]| TableSpec::new(name, schema(), key).precombine("ts");
    vec![
        base("cow_simple", &["id"]).partitioned(&["region"], KeyGenKind::Simple),
        base("cow_complex_hive", &["id", "name"])
            .partitioned(&["region", "day"], KeyGenKind::Complex)
            .hive_style()
            .index(IndexType::Simple),
        base("cow_nonpartitioned_global_lz4", &["id"])
            .index(IndexType::GlobalBloom)
            // parquet-mr's LZ4 (Hadoop framing), which Java reads.
            .option("hoodie.parquet.compression.codec", "lz4"),
        base("cow_timestamp_global_simple", &["id"])
            .timestamp_partitioned("event_ms")
            .index(IndexType::GlobalSimple)
            // Every input row goes through the on-disk spill.
            .option("hoodie.write.spill.threshold.bytes", "1"),
        base("cow_custom_hive_bucket", &["id"])
            .partitioned(&["region:SIMPLE", "event_ms:TIMESTAMP"], KeyGenKind::Custom)
            .option(
                "hoodie.keygen.timebased.timestamp.type",
                "EPOCHMILLISECONDS",
            )
            // A format without '/': hive-style paths with one would hold more levels than
            // partition fields, which Spark cannot map back to columns.
            .option("hoodie.keygen.timebased.output.dateformat", "yyyyMMdd")
            .hive_style()
            .buckets(4),
    ]
}

fn mor_specs() -> Vec<TableSpec> {
    let base =
        |name: &str, key: &[&str]| TableSpec::new(name, schema(), key).precombine("ts").mor();
    vec![
        base("mor_simple_bloom", &["id"]).partitioned(&["region"], KeyGenKind::Simple),
        base("mor_nonpartitioned_bucket_parquet_logs", &["id"])
            .buckets(4)
            .option("hoodie.logfile.data.block.format", "parquet")
            .option("hoodie.parquet.compression.codec", "zstd"),
        base("mor_complex_hive_global", &["id", "name"])
            .partitioned(&["region", "day"], KeyGenKind::Complex)
            .hive_style()
            .index(IndexType::GlobalBloom),
        base("mor_simple_bucket_rollover", &["id"])
            .partitioned(&["region"], KeyGenKind::Simple)
            .buckets(2)
            .option("hoodie.logfile.max.size", "1")
            .option("hoodie.logfile.data.block.max.size", "400"),
    ]
}

/// Hudi's own checkers on every file of a table: Bloom filters and file names; and the codec
/// of our base files is the one the spec asks for (as parquet-mr names it).
fn check_files(ctx: &mut Ctx, path: &Path, what: &str, codec: Option<&str>) {
    if let Some(codec) = codec {
        // Our base files (they carry an Arrow schema; Spark's do not): every column chunk.
        let mut seen = std::collections::BTreeSet::new();
        for f in sup::all_files(path) {
            let name = f
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            if !name.ends_with(".parquet") || name.starts_with('.') {
                continue;
            }
            let reader = parquet::file::serialized_reader::SerializedFileReader::new(
                std::fs::File::open(&f).expect("open"),
            )
            .expect("parquet");
            use parquet::file::reader::FileReader;
            let md = reader.metadata();
            let ours = md
                .file_metadata()
                .key_value_metadata()
                .is_some_and(|kv| kv.iter().any(|k| k.key == "ARROW:schema"));
            if ours {
                for c in md.row_group(0).columns() {
                    let kind = format!("{:?}", c.compression());
                    seen.insert(kind.split('(').next().unwrap_or_default().to_string());
                }
            }
        }
        let want = std::collections::BTreeSet::from([codec.to_ascii_uppercase()]);
        assert_eq!(seen, want, "{what}: codecs of our base files");
    }
    let (rc, out, err) = ctx.oracle.checker("verify_all_blooms.py", &[path]);
    assert_eq!(rc, 0, "{what}: {err}");
    let summary = out
        .lines()
        .find(|l| l.starts_with("files="))
        .unwrap_or_default()
        .to_string();
    assert!(
        summary.contains("failures=0") && !summary.contains("False"),
        "{what}: {summary}\n{out}"
    );
    // Every base file was checked: each carries a Bloom filter.
    let checked: usize = summary
        .split_whitespace()
        .find_map(|w| w.strip_prefix("files="))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{what}: no file count in {summary:?}"));
    let base_files = sup::all_files(path)
        .iter()
        .filter(|f| {
            let rel = f
                .strip_prefix(path)
                .unwrap_or(f)
                .to_string_lossy()
                .to_string();
            rel.ends_with(".parquet") && !rel.starts_with(".hoodie")
        })
        .count();
    assert!(checked > 0, "{what}: the Bloom checker looked at no file");
    assert_eq!(
        checked, base_files,
        "{what}: base files with a Bloom filter"
    );
    let (rc, out, err) = ctx.oracle.checker("check_names.py", &[path]);
    assert_eq!(rc, 0, "{what}: {err}");
    assert!(out.contains("unparsed=0"), "{what}: {out}");
}

/// Walks every log file of the tables with the oracle's walker.
fn walk_logs(ctx: &mut Ctx, tables: &[PathBuf]) -> usize {
    let logs: Vec<PathBuf> = tables
        .iter()
        .flat_map(|t| sup::all_files(t))
        .filter(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().to_string());
            // Hadoop's local file system writes a `.crc` beside each of Spark's files.
            name.is_some_and(|n| n.contains(".log.") && !n.ends_with(".crc"))
        })
        .collect();
    let mut args: Vec<&Path> = vec![Path::new("-v")];
    args.extend(logs.iter().map(PathBuf::as_path));
    let (rc, out, err) = ctx.oracle.checker("walk_log.py", &args);
    assert_eq!(rc, 0, "walk_log.py failed: {err}\n{out}");
    assert!(
        !out.contains("Traceback") && !out.to_lowercase().contains("error"),
        "{out}"
    );
    assert!(
        out.contains("DELETE_BLOCK") && out.contains("AVRO_DATA_BLOCK"),
        "{out}"
    );
    logs.len()
}

#[test]
fn cow_write_matrix_reads_back_through_every_reader() {
    let Some(mut ctx) = Ctx::setup("cow_write_matrix_reads_back_through_every_reader") else {
        return;
    };
    for spec in cow_specs() {
        let mut s = Scenario::new(&mut ctx, spec);
        cow_steps(&mut s);
        s.check_history();
        let (path, name) = (s.path.clone(), s.spec.name.clone());
        let codec = s
            .spec
            .options
            .get("hoodie.parquet.compression.codec")
            .cloned();
        check_files(&mut ctx, &path, &name, codec.as_deref());
    }
    println!("copy-on-write matrix: {}", ctx.summary());
}

#[test]
fn mor_write_matrix_reads_back_through_every_reader() {
    let Some(mut ctx) = Ctx::setup("mor_write_matrix_reads_back_through_every_reader") else {
        return;
    };
    let mut tables = Vec::new();
    for spec in mor_specs() {
        let mut s = Scenario::new(&mut ctx, spec);
        mor_steps(&mut s);
        s.check_history();
        tables.push(s.path.clone());
    }
    let logs = walk_logs(&mut ctx, &tables);
    println!(
        "merge-on-read matrix: {}; {logs} log files walked",
        ctx.summary()
    );
}
