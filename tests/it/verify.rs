//! `hudi verify`: healthy on every fixture and every table `hudi demo` writes, and each fault
//! injected into a copy of a demo table is found, named by the check and file it concerns.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support;

fn verify(table: &Path) -> (bool, Value) {
    let t = table.to_string_lossy().to_string();
    let (ok, out, err) = support::run_hudi(&["verify", &t, "--json"]);
    let v: Value =
        serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("verify {t}: {e}: {out}{err}"));
    assert_eq!(v["healthy"], ok, "exit status and 'healthy' agree: {v}");
    (ok, v)
}

fn findings(v: &Value) -> Vec<(String, String)> {
    v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["check"].as_str().expect("check").to_string(),
                f["subject"].as_str().expect("subject").to_string(),
            )
        })
        .collect()
}

#[test]
fn verify_passes_on_every_fixture() {
    let Some(shared) = support::shared_dir("verify_passes_on_every_fixture") else {
        return;
    };
    let all: Vec<_> = support::fixtures(&shared)
        .into_iter()
        .chain(support::testdata_fixtures())
        .collect();
    assert!(all.len() > 20, "fixtures found: {}", all.len());
    for fx in all {
        let (ok, v) = verify(&fx.table);
        assert!(ok, "{}: {v}", fx.name);
    }
}

/// The files of a table, by name pattern, relative to it.
fn data_files(table: &Path, pred: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = support::all_files(table)
        .into_iter()
        .filter(|p| !p.strip_prefix(table).expect("under").starts_with(".hoodie"))
        .filter(|p| pred(&p.file_name().expect("name").to_string_lossy()))
        .collect();
    v.sort();
    v
}

fn fresh_copy(src: &Path, scratch: &Path, name: &str) -> PathBuf {
    let to = scratch.join(name);
    support::copy_tree(src, &to);
    to
}

/// Rewrites a parquet file with the same rows and footers, but a Bloom filter of other keys.
fn corrupt_bloom(file: &Path) {
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use parquet::file::metadata::KeyValue;
    let bytes = bytes::Bytes::from(std::fs::read(file).expect("read"));
    let builder = ParquetRecordBatchReaderBuilder::try_new(bytes).expect("parquet");
    let mut kv: Vec<KeyValue> = builder
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .cloned()
        .unwrap_or_default();
    let mut wrong = hudi_core::io::bloom::BloomFilter::hudi_default();
    wrong.add("not-a-key-of-this-file");
    for e in kv.iter_mut() {
        if e.key == hudi_core::io::bloom::FOOTER_KEY {
            e.value = Some(wrong.serialize());
        }
    }
    let schema = builder.schema().clone();
    let batches: Vec<_> = builder
        .build()
        .expect("reader")
        .collect::<Result<_, _>>()
        .expect("rows");
    let props = parquet::file::properties::WriterProperties::builder()
        .set_key_value_metadata(Some(kv))
        .build();
    let out = std::fs::File::create(file).expect("rewrite");
    let mut w = parquet::arrow::ArrowWriter::try_new(out, schema, Some(props)).expect("writer");
    for b in &batches {
        w.write(b).expect("write");
    }
    w.close().expect("close");
}

/// A marker of the table's first (completed) commit, as a crashed cleanup would leave it.
fn plant_stray_marker(t: &Path) -> (String, PathBuf) {
    let first = std::fs::read_dir(t.join(".hoodie"))
        .expect("ls")
        .flatten()
        .filter_map(|e| {
            e.file_name()
                .to_string_lossy()
                .strip_suffix(".commit")
                .map(String::from)
        })
        .min()
        .expect("a commit");
    let marker = t.join(format!(
        ".hoodie/.temp/{first}/country=de/x.parquet.marker.CREATE"
    ));
    std::fs::create_dir_all(marker.parent().expect("parent")).expect("mkdir");
    std::fs::write(&marker, b"").expect("marker");
    (first, marker)
}

