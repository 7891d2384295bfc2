//! Trino (476, with its Hudi connector) on loopback, its catalog `hudi` reading tables through
//! a Hive metastore: the query engine behind Athena. Made once by `interop/trino/setup.sh`.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub struct Trino {
    child: Child,
    pub port: u16,
    dir: tempfile::TempDir,
}

impl Drop for Trino {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn interop() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../interop/trino")
}

fn setup() -> Result<(PathBuf, PathBuf), String> {
    let out = Command::new("bash")
        .arg(interop().join("setup.sh"))
        .output()
        .map_err(|e| format!("cannot run interop/trino/setup.sh: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "interop/trino/setup.sh failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let mut lines = text.lines();
    match (lines.next(), lines.next()) {
        (Some(s), Some(j)) => Ok((PathBuf::from(s.trim()), PathBuf::from(j.trim()))),
        _ => Err(format!("interop/trino/setup.sh printed {text:?}")),
    }
}

/// `GET /v1/info`'s body, if the server answers.
fn info(port: u16) -> Option<String> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    s.write_all(b"GET /v1/info HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .ok()?;
    let mut body = String::new();
    s.read_to_string(&mut body).ok()?;
    Some(body)
}

impl Trino {
    /// Starts Trino with a `hudi` catalog over the metastore at `metastore_uri`; waits until
    /// it has started (about 10 s).
    pub fn start(metastore_uri: &str) -> Result<Trino, String> {
        let (server, java) = setup()?;
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let port = crate::support::moto::free_port();
        let etc = dir.path().join("etc");
        std::fs::create_dir_all(etc.join("catalog")).map_err(|e| e.to_string())?;
        let config = format!(
            "coordinator=true\nnode-scheduler.include-coordinator=true\n\
             http-server.http.port={port}\ndiscovery.uri=http://127.0.0.1:{port}\n\
             query.max-memory=512MB\nquery.max-memory-per-node=512MB\n"
        );
        std::fs::write(etc.join("config.properties"), config).map_err(|e| e.to_string())?;
        let catalog = format!(
            "connector.name=hudi\nhive.metastore.uri={metastore_uri}\nfs.hadoop.enabled=true\n"
        );
        std::fs::write(etc.join("catalog/hudi.properties"), catalog).map_err(|e| e.to_string())?;
        let log =
            std::fs::File::create(dir.path().join("server.log")).map_err(|e| e.to_string())?;
        let child = Command::new(&java)
            .args([
                "-Xmx1G",
                "-XX:+UseG1GC",
                "-Djdk.attach.allowAttachSelf=true",
            ])
            .arg("-Dnode.environment=test")
            .arg("-Dnode.id=hudi-rust-test")
            .arg(format!(
                "-Dnode.data-dir={}",
                dir.path().join("data").display()
            ))
            .arg(format!(
                "-Dconfig={}",
                etc.join("config.properties").display()
            ))
            .arg(format!(
                "-Dcatalog.config-dir={}",
                etc.join("catalog").display()
            ))
            .arg("-cp")
            .arg(server.join("lib/*"))
            .arg("io.trino.server.TrinoServer")
            .current_dir(&server)
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", java.display()))?;
        let mut t = Trino { child, port, dir };
        let deadline = Instant::now() + Duration::from_secs(120);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = t.child.try_wait() {
                return Err(format!("Trino exited ({status}): {}", t.log_tail()));
            }
            // Started, and the coordinator has announced itself as a worker: a query runs.
            if info(port).is_some_and(|b| b.contains("\"starting\":false")) && t.runs("SELECT 1") {
                return Ok(t);
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        Err(format!("Trino did not start in 120 s: {}", t.log_tail()))
    }

    /// Whether a query runs now (right after start-up the node may not be registered yet:
    /// "No nodes available to run query").
    fn runs(&self, sql: &str) -> bool {
        Command::new("python3")
            .arg(interop().join("query.py"))
            .arg(self.port.to_string())
            .arg(sql)
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|l| serde_json::from_str::<Value>(l.trim()).ok())
            .is_some_and(|v| v.get("error").is_none())
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    fn answers(&self, queries: &[&str]) -> Vec<Value> {
        let out = Command::new("python3")
            .arg(interop().join("query.py"))
            .arg(self.port.to_string())
            .args(queries)
            .output()
            .expect("run interop/trino/query.py");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).expect("trino answer json"))
            .collect()
    }

    /// The rows (arrays, in column order) of each query; a failed query fails the test. Right
    /// after start-up the node may not have announced itself to the coordinator yet ("No nodes
    /// available to run query"): the queries are asked again for up to 90 s.
    pub fn query(&self, queries: &[&str]) -> Vec<Vec<Value>> {
        let deadline = Instant::now() + Duration::from_secs(90);
        let mut answers = self.answers(queries);
        while Instant::now() < deadline
            && answers.iter().any(|a| {
                a["error"]
                    .as_str()
                    .is_some_and(|e| e.contains("No nodes available"))
            })
        {
            std::thread::sleep(Duration::from_secs(2));
            answers = self.answers(queries);
        }
        assert_eq!(
            answers.len(),
            queries.len(),
            "{answers:?} {}",
            self.log_tail()
        );
        answers
            .iter()
            .map(|a| {
                assert!(a.get("error").is_none(), "Trino: {a}");
                a["rows"].as_array().cloned().unwrap_or_default()
            })
            .collect()
    }
}

/// Trino, or why not: with `HUDI_REQUIRE_SHARED=1` (CI) a Trino that cannot start fails.
pub fn start_or_skip(test: &str, metastore_uri: &str) -> Option<Trino> {
    match Trino::start(metastore_uri) {
        Ok(t) => Some(t),
        Err(e) if std::env::var("HUDI_REQUIRE_SHARED").as_deref() == Ok("1") => {
            panic!("{test}: Trino is required (HUDI_REQUIRE_SHARED=1) but could not start: {e}")
        }
        Err(e) => {
            eprintln!("SKIPPED Trino checks of {test}: {e}");
            None
        }
    }
}
