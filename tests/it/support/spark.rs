//! Apache Hudi on Spark as the second oracle: one long-lived local SparkSession per test
//! binary (`interop/spark/spark_server.py`), started on first use and shared by every test;
//! each request is one JSON line, answered by one JSON line.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Mutex;

use serde_json::{json, Value};

struct Server {
    _child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    log: PathBuf,
    next: u64,
}

enum State {
    NotStarted,
    Running(Server),
    /// Setup failed (and Spark is not required): every Spark check is skipped.
    Unavailable(String),
}

static SPARK: Mutex<State> = Mutex::new(State::NotStarted);

fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../interop/spark")
}

/// What a script of `interop/spark/` prints, or why it failed.
fn script_output(script: &str) -> Result<String, String> {
    let out = Command::new("bash")
        .arg(interop_dir().join(script))
        .output()
        .map_err(|e| format!("cannot run interop/spark/{script}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "interop/spark/{script} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).to_string())
}

/// `(python, bundle jar)`: from `HUDI_SPARK_PYTHON`/`HUDI_SPARK_BUNDLE`, else made (once, cached
/// outside the clone) by `interop/spark/setup.sh`.
fn setup() -> Result<(PathBuf, PathBuf), String> {
    if let (Some(p), Some(b)) = (
        std::env::var_os("HUDI_SPARK_PYTHON"),
        std::env::var_os("HUDI_SPARK_BUNDLE"),
    ) {
        return Ok((p.into(), b.into()));
    }
    let text = script_output("setup.sh")?;
    let mut lines = text.lines();
    match (lines.next(), lines.next()) {
        (Some(p), Some(b)) => Ok((PathBuf::from(p.trim()), PathBuf::from(b.trim()))),
        _ => Err(format!("interop/spark/setup.sh printed {text:?}")),
    }
}

/// The Spark venv's python and the Hudi bundle, for one-shot Spark programs (a session with
/// Hive support, which the shared server's session cannot switch to); `None` when Spark is
/// not set up.
pub fn python_and_bundle() -> Option<(PathBuf, PathBuf)> {
    setup().ok()
}

/// The server's session has Apache Hudi's AWS Glue sync on its classpath too (the peer of our
/// Glue sync, pointed at moto by `hoodie.aws.glue.endpoint`), with dummy AWS credentials: no
/// test reaches real AWS.
fn start(shared: &Path) -> Result<Server, String> {
    let (python, bundle) = setup()?;
    let jars = format!("{},{}", bundle.display(), aws_jars()?);
    let log = std::env::temp_dir().join(format!("hudi-spark-oracle-{}.log", std::process::id()));
    let err = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
    let mut child = Command::new(&python)
        .arg(interop_dir().join("spark_server.py"))
        .arg(shared.join("oracle"))
        .env("HUDI_SPARK_BUNDLE", &jars)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(err)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", python.display()))?;
    let stdin = child.stdin.take().ok_or("no stdin")?;
    let mut stdout = BufReader::new(child.stdout.take().ok_or("no stdout")?);
    let mut line = String::new();
    stdout
        .read_line(&mut line)
        .map_err(|e| format!("spark server: {e}"))?;
    let ready: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
    if ready["ready"] != json!(true) {
        return Err(format!(
            "the Spark server did not start ({line:?}); its log:\n{}",
            log_tail(&log)
        ));
    }
    eprintln!(
        "spark oracle: Spark {} with {} (log {})",
        ready["spark"].as_str().unwrap_or("?"),
        bundle.display(),
        log.display()
    );
    Ok(Server {
        _child: child,
        stdin,
        stdout,
        log,
        next: 0,
    })
}

/// The jars Apache Hudi's AWS Glue sync needs beside the bundle (comma-separated): from
/// `HUDI_SPARK_AWS_JARS`, else fetched (once, cached outside the clone) by
/// `interop/spark/aws_jars.sh`.
fn aws_jars() -> Result<String, String> {
    if let Ok(j) = std::env::var("HUDI_SPARK_AWS_JARS") {
        return Ok(j);
    }
    Ok(script_output("aws_jars.sh")?.trim().to_string())
}

fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

/// Whether Spark checks run in this test. Without Spark (setup failed) the test prints why and
/// skips them; with `HUDI_REQUIRE_SHARED=1` (CI) a missing Spark fails the test instead.
pub fn available(test: &str) -> bool {
    let Some(shared) = crate::support::shared_dir(test) else {
        return false;
    };
    let mut state = SPARK.lock().unwrap_or_else(|e| e.into_inner());
    if let State::NotStarted = *state {
        *state = match start(&shared) {
            Ok(s) => State::Running(s),
            Err(e) => State::Unavailable(e),
        };
    }
    match &*state {
        State::Running(_) => true,
        State::Unavailable(e) => {
            if std::env::var("HUDI_REQUIRE_SHARED").as_deref() == Ok("1") {
                panic!("{test}: Spark is required (HUDI_REQUIRE_SHARED=1) but unavailable: {e}");
            }
            eprintln!("SKIPPED Spark checks of {test}: {e}");
            false
        }
        State::NotStarted => false,
    }
}

/// Sends one request; returns the answer, or its error (`error`, and the Java cause chain).
pub fn ask(mut req: Value) -> Result<Value, String> {
    let mut state = SPARK.lock().unwrap_or_else(|e| e.into_inner());
    let State::Running(s) = &mut *state else {
        panic!("Spark asked before spark::available() said yes");
    };
    req["id"] = json!(s.next);
    s.next += 1;
    writeln!(s.stdin, "{req}").expect("write to the Spark server");
    s.stdin.flush().expect("flush");
    let mut line = String::new();
    let n = s.stdout.read_line(&mut line).unwrap_or(0);
    if n == 0 {
        panic!("the Spark server died; its log:\n{}", log_tail(&s.log));
    }
    let a: Value = serde_json::from_str(&line).expect("Spark server json");
    match a.get("error") {
        Some(e) => Err(format!(
            "{} {}",
            e.as_str().unwrap_or_default(),
            a["java"].as_str().unwrap_or_default()
        )),
        None => Ok(a),
    }
}

fn canonical(lines: &Value) -> Vec<Value> {
    let mut rows: Vec<Value> = lines
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l.as_str().expect("line")).expect("row json");
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

/// Rows Spark reads from a table in `mode` (snapshot, read_optimized, incremental, as_of; the
/// bounds in `extra`), canonical and sorted as `Oracle::rows` makes hudi-rs's.
pub fn rows(table: &Path, mode: &str, extra: Value) -> Result<Vec<Value>, String> {
    let mut req = json!({"op": "read", "path": table.to_string_lossy(), "mode": mode});
    if let Value::Object(m) = extra {
        for (k, v) in m {
            req[k] = v;
        }
    }
    ask(req).map(|a| canonical(&a["rows"]))
}

/// Runs one Spark SQL statement (a `CALL` of a Hudi procedure, DDL, a query); its rows.
pub fn sql(statement: &str) -> Result<Vec<Value>, String> {
    ask(json!({"op": "sql", "sql": statement})).map(|a| canonical(&a["rows"]))
}

/// Writes the rows of a Parquet file into a Hudi table through Spark's datasource with these
/// `hoodie.*` options (append mode).
pub fn write(table: &Path, input: &Path, options: &BTreeMap<String, String>) -> Result<(), String> {
    ask(json!({
        "op": "write",
        "path": table.to_string_lossy(),
        "input": input.to_string_lossy(),
        "options": options,
        "mode": "append",
    }))
    .map(|_| ())
}
