//! `hudi sync hms` against a real Hive metastore 2.3.9 (the shared `start_hms.sh`, embedded
//! Derby on loopback): what is registered (read back with the shared `hms_dump.py`), a second
//! sync that writes nothing, later syncs that follow a new partition, a new column and a
//! delete_partition, Spark with Hive support reading the COW table and the MOR `_ro` and
//! `_rt` tables through the metastore, and Trino's Hudi connector reading the COW and `_ro`
//! tables (the path Athena takes).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

use crate::support::{self, moto::free_port};

struct Metastore {
    script: PathBuf,
    pid: String,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Metastore {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(&self.script)
            .args(["stop", &self.pid])
            .output();
    }
}

fn start_metastore(shared: &Path) -> Metastore {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let script = shared.join("oracle/start_hms.sh");
    let out = Command::new("bash")
        .arg(&script)
        .args(["start", &port.to_string(), &dir.path().to_string_lossy()])
        .output()
        .expect("start_hms.sh");
    assert!(
        out.status.success(),
        "the metastore did not start: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Metastore {
        script,
        pid: String::from_utf8_lossy(&out.stdout).trim().to_string(),
        port,
        _dir: dir,
    }
}

struct Ctx {
    shared: PathBuf,
    python: PathBuf,
    hms: Metastore,
    dir: tempfile::TempDir,
}

impl Ctx {
    /// A metastore of its own, the oracle's python and a scratch directory.
    fn start(shared: PathBuf) -> Ctx {
        Ctx {
            python: support::oracle_python(&shared),
            hms: start_metastore(&shared),
            shared,
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    fn uri(&self) -> String {
        format!("thrift://127.0.0.1:{}", self.hms.port)
    }

    fn hudi(&self, args: &[&str]) -> String {
        let (ok, out, err) = support::run_hudi(args);
        assert!(ok, "hudi {args:?}: {err}");
        out
    }

    fn sync(&self, table: &Path) -> Value {
        self.sync_with(table, &[])
    }

    fn sync_with(&self, table: &Path, extra: &[&str]) -> Value {
        let uri = self.uri();
        let t = table.to_string_lossy();
        let mut args = vec![
            "sync",
            "hms",
            &t,
            "--metastore-uri",
            &uri,
            "--database",
            "lake",
            "--json",
        ];
        args.extend(extra);
        serde_json::from_str(self.hudi(&args).trim()).expect("sync json")
    }

    fn dump(&self) -> Value {
        let out = Command::new(&self.python)
            .arg(self.shared.join("oracle/hms_dump.py"))
            .args(["--port", &self.hms.port.to_string(), "--db", "lake"])
            .output()
            .expect("hms_dump");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("dump json")
    }

    fn input(&self, name: &str, rows: &[Value]) -> String {
        support::sync::jsonl(self.dir.path(), name, rows)
    }
}

fn table<'a>(dump: &'a Value, name: &str) -> &'a Value {
    dump[0]["tables"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["tableName"] == name))
        .unwrap_or_else(|| panic!("no table {name} in {dump}"))
}

