//! Tables with parts this library does not maintain (a metadata table, CDC logs, table version
//! 9, a bootstrap base path, ...): every command that changes a table refuses them, naming the
//! part, and leaves every file as it was; reads and dry runs still work. The metadata table
//! Spark writes by default is checked in `spark_tables::metadata_table_refusal_and_hudi_metadata_delete`.

use std::path::Path;

use arrow::datatypes::{DataType, SchemaRef};
use hudi_core::keygen::KeyGenKind;
use hudi_core::WriteOperation as Op;
use serde_json::json;

use crate::support::data::{self, field, row, Row};
use crate::support::scenario::{Ctx, Scenario, Writer};
use crate::support::spec::TableSpec;
use crate::support::{run_hudi, tree_state};

fn schema() -> SchemaRef {
    data::schema(vec![
        field("id", DataType::Int32),
        field("region", DataType::Utf8),
        field("ts", DataType::Int64),
        field("v", DataType::Utf8),
    ])
}

fn r(id: i32, region: &str, ts: i64, v: &str) -> Row {
    row(json!({"id": id, "region": region, "ts": ts, "v": v}))
}

fn spec(name: &str, mor: bool) -> TableSpec {
    let spec = TableSpec::new(name, schema(), &["id"])
        .partitioned(&["region"], KeyGenKind::Simple)
        .precombine("ts");
    match mor {
        true => spec.mor(),
        false => spec,
    }
}

/// The latest completed write of the table.
fn latest_write(table: &str) -> String {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let t = rt
        .block_on(hudi_core::Table::open(table))
        .unwrap_or_else(|e| panic!("open {table}: {e}"));
    let latest = t
        .timeline()
        .completed_writes()
        .last()
        .expect("a completed write");
    latest.requested().to_string()
}

/// Runs every command that changes a table; each must fail, naming `part`, with every file of
/// the table as it was. Returns how many commands were refused (all of them).
pub fn assert_mutations_refused(table: &Path, part: &str, input: &Path, partition: &str) -> usize {
    assert_refused(table, part, input, partition, true)
}

/// As [`assert_mutations_refused`]; with `files` false, only the commands that change records
/// (writes, compaction, deduplication), the ones a part such as virtual keys concerns.
fn assert_refused(table: &Path, part: &str, input: &Path, partition: &str, files: bool) -> usize {
    let t = table.to_string_lossy().to_string();
    let i = input.to_string_lossy().to_string();
    let latest = latest_write(&t);
    let mut commands: Vec<Vec<&str>> = vec![
        vec!["write", &t, "--input", &i, "--operation", "upsert"],
        vec!["write", &t, "--input", &i, "--operation", "bulk_insert"],
        vec![
            "write",
            &t,
            "--operation",
            "delete_partition",
            "--partitions",
            partition,
        ],
        vec!["compaction", "schedule", &t, "--force"],
        vec!["compaction", "run", &t, "--schedule"],
        vec![
            "repair",
            "deduplicate",
            &t,
            "--partition",
            partition,
            "--apply",
        ],
    ];
    if files {
        commands.extend([
            vec![
                "clean",
                &t,
                "--policy",
                "KEEP_LATEST_FILE_VERSIONS",
                "--retain",
                "1",
            ],
            vec!["rollback", &t],
            vec!["rollback", &t, "--instant", &latest],
            vec!["savepoint", "create", &t],
            vec!["savepoint", "delete", &t, "--instant", &latest],
            vec!["savepoint", "restore", &t, "--instant", &latest],
            vec!["archive", &t],
            vec!["repair", "add-partition-meta", &t, "--apply"],
            vec!["repair", "markers", &t, "--apply"],
            vec!["checkpoint", "set", &t, "--checkpoint", "topic,0:1"],
            vec!["config", "set", &t, "hoodie.cleaner.commits.retained=3"],
        ]);
    }
    // `hudi show` says the table is read only here, naming the part.
    let (ok, out, err) = run_hudi(&["show", &t, "--json"]);
    assert!(ok, "hudi show {t}: {err}");
    let shown: serde_json::Value = serde_json::from_str(&out).expect("show json");
    let parts = shown["unmaintained"].to_string();
    assert!(
        shown["writable"] == false && parts.contains(part),
        "{shown}"
    );
    let before = tree_state(table);
    let mut refused = 0;
    for args in &commands {
        let (ok, out, err) = run_hudi(args);
        assert!(
            !ok,
            "hudi {args:?} was accepted on a table with {part}: {out}"
        );
        assert!(
            err.contains("refused") && err.contains(part),
            "hudi {args:?} did not refuse naming {part:?}: {err}"
        );
        assert_eq!(
            tree_state(table),
            before,
            "hudi {args:?} changed files of a table with {part}"
        );
        refused += 1;
    }
    assert_eq!(refused, commands.len());
    refused
}

