//! Reading tables from S3 (a moto server on loopback): the same rows as from local disk, and
//! put-if-absent is atomic there too.

use arrow::array::RecordBatch;
use bytes::Bytes;
use hudi_core::storage::Storage;
use hudi_core::{HudiError, Table};

use crate::support;
use crate::support::moto::S3;

fn rows(batches: &[RecordBatch]) -> Vec<String> {
    let mut out = Vec::new();
    for b in batches {
        let mut w = arrow::json::LineDelimitedWriter::new(Vec::new());
        w.write(b).expect("json");
        w.finish().expect("json");
        out.extend(
            String::from_utf8(w.into_inner())
                .expect("utf8")
                .lines()
                .map(String::from),
        );
    }
    out.sort();
    out
}

#[test]
fn tables_on_s3_read_like_local_ones() {
    let Some(s3) = S3::start("tables_on_s3_read_like_local_ones", "lake") else {
        return;
    };
    let shared = s3.shared.clone();
    let (opts, rt) = (&s3.opts, &s3.rt);
    let mut compared = 0;
    for fx in support::fixtures(&shared).into_iter().filter(|f| {
        f.name.contains("v6_trips")
            || f.name.contains("v9_txns_simple_meta")
            || f.name.contains("v6_complexkeygen")
    }) {
        let url = format!("s3://lake/{}", fx.name);
        s3.upload(&fx.table, &url);
        rt.block_on(async {
            let remote = Table::open_with_options(&url, opts)
                .await
                .expect("open on s3");
            let local = Table::open(&fx.table.to_string_lossy())
                .await
                .expect("open locally");
            let (_, a) = remote.read().collect().await.expect("read s3");
            let (_, b) = local.read().collect().await.expect("read local");
            assert!(!b.is_empty(), "{}", fx.name);
            assert_eq!(rows(&a), rows(&b), "{}", fx.name);
            let first = local
                .timeline()
                .completed_writes()
                .next()
                .expect("a commit")
                .requested()
                .clone();
            let (_, a) = remote
                .read()
                .with_as_of(first.clone())
                .collect()
                .await
                .expect("as of on s3");
            let (_, b) = local
                .read()
                .with_as_of(first)
                .collect()
                .await
                .expect("as of locally");
            assert_eq!(rows(&a), rows(&b), "{}", fx.name);
        });
        compared += 1;
    }
    assert_eq!(
        compared, 4,
        "the v6 trips, v6 complex-key and both v9 txns tables"
    );

    rt.block_on(async {
        let s = Storage::open("s3://lake/atomic", opts).expect("s3 storage");
        s.put_if_absent(".hoodie/x.commit", Bytes::from_static(b"1"))
            .await
            .expect("first create");
        let again = s
            .put_if_absent(".hoodie/x.commit", Bytes::from_static(b"2"))
            .await;
        assert!(
            matches!(again, Err(HudiError::AlreadyExists { .. })),
            "{again:?}"
        );
        assert_eq!(s.get(".hoodie/x.commit").await.expect("get").as_ref(), b"1");
    });
}

