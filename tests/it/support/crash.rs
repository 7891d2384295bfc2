//! The crash-injection harness's parts: the operations it crashes (writes and table services
//! of the `hudi` binary, on a copy-on-write and a merge-on-read table), a run of `hudi` killed
//! with SIGKILL at a crash point (`HUDI_FAILPOINT`, see hudi-core's `storage::failpoint`) or
//! at a moment, and what the timeline on disk says (the latest completed write, pending
//! instants).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The table types crashed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Cow,
    Mor,
}

impl Kind {
    pub fn token(self) -> &'static str {
        match self {
            Kind::Cow => "cow",
            Kind::Mor => "mor",
        }
    }
}

/// What an operation does to the rows a snapshot reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// A new commit: the rows change at its commit point.
    Write,
    /// A table service (compaction, clean, archival): the rows never change.
    Service,
    /// Rolls back the latest commit.
    Rollback,
    /// Restores the savepoint of the second commit: the later commits go, newest first.
    Restore,
}

/// One crashed operation: `hudi` arguments (`{t}` the table, `{c2}`/`{c4}` the base table's
/// second and fourth commits, `{in}` the directory of input files), run after `prepare`.
#[derive(Debug, Clone)]
pub struct Op {
    pub name: &'static str,
    pub kind: Kind,
    pub prepare: Vec<Vec<&'static str>>,
    pub args: Vec<&'static str>,
    pub effect: Effect,
}

/// The city of a row id: three partitions.
pub fn city(id: u32) -> &'static str {
    ["ams", "ber", "cph"][(id % 3) as usize]
}

/// JSON lines of rows `ids` with value `v` and ordering value `ts`.
pub fn jsonl(ids: impl Iterator<Item = u32>, v: &str, ts: u32) -> String {
    ids.map(|id| {
        format!(
            "{}\n",
            serde_json::json!({"id": id, "city": city(id), "ts": ts, "v": v})
        )
    })
    .collect()
}

/// The input files of the base tables' commits and of the crashed writes.
pub fn write_inputs(dir: &Path) {
    let files = [
        ("c1", jsonl(0..60, "c1", 1)),
        ("c2", jsonl((0..20).chain(60..70), "c2", 2)),
        ("c3", jsonl(15..40, "c3", 3)),
        ("c4", jsonl(35..65, "c4", 4)),
        ("upsert", jsonl((10..30).chain(100..110), "op", 5)),
        ("insert", jsonl(200..230, "op", 5)),
        ("bulk", jsonl(300..330, "op", 5)),
        ("delete", jsonl(0..12, "op", 5)),
    ];
    for (name, text) in files {
        std::fs::write(dir.join(format!("{name}.jsonl")), text).expect("input file");
    }
}

/// The base table's four commits (`hudi` arguments, as [`Op::args`]): an insert of 60 rows in
/// three partitions, then three upserts.
pub fn base_commits(kind: Kind) -> Vec<Vec<String>> {
    let first = [
        "write",
        "{t}",
        "--input",
        "{in}/c1.jsonl",
        "--operation",
        "insert",
        "--record-key",
        "id",
        "--partition-by",
        "city",
        "--precombine",
        "ts",
        "--type",
        kind.token(),
        "--name",
        match kind {
            Kind::Cow => "crash_cow",
            Kind::Mor => "crash_mor",
        },
    ];
    let mut out = vec![first.iter().map(|s| s.to_string()).collect()];
    for c in ["c2", "c3", "c4"] {
        out.push(vec![
            "write".into(),
            "{t}".into(),
            "--input".into(),
            format!("{{in}}/{c}.jsonl"),
        ]);
    }
    out
}

/// Every operation crashed, on both table types (services where they apply).
pub fn ops() -> Vec<Op> {
    let write = |name, kind, input: &'static str, op: &'static str| Op {
        name,
        kind,
        prepare: vec![],
        args: vec!["write", "{t}", "--input", input, "--operation", op],
        effect: Effect::Write,
    };
    let archive = vec![
        "archive",
        "{t}",
        "--option",
        "hoodie.keep.min.commits=2",
        "--option",
        "hoodie.keep.max.commits=3",
        "--option",
        "hoodie.cleaner.commits.retained=1",
    ];
    let mut out = Vec::new();
    for kind in [Kind::Cow, Kind::Mor] {
        out.push(write("upsert", kind, "{in}/upsert.jsonl", "upsert"));
        out.push(write("insert", kind, "{in}/insert.jsonl", "insert"));
        if kind == Kind::Cow {
            out.push(write("bulk_insert", kind, "{in}/bulk.jsonl", "bulk_insert"));
        }
        out.push(write("delete", kind, "{in}/delete.jsonl", "delete"));
        let compacted = match kind {
            Kind::Cow => vec![],
            Kind::Mor => vec![vec!["compaction", "run", "{t}", "--schedule"]],
        };
        out.push(Op {
            name: "clean",
            kind,
            prepare: compacted.clone(),
            args: vec![
                "clean",
                "{t}",
                "--policy",
                "KEEP_LATEST_FILE_VERSIONS",
                "--retain",
                "1",
            ],
            effect: Effect::Service,
        });
        if kind == Kind::Mor {
            out.push(Op {
                name: "compaction",
                kind,
                prepare: vec![],
                args: vec!["compaction", "run", "{t}", "--schedule"],
                effect: Effect::Service,
            });
        }
        out.push(Op {
            name: "rollback",
            kind,
            prepare: vec![],
            args: vec!["rollback", "{t}", "--instant", "{c4}"],
            effect: Effect::Rollback,
        });
        // The compaction trigger holds a merge-on-read table's delta commits since its last
        // compaction back from archival.
        out.push(Op {
            name: "archive",
            kind,
            prepare: compacted.clone(),
            args: archive.clone(),
            effect: Effect::Service,
        });
        out.push(Op {
            name: "restore",
            kind,
            prepare: vec![vec!["savepoint", "create", "{t}", "--instant", "{c2}"]],
            args: vec!["savepoint", "restore", "{t}", "--instant", "{c2}"],
            effect: Effect::Restore,
        });
    }
    out
}

