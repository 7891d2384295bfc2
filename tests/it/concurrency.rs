//! Concurrent writers under optimistic concurrency control (issue 12): several `hudi`
//! processes upsert into one table at once — each into a partition of its own, and every
//! other commit into a partition all of them share, where each inserts keys of its own and
//! updates a key of its own in the same file groups — with a table service running beside
//! them. Every acknowledged commit's records must be there, none twice: as no two writers
//! write the same key, a writer that overwrote another's file-group version loses that
//! writer's keys or updates, which the model sees. A loser fails with a write conflict naming
//! the other instant and leaves nothing behind: no pending instant, no data file of an
//! instant that did not complete, `hudi verify` healthy. Forced contention (two writers held
//! between their data files and their commit) must give a conflict, and without the conflict
//! check (a test-only switch) the model must see the lost key.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde_json::{json, Value};

use crate::support::moto::S3;
use crate::support::{self, oracle::Oracle, spark};

/// One table and how to reach it: its URL and the `hudi` arguments every command takes.
struct Target {
    url: String,
    storage_args: Vec<String>,
    storage_options: std::collections::HashMap<String, String>,
    scratch: PathBuf,
}

const OCC: [&str; 4] = [
    "--option",
    "hoodie.write.concurrency.mode=optimistic_concurrency_control",
    "--option",
    "hoodie.write.lock.client.wait_time_ms_between_retry=10",
];

/// An acknowledged commit: its instant and the rows it wrote (key → (partition, v)).
struct Ack {
    instant: String,
    rows: BTreeMap<String, (String, String)>,
}

#[derive(Default)]
struct Outcome {
    acked: Vec<Ack>,
    conflicts: usize,
    services: usize,
    failures: Vec<String>,
}

fn hudi(target: &Target, args: &[&str]) -> (bool, String, String) {
    hudi_env(target, args, &[])
}

fn hudi_env(target: &Target, args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(target.storage_args.iter().map(String::as_str));
    support::run_hudi_env(&all, env)
}

/// The seed keys of the shared partition: one per writer (ours are 0..4, Spark's is 9).
const SEED_KEYS: [usize; 5] = [0, 1, 2, 3, 9];

/// The rows of writer `w`'s commit `j`: a key of its own partition, and on even commits a new
/// key of its own in the shared partition and an update of its own seed key there. No two
/// writers write the same key, so each key's value is its one writer's latest acknowledged
/// commit whatever order the writers committed in.
fn rows_of(w: usize, j: usize) -> BTreeMap<String, (String, String)> {
    let v = format!("w{w}-c{j}");
    let mut rows = BTreeMap::from([(format!("w{w}-{j}"), (format!("w{w}"), v.clone()))]);
    if j.is_multiple_of(2) {
        rows.insert(format!("s-w{w}-{j}"), ("shared".to_string(), v.clone()));
        rows.insert(format!("s-{w}"), ("shared".to_string(), v.clone()));
    }
    rows
}

fn write_input(path: &Path, rows: &BTreeMap<String, (String, String)>) {
    let text: String = rows
        .iter()
        .map(|(k, (p, v))| format!("{}\n", json!({"id": k, "city": p, "ts": 0, "v": v})))
        .collect();
    std::fs::write(path, text).expect("input");
}

/// One writer: `commits` upserts, each acknowledged, lost to a conflict, or failed.
fn writer(target: &Target, w: usize, commits: usize, out: &Mutex<Outcome>) {
    let unpaced = Pace {
        pause: std::time::Duration::ZERO,
        env: &[],
    };
    paced_writer(target, w, commits, &[], &unpaced, out)
}

/// How a writer runs its commits: the pause before each, and the environment of its `hudi`.
struct Pace<'a> {
    pause: std::time::Duration,
    env: &'a [(&'a str, &'a str)],
}

