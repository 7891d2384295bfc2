//! Scenario steps of the table services besides compaction: clean, rollback, savepoints and
//! restore, by us and by Spark. Each applies its effect to the model and history and checks
//! every reader.

use hudi_core::services::clean::CleanRun;
use hudi_core::services::restore::RestoreOutcome;
use hudi_core::services::savepoint::SavepointInfo;
use hudi_core::table::maintenance::CleanBuilder;
use hudi_core::InstantTime;
use serde_json::{json, Value};

use super::{Scenario, Writer};
use crate::support::spark;

impl Scenario<'_> {
    /// Our clean, configured by `f`: the rows stay; every reader is checked.
    pub fn clean(&mut self, f: impl FnOnce(CleanBuilder) -> CleanBuilder) -> CleanRun {
        let b = f(self.table().clean());
        let run = self
            .ctx
            .rt
            .block_on(b.run())
            .unwrap_or_else(|e| panic!("{}: clean: {e}", self.what()));
        self.refresh();
        self.check("our clean");
        run
    }

    /// Spark's clustering (`statement`, a `CALL run_clustering(...)`): exactly one new replace
    /// commit of operation `cluster` that replaced file groups, in history as a service that
    /// keeps the rows; every reader is checked. Returns how many file groups it replaced.
    pub fn spark_clustering(&mut self, statement: &str) -> usize {
        let before = self.completed();
        self.spark_service(statement, false);
        let tl = self.table().timeline().clone();
        let new: Vec<_> = tl
            .completed_writes()
            .filter(|i| i.action() == hudi_core::model::Action::ReplaceCommit)
            .filter(|i| !before.contains(&i.requested().to_string()))
            .cloned()
            .collect();
        assert_eq!(
            new.len(),
            1,
            "{}: {statement}: replace commits {new:?}",
            self.what()
        );
        let meta = self
            .ctx
            .rt
            .block_on(tl.commit_metadata(&new[0].instant))
            .unwrap_or_else(|e| panic!("{}: clustering metadata: {e}", self.what()));
        let op = meta.operation_type.clone().unwrap_or_default();
        assert!(
            op.eq_ignore_ascii_case("cluster"),
            "{}: operation {op}",
            self.what()
        );
        let replaced = meta.replaced_file_ids().count();
        assert!(
            replaced > 0,
            "{}: clustering replaced no file group",
            self.what()
        );
        // A replace commit that keeps the rows: its reads as of it equal the model's.
        self.commits.push(super::Commit {
            instant: new[0].requested().to_string(),
            live: self.model.live.clone(),
            schema: self.schema.clone(),
            spark_as_of_differs: None,
        });
        replaced
    }

    /// Spark's `run_clean` with `args` (e.g. `retain_commits => 2`); returns its rows.
    pub fn spark_clean(&mut self, args: &str) -> Vec<Value> {
        let t = self.spark_table();
        let sql = format!("CALL run_clean(table => '{t}', {args})");
        let rows = spark::sql(&sql).unwrap_or_else(|e| panic!("{}: {sql}: {e}", self.what()));
        self.refresh();
        self.check(&format!("Spark's {sql}"));
        rows
    }

    /// Our rollback of the latest commit `instant`: the table reads as before it.
    pub fn rollback_latest(&mut self, instant: &str) {
        let last = self.commits.pop().expect("a commit to roll back");
        assert_eq!(last.instant, instant, "only the latest commit rolls back");
        let t: InstantTime = instant.parse().expect("instant");
        let out = self
            .ctx
            .rt
            .block_on(self.table().rollback().with_instant(t.clone()).run())
            .unwrap_or_else(|e| panic!("{}: rollback of {instant}: {e}", self.what()));
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].rolled_back, t);
        self.refresh();
        assert!(
            !self
                .table()
                .timeline()
                .instants()
                .iter()
                .any(|i| i.requested() == &t),
            "{}: {instant} is still on the timeline",
            self.what()
        );
        self.model.live = self
            .commits
            .last()
            .map(|c| c.live.clone())
            .unwrap_or_default();
        self.model.base = None;
        self.check(&format!("our rollback of {instant}"));
    }

    /// Our savepoint of the completed commit `instant`.
    pub fn savepoint(&mut self, instant: &str) -> SavepointInfo {
        let t: InstantTime = instant.parse().expect("instant");
        let info = self
            .ctx
            .rt
            .block_on(
                self.table()
                    .savepoint()
                    .with_instant(t)
                    .with_comments("scenario")
                    .create(),
            )
            .unwrap_or_else(|e| panic!("{}: savepoint of {instant}: {e}", self.what()));
        self.refresh();
        info
    }

    /// Spark's `create_savepoint` of `instant`.
    pub fn spark_savepoint(&mut self, instant: &str) {
        let t = self.spark_table();
        let sql = format!("CALL create_savepoint(table => '{t}', commit_time => '{instant}')");
        let rows = spark::sql(&sql).unwrap_or_else(|e| panic!("{}: {sql}: {e}", self.what()));
        assert!(
            rows.iter()
                .any(|r| r["create_savepoint_result"] == json!(true)),
            "{}: {sql} returned {rows:?}",
            self.what()
        );
        self.refresh();
    }

    /// Our restore (`Writer::Ours`) or Spark's `rollback_to_savepoint` of the savepoint
    /// `sp`: the table reads as of it, and the commits after it leave the history.
    pub fn restore(&mut self, who: Writer, sp: &str) -> Option<RestoreOutcome> {
        let out = match who {
            Writer::Ours => {
                let t: InstantTime = sp.parse().expect("instant");
                Some(
                    self.ctx
                        .rt
                        .block_on(self.table().restore(t).run())
                        .unwrap_or_else(|e| panic!("{}: restore to {sp}: {e}", self.what())),
                )
            }
            Writer::Spark => {
                let t = self.spark_table();
                let sql =
                    format!("CALL rollback_to_savepoint(table => '{t}', instant_time => '{sp}')");
                let rows =
                    spark::sql(&sql).unwrap_or_else(|e| panic!("{}: {sql}: {e}", self.what()));
                assert!(
                    rows.iter()
                        .any(|r| r["rollback_savepoint_result"] == json!(true)),
                    "{}: {sql} returned {rows:?}",
                    self.what()
                );
                None
            }
        };
        self.refresh();
        let keep = self
            .commits
            .iter()
            .position(|c| c.instant.as_str() > sp)
            .unwrap_or(self.commits.len());
        self.commits.truncate(keep);
        let at = self.commits.last().expect("the savepoint's commit");
        assert_eq!(at.instant, sp, "{}: restore to a non-commit", self.what());
        self.model.live = at.live.clone();
        self.model.base = None;
        self.check(&format!("the restore to {sp}"));
        out
    }
}
