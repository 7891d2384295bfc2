//! `hudi demo`: a clickstream written into a copy-on-write and a merge-on-read table, upserted,
//! deleted from, compacted and cleaned, then read back three ways and checked against what the
//! generator knows the tables must hold.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use arrow::array::{Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use hudi_core::config::table::TableType;
use hudi_core::services::clean::{CleanOutcome, CleanPolicy};
use hudi_core::services::compaction::ScheduleOutcome;
use hudi_core::storage::Storage;
use hudi_core::{Table, TableBuilder, WriteMetrics, WriteOperation};
use serde_json::{json, Value};

use crate::error::CliError;
use crate::output::print_json;
use crate::StorageArgs;

const COUNTRIES: [&str; 8] = ["br", "de", "fr", "in", "jp", "ng", "us", "za"];
const EVENT_TYPES: [&str; 5] = ["view", "view", "click", "add_to_cart", "purchase"];
const PAGES: [&str; 6] = ["/", "/search", "/item", "/cart", "/checkout", "/account"];

/// Write, maintain and read two small tables, checking every result.
///
/// Generates a deterministic clickstream in memory, then for a copy-on-write and a
/// merge-on-read table: bulk_insert all events, upsert 10% (half of them updates of existing
/// events, half new ones), upsert 1% late corrections, compacting the logs after each upsert
/// (merge-on-read), delete 1%, clean (KEEP_LATEST_COMMITS, 2 commits), and read back a
/// snapshot, a time-travel query of the state after the upserts and an incremental query of
/// everything after the first commit. Each read is compared with the
/// generator's own count and sum; any difference fails the command.
///
/// Examples:
///   hudi demo                       # into a new directory under the system's temp dir
///   hudi demo ./demo-tables         # into ./demo-tables (must not exist or be empty)
///   hudi demo --events 1000000 --json
///   hudi demo s3://bucket/demo --storage-option aws_region=eu-west-1   # on an object store
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct DemoArgs {
    /// Directory or URL for the two tables (created; must be empty if it exists).
    pub dir: Option<String>,
    /// Number of events of the first write.
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(10_000..=50_000_000))]
    pub events: u64,
    /// Print what happened as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub storage: StorageArgs,
}

/// A deterministic pseudo-random sequence (splitmix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[(self.next() % from.len() as u64) as usize]
    }
}

/// One event, as the generator knows it.
#[derive(Debug, Clone)]
struct Event {
    id: u64,
    user: u64,
    country: &'static str,
    event_type: &'static str,
    page: &'static str,
    amount_cents: Option<i64>,
    ts: i64,
}

fn event(rng: &mut Rng, id: u64, ts: i64) -> Event {
    let event_type = rng.pick(&EVENT_TYPES);
    Event {
        id,
        user: rng.next() % 5_000,
        country: rng.pick(&COUNTRIES),
        event_type,
        page: rng.pick(&PAGES),
        amount_cents: (event_type == "purchase").then(|| (rng.next() % 50_000) as i64 + 99),
        ts,
    }
}

/// The generator's batches and what the tables must hold after each step.
struct Workload {
    first: Vec<Event>,
    /// Two upserts: 5% updates and 5% new events, then 1% late corrections.
    upserts: [Vec<Event>; 2],
    deleted: Vec<Event>,
}

const START_MS: i64 = 1_764_547_200_000; // 2025-12-01T00:00:00Z

/// The latest amount of each live event and the step (0: the first write) that wrote it.
type State = std::collections::BTreeMap<u64, (Option<i64>, usize)>;

/// An update of `old`: same key and partition, a later ts, new values.
fn update(rng: &mut Rng, old: &Event, ts: i64) -> Event {
    let mut e = event(rng, old.id, ts);
    e.country = old.country;
    e
}

