//! Crash injection (issue 12): the `hudi` binary is killed with SIGKILL in the middle of
//! writes (upsert, insert, bulk_insert, delete) and table services (compaction, clean,
//! rollback, archival, restore) on a copy-on-write and a merge-on-read table — at its crash
//! points (every change it makes to the table's storage, `HUDI_FAILPOINT`) and at random
//! moments. After the kill, hudi-rs and our reader must read exactly the state of the last
//! completed commit (never a mix, never less); after recovery (`hudi rollback`, the next
//! write, or the service run again) exactly the state the uncrashed operation gives, with
//! nothing pending, `hudi verify` healthy, and Spark reading (and writing into) the table.
//!
//! CI runs a chosen set of points per operation; `tests/crash.sh` runs every point of every
//! operation and `HUDI_CRASH_ITERATIONS` random moments.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Value};

use crate::support::crash::{self, Effect, Ended, Kill, Kind, Op, Rng};
use crate::support::oracle::Oracle;
use crate::support::{self, data, spark};

/// A base table: four commits, and the rows a snapshot shows as of each.
struct Base {
    dir: PathBuf,
    commits: Vec<String>,
    as_of: BTreeMap<String, Vec<Value>>,
}

/// An operation ready to crash: its table (the base after `prepare`), and what the uncrashed
/// run gives (rows, latest commit, crash points, wall time).
struct Prepared {
    op: Op,
    dir: PathBuf,
    commits: Vec<String>,
    as_of: BTreeMap<String, Vec<Value>>,
    twin_rows: Vec<Value>,
    twin_latest: String,
    points: Vec<String>,
    took: Duration,
}

#[derive(Default)]
struct Tally {
    iterations: usize,
    lost: usize,
    exposed: usize,
    killed_at_point: usize,
    killed_at_moment: usize,
    finished: usize,
    /// Kills at a crash point per operation (`kind name`).
    point_kills: BTreeMap<String, usize>,
    failures: Vec<String>,
    reads: BTreeMap<&'static str, usize>,
}

struct Harness {
    oracle: Oracle,
    rt: tokio::runtime::Runtime,
    scratch: tempfile::TempDir,
    inputs: PathBuf,
    spark: bool,
    tally: Tally,
    n: usize,
}

/// A failed check of one iteration.
type Check = Result<(), String>;

impl Harness {
    fn new(test: &str) -> Option<Harness> {
        let (_, oracle, rt) = support::oracle::setup(test)?;
        let spark = spark::available(test);
        let scratch = tempfile::tempdir().expect("tempdir");
        let inputs = scratch.path().join("inputs");
        std::fs::create_dir_all(&inputs).expect("inputs");
        crash::write_inputs(&inputs);
        Some(Harness {
            oracle,
            rt,
            scratch,
            inputs,
            spark,
            tally: Tally::default(),
            n: 0,
        })
    }

    fn dir(&mut self, what: &str) -> PathBuf {
        self.n += 1;
        crash::fresh(self.scratch.path(), &format!("{what}-{}", self.n))
    }

    fn hudi(&self, args: &[String]) -> Check {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let (ok, _, err) = support::run_hudi(&a);
        ok.then_some(())
            .ok_or_else(|| format!("hudi {}: {err}", a.join(" ")))
    }

    fn base(&mut self, kind: Kind) -> Base {
        let dir = self.dir(&format!("base-{}", kind.token()));
        for args in crash::base_commits(kind) {
            let a: Vec<&str> = args.iter().map(String::as_str).collect();
            self.hudi(&crash::fill(&a, &dir, &self.inputs, &[]))
                .unwrap_or_else(|e| panic!("{e}"));
        }
        let commits = crash::completed_writes(&dir);
        assert_eq!(commits.len(), 4, "{}: {commits:?}", dir.display());
        let as_of = commits
            .iter()
            .map(|c| {
                let rows = self.oracle.rows(&dir, "as_of", json!({ "as_of": c }));
                (c.clone(), rows)
            })
            .collect();
        Base {
            dir,
            commits,
            as_of,
        }
    }

