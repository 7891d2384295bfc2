//! The `hudi` commands that `object_store_s3` does not run, on `s3://` tables (moto on
//! loopback): create, writes of every operation with bad records set aside in the bucket,
//! per-commit inspection, compaction schedule/show/run, the repairs, config unset, rollback of a
//! completed instant, savepoint delete, metadata delete, read --output and the demo. hudi-rs
//! reads a download of the table and finds what a model of the writes says.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::json;

use crate::support::moto::S3;
use crate::support::{self, oracle::Oracle};

/// Rows by id: (city, ts, v).
type Model = BTreeMap<i64, (String, i64, String)>;

fn row(id: i64, city: &str, ts: i64, v: &str) -> String {
    format!("{{\"id\":{id},\"city\":\"{city}\",\"ts\":{ts},\"v\":\"{v}\"}}")
}

fn input(dir: &Path, name: &str, lines: &[String]) -> String {
    let p = dir.join(name);
    std::fs::write(
        &p,
        lines.iter().map(|l| format!("{l}\n")).collect::<String>(),
    )
    .expect("input");
    p.to_string_lossy().to_string()
}

fn apply(model: &mut Model, rows: &[(i64, &str, i64, &str)]) {
    for (id, city, ts, v) in rows {
        model.insert(*id, (city.to_string(), *ts, v.to_string()));
    }
}

fn lines_of(rows: &[(i64, &str, i64, &str)]) -> Vec<String> {
    rows.iter().map(|(i, c, t, v)| row(*i, c, *t, v)).collect()
}

