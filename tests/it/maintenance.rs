//! Clean, rollback, savepoints and restore, by us and by Spark, on tables both wrote:
//! our cleaner deletes exactly the files Spark's deletes; retained instants read the same
//! afterwards by every reader; rollbacks and restores leave the table as of the instant
//! before; every refusal names its cause.

use std::collections::BTreeSet;
use std::path::Path;

use hudi_core::keygen::KeyGenKind;
use hudi_core::services::clean::{CleanOutcome, CleanPolicy};
use hudi_core::table::maintenance::CleanBuilder;
use hudi_core::{HudiError, InstantTime, Table, WriteOperation as Op};

use crate::services::{r, region, schema};
use crate::support::scenario::{Ctx, Scenario, Writer};
use crate::support::spec::TableSpec;
use crate::support::{all_files, copy_tree, run_hudi, spark};

fn specs(prefix: &str) -> Vec<TableSpec> {
    let base = |name: &str| {
        TableSpec::new(&format!("{prefix}_{name}"), schema(), &["id"])
            .precombine("ts")
            .partitioned(&["region"], KeyGenKind::Simple)
    };
    vec![base("cow"), base("mor").mor()]
}

/// Data files (base and log) under a table, relative to it.
pub(crate) fn data_files(dir: &Path) -> BTreeSet<String> {
    all_files(dir)
        .into_iter()
        .map(|p| {
            p.strip_prefix(dir)
                .expect("under the table")
                .to_string_lossy()
                .into_owned()
        })
        .filter(|p| {
            let name = p.rsplit('/').next().unwrap_or_default();
            !p.starts_with(".hoodie") && !name.ends_with(".crc") && !name.starts_with(".hoodie")
        })
        .collect()
}

/// A history with several versions of every file group: writes by both engines, a
/// compaction on merge-on-read, and (`replace`) an insert_overwrite that replaces groups.
fn history(s: &mut Scenario, replace: bool) {
    s.write(
        Writer::Ours,
        Op::Insert,
        (1..=12).map(|i| r(i, region(i), 1, "base")).collect(),
    );
    let spark = if s.ctx.spark {
        Writer::Spark
    } else {
        Writer::Ours
    };
    s.write(
        spark,
        Op::Upsert,
        (1..=4).map(|i| r(i, region(i), 2, "u2")).collect(),
    );
    s.write(
        Writer::Ours,
        Op::Upsert,
        (3..=8).map(|i| r(i, region(i), 3, "u3")).collect(),
    );
    if s.spec.mor {
        s.compact(&[]);
    }
    s.write(
        Writer::Ours,
        Op::Upsert,
        (1..=6).map(|i| r(i, region(i), 4, "u4")).collect(),
    );
    s.write(
        spark,
        Op::Upsert,
        (7..=12).map(|i| r(i, region(i), 5, "u5")).collect(),
    );
    if replace {
        s.write(
            Writer::Ours,
            Op::InsertOverwrite,
            vec![r(3, "a", 6, "overwritten"), r(50, "a", 6, "overwritten")],
        );
    }
    s.write(
        Writer::Ours,
        Op::Upsert,
        (2..=5).map(|i| r(i, region(i), 7, "u7")).collect(),
    );
}