    fn prepare(&mut self, base: &Base, op: &Op) -> Prepared {
        let dir = self.dir(&format!("{}-{}", op.kind.token(), op.name));
        support::copy_tree(&base.dir, &dir);
        for args in &op.prepare {
            self.hudi(&crash::fill(args, &dir, &self.inputs, &base.commits))
                .unwrap_or_else(|e| panic!("prepare {}: {e}", op.name));
        }
        let twin = self.dir(&format!("{}-{}-twin", op.kind.token(), op.name));
        support::copy_tree(&dir, &twin);
        let args = crash::fill(&op.args, &twin, &self.inputs, &base.commits);
        let (ok, err, points, took) = crash::run_traced(&args);
        assert!(ok, "uncrashed {} {}: {err}", op.kind.token(), op.name);
        assert!(
            !points.is_empty(),
            "{}: no crash points traced: {err}",
            op.name
        );
        let twin_rows = self.oracle.rows(&twin, "snapshot", json!({}));
        let ours = self.our_rows(&twin).unwrap_or_else(|e| panic!("{e}"));
        data_equal("twin: ours against hudi-rs", &ours, &twin_rows)
            .unwrap_or_else(|e| panic!("{e}"));
        let twin_latest = crash::completed_writes(&twin).pop().expect("a commit");
        Prepared {
            op: op.clone(),
            dir,
            commits: base.commits.clone(),
            as_of: base.as_of.clone(),
            twin_rows,
            twin_latest,
            points,
            took,
        }
    }

    fn our_rows(&mut self, table: &Path) -> Result<Vec<Value>, String> {
        let read = self.rt.block_on(async {
            let t = hudi_core::Table::open(&table.to_string_lossy()).await?;
            t.read().collect().await
        });
        let (schema, batches) =
            read.map_err(|e| format!("our read of {}: {e}", table.display()))?;
        let out = self.scratch.path().join("ours.parquet");
        data::write_parquet(&out, &schema, &batches);
        Ok(self.oracle.file_rows(&out))
    }

    /// The rows a snapshot must show given the latest completed commit on `t`, or why no
    /// state may be as it is.
    fn expected(&self, p: &Prepared, t: &Path) -> Result<(String, Vec<Value>), String> {
        let latest = crash::completed_writes(t)
            .pop()
            .ok_or("every commit is gone")?;
        if let Some(rows) = p.as_of.get(&latest) {
            let base_latest = p.commits.last().expect("commits");
            let allowed = match p.op.effect {
                Effect::Rollback => latest >= p.commits[2],
                Effect::Restore => latest >= p.commits[1],
                Effect::Write | Effect::Service => &latest == base_latest,
            };
            if !allowed {
                return Err(format!("lost: the latest commit went back to {latest}"));
            }
            return Ok((latest, rows.clone()));
        }
        if p.op.effect != Effect::Write {
            return Err(format!("exposed: {} made a commit {latest}", p.op.name));
        }
        let rows = p
            .twin_rows
            .iter()
            .map(|r| {
                let mut r = r.clone();
                if r["_hoodie_commit_time"] == json!(p.twin_latest) {
                    r["_hoodie_commit_time"] = json!(latest);
                }
                r
            })
            .collect();
        Ok((latest, rows))
    }

    /// hudi-rs and our reader (and Spark, when asked) read exactly the expected state.
    fn check_reads(&mut self, p: &Prepared, t: &Path, when: &str, with_spark: bool) -> Check {
        let (latest, want) = self.expected(p, t)?;
        let what = |r: &str| {
            format!(
                "{} {} {when} (latest {latest}): {r}",
                p.op.kind.token(),
                p.op.name
            )
        };
        let hudi_rs = self.oracle.rows(t, "snapshot", json!({}));
        *self.tally.reads.entry("hudi-rs").or_default() += 1;
        self.compare(&what("hudi-rs"), &hudi_rs, &want)?;
        let ours = self.our_rows(t)?;
        *self.tally.reads.entry("ours").or_default() += 1;
        self.compare(&what("ours"), &ours, &want)?;
        if with_spark && self.spark {
            let got = spark::rows(t, "snapshot", json!({})).map_err(|e| what(&e))?;
            *self.tally.reads.entry("Spark").or_default() += 1;
            self.compare(&what("Spark"), &got, &want)?;
        }
        Ok(())
    }

    fn compare(&mut self, what: &str, got: &[Value], want: &[Value]) -> Check {
        let missing: Vec<&Value> = want.iter().filter(|r| !got.contains(r)).collect();
        let extra: Vec<&Value> = got.iter().filter(|r| !want.contains(r)).collect();
        if missing.is_empty() && extra.is_empty() && got.len() == want.len() {
            return Ok(());
        }
        if !missing.is_empty() {
            self.tally.lost += 1;
        }
        if !extra.is_empty() || got.len() != want.len() {
            self.tally.exposed += 1;
        }
        Err(format!(
            "{what}: {} rows, {} expected; {} missing (first {:?}), {} not expected (first {:?})",
            got.len(),
            want.len(),
            missing.len(),
            missing.first(),
            extra.len(),
            extra.first()
        ))
    }

