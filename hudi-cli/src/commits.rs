//! `hudi commits`: what each completed write wrote, from its commit metadata.

use std::collections::BTreeMap;

use hudi_core::model::metadata::{CommitMetadata, WriteStat};
use hudi_core::timeline::TimelineInstant;
use hudi_core::Table;
use serde_json::{json, Value};

use crate::error::CliError;
use crate::output::{print_json, print_rows};
use crate::StorageArgs;

/// What each completed write wrote: per write, partition or file, and write stats.
///
/// Completed writes are commits, delta commits, replace commits and compactions.
///
/// Examples:
///   hudi commits show /data/events                      # one line per write, newest first
///   hudi commits show /data/events --limit 5 --json
///   hudi commits partitions /data/events                # the latest write, per partition
///   hudi commits files /data/events --instant 20261201153000123
///   hudi commits stats /data/events                     # bytes, records, average record size
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct CommitsArgs {
    #[command(subcommand)]
    pub command: CommitsCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum CommitsCommand {
    /// One line per completed write: bytes, files added and updated, partitions, records
    /// inserted, updated and deleted, write errors.
    Show(Which),
    /// One line per partition a write touched.
    Partitions(Which),
    /// One line per file a write wrote (base or log file).
    Files(Which),
    /// Bytes and records written and the average record size, per write.
    Stats(Which),
}

#[derive(Debug, clap::Args)]
pub struct Which {
    /// Table path or URL.
    pub table: String,
    /// The write to show (default: every write for `show` and `stats`, the latest for
    /// `partitions` and `files`).
    #[arg(long, value_name = "T")]
    pub instant: Option<String>,
    /// Show at most this many writes, newest first.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Print JSON lines instead of a table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub storage: StorageArgs,
}

/// Totals over a set of write stats.
#[derive(Debug, Default)]
struct Totals {
    bytes: i64,
    files_added: usize,
    files_updated: usize,
    partitions: usize,
    written: i64,
    inserted: i64,
    updated: i64,
    deleted: i64,
    errors: i64,
    log_blocks: i64,
    log_records: i64,
}

/// A write stat that created its file group (Hudi writes the string "null" for no previous
/// commit).
fn is_new_file(s: &WriteStat) -> bool {
    matches!(s.prev_commit.as_deref(), None | Some("null") | Some(""))
}

impl Totals {
    fn of<'a>(stats: impl Iterator<Item = (&'a str, &'a WriteStat)>) -> Totals {
        let mut t = Totals::default();
        let mut parts = std::collections::BTreeSet::new();
        for (p, s) in stats {
            parts.insert(p.to_string());
            t.bytes += s.total_write_bytes;
            if is_new_file(s) {
                t.files_added += 1;
            } else {
                t.files_updated += 1;
            }
            t.written += s.num_writes;
            t.inserted += s.num_inserts;
            t.updated += s.num_update_writes;
            t.deleted += s.num_deletes;
            t.errors += s.total_write_errors;
            t.log_blocks += s.total_log_blocks;
            t.log_records += s.total_log_records;
        }
        t.partitions = parts.len();
        t
    }

    fn json(&self) -> Value {
        json!({
            "bytes_written": self.bytes, "files_added": self.files_added,
            "files_updated": self.files_updated, "partitions": self.partitions,
            "records_written": self.written, "records_inserted": self.inserted,
            "records_updated": self.updated, "records_deleted": self.deleted,
            "write_errors": self.errors,
        })
    }
}

/// The writes to show, newest first, with their metadata.
async fn writes(
    table: &Table,
    w: &Which,
    latest_only: bool,
) -> Result<Vec<(TimelineInstant, CommitMetadata)>, CliError> {
    let tl = table.timeline();
    let chosen: Vec<&TimelineInstant> = match &w.instant {
        Some(t) => {
            let t = crate::parse_instant("--instant", t)?;
            let i = tl
                .completed_writes()
                .find(|i| i.requested() == &t)
                .ok_or_else(|| hudi_core::HudiError::InstantNotFound {
                    instant: t.to_string(),
                    table: table.location().to_string(),
                })?;
            vec![i]
        }
        None => {
            let mut all: Vec<&TimelineInstant> = tl.completed_writes().collect();
            all.reverse();
            let n = match latest_only {
                true => 1,
                false => w.limit.unwrap_or(usize::MAX),
            };
            all.into_iter().take(n).collect()
        }
    };
    if chosen.is_empty() {
        return Err(CliError::Usage {
            arg: "TABLE",
            reason: format!("'{}' has no completed writes", table.location()),
        });
    }
    let mut out = Vec::with_capacity(chosen.len());
    for i in chosen {
        let m = tl.commit_metadata(&i.instant).await?;
        out.push((i.clone(), m));
    }
    Ok(out)
}

fn operation(i: &TimelineInstant, m: &CommitMetadata) -> String {
    m.operation_type
        .clone()
        .unwrap_or_else(|| i.action().token().to_ascii_uppercase())
}

