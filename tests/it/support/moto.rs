//! A moto server (S3 and Glue) on a free loopback port, started by the shared oracle's
//! `start_moto.sh` and stopped when dropped.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use bytes::Bytes;
use hudi_core::storage::Storage;
use serde_json::Value;

use crate::support;

pub struct Moto {
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

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
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

/// The object_store options of a moto endpoint (test credentials, plain HTTP).
pub fn s3_options(endpoint: &str) -> HashMap<String, String> {
    [
        ("aws_endpoint", endpoint),
        ("aws_allow_http", "true"),
        ("aws_region", "us-east-1"),
        ("aws_access_key_id", "test"),
        ("aws_secret_access_key", "test"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// A moto server with one bucket, and the `hudi` binary and the bucket's files with its
/// storage options; the server stops when this is dropped.
pub struct S3 {
    so: Vec<String>,
    pub opts: HashMap<String, String>,
    pub rt: tokio::runtime::Runtime,
    pub shared: PathBuf,
    pub python: PathBuf,
    pub endpoint: String,
    _moto: Moto,
}

impl S3 {
    /// Starts moto with an empty `bucket`; `None` (the test is skipped, and says why) without
    /// the shared directory.
    pub fn start(test: &str, bucket: &str) -> Option<S3> {
        let shared = support::shared_dir(test)?;
        let python = support::oracle_python(&shared);
        let (moto, endpoint) = moto_with_bucket(&shared, &python, bucket);
        let opts = s3_options(&endpoint);
        Some(S3 {
            so: opts.iter().map(|(k, v)| format!("{k}={v}")).collect(),
            opts,
            rt: tokio::runtime::Runtime::new().expect("runtime"),
            shared,
            python,
            endpoint,
            _moto: moto,
        })
    }

    pub fn run(&self, args: &[&str]) -> (bool, String, String) {
        let mut all: Vec<&str> = args.to_vec();
        for o in &self.so {
            all.extend(["--storage-option", o]);
        }
        support::run_hudi(&all)
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let (ok, out, err) = self.run(args);
        assert!(ok, "hudi {args:?}: {err}");
        out
    }

    pub fn json(&self, args: &[&str]) -> Value {
        let out = self.ok(args);
        serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{args:?}: {e}: {out}"))
    }

    pub fn lines(&self, args: &[&str]) -> Vec<Value> {
        self.ok(args)
            .lines()
            .map(|l| serde_json::from_str(l).expect("json line"))
            .collect()
    }

    pub fn count(&self, t: &str) -> u64 {
        self.json(&["read", t, "--count", "--json"])["rows"]
            .as_u64()
            .expect("rows")
    }

    pub fn storage(&self, url: &str) -> Storage {
        Storage::open(url, &self.opts).expect("s3 storage")
    }

    pub fn get(&self, url: &str, rel: &str) -> Bytes {
        self.rt
            .block_on(self.storage(url).get(rel))
            .unwrap_or_else(|e| panic!("{url}/{rel}: {e}"))
    }

    pub fn download(&self, url: &str, to: &Path) {
        let s = self.storage(url);
        self.rt.block_on(async {
            for f in s.list_recursive("").await.expect("list") {
                let dest = to.join(&f.path);
                std::fs::create_dir_all(dest.parent().expect("parent")).expect("mkdir");
                std::fs::write(&dest, s.get(&f.path).await.expect("get")).expect("write");
            }
        });
    }

    pub fn upload(&self, local: &Path, url: &str) {
        let s = self.storage(url);
        self.rt.block_on(async {
            for p in support::all_files(local) {
                let rel = p.strip_prefix(local).expect("under").to_string_lossy();
                let data = Bytes::from(std::fs::read(&p).expect("read"));
                s.put(&rel.replace('\\', "/"), data).await.expect("put");
            }
        });
    }
}
