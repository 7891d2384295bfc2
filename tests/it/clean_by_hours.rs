//! Clean by hours (`KEEP_LATEST_BY_HOURS`): commits an hour apart (their instants written with
//! a clock set back), then our cleaner and Apache Hudi's on Spark, on copies of the table,
//! keep the same files and record the same earliest retained commit and deleted files; every
//! reader reads our cleaned table as before.

use std::sync::Arc;

use hudi_core::keygen::KeyGenKind;
use hudi_core::services::clean::{CleanOutcome, CleanPolicy};
use hudi_core::timeline::transition::FixedClock;
use hudi_core::{Table, WriteOperation as Op};
use serde_json::json;

use crate::maintenance::{data_files, last_clean, spark_clean_copy};
use crate::services::{r, region, schema};
use crate::support::data::{self, Row};
use crate::support::scenario::{assert_rows, Ctx, Scenario};
use crate::support::spec::TableSpec;
use crate::support::{copy_tree, spark};

#[test]
fn clean_by_hours_deletes_what_sparks_cleaner_deletes() {
    let Some(mut ctx) = Ctx::setup("clean_by_hours_deletes_what_sparks_cleaner_deletes") else {
        return;
    };
    let spec = TableSpec::new("cln_hours", schema(), &["id"])
        .precombine("ts")
        .partitioned(&["region"], KeyGenKind::Simple)
        .option("hoodie.clean.automatic", "false");
    let mut s = Scenario::new(&mut ctx, spec);
    let now = chrono::Utc::now();
    // Six upserts of the same keys, 5.5 to 0.5 hours ago: six versions of each file group.
    for (k, minutes_ago) in [330, 270, 210, 150, 90, 30].into_iter().enumerate() {
        let clock = Arc::new(FixedClock(now - chrono::Duration::minutes(minutes_ago)));
        let rows: Vec<Row> = (1..=6).map(|i| r(i, region(i), k as i64, "h")).collect();
        let write = s
            .table()
            .write(Op::Upsert)
            .with_clock(clock)
            .execute_batches(vec![data::batch(&schema(), &rows)]);
        s.ctx.rt.block_on(write).expect("a back-dated write");
        s.refresh();
    }
    let (theirs, mine) = (
        s.path.with_extension("spark"),
        s.path.with_extension("ours"),
    );
    copy_tree(&s.path, &theirs);
    copy_tree(&s.path, &mine);
    let table = s
        .ctx
        .rt
        .block_on(Table::open(&mine.to_string_lossy()))
        .expect("open");
    // A builder runs on `.await` as with `.run()`.
    let clean = table
        .clean()
        .with_policy(CleanPolicy::KeepLatestByHours)
        .with_retained_hours(3);
    let run = s
        .ctx
        .rt
        .block_on(async { clean.await })
        .expect("our clean by hours");
    let CleanOutcome::Cleaned(report) = &run.outcome else {
        panic!("our clean by hours: {:?}", run.outcome);
    };
    // The commits older than 3 hours (5.5, 4.5 and 3.5 hours ago) leave older versions.
    assert!(report.files_deleted() > 0, "{report:?}");
    // Every reader reads the cleaned copy as it reads the table before the clean.
    let mut peers = vec![(
        "hudi-rs",
        s.ctx.oracle.rows(&s.path, "snapshot", json!({})),
        s.ctx.oracle.rows(&mine, "snapshot", json!({})),
    )];
    if s.ctx.spark {
        let spark_read =
            |t: &std::path::Path| spark::rows(t, "snapshot", json!({})).expect("Spark");
        peers.push(("Spark", spark_read(&s.path), spark_read(&mine)));
    }
    for (who, before, after) in peers {
        assert_eq!(before.len(), 6, "{who}");
        assert_rows(&format!("{who} after our clean by hours"), &after, &before);
    }
    if !s.ctx.spark {
        return;
    }
    spark_clean_copy(
        &theirs,
        "clean_policy => 'KEEP_LATEST_BY_HOURS', hours_retained => 3",
    );
    assert_eq!(
        data_files(&mine),
        data_files(&theirs),
        "files left by the two cleaners"
    );
    assert_eq!(
        last_clean(&s.ctx.rt, &mine),
        last_clean(&s.ctx.rt, &theirs),
        "clean metadata"
    );
    println!(
        "clean by hours: {} files deleted, as Spark's cleaner",
        report.files_deleted()
    );
}