/// A table of ours at `table`, made by `hudi write` of `input` keyed by `id` and partitioned
/// by `region`, with `extra` arguments.
fn our_table(table: &Path, input: &Path, extra: &[&str]) {
    let (t, i) = (table.to_string_lossy(), input.to_string_lossy());
    let mut args = vec!["write", &t, "--input", &i, "--record-key", "id"];
    args.extend(["--partition-by", "region"]);
    args.extend(extra);
    let (ok, _, err) = run_hudi(&args);
    assert!(ok, "hudi write {t}: {err}");
}

/// Rows our binary reads, sorted (canonical JSON lines).
fn our_rows(table: &Path) -> Vec<String> {
    let t = table.to_string_lossy();
    let (ok, out, err) = run_hudi(&["read", &t, "--format", "jsonl"]);
    assert!(ok, "hudi read {t}: {err}");
    let mut rows: Vec<String> = out.lines().map(String::from).collect();
    rows.sort();
    rows
}

/// Each part of a table this library does not maintain, made by changing one of our own
/// tables as another writer would have made it: every mutating command refuses, naming it.
#[test]
fn every_mutation_refuses_each_unmaintained_part() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("rows.parquet");
    let rows: Vec<Row> = (1..=6)
        .map(|i| r(i, ["a", "b"][i as usize % 2], 1, "x"))
        .collect();
    data::write_parquet(&input, &schema(), &[data::batch(&schema(), &rows)]);
    // (a property line, what the refusal names, whether file services are refused too)
    let parts: [(&str, &str, bool); 10] = [
        (
            "hoodie.table.metadata.partitions=files\n",
            "a metadata table",
            true,
        ),
        (
            "hoodie.table.metadata.partitions.inflight=files\n",
            "a metadata table",
            true,
        ),
        (
            "hoodie.table.cdc.enabled=true\n",
            "change data capture",
            true,
        ),
        (
            "hoodie.bootstrap.base.path=/elsewhere\n",
            "bootstrap base path",
            true,
        ),
        (
            "hoodie.table.base.file.format=ORC\n",
            "base files in orc",
            true,
        ),
        (
            "hoodie.partition.metafile.use.base.format=true\n",
            "partition metafiles",
            true,
        ),
        (
            "hoodie.table.secondary.indexes.metadata={}\n",
            "indexes",
            true,
        ),
        (
            "hoodie.table.some.future.key=1\n",
            "unknown to this library",
            true,
        ),
        // Keys not stored, or merged by a rule not implemented: only record changes care.
        (
            "hoodie.populate.meta.fields=false\n",
            "without meta fields",
            false,
        ),
        (
            "hoodie.compaction.payload.class=com.example.MyPayload\n",
            "MyPayload",
            false,
        ),
    ];
    let mut checked = 0;
    for (n, (line, part, files)) in parts.iter().enumerate() {
        let table = dir.path().join(format!("t{n}"));
        our_table(&table, &input, &["--precombine", "ts", "--type", "mor"]);
        let props = table.join(".hoodie/hoodie.properties");
        let text = std::fs::read_to_string(&props).expect("hoodie.properties");
        std::fs::write(&props, format!("{text}{line}")).expect("write hoodie.properties");
        checked += assert_refused(&table, part, &input, "a", *files);
    }
    // The consistent-hashing bucket index, found by its metadata on storage.
    let table = dir.path().join("consistent");
    our_table(&table, &input, &[]);
    let meta = table.join(".hoodie/.bucket_index/consistent_hashing_metadata/a");
    std::fs::create_dir_all(&meta).expect("mkdir");
    std::fs::write(meta.join("00000000000000.hashing_meta"), b"{}").expect("write");
    checked += assert_mutations_refused(&table, "consistent-hashing", &input, "a");
    assert_eq!(checked, 9 * 17 + 2 * 6);
    println!("unmaintained parts: {checked} mutations refused, nothing written");
}