/// The `hudi` binary on an `s3://` table (moto on loopback): a merge-on-read table written,
/// upserted, compacted, cleaned, inspected and verified there; hudi-rs reads the same rows
/// from a download of it.
#[test]
fn cli_commands_work_on_s3_as_on_local_disk() {
    let Some(s3) = S3::start("cli_commands_work_on_s3", "cli") else {
        return;
    };
    let (shared, python) = (s3.shared.clone(), s3.python.clone());
    let hudi = |args: &[&str]| s3.run(args);
    let ok = |args: &[&str]| s3.ok(args);
    let dir = tempfile::tempdir().expect("tempdir");
    let first = dir.path().join("first.jsonl");
    let lines: String = (0..200)
        .map(|i| {
            format!(
                "{{\"id\":{i},\"city\":\"c{}\",\"ts\":1,\"v\":{i}}}\n",
                i % 4
            )
        })
        .collect();
    std::fs::write(&first, lines).expect("input");
    let second = dir.path().join("second.jsonl");
    let lines: String = (150..250)
        .map(|i| {
            format!(
                "{{\"id\":{i},\"city\":\"c{}\",\"ts\":2,\"v\":{}}}\n",
                i % 4,
                i * 10
            )
        })
        .collect();
    std::fs::write(&second, lines).expect("input");
    let t = "s3://cli/events";
    let f = first.to_string_lossy().to_string();
    let s = second.to_string_lossy().to_string();
    ok(&[
        "write",
        t,
        "--input",
        &f,
        "--record-key",
        "id",
        "--partition-by",
        "city",
        "--precombine",
        "ts",
        "--type",
        "mor",
        "--operation",
        "bulk_insert",
    ]);
    ok(&["write", t, "--input", &s]);
    // A log file of the upsert, walked where it lies.
    let with_logs = ok(&["fsview", t, "--latest", "--json"])
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json"))
        .find(|v| v["log_files"].as_u64() > Some(0))
        .expect("a slice with a log file");
    let log = format!(
        "{t}/{}/{}",
        with_logs["partition"].as_str().expect("partition"),
        with_logs["log_file_names"][0].as_str().expect("log")
    );
    let blocks = ok(&["log", "show", &log, "--json"]);
    assert!(blocks.contains("AVRO_DATA_BLOCK"), "{blocks}");
    let count: serde_json::Value =
        serde_json::from_str(ok(&["read", t, "--count", "--json"]).trim()).expect("json");
    assert_eq!(count["rows"], 250);
    ok(&["compaction", "run", t, "--schedule"]);
    ok(&[
        "clean",
        t,
        "--policy",
        "KEEP_LATEST_FILE_VERSIONS",
        "--retain",
        "1",
    ]);
    let writes = ok(&["commits", "show", t, "--json"]);
    assert_eq!(
        writes.lines().count(),
        3,
        "bulk insert, upsert, compaction: {writes}"
    );
    let slices = ok(&["fsview", t, "--latest", "--json"]);
    assert!(slices.lines().count() >= 4, "{slices}");
    let v = ok(&["verify", t, "--json"]);
    let v: serde_json::Value = serde_json::from_str(v.trim()).expect("json");
    assert_eq!(v["healthy"], true, "{v}");
    assert_eq!(v["records"], 250);
    let (ok_ro, out, _) = hudi(&["read", t, "--read-optimized", "--count", "--json"]);
    assert!(
        ok_ro && out.contains("250"),
        "compacted: base files hold every row: {out}"
    );
    // The inspection commands, as on local disk.
    assert!(ok(&["show", t, "--json"]).contains("MERGE_ON_READ"));
    assert_eq!(
        ok(&["timeline", t, "--json"]).lines().count(),
        4,
        "3 writes and a clean"
    );
    assert!(ok(&["schema", t, "--json"]).contains("\"name\":\"v\""));
    assert!(ok(&["stats", "wa", t, "--json"]).contains("\"total\""));
    assert!(ok(&["stats", "filesizes", t, "--json"]).contains("\"ALL\""));
    assert!(ok(&["commits", "files", t, "--json"]).lines().count() >= 4);
    let key = "hoodie.cleaner.commits.retained";
    ok(&["config", "set", t, &format!("{key}=4")]);
    assert_eq!(ok(&["config", "get", t, key]).trim(), "4");
    ok(&["checkpoint", "set", t, "--checkpoint", "topic,0:10"]);
    assert!(ok(&["checkpoint", "get", t]).contains("topic,0:10"));
    assert!(ok(&["repair", "markers", t]).contains("nothing to repair"));
    ok(&["savepoint", "create", t]);
    let sp: serde_json::Value =
        serde_json::from_str(ok(&["savepoint", "list", t, "--json"]).trim())
            .expect("one savepoint");
    let sp = sp[0]["instant"].as_str().expect("instant").to_string();
    assert!(ok(&["rollback", t]).contains("no failed writes"));
    assert!(ok(&["archive", t]).contains("nothing to archive"));
    // A later upsert, then the table restored to the savepoint: the rows of then.
    let third = dir.path().join("third.jsonl");
    std::fs::write(&third, "{\"id\":1000,\"city\":\"c0\",\"ts\":3,\"v\":1}\n").expect("input");
    ok(&["write", t, "--input", &third.to_string_lossy()]);
    assert!(ok(&["read", t, "--count", "--json"]).contains("251"));
    ok(&["savepoint", "restore", t, "--instant", &sp]);
    assert!(ok(&["read", t, "--count", "--json"]).contains("250"));
    let v = ok(&["verify", t, "--json"]);
    assert!(v.contains("\"healthy\":true"), "{v}");
    // hudi-rs reads the same rows from a copy of the bucket's table.
    let local = dir.path().join("copy");
    s3.download(t, &local);
    let mut oracle = support::oracle::Oracle::start(&python, &shared);
    let rows = oracle.rows(&local, "snapshot", serde_json::json!({}));
    assert_eq!(rows.len(), 250);
    let v160 = rows.iter().find(|r| r["id"] == 160).expect("id 160");
    assert_eq!(v160["v"], 1600, "the upsert won");
}
