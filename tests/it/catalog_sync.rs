//! Catalog sync planned and applied into a catalog in memory: what is registered for
//! copy-on-write and merge-on-read tables, partitioned or not, and how later syncs follow new
//! partitions, new columns, delete_partition and insert_overwrite_table, reading only the
//! commits after the last synced one and making no call when nothing changed.

use std::collections::BTreeMap;

use arrow::datatypes::DataType;
use hudi_core::config::table::TableType;
use hudi_core::{Table, TableBuilder, WriteOperation as Op};
use hudi_glue_sync::memory::MemoryCatalog;
use hudi_glue_sync::{MetastoreClient, SyncOutcome, SyncTool};
use serde_json::json;

use crate::support::data::{self, field, row, Row};

fn r(id: i64, city: &str, v: &str) -> Row {
    row(json!({"id": id, "city": city, "ts": 1, "v": v}))
}

fn with_extra(id: i64, city: &str) -> Row {
    row(json!({"id": id, "city": city, "ts": 2, "v": "x", "extra": id * 10}))
}

struct Fixture {
    _dir: tempfile::TempDir,
    path: String,
    rt: tokio::runtime::Runtime,
}

impl Fixture {
    fn new(table_type: TableType, partitioned: bool) -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("trips").to_string_lossy().to_string();
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        rt.block_on(async {
            let mut b = TableBuilder::new(path.clone())
                .with_table_type(table_type)
                .with_record_key_fields(vec!["id".into()])
                .with_precombine_field("ts")
                .with_hive_style_partitioning(true);
            if partitioned {
                b = b.with_partition_fields(vec!["city".into()]);
            }
            b.create().await.expect("create");
        });
        Fixture {
            _dir: dir,
            path,
            rt,
        }
    }

    fn table(&self) -> Table {
        self.rt.block_on(Table::open(&self.path)).expect("open")
    }

    fn write(&self, op: Op, rows: &[Row], partitions: &[&str]) {
        let extra = rows.iter().any(|r| r.contains_key("extra"));
        let mut fields = vec![
            field("id", DataType::Int64),
            field("city", DataType::Utf8),
            field("ts", DataType::Int64),
            field("v", DataType::Utf8),
        ];
        if extra {
            fields.push(field("extra", DataType::Int64));
        }
        let schema = data::schema(fields);
        let t = self.table();
        let batches = if rows.is_empty() {
            Vec::new()
        } else {
            vec![data::batch(&schema, rows)]
        };
        self.rt
            .block_on(
                t.write(op)
                    .with_partitions(partitions.iter().map(|p| p.to_string()).collect())
                    .execute_batches(batches),
            )
            .expect("write");
    }

    fn sync(&self, catalog: &MemoryCatalog, extra: &[(&str, &str)]) -> SyncOutcome {
        let t = self.table();
        let mut tool =
            SyncTool::new(&t, catalog).with_option("hoodie.datasource.hive_sync.database", "lake");
        for (k, v) in extra {
            tool = tool.with_option(*k, *v);
        }
        self.rt.block_on(tool.run()).expect("sync")
    }
}

fn partitions(c: &MemoryCatalog, table: &str) -> BTreeMap<Vec<String>, String> {
    c.table("lake", table).expect("registered").1
}

