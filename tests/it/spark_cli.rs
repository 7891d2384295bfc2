//! Tables the `hudi` binary made or changed, as Apache Hudi on Spark sees them: the demo's
//! tables, and a table after `repair deduplicate`, `checkpoint set`, `config set`,
//! `repair overwrite-props`, a write with `--bad-records-path` and a `delete_partition` of the
//! partitions of input rows. After each change Spark reads what hudi-rs and we read; then Spark
//! writes into the table (SQL `UPDATE`) and runs its cleaner (and compaction), and we, hudi-rs
//! and Spark still agree, and `hudi verify` finds nothing wrong.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::support::oracle::Oracle;
use crate::support::scenario::assert_rows;
use crate::support::{self, spark};

struct Check {
    oracle: Oracle,
    scratch: tempfile::TempDir,
    reads: usize,
}

fn hudi(args: &[&str]) -> String {
    let (ok, out, err) = support::run_hudi(args);
    assert!(ok, "hudi {args:?}: {err}");
    out
}

impl Check {
    /// Spark's snapshot equals hudi-rs's and ours, `hudi verify` is happy; Spark's rows.
    fn agree(&mut self, table: &Path, after: &str) -> Vec<Value> {
        let t = table.to_string_lossy().to_string();
        let what = format!("{} after {after}", table.display());
        let spark = spark::rows(table, "snapshot", json!({}))
            .unwrap_or_else(|e| panic!("Spark cannot read {what}: {e}"));
        let rs = self.oracle.rows(table, "snapshot", json!({}));
        assert_rows(&format!("{what}: Spark against hudi-rs"), &spark, &rs);
        self.reads += 1;
        let out = self
            .scratch
            .path()
            .join(format!("ours-{}.parquet", self.reads));
        hudi(&["read", &t, "--output", &out.to_string_lossy()]);
        let ours = self.oracle.file_rows(&out);
        assert_rows(&format!("{what}: ours against Spark"), &ours, &spark);
        let v: Value =
            serde_json::from_str(hudi(&["verify", &t, "--json"]).trim()).expect("verify json");
        assert_eq!(v["healthy"], true, "{what}: {v}");
        spark
    }
}

/// Registers `table` in Spark's catalog under a name unique to this run.
fn spark_name(table: &Path, label: &str) -> String {
    let tag: String = table
        .parent()
        .and_then(Path::file_name)
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    let name = format!("cli_{label}_{tag}").to_ascii_lowercase();
    spark::sql(&format!(
        "CREATE TABLE IF NOT EXISTS {name} USING hudi LOCATION '{}'",
        table.display()
    ))
    .unwrap_or_else(|e| panic!("register {}: {e}", table.display()));
    name
}

fn sql(statement: &str) -> Vec<Value> {
    spark::sql(statement).unwrap_or_else(|e| panic!("Spark: {statement}: {e}"))
}

/// Spark's `UPDATE` of one row, its cleaner and (merge-on-read) its compaction on a table.
fn spark_maintains(c: &mut Check, table: &Path, name: &str, key: &str, set: &str, mor: bool) {
    sql(&format!("UPDATE {name} SET {set} WHERE {key}"));
    let rows = c.agree(table, &format!("Spark's UPDATE ... SET {set}"));
    assert!(
        !rows.is_empty(),
        "{}: Spark's update left no rows",
        table.display()
    );
    if mor {
        sql(&format!(
            "CALL run_compaction(op => 'scheduleAndExecute', table => '{name}', \
             options => 'hoodie.compact.inline.max.delta.commits=1')"
        ));
        c.agree(table, "Spark's compaction");
    }
    sql(&format!(
        "CALL run_clean(table => '{name}', retain_commits => 1)"
    ));
    c.agree(table, "Spark's clean");
}

fn jsonl(dir: &Path, name: &str, rows: impl Iterator<Item = String>) -> PathBuf {
    let p = dir.join(name);
    let text: String = rows.map(|r| r + "\n").collect();
    std::fs::write(&p, text).expect("input");
    p
}