/// A writer with extra `hudi write` arguments, pausing between its commits.
fn paced_writer(
    target: &Target,
    w: usize,
    commits: usize,
    extra: &[&str],
    pace: &Pace,
    out: &Mutex<Outcome>,
) {
    for j in 0..commits {
        std::thread::sleep(pace.pause);
        let rows = rows_of(w, j);
        let input = target.scratch.join(format!("w{w}-{j}.jsonl"));
        write_input(&input, &rows);
        let input = input.to_string_lossy().to_string();
        let mut args = vec!["write", &target.url, "--input", &input, "--json"];
        args.extend(OCC);
        args.extend(extra);
        let (ok, stdout, stderr) = hudi_env(target, &args, pace.env);
        let mut o = out.lock().unwrap_or_else(|e| e.into_inner());
        if ok {
            let m: Value = serde_json::from_str(stdout.trim()).expect("metrics");
            let instant = m["instant"].as_str().expect("instant").to_string();
            o.acked.push(Ack { instant, rows });
        } else if stderr.contains("write conflict:") && stderr.contains("was rolled back") {
            o.conflicts += 1;
        } else {
            o.failures.push(format!("writer {w} commit {j}: {stderr}"));
        }
    }
}

/// Runs `writers` writers of `commits` commits each, and `service` (a `hudi` command) over and
/// over beside them until they are done.
fn run(target: &Target, writers: usize, commits: usize, service: &[&str]) -> Outcome {
    let out = Mutex::new(Outcome::default());
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..writers)
            .map(|w| {
                let (target, out) = (&target, &out);
                s.spawn(move || writer(target, w, commits, out))
            })
            .collect();
        let (target, out, done) = (&target, &out, &done);
        let svc = s.spawn(move || {
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                let (ok, _, stderr) = hudi(target, service);
                let mut o = out.lock().unwrap_or_else(|e| e.into_inner());
                if ok {
                    o.services += 1;
                } else {
                    o.failures.push(format!("{service:?}: {stderr}"));
                }
                drop(o);
                std::thread::sleep(std::time::Duration::from_millis(300));
            }
        });
        for h in handles {
            h.join().expect("writer");
        }
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        svc.join().expect("service");
    });
    out.into_inner().unwrap_or_else(|e| e.into_inner())
}

/// What the table must hold: every acknowledged commit applied in instant order.
fn model(seed: &Ack, acked: &[Ack]) -> BTreeSet<(String, String, String, String)> {
    let mut all: Vec<&Ack> = acked.iter().chain(std::iter::once(seed)).collect();
    all.sort_by(|a, b| a.instant.cmp(&b.instant));
    let mut live: BTreeMap<String, (String, String, String)> = BTreeMap::new();
    for a in all {
        for (k, (p, v)) in &a.rows {
            live.insert(k.clone(), (p.clone(), v.clone(), a.instant.clone()));
        }
    }
    live.into_iter()
        .map(|(k, (p, v, t))| (k, p, v, t))
        .collect()
}

fn rows_read(rows: &[Value]) -> Vec<(String, String, String, String)> {
    let s = |r: &Value, k: &str| r[k].as_str().unwrap_or_default().to_string();
    let mut out: Vec<_> = rows
        .iter()
        .map(|r| {
            (
                s(r, "_hoodie_record_key"),
                s(r, "_hoodie_partition_path"),
                s(r, "v"),
                s(r, "_hoodie_commit_time"),
            )
        })
        .collect();
    out.sort();
    out
}

/// No pending instant; every data file belongs to a completed instant; `verify` healthy.
fn nothing_left_behind(target: &Target, rt: &tokio::runtime::Runtime) {
    let (ok, out, err) = hudi(target, &["timeline", &target.url, "--incomplete", "--json"]);
    assert!(ok, "{err}");
    assert!(out.trim().is_empty(), "pending after the run: {out}");
    // Completed instants, active and archived.
    let mut completed: BTreeSet<String> = BTreeSet::new();
    for (args, field, state) in [
        (
            vec!["timeline", &target.url, "--json"],
            "requested",
            "completed",
        ),
        (
            vec!["timeline", &target.url, "--json", "--archived"],
            "instant",
            "COMPLETED",
        ),
    ] {
        let (ok, out, err) = hudi(target, &args);
        assert!(ok, "{err}");
        completed.extend(
            out.lines()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .filter(|v| v["state"] == state)
                .filter_map(|v| v[field].as_str().map(str::to_string)),
        );
    }
    rt.block_on(async {
        let st = hudi_core::storage::Storage::open(&target.url, &target.storage_options)
            .expect("storage");
        for f in st.list_recursive("").await.expect("list") {
            if f.path.starts_with(".hoodie") {
                continue;
            }
            let name = f.path.rsplit('/').next().unwrap_or_default();
            if let Some(Ok(hudi_core::model::DataFileName::Base(b))) =
                hudi_core::model::DataFileName::classify(name)
            {
                assert!(
                    completed.contains(b.instant.as_str()),
                    "{} belongs to {}, which did not complete",
                    f.path,
                    b.instant
                );
            }
        }
        let table = hudi_core::Table::open_with_options(&target.url, &target.storage_options)
            .await
            .expect("open");
        let report = hudi_core::services::verify::verify(&table, Default::default())
            .await
            .expect("verify");
        assert!(report.is_healthy(), "verify: {:?}", report.findings);
    });
}