#[test]
fn copy_on_write_sync_follows_partitions_columns_and_drops() {
    let f = Fixture::new(TableType::CopyOnWrite, true);
    f.write(
        Op::Insert,
        &[r(1, "ams", "a"), r(2, "ber", "a"), r(3, "cph", "a")],
        &[],
    );
    let c = MemoryCatalog::new();
    let first = f.sync(&c, &[]);
    assert!(first.plan.create_database);
    let t = &first.plan.tables[0];
    assert!(
        t.create && t.full_listing.is_some(),
        "{}",
        first.plan.to_json()
    );
    let (def, parts) = c.table("lake", "trips").expect("trips");
    let cols: Vec<(&str, &str)> = def
        .columns
        .iter()
        .map(|c| (c.name.as_str(), c.type_name.as_str()))
        .collect();
    assert_eq!(
        cols,
        vec![
            ("_hoodie_commit_time", "string"),
            ("_hoodie_commit_seqno", "string"),
            ("_hoodie_record_key", "string"),
            ("_hoodie_partition_path", "string"),
            ("_hoodie_file_name", "string"),
            ("id", "bigint"),
            ("ts", "bigint"),
            ("v", "string"),
        ]
    );
    assert_eq!(def.partition_keys[0].name, "city");
    assert_eq!(
        def.input_format,
        "org.apache.hudi.hadoop.HoodieParquetInputFormat"
    );
    assert_eq!(def.parameters["EXTERNAL"], "TRUE");
    assert_eq!(def.parameters["spark.sql.sources.provider"], "hudi");
    assert_eq!(def.parameters["spark.sql.sources.schema.partCol.0"], "city");
    assert_eq!(def.serde_parameters["hoodie.query.as.ro.table"], "false");
    assert_eq!(def.serde_parameters["path"], f.path);
    let latest = f
        .table()
        .timeline()
        .completed_writes()
        .last()
        .unwrap()
        .requested()
        .to_string();
    assert_eq!(def.parameters["last_commit_time_sync"], latest);
    assert_eq!(parts.len(), 3);
    assert_eq!(
        parts[&vec!["ams".to_string()]],
        format!("{}/city=ams", f.path)
    );

    // Nothing new: no write call.
    let before = c.calls();
    let again = f.sync(&c, &[]);
    assert!(again.plan.is_noop(), "{}", again.plan.to_json());
    assert_eq!(c.calls().writes, before.writes);

    // A new partition and a new column: only the commit since is read.
    f.write(
        Op::Upsert,
        &[with_extra(4, "dub"), with_extra(1, "ams")],
        &[],
    );
    let s = f.sync(&c, &[]);
    let t = &s.plan.tables[0];
    assert_eq!(t.full_listing, None, "incremental: {}", s.plan.to_json());
    assert_eq!(t.columns_added, vec!["extra"]);
    assert_eq!(t.add.len(), 1);
    assert_eq!(partitions(&c, "trips").len(), 4);
    let (def, _) = c.table("lake", "trips").unwrap();
    assert_eq!(def.columns.last().map(|c| c.name.as_str()), Some("extra"));

    // A dropped partition leaves the catalog.
    f.write(Op::DeletePartition, &[], &["city=ber"]);
    let s = f.sync(&c, &[]);
    assert_eq!(s.plan.tables[0].drop, vec![vec!["ber".to_string()]]);
    assert!(!partitions(&c, "trips").contains_key(&vec!["ber".to_string()]));

    // insert_overwrite_table keeps only the partitions it writes.
    f.write(Op::InsertOverwriteTable, &[with_extra(9, "oslo")], &[]);
    let s = f.sync(&c, &[]);
    let got: Vec<Vec<String>> = partitions(&c, "trips").into_keys().collect();
    assert_eq!(got, vec![vec!["oslo".to_string()]], "{}", s.plan.to_json());
}

#[test]
fn merge_on_read_registers_ro_and_rt_and_unpartitioned_tables_have_no_partitions() {
    let f = Fixture::new(TableType::MergeOnRead, true);
    f.write(Op::Insert, &[r(1, "ams", "a"), r(2, "ber", "a")], &[]);
    let c = MemoryCatalog::new();
    f.sync(&c, &[]);
    let (ro, ro_parts) = c.table("lake", "trips_ro").expect("ro");
    let (rt, rt_parts) = c.table("lake", "trips_rt").expect("rt");
    assert_eq!(ro.serde_parameters["hoodie.query.as.ro.table"], "true");
    assert_eq!(rt.serde_parameters["hoodie.query.as.ro.table"], "false");
    assert_eq!(
        rt.input_format,
        "org.apache.hudi.hadoop.realtime.HoodieParquetRealtimeInputFormat"
    );
    assert_eq!(ro_parts, rt_parts);
    assert_eq!(ro_parts.len(), 2);
    let c2 = MemoryCatalog::new();
    f.sync(
        &c2,
        &[("hoodie.datasource.hive_sync.skip_ro_suffix", "true")],
    );
    assert!(c2.table("lake", "trips").is_some() && c2.table("lake", "trips_rt").is_some());

    let u = Fixture::new(TableType::CopyOnWrite, false);
    u.write(Op::Insert, &[r(1, "ams", "a")], &[]);
    let c3 = MemoryCatalog::new();
    u.sync(&c3, &[]);
    let (def, parts) = c3.table("lake", "trips").expect("trips");
    assert!(def.partition_keys.is_empty() && parts.is_empty());
    assert!(
        def.columns.iter().any(|c| c.name == "city"),
        "a data column now"
    );
}

#[test]
fn a_dry_run_plans_without_calls_and_an_incompatible_change_is_named() {
    let f = Fixture::new(TableType::CopyOnWrite, true);
    f.write(Op::Insert, &[r(1, "ams", "a")], &[]);
    let c = MemoryCatalog::new();
    let t = f.table();
    let dry =
        f.rt.block_on(SyncTool::new(&t, &c).with_dry_run(true).run())
            .expect("dry run");
    assert!(!dry.applied && dry.plan.tables[0].create);
    assert_eq!(c.calls().writes, 0);
    assert!(c.table("default", "trips").is_none());
    f.sync(&c, &[]);
    // The catalog's `id` made a string by someone else: the table's bigint cannot follow.
    let (mut def, _) = c.table("lake", "trips").unwrap();
    for col in def.columns.iter_mut().filter(|c| c.name == "id") {
        col.type_name = "string".into();
    }
    f.rt.block_on(c.update_table("lake", &def, false)).unwrap();
    f.write(Op::Upsert, &[r(2, "ams", "b")], &[]);
    let err =
        f.rt.block_on(
            SyncTool::new(&f.table(), &c)
                .with_option("hoodie.datasource.hive_sync.database", "lake")
                .run(),
        )
        .expect_err("incompatible");
    let msg = err.to_string();
    assert!(
        msg.contains("'id'") && msg.contains("string") && msg.contains("bigint"),
        "{msg}"
    );
}
