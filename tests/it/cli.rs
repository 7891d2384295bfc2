//! The `hudi` binary: inspection output and error behaviour.

use serde_json::Value;
use std::path::Path;

use crate::support;

#[test]
fn show_json_reports_the_fixture_layout() {
    let Some(shared) = support::shared_dir("show_json_reports_the_fixture_layout") else {
        return;
    };
    let fx = support::fixtures(&shared)
        .into_iter()
        .find(|f| f.name.ends_with("cow/v6_complexkeygen_hivestyle"))
        .expect("fixture");
    let (ok, out, err) = support::run_hudi(&["show", &fx.table.to_string_lossy(), "--json"]);
    assert!(ok, "{err}");
    let v: Value = serde_json::from_str(out.trim()).expect("json");
    assert_eq!(v["type"], "COPY_ON_WRITE");
    assert_eq!(v["version"], 6);
    assert_eq!(v["key_generator"], "COMPLEX");
    assert_eq!(v["record_key_fields"], serde_json::json!(["id", "name"]));
    assert_eq!(v["partitions"], 3);
    assert_eq!(v["file_groups"], 3);
    assert_eq!(v["base_files"], 4);
    assert_eq!(v["latest_instant"]["requested"], "20240418173235694");

    let (ok, out, _) =
        support::run_hudi(&["timeline", &fx.table.to_string_lossy(), "--json", "--all"]);
    assert!(ok);
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 6, "two commits, three state files each");
    assert_eq!(lines[1]["file"], "20240418173213674.inflight");

    let (ok, out, _) = support::run_hudi(&[
        "read",
        &fx.table.to_string_lossy(),
        "--columns",
        "id,name",
        "--format",
        "jsonl",
        "--limit",
        "3",
    ]);
    assert!(ok);
    let rows: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("json row"))
        .collect();
    assert_eq!(rows.len(), 3);
    assert!(rows
        .iter()
        .all(|r| r.as_object().is_some_and(|o| o.len() == 2)));
}