/// Commits per writer: `HUDI_OCC_COMMITS`, else `default`.
fn commits(default: usize) -> usize {
    std::env::var("HUDI_OCC_COMMITS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// A table `t` on local disk under `dir` (and its path).
fn local_target(dir: &Path) -> (Target, PathBuf) {
    let path = dir.join("t");
    let target = Target {
        url: path.to_string_lossy().to_string(),
        storage_args: vec![],
        storage_options: Default::default(),
        scratch: dir.to_path_buf(),
    };
    (target, path)
}

/// The table, created by a first (seed) write of the shared keys.
fn create(target: &Target, table_type: &str) -> Ack {
    let rows: BTreeMap<String, (String, String)> = SEED_KEYS
        .iter()
        .map(|s| (format!("s-{s}"), ("shared".to_string(), "seed".to_string())))
        .collect();
    let input = target.scratch.join("seed.jsonl");
    write_input(&input, &rows);
    let input = input.to_string_lossy().to_string();
    let (ok, out, err) = hudi(
        target,
        &[
            "write",
            &target.url,
            "--input",
            &input,
            "--record-key",
            "id",
            "--partition-by",
            "city",
            "--precombine",
            "ts",
            "--type",
            table_type,
            "--json",
        ],
    );
    assert!(ok, "{err}");
    let m: Value = serde_json::from_str(out.trim()).expect("metrics");
    Ack {
        instant: m["instant"].as_str().expect("instant").to_string(),
        rows,
    }
}

fn check(oracle: &mut Oracle, local: &Path, seed: &Ack, o: &Outcome, what: &str) {
    assert!(o.failures.is_empty(), "{what}: {}", o.failures.join("\n"));
    let want = model(seed, &o.acked);
    let got = rows_read(&oracle.rows(local, "snapshot", json!({})));
    let got_set: BTreeSet<_> = got.iter().cloned().collect();
    assert_eq!(got.len(), got_set.len(), "{what}: a record read twice");
    assert_eq!(
        got_set, want,
        "{what}: hudi-rs against the acknowledged commits"
    );
    let disjoint = o.acked.iter().map(|a| a.rows.len()).sum::<usize>();
    println!(
        "{what}: {} commits acknowledged ({disjoint} rows), {} lost to write conflicts, {} service runs; {} live rows as the model says",
        o.acked.len(),
        o.conflicts,
        o.services,
        want.len()
    );
}

#[test]
fn four_writers_and_a_cleaner_on_local_disk() {
    let test = "four_writers_and_a_cleaner_on_local_disk";
    let Some((_, mut oracle, rt)) = support::oracle::setup(test) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let (target, path) = local_target(dir.path());
    let seed = create(&target, "cow");
    let mut clean = vec!["clean", target.url.as_str()];
    clean.extend(OCC);
    let o = run(&target, 4, commits(50), &clean);
    check(&mut oracle, &path, &seed, &o, "local disk, copy-on-write");
    assert!(
        o.acked.len() >= 2 * commits(50),
        "too few commits acknowledged: {}",
        o.acked.len()
    );
    nothing_left_behind(&target, &rt);
}

/// Forced contention: two writers, each held 1.5 s after its first data file (a pause
/// failpoint), both write into the shared partition's file group: one commits, the other loses
/// a write conflict, and the table is the model. Then the same with the conflict check
/// switched off (`HUDI_TEST_SKIP_CONFLICT_CHECK`, test builds only): both commit, and the model
/// finds the keys the later one's file version lost, so these tests can see a lost update.
#[test]
fn forced_contention_conflicts_and_a_skipped_check_loses_keys() {
    let test = "forced_contention_conflicts_and_a_skipped_check_loses_keys";
    let Some((_, mut oracle, _rt)) = support::oracle::setup(test) else {
        return;
    };
    for skip in [false, true] {
        let dir = tempfile::tempdir().expect("tempdir");
        let (target, path) = local_target(dir.path());
        let seed = create(&target, "cow");
        let mut env = vec![
            ("HUDI_FAILPOINT", "after:put:.parquet$"),
            ("HUDI_FAILPOINT_ACTION", "pause:1500"),
        ];
        if skip {
            env.push(("HUDI_TEST_SKIP_CONFLICT_CHECK", "1"));
        }
        let out = Mutex::new(Outcome::default());
        let pace = Pace {
            pause: std::time::Duration::ZERO,
            env: &env,
        };
        std::thread::scope(|s| {
            for w in 0..2 {
                let (t, o, pace) = (&target, &out, &pace);
                s.spawn(move || paced_writer(t, w, 1, &[], pace, o));
            }
        });
        let o = out.into_inner().unwrap_or_else(|e| e.into_inner());
        assert!(o.failures.is_empty(), "{}", o.failures.join("\n"));
        let want = model(&seed, &o.acked);
        let got = rows_read(&oracle.rows(&path, "snapshot", json!({})));
        let got: BTreeSet<_> = got.into_iter().collect();
        let lost: Vec<_> = want.difference(&got).collect();
        if skip {
            assert_eq!((o.acked.len(), o.conflicts), (2, 0), "without the check");
            assert!(
                !lost.is_empty(),
                "without the conflict check both writers committed and no key was lost: \
                 the model cannot see a lost update"
            );
            println!(
                "without the conflict check: {} rows lost: {lost:?}",
                lost.len()
            );
        } else {
            assert_eq!((o.acked.len(), o.conflicts), (1, 1), "forced contention");
            assert_eq!(got, want, "forced contention: hudi-rs against the model");
        }
    }
}

#[test]
fn four_writers_and_compaction_on_s3() {
    let Some(s3) = S3::start("four_writers_and_compaction_on_s3", "occ") else {
        return;
    };
    let mut oracle = Oracle::start(&s3.python, &s3.shared);
    let dir = tempfile::tempdir().expect("tempdir");
    let target = Target {
        url: "s3://occ/events".to_string(),
        storage_args: s3
            .opts
            .iter()
            .flat_map(|(k, v)| ["--storage-option".to_string(), format!("{k}={v}")])
            .collect(),
        storage_options: s3.opts.clone(),
        scratch: dir.path().to_path_buf(),
    };
    let seed = create(&target, "mor");
    let mut compact = vec!["compaction", "run", target.url.as_str(), "--schedule"];
    compact.extend(OCC);
    // 15 commits per writer in CI; `HUDI_OCC_COMMITS=50` for the full run.
    let o = run(&target, 4, commits(15), &compact);
    let local = dir.path().join("download");
    s3.download(&target.url, &local);
    check(&mut oracle, &local, &seed, &o, "moto S3, merge-on-read");
    assert!(
        o.acked.len() >= commits(15),
        "too few commits acknowledged: {}",
        o.acked.len()
    );
    nothing_left_behind(&target, &s3.rt);
}

/// Apache Hudi's options for a Spark writer beside ours: optimistic concurrency with its
/// file-system lock (at its default path, `.hoodie/lock`, which is ours too), and archival
/// late enough that every commit stays on the active timeline. Its heartbeat settings are
/// ours (Hudi's defaults): each writer judges the others' heartbeats by its own expiry.
fn spark_occ_options() -> BTreeMap<String, String> {
    [
        ("hoodie.table.name", "t"),
        ("hoodie.datasource.write.table.type", "COPY_ON_WRITE"),
        ("hoodie.datasource.write.operation", "upsert"),
        ("hoodie.datasource.write.recordkey.field", "id"),
        ("hoodie.datasource.write.partitionpath.field", "city"),
        ("hoodie.datasource.write.precombine.field", "ts"),
        ("hoodie.datasource.write.hive_style_partitioning", "false"),
        (
            "hoodie.write.concurrency.mode",
            "optimistic_concurrency_control",
        ),
        (
            "hoodie.write.lock.provider",
            "org.apache.hudi.client.transaction.lock.FileSystemBasedLockProvider",
        ),
        ("hoodie.cleaner.policy.failed.writes", "LAZY"),
        ("hoodie.write.lock.client.wait_time_ms_between_retry", "100"),
        ("hoodie.write.lock.client.num_retries", "300"),
        ("hoodie.keep.min.commits", "80"),
        ("hoodie.keep.max.commits", "90"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// The Spark writer: `commits` upserts of its own partition (and, on even commits, its keys of
/// the shared partition), one after another through the shared SparkSession.
fn spark_writer(target: &Target, commits: usize, out: &Mutex<Outcome>) -> Vec<usize> {
    use arrow::datatypes::DataType;
    let schema = crate::support::data::schema(vec![
        crate::support::data::field("id", DataType::Utf8),
        crate::support::data::field("city", DataType::Utf8),
        crate::support::data::field("ts", DataType::Int64),
        crate::support::data::field("v", DataType::Utf8),
    ]);
    let mut acked = Vec::new();
    for j in 0..commits {
        let mut rows = rows_of(9, j);
        rows = rows
            .into_iter()
            .map(|(k, (p, v))| {
                let k = k.replace("w9-", "spark-");
                let p = if p == "w9" { "spark".to_string() } else { p };
                (k, (p, v.replace("w9-", "spark-")))
            })
            .collect();
        let batch: Vec<crate::support::data::Row> = rows
            .iter()
            .map(|(k, (p, v))| {
                crate::support::data::row(json!({"id": k, "city": p, "ts": 0, "v": v}))
            })
            .collect();
        let input = target.scratch.join(format!("spark-{j}.parquet"));
        crate::support::data::write_parquet(
            &input,
            &schema,
            &[crate::support::data::batch(&schema, &batch)],
        );
        let done = spark::write(Path::new(&target.url), &input, &spark_occ_options());
        let mut o = out.lock().unwrap_or_else(|e| e.into_inner());
        match done {
            Ok(()) => {
                // Its instant is known once the run is over (the commit that wrote `spark`).
                o.acked.push(Ack {
                    instant: String::new(),
                    rows,
                });
                acked.push(o.acked.len() - 1);
            }
            Err(e) if e.contains("Cannot resolve conflicts for overlapping writes") => {
                o.conflicts += 1;
                println!("Spark commit {j} lost a write conflict (HoodieWriteConflictException)");
            }
            Err(e) => o.failures.push(format!("Spark commit {j}: {e}")),
        }
    }
    acked
}

/// The instants of the completed commits that wrote into `partition`, oldest first.
fn commits_into(target: &Target, rt: &tokio::runtime::Runtime, partition: &str) -> Vec<String> {
    rt.block_on(async {
        let table = hudi_core::Table::open_with_options(&target.url, &target.storage_options)
            .await
            .expect("open");
        let tl = table.timeline();
        let mut out = Vec::new();
        for i in tl.completed_writes() {
            let meta = tl
                .commit_metadata(&i.instant)
                .await
                .expect("commit metadata");
            if meta.partition_to_write_stats.contains_key(partition) {
                out.push(i.requested().to_string());
            }
        }
        out
    })
}

#[test]
fn two_of_our_writers_and_a_spark_writer_exclude_each_other() {
    let test = "two_of_our_writers_and_a_spark_writer_exclude_each_other";
    let Some((_, mut oracle, rt)) = support::oracle::setup(test) else {
        return;
    };
    if !spark::available(test) {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let (target, path) = local_target(dir.path());
    let seed = create(&target, "cow");
    spark_waits_for_our_lock(&target, &rt);
    let ours = [
        "--option",
        "hoodie.keep.min.commits=80",
        "--option",
        "hoodie.keep.max.commits=90",
    ];
    let out = Mutex::new(Outcome::default());
    let pace = Pace {
        pause: std::time::Duration::from_millis(400),
        env: &[],
    };
    let spark_acked = std::thread::scope(|s| {
        let (t, o, pace) = (&target, &out, &pace);
        let a = s.spawn(move || paced_writer(t, 0, 20, &ours, pace, o));
        let b = s.spawn(move || paced_writer(t, 1, 20, &ours, pace, o));
        let acked = spark_writer(t, 6, o);
        a.join().expect("writer 0");
        b.join().expect("writer 1");
        acked
    });
    let mut o = out.into_inner().unwrap_or_else(|e| e.into_inner());
    let spark_instants = commits_into(&target, &rt, "spark");
    assert_eq!(
        spark_instants.len(),
        spark_acked.len(),
        "Spark's acknowledged commits against its completed ones: {spark_instants:?}; failures: {}",
        o.failures.join("\n")
    );
    for (i, t) in spark_acked.iter().zip(spark_instants) {
        o.acked[*i].instant = t;
    }
    assert!(!spark_acked.is_empty(), "no Spark commit went through");
    println!("Spark: {} of 6 commits acknowledged", spark_acked.len());
    // Spark's losers stay pending until their heartbeats expire; a rollback of ours that
    // judges heartbeats by a 1 s interval (2 s expiry) removes them now.
    std::thread::sleep(std::time::Duration::from_secs(3));
    let mut rollback = vec!["rollback", target.url.as_str()];
    rollback.extend(OCC);
    rollback.extend(["--option", "hoodie.client.heartbeat.interval_in_ms=1000"]);
    let (ok, _, err) = hudi(&target, &rollback);
    assert!(ok, "{err}");
    check(
        &mut oracle,
        &path,
        &seed,
        &o,
        "2 of ours and 1 Spark writer, local disk",
    );
    let want = model(&seed, &o.acked);
    let got = rows_read(&spark::rows(&path, "snapshot", json!({})).expect("Spark read"));
    assert_eq!(
        got.into_iter().collect::<BTreeSet<_>>(),
        want,
        "Spark's read"
    );
    nothing_left_behind(&target, &rt);
}

/// While we hold the table lock, a Spark writer cannot commit (it gives up after its retries,
/// committing nothing); once we release it, the same write goes through.
fn spark_waits_for_our_lock(target: &Target, rt: &tokio::runtime::Runtime) {
    use arrow::datatypes::DataType;
    let st =
        hudi_core::storage::Storage::open(&target.url, &target.storage_options).expect("storage");
    let o: BTreeMap<String, String> = [(
        "hoodie.write.concurrency.mode".to_string(),
        "optimistic_concurrency_control".to_string(),
    )]
    .into();
    let cc = hudi_core::txn::concurrency::ConcurrencyConfig::from_options(&st, &o).expect("config");
    let lock = rt
        .block_on(hudi_core::txn::lock::HeldLock::acquire(
            &st,
            cc.lock.as_ref().expect("lock"),
        ))
        .expect("our lock");
    let schema = crate::support::data::schema(vec![
        crate::support::data::field("id", DataType::Utf8),
        crate::support::data::field("city", DataType::Utf8),
        crate::support::data::field("ts", DataType::Int64),
        crate::support::data::field("v", DataType::Utf8),
    ]);
    let rows = vec![crate::support::data::row(
        json!({"id": "s-0", "city": "shared", "ts": 0, "v": "seed"}),
    )];
    let input = target.scratch.join("spark-locked.parquet");
    crate::support::data::write_parquet(
        &input,
        &schema,
        &[crate::support::data::batch(&schema, &rows)],
    );
    let mut options = spark_occ_options();
    options.insert("hoodie.write.lock.client.num_retries".into(), "3".into());
    let before = crash_free_commits(target);
    let e = spark::write(Path::new(&target.url), &input, &options)
        .expect_err("Spark committed while we held the lock");
    assert!(e.contains("Unable to acquire lock"), "{e}");
    rt.block_on(lock.release()).expect("release");
    // The next attempt commits (its clean rolls the failed one back once its heartbeat has
    // expired; else our next writer does).
    spark::write(Path::new(&target.url), &input, &options).expect("Spark write after our release");
    assert_eq!(crash_free_commits(target), before + 1);
}

fn crash_free_commits(target: &Target) -> usize {
    let (ok, out, err) = hudi(target, &["timeline", &target.url, "--json"]);
    assert!(ok, "{err}");
    out.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["action"] == "commit" && v["state"] == "completed")
        .count()
}
