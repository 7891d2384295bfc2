//! Our table services on every Spark-written fixture of `testdata/spark` (compacted, pending
//! compactions with logs, cleaned, clustered, rolled back, savepointed and restored, archived,
//! bucket-indexed, virtual-key tables): on a copy of each, we roll back its latest commit (or
//! are refused with a cause), clean, and archive; after each step our reader and Spark read
//! the copy alike — as of the previous commit after the rollback, unchanged after the clean
//! and the archival — as do Spark and hudi-rs, and Spark's own cleaner still runs on it.

use std::path::Path;

use hudi_core::services::archive::ArchiveOutcome;
use hudi_core::{HudiError, Table};
use serde_json::{json, Value};

use crate::spark_fixtures::{hudi_rs_rows, our_rows};
use crate::support::{self, copy_tree, oracle::Oracle, spark};

const NAME: &str = "our_services_on_spark_written_fixtures";

/// Spark cannot read these (known Spark-side defects, see `spark_fixtures`).
fn spark_reads(fixture: &str) -> bool {
    !fixture.contains("v6_mor_virtual_keys")
}

struct Readers<'a> {
    rt: &'a tokio::runtime::Runtime,
    oracle: &'a mut Oracle,
    out: &'a Path,
    spark: bool,
    /// hudi-rs, except where it is known to read Spark's tables differently (see
    /// `spark_fixtures`: logs written while a compaction was pending).
    hudi_rs: bool,
}

impl Readers<'_> {
    fn ours(&mut self, table: &Path, mode: &str, extra: Value) -> Vec<Value> {
        our_rows(self.rt, self.oracle, table, mode, &extra, self.out)
            .unwrap_or_else(|e| panic!("our {mode} read of {}: {e}", table.display()))
    }

    /// Every reader's snapshot of `table` equals `want`.
    fn check(&mut self, what: &str, table: &Path, want: &[Value]) {
        let ours = self.ours(table, "snapshot", json!({}));
        assert_eq!(ours.len(), want.len(), "{what}: our snapshot");
        assert!(ours == want, "{what}: our snapshot differs");
        if self.spark {
            let theirs = spark::rows(table, "snapshot", json!({}))
                .unwrap_or_else(|e| panic!("{what}: Spark's snapshot: {e}"));
            assert!(theirs == want, "{what}: Spark's snapshot differs");
        }
        if self.hudi_rs {
            let ask = json!({"table": table.to_string_lossy(), "mode": "snapshot"});
            let theirs = hudi_rs_rows(self.oracle, ask)
                .unwrap_or_else(|e| panic!("{what}: hudi-rs's snapshot: {e}"));
            assert!(theirs == want, "{what}: hudi-rs's snapshot differs");
        }
    }
}

#[test]
fn our_services_on_spark_written_fixtures() {
    let Some((_, mut oracle, rt)) = support::oracle::setup(NAME) else {
        return;
    };
    let with_spark = spark::available(NAME);
    let scratch = tempfile::tempdir().expect("tempdir");
    let out = scratch.path().join("ours.parquet");
    let (mut rolled, mut refused) = (0, Vec::new());
    for (n, fx) in support::testdata_fixtures().into_iter().enumerate() {
        let copy = scratch.path().join(format!("fx{n}"));
        copy_tree(&fx.table, &copy);
        let mut readers = Readers {
            rt: &rt,
            oracle: &mut oracle,
            out: &out,
            spark: with_spark && spark_reads(&fx.name),
            hudi_rs: !fx.name.contains("pending_compaction_logs"),
        };
        let table = rt
            .block_on(Table::open(&copy.to_string_lossy()))
            .unwrap_or_else(|e| panic!("{}: {e}", fx.name));
        let writes: Vec<String> = table
            .timeline()
            .completed_writes()
            .map(|i| i.requested().to_string())
            .collect();
        // 1. Roll back the latest commit: the table reads as of the one before.
        let latest = writes.last().expect("a commit").clone();
        match rt.block_on(
            table
                .rollback()
                .with_instant(latest.parse().expect("instant"))
                .run(),
        ) {
            Ok(_) => {
                rolled += 1;
                if let Some(prev) = writes.iter().rev().nth(1) {
                    let as_of = json!({"as_of": prev});
                    match our_rows(&rt, readers.oracle, &fx.table, "as_of", &as_of, &out) {
                        Ok(want) => {
                            if readers.spark {
                                let theirs = spark::rows(&fx.table, "as_of", as_of.clone())
                                    .unwrap_or_else(|e| {
                                        panic!("{}: Spark as of {prev}: {e}", fx.name)
                                    });
                                assert!(theirs == want, "{}: Spark as of {prev}", fx.name);
                            }
                            readers.check(
                                &format!("{}: after our rollback of {latest}", fx.name),
                                &copy,
                                &want,
                            );
                        }
                        // The original's clean emptied reads as of it: nothing to compare.
                        Err(e) => assert!(e.contains("clean"), "{}: as of {prev}: {e}", fx.name),
                    }
                }
            }
            Err(e @ HudiError::Refused { .. }) => refused.push(format!("{}: {e}", fx.name)),
            Err(e) => panic!("{}: rollback of {latest}: {e}", fx.name),
        }
        // 2. Clean, retaining one commit: the snapshot stays.
        let before = readers.ours(&copy, "snapshot", json!({}));
        let table = rt.block_on(table.reload()).expect("reload");
        rt.block_on(table.clean().with_retained_commits(1).run())
            .unwrap_or_else(|e| panic!("{}: clean: {e}", fx.name));
        readers.check(&format!("{}: after our clean", fx.name), &copy, &before);
        // 3. Archive down to two commits.
        let table = rt.block_on(table.reload()).expect("reload");
        let archived = rt
            .block_on(
                table
                    .archive()
                    .with_option("hoodie.keep.min.commits", "2")
                    .with_option("hoodie.keep.max.commits", "3")
                    .with_option("hoodie.cleaner.commits.retained", "1")
                    .run(),
            )
            .unwrap_or_else(|e| panic!("{}: archive: {e}", fx.name));
        if let ArchiveOutcome::Archived { commits_left, .. } = &archived {
            assert!(*commits_left >= 2, "{}: {archived:?}", fx.name);
        }
        readers.check(&format!("{}: after our archival", fx.name), &copy, &before);
        // 4. Spark's cleaner runs after ours.
        if readers.spark {
            let name = format!("fxs_{n}");
            spark::sql(&format!(
                "CREATE TABLE IF NOT EXISTS {name} USING hudi LOCATION '{}'",
                copy.display()
            ))
            .unwrap_or_else(|e| panic!("{}: {e}", fx.name));
            spark::sql(&format!(
                "CALL run_clean(table => '{name}', retain_commits => 1)"
            ))
            .unwrap_or_else(|e| panic!("{}: Spark's clean after ours: {e}", fx.name));
            readers.check(&format!("{}: after Spark's clean", fx.name), &copy, &before);
        }
    }
    assert!(
        rolled >= 10,
        "only {rolled} fixtures rolled back; refused: {refused:?}"
    );
    println!(
        "services on Spark's fixtures: {rolled} rolled back; refused (with causes): {refused:#?}"
    );
}