/// Table version 9 (Apache Hudi 1.2, with its metadata table): clean, savepoints and every
/// other mutation refuse it; it still reads as before.
#[test]
fn version_9_table_refuses_every_mutation() {
    let Some(shared) = crate::support::shared_dir("version_9_table_refuses_every_mutation") else {
        return;
    };
    let zip = shared.join("fixtures/sample_table/cow/v9_txns_simple_meta.zip");
    let dir = tempfile::tempdir().expect("tempdir");
    let status = std::process::Command::new("unzip")
        .args(["-q", "-o"])
        .arg(&zip)
        .arg("-d")
        .arg(dir.path())
        .status()
        .expect("unzip");
    assert!(status.success(), "unzip {}", zip.display());
    let table = dir.path().join("v9_txns_simple_meta");
    let rows = our_rows(&table);
    assert!(!rows.is_empty());
    let input = dir.path().join("rows.parquet");
    let (ok, out, err) = run_hudi(&[
        "read",
        &table.to_string_lossy(),
        "--output",
        &input.to_string_lossy(),
    ]);
    assert!(ok, "hudi read --output: {out} {err}");
    let partition = std::fs::read_dir(&table)
        .expect("table dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .find(|n| !n.starts_with('.'))
        .expect("a partition");
    let refused = assert_mutations_refused(&table, "table version 9", &input, &partition);
    assert_eq!(our_rows(&table), rows, "reads changed");
    println!("version 9: {refused} mutations refused, nothing written, reads unchanged");
}

/// A table Spark created with change data capture on: our writes would leave its CDC query
/// without the CDC log files it needs ("There should be a cdc log file"), so every mutation
/// refuses; Spark's own CDC query still works.
#[test]
fn spark_cdc_table_refuses_every_mutation() {
    let Some(mut ctx) = Ctx::setup("spark_cdc_table_refuses_every_mutation") else {
        return;
    };
    if !ctx.spark {
        return;
    }
    let cdc = [("hoodie.table.cdc.enabled", "true")];
    let mut s = Scenario::created_by(&mut ctx, spec("cdc_refusals", false), Writer::Spark);
    let rows: Vec<Row> = (1..=6)
        .map(|i| r(i, ["a", "b"][i as usize % 2], 1, "spark"))
        .collect();
    s.write_with(Writer::Spark, Op::Insert, rows.clone(), &[], &cdc);
    s.write_with(
        Writer::Spark,
        Op::Upsert,
        vec![r(2, "a", 2, "spark 2")],
        &[],
        &cdc,
    );
    let input = s.ctx.scratch.path().join("cdc-input.parquet");
    data::write_parquet(&input, &schema(), &[data::batch(&schema(), &rows)]);
    let refused = assert_mutations_refused(&s.path, "change data capture", &input, "region=a");
    let got = crate::support::spark::rows(
        &s.path,
        "incremental",
        json!({"start": "000", "options": {"hoodie.datasource.query.incremental.format": "cdc"}}),
    )
    .expect("Spark's CDC query");
    // One change per insert, one for the update.
    assert_eq!(got.len(), rows.len() + 1, "{got:?}");
    println!("cdc: {refused} mutations refused; {}", s.ctx.summary());
}
