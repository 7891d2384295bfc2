//! Our table services on our tables and Spark's, judged by our reader, hudi-rs and Spark:
//! compaction (strategies, triggers, a pending plan run later, a failed run retried, logs
//! written while a compaction is pending, a memory budget that spills, inline compaction).

use arrow::datatypes::{DataType, SchemaRef};
use hudi_core::keygen::KeyGenKind;
use hudi_core::services::compaction::ScheduleOutcome;
use hudi_core::WriteOperation as Op;
use serde_json::json;

use crate::support::data::{self, field, row, Row};
use crate::support::scenario::{Ctx, Scenario, Writer};
use crate::support::spec::TableSpec;

pub(crate) fn schema() -> SchemaRef {
    data::schema(vec![
        field("id", DataType::Int32),
        field("region", DataType::Utf8),
        field("ts", DataType::Int64),
        field("v", DataType::Utf8),
        field("price", DataType::Decimal128(12, 3)),
        field("_hoodie_is_deleted", DataType::Boolean),
    ])
}

pub(crate) fn r(id: i32, region: &str, ts: i64, v: &str) -> Row {
    row(json!({"id": id, "region": region, "ts": ts, "v": v,
        "price": format!("{id}.{:03}", ts % 1000)}))
}

fn gone(id: i32, region: &str, ts: i64) -> Row {
    let mut x = r(id, region, ts, "gone");
    x.insert("_hoodie_is_deleted".into(), json!(true));
    x
}

pub(crate) fn region(i: i32) -> &'static str {
    ["a", "b", "c"][(i % 3) as usize]
}

fn mor_specs() -> Vec<TableSpec> {
    let base = |name: &str| {
        TableSpec::new(name, schema(), &["id"])
            .precombine("ts")
            .mor()
    };
    vec![
        base("cmp_bloom").partitioned(&["region"], KeyGenKind::Simple),
        base("cmp_bucket_parquet_logs")
            .buckets(4)
            .option("hoodie.logfile.data.block.format", "parquet"),
        base("cmp_global_hive")
            .partitioned(&["region"], KeyGenKind::Simple)
            .hive_style()
            .index(hudi_core::write::config::IndexType::GlobalBloom),
    ]
}

/// Writes that leave logs: updates, deletes by key and by flag, inserts.
fn logs(s: &mut Scenario, round: i64) {
    s.write(
        Writer::Ours,
        Op::Upsert,
        (1..=6)
            .map(|i| r(i, region(i), 10 * round + 1, &format!("u{round}")))
            .collect(),
    );
    s.write(
        Writer::Ours,
        Op::Delete,
        vec![r(2 + round as i32, region(2 + round as i32), 0, "")],
    );
    s.write(
        Writer::Ours,
        Op::Upsert,
        vec![
            gone(1, region(1), 10 * round + 2),
            r(100 + round as i32, "a", 1, "new"),
        ],
    );
}

/// Ours compacts; Spark reads the compacted table, writes logs on top and compacts them; we
/// write and compact again.
#[test]
fn our_compaction_is_read_continued_and_compacted_again_by_spark() {
    let Some(mut ctx) = Ctx::setup("our_compaction_is_read_continued_and_compacted_again_by_spark")
    else {
        return;
    };
    for spec in mor_specs() {
        let mut s = Scenario::new(&mut ctx, spec);
        s.write(
            Writer::Ours,
            Op::Insert,
            (1..=12).map(|i| r(i, region(i), 1, "base")).collect(),
        );
        logs(&mut s, 1);
        let out = s.compact(&[]);
        assert!(out.file_groups > 0 && out.log_records > 0, "{out:?}");
        if s.ctx.spark {
            s.write(
                Writer::Spark,
                Op::Upsert,
                vec![r(3, region(3), 50, "spark"), r(200, "b", 1, "spark")],
            );
            s.write(Writer::Spark, Op::Delete, vec![r(4, region(4), 0, "")]);
            s.spark_service(
                "CALL run_compaction(op => 'scheduleAndExecute', path => '{path}', options => 'hoodie.compact.inline.max.delta.commits=1')",
                true,
            );
        }
        logs(&mut s, 2);
        s.compact(&[("hoodie.compaction.strategy", "UnBoundedCompactionStrategy")]);
        s.write(Writer::Ours, Op::Upsert, vec![r(5, region(5), 99, "after")]);
        s.check_history();
    }
    println!("our compaction: {}", ctx.summary());
}

