//! The one scenario runner: a table spec, then steps (writes by us or by Spark, crashed
//! writes, Spark procedures), an independent model of what the table holds, and after every
//! step the readers (ours, hudi-rs, Spark) checked against the model; at the end every commit's
//! as-of and incremental reads.

use std::collections::BTreeMap;
use std::path::PathBuf;

use arrow::datatypes::{Field, Schema, SchemaRef};
use hudi_core::keygen::KeyGenKind;
use hudi_core::model::Action;
use hudi_core::write::config::IndexType;
use hudi_core::{InstantTime, Table, WriteOperation};
use serde_json::{json, Value};

mod steps;

use super::data::{self, Row};
use super::oracle::Oracle;
use super::spark;
use super::spec::TableSpec;

/// Who performs a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writer {
    Ours,
    Spark,
}

/// A reader whose output is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reader {
    Ours,
    HudiRs,
    Spark,
}

/// What every scenario of a test shares: the hudi-rs oracle, a runtime, whether Spark runs,
/// and the count of checks per reader.
pub struct Ctx {
    pub oracle: Oracle,
    pub rt: tokio::runtime::Runtime,
    pub spark: bool,
    pub checks: BTreeMap<Reader, usize>,
    pub spark_writes: usize,
    pub scratch: tempfile::TempDir,
}

impl Ctx {
    /// The context of `test`, or `None` (printed) when the shared oracles are missing.
    pub fn setup(test: &str) -> Option<Ctx> {
        let (_, oracle, rt) = super::oracle::setup(test)?;
        let spark = spark::available(test);
        let mut scratch = tempfile::tempdir().expect("tempdir");
        if std::env::var_os("HUDI_KEEP_SCRATCH").is_some() {
            // For a post-mortem of a failed test: the tables stay.
            scratch.disable_cleanup(true);
            eprintln!("{test}: tables kept under {}", scratch.path().display());
        }
        Some(Ctx {
            oracle,
            rt,
            spark,
            checks: BTreeMap::new(),
            spark_writes: 0,
            scratch,
        })
    }

    /// One line for the test output: checks per reader.
    pub fn summary(&self) -> String {
        let parts: Vec<String> = self
            .checks
            .iter()
            .map(|(r, n)| format!("{r:?} {n}"))
            .collect();
        format!(
            "{} passed, 0 failed (reads checked: {}; {} Spark writes)",
            self.checks.values().sum::<usize>(),
            parts.join(", "),
            self.spark_writes
        )
    }
}

/// A record as the model holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub partition: String,
    pub key: String,
    pub commit: String,
    pub row: Row,
}

/// What the table holds: live records by identity (key, and partition unless the index is
/// global), and, while it is known, what base files hold (merge-on-read read-optimized view).
#[derive(Debug, Clone, Default)]
pub struct Model {
    pub live: BTreeMap<(String, String), Entry>,
    pub base: Option<BTreeMap<(String, String), Entry>>,
}

impl Model {
    /// A compaction of every slice: the base files hold every live row.
    pub fn compacted(&mut self) {
        let all = self.live.values();
        self.base = Some(
            all.map(|e| ((e.partition.clone(), e.key.clone()), e.clone()))
                .collect(),
        );
    }
}

/// A completed commit: its instant, the table as of it and its data columns then.
#[derive(Debug, Clone)]
pub struct Commit {
    pub instant: String,
    pub live: BTreeMap<(String, String), Entry>,
    pub schema: SchemaRef,
    /// Why Spark's as-of read of this instant is known to differ from the model, if it is.
    pub spark_as_of_differs: Option<&'static str>,
}

pub struct Scenario<'c> {
    pub ctx: &'c mut Ctx,
    pub spec: TableSpec,
    pub path: PathBuf,
    /// The table as last loaded (`None` until a Spark-created table's first write).
    table: Option<Table>,
    pub model: Model,
    pub commits: Vec<Commit>,
    /// The table's data columns so far: those of the spec's schema that some write carried
    /// (schema evolution adds a column by writing rows that have it).
    pub schema: SchemaRef,
    /// Readers checked after each step.
    pub readers: Vec<Reader>,
    /// The commit before the first of `commits`, once older ones are forgotten (cleaned).
    history_start: Option<String>,
    /// A crashed write awaits its rollback by the next writer.
    crash_pending: bool,
    inputs: usize,
}

fn identity(spec: &TableSpec, partition: &str, key: &str) -> (String, String) {
    if spec.global() {
        (String::new(), key.to_string())
    } else {
        (partition.to_string(), key.to_string())
    }
}

