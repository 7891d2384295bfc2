//! `hudi archive`: move the oldest instants to the archived timeline.

use hudi_core::services::archive::ArchiveOutcome;
use hudi_core::Report;
use hudi_core::Table;

use crate::compaction::Common;
use crate::error::CliError;
use crate::output::print_json;

/// Archive the oldest instants of the active timeline (table version 6).
///
/// Once more than hoodie.keep.max.commits (30) commits are completed, the oldest move to
/// .hoodie/archived/ until hoodie.keep.min.commits (20) remain; never past a pending
/// instant, the first savepoint, the earliest commit the last clean retained, or a replace
/// commit whose replaced files are not cleaned yet. `hudi timeline --archived` lists them.
///
/// Examples:
///   hudi archive /data/events
///   hudi archive /data/events --option hoodie.keep.min.commits=12 --option hoodie.keep.max.commits=15 --json
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct ArchiveArgs {
    #[command(flatten)]
    pub common: Common,
}

pub async fn run(a: ArchiveArgs) -> Result<(), CliError> {
    let c = &a.common;
    let table = Table::open_with_options(&c.table, &c.storage.options()).await?;
    let out = table
        .archive()
        .with_options(c.options.iter().cloned().collect())
        .run()
        .await?;
    if c.json {
        return print_json(&out.to_json());
    }
    match out {
        ArchiveOutcome::Archived {
            instants,
            file,
            commits_left,
        } => {
            println!(
                "archived {} instants ({} to {}) into {file}; {commits_left} commits stay active",
                instants.len(),
                instants.first().map(|(t, _)| t.as_str()).unwrap_or("-"),
                instants.last().map(|(t, _)| t.as_str()).unwrap_or("-"),
            );
        }
        ArchiveOutcome::NothingToArchive { reason } => {
            println!("nothing to archive: {reason}");
        }
    }
    Ok(())
}