/// Our compaction of tables Spark created and wrote (Bloom and bucket index).
#[test]
fn our_compaction_of_spark_written_tables() {
    let Some(mut ctx) = Ctx::setup("our_compaction_of_spark_written_tables") else {
        return;
    };
    if !ctx.spark {
        return;
    }
    for spec in [
        TableSpec::new("sp_cmp_bloom", schema(), &["id"])
            .precombine("ts")
            .partitioned(&["region"], KeyGenKind::Simple)
            .mor(),
        TableSpec::new("sp_cmp_bucket", schema(), &["id"])
            .precombine("ts")
            .partitioned(&["region"], KeyGenKind::Simple)
            .buckets(2)
            .mor(),
    ] {
        let mut s = Scenario::created_by(&mut ctx, spec, Writer::Spark);
        s.write(
            Writer::Spark,
            Op::Upsert,
            (1..=9).map(|i| r(i, region(i), 1, "spark")).collect(),
        );
        s.write(
            Writer::Spark,
            Op::Upsert,
            vec![r(1, region(1), 2, "spark 2"), r(2, region(2), 2, "spark 2")],
        );
        s.write(Writer::Spark, Op::Upsert, vec![gone(3, region(3), 3)]);
        s.compact(&[]);
        s.write(
            Writer::Spark,
            Op::Upsert,
            vec![r(1, region(1), 5, "spark on ours")],
        );
        s.write(Writer::Ours, Op::Upsert, vec![r(2, region(2), 6, "ours")]);
        s.compact(&[]);
        s.check_history();
    }
    println!("compaction of Spark's tables: {}", ctx.summary());
}