/// Compares a reader's rows with the expected ones; fails naming the first difference.
pub fn assert_rows(what: &str, got: &[Value], want: &[Value]) {
    if got == want {
        return;
    }
    let first = (0..got.len().max(want.len())).find(|i| got.get(*i) != want.get(*i));
    let show = |v: Option<&Value>| v.map_or("(none)".to_string(), Value::to_string);
    panic!(
        "{what}: {} rows read, {} expected; first difference at row {}:\n  read     {}\n  expected {}",
        got.len(),
        want.len(),
        first.unwrap_or(0),
        show(first.and_then(|i| got.get(i))),
        show(first.and_then(|i| want.get(i))),
    );
}

impl<'c> Scenario<'c> {
    /// Creates the spec's table (with our builder) in a fresh directory of the context.
    pub fn new(ctx: &'c mut Ctx, spec: TableSpec) -> Self {
        Self::created_by(ctx, spec, Writer::Ours)
    }

    /// A scenario whose table `who` creates: we with our builder now, Spark with its first
    /// write (a table Spark made, with Spark's `hoodie.properties`).
    pub fn created_by(ctx: &'c mut Ctx, spec: TableSpec, who: Writer) -> Self {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = ctx.scratch.path().join(format!("{}-{n}", spec.name));
        let _ = std::fs::remove_dir_all(&path);
        let table = match who {
            Writer::Ours => Some(ctx.rt.block_on(spec.create(&path))),
            Writer::Spark => None,
        };
        let mut readers = vec![Reader::Ours, Reader::HudiRs];
        if ctx.spark {
            readers.push(Reader::Spark);
        }
        let model = Model {
            live: BTreeMap::new(),
            base: spec.mor.then(BTreeMap::new),
        };
        Scenario {
            schema: std::sync::Arc::new(Schema::empty()),
            ctx,
            spec,
            path,
            table,
            model,
            commits: Vec::new(),
            readers,
            history_start: None,
            crash_pending: false,
            inputs: 0,
        }
    }

    /// The table as last loaded.
    pub fn table(&self) -> &Table {
        self.table
            .as_ref()
            .unwrap_or_else(|| panic!("{}: the table is not created yet", self.what()))
    }

    /// Loads the table as it is on storage now.
    pub fn refresh(&mut self) {
        let t = self
            .ctx
            .rt
            .block_on(Table::open(&self.path.to_string_lossy()))
            .unwrap_or_else(|e| panic!("open {}: {e}", self.path.display()));
        self.table = Some(t);
    }

    fn what(&self) -> String {
        format!("{} ({})", self.spec.name, self.path.display())
    }