    /// Recovers a crashed operation as a user would: a failed write is rolled back (by
    /// `hudi rollback`, or by the next write itself) and written again; a service runs again;
    /// then `hudi rollback` does what the next writer does first (finishes interrupted
    /// rollbacks, removes what a crash after a commit point left).
    fn recover(&mut self, p: &Prepared, t: &Path, ended: &Ended) -> Check {
        let args = crash::fill(&p.op.args, t, &self.inputs, &p.commits);
        let rollback = vec!["rollback".to_string(), t.to_string_lossy().into()];
        let latest = crash::completed_writes(t).pop().unwrap_or_default();
        let pending = crash::incomplete(t);
        let pending_of = |action: &str| pending.iter().any(|i| i.contains(action));
        let killed = matches!(ended, Ended::Killed(_));
        match p.op.effect {
            Effect::Write if p.as_of.contains_key(&latest) => {
                if !pending.is_empty() && self.n.is_multiple_of(2) {
                    self.hudi(&rollback)?;
                    self.check_reads(p, t, "after hudi rollback", false)?;
                }
                self.hudi(&args)?;
            }
            Effect::Write => {}
            Effect::Service if killed || !pending.is_empty() => self.hudi(&args)?,
            Effect::Service => {}
            Effect::Rollback if latest == p.commits[3] || pending_of("rollback") => {
                self.hudi(&args)?
            }
            Effect::Restore if latest > p.commits[1] || pending_of("restore") => {
                self.hudi(&args)?
            }
            Effect::Rollback | Effect::Restore => {}
        }
        if killed {
            self.hudi(&rollback)?;
        }
        Ok(())
    }

    /// After recovery: the uncrashed operation's state, nothing pending, `verify` healthy.
    fn check_recovered(&mut self, p: &Prepared, t: &Path, with_spark: bool) -> Check {
        let pending = crash::incomplete(t);
        if !pending.is_empty() {
            return Err(format!("still pending after recovery: {pending:?}"));
        }
        let (latest, _) = self.expected(p, t)?;
        let want_latest = match p.op.effect {
            Effect::Write => !p.as_of.contains_key(&latest),
            Effect::Service => &latest == p.commits.last().expect("commits"),
            Effect::Rollback => latest == p.commits[2],
            Effect::Restore => latest == p.commits[1],
        };
        if !want_latest {
            return Err(format!("after recovery the latest commit is {latest}"));
        }
        self.check_reads(p, t, "after recovery", with_spark)?;
        self.check_history(p, t)?;
        let report = self.rt.block_on(async {
            let table = hudi_core::Table::open(&t.to_string_lossy()).await?;
            hudi_core::services::verify::verify(&table, Default::default()).await
        });
        match report {
            Ok(r) if r.is_healthy() => Ok(()),
            Ok(r) => Err(format!("verify after recovery: {:?}", r.findings)),
            Err(e) => Err(format!("verify after recovery: {e}")),
        }
    }