#[test]
fn spark_reads_writes_and_maintains_the_tables_our_cli_changed() {
    let test = "spark_reads_writes_and_maintains_the_tables_our_cli_changed";
    let Some(shared) = support::shared_dir(test) else {
        return;
    };
    if !spark::available(test) {
        return;
    }
    let mut c = Check {
        oracle: Oracle::start(&support::oracle_python(&shared), &shared),
        scratch: tempfile::tempdir().expect("tempdir"),
        reads: 0,
    };
    let dir = tempfile::tempdir().expect("tempdir");
    demo_tables(&mut c, dir.path());
    for mor in [false, true] {
        changed_table(&mut c, dir.path(), mor);
    }
}

/// The demo's two tables: Spark reads them, updates a purchase, compacts and cleans.
fn demo_tables(c: &mut Check, dir: &Path) {
    let d = dir.join("demo");
    let out = hudi(&["demo", &d.to_string_lossy(), "--events", "10000", "--json"]);
    let v: Value = serde_json::from_str(out.trim()).expect("demo json");
    for t in v["tables"].as_array().expect("tables") {
        let path = PathBuf::from(t["path"].as_str().expect("path"));
        let mor = t["type"] == "MERGE_ON_READ";
        let rows = c.agree(&path, "hudi demo");
        assert_eq!(json!(rows.len()), t["checks"][0]["rows"], "{t}");
        let buyer = rows
            .iter()
            .find(|r| r["amount_cents"].is_i64())
            .expect("a purchase");
        let id = buyer["event_id"].as_str().expect("event_id");
        let name = spark_name(&path, if mor { "demo_mor" } else { "demo_cow" });
        spark_maintains(
            c,
            &path,
            &name,
            &format!("event_id = '{id}'"),
            "amount_cents = 1",
            mor,
        );
        let after = c.agree(&path, "Spark's services");
        let row = after
            .iter()
            .find(|r| r["event_id"] == json!(id))
            .expect("the updated event");
        assert_eq!(row["amount_cents"], 1, "{row}");
    }
}