impl Workload {
    fn generate(events: u64) -> Workload {
        let mut rng = Rng(0x4855_4449);
        let first: Vec<Event> = (0..events)
            .map(|i| event(&mut rng, i, START_MS + i as i64 * 10))
            .collect();
        let mut ts = START_MS + events as i64 * 10 + 60_000;
        let mut tick = || {
            ts += 1;
            ts
        };
        let (n, half) = ((events / 20) as usize, (events / 2) as usize);
        // Updates of the first half's even events, then new events.
        let mut upsert: Vec<Event> = (0..n)
            .map(|j| update(&mut rng, &first[j * 2], tick()))
            .collect();
        upsert.extend((0..n as u64).map(|j| event(&mut rng, events + j, tick())));
        // Corrections of events of the second half.
        let corrections: Vec<Event> = (0..(events / 100) as usize)
            .map(|j| update(&mut rng, &first[half + j], tick()))
            .collect();
        // Deletes of odd events of the first half, which no upsert touched.
        let deleted = (0..(events / 100) as usize)
            .map(|j| first[j * 2 + 1].clone())
            .collect();
        Workload {
            first,
            upserts: [upsert, corrections],
            deleted,
        }
    }

    /// The table after the first write, `upserts` upserts and (`deletes`) the delete.
    fn state(&self, upserts: usize, deletes: bool) -> State {
        let mut s: State = self
            .first
            .iter()
            .map(|e| (e.id, (e.amount_cents, 0)))
            .collect();
        for (step, batch) in self.upserts.iter().take(upserts).enumerate() {
            s.extend(batch.iter().map(|e| (e.id, (e.amount_cents, step + 1))));
        }
        if deletes {
            for e in &self.deleted {
                s.remove(&e.id);
            }
        }
        s
    }

    /// Rows and the sum of `amount_cents` of a state.
    fn tally<'a>(rows: impl Iterator<Item = &'a (Option<i64>, usize)>) -> (usize, i64) {
        rows.fold((0, 0), |(n, sum), (a, _)| (n + 1, sum + a.unwrap_or(0)))
    }
}

fn schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("event_id", DataType::Utf8, false),
        Field::new("user_id", DataType::Utf8, false),
        Field::new("country", DataType::Utf8, false),
        Field::new("event_type", DataType::Utf8, false),
        Field::new("page", DataType::Utf8, false),
        Field::new("amount_cents", DataType::Int64, true),
        Field::new("ts", DataType::Int64, false),
    ]))
}

fn batch(events: &[Event]) -> Result<RecordBatch, CliError> {
    let s = |f: &dyn Fn(&Event) -> String| {
        Arc::new(StringArray::from_iter_values(events.iter().map(f))) as Arc<dyn Array>
    };
    RecordBatch::try_new(
        schema(),
        vec![
            s(&|e| format!("evt-{:08}", e.id)),
            s(&|e| format!("user-{:05}", e.user)),
            s(&|e| e.country.to_string()),
            s(&|e| e.event_type.to_string()),
            s(&|e| e.page.to_string()),
            Arc::new(Int64Array::from_iter(events.iter().map(|e| e.amount_cents))),
            Arc::new(Int64Array::from_iter_values(events.iter().map(|e| e.ts))),
        ],
    )
    .map_err(|e| CliError::Format {
        format: "arrow",
        source: e,
    })
}

/// What happened to one table, for both outputs.
struct Report {
    lines: Vec<String>,
    steps: Vec<Value>,
    checks: Vec<Value>,
    failed: Vec<String>,
}

impl Report {
    fn write(&mut self, step: &str, m: &WriteMetrics) {
        self.lines.push(format!(
            "  {step:<12} {}  {} inserted, {} updated, {} deleted, {} files, {} bytes, {} ms",
            m.instant,
            m.records_inserted,
            m.records_updated,
            m.records_deleted,
            m.files_written,
            m.bytes_written,
            m.duration_ms
        ));
        self.steps.push(json!({
            "step": step, "instant": m.instant.as_str(), "records_inserted": m.records_inserted,
            "records_updated": m.records_updated, "records_deleted": m.records_deleted,
            "files_written": m.files_written, "bytes_written": m.bytes_written,
            "duration_ms": m.duration_ms,
        }));
    }

    fn check(&mut self, query: &str, got: (usize, i64), want: (usize, i64)) {
        let ok = got == want;
        self.lines.push(format!(
            "  {query:<40} {} rows, sum(amount_cents) {}  {}",
            got.0,
            got.1,
            if ok {
                "as expected".to_string()
            } else {
                format!("EXPECTED {} rows, sum {}", want.0, want.1)
            }
        ));
        self.checks.push(json!({
            "query": query, "rows": got.0, "sum_amount_cents": got.1,
            "expected_rows": want.0, "expected_sum_amount_cents": want.1, "ok": ok,
        }));
        if !ok {
            self.failed.push(query.to_string());
        }
    }
}

