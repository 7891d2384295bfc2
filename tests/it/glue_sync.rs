//! `hudi sync glue` against moto's Glue on loopback: what is registered (read back with the
//! shared `glue_dump.py`), later syncs that follow new partitions, a new column,
//! delete_partition and insert_overwrite_table, a second sync that makes no write call, and
//! 5,000 partitions.

use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};

use crate::support::{self, moto::S3};

struct Glue {
    s3: S3,
    dir: tempfile::TempDir,
}

impl Glue {
    fn hudi(&self, args: &[&str]) -> String {
        let env = [
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("AWS_REGION", "us-east-1"),
        ];
        let (ok, out, err) = support::run_hudi_env(args, &env);
        assert!(ok, "hudi {args:?}: {err}");
        out
    }

    fn sync(&self, table: &Path, extra: &[&str]) -> Value {
        let t = table.to_string_lossy();
        let mut args = vec![
            "sync",
            "glue",
            &t,
            "--database",
            "lake",
            "--endpoint",
            &self.s3.endpoint,
            "--json",
        ];
        args.extend(extra);
        serde_json::from_str(self.hudi(&args).trim()).expect("sync json")
    }

    /// The database as `glue_dump.py` dumps it.
    fn dump(&self) -> Value {
        self.dump_db("lake")
    }

    fn dump_db(&self, db: &str) -> Value {
        let out = Command::new(&self.s3.python)
            .arg(self.s3.shared.join("oracle/glue_dump.py"))
            .args([db, "--endpoint", &self.s3.endpoint, "--region", "us-east-1"])
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .output()
            .expect("glue_dump");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("dump json")
    }

    fn input(&self, name: &str, rows: &[String]) -> String {
        support::sync::jsonl(self.dir.path(), name, rows)
    }
}

fn table<'a>(dump: &'a Value, name: &str) -> &'a Value {
    dump["tables"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["Name"] == name))
        .unwrap_or_else(|| panic!("no table {name} in {dump}"))
}

