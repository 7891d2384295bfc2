//! `hudi clean`: delete file slices no retained commit, savepoint or pending compaction needs.

use hudi_core::services::clean::{CleanOutcome, CleanPolicy, CleanReport};
use hudi_core::Report;
use hudi_core::Table;

use crate::compaction::Common;
use crate::error::CliError;
use crate::output::print_json;

/// Delete old file slices (Hudi's cleaner); unfinished cleans are completed first.
///
/// Policies (hoodie.cleaner.policy):
///   KEEP_LATEST_COMMITS        keep what a read as of any of the last N commits needs (N=10)
///   KEEP_LATEST_FILE_VERSIONS  keep the newest N slices of each file group (N=3)
///   KEEP_LATEST_BY_HOURS       keep what a read as of any commit of the last N hours needs (24)
/// Savepointed files and slices a pending compaction reads always stay.
///
/// Examples:
///   hudi clean /data/events --dry-run
///   hudi clean /data/events --retain 5
///   hudi clean /data/events --policy KEEP_LATEST_FILE_VERSIONS --retain 1 --json
///   hudi clean /data/events --policy KEEP_LATEST_BY_HOURS --hours 48
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct CleanArgs {
    #[command(flatten)]
    pub common: Common,
    /// KEEP_LATEST_COMMITS, KEEP_LATEST_FILE_VERSIONS or KEEP_LATEST_BY_HOURS.
    #[arg(long)]
    pub policy: Option<String>,
    /// Commits (KEEP_LATEST_COMMITS) or versions (KEEP_LATEST_FILE_VERSIONS) to retain.
    #[arg(long)]
    pub retain: Option<usize>,
    /// Hours of commits to retain (KEEP_LATEST_BY_HOURS).
    #[arg(long)]
    pub hours: Option<i64>,
    /// List what would be deleted; change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

pub async fn run(a: CleanArgs) -> Result<(), CliError> {
    let c = &a.common;
    let table = Table::open_with_options(&c.table, &c.storage.options()).await?;
    let mut b = table
        .clean()
        .with_options(c.options.iter().cloned().collect())
        .with_dry_run(a.dry_run);
    let mut policy = None;
    if let Some(p) = &a.policy {
        let parsed = CleanPolicy::parse(p).ok_or_else(|| CliError::Usage {
            arg: "--policy",
            reason: format!(
                "'{p}': expected KEEP_LATEST_COMMITS, KEEP_LATEST_FILE_VERSIONS or KEEP_LATEST_BY_HOURS"
            ),
        })?;
        policy = Some(parsed);
        b = b.with_policy(parsed);
    }
    if let Some(n) = a.retain {
        b = match policy {
            Some(CleanPolicy::KeepLatestFileVersions) => b.with_retained_versions(n),
            Some(CleanPolicy::KeepLatestByHours) => {
                return Err(CliError::Usage {
                    arg: "--retain",
                    reason: "KEEP_LATEST_BY_HOURS retains --hours, not a count".into(),
                })
            }
            _ => b.with_retained_commits(n),
        };
    }
    if let Some(h) = a.hours {
        if policy != Some(CleanPolicy::KeepLatestByHours) {
            return Err(CliError::Usage {
                arg: "--hours",
                reason: "only with --policy KEEP_LATEST_BY_HOURS".into(),
            });
        }
        b = b.with_retained_hours(h);
    }
    let (bar, progress) = crate::progress::Bar::new();
    let run = b.with_progress(progress).run().await;
    bar.finish();
    let run = run?;
    if c.json {
        return print_json(&run.to_json());
    }
    for r in &run.finished {
        println!("finished the interrupted clean {}:", r.instant);
        print_report(r);
    }
    match &run.outcome {
        CleanOutcome::Cleaned(r) => print_report(r),
        CleanOutcome::WouldClean(s) => {
            println!(
                "would delete {} files{} (earliest retained commit {}):",
                s.file_count(),
                if s.partitions.is_empty() {
                    String::new()
                } else {
                    format!(" and the partitions {}", s.partitions.join(", "))
                },
                s.earliest_retained
                    .as_ref()
                    .map(|(t, _)| t.as_str())
                    .unwrap_or("-")
            );
            for f in s.files.values().flatten() {
                println!("  {f}");
            }
        }
        CleanOutcome::NothingToClean { reason } => println!("nothing to clean: {reason}"),
    }
    Ok(())
}

fn print_report(r: &CleanReport) {
    println!(
        "clean {}: {} files deleted in {} partitions{}{} ({}, earliest retained commit {}), {} ms",
        r.instant,
        r.files_deleted(),
        r.deleted.len(),
        if r.partitions_deleted.is_empty() {
            String::new()
        } else {
            format!(", partitions {} deleted", r.partitions_deleted.join(", "))
        },
        if r.missing.is_empty() {
            String::new()
        } else {
            format!(", {} already gone", r.missing.len())
        },
        r.policy,
        r.earliest_retained
            .as_ref()
            .map(|t| t.as_str())
            .unwrap_or("-"),
        r.duration_ms
    );
}