#[test]
fn errors_are_one_line_naming_the_culprit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_string_lossy().to_string();
    let (ok, _, err) = support::run_hudi(&["show", &path]);
    assert!(!ok);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("is not a Hudi table") && err.contains(&path),
        "{err}"
    );

    // An unsupported table version.
    std::fs::create_dir_all(dir.path().join(".hoodie")).expect("mkdir");
    std::fs::write(
        dir.path().join(".hoodie/hoodie.properties"),
        "hoodie.table.name=t\nhoodie.table.version=5\n",
    )
    .expect("write");
    let (ok, _, err) = support::run_hudi(&["read", &path]);
    assert!(!ok);
    assert!(err.contains("unsupported table version 5"), "{err}");

    let Some(shared) = support::shared_dir("errors_are_one_line_naming_the_culprit") else {
        return;
    };
    let fx = support::fixtures(&shared)
        .into_iter()
        .next()
        .expect("fixture");
    let t = fx.table.to_string_lossy().to_string();
    let (ok, _, err) = support::run_hudi(&["read", &t, "--as-of", "yesterday"]);
    assert!(!ok && err.contains("yesterday"), "{err}");
    let (ok, _, err) = support::run_hudi(&["read", &t, "--columns", "no_such_column"]);
    assert!(!ok && err.contains("no_such_column"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// `create --index bucket --buckets N` writes every record into one of N bucket file groups
/// per partition; `read --format csv` prints a header and one line per row; `metadata delete
/// --backup` keeps the metadata table's files before deleting them.
#[test]
fn bucket_create_csv_read_and_metadata_delete_backup() {
    let dir = tempfile::tempdir().expect("tempdir");
    let t = dir.path().join("t");
    let ts = t.to_string_lossy().to_string();
    let input = dir.path().join("rows.csv");
    let mut csv = String::from("id,city,ts\n");
    for id in 0..40 {
        csv.push_str(&format!("{id},{},1\n", ["sf", "la"][id % 2]));
    }
    std::fs::write(&input, csv).expect("csv");
    let ok = |args: &[&str]| {
        let (ok, out, err) = support::run_hudi(args);
        assert!(ok, "hudi {args:?}: {out} {err}");
        out
    };
    ok(&[
        "create",
        &ts,
        "--record-key",
        "id",
        "--partition-by",
        "city",
        "--precombine",
        "ts",
        "--index",
        "bucket",
        "--buckets",
        "4",
    ]);
    ok(&["write", &ts, "--input", &input.to_string_lossy()]);
    let mut buckets = std::collections::BTreeSet::new();
    for f in support::all_files(&t) {
        let name = f
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        if name.ends_with(".parquet") {
            let bucket: u32 = name[..8].parse().expect("a bucket number prefix");
            assert!(bucket < 4, "{name}");
            let city = f.parent().and_then(|p| p.file_name()).expect("partition");
            buckets.insert((city.to_string_lossy().to_string(), bucket));
        }
    }
    assert!(buckets.len() > 2 && buckets.len() <= 8, "{buckets:?}");
    let out = ok(&["read", &ts, "--columns", "id,city", "--format", "csv"]);
    let mut lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.remove(0), "id,city", "{out}");
    lines.sort();
    let mut want: Vec<String> = (0..40)
        .map(|id| format!("{id},{}", ["sf", "la"][id % 2]))
        .collect();
    want.sort();
    assert_eq!(lines, want);
    // A metadata table (as another writer left it): deleted with a backup of its files.
    let mdt = t.join(".hoodie/metadata/files");
    std::fs::create_dir_all(&mdt).expect("mkdir");
    std::fs::write(mdt.join(".files-0000_00000000000000.log.1_0-0-0"), b"log").expect("write");
    let props = t.join(".hoodie/hoodie.properties");
    let text = std::fs::read_to_string(&props).expect("props");
    std::fs::write(
        &props,
        format!("{text}hoodie.table.metadata.partitions=files\n"),
    )
    .expect("w");
    let out = ok(&["metadata", "delete", &ts, "--backup", "--json"]);
    let v: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["files_deleted"].as_u64(), Some(1), "{v}");
    let backup = t.join(v["backup"].as_str().expect("backup dir"));
    let kept = backup.join("files/.files-0000_00000000000000.log.1_0-0-0");
    assert_eq!(std::fs::read(&kept).expect("the backup"), b"log");
    assert!(!t.join(".hoodie/metadata").exists());
    assert!(!std::fs::read_to_string(&props)
        .expect("props")
        .contains("metadata.partitions"));
    // The table is one we maintain again.
    ok(&["write", &ts, "--input", &input.to_string_lossy()]);
}

/// Create-on-first-write checks the input first (one rule with the Python package): a key,
/// partition or ordering field that is not a column of the input, or an input without rows,
/// creates no table.
#[test]
fn a_first_write_that_cannot_key_its_input_creates_no_table() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("rows.csv");
    std::fs::write(&input, "id,city,ts\n1,sf,1\n").expect("csv");
    let empty = dir.path().join("empty.jsonl");
    std::fs::write(&empty, "").expect("jsonl");
    let t = dir.path().join("t");
    let ts = t.to_string_lossy().to_string();
    let i = input.to_string_lossy().to_string();
    for (flags, culprit) in [
        (vec!["--record-key", "uid"], "uid"),
        (vec!["--record-key", "id", "--partition-by", "town"], "town"),
        (vec!["--record-key", "id", "--precombine", "when"], "when"),
    ] {
        let mut args = vec!["write", &ts, "--input", &i];
        args.extend(flags);
        let (ok, _, err) = support::run_hudi(&args);
        assert!(
            !ok && err.contains(&format!("no column '{culprit}'")),
            "{err}"
        );
        assert!(err.contains("no table was created"), "{err}");
        assert!(!t.exists(), "a table was created for {culprit}");
    }
    let e = empty.to_string_lossy().to_string();
    let (ok, _, err) = support::run_hudi(&["write", &ts, "--input", &e, "--record-key", "id"]);
    assert!(!ok && err.contains("no table was created"), "{err}");
    assert!(!t.exists());
    let (ok, _, err) = support::run_hudi(&["write", &ts, "--input", &i, "--record-key", "id"]);
    assert!(ok, "{err}");
}