pub async fn run(a: CommitsArgs) -> Result<(), CliError> {
    let w = match &a.command {
        CommitsCommand::Show(w)
        | CommitsCommand::Partitions(w)
        | CommitsCommand::Files(w)
        | CommitsCommand::Stats(w) => w,
    };
    let table = Table::open_with_options(&w.table, &w.storage.options()).await?;
    let latest_only = matches!(
        a.command,
        CommitsCommand::Partitions(_) | CommitsCommand::Files(_)
    ) && w.limit.is_none();
    let commits = writes(&table, w, latest_only).await?;
    let (rows, columns): (Vec<Value>, &[&str]) = match &a.command {
        CommitsCommand::Show(_) => (show_rows(&commits), SHOW_COLUMNS),
        CommitsCommand::Partitions(_) => (partition_rows(&commits), PARTITION_COLUMNS),
        CommitsCommand::Files(_) => (file_rows(&commits), FILE_COLUMNS),
        CommitsCommand::Stats(_) => (stats_rows(&commits), STATS_COLUMNS),
    };
    emit(columns, &rows, w.json)
}

const SHOW_COLUMNS: &[&str] = &[
    "instant",
    "action",
    "operation",
    "bytes_written",
    "files_added",
    "files_updated",
    "partitions",
    "records_written",
    "records_inserted",
    "records_updated",
    "records_deleted",
    "write_errors",
];
const PARTITION_COLUMNS: &[&str] = &[
    "instant",
    "partition",
    "files_added",
    "files_updated",
    "records_inserted",
    "records_updated",
    "records_deleted",
    "bytes_written",
    "write_errors",
    "replaced_file_id",
];
const FILE_COLUMNS: &[&str] = &[
    "instant",
    "partition",
    "file_id",
    "prev_commit",
    "records_written",
    "records_updated",
    "records_deleted",
    "bytes_written",
    "path",
];
const STATS_COLUMNS: &[&str] = &[
    "instant",
    "operation",
    "bytes_written",
    "records_written",
    "avg_record_size",
    "log_blocks",
    "log_records",
];

/// Prints rows as JSON lines, or as an aligned table of `columns`.
pub(crate) fn emit(columns: &[&str], rows: &[Value], as_json: bool) -> Result<(), CliError> {
    if as_json {
        for r in rows {
            print_json(r)?;
        }
        return Ok(());
    }
    print_rows(columns, rows)
}

fn show_rows(commits: &[(TimelineInstant, CommitMetadata)]) -> Vec<Value> {
    commits
        .iter()
        .map(|(i, m)| {
            let mut v = json!({
                "instant": i.requested().as_str(), "action": i.action().token(),
                "operation": operation(i, m),
            });
            merge(&mut v, Totals::of(m.write_stats()).json());
            v
        })
        .collect()
}

fn partition_rows(commits: &[(TimelineInstant, CommitMetadata)]) -> Vec<Value> {
    let mut rows = Vec::new();
    for (i, m) in commits {
        let mut by_part: BTreeMap<&str, Vec<(&str, &WriteStat)>> = BTreeMap::new();
        for (p, s) in m.write_stats() {
            by_part.entry(p).or_default().push((p, s));
        }
        for (p, stats) in by_part {
            let mut v = json!({"instant": i.requested().as_str(), "partition": p});
            let mut t = Totals::of(stats.into_iter()).json();
            if let Some(o) = t.as_object_mut() {
                o.remove("partitions");
            }
            merge(&mut v, t);
            rows.push(v);
        }
        for (p, f) in m.replaced_file_ids() {
            rows.push(json!({
                "instant": i.requested().as_str(), "partition": p, "replaced_file_id": f,
            }));
        }
    }
    rows
}

fn file_rows(commits: &[(TimelineInstant, CommitMetadata)]) -> Vec<Value> {
    let mut rows = Vec::new();
    for (i, m) in commits {
        for (p, s) in m.write_stats() {
            rows.push(json!({
                "instant": i.requested().as_str(), "partition": p,
                "file_id": s.file_id, "prev_commit": s.prev_commit,
                "path": s.path, "records_written": s.num_writes,
                "records_inserted": s.num_inserts, "records_updated": s.num_update_writes,
                "records_deleted": s.num_deletes, "bytes_written": s.total_write_bytes,
                "file_size": s.file_size_in_bytes, "log_blocks": s.total_log_blocks,
                "log_records": s.total_log_records, "write_errors": s.total_write_errors,
            }));
        }
    }
    rows
}

fn stats_rows(commits: &[(TimelineInstant, CommitMetadata)]) -> Vec<Value> {
    commits
        .iter()
        .map(|(i, m)| {
            let t = Totals::of(m.write_stats());
            let avg = if t.written > 0 {
                t.bytes / t.written
            } else {
                0
            };
            json!({
                "instant": i.requested().as_str(), "operation": operation(i, m),
                "bytes_written": t.bytes, "records_written": t.written,
                "avg_record_size": avg, "log_blocks": t.log_blocks, "log_records": t.log_records,
            })
        })
        .collect()
}

fn merge(into: &mut Value, from: Value) {
    if let (Some(a), Value::Object(b)) = (into.as_object_mut(), from) {
        a.extend(b);
    }
}