fn partitions(t: &Value) -> Vec<String> {
    t["partitions"]
        .as_array()
        .map(|p| {
            p.iter()
                .map(|p| p["values"][0].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// Rows Spark (Hive support on, the metastore as its catalog) returns for each query.
fn spark_queries(c: &Ctx, queries: &[&str]) -> Vec<Vec<Value>> {
    let Some((python, bundle)) = crate::support::spark::python_and_bundle() else {
        return Vec::new();
    };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../interop/spark/hms_query.py");
    let out = Command::new(python)
        .arg(script)
        .arg(c.shared.join("oracle"))
        .arg(c.uri())
        .args(queries)
        .env("HUDI_SPARK_BUNDLE", bundle)
        .output()
        .expect("run hms_query.py");
    let text = String::from_utf8_lossy(&out.stdout);
    let answers: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("answer json"))
        .collect();
    assert_eq!(
        answers.len(),
        queries.len(),
        "Spark answered {} of {} queries: {}",
        answers.len(),
        queries.len(),
        String::from_utf8_lossy(&out.stderr)
    );
    answers
        .iter()
        .map(|a| {
            assert!(a.get("error").is_none(), "Spark through the metastore: {a}");
            a["rows"]
                .as_array()
                .expect("rows")
                .iter()
                .map(|r| serde_json::from_str(r.as_str().expect("row")).expect("row json"))
                .collect()
        })
        .collect()
}

fn row(id: i64, city: &str, v: &str) -> Value {
    json!({"id": id, "city": city, "ts": 1, "v": v})
}

#[test]
fn hms_sync_registers_tables_that_spark_reads_through_the_metastore() {
    let Some(shared) = support::shared_dir("hms_sync_registers_tables") else {
        return;
    };
    let c = Ctx::start(shared);
    let trips = c.dir.path().join("trips");
    let ts = trips.to_string_lossy().to_string();
    let first = c.input(
        "1.jsonl",
        &[row(0, "ams", "a"), row(1, "ber", "a"), row(2, "cph", "a")],
    );
    let create =
        |t: &str, kind: &str| c.hudi(&support::sync::write_by_city(t, &first, &["--type", kind]));
    create(&ts, "cow");
    let s = c.sync(&trips);
    assert_eq!(s["create_database"], true, "{s}");
    let d = c.dump();
    let t = table(&d, "trips");
    assert_eq!(t["tableType"], "EXTERNAL_TABLE");
    assert_eq!(t["parameters"]["EXTERNAL"], "TRUE");
    assert_eq!(t["parameters"]["spark.sql.sources.provider"], "hudi");
    assert_eq!(
        t["sd"]["inputFormat"],
        "org.apache.hudi.hadoop.HoodieParquetInputFormat"
    );
    assert_eq!(
        t["sd"]["serdeInfo"]["parameters"]["path"],
        Value::from(ts.clone())
    );
    assert_eq!(t["partitionKeys"][0]["name"], "city");
    assert_eq!(partitions(t), vec!["ams", "ber", "cph"]);
    assert_eq!(
        t["partitions"][0]["sd"]["location"],
        Value::from(format!("file:{ts}/city=ams")),
        "the metastore qualifies local paths"
    );
    let again = c.sync(&trips);
    assert_eq!(again["calls"]["writes"], 0, "{again}");

    // A new partition and a new column, then a partition dropped: each synced incrementally.
    let second = c.input(
        "2.jsonl",
        &[
            json!({"id": 10, "city": "dub", "ts": 2, "v": "x", "extra": 10}),
            json!({"id": 0, "city": "ams", "ts": 2, "v": "x", "extra": 0}),
        ],
    );
    c.hudi(&["write", &ts, "--input", &second]);
    let s = c.sync(&trips);
    assert_eq!(s["tables"][0]["full_listing"], Value::Null, "{s}");
    assert_eq!(s["tables"][0]["columns_added"][0], "extra");
    c.hudi(&[
        "write",
        &ts,
        "--operation",
        "delete_partition",
        "--partitions",
        "city=ber",
    ]);
    c.sync(&trips);
    let d = c.dump();
    let t = table(&d, "trips");
    assert_eq!(partitions(t), vec!["ams", "cph", "dub"]);
    let cols = t["sd"]["cols"].as_array().expect("cols");
    assert_eq!(cols.last().map(|c| &c["name"]), Some(&Value::from("extra")));
    // Cascaded: the partitions that were there have the column too.
    let ams = &t["partitions"][0]["sd"]["cols"];
    assert!(
        ams.as_array()
            .is_some_and(|c| c.iter().any(|c| c["name"] == "extra")),
        "{ams}"
    );

    // Merge-on-read: an upsert into log files, so _ro and _rt differ.
    let events = c.dir.path().join("events");
    let es = events.to_string_lossy().to_string();
    create(&es, "mor");
    let up = c.input(
        "3.jsonl",
        &[json!({"id": 0, "city": "ams", "ts": 5, "v": "b"})],
    );
    c.hudi(&["write", &es, "--input", &up]);
    c.sync(&events);
    let d = c.dump();
    for name in ["events_ro", "events_rt", "events"] {
        assert_eq!(
            partitions(table(&d, name)),
            vec!["ams", "ber", "cph"],
            "{name}"
        );
    }

    if !crate::support::spark::available("hms_sync_registers_tables") {
        return;
    }
    let got = spark_queries(
        &c,
        &[
            "SELECT id, city, v, extra FROM lake.trips",
            "SELECT id, city, v FROM lake.events_ro",
            "SELECT id, city, v FROM lake.events_rt",
        ],
    );
    let want_trips = vec![
        json!({"city": "ams", "extra": 0, "id": 0, "v": "x"}),
        json!({"city": "cph", "extra": null, "id": 2, "v": "a"}),
        json!({"city": "dub", "extra": 10, "id": 10, "v": "x"}),
    ];
    let sorted = |mut v: Vec<Value>| {
        v.sort_by_key(|r| r.to_string());
        v
    };
    assert_eq!(sorted(got[0].clone()), sorted(want_trips));
    let v_of = |rows: &[Value], id: i64| {
        rows.iter()
            .find(|r| r["id"] == id)
            .map(|r| r["v"].clone())
            .unwrap_or(Value::Null)
    };
    assert_eq!(got[1].len(), 3);
    assert_eq!(v_of(&got[1], 0), "a", "read-optimized: base files only");
    assert_eq!(got[2].len(), 3);
    assert_eq!(v_of(&got[2], 0), "b", "realtime: the log merged");

    // Trino's Hudi connector, as Athena reads: the COW table and the read-optimized table.
    let test = "hms_sync_registers_tables (Trino)";
    let Some(trino) = crate::support::trino::start_or_skip(test, &c.uri()) else {
        return;
    };
    let got = trino.query(&[
        "SELECT id, city, v, extra FROM hudi.lake.trips ORDER BY id",
        "SELECT id, city, v FROM hudi.lake.events_ro ORDER BY id",
    ]);
    assert_eq!(
        got[0],
        vec![
            json!([0, "ams", "x", 0]),
            json!([2, "cph", "a", null]),
            json!([10, "dub", "x", 10]),
        ],
        "Trino reads the COW table as synced"
    );
    assert_eq!(
        got[1],
        vec![
            json!([0, "ams", "a"]),
            json!([1, "ber", "a"]),
            json!([2, "cph", "a"])
        ],
        "Trino reads the read-optimized table: base files only"
    );
}

/// A table as a dump shows it, without what differs by name or by who registered it.
fn comparable(t: &Value) -> Value {
    let mut t = t.clone();
    let m = t.as_object_mut().expect("table object");
    for k in ["tableName", "dbName", "owner"] {
        m.remove(k);
    }
    if let Some(p) = m.get_mut("parameters").and_then(Value::as_object_mut) {
        // Hudi's Spark writer passes its Spark version (`hoodie.meta_sync.spark.version`).
        p.remove("spark.sql.create.version");
    }
    for p in m
        .get_mut("partitions")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        if let Some(o) = p.as_object_mut() {
            o.remove("dbName");
            o.remove("tableName");
            // The metastore counts the files a partition holds when it is added: Hudi's sync
            // added them after Spark's first write, ours after the second.
            if let Some(params) = o.get_mut("parameters").and_then(Value::as_object_mut) {
                params.remove("numFiles");
                params.remove("totalSize");
            }
        }
    }
    t
}

/// The same tables registered by Apache Hudi's own HiveSyncTool (Spark writes with
/// `hoodie.datasource.hive_sync.*`, HMS mode, `sync_comment` on and a column comment) and by
/// `hudi sync hms`: the metastore holds the same definitions, parameters, comments and
/// partitions for each. Hudi syncs comments only into a table that exists, so Spark writes
/// twice and we sync without comments, then with them.
#[test]
fn hms_registration_equals_hudi_hive_sync_tool() {
    let test = "hms_registration_equals_hudi_hive_sync_tool";
    let Some(shared) = support::shared_dir(test) else {
        return;
    };
    if !crate::support::spark::available(test) {
        return;
    }
    let c = Ctx::start(shared);
    let input = c.dir.path().join("in.parquet");
    crate::support::data::write_three_cities(&input);
    // A timestamp key generator's `yyyy/MM/dd` paths: one partition field, not hive-style, so
    // the inferred extractor makes the value `1970-01-01` of a column typed as the field.
    let stamped = [
        (
            "hoodie.datasource.write.keygenerator.class",
            "org.apache.hudi.keygen.TimestampBasedKeyGenerator",
        ),
        ("hoodie.datasource.write.partitionpath.field", "ts"),
        ("hoodie.datasource.write.hive_style_partitioning", "false"),
        (
            "hoodie.keygen.timebased.timestamp.type",
            "EPOCHMILLISECONDS",
        ),
        ("hoodie.keygen.timebased.output.dateformat", "yyyy/MM/dd"),
    ];
    for (name, kind, tables, extra) in [
        ("trips", "COPY_ON_WRITE", vec!["trips"], &[][..]),
        (
            "events",
            "MERGE_ON_READ",
            vec!["events", "events_ro", "events_rt"],
            &[][..],
        ),
        ("stamped", "COPY_ON_WRITE", vec!["stamped"], &stamped[..]),
    ] {
        let path = c.dir.path().join(name);
        let mut o = std::collections::BTreeMap::new();
        for (k, v) in [
            ("hoodie.table.name", name),
            ("hoodie.datasource.write.table.type", kind),
            ("hoodie.datasource.write.operation", "upsert"),
            ("hoodie.datasource.write.recordkey.field", "id"),
            ("hoodie.datasource.write.partitionpath.field", "city"),
            ("hoodie.datasource.write.precombine.field", "ts"),
            ("hoodie.datasource.write.hive_style_partitioning", "true"),
            ("hoodie.datasource.hive_sync.enable", "true"),
            ("hoodie.datasource.hive_sync.mode", "hms"),
            ("hoodie.datasource.hive_sync.database", "by_hudi"),
            ("hoodie.datasource.hive_sync.table", name),
            ("hoodie.datasource.hive_sync.sync_comment", "true"),
        ]
        .iter()
        .chain(extra)
        {
            o.insert(k.to_string(), v.to_string());
        }
        o.insert("hoodie.datasource.hive_sync.metastore.uris".into(), c.uri());
        for _ in 0..2 {
            crate::support::spark::ask(json!({
                "op": "write", "path": path, "input": input, "options": o,
                "mode": "append", "comments": {"v": "the value"},
            }))
            .unwrap_or_else(|e| panic!("Spark's write with hive sync: {e}"));
        }
        c.sync(&path);
        let s = c.sync_with(
            &path,
            &["--option", "hoodie.datasource.hive_sync.sync_comment=true"],
        );
        assert_eq!(s["tables"][0]["comments_changed"], json!(["v"]), "{s}");
        let by_us = c.dump();
        let out = Command::new(&c.python)
            .arg(c.shared.join("oracle/hms_dump.py"))
            .args(["--port", &c.hms.port.to_string(), "--db", "by_hudi"])
            .output()
            .expect("hms_dump");
        let by_hudi: Value = serde_json::from_slice(&out.stdout).expect("dump json");
        for t in tables {
            assert_eq!(
                comparable(table(&by_us, t)),
                comparable(table(&by_hudi, t)),
                "{t}: ours (left) against Hudi's HiveSyncTool (right)"
            );
        }
        if name == "stamped" {
            let t = table(&by_us, "stamped");
            assert_eq!(partitions(t), vec!["1970-01-01"]);
            assert_eq!(t["partitionKeys"][0]["type"], "bigint", "{t}");
        }
    }
}

/// 5,000 partitions into the real metastore (first sync and an incremental one, timed), an
/// insert_overwrite_table that leaves fewer partitions, and a table without partitions.
#[test]
fn hms_sync_of_many_partitions_an_overwrite_and_no_partitions() {
    let Some(shared) = support::shared_dir("hms_sync_of_many_partitions") else {
        return;
    };
    let c = Ctx::start(shared);
    let wide = c.dir.path().join("wide");
    let ws = wide.to_string_lossy().to_string();
    let rows: Vec<Value> = (0..5000)
        .map(|i| row(i, &format!("p{i:04}"), "a"))
        .collect();
    let input = c.input("wide.jsonl", &rows);
    c.hudi(&support::sync::write_by_city(
        &ws,
        &input,
        &[
            "--operation",
            "bulk_insert",
            "--option",
            "hoodie.index.bloom.num_entries=10",
        ],
    ));
    let first = c.sync(&wide);
    assert_eq!(
        first["tables"][0]["partitions_added"]
            .as_array()
            .map(Vec::len),
        Some(5000)
    );
    let changed: Vec<Value> = (0..10)
        .map(|i| row(i * 500, &format!("p{:04}", i * 500), "b"))
        .collect();
    let up = c.input("up.jsonl", &changed);
    c.hudi(&[
        "write",
        &ws,
        "--input",
        &up,
        "--option",
        "hoodie.index.bloom.num_entries=10",
    ]);
    let next = c.sync(&wide);
    assert_eq!(next["tables"][0]["full_listing"], Value::Null, "{next}");
    assert_eq!(next["tables"][0]["partitions_added"], json!([]));
    assert_eq!(next["tables"][0]["partitions_updated"], json!([]), "{next}");
    assert_eq!(
        next["calls"]["writes"], 1,
        "only the sync time moves: {next}"
    );
    println!(
        "hive metastore sync of 5000 partitions: first {} ms ({} write calls), incremental {} ms ({} write calls)",
        first["duration_ms"], first["calls"]["writes"], next["duration_ms"], next["calls"]["writes"]
    );
    let d = c.dump();
    assert_eq!(partitions(table(&d, "wide")).len(), 5000);

    // insert_overwrite_table: only the partitions it wrote stay.
    let small = c.dir.path().join("small");
    let ss = small.to_string_lossy().to_string();
    let three = c.input(
        "3.jsonl",
        &[row(0, "ams", "a"), row(1, "ber", "a"), row(2, "cph", "a")],
    );
    c.hudi(&support::sync::write_by_city(&ss, &three, &[]));
    c.sync(&small);
    let over = c.input("over.jsonl", &[row(7, "dub", "o")]);
    c.hudi(&[
        "write",
        &ss,
        "--input",
        &over,
        "--operation",
        "insert_overwrite_table",
    ]);
    let s = c.sync(&small);
    assert_eq!(
        s["tables"][0]["partitions_dropped"]
            .as_array()
            .map(Vec::len),
        Some(3),
        "{s}"
    );
    assert_eq!(partitions(table(&c.dump(), "small")), vec!["dub"]);

    // Merge-on-read without partitions: three tables, no partition keys, no partitions.
    let flat = c.dir.path().join("flat");
    let fs = flat.to_string_lossy().to_string();
    c.hudi(&[
        "write",
        &fs,
        "--input",
        &three,
        "--record-key",
        "id",
        "--precombine",
        "ts",
        "--type",
        "mor",
    ]);
    c.sync(&flat);
    let d = c.dump();
    for name in ["flat", "flat_ro", "flat_rt"] {
        let t = table(&d, name);
        assert!(
            t["partitionKeys"].as_array().is_none_or(Vec::is_empty),
            "{name}: {t}"
        );
        assert!(partitions(t).is_empty(), "{name}");
        assert!(
            t["sd"]["cols"]
                .as_array()
                .is_some_and(|c| c.iter().any(|c| c["name"] == "city")),
            "{name}: city is a data column"
        );
    }
}