    /// Every commit the operation keeps is on the active timeline or in the archived one.
    fn check_history(&mut self, p: &Prepared, t: &Path) -> Check {
        let kept = match p.op.effect {
            Effect::Write | Effect::Service => 4,
            Effect::Rollback => 3,
            Effect::Restore => 2,
        };
        let active = crash::completed_writes(t);
        let missing: Vec<&String> = p.commits[..kept]
            .iter()
            .filter(|c| !active.contains(c))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let (ok, out, err) =
            support::run_hudi(&["timeline", &t.to_string_lossy(), "--archived", "--json"]);
        if !ok {
            return Err(format!("hudi timeline --archived: {err}"));
        }
        let archived: Vec<String> = out
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["state"] == "COMPLETED")
            .filter_map(|v| v["instant"].as_str().map(str::to_string))
            .collect();
        let lost: Vec<&&String> = missing.iter().filter(|c| !archived.contains(c)).collect();
        if lost.is_empty() {
            return Ok(());
        }
        self.tally.lost += 1;
        Err(format!(
            "lost: the commits {lost:?} are neither active nor archived"
        ))
    }

    /// One iteration: a fresh copy of the prepared table, the kill, the checks.
    fn iterate(&mut self, p: &Prepared, kill: Kill, with_spark: bool) -> Option<PathBuf> {
        let t = self.dir(&format!("{}-{}-crash", p.op.kind.token(), p.op.name));
        support::copy_tree(&p.dir, &t);
        let args = crash::fill(&p.op.args, &t, &self.inputs, &p.commits);
        let ended = crash::run_killed(&args, kill);
        self.tally.iterations += 1;
        let at = match &ended {
            Ended::Killed(Some(point)) => {
                self.tally.killed_at_point += 1;
                let op = format!("{} {}", p.op.kind.token(), p.op.name);
                *self.tally.point_kills.entry(op).or_default() += 1;
                format!("killed at {point}")
            }
            // A run told to stop at a crash point that its uncrashed twin passed must reach
            // it: finishing first means the crash point was not exercised.
            Ended::Finished { ok: true, .. } if matches!(kill, Kill::AtPoint(_)) => {
                let e = "finished without reaching its crash point".to_string();
                self.fail(p, &t, &format!("{kill:?}"), e);
                return None;
            }
            Ended::Killed(None) => {
                self.tally.killed_at_moment += 1;
                format!("killed at {kill:?}")
            }
            Ended::Finished { ok: true, .. } => {
                self.tally.finished += 1;
                "finished before the kill".to_string()
            }
            Ended::Finished { ok: false, stderr } => {
                self.fail(
                    p,
                    &t,
                    &format!("{kill:?}"),
                    format!("the run failed: {stderr}"),
                );
                return None;
            }
        };
        let result = self
            .check_reads(p, &t, "after the crash", with_spark)
            .and_then(|()| self.recover(p, &t, &ended))
            .and_then(|()| self.check_recovered(p, &t, with_spark));
        match result {
            Ok(()) => Some(t),
            Err(e) => {
                self.fail(p, &t, &at, e);
                None
            }
        }
    }

    fn fail(&mut self, p: &Prepared, t: &Path, at: &str, e: String) {
        let msg = format!(
            "{} {} {at} ({}): {e}",
            p.op.kind.token(),
            p.op.name,
            t.display()
        );
        eprintln!("CRASH CHECK FAILED: {msg}");
        self.tally.failures.push(msg);
        if std::env::var_os("HUDI_KEEP_SCRATCH").is_some() {
            self.scratch.disable_cleanup(true);
        }
    }

    fn summary(&self) -> String {
        let t = &self.tally;
        let reads: Vec<String> = t.reads.iter().map(|(r, n)| format!("{r} {n}")).collect();
        format!(
            "{} iterations, {} lost, {} exposed, {} failed ({} killed at a crash point, {} at a moment, {} finished first; reads checked: {})",
            t.iterations,
            t.lost,
            t.exposed,
            t.failures.len(),
            t.killed_at_point,
            t.killed_at_moment,
            t.finished,
            reads.join(", ")
        )
    }

    /// No check failed, and every operation was killed at a crash point at least once.
    fn assert_clean(&self, prepared: &[Prepared]) {
        let s = self.summary();
        println!("crash injection: {s}");
        for p in prepared {
            let op = format!("{} {}", p.op.kind.token(), p.op.name);
            let kills = self.tally.point_kills.get(&op).copied().unwrap_or(0);
            println!("crash injection: {op}: {kills} kills at a crash point");
            assert!(
                kills > 0,
                "crash injection: {op} was never killed at a crash point"
            );
        }
        assert!(
            self.tally.failures.is_empty(),
            "crash injection: {s}\n{}",
            self.tally.failures.join("\n")
        );
    }

    /// Spark upserts into a table recovered from a crash; every reader sees its rows.
    fn spark_writes_into(&mut self, p: &Prepared, t: &Path) {
        if !self.spark {
            return;
        }
        let (_, mut want) = self.expected(p, t).unwrap_or_else(|e| panic!("{e}"));
        let schema = data::schema(vec![
            data::field("id", arrow::datatypes::DataType::Int64),
            data::field("city", arrow::datatypes::DataType::Utf8),
            data::field("ts", arrow::datatypes::DataType::Int64),
            data::field("v", arrow::datatypes::DataType::Utf8),
        ]);
        let rows: Vec<data::Row> = (500..506)
            .map(|id| data::row(json!({"id": id, "city": crash::city(id), "ts": 9, "v": "spark"})))
            .collect();
        let input = self.scratch.path().join("spark-input.parquet");
        data::write_parquet(&input, &schema, &[data::batch(&schema, &rows)]);
        let table_type = match p.op.kind {
            Kind::Cow => "COPY_ON_WRITE",
            Kind::Mor => "MERGE_ON_READ",
        };
        let name = format!("crash_{}", p.op.kind.token());
        let options: BTreeMap<String, String> = [
            ("hoodie.table.name", name.as_str()),
            ("hoodie.datasource.write.table.type", table_type),
            ("hoodie.datasource.write.operation", "upsert"),
            ("hoodie.datasource.write.recordkey.field", "id"),
            ("hoodie.datasource.write.partitionpath.field", "city"),
            ("hoodie.datasource.write.precombine.field", "ts"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        spark::write(t, &input, &options)
            .unwrap_or_else(|e| panic!("Spark write into {}: {e}", t.display()));
        let latest = crash::completed_writes(t).pop().expect("Spark's commit");
        for r in &rows {
            let mut v = data::complete(&schema, r.clone());
            let id = r["id"].as_i64().expect("id");
            v.insert("_hoodie_commit_time".into(), json!(latest));
            v.insert(
                "_hoodie_partition_path".into(),
                json!(crash::city(id as u32)),
            );
            v.insert("_hoodie_record_key".into(), json!(id.to_string()));
            want.push(Value::Object(v));
        }
        want.sort_by_key(|v| v.to_string());
        let hudi_rs = self.oracle.rows(t, "snapshot", json!({}));
        let got = spark::rows(t, "snapshot", json!({})).expect("Spark read");
        let ours = self.our_rows(t).unwrap_or_else(|e| panic!("{e}"));
        for (who, rows) in [("hudi-rs", hudi_rs), ("Spark", got), ("ours", ours)] {
            data_equal(
                &format!("{who} after Spark's write into {}", t.display()),
                &rows,
                &want,
            )
            .unwrap_or_else(|e| panic!("{e}"));
        }
    }
}

fn data_equal(what: &str, got: &[Value], want: &[Value]) -> Check {
    (got == want).then_some(()).ok_or_else(|| {
        let first = (0..got.len().max(want.len())).find(|i| got.get(*i) != want.get(*i));
        format!(
            "{what}: {} rows, {} expected; first difference: {:?} against {:?}",
            got.len(),
            want.len(),
            first.and_then(|i| got.get(i)),
            first.and_then(|i| want.get(i))
        )
    })
}

fn prepared_ops(h: &mut Harness) -> Vec<Prepared> {
    let bases = [
        (Kind::Cow, h.base(Kind::Cow)),
        (Kind::Mor, h.base(Kind::Mor)),
    ];
    crash::ops()
        .iter()
        .map(|op| {
            let base = &bases.iter().find(|(k, _)| *k == op.kind).expect("base").1;
            h.prepare(base, op)
        })
        .collect()
}

/// CI's set: every operation stopped at its chosen crash points and once at a moment; Spark
/// reads the first recovered table of each operation, and writes into one of each type.
#[test]
fn crashed_operations_leave_the_last_completed_state_and_recover() {
    let Some(mut h) = Harness::new("crashed_operations_leave_the_last_completed_state_and_recover")
    else {
        return;
    };
    let mut rng = Rng(0x5eed_cafe);
    let mut recovered: BTreeMap<Kind, (usize, PathBuf)> = BTreeMap::new();
    let prepared = prepared_ops(&mut h);
    for (i, p) in prepared.iter().enumerate() {
        for (j, k) in crash::chosen_points(&p.points).into_iter().enumerate() {
            if let Some(t) = h.iterate(p, Kill::AtPoint(k), j == 0) {
                if p.op.effect == Effect::Write {
                    recovered.insert(p.op.kind, (i, t));
                }
            }
        }
        let at = p.took.mul_f64(0.2 + rng.below(60) as f64 / 100.0);
        h.iterate(p, Kill::After(at), false);
    }
    for (i, t) in recovered.values() {
        h.spark_writes_into(&prepared[*i], t);
    }
    h.assert_clean(&prepared);
}

/// `tests/crash.sh`: every crash point of every operation, then `HUDI_CRASH_ITERATIONS`
/// (default 200) kills at random moments of random operations.
#[test]
#[ignore = "long: run by tests/crash.sh"]
fn crash_every_point_and_random_moments() {
    let Some(mut h) = Harness::new("crash_every_point_and_random_moments") else {
        return;
    };
    let random: usize = std::env::var("HUDI_CRASH_ITERATIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let seed: u64 = std::env::var("HUDI_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x2026_1202);
    let mut rng = Rng(seed | 1);
    let prepared = prepared_ops(&mut h);
    for p in &prepared {
        for k in 1..=p.points.len() {
            h.iterate(p, Kill::AtPoint(k), k == 1);
        }
        eprintln!(
            "{} {}: {} crash points; {}",
            p.op.kind.token(),
            p.op.name,
            p.points.len(),
            h.summary()
        );
    }
    for i in 0..random {
        let p = &prepared[rng.below(prepared.len() as u64) as usize];
        let at = p.took.mul_f64(rng.below(120) as f64 / 100.0);
        h.iterate(p, Kill::After(at), false);
        if (i + 1) % 50 == 0 {
            eprintln!("{} random moments: {}", i + 1, h.summary());
        }
    }
    h.assert_clean(&prepared);
}
