//! `hudi compaction`: schedule, run and show compactions of merge-on-read tables.

use hudi_core::services::compaction::{PendingRun, ScheduleOutcome};
use hudi_core::Report;
use hudi_core::{InstantTime, Table};
use serde_json::json;

use crate::error::CliError;
use crate::output::print_json;
use crate::StorageArgs;

/// Compaction of merge-on-read tables: schedule, run, show.
///
/// Examples:
///   hudi compaction schedule /data/events --force
///   hudi compaction run /data/events --schedule --json
///   hudi compaction show /data/events
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct CompactionArgs {
    #[command(subcommand)]
    pub command: CompactionCommand,
}

/// Options every table-service command (compaction, clean, archive) takes.
#[derive(Debug, clap::Args)]
pub struct Common {
    /// Table path or URL.
    pub table: String,
    /// Option `hoodie.*=value` (repeatable), as Hudi names them: `hoodie.compaction.strategy`,
    /// `hoodie.compact.inline.max.delta.commits` (compaction), `hoodie.cleaner.commits.retained`
    /// (clean), `hoodie.keep.min.commits`, `hoodie.keep.max.commits` (archive), ...
    #[arg(long = "option", value_name = "KEY=VALUE", value_parser = crate::parse_kv)]
    pub options: Vec<(String, String)>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub storage: StorageArgs,
}

#[derive(Debug, clap::Subcommand)]
pub enum CompactionCommand {
    /// Write a compaction plan (`C.compaction.requested`) if one is due.
    ///
    /// Due means: as many delta commits since the last compaction as
    /// hoodie.compact.inline.max.delta.commits (5), or the time trigger of
    /// hoodie.compact.inline.trigger.strategy. --force schedules whenever there are logs.
    ///
    /// Examples:
    ///   hudi compaction schedule /data/events
    ///   hudi compaction schedule /data/events --force --option hoodie.compaction.strategy=UnBoundedCompactionStrategy
    #[command(verbatim_doc_comment)]
    Schedule {
        #[command(flatten)]
        common: Common,
        /// Schedule even if no compaction is due yet.
        #[arg(long)]
        force: bool,
    },
    /// Run a pending compaction (the earliest one unless --instant): each file group's base
    /// and log files merge into a new base file.
    ///
    /// A failed earlier run of the same compaction is cleaned up and run again.
    ///
    /// Examples:
    ///   hudi compaction run /data/events
    ///   hudi compaction run /data/events --instant 20250101120000000 --json
    #[command(verbatim_doc_comment)]
    Run {
        #[command(flatten)]
        common: Common,
        /// The pending compaction to run.
        #[arg(long)]
        instant: Option<String>,
        /// Schedule one first if none is pending (forced).
        #[arg(long)]
        schedule: bool,
    },
    /// Show pending compactions and their plans.
    ///
    /// Examples:
    ///   hudi compaction show /data/events
    ///   hudi compaction show /data/events --json
    #[command(verbatim_doc_comment)]
    Show {
        #[command(flatten)]
        common: Common,
    },
}

pub async fn run(a: CompactionArgs) -> Result<(), CliError> {
    match a.command {
        CompactionCommand::Schedule { common, force } => schedule(common, force).await,
        CompactionCommand::Run {
            common,
            instant,
            schedule,
        } => execute(common, instant, schedule).await,
        CompactionCommand::Show { common } => show(common).await,
    }
}

async fn open(c: &Common) -> Result<Table, CliError> {
    Ok(Table::open_with_options(&c.table, &c.storage.options()).await?)
}

fn instant(s: &str) -> Result<InstantTime, CliError> {
    s.parse()
        .map_err(|e: hudi_core::HudiError| CliError::Usage {
            arg: "--instant",
            reason: e.to_string(),
        })
}

async fn schedule(c: Common, force: bool) -> Result<(), CliError> {
    let table = open(&c).await?;
    let out = table
        .compaction()
        .with_options(c.options.iter().cloned().collect())
        .with_force(force)
        .schedule()
        .await?;
    if c.json {
        return print_json(&out.to_json());
    }
    match out {
        ScheduleOutcome::Scheduled { instant, plan } => println!(
            "scheduled compaction {instant}: {} file groups (run it with `hudi compaction run {}`)",
            plan.operations.len(),
            c.table
        ),
        ScheduleOutcome::NotDue { reason } => {
            println!("no compaction scheduled: not due yet ({reason}); --force schedules anyway")
        }
        ScheduleOutcome::NothingToCompact { reason } => {
            println!("no compaction scheduled: nothing to compact ({reason})")
        }
    }
    Ok(())
}

async fn execute(c: Common, at: Option<String>, schedule_first: bool) -> Result<(), CliError> {
    let table = open(&c).await?;
    let options: std::collections::BTreeMap<String, String> = c.options.iter().cloned().collect();
    let (bar, progress) = crate::progress::Bar::new();
    let mut b = table
        .compaction()
        .with_options(options)
        .with_progress(progress);
    if let Some(t) = &at {
        b = b.with_instant(instant(t)?);
    }
    let out = if schedule_first {
        b.run_or_schedule().await
    } else {
        b.run().await.map(PendingRun::Ran)
    };
    bar.finish();
    let out = match out? {
        PendingRun::Ran(out) => out,
        nothing @ PendingRun::NothingToCompact { .. } => {
            if c.json {
                return print_json(&nothing.to_json());
            }
            if let PendingRun::NothingToCompact { reason } = nothing {
                println!("nothing to compact: {reason}");
            }
            return Ok(());
        }
    };
    if c.json {
        return print_json(&out.to_json());
    }
    println!(
        "compacted {}: {} file groups, {} records written from {} log records, {} bytes{}{}, {} ms",
        out.instant,
        out.file_groups,
        out.records_written,
        out.log_records,
        out.bytes_written,
        if out.spilled_groups > 0 {
            format!(", {} groups spilled to disk", out.spilled_groups)
        } else {
            String::new()
        },
        if out.retried {
            ", after cleaning up a failed earlier run"
        } else {
            ""
        },
        out.duration_ms
    );
    Ok(())
}

async fn pending(
    table: &Table,
) -> Result<Vec<(InstantTime, hudi_core::model::metadata::CompactionPlan)>, CliError> {
    Ok(table.timeline().pending_compactions().await?)
}

async fn show(c: Common) -> Result<(), CliError> {
    let table = open(&c).await?;
    let plans = pending(&table).await?;
    let v: Vec<serde_json::Value> = plans
        .iter()
        .map(|(t, p)| {
            json!({
                "instant": t.as_str(),
                "operations": p.operations.iter().map(|o| json!({
                    "partition": o.partition_path,
                    "file_id": o.file_id,
                    "base_instant": o.base_instant_time,
                    "base_file": o.data_file_path,
                    "log_files": o.delta_file_paths,
                    "metrics": o.metrics,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    if c.json {
        return print_json(&json!(v));
    }
    if plans.is_empty() {
        println!("no pending compaction");
    }
    for (t, p) in &plans {
        println!("compaction {t}: {} file groups", p.operations.len());
        for o in &p.operations {
            println!(
                "  {}/{}: {} log files on {}",
                o.partition_path.as_deref().unwrap_or(""),
                o.file_id.as_deref().unwrap_or(""),
                o.delta_file_paths.len(),
                o.data_file_path.as_deref().unwrap_or("(no base file)")
            );
        }
    }
    Ok(())
}