    /// The canonical rows `reader` must return for entries, in the current schema.
    pub fn expected<'a>(
        &self,
        reader: Reader,
        entries: impl Iterator<Item = &'a Entry>,
    ) -> Vec<Value> {
        self.expected_in(reader, "snapshot", &self.schema, entries)
    }

    /// The canonical rows `reader` must return for entries, with the columns of `schema`.
    /// Spark's datasource reads the partition column of a timestamp-based key generator from
    /// the partition path (Apache Hudi 0.15 does so on Spark-written tables too): it shows the
    /// formatted partition value, where hudi-rs and we show the stored one (its copy-on-write
    /// incremental reads show the stored one too).
    pub fn expected_in<'a>(
        &self,
        reader: Reader,
        mode: &str,
        schema: &SchemaRef,
        entries: impl Iterator<Item = &'a Entry>,
    ) -> Vec<Value> {
        let cow_incremental = mode == "incremental" && !self.spec.mor;
        let from_path = if reader == Reader::Spark && !cow_incremental {
            self.spec.timestamp_partition_fields()
        } else {
            Vec::new()
        };
        let mut out: Vec<Value> = entries
            .map(|e| {
                let mut r = data::complete(schema, e.row.clone());
                for f in &from_path {
                    let v = self
                        .spec
                        .timestamp_partition(r.get(f).unwrap_or(&Value::Null));
                    // The timestamp generator's column becomes a string; the custom
                    // generator's keeps its type, parsed from the path.
                    let v = match self.spec.keygen {
                        KeyGenKind::Custom => v.parse::<i64>().map_or(json!(v), |n| json!(n)),
                        _ => json!(v),
                    };
                    r.insert(f.clone(), v);
                }
                r.insert("_hoodie_commit_time".into(), json!(e.commit));
                r.insert("_hoodie_partition_path".into(), json!(e.partition));
                r.insert("_hoodie_record_key".into(), json!(e.key));
                Value::Object(r)
            })
            .collect();
        out.sort_by_key(|v| v.to_string());
        out
    }

    /// Rows `reader` returns in `mode` ("snapshot", "read_optimized", "as_of", "incremental"
    /// with `as_of`/`start`/`end` in `extra`).
    pub fn read(&mut self, reader: Reader, mode: &str, extra: Value) -> Vec<Value> {
        let what = format!(
            "{} read of {} ({mode} {extra})",
            self.what(),
            reader_name(reader)
        );
        let got = match reader {
            Reader::HudiRs => self.ctx.oracle.rows(&self.path, mode, extra),
            Reader::Spark => spark::rows(&self.path, mode, extra)
                .unwrap_or_else(|e| panic!("Spark failed the {what}: {e}")),
            Reader::Ours => self.our_rows(mode, &extra),
        };
        *self.ctx.checks.entry(reader).or_default() += 1;
        got
    }

    fn our_rows(&mut self, mode: &str, extra: &Value) -> Vec<Value> {
        let table = self.table().clone();
        let t = |k: &str| {
            extra[k]
                .as_str()
                .filter(|s| !s.trim_start_matches('0').is_empty())
                .map(|s| s.parse::<InstantTime>().expect("instant"))
        };
        let read = match mode {
            "read_optimized" => table.read().with_read_optimized(),
            "as_of" => table.read().with_as_of(t("as_of").expect("as_of")),
            "incremental" => table.read().with_incremental(t("start"), t("end")),
            _ => table.read(),
        };
        let (schema, batches) = self.ctx.rt.block_on(read.collect()).unwrap_or_else(|e| {
            panic!("our reader failed ({mode} {extra}) on {}: {e}", self.what())
        });
        let out = self.ctx.scratch.path().join("ours.parquet");
        data::write_parquet(&out, &schema, &batches);
        self.ctx.oracle.file_rows(&out)
    }

    /// Every reader's snapshot equals the model; on merge-on-read tables every reader's
    /// read-optimized view equals the model's base files (or, once unknown, each other's).
    pub fn check(&mut self, after: &str) {
        self.verify(after);
        for r in self.readers.clone() {
            let want = self.expected(r, self.model.live.values());
            let got = self.read(r, "snapshot", json!({}));
            assert_rows(
                &format!("{} after {after}: {} snapshot", self.what(), reader_name(r)),
                &got,
                &want,
            );
        }
        if !self.spec.mor {
            return;
        }
        let mut first: Option<(Reader, Vec<Value>)> = None;
        for r in self.readers.clone() {
            let got = self.read(r, "read_optimized", json!({}));
            let what = format!(
                "{} after {after}: {} read-optimized",
                self.what(),
                reader_name(r)
            );
            match (&self.model.base, &first) {
                (Some(base), _) => assert_rows(&what, &got, &self.expected(r, base.values())),
                (None, Some((r0, rows))) => assert_rows(
                    &format!("{what} (against {})", reader_name(*r0)),
                    &got,
                    rows,
                ),
                (None, None) => {}
            }
            if first.is_none() {
                first = Some((r, got));
            }
        }
    }

    /// `hudi verify`'s checks find nothing wrong (warnings, such as keys an insert wrote
    /// twice, are allowed).
    fn verify(&self, after: &str) {
        use hudi_core::services::verify::{verify, VerifyOptions};
        let report = self.ctx.rt.block_on(async {
            let t = Table::open(&self.path.to_string_lossy()).await?;
            verify(&t, VerifyOptions::default()).await
        });
        let report =
            report.unwrap_or_else(|e| panic!("{} after {after}: verify: {e}", self.what()));
        assert!(
            report.is_healthy(),
            "{} after {after}: verify found {:#?}",
            self.what(),
            report.findings
        );
    }

    fn input_file(&mut self, rows: &[Row]) -> PathBuf {
        self.inputs += 1;
        let p = self
            .ctx
            .scratch
            .path()
            .join(format!("{}-input-{}.parquet", self.spec.name, self.inputs));
        let schema = self.input_schema(rows);
        data::write_parquet(&p, &schema, &[data::batch(&schema, rows)]);
        p
    }

    /// The columns of a write of `rows`: the table's columns so far and those the rows carry,
    /// in the spec's order.
    fn input_schema(&self, rows: &[Row]) -> SchemaRef {
        let fields: Vec<Field> = self
            .spec
            .schema
            .fields()
            .iter()
            .filter(|f| {
                self.schema.field_with_name(f.name()).is_ok()
                    || rows.iter().any(|r| r.contains_key(f.name()))
            })
            .map(|f| f.as_ref().clone())
            .collect();
        std::sync::Arc::new(Schema::new(fields))
    }

    /// Runs a write by `who`, applies it to the model and checks every reader.
    pub fn write(&mut self, who: Writer, op: WriteOperation, rows: Vec<Row>) -> String {
        self.write_with(who, op, rows, &[], &[])
    }

    /// A write with partitions to drop (delete_partition) and extra write options.
    pub fn write_with(
        &mut self,
        who: Writer,
        op: WriteOperation,
        rows: Vec<Row>,
        partitions: &[&str],
        options: &[(&str, &str)],
    ) -> String {
        let before = self.completed();
        let instant = self.run_write(who, op, &rows, partitions, options);
        if !rows.is_empty() {
            self.schema = self.input_schema(&rows);
        }
        self.apply(who, op, &rows, partitions, &instant);
        // Java's log scanner stops at the first block newer than an as-of instant: the
        // command block with which Spark's write rolled back a crashed delta commit (its
        // rollback instant is later than the write's own) hides the write from Spark's as-of
        // read of the write's instant. The model, our reader and hudi-rs see the write.
        let spark_as_of_differs = (who == Writer::Spark && self.spec.mor && self.crash_pending)
            .then_some("Spark's eager rollback block is newer than its write");
        self.crash_pending = false;
        self.commits.push(Commit {
            instant: instant.clone(),
            live: self.model.live.clone(),
            schema: self.schema.clone(),
            spark_as_of_differs,
        });
        // Services a writer ran inline (Spark compacts merge-on-read tables every 5 delta
        // commits by default) keep the rows: their instants read as the write's.
        self.record_services(&before, &instant);
        self.check(&format!("{who:?} {op:?} {instant}"));
        instant
    }

    /// A write whose effect the test states itself (`expect` updates the model), for the
    /// cases where Hudi's rule depends on where records sit (log records against deletes).
    pub fn write_expecting(
        &mut self,
        who: Writer,
        op: WriteOperation,
        rows: Vec<Row>,
        expect: impl FnOnce(&mut Model),
    ) -> String {
        let before = self.completed();
        let instant = self.run_write(who, op, &rows, &[], &[]);
        self.schema = self.input_schema(&rows);
        expect(&mut self.model);
        self.commits.push(Commit {
            instant: instant.clone(),
            live: self.model.live.clone(),
            schema: self.schema.clone(),
            spark_as_of_differs: None,
        });
        self.record_services(&before, &instant);
        self.check(&format!("{who:?} {op:?} {instant}"));
        instant
    }

    /// Completed write instants (data writes and services) on the timeline now.
    fn completed(&self) -> Vec<String> {
        let Some(table) = &self.table else {
            return Vec::new();
        };
        table
            .timeline()
            .completed_writes()
            .map(|i| i.requested().to_string())
            .collect()
    }

    /// Adds every completed compaction or clustering instant not in `before` (other than
    /// `write`) to the history, with the model as it is; returns how many.
    fn record_services(&mut self, before: &[String], write: &str) -> usize {
        let services: Vec<(String, Action)> = self
            .table()
            .timeline()
            .completed_writes()
            .filter(|i| i.planned_action.is_write() && !is_data_write(i.planned_action))
            .map(|i| (i.requested().to_string(), i.planned_action))
            .filter(|(t, _)| t != write && !before.contains(t))
            .collect();
        // A compaction after the write (inline, or Spark's) compacted what the write left:
        // base files then hold every live row.
        if services.iter().any(|(_, a)| *a == Action::Compaction) && self.spec.mor {
            self.model.compacted();
        }
        let services: Vec<String> = services.into_iter().map(|(t, _)| t).collect();
        let n = services.len();
        for t in services {
            self.commits.push(Commit {
                instant: t,
                live: self.model.live.clone(),
                schema: self.schema.clone(),
                spark_as_of_differs: None,
            });
        }
        n
    }

    /// Performs a write without touching the model; returns its instant.
    pub fn run_write(
        &mut self,
        who: Writer,
        op: WriteOperation,
        rows: &[Row],
        partitions: &[&str],
        options: &[(&str, &str)],
    ) -> String {
        let what = format!("{} {who:?} {op:?}", self.what());
        match who {
            Writer::Ours => {
                let schema = self.input_schema(rows);
                let input = if rows.is_empty() {
                    vec![]
                } else {
                    vec![data::batch(&schema, rows)]
                };
                let mut w = self
                    .table()
                    .write(op)
                    .with_partitions(partitions.iter().map(|s| s.to_string()).collect())
                    // The index is a writer's choice (Spark's tables do not store it).
                    .with_option("hoodie.index.type", self.spec.index.name())
                    .with_options(self.spec.options.clone());
                if self.spec.keygen == KeyGenKind::Custom {
                    // Version-6 tables keep the custom generator's field types in the
                    // writer's options only (Spark's do not store them at all).
                    w = w.with_option(
                        "hoodie.datasource.write.partitionpath.field",
                        self.spec.partition_by.join(","),
                    );
                }
                for (k, v) in options {
                    w = w.with_option(*k, *v);
                }
                let m = self
                    .ctx
                    .rt
                    .block_on(w.execute_batches(input))
                    .unwrap_or_else(|e| panic!("{what}: {e}"));
                self.refresh();
                m.instant.to_string()
            }
            Writer::Spark => {
                assert!(self.ctx.spark, "{what}: Spark is not available");
                let input = self.input_file(rows);
                let mut o = self.spec.spark_options(op);
                if !partitions.is_empty() {
                    o.insert(
                        "hoodie.datasource.write.partitions.to.delete".into(),
                        partitions.join(","),
                    );
                }
                for (k, v) in options {
                    o.insert(k.to_string(), v.to_string());
                }
                spark::write(&self.path, &input, &o).unwrap_or_else(|e| panic!("{what}: {e}"));
                self.ctx.spark_writes += 1;
                let before = self.completed();
                self.refresh();
                // The write's own instant: the newest data write (not an inline service).
                self.table()
                    .timeline()
                    .completed_writes()
                    .filter(|i| is_data_write(i.planned_action))
                    .map(|i| i.requested().to_string())
                    .filter(|t| !before.contains(t))
                    .last()
                    .unwrap_or_else(|| panic!("{what}: no new completed write on the timeline"))
            }
        }
    }

    /// Applies a completed write to the model, as Hudi's semantics say.
    fn apply(
        &mut self,
        who: Writer,
        op: WriteOperation,
        rows: &[Row],
        partitions: &[&str],
        ct: &str,
    ) {
        let spec = &self.spec;
        let entry = |r: &Row| Entry {
            partition: spec.partition_path(r),
            key: spec.record_key(r),
            commit: ct.to_string(),
            row: r.clone(),
        };
        let deleted = |r: &Row| r.get("_hoodie_is_deleted") == Some(&json!(true));
        // A write by Spark, or any write with a bucket index, leaves where records sit in
        // base and log files to Spark's routing: the read-optimized view is then checked
        // reader against reader.
        let ours_routed = who == Writer::Ours;
        let bucket = spec.index == IndexType::Bucket;
        let live = &mut self.model.live;
        let mut base = self.model.base.take();
        if !ours_routed {
            base = None;
        }
        // A bulk insert starts new buckets with base files, as Spark's does, and appends to
        // the logs of existing ones: into an empty table every record goes to a base file;
        // otherwise placement is left to the readers to agree on.
        let fresh_buckets = op == WriteOperation::BulkInsert && bucket && live.is_empty();
        if op == WriteOperation::BulkInsert && bucket && !fresh_buckets {
            base = None;
        }
        match op {
            WriteOperation::BulkInsert | WriteOperation::Insert => {
                for r in rows.iter().filter(|r| !deleted(r)) {
                    let e = entry(r);
                    let id = identity(spec, &e.partition, &e.key);
                    assert!(
                        !live.contains_key(&id),
                        "test data: an insert of the existing key {id:?}"
                    );
                    // Other writes send every record of a bucket-indexed merge-on-read
                    // table to its bucket's log.
                    if let Some(b) = base.as_mut().filter(|_| !bucket || fresh_buckets) {
                        b.insert((e.partition.clone(), e.key.clone()), e.clone());
                    }
                    live.insert(id, e);
                }
            }
            WriteOperation::Upsert => {
                // Deduplicate the batch: the greatest ordering value wins, ties the later row.
                let dt = spec.ordering_type();
                let mut winners: BTreeMap<(String, String), Entry> = BTreeMap::new();
                for r in rows {
                    let e = entry(r);
                    let id = identity(spec, &e.partition, &e.key);
                    let keep_old = match (&dt, winners.get(&id)) {
                        (Some(dt), Some(w)) => {
                            let f = spec.precombine.as_deref().unwrap_or_default();
                            data::ordering_cmp(
                                dt,
                                w.row.get(f).unwrap_or(&Value::Null),
                                r.get(f).unwrap_or(&Value::Null),
                            ) == std::cmp::Ordering::Greater
                        }
                        _ => false,
                    };
                    if !keep_old {
                        winners.insert(id, e);
                    }
                }
                for (id, e) in winners {
                    let old = live.get(&id).cloned();
                    if deleted(&e.row) {
                        live.remove(&id);
                        continue;
                    }
                    let moved = old.as_ref().is_some_and(|o| o.partition != e.partition);
                    if let Some(b) = base.as_mut() {
                        if !bucket && (old.is_none() || moved) {
                            b.insert((e.partition.clone(), e.key.clone()), e.clone());
                        }
                    }
                    live.insert(id, e);
                }
            }
            WriteOperation::Delete => {
                for r in rows {
                    let e = entry(r);
                    live.remove(&identity(spec, &e.partition, &e.key));
                }
            }
            WriteOperation::InsertOverwrite | WriteOperation::InsertOverwriteTable => {
                let parts: Vec<String> = rows.iter().map(|r| spec.partition_path(r)).collect();
                let table_wide = op == WriteOperation::InsertOverwriteTable;
                live.retain(|_, e| !table_wide && !parts.contains(&e.partition));
                if let Some(b) = base.as_mut() {
                    b.retain(|(p, _), _| !table_wide && !parts.contains(p));
                }
                for r in rows.iter().filter(|r| !deleted(r)) {
                    let e = entry(r);
                    if let Some(b) = base.as_mut() {
                        b.insert((e.partition.clone(), e.key.clone()), e.clone());
                    }
                    live.insert(identity(spec, &e.partition, &e.key), e);
                }
            }
            WriteOperation::DeletePartition => {
                live.retain(|_, e| !partitions.contains(&e.partition.as_str()));
                if let Some(b) = base.as_mut() {
                    b.retain(|(p, _), _| !partitions.contains(&p.as_str()));
                }
            }
        }
        self.model.base = base;
    }

    /// A write by us that crashes before it completes: its files stay (with their markers),
    /// its completed instant file is removed. The model is unchanged; readers must not see it.
    pub fn crashed_write(&mut self, op: WriteOperation, rows: Vec<Row>) -> String {
        let instant = self.run_write(Writer::Ours, op, &rows, &[], &[]);
        let hoodie = self.path.join(".hoodie");
        let completed = std::fs::read_dir(&hoodie)
            .expect("list .hoodie")
            .flatten()
            .map(|e| e.path())
            .find(|p| {
                p.file_name().is_some_and(|n| {
                    let n = n.to_string_lossy();
                    n.starts_with(&instant) && !n.contains("requested") && !n.contains("inflight")
                })
            })
            .unwrap_or_else(|| panic!("no completed file of {instant}"));
        let meta: Value =
            serde_json::from_slice(&std::fs::read(&completed).expect("read commit")).expect("json");
        std::fs::remove_file(&completed).expect("crash");
        self.crash_pending = true;
        for stats in meta["partitionToWriteStats"]
            .as_object()
            .expect("stats")
            .values()
        {
            for s in stats.as_array().expect("stat list") {
                let rel = s["path"].as_str().expect("path");
                let kind = if rel.contains(".log.") {
                    "APPEND"
                } else if s["prevCommit"].as_str().unwrap_or("null") == "null" {
                    "CREATE"
                } else {
                    "MERGE"
                };
                let marker = hoodie.join(format!(".temp/{instant}/{rel}.marker.{kind}"));
                std::fs::create_dir_all(marker.parent().expect("parent")).expect("mkdir");
                std::fs::write(&marker, b"").expect("marker");
            }
        }
        self.refresh();
        self.check(&format!("the crashed write {instant}"));
        instant
    }

    /// Runs a Spark SQL statement (a Hudi procedure) on this table; `{path}` in it is the
    /// table's path. Services keep the rows: the model is unchanged, every instant the
    /// statement completed joins the history, and the readers are checked. `compacts_all`:
    /// every file slice is compacted afterwards, so the read-optimized view is the snapshot.
    pub fn spark_service(&mut self, statement: &str, compacts_all: bool) -> Vec<Value> {
        let sql = statement.replace("{path}", &self.path.to_string_lossy());
        let before = self.completed();
        let out = spark::sql(&sql).unwrap_or_else(|e| panic!("{}: {sql}: {e}", self.what()));
        self.refresh();
        let services = self.record_services(&before, "");
        assert!(
            !compacts_all || services > 0,
            "{}: {sql} completed no compaction or clustering",
            self.what()
        );
        if !compacts_all {
            // Clustering and cleaning move records between base and log files.
            self.model.base = None;
        } else if self.spec.mor {
            self.model.compacted();
        }
        self.check(&format!("Spark's {sql}"));
        out
    }

    /// Our compaction (scheduled whether due or not, then run): the model is unchanged, the
    /// compaction joins the history, every slice compacted means the read-optimized view is
    /// the snapshot.
    pub fn compact(
        &mut self,
        options: &[(&str, &str)],
    ) -> hudi_core::services::compaction::CompactionOutcome {
        let mut b = self.table().compaction().with_force(true);
        for (k, v) in options {
            b = b.with_option(*k, *v);
        }
        let (scheduled, ran) = self
            .ctx
            .rt
            .block_on(b.schedule_and_run())
            .unwrap_or_else(|e| panic!("{}: compaction: {e}", self.what()));
        let out =
            ran.unwrap_or_else(|| panic!("{}: nothing compacted: {scheduled:?}", self.what()));
        self.refresh();
        self.commits.push(Commit {
            instant: out.instant.to_string(),
            live: self.model.live.clone(),
            schema: self.schema.clone(),
            spark_as_of_differs: None,
        });
        self.model.compacted();
        self.check(&format!("our compaction {}", out.instant));
        out
    }

    /// The name of this table in Spark's catalog (registered on first use over the table's
    /// location; procedures such as `run_clean` and SQL DML need a catalog table).
    pub fn spark_table(&mut self) -> String {
        let name = format!(
            "t_{}",
            self.path
                .file_name()
                .map(|n| n.to_string_lossy().replace('-', "_"))
                .unwrap_or_default()
        );
        let sql = format!(
            "CREATE TABLE IF NOT EXISTS {name} USING hudi LOCATION '{}'",
            self.path.display()
        );
        spark::sql(&sql).unwrap_or_else(|e| panic!("{}: {sql}: {e}", self.what()));
        name
    }

    /// Runs Spark SQL DML (`UPDATE {table} ...`, `DELETE FROM {table} ...`, `MERGE INTO`) on
    /// this table; `expect` applies its effect to the model, given the new commit's instant.
    pub fn spark_dml(&mut self, statement: &str, expect: impl FnOnce(&mut Model, &str)) -> String {
        let table = self.spark_table();
        let sql = statement.replace("{table}", &table);
        let before = self.completed();
        spark::sql(&sql).unwrap_or_else(|e| panic!("{}: {sql}: {e}", self.what()));
        self.ctx.spark_writes += 1;
        self.refresh();
        let instant = self
            .table()
            .timeline()
            .completed_writes()
            .filter(|i| is_data_write(i.planned_action))
            .map(|i| i.requested().to_string())
            .filter(|t| !before.contains(t))
            .last()
            .unwrap_or_else(|| panic!("{}: {sql} committed nothing", self.what()));
        self.model.base = None;
        expect(&mut self.model, &instant);
        self.commits.push(Commit {
            instant: instant.clone(),
            live: self.model.live.clone(),
            schema: self.schema.clone(),
            spark_as_of_differs: None,
        });
        self.record_services(&before, &instant);
        self.check(&format!("Spark's {sql}"));
        instant
    }

    /// Keeps only the last `keep` commits in the history (older ones were cleaned: their as-of
    /// reads are gone); incremental reads start after the last one forgotten.
    pub fn forget_history(&mut self, keep: usize) {
        let n = self.commits.len().saturating_sub(keep);
        if let Some(last) = self.commits.drain(..n).next_back() {
            self.history_start = Some(last.instant);
        }
    }

    /// Spark's `rollback_to_instant` of the latest commit `instant`: the table reads as before
    /// it.
    pub fn spark_rollback(&mut self, instant: &str) {
        let last = self.commits.pop().expect("a commit to roll back");
        assert_eq!(last.instant, instant, "only the latest commit rolls back");
        let t = self.spark_table();
        let sql = format!("CALL rollback_to_instant(table => '{t}', instant_time => '{instant}')");
        let rows = spark::sql(&sql).unwrap_or_else(|e| panic!("{}: {sql}: {e}", self.what()));
        assert!(
            rows.iter().any(|r| r["rollback_result"] == json!(true)),
            "{}: {sql} returned {rows:?}",
            self.what()
        );
        self.refresh();
        self.model.live = self
            .commits
            .last()
            .map(|c| c.live.clone())
            .unwrap_or_default();
        self.model.base = None;
        self.check(&format!("Spark's rollback of {instant}"));
    }

    /// As-of every commit, and incremental between consecutive commits, by every reader. A
    /// time-travel read has the columns the table had then (Apache Hudi; hudi-rs reads every
    /// instant with the latest schema).
    pub fn check_history(&mut self) {
        let commits = self.commits.clone();
        let mut prev: Option<String> = self.history_start.clone();
        self.refresh();
        let timeline = self.table().timeline().clone();
        let cleaned_before = self
            .ctx
            .rt
            .block_on(timeline.clean_retained_from())
            .expect("clean metadata");
        // Spark's own floor: the last clean's earliest retained commit as recorded, even if a
        // rollback or restore has removed it since.
        let spark_floor: Option<InstantTime> = self
            .ctx
            .rt
            .block_on(timeline.last_clean())
            .expect("clean metadata")
            .and_then(|(_, m)| m.earliest_commit_to_retain.parse().ok());
        for c in &commits {
            let t: InstantTime = c.instant.parse().expect("instant");
            let cleaned = cleaned_before.as_ref().is_some_and(|e| &t < e);
            if cleaned && timeline.is_savepoint(&t) {
                // Its files are kept: we and hudi-rs read it; Spark refuses every read as of
                // a cleaned instant, savepoints included.
                for r in self.readers.clone() {
                    if r == Reader::Spark {
                        continue;
                    }
                    let then = if r == Reader::HudiRs {
                        self.schema.clone()
                    } else {
                        c.schema.clone()
                    };
                    let want = self.expected_in(r, "as_of", &then, c.live.values());
                    let got = self.read(r, "as_of", json!({"as_of": c.instant}));
                    assert_rows(
                        &format!(
                            "{}: {} as of the savepoint {t}",
                            self.what(),
                            reader_name(r)
                        ),
                        &got,
                        &want,
                    );
                }
                prev = Some(c.instant.clone());
                continue;
            }
            if cleaned {
                // A clean may have deleted its files: every reader refuses (hudi-rs aside,
                // which does not look at cleans).
                let table = self.table().clone();
                let e = self
                    .ctx
                    .rt
                    .block_on(table.read().with_as_of(t.clone()).collect())
                    .err()
                    .unwrap_or_else(|| {
                        panic!("{}: our read as of the cleaned {t} succeeded", self.what())
                    });
                assert!(e.to_string().contains("clean"), "{e}");
                prev = Some(c.instant.clone());
                continue;
            }
            let start = prev.clone().unwrap_or_else(|| "000".into());
            let changed: Vec<Entry> = c
                .live
                .values()
                .filter(|e| e.commit == c.instant)
                .cloned()
                .collect();
            for r in self.readers.clone() {
                let then = if r == Reader::HudiRs {
                    self.schema.clone()
                } else {
                    c.schema.clone()
                };
                let want = &self.expected_in(r, "as_of", &then, c.live.values());
                let want_inc = self.expected_in(r, "incremental", &self.schema, changed.iter());
                if r == Reader::Spark && spark_floor.as_ref().is_some_and(|f| &t < f) {
                    // Spark refuses: its floor was rolled back, ours moved to the commit before.
                    continue;
                }
                let got = self.read(r, "as_of", json!({"as_of": c.instant}));
                if let (Reader::Spark, Some(why)) = (r, c.spark_as_of_differs) {
                    if got != *want {
                        println!(
                            "{}: Spark as of {} differs, as known: {why}",
                            self.what(),
                            c.instant
                        );
                    }
                    continue;
                }
                assert_rows(
                    &format!("{}: {} as of {}", self.what(), reader_name(r), c.instant),
                    &got,
                    want,
                );
                let got = self.read(r, "incremental", json!({"start": start, "end": c.instant}));
                assert_rows(
                    &format!(
                        "{}: {} incremental ({start}, {}]",
                        self.what(),
                        reader_name(r),
                        c.instant
                    ),
                    &got,
                    &want_inc,
                );
            }
            prev = Some(c.instant.clone());
        }
    }
}

/// Whether an instant of this (planned) action writes new data rather than rewriting it.
fn is_data_write(a: Action) -> bool {
    matches!(
        a,
        Action::Commit | Action::DeltaCommit | Action::ReplaceCommit
    )
}

fn reader_name(r: Reader) -> &'static str {
    match r {
        Reader::Ours => "our reader",
        Reader::HudiRs => "hudi-rs",
        Reader::Spark => "Spark",
    }
}