/// Rows and the sum of `amount_cents` of a read.
fn tally(batches: &[RecordBatch]) -> (usize, i64) {
    let rows = batches.iter().map(|b| b.num_rows()).sum();
    let sum = batches
        .iter()
        .filter_map(|b| b.column_by_name("amount_cents"))
        .filter_map(|c| c.as_any().downcast_ref::<Int64Array>())
        .map(|a| a.iter().flatten().sum::<i64>())
        .sum();
    (rows, sum)
}

async fn write(
    table: &Table,
    op: WriteOperation,
    events: &[Event],
) -> Result<WriteMetrics, CliError> {
    Ok(table
        .write(op)
        .execute_batches(vec![batch(events)?])
        .await?)
}

async fn run_table(
    dir: &str,
    storage: &HashMap<String, String>,
    table_type: TableType,
    w: &Workload,
) -> Result<(String, Report), CliError> {
    let name = match table_type {
        TableType::CopyOnWrite => "clicks_cow",
        TableType::MergeOnRead => "clicks_mor",
    };
    let path = format!("{}/{name}", dir.trim_end_matches('/'));
    let mut r = Report {
        lines: vec![format!("{table_type}  {path}")],
        steps: Vec::new(),
        checks: Vec::new(),
        failed: Vec::new(),
    };
    let table = TableBuilder::new(path.clone())
        .with_name(name)
        .with_table_type(table_type)
        .with_record_key_fields(vec!["event_id".into()])
        .with_partition_fields(vec!["country".into()])
        .with_precombine_field("ts")
        .with_hive_style_partitioning(true)
        .with_option("hoodie.compact.inline", "false")
        .with_storage_options(storage.clone())
        .create()
        .await?;
    let merge_on_read = table_type == TableType::MergeOnRead;
    let first = write(&table, WriteOperation::BulkInsert, &w.first).await?;
    r.write("bulk_insert", &first);
    // The state after the second upsert, for time travel: that upsert, or on merge-on-read
    // the compaction of its logs (the clean below removes the slices the upserts wrote to).
    let mut after_upserts = first.instant.clone();
    for (i, batch) in w.upserts.iter().enumerate() {
        let m = write(&table, WriteOperation::Upsert, batch).await?;
        r.write(&format!("upsert {}", i + 1), &m);
        after_upserts = m.instant;
        if merge_on_read {
            after_upserts = compact(&table.reload().await?, &mut r).await?;
        }
    }
    r.write(
        "delete",
        &write(&table, WriteOperation::Delete, &w.deleted).await?,
    );
    clean(&table.reload().await?, &mut r).await?;

    let table = table.reload().await?;
    let (_, now) = table.read().collect().await?;
    let end = w.state(2, true);
    r.check("snapshot", tally(&now), Workload::tally(end.values()));
    let (_, then) = table
        .read()
        .with_as_of(after_upserts.clone())
        .collect()
        .await?;
    r.check(
        &format!("time travel as of {after_upserts}"),
        tally(&then),
        Workload::tally(w.state(2, false).values()),
    );
    let (_, incr) = table
        .read()
        .with_incremental(Some(first.instant.clone()), None)
        .collect()
        .await?;
    r.check(
        &format!("incremental after {}", first.instant),
        tally(&incr),
        Workload::tally(end.values().filter(|(_, step)| *step > 0)),
    );
    Ok((path, r))
}

async fn compact(table: &Table, r: &mut Report) -> Result<hudi_core::InstantTime, CliError> {
    let (scheduled, outcome) = table
        .compaction()
        .with_force(true)
        .schedule_and_run()
        .await?;
    let Some(o) = outcome else {
        let why = match scheduled {
            ScheduleOutcome::NotDue { reason } | ScheduleOutcome::NothingToCompact { reason } => {
                reason
            }
            ScheduleOutcome::Scheduled { instant, .. } => {
                format!("{instant} was scheduled but did not run")
            }
        };
        return Err(CliError::Demo {
            failed: vec![format!("{}: compaction: {why}", table.location())],
        });
    };
    r.lines.push(format!(
        "  {:<12} {}  {} file groups, {} log records merged, {} records written, {} ms",
        "compaction", o.instant, o.file_groups, o.log_records, o.records_written, o.duration_ms
    ));
    r.steps.push(json!({
        "step": "compaction", "instant": o.instant.as_str(), "file_groups": o.file_groups,
        "log_records": o.log_records, "records_written": o.records_written,
        "duration_ms": o.duration_ms,
    }));
    Ok(o.instant)
}