/// The README's Rust example is `hudi-core/examples/readme.rs` line for line, and that example
/// (built by `cargo test`) runs: it creates, writes, reads and cleans a table.
#[test]
fn the_readme_rust_example_compiles_and_runs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let shown = readme
        .split("```rust\n")
        .nth(1)
        .and_then(|s| s.split("```").next())
        .expect("a rust block in the README");
    let example_path = root.join("hudi-core/examples/readme.rs");
    let example = std::fs::read_to_string(&example_path).expect("example");
    let body = example
        .split("    // README begin\n")
        .nth(1)
        .and_then(|s| s.split("    // README end\n").next())
        .expect("README markers in the example");
    let body: String = body
        .lines()
        .map(|l| format!("{}\n", l.strip_prefix("    ").unwrap_or(l)))
        .collect();
    assert_eq!(
        shown, body,
        "the README's Rust block differs from the example"
    );
    let exe = support::hudi_bin()
        .parent()
        .expect("target dir")
        .join("examples/readme");
    if !exe.exists() {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = std::process::Command::new(cargo)
            .args(["build", "--quiet", "-p", "hudi-core", "--example", "readme"])
            .current_dir(&root)
            .status()
            .expect("cargo build --example readme");
        assert!(status.success());
    }
    let out = std::process::Command::new(&exe)
        .output()
        .expect("run the example");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.starts_with("3 rows as of "),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Local paths as a user types them: `..` and `.` (relative to the working directory) and a
/// `~` no shell expanded work in every kind of command, creating, writing, reading and
/// servicing the same table, and nothing is written under a directory named `..` or `~`.
#[test]
fn paths_with_dots_and_home_work_in_every_command() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().canonicalize().expect("canonical");
    let cwd = root.join("work/sub");
    std::fs::create_dir_all(&cwd).expect("mkdir");
    std::fs::write(root.join("work/a.csv"), "id,city,ts\n1,sf,1\n2,la,1\n").expect("csv");
    std::fs::write(root.join("work/b.csv"), "id,city,ts\n2,la,5\n3,sf,1\n").expect("csv");
    let home = [("HOME", root.to_str().expect("utf-8"))];
    let run = |args: &[&str]| {
        let (ok, out, err) = support::run_hudi_in(&cwd, args, &home);
        assert!(ok, "hudi {args:?} in {}: {out} {err}", cwd.display());
        out
    };
    run(&[
        "write",
        "../t",
        "--input",
        "../a.csv",
        "--record-key",
        "id",
        "--precombine",
        "ts",
        "--partition-by",
        "city",
    ]);
    run(&["write", "./../t/", "--input", "../b.csv"]);
    run(&[
        "write",
        "~/work/t",
        "--input",
        "../b.csv",
        "--operation",
        "upsert",
    ]);
    let count = |table: &str| -> serde_json::Value {
        serde_json::from_str(&run(&["read", table, "--count", "--json"])).expect("json")
    };
    for table in [
        "../t",
        "~/work/t",
        "../../work/sub/../t",
        "~/work/../work/t/.",
    ] {
        assert_eq!(count(table)["rows"].as_u64(), Some(3), "{table}");
    }
    let shown: serde_json::Value =
        serde_json::from_str(&run(&["show", "../t", "--json"])).expect("show json");
    assert_eq!(
        shown["location"].as_str(),
        Some(root.join("work/t").to_str().expect("utf-8")),
        "{shown}"
    );
    assert!(shown["writable"] == true && shown["unmaintained"] == serde_json::json!([]));
    run(&["timeline", "../t"]);
    run(&["commits", "show", "~/work/t"]);
    run(&["clean", "../t", "--dry-run"]);
    run(&["savepoint", "create", "../t"]);
    run(&["savepoint", "list", "~/work/t"]);
    run(&["verify", "../t"]);
    // A table created under `~` lands in the home directory, not in a directory named `~`.
    run(&["write", "~/u", "--input", "../a.csv", "--record-key", "id"]);
    assert!(root.join("u/.hoodie/hoodie.properties").exists());
    assert!(!cwd.join("~").exists());
    assert_eq!(
        support::all_files(&cwd).len(),
        0,
        "files written under the cwd"
    );
}