#[test]
fn verify_finds_every_injected_fault() {
    let dir = tempfile::tempdir().expect("tempdir");
    let demo = dir.path().join("demo");
    let (ok, _, err) = support::run_hudi(&["demo", &demo.to_string_lossy(), "--events", "10000"]);
    assert!(ok, "{err}");
    let (cow, mor) = (demo.join("clicks_cow"), demo.join("clicks_mor"));
    for t in [&cow, &mor] {
        let (ok, v) = verify(t);
        assert!(ok, "{v}");
        assert_eq!(v["records"], 10_400);
    }
    let scratch = dir.path().join("faults");
    let base_files = |t: &Path| data_files(t, |n| n.ends_with(".parquet"));
    let rel = |t: &Path, p: &Path| {
        p.strip_prefix(t)
            .expect("under")
            .to_string_lossy()
            .to_string()
    };

    // A deleted data file of the latest slice.
    let t = fresh_copy(&cow, &scratch, "deleted");
    let newest = base_files(&t).into_iter().max_by_key(|p| {
        hudi_core::model::BaseFileName::parse(&p.file_name().unwrap().to_string_lossy())
            .expect("base name")
            .instant
    });
    let newest = newest.expect("a base file");
    std::fs::remove_file(&newest).expect("rm");
    let (ok, v) = verify(&t);
    assert!(!ok);
    assert!(
        findings(&v).contains(&("missing-file".into(), rel(&t, &newest))),
        "{v}"
    );

    // An orphan: a base file of an instant the timeline does not know.
    let t = fresh_copy(&cow, &scratch, "orphan");
    let src = base_files(&t).remove(0);
    let name = src.file_name().unwrap().to_string_lossy().to_string();
    let (head, _) = name.rsplit_once('_').expect("instant suffix");
    let orphan = src.with_file_name(format!("{head}_20991231000000000.parquet"));
    std::fs::copy(&src, &orphan).expect("copy");
    let (ok, v) = verify(&t);
    assert!(!ok);
    assert_eq!(
        findings(&v),
        [("orphan-file".to_string(), rel(&t, &orphan))],
        "{v}"
    );
    assert!(orphan.exists(), "verify never deletes");

    // A duplicate key: a visible copy of a file group under another file id.
    let t = fresh_copy(&cow, &scratch, "duplicate");
    let src = base_files(&t).pop().expect("file");
    let name = src.file_name().unwrap().to_string_lossy().to_string();
    let copy = src.with_file_name(format!(
        "00000000-dead-beef-0000-000000000000-0{}",
        &name[38..]
    ));
    std::fs::copy(&src, &copy).expect("copy");
    let (ok, v) = verify(&t);
    assert!(!ok);
    let f = findings(&v);
    assert!(f.iter().any(|(c, _)| c == "duplicate-key"), "{v}");
    assert!(f.contains(&("orphan-file".into(), rel(&t, &copy))), "{v}");

    // A Bloom filter that does not hold the file's keys.
    let t = fresh_copy(&cow, &scratch, "bloom");
    let victim = base_files(&t).pop().expect("file");
    corrupt_bloom(&victim);
    let (ok, v) = verify(&t);
    assert!(!ok);
    assert_eq!(
        findings(&v),
        [("footer".to_string(), rel(&t, &victim))],
        "{v}"
    );

    // A bad checksum in hoodie.properties.
    let t = fresh_copy(&cow, &scratch, "checksum");
    let props = t.join(".hoodie/hoodie.properties");
    let text = std::fs::read_to_string(&props).expect("props");
    let text: String = text
        .lines()
        .map(|l| match l.starts_with("hoodie.table.checksum=") {
            true => "hoodie.table.checksum=12345".to_string(),
            false => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&props, text).expect("write");
    let (ok, v) = verify(&t);
    assert!(!ok);
    assert_eq!(findings(&v)[0].0, "properties", "{v}");

    // A marker left behind by a completed instant, and a partition without its metadata file.
    let t = fresh_copy(&cow, &scratch, "markers");
    let (first, _) = plant_stray_marker(&t);
    std::fs::remove_file(t.join("country=fr/.hoodie_partition_metadata")).expect("rm");
    let (ok, v) = verify(&t);
    assert!(!ok);
    let f = findings(&v);
    assert!(
        f.contains(&("stray-markers".into(), format!(".hoodie/.temp/{first}"))),
        "{v}"
    );
    assert!(
        f.contains(&("partition-metadata".into(), "country=fr".into())),
        "{v}"
    );

    // A truncated log file.
    let t = fresh_copy(&mor, &scratch, "truncated");
    let logs = data_files(&t, |n| n.contains(".log."));
    let log = logs.last().expect("a log file");
    let len = std::fs::metadata(log).expect("meta").len();
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(log)
        .expect("open");
    f.set_len(len - 10).expect("truncate");
    let (ok, v) = verify(&t);
    assert!(!ok);
    assert!(
        findings(&v).contains(&("log-file".into(), rel(&t, log))),
        "{v}"
    );
}

#[test]
fn repairs_fix_what_verify_finds_and_dry_runs_change_nothing() {
    let Some(shared) = support::shared_dir("repairs_fix_what_verify_finds") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let demo = dir.path().join("demo");
    let (ok, _, err) = support::run_hudi(&["demo", &demo.to_string_lossy(), "--events", "10000"]);
    assert!(ok, "{err}");
    let t = demo.join("clicks_cow");
    let ts = t.to_string_lossy().to_string();
    let good_props = dir.path().join("good.properties");
    std::fs::copy(t.join(".hoodie/hoodie.properties"), &good_props).expect("copy props");
    let run = |args: &[&str]| {
        let (ok, out, err) = support::run_hudi(args);
        assert!(ok, "{args:?}: {err}");
        out
    };

    // Partition metadata: a dry run names the file and writes nothing; --apply writes it.
    let meta = t.join("country=fr/.hoodie_partition_metadata");
    std::fs::remove_file(&meta).expect("rm");
    let out = run(&["repair", "add-partition-meta", &ts]);
    assert!(
        out.contains("country=fr/.hoodie_partition_metadata") && out.contains("dry run"),
        "{out}"
    );
    assert!(!meta.exists());
    run(&["repair", "add-partition-meta", &ts, "--apply"]);
    let text = std::fs::read_to_string(&meta).expect("written");
    assert!(text.contains("partitionDepth=1"), "{text}");

    // A stray marker.
    let (_, marker) = plant_stray_marker(&t);
    run(&["repair", "markers", &ts]);
    assert!(marker.exists(), "a dry run deletes nothing");
    run(&["repair", "markers", &ts, "--apply"]);
    assert!(!marker.exists());
    let (ok, v) = verify(&t);
    assert!(ok, "{v}");

    // A broken checksum: the table does not open; overwrite-props puts the good file back and
    // keeps the broken one.
    let props = t.join(".hoodie/hoodie.properties");
    let broken = std::fs::read_to_string(&props)
        .expect("props")
        .replace("hoodie.table.checksum=", "hoodie.table.checksum=1");
    std::fs::write(&props, &broken).expect("write");
    assert!(!verify(&t).0);
    let out = run(&[
        "repair",
        "overwrite-props",
        &ts,
        &good_props.to_string_lossy(),
        "--apply",
        "--json",
    ]);
    let plan: Value = serde_json::from_str(out.trim()).expect("json");
    let backup = t.join(plan["backup"].as_str().expect("backup kept"));
    assert_eq!(std::fs::read_to_string(&backup).expect("backup"), broken);
    let (ok, v) = verify(&t);
    assert!(ok, "{v}");

    // A key written twice by an insert: a warning; deduplicate keeps the newer copy.
    let dup = dir.path().join("dup.jsonl");
    let (ok, out, _) = support::run_hudi(&[
        "read",
        &ts,
        "--columns",
        "event_id,user_id,country,event_type,page,amount_cents,ts",
        "--format",
        "jsonl",
        "--limit",
        "1",
    ]);
    assert!(ok);
    let mut row: Value = serde_json::from_str(out.lines().next().expect("row")).expect("json");
    row["page"] = Value::from("/duplicate");
    row["ts"] = Value::from(row["ts"].as_i64().expect("ts") + 1);
    std::fs::write(&dup, format!("{row}\n")).expect("jsonl");
    run(&[
        "write",
        &ts,
        "--input",
        &dup.to_string_lossy(),
        "--operation",
        "insert",
    ]);
    let (ok, v) = verify(&t);
    assert!(ok, "insert duplicates are warnings: {v}");
    let warnings = v["warnings"].as_array().expect("warnings");
    assert_eq!(warnings.len(), 1, "{v}");
    let part = format!("country={}", row["country"].as_str().expect("country"));
    let out = run(&["repair", "deduplicate", &ts, "--partition", &part]);
    assert!(out.contains(row["event_id"].as_str().expect("id")), "{out}");
    run(&[
        "repair",
        "deduplicate",
        &ts,
        "--partition",
        &part,
        "--apply",
    ]);
    let (ok, v) = verify(&t);
    assert!(
        ok && v["warnings"].as_array().expect("warnings").is_empty(),
        "{v}"
    );
    let mut oracle =
        crate::support::oracle::Oracle::start(&support::oracle_python(&shared), &shared);
    let rows = oracle.rows(&t, "snapshot", serde_json::json!({}));
    assert_eq!(
        rows.len(),
        10_400,
        "one copy of each key, as hudi-rs reads it"
    );
    let kept: Vec<&Value> = rows
        .iter()
        .filter(|r| r["event_id"] == row["event_id"])
        .collect();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0]["page"], "/duplicate", "the newer copy stays");
    let out = run(&["repair", "deduplicate", &ts, "--partition", &part]);
    assert!(out.contains("nothing to repair"), "{out}");
}
