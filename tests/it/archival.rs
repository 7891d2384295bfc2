//! Archival by us and by Spark: the archived timeline we write is Hudi's (Spark lists it and
//! archives after it), ours reads Spark's, the table reads the same afterwards, and the
//! active timeline keeps `hoodie.keep.min.commits` commits.

use std::collections::BTreeSet;

use hudi_core::keygen::KeyGenKind;
use hudi_core::services::archive::{archived_instants, ArchiveOutcome};
use hudi_core::{Table, WriteOperation as Op};

use crate::services::{r, region, schema};
use crate::support::scenario::{Ctx, Scenario, Writer};
use crate::support::spec::TableSpec;
use crate::support::{run_hudi, spark, testdata_fixtures};

const KEEP: [(&str, &str); 3] = [
    ("hoodie.keep.min.commits", "4"),
    ("hoodie.keep.max.commits", "6"),
    ("hoodie.cleaner.commits.retained", "3"),
];

fn archived_times(s: &Scenario) -> BTreeSet<String> {
    s.ctx
        .rt
        .block_on(archived_instants(s.table().storage()))
        .expect("archived timeline")
        .into_iter()
        .filter(|i| i.state == "COMPLETED")
        .map(|i| i.instant)
        .collect()
}

/// The archived timeline of a Spark-written table reads back: every state of every instant.
#[test]
fn sparks_archived_timeline_reads_back() {
    let fx = testdata_fixtures()
        .into_iter()
        .find(|f| f.name.ends_with("v6_cow_archived"))
        .expect("the v6_cow_archived fixture");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let table = rt
        .block_on(Table::open(&fx.table.to_string_lossy()))
        .expect("open");
    let all = rt
        .block_on(archived_instants(table.storage()))
        .expect("archived timeline");
    // 6 commits, three states each (the fixture's story).
    assert_eq!(all.len(), 18, "{all:?}");
    let completed: Vec<&str> = all
        .iter()
        .filter(|i| i.state == "COMPLETED")
        .map(|i| i.instant.as_str())
        .collect();
    assert_eq!(completed.len(), 6);
    assert!(all.iter().all(|i| i.action == "commit"));
    // They precede the active timeline.
    let first_active = table.timeline().instants()[0].requested().to_string();
    assert!(completed.iter().all(|t| *t < first_active.as_str()));
    let (ok, out, err) = run_hudi(&["timeline", &fx.table.to_string_lossy(), "--archived"]);
    assert!(ok && out.contains(completed[0]), "{out}{err}");
}

#[test]
fn archival_both_ways() {
    let Some(mut ctx) = Ctx::setup("archival_both_ways") else {
        return;
    };
    let base = |name: &str| {
        let mut s = TableSpec::new(name, schema(), &["id"])
            .precombine("ts")
            .partitioned(&["region"], KeyGenKind::Simple)
            .option("hoodie.archive.automatic", "false");
        for (k, v) in KEEP {
            s = s.option(k, v);
        }
        s
    };
    for spec in [
        base("arc_cow"),
        base("arc_mor")
            .mor()
            .option("hoodie.compact.inline.max.delta.commits", "2"),
    ] {
        let mut s = Scenario::new(&mut ctx, spec);
        s.write(
            Writer::Ours,
            Op::Insert,
            (1..=6).map(|i| r(i, region(i), 1, "base")).collect(),
        );
        for round in 2..=8 {
            let who = if round == 5 && s.ctx.spark {
                Writer::Spark
            } else {
                Writer::Ours
            };
            s.write(
                who,
                Op::Upsert,
                vec![r(
                    round as i32 % 6 + 1,
                    region(round as i32 % 6 + 1),
                    round,
                    "u",
                )],
            );
            if s.spec.mor && round == 4 {
                s.compact(&[]);
            }
        }
        let before: BTreeSet<String> = s
            .table()
            .timeline()
            .completed_writes()
            .map(|i| i.requested().to_string())
            .collect();
        let mut b = s.table().archive();
        for (k, v) in KEEP {
            b = b.with_option(k, v);
        }
        let out = s.ctx.rt.block_on(b.run()).expect("archive");
        let ArchiveOutcome::Archived {
            instants,
            commits_left,
            ..
        } = out
        else {
            panic!("{}: nothing archived: {out:?}", s.spec.name);
        };
        assert!(!instants.is_empty());
        s.refresh();
        let active: BTreeSet<String> = s
            .table()
            .timeline()
            .completed_writes()
            .map(|i| i.requested().to_string())
            .collect();
        assert_eq!(active.len(), commits_left);
        if !s.spec.mor {
            assert_eq!(
                commits_left, 4,
                "the active timeline keeps hoodie.keep.min.commits"
            );
        }
        let archived = archived_times(&s);
        let moved: BTreeSet<String> = before.difference(&active).cloned().collect();
        assert!(moved.is_subset(&archived), "{moved:?} vs {archived:?}");
        s.check("our archival");
        s.check_history();
        let path = s.path.to_string_lossy().into_owned();
        let (ok, out, err) = run_hudi(&["timeline", &path, "--archived", "--json"]);
        assert!(ok, "{err}");
        assert!(moved.iter().all(|t| out.contains(t.as_str())), "{out}");
        let (ok, out, _) = run_hudi(&["archive", &path]);
        assert!(ok && out.contains("nothing to archive"), "{out}");
        let (ok, _, err) = run_hudi(&["archive", &path, "--option", "hoodie.keep.max.commits=2"]);
        assert!(!ok && err.contains("hoodie.keep.max.commits"), "{err}");
        if s.ctx.spark {
            let t = s.spark_table();
            let rows = spark::sql(&format!("CALL show_archived_commits(table => '{t}', start_ts => '20000101000000000', end_ts => '29991231000000000')"))
                .expect("show_archived_commits");
            let listed: BTreeSet<String> = rows
                .iter()
                .filter_map(|r| r["commit_time"].as_str().map(String::from))
                .collect();
            assert!(
                moved.iter().all(|m| listed.contains(m)),
                "{}: Spark lists {listed:?}, we archived {moved:?}",
                s.spec.name
            );
            // Spark writes and archives after us; we read its archive after ours.
            for round in 9..=12 {
                s.write(
                    Writer::Spark,
                    Op::Upsert,
                    vec![r(
                        round % 6 + 1,
                        region(round % 6 + 1),
                        round as i64,
                        "spark",
                    )],
                );
            }
            let sql = format!(
                "CALL archive_commits(table => '{t}', min_commits => 4, max_commits => 6, retain_commits => 3)"
            );
            spark::sql(&sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
            s.refresh();
            let after = archived_times(&s);
            assert!(
                after.is_superset(&archived) && after.len() > archived.len(),
                "{after:?}"
            );
            s.write(
                Writer::Ours,
                Op::Upsert,
                vec![r(1, region(1), 50, "after Spark")],
            );
            s.check_history();
        }
    }
    println!("archival: {}", ctx.summary());
}