fn partition_values(t: &Value) -> Vec<String> {
    t["Partitions"]
        .as_array()
        .map(|p| {
            p.iter()
                .map(|p| p["Values"][0].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn row(id: u32, city: &str, extra: bool) -> String {
    if extra {
        format!("{{\"id\":{id},\"city\":\"{city}\",\"ts\":2,\"v\":\"x\",\"extra\":{id}}}")
    } else {
        format!("{{\"id\":{id},\"city\":\"{city}\",\"ts\":1,\"v\":\"a\"}}")
    }
}

#[test]
fn glue_sync_registers_and_follows_the_table() {
    let Some(s3) = S3::start("glue_sync_registers_and_follows_the_table", "unused") else {
        return;
    };
    let g = Glue {
        s3,
        dir: tempfile::tempdir().expect("tempdir"),
    };
    let t = g.dir.path().join("trips");
    let ts = t.to_string_lossy().to_string();
    let first = g.input(
        "1.jsonl",
        &["ams", "ber", "cph"]
            .iter()
            .enumerate()
            .map(|(i, c)| row(i as u32, c, false))
            .collect::<Vec<_>>(),
    );
    g.hudi(&support::sync::write_by_city(&ts, &first, &[]));
    let s = g.sync(&t, &[]);
    assert_eq!(s["create_database"], true, "{s}");
    let d = g.dump();
    let trips = table(&d, "trips");
    let sd = &trips["StorageDescriptor"];
    assert_eq!(trips["TableType"], "EXTERNAL_TABLE");
    assert_eq!(trips["Parameters"]["EXTERNAL"], "TRUE");
    assert_eq!(trips["Parameters"]["spark.sql.sources.provider"], "hudi");
    assert_eq!(
        trips["Parameters"]["hudi.metadata-listing-enabled"],
        "FALSE"
    );
    assert_eq!(trips["PartitionKeys"][0]["Name"], "city");
    assert_eq!(
        sd["InputFormat"],
        "org.apache.hudi.hadoop.HoodieParquetInputFormat"
    );
    assert_eq!(
        sd["SerdeInfo"]["SerializationLibrary"],
        "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    );
    assert_eq!(
        sd["SerdeInfo"]["Parameters"]["hoodie.query.as.ro.table"],
        "false"
    );
    assert_eq!(sd["Location"], Value::from(ts.clone()));
    assert_eq!(partition_values(trips), vec!["ams", "ber", "cph"]);
    let p0 = &trips["Partitions"][0]["StorageDescriptor"];
    assert_eq!(p0["Location"], Value::from(format!("{ts}/city=ams")));
    assert_eq!(p0["InputFormat"], sd["InputFormat"]);
    let latest = s["tables"][0]["last_commit_time_sync"]["after"].clone();
    assert_eq!(trips["Parameters"]["last_commit_time_sync"], latest);

    // Nothing new: reads only.
    let again = g.sync(&t, &[]);
    assert_eq!(again["calls"]["writes"], 0, "{again}");
    // A dry run says what it would do and does nothing.
    let second = g.input("2.jsonl", &[row(10, "dub", true), row(0, "ams", true)]);
    g.hudi(&["write", &ts, "--input", &second]);
    let dry = g.sync(&t, &["--dry-run"]);
    assert_eq!(dry["applied"], false);
    assert_eq!(dry["calls"]["writes"], 0);
    assert_eq!(dry["tables"][0]["columns_added"][0], "extra", "{dry}");
    // Applied: incrementally, from the commit after the last synced one.
    let s = g.sync(&t, &[]);
    assert_eq!(s["tables"][0]["full_listing"], Value::Null, "{s}");
    let d = g.dump();
    let trips = table(&d, "trips");
    let cols = trips["StorageDescriptor"]["Columns"]
        .as_array()
        .expect("columns");
    assert_eq!(cols.last().map(|c| &c["Name"]), Some(&Value::from("extra")));
    assert_eq!(partition_values(trips), vec!["ams", "ber", "cph", "dub"]);
    // The new column reaches the partitions that were there before (a cascade).
    for p in trips["Partitions"].as_array().expect("partitions") {
        let cols = p["StorageDescriptor"]["Columns"]
            .as_array()
            .expect("columns");
        assert_eq!(
            cols.last().map(|c| &c["Name"]),
            Some(&Value::from("extra")),
            "{p}"
        );
    }

    g.hudi(&[
        "write",
        &ts,
        "--operation",
        "delete_partition",
        "--partitions",
        "city=ber",
    ]);
    g.sync(&t, &[]);
    assert_eq!(
        partition_values(table(&g.dump(), "trips")),
        vec!["ams", "cph", "dub"]
    );
    let over = g.input("3.jsonl", &[row(20, "oslo", true)]);
    g.hudi(&[
        "write",
        &ts,
        "--input",
        &over,
        "--operation",
        "insert_overwrite_table",
    ]);
    g.sync(&t, &[]);
    assert_eq!(partition_values(table(&g.dump(), "trips")), vec!["oslo"]);

    // Merge-on-read, not partitioned, synced by the write itself (Hudi's writer options):
    // _ro, _rt and the plain name, without partitions.
    let m = g.dir.path().join("events");
    let ms = m.to_string_lossy().to_string();
    let endpoint = format!("hoodie.aws.glue.endpoint={}", g.s3.endpoint);
    let out = g.hudi(&[
        "write",
        &ms,
        "--input",
        &first,
        "--record-key",
        "id",
        "--precombine",
        "ts",
        "--type",
        "mor",
        "--json",
        "--option",
        "hoodie.datasource.meta.sync.enable=true",
        "--option",
        "hoodie.meta.sync.client.tool.class=org.apache.hudi.aws.sync.AwsGlueCatalogSyncTool",
        "--option",
        "hoodie.datasource.hive_sync.database=lake",
        "--option",
        &endpoint,
    ]);
    let w: Value = serde_json::from_str(out.trim()).expect("write json");
    assert_eq!(
        w["meta_sync"]["tables"].as_array().map(Vec::len),
        Some(3),
        "{w}"
    );
    // A sync mode this build cannot run is refused before anything is written.
    let (ok, _, err) = support::run_hudi(&[
        "write",
        &ms,
        "--input",
        &first,
        "--option",
        "hoodie.datasource.hive_sync.enable=true",
        "--option",
        "hoodie.datasource.hive_sync.mode=jdbc",
    ]);
    assert!(!ok && err.contains("only the hms mode"), "{err}");
    let d = g.dump();
    for (name, input, ro) in [
        (
            "events_ro",
            "org.apache.hudi.hadoop.HoodieParquetInputFormat",
            "true",
        ),
        (
            "events_rt",
            "org.apache.hudi.hadoop.realtime.HoodieParquetRealtimeInputFormat",
            "false",
        ),
        (
            "events",
            "org.apache.hudi.hadoop.realtime.HoodieParquetRealtimeInputFormat",
            "false",
        ),
    ] {
        let e = table(&d, name);
        assert_eq!(e["StorageDescriptor"]["InputFormat"], input, "{name}");
        assert_eq!(
            e["StorageDescriptor"]["SerdeInfo"]["Parameters"]["hoodie.query.as.ro.table"],
            ro
        );
        assert!(
            e["PartitionKeys"].as_array().is_none_or(Vec::is_empty),
            "{e}"
        );
        assert!(partition_values(e).is_empty());
    }
}

#[test]
fn glue_sync_of_five_thousand_partitions() {
    let Some(s3) = S3::start("glue_sync_of_five_thousand_partitions", "unused") else {
        return;
    };
    let g = Glue {
        s3,
        dir: tempfile::tempdir().expect("tempdir"),
    };
    let t = g.dir.path().join("wide");
    let ts = t.to_string_lossy().to_string();
    let rows: Vec<String> = (0..5000)
        .map(|i| row(i, &format!("p{i:04}"), false))
        .collect();
    let input = g.input("wide.jsonl", &rows);
    g.hudi(&support::sync::write_by_city(
        &ts,
        &input,
        &[
            "--operation",
            "bulk_insert",
            "--option",
            "hoodie.index.bloom.num_entries=10",
        ],
    ));
    let first = g.sync(&t, &[]);
    assert_eq!(
        first["tables"][0]["partitions_added"]
            .as_array()
            .map(Vec::len),
        Some(5000)
    );
    let changed: Vec<String> = (0..10)
        .map(|i| row(i * 500, &format!("p{:04}", i * 500), false))
        .collect();
    let upsert = g.input("up.jsonl", &changed);
    g.hudi(&[
        "write",
        &ts,
        "--input",
        &upsert,
        "--option",
        "hoodie.index.bloom.num_entries=10",
    ]);
    let next = g.sync(&t, &[]);
    assert_eq!(next["tables"][0]["full_listing"], Value::Null);
    assert_eq!(
        next["tables"][0]["partitions_added"],
        Value::from(Vec::<Value>::new())
    );
    let dump = g.dump();
    assert_eq!(partition_values(table(&dump, "wide")).len(), 5000);
    println!(
        "glue sync of 5000 partitions (moto): first {} ms ({} calls), incremental {} ms ({} calls)",
        first["duration_ms"],
        first["calls"]["writes"],
        next["duration_ms"],
        next["calls"]["writes"]
    );
}

/// A Glue table as a dump shows it, without its name and the Spark version Hudi's Spark writer
/// records; with `partition_columns` false, without the columns of its partitions too.
fn comparable(t: &Value, partition_columns: bool) -> Value {
    let mut t = t.clone();
    if let Some(m) = t.as_object_mut() {
        m.remove("Name");
        if let Some(p) = m.get_mut("Parameters").and_then(Value::as_object_mut) {
            p.remove("spark.sql.create.version");
        }
        for p in m
            .get_mut("Partitions")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
            .filter(|_| !partition_columns)
        {
            if let Some(sd) = p["StorageDescriptor"].as_object_mut() {
                sd.remove("Columns");
            }
        }
    }
    t
}

/// The columns a Glue table or partition lists, by name.
fn column_names(sd: &Value) -> Vec<String> {
    sd["Columns"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| c["Name"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// The same tables registered, commit after commit, by Apache Hudi's own Glue sync
/// (`AwsGlueCatalogSyncTool` from hudi-aws 0.15.0 in Spark writes, pointed at moto with
/// `hoodie.aws.glue.endpoint`) and by `hudi sync glue` after each of those writes: Glue
/// holds the same table input, parameters, columns and partitions after a first write, a
/// second one, a new column with a new partition, and a delete_partition. Two deliberate
/// differences: a new column reaches the partitions that were there (Hudi 0.15 leaves their
/// columns as they were), and with `sync_comment` the Avro docs (Spark's column comments)
/// become column comments (Hudi 0.15's Glue client builds the commented columns and drops
/// them).
#[test]
fn glue_registration_equals_hudi_aws_glue_sync_tool() {
    let test = "glue_registration_equals_hudi_aws_glue_sync_tool";
    let Some(s3) = S3::start(test, "unused") else {
        return;
    };
    if !crate::support::spark::available(test) {
        return;
    }
    let g = Glue {
        s3,
        dir: tempfile::tempdir().expect("tempdir"),
    };
    use crate::support::data;
    use arrow::datatypes::DataType;
    let input = g.dir.path().join("in.parquet");
    data::write_three_cities(&input);
    let wider = g.dir.path().join("wider.parquet");
    let schema = data::schema(vec![
        data::field("id", DataType::Int64),
        data::field("city", DataType::Utf8),
        data::field("ts", DataType::Int64),
        data::field("v", DataType::Utf8),
        data::field("extra", DataType::Int64),
    ]);
    let rows: Vec<data::Row> = [(0, "ams"), (3, "dub")]
        .iter()
        .map(|(i, c)| data::row(json!({"id": i, "city": c, "ts": 2, "v": "b", "extra": 7})))
        .collect();
    data::write_parquet(&wider, &schema, &[data::batch(&schema, &rows)]);
    let kinds = [
        ("trips", "COPY_ON_WRITE", vec!["trips"]),
        (
            "events",
            "MERGE_ON_READ",
            vec!["events", "events_ro", "events_rt"],
        ),
    ];
    type Round<'a> = (&'a str, &'a Path, &'a [(&'a str, &'a str)]);
    let rounds: [Round; 4] = [
        ("a first write", &input, &[]),
        ("a second write", &input, &[]),
        ("a new column and partition", &wider, &[]),
        (
            "a delete_partition",
            &input,
            &[
                ("hoodie.datasource.write.operation", "delete_partition"),
                ("hoodie.datasource.write.partitions.to.delete", "city=ber"),
            ],
        ),
    ];
    for (round, data_file, extra) in rounds {
        for (name, kind, tables) in &kinds {
            let path = g.dir.path().join(name);
            let mut o = serde_json::Map::new();
            for (k, v) in [
                ("hoodie.table.name", *name),
                ("hoodie.datasource.write.table.type", kind),
                ("hoodie.datasource.write.operation", "upsert"),
                ("hoodie.datasource.write.recordkey.field", "id"),
                ("hoodie.datasource.write.partitionpath.field", "city"),
                ("hoodie.datasource.write.precombine.field", "ts"),
                ("hoodie.datasource.write.hive_style_partitioning", "true"),
                ("hoodie.datasource.meta.sync.enable", "true"),
                (
                    "hoodie.meta.sync.client.tool.class",
                    "org.apache.hudi.aws.sync.AwsGlueCatalogSyncTool",
                ),
                ("hoodie.datasource.hive_sync.database", "by_hudi"),
                ("hoodie.datasource.hive_sync.table", name),
                ("hoodie.datasource.hive_sync.sync_comment", "true"),
                ("hoodie.aws.glue.endpoint", &g.s3.endpoint),
                ("hoodie.aws.glue.region", "us-east-1"),
            ]
            .iter()
            .chain(extra)
            {
                o.insert(k.to_string(), json!(v));
            }
            crate::support::spark::ask(json!({
                "op": "write", "path": path, "input": data_file, "options": o,
                "mode": "append", "comments": {"v": "the value"},
            }))
            .unwrap_or_else(|e| panic!("{round}: Spark's write with Hudi's Glue sync: {e}"));
            let s = g.sync(&path, &[]);
            if round != "a first write" {
                assert_eq!(s["tables"][0]["full_listing"], Value::Null, "{round}: {s}");
            }
            let (by_us, by_hudi) = (g.dump(), g.dump_db("by_hudi"));
            let wider = round == "a new column and partition" || round == "a delete_partition";
            for t in tables {
                let (ours, theirs) = (table(&by_us, t), table(&by_hudi, t));
                assert_eq!(
                    comparable(ours, !wider),
                    comparable(theirs, !wider),
                    "{t} after {round}: ours (left) against Hudi's AwsGlueCatalogSyncTool (right)"
                );
                if wider {
                    let want = column_names(&ours["StorageDescriptor"]);
                    assert_eq!(want.last().map(String::as_str), Some("extra"));
                    for p in ours["Partitions"].as_array().expect("partitions") {
                        assert_eq!(column_names(&p["StorageDescriptor"]), want, "{t}: {p}");
                    }
                }
            }
            if round == "a delete_partition" {
                let t = table(&by_us, name);
                assert_eq!(partition_values(t), vec!["ams", "cph", "dub"], "{t}");
            }
        }
    }
    // With sync_comment, the docs reach the catalog (a comment-only change: one update).
    let trips = g.dir.path().join("trips");
    let comments = ["--option", "hoodie.datasource.hive_sync.sync_comment=true"];
    let s = g.sync(&trips, &comments);
    assert_eq!(s["tables"][0]["comments_changed"], json!(["v"]), "{s}");
    let d = g.dump();
    let cols = table(&d, "trips")["StorageDescriptor"]["Columns"]
        .as_array()
        .expect("columns")
        .clone();
    let v = cols.iter().find(|c| c["Name"] == "v").expect("column v");
    assert_eq!(v["Comment"], "the value");
    let again = g.sync(&trips, &comments);
    assert_eq!(again["calls"]["writes"], 0, "{again}");
    // Without it, the comment the catalog has stays.
    let off = g.sync(&trips, &[]);
    assert_eq!(off["calls"]["writes"], 0, "{off}");
}