/// A plan scheduled now runs later, after writes that went to its new slice; a failed run
/// (files written, no commit) is cleaned up and run again; a small memory budget spills.
#[test]
fn pending_plans_failed_runs_and_spilling_compactions() {
    let Some(mut ctx) = Ctx::setup("pending_plans_failed_runs_and_spilling_compactions") else {
        return;
    };
    let spec = TableSpec::new("cmp_pending", schema(), &["id"])
        .precombine("ts")
        .partitioned(&["region"], KeyGenKind::Simple)
        .mor();
    let mut s = Scenario::new(&mut ctx, spec);
    // hudi-rs drops what logs written during a pending compaction change (see
    // spark_fixtures.rs); Apache Hudi and we read them.
    s.readers
        .retain(|r| *r != crate::support::scenario::Reader::HudiRs);
    s.write(
        Writer::Ours,
        Op::Insert,
        (1..=3000).map(|i| r(i, region(i), 1, "base")).collect(),
    );
    s.write(
        Writer::Ours,
        Op::Upsert,
        (1..=2000).map(|i| r(i, region(i), 2, "log")).collect(),
    );
    // Not due after one delta commit (five by default), due with --force.
    let not_due = s
        .ctx
        .rt
        .block_on(s.table().compaction().schedule())
        .expect("schedule");
    assert!(
        matches!(not_due, ScheduleOutcome::NotDue { .. }),
        "{not_due:?}"
    );
    let scheduled = s
        .ctx
        .rt
        .block_on(s.table().compaction().with_force(true).schedule())
        .expect("schedule");
    let ScheduleOutcome::Scheduled { instant: c, plan } = scheduled else {
        panic!("{scheduled:?}");
    };
    assert_eq!(plan.operations.len(), 3, "{plan:?}");
    assert!(s
        .path
        .join(format!(".hoodie/.aux/{c}.compaction.requested"))
        .exists());
    // As of its (requested) instant, the compaction reads as the table did when it was
    // scheduled: on a v6 timeline it sits before the writes made while it is pending.
    s.commits.push(crate::support::scenario::Commit {
        instant: c.to_string(),
        live: s.model.live.clone(),
        schema: s.schema.clone(),
        spark_as_of_differs: None,
    });
    // Writes while the compaction is pending: their logs start the compaction's slice.
    s.write(
        Writer::Ours,
        Op::Upsert,
        vec![r(1, "b", 3, "during"), r(5000, "a", 1, "during")],
    );
    // A first run crashes after writing its files: no completed instant, markers left.
    let first = s
        .ctx
        .rt
        .block_on(s.table().compaction().with_instant(c.clone()).run())
        .expect("run");
    assert_eq!(first.instant, c);
    let completed = s.path.join(format!(".hoodie/{c}.commit"));
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&completed).expect("commit")).expect("json");
    std::fs::remove_file(&completed).expect("crash");
    for stats in meta["partitionToWriteStats"]
        .as_object()
        .expect("stats")
        .values()
    {
        for st in stats.as_array().expect("list") {
            let rel = st["path"].as_str().expect("path");
            let m = s.path.join(format!(".hoodie/.temp/{c}/{rel}.marker.MERGE"));
            std::fs::create_dir_all(m.parent().expect("dir")).expect("mkdir");
            std::fs::write(&m, b"").expect("marker");
        }
    }
    s.refresh();
    s.check("a compaction that crashed before completing");
    // The retry removes the crashed run's files and spills its logs (1-byte budget).
    let out = s
        .ctx
        .rt
        .block_on(
            s.table()
                .compaction()
                .with_instant(c.clone())
                .with_option("hoodie.memory.compaction.max.size", "1")
                .run(),
        )
        .expect("retry");
    assert!(out.retried && out.spilled_groups == 3, "{out:?}");
    assert_eq!(out.records_written, 3000, "{out:?}");
    let bases = crate::support::all_files(&s.path)
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(&format!("_{c}.parquet")))
        .count();
    assert_eq!(
        bases, 3,
        "one base file per group at {c}, the crashed run's gone"
    );
    // The read-optimized view is the compacted one: everything but the writes during it.
    s.refresh();
    s.model.base = None;
    s.check("the retried compaction");
    s.check_history();
    println!("pending and retried compactions: {}", ctx.summary());
}

/// `hoodie.compact.inline=true`: the write that makes a compaction due runs it.
#[test]
fn inline_compaction_after_n_delta_commits() {
    let Some(mut ctx) = Ctx::setup("inline_compaction_after_n_delta_commits") else {
        return;
    };
    let spec = TableSpec::new("cmp_inline", schema(), &["id"])
        .precombine("ts")
        .partitioned(&["region"], KeyGenKind::Simple)
        .mor()
        .option("hoodie.compact.inline", "true")
        .option("hoodie.compact.inline.max.delta.commits", "3");
    let mut s = Scenario::new(&mut ctx, spec);
    s.write(
        Writer::Ours,
        Op::Insert,
        (1..=6).map(|i| r(i, region(i), 1, "base")).collect(),
    );
    s.write(Writer::Ours, Op::Upsert, vec![r(1, region(1), 2, "u")]);
    assert!(
        !s.path
            .join(".hoodie")
            .read_dir()
            .expect("ls")
            .flatten()
            .any(|e| e.file_name().to_string_lossy().contains("compaction")),
        "no compaction after 2 delta commits"
    );
    // The third delta commit compacts inline; every reader (ours, hudi-rs, Spark) reads the
    // snapshot, and the read-optimized view is every row (the scenario's model knows).
    let commits = s.commits.len();
    s.write_with(
        Writer::Ours,
        Op::Upsert,
        vec![r(2, region(2), 3, "u")],
        &[],
        &[("hoodie.compact.inline.max.delta.commits", "3")],
    );
    assert_eq!(
        s.commits.len(),
        commits + 2,
        "the write and its inline compaction"
    );
    let compacted = s
        .table()
        .timeline()
        .completed_writes()
        .filter(|i| i.planned_action == hudi_core::model::Action::Compaction)
        .count();
    assert_eq!(compacted, 1, "one inline compaction");
    s.check_history();
}