/// Spark's `run_clean` with `args` on a copy of the table at `dir`.
pub(crate) fn spark_clean_copy(dir: &Path, args: &str) {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let name = format!(
        "twin_{}",
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let create = format!(
        "CREATE TABLE IF NOT EXISTS {name} USING hudi LOCATION '{}'",
        dir.display()
    );
    spark::sql(&create).unwrap_or_else(|e| panic!("{create}: {e}"));
    let sql = format!("CALL run_clean(table => '{name}', {args})");
    spark::sql(&sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// The last clean's earliest retained commit and deleted file names.
pub(crate) fn last_clean(rt: &tokio::runtime::Runtime, dir: &Path) -> (String, BTreeSet<String>) {
    let t = rt
        .block_on(Table::open(&dir.to_string_lossy()))
        .expect("open");
    let (_, m) = rt
        .block_on(t.timeline().last_clean())
        .expect("clean metadata")
        .expect("a clean");
    let deleted = m
        .partition_metadata
        .values()
        .flat_map(|p| p.success_delete_files.iter().cloned())
        .collect();
    (m.earliest_commit_to_retain, deleted)
}

/// Our cleaner and Spark's, on copies of the same table, delete the same files under each
/// policy; then our clean on the table itself keeps every retained instant readable by
/// every reader, and Spark keeps writing and cleaning after it.
#[test]
fn our_clean_deletes_what_sparks_cleaner_deletes() {
    let Some(mut ctx) = Ctx::setup("our_clean_deletes_what_sparks_cleaner_deletes") else {
        return;
    };
    let mut all = specs("cln");
    all.push(
        TableSpec::new("cln_replace", schema(), &["id"])
            .precombine("ts")
            .partitioned(&["region"], KeyGenKind::Simple),
    );
    for spec in all {
        let replace = spec.name.ends_with("replace");
        let mut s = Scenario::new(&mut ctx, spec.option("hoodie.clean.automatic", "false"));
        history(&mut s, replace);
        type Cfg = fn(CleanBuilder) -> CleanBuilder;
        let policies: [(&str, Cfg); 3] = [
            ("retain_commits => 2", |b| b.with_retained_commits(2)),
            (
                "clean_policy => 'KEEP_LATEST_FILE_VERSIONS', file_versions_retained => 1",
                |b| {
                    b.with_policy(CleanPolicy::KeepLatestFileVersions)
                        .with_retained_versions(1)
                },
            ),
            ("retain_commits => 4", |b| b.with_retained_commits(4)),
        ];
        for (n, (spark_args, ours)) in policies.into_iter().enumerate() {
            let base = s
                .ctx
                .scratch
                .path()
                .join(format!("{}-policy{n}", s.spec.name));
            let (theirs, mine) = (base.join("spark"), base.join("ours"));
            copy_tree(&s.path, &theirs);
            copy_tree(&s.path, &mine);
            let table = s
                .ctx
                .rt
                .block_on(Table::open(&mine.to_string_lossy()))
                .expect("open");
            let run = s
                .ctx
                .rt
                .block_on(ours(table.clean()).run())
                .unwrap_or_else(|e| panic!("{}: our clean ({spark_args}): {e}", s.spec.name));
            let cleaned = match &run.outcome {
                CleanOutcome::Cleaned(report) => {
                    assert!(report.files_deleted() > 0, "{report:?}");
                    true
                }
                CleanOutcome::NothingToClean { .. } if n == 2 => false,
                other => panic!("{}: our clean ({spark_args}): {other:?}", s.spec.name),
            };
            if !s.ctx.spark {
                continue;
            }
            spark_clean_copy(&theirs, spark_args);
            assert_eq!(
                data_files(&mine),
                data_files(&theirs),
                "{}: the files left by our clean and Spark's ({spark_args}) differ",
                s.spec.name
            );
            if cleaned {
                assert_eq!(
                    last_clean(&s.ctx.rt, &mine),
                    last_clean(&s.ctx.rt, &theirs),
                    "{}: clean metadata ({spark_args})",
                    s.spec.name
                );
            }
        }
        // A dry run lists, and changes nothing.
        let before = data_files(&s.path);
        let dry = s.clean(|b| b.with_retained_commits(2).with_dry_run(true));
        let CleanOutcome::WouldClean(sel) = &dry.outcome else {
            panic!("{}: dry run: {:?}", s.spec.name, dry.outcome);
        };
        assert!(sel.file_count() > 0);
        assert_eq!(data_files(&s.path), before);
        let done = s.clean(|b| b.with_retained_commits(2));
        let CleanOutcome::Cleaned(report) = &done.outcome else {
            panic!("{}: {:?}", s.spec.name, done.outcome);
        };
        assert_eq!(report.files_deleted(), sel.file_count());
        // Again: nothing left to clean, said so.
        let again = s.clean(|b| b.with_retained_commits(2));
        assert!(
            matches!(again.outcome, CleanOutcome::NothingToClean { .. }),
            "{:?}",
            again.outcome
        );
        s.check_history();
        if s.ctx.spark {
            s.write(
                Writer::Spark,
                Op::Upsert,
                vec![r(1, "b", 20, "spark after clean")],
            );
            s.write(
                Writer::Ours,
                Op::Upsert,
                vec![r(2, "c", 21, "ours after clean")],
            );
            s.spark_clean("retain_commits => 1");
            s.write(
                Writer::Ours,
                Op::Upsert,
                vec![r(4, "b", 22, "after Spark's clean")],
            );
            s.clean(|b| b.with_retained_commits(1));
        }
        s.check_history();
    }
    println!("our clean: {}", ctx.summary());
}

/// Automatic clean after our writes (Hudi's default): the table never holds more versions
/// than retention allows, and the CLI's dry run agrees with the library.
#[test]
fn automatic_clean_and_the_clean_command() {
    let Some(mut ctx) = Ctx::setup("automatic_clean_and_the_clean_command") else {
        return;
    };
    let spec = TableSpec::new("cln_auto", schema(), &["id"])
        .precombine("ts")
        .partitioned(&["region"], KeyGenKind::Simple)
        .option("hoodie.cleaner.commits.retained", "2");
    let mut s = Scenario::new(&mut ctx, spec);
    s.write(
        Writer::Ours,
        Op::Insert,
        (1..=6).map(|i| r(i, region(i), 1, "base")).collect(),
    );
    for round in 2..=6 {
        s.write(
            Writer::Ours,
            Op::Upsert,
            (1..=6).map(|i| r(i, region(i), round, "u")).collect(),
        );
    }
    s.refresh();
    let cleans = s
        .table()
        .timeline()
        .instants()
        .iter()
        .filter(|i| i.action() == hudi_core::model::Action::Clean && i.is_completed())
        .count();
    assert!(cleans >= 2, "automatic clean ran {cleans} times");
    // Each of the 3 file groups keeps the newest slice, the retained commit's and the one
    // before it: 3 versions at most.
    let versions = data_files(&s.path).len();
    assert!(
        versions <= 9,
        "{versions} files left: {:?}",
        data_files(&s.path)
    );
    s.check_history();
    let path = s.path.to_string_lossy().into_owned();
    let (ok, out, err) = run_hudi(&["clean", &path, "--retain", "1", "--dry-run", "--json"]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let listed = v["outcome"]["dry_run"]["files"]
        .as_object()
        .map(|m| {
            m.values()
                .map(|f| f.as_array().map_or(0, Vec::len))
                .sum::<usize>()
        })
        .unwrap_or(0);
    assert!(listed > 0, "{out}");
    // The library's clean reports its progress.
    let events = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = events.clone();
    let progress: hudi_core::services::Progress = std::sync::Arc::new(move |e| {
        sink.lock().expect("events").push(e);
    });
    let run = s.clean(|b| b.with_retained_commits(1).with_progress(progress));
    let CleanOutcome::Cleaned(report) = &run.outcome else {
        panic!("{:?}", run.outcome);
    };
    let last = *events
        .lock()
        .expect("events")
        .last()
        .expect("progress events");
    assert_eq!((last.done, last.total), (report.files_deleted(), listed));
    let (ok, out, _) = run_hudi(&["clean", &path, "--retain", "1"]);
    assert!(ok && out.contains("nothing to clean"), "{out}");
    let (ok, _, err) = run_hudi(&["clean", &path, "--policy", "NEVER"]);
    assert!(!ok && err.contains("--policy"), "{err}");
    s.refresh();
    s.check("the clean command");
    s.check_history();
}

fn latest(s: &Scenario) -> String {
    s.commits.last().expect("a commit").instant.clone()
}

fn refused(s: &Scenario, t: &str) -> String {
    let t: InstantTime = t.parse().expect("instant");
    let e = s
        .ctx
        .rt
        .block_on(s.table().rollback().with_instant(t.clone()).run())
        .expect_err("a refused rollback");
    assert!(matches!(e, HudiError::Refused { .. }), "{e}");
    e.to_string()
}

/// Rollbacks of completed instants, ours of Spark's and Spark's of ours, and the refusals:
/// a later instant, a savepoint, a cleaned previous version.
#[test]
fn rollbacks_of_completed_instants_both_ways() {
    let Some(mut ctx) = Ctx::setup("rollbacks_of_completed_instants_both_ways") else {
        return;
    };
    for spec in specs("rbk") {
        let mut s = Scenario::new(&mut ctx, spec.option("hoodie.clean.automatic", "false"));
        s.write(
            Writer::Ours,
            Op::Insert,
            (1..=9).map(|i| r(i, region(i), 1, "base")).collect(),
        );
        let t2 = s.write(
            Writer::Ours,
            Op::Upsert,
            vec![r(1, "b", 2, "u2"), r(20, "a", 2, "new")],
        );
        let spark = if s.ctx.spark {
            Writer::Spark
        } else {
            Writer::Ours
        };
        let t3 = s.write(
            spark,
            Op::Upsert,
            vec![r(2, "c", 3, "u3"), r(21, "b", 3, "new")],
        );
        let e = refused(&s, &t2);
        assert!(e.contains(&t3), "{e}");
        s.rollback_latest(&t3);
        s.rollback_latest(&t2);
        let t4 = s.write(Writer::Ours, Op::Delete, vec![r(3, "a", 0, "")]);
        if s.ctx.spark {
            s.spark_rollback(&t4);
        } else {
            s.rollback_latest(&t4);
        }
        if s.spec.mor {
            s.write(Writer::Ours, Op::Upsert, vec![r(4, "b", 5, "u5")]);
            s.compact(&[]);
            let c = latest(&s);
            s.rollback_latest(&c);
            if s.ctx.spark {
                s.spark_service(
                    "CALL run_compaction(op => 'scheduleAndExecute', path => '{path}', options => 'hoodie.compact.inline.max.delta.commits=1')",
                    true,
                );
                let c = latest(&s);
                s.rollback_latest(&c);
            }
        }
        let t5 = s.write(Writer::Ours, Op::Upsert, vec![r(5, "c", 6, "u6")]);
        s.savepoint(&t5);
        let e = refused(&s, &t5);
        assert!(e.contains("savepoint"), "{e}");
        s.ctx
            .rt
            .block_on(s.table().savepoint().delete(t5.parse().expect("instant")))
            .expect("delete savepoint");
        s.refresh();
        s.rollback_latest(&t5);
        if !s.spec.mor {
            // One version kept per file group: the version before the next commit goes.
            let t6 = s.write(Writer::Ours, Op::Upsert, vec![r(6, "a", 7, "u7")]);
            s.clean(|b| {
                b.with_policy(CleanPolicy::KeepLatestFileVersions)
                    .with_retained_versions(1)
            });
            let e = refused(&s, &t6);
            assert!(e.contains("cleaned"), "{e}");
        }
        // The command: no failed writes is said so; a crashed write is rolled back.
        let path = s.path.to_string_lossy().into_owned();
        let (ok, out, err) = run_hudi(&["rollback", &path]);
        assert!(ok && out.contains("no failed writes"), "{out}{err}");
        let crashed = s.crashed_write(Op::Upsert, vec![r(7, "b", 9, "crashed")]);
        let (ok, out, err) = run_hudi(&["rollback", &path, "--json"]);
        assert!(ok && out.contains(&crashed), "{out}{err}");
        s.refresh();
        s.check("the rollback command");
        let (ok, _, err) = run_hudi(&["rollback", &path, "--instant", "20200101000000000"]);
        assert!(!ok && err.contains("20200101000000000"), "{err}");
        s.write(Writer::Ours, Op::Upsert, vec![r(8, "c", 10, "after")]);
        s.check_history();
    }
    println!("rollbacks: {}", ctx.summary());
}

/// Savepoints survive cleaning (automatic, retaining one commit); restores by us to our and
/// Spark's savepoints, and by Spark to ours, read as of the savepoint everywhere.
#[test]
fn savepoints_and_restores_both_ways() {
    let Some(mut ctx) = Ctx::setup("savepoints_and_restores_both_ways") else {
        return;
    };
    for spec in specs("svp") {
        let mut s = Scenario::new(
            &mut ctx,
            spec.option("hoodie.cleaner.commits.retained", "1"),
        );
        s.write(
            Writer::Ours,
            Op::Insert,
            (1..=9).map(|i| r(i, region(i), 1, "base")).collect(),
        );
        let t2 = s.write(
            Writer::Ours,
            Op::Upsert,
            (1..=9).map(|i| r(i, region(i), 2, "u2")).collect(),
        );
        let info = s.savepoint(&t2);
        assert!(info.files >= 3, "{info:?}");
        let spark = if s.ctx.spark {
            Writer::Spark
        } else {
            Writer::Ours
        };
        s.write(
            Writer::Ours,
            Op::Upsert,
            (1..=9).map(|i| r(i, region(i), 3, "u3")).collect(),
        );
        s.write(
            spark,
            Op::Upsert,
            vec![r(1, "b", 4, "u4"), r(30, "a", 4, "new")],
        );
        if s.spec.mor {
            s.compact(&[]);
        }
        s.write(Writer::Ours, Op::Delete, vec![r(2, "c", 0, "")]);
        // Cleaning ran after every write: the savepoint's files are still there.
        s.clean(|b| b.with_retained_commits(1));
        s.check_history();
        let path = s.path.to_string_lossy().into_owned();
        let (ok, out, err) = run_hudi(&["savepoint", "list", &path, "--json"]);
        assert!(ok && out.contains(&t2), "{out}{err}");
        if s.ctx.spark {
            let rows = spark::sql(&format!("CALL show_savepoints(path => '{path}')"))
                .or_else(|_| {
                    let t = s.spark_table();
                    spark::sql(&format!("CALL show_savepoints(table => '{t}')"))
                })
                .expect("show_savepoints");
            assert!(rows.iter().any(|r| r.to_string().contains(&t2)), "{rows:?}");
        }
        let out = s.restore(Writer::Ours, &t2).expect("our restore");
        assert!(!out.rolled_back.is_empty(), "{out:?}");
        // Nothing after the savepoint: said so.
        let e = s
            .ctx
            .rt
            .block_on(s.table().restore(t2.parse().expect("instant")).run())
            .expect_err("nothing to restore");
        assert!(e.to_string().contains("already"), "{e}");
        s.write(spark, Op::Upsert, vec![r(3, "a", 5, "after restore")]);
        let t7 = s.write(Writer::Ours, Op::Upsert, vec![r(4, "b", 6, "u6")]);
        if s.ctx.spark {
            s.spark_savepoint(&t7);
        } else {
            s.savepoint(&t7);
        }
        s.write(Writer::Ours, Op::Upsert, vec![r(5, "c", 7, "u7")]);
        s.write(spark, Op::Upsert, vec![r(6, "a", 8, "u8")]);
        // The earlier savepoint stays: restoring past it is fine, to a later one too.
        s.restore(Writer::Ours, &t7);
        let t9 = s.write(Writer::Ours, Op::Upsert, vec![r(7, "b", 9, "u9")]);
        s.savepoint(&t9);
        s.write(Writer::Ours, Op::Upsert, vec![r(8, "c", 10, "u10")]);
        if s.ctx.spark {
            s.restore(Writer::Spark, &t9);
        } else {
            s.restore(Writer::Ours, &t9);
        }
        // A savepoint of an instant the cleaner may have emptied is refused.
        let first: InstantTime = s.commits[0].instant.parse().expect("instant");
        let floor = s
            .ctx
            .rt
            .block_on(s.table().timeline().clean_retained_from())
            .expect("clean metadata");
        if floor.as_ref().is_some_and(|f| &first < f) {
            let e = s
                .ctx
                .rt
                .block_on(s.table().savepoint().with_instant(first).create())
                .expect_err("a cleaned instant");
            assert!(matches!(e, HudiError::Refused { .. }), "{e}");
        }
        s.write(Writer::Ours, Op::Upsert, vec![r(9, "a", 11, "last")]);
        s.check_history();
    }
    println!("savepoints: {}", ctx.summary());
}

/// A service that fails after a write committed says so: the write's instant is named and
/// its commit is on the timeline; the broken clean is named where it is read.
#[test]
fn a_service_failing_after_the_commit_names_the_committed_write() {
    let Some(mut ctx) = Ctx::setup("a_service_failing_after_the_commit_names_the_committed_write")
    else {
        return;
    };
    let spec = TableSpec::new("svc_fail", schema(), &["id"])
        .precombine("ts")
        .partitioned(&["region"], KeyGenKind::Simple);
    let mut s = Scenario::new(&mut ctx, spec);
    s.write(Writer::Ours, Op::Insert, vec![r(1, "a", 1, "base")]);
    // A clean whose metadata is garbage: the automatic clean after the next write fails.
    std::fs::write(s.path.join(".hoodie/20000101000000000.clean"), b"not avro").expect("write");
    let rows = vec![r(1, "a", 2, "after")];
    let batch = crate::support::data::batch(&schema(), &rows);
    let e = s
        .ctx
        .rt
        .block_on(s.table().write(Op::Upsert).execute_batches(vec![batch]))
        .expect_err("the automatic clean fails");
    let HudiError::AfterCommit { instant, .. } = &e else {
        panic!("{e}");
    };
    assert!(e.to_string().contains("committed"), "{e}");
    s.refresh();
    assert!(s
        .table()
        .timeline()
        .completed_write(&instant.parse().expect("instant"))
        .is_some());
    // Time travel needs the last clean: its error names the broken file.
    let path = s.path.to_string_lossy().into_owned();
    let (ok, _, err) = run_hudi(&["read", &path, "--as-of", instant]);
    assert!(!ok && err.contains("20000101000000000.clean"), "{err}");
}