#[test]
fn write_from_csv_jsonl_parquet_and_arrow_then_read_through_hudi_rs() {
    use std::sync::Arc;

    use arrow::array::{Float64Array, Int64Array, RecordBatch, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};

    let Some(shared) = support::shared_dir("write_from_csv_jsonl_parquet_and_arrow") else {
        return;
    };
    let mut oracle =
        crate::support::oracle::Oracle::start(&support::oracle_python(&shared), &shared);
    let dir = tempfile::tempdir().expect("tempdir");
    let t = dir.path().join("t");
    let ts = t.to_string_lossy().to_string();
    let csv = dir.path().join("a.csv");
    std::fs::write(
        &csv,
        "id,city,ts,fare\n1,sf,1,10.5\n2,sf,1,11.0\n3,nyc,1,12.25\n",
    )
    .expect("csv");
    let jsonl = dir.path().join("b.jsonl");
    std::fs::write(&jsonl, "{\"id\":2,\"city\":\"sf\",\"ts\":5,\"fare\":99.5}\n{\"id\":4,\"city\":\"la\",\"ts\":1,\"fare\":1.0}\n")
        .expect("jsonl");
    let batch = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, true),
            Field::new("city", DataType::Utf8, true),
            Field::new("ts", DataType::Int64, true),
            Field::new("fare", DataType::Float64, true),
        ])),
        vec![
            Arc::new(Int64Array::from(vec![5])),
            Arc::new(StringArray::from(vec!["nyc"])),
            Arc::new(Int64Array::from(vec![1])),
            Arc::new(Float64Array::from(vec![5.5])),
        ],
    )
    .expect("batch");
    let pq = dir.path().join("c.parquet");
    let mut w = parquet::arrow::ArrowWriter::try_new(
        std::fs::File::create(&pq).expect("f"),
        batch.schema(),
        None,
    )
    .expect("w");
    w.write(&batch).expect("write");
    w.close().expect("close");
    let ipc = dir.path().join("d.arrow");
    let batch6 = RecordBatch::try_new(
        batch.schema(),
        vec![
            Arc::new(Int64Array::from(vec![1])),
            Arc::new(StringArray::from(vec!["sf"])),
            Arc::new(Int64Array::from(vec![9])),
            Arc::new(Float64Array::from(vec![0.5])),
        ],
    )
    .expect("batch");
    let mut w = arrow::ipc::writer::FileWriter::try_new(
        std::fs::File::create(&ipc).expect("f"),
        &batch6.schema(),
    )
    .expect("w");
    w.write(&batch6).expect("write");
    w.finish().expect("finish");

    let run = |args: &[&str]| {
        let (ok, out, err) = support::run_hudi(args);
        assert!(ok, "{args:?}: {err}");
        out
    };
    let out = run(&[
        "write",
        &ts,
        "--input",
        &csv.to_string_lossy(),
        "--operation",
        "bulk_insert",
        "--record-key",
        "id",
        "--partition-by",
        "city",
        "--precombine",
        "ts",
        "--hive-style",
        "--json",
    ]);
    let m: Value = serde_json::from_str(out.trim()).expect("metrics json");
    assert_eq!(m["records_inserted"], 3);
    run(&["write", &ts, "--input", &jsonl.to_string_lossy()]);
    run(&[
        "write",
        &ts,
        "--input",
        &pq.to_string_lossy(),
        &ipc.to_string_lossy(),
        "--operation",
        "upsert",
    ]);
    let rows = oracle.rows(&t, "snapshot", serde_json::json!({}));
    let got: Vec<(String, String, f64)> = rows
        .iter()
        .map(|r| {
            let (k, p) = crate::support::oracle::key_and_partition(r);
            (k, p, r["fare"].as_f64().unwrap_or(-1.0))
        })
        .collect();
    let mut got = got;
    got.sort_by(|a, b| a.0.cmp(&b.0));
    let want = vec![
        ("1".to_string(), "city=sf".to_string(), 0.5),
        ("2".into(), "city=sf".into(), 99.5),
        ("3".into(), "city=nyc".into(), 12.25),
        ("4".into(), "city=la".into(), 1.0),
        ("5".into(), "city=nyc".into(), 5.5),
    ];
    assert_eq!(got, want);
    run(&[
        "write",
        &ts,
        "--operation",
        "delete_partition",
        "--partitions",
        "city=la",
    ]);
    assert_eq!(oracle.rows(&t, "snapshot", serde_json::json!({})).len(), 4);
    // Without --partitions, delete_partition drops the partitions of its input rows (c.parquet
    // holds one nyc row), as Hudi's Spark writer does.
    let out = run(&[
        "write",
        &ts,
        "--input",
        &pq.to_string_lossy(),
        "--operation",
        "delete_partition",
        "--json",
    ]);
    let m: Value = serde_json::from_str(out.trim()).expect("metrics json");
    assert_eq!(m["operation"], "DELETE_PARTITION");
    let left = oracle.rows(&t, "snapshot", serde_json::json!({}));
    let mut ids: Vec<String> = left
        .iter()
        .map(|r| crate::support::oracle::key_and_partition(r).0)
        .collect();
    ids.sort();
    assert_eq!(ids, ["1", "2"], "only city=sf is left");
    // Dropping a partition that holds nothing is refused, not committed as an empty replace.
    let (ok, _, err) = support::run_hudi(&[
        "write",
        &ts,
        "--operation",
        "delete_partition",
        "--partitions",
        "city=la",
    ]);
    assert!(
        !ok && err.contains("nothing to delete") && err.contains("city=la"),
        "{err}"
    );
    let (ok, _, err) = support::run_hudi(&["write", &ts, "--input", "missing.csv"]);
    assert!(!ok && err.contains("missing.csv"), "{err}");
    let (ok, _, err) = support::run_hudi(&["create", &ts, "--record-key", "id"]);
    assert!(!ok && err.contains("already exists"), "{err}");
}