#[test]
fn every_other_cli_command_on_s3() {
    let Some(s3) = S3::start("every_other_cli_command_on_s3", "lake2") else {
        return;
    };
    let (shared, python) = (s3.shared.clone(), s3.python.clone());
    let dir = tempfile::tempdir().expect("tempdir");
    let t = "s3://lake2/orders";
    let created = s3.json(&[
        "create",
        t,
        "--record-key",
        "id",
        "--partition-by",
        "city",
        "--precombine",
        "ts",
        "--type",
        "mor",
        "--hive-style",
        "--json",
    ]);
    assert_eq!(created["type"], "MERGE_ON_READ", "{created}");
    let mut model = Model::new();

    // An insert with two bad records, set aside in the bucket before the commit.
    let cities = ["c0", "c1", "c2", "c3"];
    let names: Vec<String> = (0..40).map(|i| format!("a{i}")).collect();
    let first: Vec<(i64, &str, i64, &str)> = (0..40)
        .map(|i| (i, cities[i as usize % 4], 1, names[i as usize].as_str()))
        .collect();
    let mut lines = lines_of(&first);
    lines.push("{\"id\":41,\"city\":".into());
    lines.push(row(42, "c0", 1, "x").replace("42", "null"));
    let f = input(dir.path(), "first.jsonl", &lines);
    let w = s3.json(&[
        "write",
        t,
        "--input",
        &f,
        "--operation",
        "insert",
        "--bad-records-path",
        "s3://lake2/bad",
        "--json",
    ]);
    apply(&mut model, &first);
    assert_eq!(w["bad_records"], 2, "{w}");
    let bad_url = w["bad_records_path"].as_str().expect("path").to_string();
    let bad_name = bad_url
        .strip_prefix("s3://lake2/bad/")
        .unwrap_or_else(|| panic!("{bad_url}"));
    let bad = String::from_utf8(s3.get("s3://lake2/bad", bad_name).to_vec()).expect("utf8");
    assert_eq!(bad.lines().count(), 2, "{bad}");
    assert!(bad.lines().all(|l| l.contains("\"reason\"")), "{bad}");
    let i1 = w["instant"].as_str().expect("instant").to_string();
    let shown = s3.json(&["commits", "show", t, "--instant", &i1, "--json"]);
    assert_eq!(shown["records_inserted"], 40, "{shown}");
    let (has, _, err) = s3.run(&["checkpoint", "get", t, "--json"]);
    assert!(
        !has && err.contains("streamer checkpoint"),
        "none yet: {err}"
    );
    let parts = s3.lines(&["commits", "partitions", t, "--instant", &i1, "--json"]);
    assert_eq!(parts.len(), 4, "{parts:?}");
    let stats = s3.lines(&["commits", "stats", t, "--json"]);
    assert_eq!(stats[0]["records_written"], 40, "{stats:?}");

    // Keys inserted twice, then deduplicated (the later copies stay).
    let dups = [(0, "c0", 2, "dup"), (4, "c0", 2, "dup")];
    let f = input(dir.path(), "dups.jsonl", &lines_of(&dups));
    s3.ok(&["write", t, "--input", &f, "--operation", "insert"]);
    assert_eq!(s3.count(t), 42);
    let plan = s3.json(&[
        "repair",
        "deduplicate",
        t,
        "--partition",
        "city=c0",
        "--json",
    ]);
    assert_eq!(plan["applied"], false, "a dry run first: {plan}");
    assert_eq!(s3.count(t), 42);
    s3.ok(&[
        "repair",
        "deduplicate",
        t,
        "--partition",
        "city=c0",
        "--apply",
    ]);
    apply(&mut model, &dups);
    assert_eq!(s3.count(t), 40);

    // An upsert into log files, compacted: scheduled, shown, run.
    let up = [
        (1, "c1", 3, "up"),
        (2, "c2", 3, "up"),
        (100, "c0", 3, "new"),
        (101, "c1", 3, "new"),
    ];
    let f = input(dir.path(), "up.jsonl", &lines_of(&up));
    s3.ok(&["write", t, "--input", &f]);
    apply(&mut model, &up);
    let sched = s3.json(&["compaction", "schedule", t, "--force", "--json"]);
    let c = sched["scheduled"].as_str().expect("a plan").to_string();
    let plans = s3.json(&["compaction", "show", t, "--json"]);
    assert_eq!(plans[0]["instant"], json!(c), "{plans}");
    assert!(
        !plans[0]["operations"].as_array().expect("ops").is_empty(),
        "{plans}"
    );
    s3.ok(&["compaction", "run", t, "--instant", &c]);
    assert_eq!(s3.json(&["compaction", "show", t, "--json"]), json!([]));
    let ro = s3.json(&["read", t, "--read-optimized", "--count", "--json"]);
    assert_eq!(ro["rows"], json!(model.len()), "compacted: {ro}");

    // A delete of input rows, then a partition dropped.
    let f = input(dir.path(), "del.jsonl", &[row(5, "c1", 9, "")]);
    s3.ok(&["write", t, "--input", &f, "--operation", "delete"]);
    model.remove(&5);
    s3.ok(&[
        "write",
        t,
        "--operation",
        "delete_partition",
        "--partitions",
        "city=c3",
    ]);
    model.retain(|_, (city, _, _)| city != "c3");
    assert_eq!(s3.count(t), model.len() as u64);

    // A partition overwritten, then that replace commit rolled back.
    let before = model.clone();
    let f = input(
        dir.path(),
        "ow.jsonl",
        &[row(200, "c2", 4, "ow"), row(201, "c2", 4, "ow")],
    );
    let ow = s3.json(&[
        "write",
        t,
        "--input",
        &f,
        "--operation",
        "insert_overwrite",
        "--json",
    ]);
    let c2 = model.values().filter(|(c, _, _)| c != "c2").count() + 2;
    assert_eq!(s3.count(t), c2 as u64);
    let ow = ow["instant"].as_str().expect("instant");
    s3.ok(&["rollback", t, "--instant", ow]);
    assert_eq!(s3.count(t), before.len() as u64);

    // Partition metadata lost and written again.
    s3.rt
        .block_on(s3.storage(t).delete("city=c1/.hoodie_partition_metadata"))
        .expect("delete");
    let (healthy, out, err) = s3.run(&["verify", t]);
    let out = out + &err;
    assert!(!healthy && out.contains("city=c1"), "{out}");
    let plan = s3.json(&["repair", "add-partition-meta", t, "--json"]);
    assert_eq!(plan["actions"].as_array().map(Vec::len), Some(1), "{plan}");
    s3.ok(&["repair", "add-partition-meta", t, "--apply"]);
    assert!(!s3.get(t, "city=c1/.hoodie_partition_metadata").is_empty());

    // Properties replaced from a file, a key set by it removed again.
    let props = String::from_utf8(s3.get(t, ".hoodie/hoodie.properties").to_vec()).expect("utf8");
    let key = "hoodie.cleaner.commits.retained";
    let file = dir.path().join("new.properties");
    std::fs::write(&file, format!("{props}{key}=7\n")).expect("props");
    s3.ok(&[
        "repair",
        "overwrite-props",
        t,
        &file.to_string_lossy(),
        "--apply",
    ]);
    assert_eq!(s3.ok(&["config", "get", t, key]).trim(), "7");
    s3.ok(&["config", "unset", t, key]);
    let (set, _, _) = s3.run(&["config", "get", t, key]);
    assert!(!set, "{key} is unset");

    // Savepoints made and deleted; the schema of the first commit; the archived timeline.
    let sp = s3.json(&["savepoint", "create", t, "--json"]);
    let sp = sp["instant"].as_str().expect("instant").to_string();
    s3.ok(&["savepoint", "delete", t, "--instant", &sp]);
    assert_eq!(s3.json(&["savepoint", "list", t, "--json"]), json!([]));
    let schema = s3.ok(&["schema", t, "--instant", &i1, "--json"]);
    assert!(schema.contains("\"name\":\"v\""), "{schema}");
    assert_eq!(s3.ok(&["timeline", t, "--incomplete", "--json"]), "");
    let archived = s3.json(&[
        "archive",
        t,
        "--option",
        "hoodie.keep.min.commits=2",
        "--option",
        "hoodie.keep.max.commits=3",
        "--option",
        "hoodie.cleaner.commits.retained=1",
        "--json",
    ]);
    let n = archived["archived"].as_array().map_or(0, Vec::len);
    assert!(n > 0, "{archived}");
    let listed = s3.lines(&["timeline", t, "--archived", "--json"]);
    assert!(
        listed.iter().any(|l| l["instant"] == json!(i1)),
        "{listed:?}"
    );
    let v = s3.json(&["verify", t, "--json"]);
    assert_eq!(v["healthy"], true, "{v}");

    // The rows, through our reader into a local file and through hudi-rs from a download.
    let mut oracle = Oracle::start(&python, &shared);
    let out = dir.path().join("orders.parquet");
    s3.ok(&["read", t, "--output", &out.to_string_lossy()]);
    let ours = oracle.file_rows(&out);
    let copy = dir.path().join("orders");
    s3.download(t, &copy);
    let theirs = oracle.rows(&copy, "snapshot", json!({}));
    crate::support::scenario::assert_rows("hudi-rs against ours", &theirs, &ours);
    let got: Model = theirs
        .iter()
        .map(|r| {
            let s = |f: &str| r[f].as_str().expect(f).to_string();
            (
                r["id"].as_i64().expect("id"),
                (s("city"), r["ts"].as_i64().expect("ts"), s("v")),
            )
        })
        .collect();
    assert_eq!(got, before, "hudi-rs reads the model");

    metadata_delete_and_demo(&s3, &shared, &mut oracle);
}

