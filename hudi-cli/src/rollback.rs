//! `hudi rollback`: roll back failed writes, or the latest completed instant.

use hudi_core::Report;
use hudi_core::Table;
use serde_json::json;

use crate::error::CliError;
use crate::output::print_json;
use crate::StorageArgs;

/// Roll back failed (pending) writes; with --instant, a completed instant.
///
/// Without --instant, every pending write that is not a table service is rolled back (and
/// interrupted rollbacks finish): what the next writer would do. With --instant T, T is
/// rolled back: the latest completed commit, delta commit, replace commit or compaction, or
/// a pending compaction or clustering. A later instant, a savepoint on T or a cleaned
/// previous version refuses the rollback and names the cause.
///
/// A pending write whose heartbeat (`.hoodie/.heartbeat/<instant>`) lives is a running
/// writer's and stays. With optimistic concurrency control, failed writes are rolled back
/// under the table lock.
///
/// Examples:
///   hudi rollback /data/events
///   hudi rollback /data/events --option hoodie.write.concurrency.mode=optimistic_concurrency_control
///   hudi rollback /data/events --instant 20250101120000000
///   hudi rollback /data/events --instant 20250101120000000 --json
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct RollbackArgs {
    /// Table path or URL.
    pub table: String,
    /// The instant to roll back.
    #[arg(long)]
    pub instant: Option<String>,
    /// Option `hoodie.*=value` (repeatable): `hoodie.write.concurrency.mode`,
    /// `hoodie.write.lock.*`, `hoodie.client.heartbeat.*`.
    #[arg(long = "option", value_name = "KEY=VALUE", value_parser = crate::parse_kv)]
    pub options: Vec<(String, String)>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub storage: StorageArgs,
}

pub async fn run(a: RollbackArgs) -> Result<(), CliError> {
    let table = Table::open_with_options(&a.table, &a.storage.options()).await?;
    let mut b = table
        .rollback()
        .with_options(a.options.iter().cloned().collect());
    if let Some(t) = &a.instant {
        b = b.with_instant(crate::parse_instant("--instant", t)?);
    }
    let done = b.run().await?;
    if a.json {
        return print_json(&json!(done.iter().map(Report::to_json).collect::<Vec<_>>()));
    }
    if done.is_empty() {
        println!("no failed writes to roll back");
    }
    for r in &done {
        println!(
            "rolled back {} {} (rollback {}): {} files deleted",
            r.action, r.rolled_back, r.rollback_instant, r.files_deleted
        );
    }
    Ok(())
}