/// A table our CLI wrote and changed in every way that rewrites metadata or properties.
fn changed_table(c: &mut Check, dir: &Path, mor: bool) {
    let label = if mor { "mor" } else { "cow" };
    let table = dir.join(format!("changed_{label}"));
    let t = table.to_string_lossy().to_string();
    let row = |id: u32, city: &str, ts: u32| {
        format!("{{\"id\":{id},\"city\":\"{city}\",\"ts\":{ts},\"v\":\"r{id}t{ts}\"}}")
    };
    let cities = ["ams", "ber", "cph"];
    let first = jsonl(
        dir,
        &format!("{label}-1.jsonl"),
        (0..30).map(|i| row(i, cities[i as usize % 3], 1)),
    );
    hudi(&[
        "write",
        &t,
        "--input",
        &first.to_string_lossy(),
        "--record-key",
        "id",
        "--partition-by",
        "city",
        "--precombine",
        "ts",
        "--type",
        label,
        "--operation",
        "insert",
    ]);
    // An insert does not look up existing keys: ids 0, 3 and 6 of `ams` twice.
    let again = jsonl(
        dir,
        &format!("{label}-2.jsonl"),
        [0, 3, 6].into_iter().map(|i| row(i, "ams", 2)),
    );
    hudi(&[
        "write",
        &t,
        "--input",
        &again.to_string_lossy(),
        "--operation",
        "insert",
    ]);
    let dup = c.agree(&table, "an insert of keys already there");
    assert_eq!(dup.len(), 33, "Spark sees both copies as we do");
    hudi(&["repair", "deduplicate", &t, "--partition", "ams", "--apply"]);
    let rows = c.agree(&table, "repair deduplicate");
    assert_eq!(rows.len(), 30);
    let id0 = rows.iter().find(|r| r["id"] == 0).expect("id 0");
    assert_eq!(id0["ts"], 2, "the latest commit's copy is kept: {id0}");

    // The streamer checkpoint, as Spark's procedure reads it back from the commit that holds
    // it (on merge-on-read tables the streamer keeps it in delta commits only).
    hudi(&["checkpoint", "set", &t, "--checkpoint", "clicks,0:42,1:7"]);
    let got: Value =
        serde_json::from_str(hudi(&["checkpoint", "get", &t, "--json"]).trim()).expect("json");
    let holder = got["instant"].as_str().expect("instant");
    let name = spark_name(&table, label);
    let meta = sql(&format!(
        "CALL show_commit_extra_metadata(table => '{name}', instant_time => '{holder}', \
         metadata_key => 'deltastreamer.checkpoint.key')"
    ));
    assert!(
        meta.iter()
            .any(|m| m["metadata_value"] == json!("clicks,0:42,1:7")),
        "{meta:?}"
    );
    c.agree(&table, "checkpoint set");

    // Properties changed by `config set` and by `repair overwrite-props`.
    hudi(&["config", "set", &t, "hoodie.cleaner.commits.retained=3"]);
    c.agree(&table, "config set");
    let props = std::fs::read_to_string(table.join(".hoodie/hoodie.properties")).expect("props");
    let edited: String = props
        .lines()
        .filter(|l| !l.starts_with("hoodie.table.checksum") && !l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .chain(std::iter::once(
            "hoodie.datasource.write.drop.partition.columns=false\n".to_string(),
        ))
        .collect();
    let file = dir.join(format!("{label}.properties"));
    std::fs::write(&file, edited).expect("properties");
    hudi(&[
        "repair",
        "overwrite-props",
        &t,
        &file.to_string_lossy(),
        "--apply",
    ]);
    c.agree(&table, "repair overwrite-props");

    // Bad records set aside; their count in the commit's extraMetadata.
    let bad = dir.join(format!("{label}-bad"));
    let mixed = jsonl(
        dir,
        &format!("{label}-3.jsonl"),
        [
            row(100, "ber", 3),
            "{\"id\":101,\"city\":".to_string(),
            "{\"id\":null,\"city\":\"ber\",\"ts\":3,\"v\":\"x\"}".to_string(),
            row(1, "ber", 3),
        ]
        .into_iter(),
    );
    hudi(&[
        "write",
        &t,
        "--input",
        &mixed.to_string_lossy(),
        "--bad-records-path",
        &bad.to_string_lossy(),
    ]);
    let meta = sql(&format!(
        "CALL show_commit_extra_metadata(table => '{name}', metadata_key => 'bad.records.count')"
    ));
    assert!(
        meta.iter().any(|m| m["metadata_value"] == json!("2")),
        "{meta:?}"
    );
    let rows = c.agree(&table, "a write with bad records set aside");
    assert_eq!(rows.len(), 31);

    // The partitions of input rows dropped.
    let gone = jsonl(
        dir,
        &format!("{label}-4.jsonl"),
        std::iter::once(row(2, "cph", 9)),
    );
    hudi(&[
        "write",
        &t,
        "--operation",
        "delete_partition",
        "--input",
        &gone.to_string_lossy(),
    ]);
    let rows = c.agree(&table, "delete_partition of input rows' partitions");
    assert!(rows.iter().all(|r| r["city"] != "cph"), "{rows:?}");
    assert_eq!(rows.len(), 21);

    spark_maintains(c, &table, &name, "id = 100", "v = 'spark'", mor);
    // And we write on top of what Spark left.
    let last = jsonl(
        dir,
        &format!("{label}-5.jsonl"),
        [row(100, "ber", 9), row(200, "ams", 9)].into_iter(),
    );
    hudi(&["write", &t, "--input", &last.to_string_lossy()]);
    let rows = c.agree(&table, "our upsert after Spark's services");
    assert_eq!(rows.len(), 22);
    let r100 = rows.iter().find(|r| r["id"] == 100).expect("id 100");
    assert_eq!(r100["v"], "r100t9", "{r100}");
}