/// `metadata delete` on a Spark-written table uploaded to the bucket, and the demo there.
fn metadata_delete_and_demo(s3: &S3, shared: &Path, oracle: &mut Oracle) {
    let fx = support::fixtures(shared)
        .into_iter()
        .find(|f| f.name.ends_with("cow/v9_txns_simple_meta"))
        .expect("the v9 txns fixture, which has a metadata table");
    assert!(fx.table.join(".hoodie/metadata/files").is_dir());
    let url = "s3://lake2/with_mdt";
    s3.upload(&fx.table, url);
    let want = oracle.rows(&fx.table, "snapshot", json!({})).len() as u64;
    let v = s3.json(&["metadata", "delete", url, "--json"]);
    assert!(v["files_deleted"].as_u64() > Some(0), "{v}");
    let left = s3
        .rt
        .block_on(s3.storage(url).list_recursive(".hoodie/metadata"))
        .expect("list");
    assert!(left.is_empty(), "{left:?}");
    assert_eq!(s3.count(url), want, "{}", fx.name);
    let (again, _, err) = s3.run(&["metadata", "delete", url]);
    assert!(!again && err.contains("no metadata table"), "{err}");

    let demo = s3.json(&["demo", "s3://lake2/demo", "--events", "10000", "--json"]);
    assert_eq!(demo["ok"], true, "{demo}");
    for t in demo["tables"].as_array().expect("tables") {
        let path = t["path"].as_str().expect("path");
        assert!(path.starts_with("s3://lake2/demo/"), "{path}");
        let v = s3.json(&["verify", path, "--json"]);
        assert_eq!(v["healthy"], true, "{v}");
        assert_eq!(json!(s3.count(path)), t["checks"][0]["rows"], "{t}");
    }
    let (again, _, err) = s3.run(&["demo", "s3://lake2/demo"]);
    assert!(!again && err.contains("not empty"), "{err}");
}
