//! A long-lived oracle process: canonical rows of hudi-rs reads, on demand.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use serde_json::{json, Value};

pub struct Oracle {
    python: PathBuf,
    shared: PathBuf,
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    next: usize,
}

impl Oracle {
    pub fn start(python: &Path, shared: &Path) -> Oracle {
        let mut child = Command::new(python)
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/it/support/oracle_batch.py"
            ))
            .arg(shared.join("oracle"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the oracle");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        Oracle {
            python: python.to_path_buf(),
            shared: shared.to_path_buf(),
            child,
            stdin,
            stdout,
            next: 0,
        }
    }

    /// Sends one case to the driver (`oracle_batch.py`) and returns its answer.
    pub fn ask(&mut self, mut case: Value) -> Value {
        case["id"] = json!(self.next);
        self.next += 1;
        writeln!(self.stdin, "{case}").expect("write to oracle");
        self.stdin.flush().expect("flush");
        let mut line = String::new();
        self.stdout.read_line(&mut line).expect("oracle answer");
        serde_json::from_str(&line).expect("oracle json")
    }

    /// Canonical rows hudi-rs reads, as JSON values, without the seqno and file-name columns
    /// (which depend on file layout, not on content). Sorted.
    pub fn rows(&mut self, table: &Path, mode: &str, extra: Value) -> Vec<Value> {
        let mut case = json!({"table": table.to_string_lossy(), "mode": mode});
        if let Value::Object(m) = extra {
            for (k, v) in m {
                case[k] = v;
            }
        }
        let a = self.ask(case);
        if let Some(e) = a.get("error") {
            panic!("hudi-rs failed to read {} ({mode}): {e}", table.display());
        }
        let mut rows: Vec<Value> = a["expected"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|l| {
                let mut v: Value =
                    serde_json::from_str(l.as_str().expect("line")).expect("row json");
                if let Value::Object(m) = &mut v {
                    m.remove("_hoodie_commit_seqno");
                    m.remove("_hoodie_file_name");
                }
                v
            })
            .collect();
        rows.sort_by_key(|v| v.to_string());
        rows
    }

    /// Canonical rows of a Parquet file (our reader's output), in the same form as [`rows`].
    pub fn file_rows(&mut self, file: &Path) -> Vec<Value> {
        self.rows(file, "snapshot", json!({"reader": "file"}))
    }

    /// Runs a Python snippet in the oracle's venv (fastavro etc.).
    pub fn python(&mut self, code: &str) -> (i64, String, String) {
        let argv = [
            self.python.to_string_lossy().into_owned(),
            "-c".into(),
            code.to_string(),
        ];
        self.run(&argv)
    }

    /// Runs one of the oracle's format checkers (`shared/oracle/formats/<script>`) on files.
    pub fn checker(&mut self, script: &str, args: &[&Path]) -> (i64, String, String) {
        let mut argv = vec![
            self.python.to_string_lossy().into_owned(),
            self.shared
                .join("oracle/formats")
                .join(script)
                .to_string_lossy()
                .into_owned(),
        ];
        argv.extend(args.iter().map(|a| a.to_string_lossy().into_owned()));
        self.run(&argv)
    }

    /// Runs a command in the oracle's process.
    fn run(&mut self, argv: &[String]) -> (i64, String, String) {
        let a = self.ask(json!({"op": "run", "argv": argv}));
        (
            a["rc"].as_i64().unwrap_or(-1),
            a["stdout"].as_str().unwrap_or_default().to_string(),
            a["stderr"].as_str().unwrap_or_default().to_string(),
        )
    }
}

/// What most oracle-checked tests start with: the shared directory (or `None` after printing
/// why the test is skipped), a running oracle, and a tokio runtime.
pub fn setup(test: &str) -> Option<(PathBuf, Oracle, tokio::runtime::Runtime)> {
    let shared = crate::support::shared_dir(test)?;
    let oracle = Oracle::start(&crate::support::oracle_python(&shared), &shared);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    Some((shared, oracle, rt))
}

/// `(_hoodie_record_key, _hoodie_partition_path)` of a row.
pub fn key_and_partition(r: &Value) -> (String, String) {
    let s = |f: &str| r[f].as_str().unwrap_or_default().to_string();
    (s("_hoodie_record_key"), s("_hoodie_partition_path"))
}

impl Drop for Oracle {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