/// How a run is stopped.
#[derive(Debug, Clone, Copy)]
pub enum Kill {
    /// At the `k`-th crash point the run passes (1-based).
    AtPoint(usize),
    /// After this long.
    After(Duration),
}

/// How a run ended.
#[derive(Debug)]
pub enum Ended {
    /// Killed; at this crash point when it was stopped at one.
    Killed(Option<String>),
    /// Finished by itself before the kill.
    Finished { ok: bool, stderr: String },
}

/// Runs `hudi` with `args` and kills it (SIGKILL) as `kill` says.
pub fn run_killed(args: &[String], kill: Kill) -> Ended {
    let mut cmd = Command::new(super::hudi_bin());
    cmd.args(args).stdout(Stdio::null()).stderr(Stdio::piped());
    if let Kill::AtPoint(k) = kill {
        cmd.env("HUDI_FAILPOINT", format!("*:*:#{k}"));
    }
    let mut child = cmd.spawn().expect("run hudi");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(p) = line.strip_prefix("hudi failpoint: ") {
                let _ = tx.send(p.to_string());
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let point = match kill {
        // The channel closes when the run ends without reaching the point.
        Kill::AtPoint(_) => rx.recv_timeout(Duration::from_secs(120)).ok(),
        Kill::After(d) => {
            std::thread::sleep(d);
            None
        }
    };
    let _ = child.kill();
    let status = child.wait().expect("wait for hudi");
    let stderr = reader.join().unwrap_or_default();
    if status.signal() == Some(9) {
        return Ended::Killed(point);
    }
    Ended::Finished {
        ok: status.success(),
        stderr,
    }
}

/// Runs `hudi` to the end with every crash point traced: (success, stderr, the points in the
/// order passed, wall time).
pub fn run_traced(args: &[String]) -> (bool, String, Vec<String>, Duration) {
    let start = Instant::now();
    let out = Command::new(super::hudi_bin())
        .args(args)
        .env("HUDI_FAILPOINT_TRACE", "1")
        .output()
        .expect("run hudi");
    let took = start.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let points = stderr
        .lines()
        .filter_map(|l| l.strip_prefix("hudi failpoint trace: "))
        .map(str::to_string)
        .collect();
    (out.status.success(), stderr, points, took)
}

/// The state files of each instant on the active timeline: instant → suffixes (`commit`,
/// `deltacommit.inflight`, `compaction.requested`, ...).
pub fn instants(table: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for e in std::fs::read_dir(table.join(".hoodie"))
        .expect("read .hoodie")
        .flatten()
    {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some((t, suffix)) = name.split_once('.') else {
            continue;
        };
        // `#n`: the staging file of an interrupted put on a local disk.
        let staging = suffix.contains('#') || suffix.ends_with("crc");
        if t.len() >= 14 && t.bytes().all(|b| b.is_ascii_digit()) && !staging {
            out.entry(t.to_string())
                .or_default()
                .insert(suffix.to_string());
        }
    }
    out
}

/// The completed writes (commits, delta commits, replace commits; not compactions).
pub fn completed_writes(table: &Path) -> Vec<String> {
    instants(table)
        .into_iter()
        .filter(|(_, s)| {
            ["commit", "deltacommit", "replacecommit"]
                .iter()
                .any(|a| s.contains(*a))
                && !s.iter().any(|x| x.starts_with("compaction."))
        })
        .map(|(t, _)| t)
        .collect()
}

/// Instants with no completed state file.
pub fn incomplete(table: &Path) -> Vec<String> {
    instants(table)
        .into_iter()
        .filter(|(_, s)| s.iter().all(|x| x.contains('.')))
        .map(|(t, s)| format!("{t} ({})", s.into_iter().collect::<Vec<_>>().join(", ")))
        .collect()
}

/// `args` with the placeholders filled in.
pub fn fill(args: &[&str], table: &Path, inputs: &Path, commits: &[String]) -> Vec<String> {
    args.iter()
        .map(|a| {
            a.replace("{t}", &table.to_string_lossy())
                .replace("{in}", &inputs.to_string_lossy())
                .replace("{c2}", commits.get(1).map_or("{c2}", String::as_str))
                .replace("{c4}", commits.get(3).map_or("{c4}", String::as_str))
        })
        .collect()
}

/// The crash points a deterministic run stops at among an operation's `n` traced points: the
/// first, the middle and the last, and both sides of its commit point.
pub fn chosen_points(points: &[String]) -> Vec<usize> {
    let n = points.len();
    let commit = points.iter().rposition(|p| {
        p.strip_prefix("before:put:.hoodie/")
            .and_then(|f| f.split_once('.'))
            .is_some_and(|(t, s)| t.bytes().all(|b| b.is_ascii_digit()) && !s.contains('.'))
    });
    let mut ks: BTreeSet<usize> = [1, n / 2, n].into_iter().collect();
    if let Some(c) = commit {
        ks.insert(c + 1);
        ks.insert(c + 2);
    }
    ks.into_iter().filter(|k| (1..=n).contains(k)).collect()
}

/// A small deterministic random number generator (xorshift), seeded by the caller.
pub struct Rng(pub u64);

impl Rng {
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// A scratch table directory.
pub fn fresh(dir: &Path, name: &str) -> PathBuf {
    let p = dir.join(name);
    let _ = std::fs::remove_dir_all(&p);
    p
}