#[test]
fn write_from_globs_and_stdin() {
    use std::io::Write;
    let Some(shared) = support::shared_dir("write_from_globs_and_stdin") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let t = dir.path().join("t");
    let ts = t.to_string_lossy().to_string();
    let inputs = dir.path().join("in");
    std::fs::create_dir_all(inputs.join("day=1")).expect("mkdir");
    std::fs::create_dir_all(inputs.join("day=2")).expect("mkdir");
    for (day, ids) in [(1, [1, 2]), (2, [3, 4])] {
        let lines: String = ids
            .iter()
            .map(|id| format!("{{\"id\":{id},\"city\":\"sf\",\"ts\":1,\"v\":\"a{id}\"}}\n"))
            .collect();
        std::fs::write(inputs.join(format!("day={day}/part-0.jsonl")), lines).expect("write");
    }
    let pattern = format!("{}/day=*/part-*.jsonl", inputs.display());
    let (ok, _, err) = support::run_hudi(&[
        "write",
        &ts,
        "--input",
        &pattern,
        "--record-key",
        "id",
        "--precombine",
        "ts",
        "--partition-by",
        "city",
    ]);
    assert!(ok, "{err}");
    let (ok, _, err) = support::run_hudi(&[
        "write",
        &ts,
        "--input",
        &format!("{}/nope-*.jsonl", inputs.display()),
    ]);
    assert!(!ok && err.contains("matches no file"), "{err}");
    // An upsert from stdin.
    let mut child = std::process::Command::new(support::hudi_bin())
        .args(["write", &ts, "--input", "-", "--json"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"{\"id\":2,\"city\":\"sf\",\"ts\":2,\"v\":\"b2\"}\n{\"id\":5,\"city\":\"sf\",\"ts\":2,\"v\":\"b5\"}\n")
        .expect("feed");
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let m: Value = serde_json::from_slice(&out.stdout).expect("metrics");
    assert_eq!(
        (
            m["records_inserted"].as_u64(),
            m["records_updated"].as_u64()
        ),
        (Some(1), Some(1))
    );
    let mut oracle =
        crate::support::oracle::Oracle::start(&support::oracle_python(&shared), &shared);
    let mut got: Vec<(String, String)> = oracle
        .rows(&t, "snapshot", serde_json::json!({}))
        .iter()
        .map(|r| (r["id"].to_string(), r["v"].as_str().expect("v").to_string()))
        .collect();
    got.sort();
    let want: Vec<(String, String)> = [(1, "a1"), (2, "b2"), (3, "a3"), (4, "a4"), (5, "b5")]
        .iter()
        .map(|(i, v)| (i.to_string(), v.to_string()))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn bad_records_are_set_aside_with_their_reason_or_fail_the_write() {
    let Some(shared) = support::shared_dir("bad_records_are_set_aside") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let t = dir.path().join("t");
    let ts = t.to_string_lossy().to_string();
    let input = dir.path().join("in.jsonl");
    std::fs::write(
        &input,
        concat!(
            "{\"id\":1,\"city\":\"sf\",\"ts\":1,\"v\":\"a\"}\n",
            "not json at all\n",
            "{\"id\":null,\"city\":\"sf\",\"ts\":1,\"v\":\"null key\"}\n",
            "{\"id\":\"abc\",\"city\":\"sf\",\"ts\":1,\"v\":\"not a number\"}\n",
            "{\"id\":4,\"city\":\"../../outside\",\"ts\":1,\"v\":\"escapes\"}\n",
            "{\"id\":5,\"city\":\"la\",\"ts\":1,\"v\":\"b\"}\n",
        ),
    )
    .expect("input");
    let create = [
        "--record-key",
        "id",
        "--partition-by",
        "city",
        "--precombine",
        "ts",
    ];
    let inp = input.to_string_lossy().to_string();
    // Without a bad-records path, a bad record fails the write before anything commits.
    let mut args = vec!["write", &ts, "--input", &inp];
    args.extend(create);
    let (ok, _, err) = support::run_hudi(&args);
    assert!(!ok && err.contains("in.jsonl"), "{err}");
    let commits = |t: &std::path::Path| {
        std::fs::read_dir(t.join(".hoodie"))
            .map(|d| {
                d.flatten()
                    .filter(|e| e.file_name().to_string_lossy().ends_with(".commit"))
                    .count()
            })
            .unwrap_or(0)
    };
    assert_eq!(commits(&t), 0);
    // With one, the four bad records go to DIR with their reasons and the two good ones commit.
    let bad_dir = dir.path().join("bad");
    let bd = bad_dir.to_string_lossy().to_string();
    args.extend(["--bad-records-path", &bd, "--json"]);
    let (ok, out, err) = support::run_hudi(&args);
    assert!(ok, "{err}");
    let m: Value = serde_json::from_str(out.trim()).expect("metrics");
    assert_eq!(m["bad_records"], 4);
    assert_eq!(m["records_inserted"], 2);
    let bad_file = std::path::PathBuf::from(m["bad_records_path"].as_str().expect("path"));
    let bad: Vec<Value> = std::fs::read_to_string(&bad_file)
        .expect("bad records")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    let reasons: Vec<&str> = bad
        .iter()
        .map(|b| b["reason"].as_str().expect("reason"))
        .collect();
    assert_eq!(reasons.len(), 4, "{reasons:?}");
    assert!(reasons[0].starts_with("line 2:"), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("\"abc\"")), "{reasons:?}");
    assert!(
        reasons.iter().any(|r| r.contains("null or empty")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("base path")),
        "{reasons:?}"
    );
    assert!(!dir.path().join("outside").exists() && !t.join("..").join("outside").exists());
    let instant = m["instant"].as_str().expect("instant");
    let commit: Value = serde_json::from_slice(
        &std::fs::read(t.join(format!(".hoodie/{instant}.commit"))).expect("commit"),
    )
    .expect("json");
    assert_eq!(commit["extraMetadata"]["bad.records.count"], "4");
    let mut oracle =
        crate::support::oracle::Oracle::start(&support::oracle_python(&shared), &shared);
    let mut ids: Vec<i64> = oracle
        .rows(&t, "snapshot", serde_json::json!({}))
        .iter()
        .map(|r| r["id"].as_i64().expect("id"))
        .collect();
    ids.sort();
    assert_eq!(ids, [1, 5]);
    // CSV into the table: values that do not fit its column types, a short record.
    let csv = dir.path().join("more.csv");
    std::fs::write(
        &csv,
        "id,city,ts,v\n7,sf,2,c\neight,sf,2,x\n9,sf\n10,la,2,\"multi\nline\"\n",
    )
    .expect("csv");
    let (ok, out, err) = support::run_hudi(&[
        "write",
        &ts,
        "--input",
        &csv.to_string_lossy(),
        "--bad-records-path",
        &bd,
        "--json",
    ]);
    assert!(ok, "{err}");
    let m: Value = serde_json::from_str(out.trim()).expect("metrics");
    assert_eq!(
        (m["bad_records"].as_u64(), m["records_inserted"].as_u64()),
        (Some(2), Some(2))
    );
    let bad_csv =
        std::fs::read_to_string(m["bad_records_path"].as_str().expect("path")).expect("bad");
    assert!(
        bad_csv.contains("line 3") && bad_csv.contains("line 4"),
        "{bad_csv}"
    );
    // Only bad records: nothing to commit, and the command says so.
    let all_bad = dir.path().join("all_bad.jsonl");
    std::fs::write(
        &all_bad,
        "{\"id\":null,\"city\":\"sf\",\"ts\":2,\"v\":\"x\"}\n",
    )
    .expect("input");
    let (ok, _, err) = support::run_hudi(&[
        "write",
        &ts,
        "--input",
        &all_bad.to_string_lossy(),
        "--bad-records-path",
        &bd,
    ]);
    assert!(!ok && err.contains("every input record is bad"), "{err}");
    assert_eq!(commits(&t), 2);
    let rows = oracle.rows(&t, "snapshot", serde_json::json!({}));
    let multi = rows.iter().find(|r| r["id"] == 10).expect("id 10");
    assert_eq!(
        multi["v"], "multi\nline",
        "a quoted newline stays in its record"
    );
}

#[test]
fn every_command_has_help_with_examples() {
    let (ok, out, _) = support::run_hudi(&["--help"]);
    assert!(ok);
    let commands: Vec<&str> = out
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .collect();
    assert!(commands.len() >= 20, "{commands:?}");
    for c in commands {
        let (ok, help, err) = support::run_hudi(&[c, "--help"]);
        assert!(ok, "{c}: {err}");
        assert!(
            help.contains("Examples:"),
            "`hudi {c} --help` has no examples:\n{help}"
        );
    }
}
