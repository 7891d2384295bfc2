//! Reading tables from S3 (a moto server on loopback): the same rows as from local disk, and
//! put-if-absent is atomic there too.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use arrow::array::RecordBatch;
use bytes::Bytes;
use hudi_core::storage::Storage;
use hudi_core::{HudiError, Table};

use crate::support;

struct Moto {
    stop: std::path::PathBuf,
    pid: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(&self.stop)
            .args(["stop", &self.pid])
            .output();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

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

async fn upload(local: &Path, storage: &Storage) {
    for p in support::all_files(local) {
        let rel = p
            .strip_prefix(local)
            .expect("under table")
            .to_string_lossy()
            .replace('\\', "/");
        storage
            .put(&rel, Bytes::from(std::fs::read(&p).expect("read")))
            .await
            .expect("upload");
    }
}

/// A moto server on a free loopback port with one empty bucket; stopped when dropped.
fn moto_with_bucket(shared: &Path, python: &Path, bucket: &str) -> (Moto, String) {
    let port = free_port();
    let start = shared.join("oracle/start_moto.sh");
    let out = Command::new("bash")
        .arg(&start)
        .args(["start", &port.to_string()])
        .output()
        .expect("start moto");
    assert!(
        out.status.success(),
        "moto: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let moto = Moto {
        stop: start,
        pid: String::from_utf8_lossy(&out.stdout).trim().to_string(),
    };
    let endpoint = format!("http://127.0.0.1:{port}");
    let made = Command::new(python)
        .args([
            "-c",
            &format!(
                "import boto3; boto3.client('s3', endpoint_url='{endpoint}', region_name='us-east-1', \
                 aws_access_key_id='test', aws_secret_access_key='test').create_bucket(Bucket='{bucket}')"
            ),
        ])
        .output()
        .expect("create bucket");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    (moto, endpoint)
}

#[test]
fn tables_on_s3_read_like_local_ones() {
    let Some(shared) = support::shared_dir("tables_on_s3_read_like_local_ones") else {
        return;
    };
    let python = support::oracle_python(&shared);
    let (_moto, endpoint) = moto_with_bucket(&shared, &python, "lake");

    let opts: HashMap<String, String> = [
        ("aws_endpoint", endpoint.as_str()),
        ("aws_allow_http", "true"),
        ("aws_region", "us-east-1"),
        ("aws_access_key_id", "test"),
        ("aws_secret_access_key", "test"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();

    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let mut compared = 0;
    for fx in support::fixtures(&shared).into_iter().filter(|f| {
        f.name.contains("v6_trips")
            || f.name.contains("v9_txns_simple_meta")
            || f.name.contains("v6_complexkeygen")
    }) {
        let url = format!("s3://lake/{}", fx.name);
        rt.block_on(async {
            let storage = Storage::open(&url, &opts).expect("s3 storage");
            upload(&fx.table, &storage).await;
            let remote = Table::open_with_options(&url, &opts)
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
        let s = Storage::open("s3://lake/atomic", &opts).expect("s3 storage");
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
    let Some(shared) = support::shared_dir("cli_commands_work_on_s3") else {
        return;
    };
    let python = support::oracle_python(&shared);
    let (_moto, endpoint) = moto_with_bucket(&shared, &python, "cli");
    let so = [
        format!("aws_endpoint={endpoint}"),
        "aws_allow_http=true".to_string(),
        "aws_region=us-east-1".to_string(),
        "aws_access_key_id=test".to_string(),
        "aws_secret_access_key=test".to_string(),
    ];
    let hudi = |args: &[&str]| -> (bool, String, String) {
        let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        for o in &so {
            all.push("--storage-option".into());
            all.push(o.clone());
        }
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        support::run_hudi(&refs)
    };
    let ok = |args: &[&str]| -> String {
        let (ok, out, err) = hudi(args);
        assert!(ok, "{args:?}: {err}");
        out
    };
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
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let opts: HashMap<String, String> = so
            .iter()
            .filter_map(|o| o.split_once('='))
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        let storage = Storage::open(t, &opts).expect("s3");
        for f in storage.list_recursive("").await.expect("list") {
            let dest = local.join(&f.path);
            std::fs::create_dir_all(dest.parent().expect("parent")).expect("mkdir");
            std::fs::write(&dest, storage.get(&f.path).await.expect("get")).expect("write");
        }
    });
    let mut oracle = support::oracle::Oracle::start(&python, &shared);
    let rows = oracle.rows(&local, "snapshot", serde_json::json!({}));
    assert_eq!(rows.len(), 250);
    let v160 = rows.iter().find(|r| r["id"] == 160).expect("id 160");
    assert_eq!(v160["v"], 1600, "the upsert won");
}