async fn clean(table: &Table, r: &mut Report) -> Result<(), CliError> {
    let run = table
        .clean()
        .with_policy(CleanPolicy::KeepLatestCommits)
        .with_retained_commits(2)
        .run()
        .await?;
    match run.outcome {
        CleanOutcome::Cleaned(c) => {
            let files: usize = c.deleted.values().map(Vec::len).sum();
            r.lines.push(format!(
                "  {:<12} {}  {files} files deleted (KEEP_LATEST_COMMITS, 2 commits retained), {} ms",
                "clean", c.instant, c.duration_ms
            ));
            r.steps.push(json!({
                "step": "clean", "instant": c.instant.as_str(), "files_deleted": files,
                "policy": c.policy, "duration_ms": c.duration_ms,
            }));
        }
        CleanOutcome::NothingToClean { reason } => {
            r.failed.push(format!("clean: {reason}"));
        }
        CleanOutcome::WouldClean(_) => r.failed.push("clean ran as a dry run".into()),
    }
    Ok(())
}

/// The demo's directory or URL, which must be new or empty: local directories are created.
async fn demo_dir(
    arg: Option<String>,
    storage: &HashMap<String, String>,
) -> Result<String, CliError> {
    let occupied = |what: &str| CliError::Usage {
        arg: "DIR",
        reason: format!("'{what}' is not empty; give a new or empty directory"),
    };
    if let Some(url) = arg.as_deref().filter(|a| a.contains("://")) {
        let files = Storage::open(url, storage)?.list_recursive("").await?;
        if !files.is_empty() {
            return Err(occupied(url));
        }
        return Ok(url.trim_end_matches('/').to_string());
    }
    let dir = arg.map(PathBuf::from).unwrap_or_else(|| {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        std::env::temp_dir().join(format!("hudi-demo-{stamp}"))
    });
    let in_use = std::fs::read_dir(&dir)
        .map(|mut d| d.next().is_some())
        .unwrap_or(false);
    if in_use {
        return Err(occupied(&dir.display().to_string()));
    }
    std::fs::create_dir_all(&dir).map_err(|source| CliError::Write {
        path: dir.clone(),
        source,
    })?;
    let dir = dir
        .canonicalize()
        .map_err(|source| CliError::Write { path: dir, source })?;
    Ok(dir.to_string_lossy().to_string())
}

pub async fn run(a: DemoArgs) -> Result<(), CliError> {
    let storage = a.storage.options();
    let dir = demo_dir(a.dir, &storage).await?;
    let w = Workload::generate(a.events);
    if !a.json {
        println!(
            "hudi demo: {} clickstream events in {} countries, tables under {}",
            a.events,
            COUNTRIES.len(),
            dir
        );
    }
    let mut tables = Vec::new();
    let mut failed = Vec::new();
    for tt in [TableType::CopyOnWrite, TableType::MergeOnRead] {
        let (path, r) = run_table(&dir, &storage, tt, &w).await?;
        if !a.json {
            r.lines.iter().for_each(|l| println!("{l}"));
        }
        failed.extend(r.failed.iter().map(|f| format!("{path}: {f}")));
        tables
            .push(json!({"type": tt.as_str(), "path": path, "steps": r.steps, "checks": r.checks}));
    }
    if a.json {
        print_json(
            &json!({"dir": dir, "events": a.events, "tables": tables, "ok": failed.is_empty()}),
        )?;
    } else if failed.is_empty() {
        let mor = format!("{dir}/clicks_mor");
        println!("Every read returned what was written. Look around:");
        println!("  hudi show {mor}");
        println!("  hudi timeline {mor}");
        println!("  hudi read {mor} --limit 10");
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(CliError::Demo { failed })
    }
}
