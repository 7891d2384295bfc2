//! `hudi repair`: fix what `hudi verify` finds. Each repair prints its plan and changes
//! nothing unless given `--apply`.

use std::sync::Arc;

use hudi_core::services::repair::{self, RepairPlan};
use hudi_core::storage::Storage;
use hudi_core::timeline::transition::{ClockRef, SystemClock};
use hudi_core::Table;
use serde_json::json;

use crate::error::CliError;
use crate::output::print_json;
use crate::StorageArgs;

/// Repairs, dry runs unless --apply is given.
///
/// Examples:
///   hudi repair add-partition-meta /data/events            # what it would write
///   hudi repair add-partition-meta /data/events --apply
///   hudi repair markers /data/events --apply               # markers of finished instants
///   hudi repair overwrite-props /data/events good.properties --apply
///   hudi repair deduplicate /data/events --partition country=de --apply
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct RepairArgs {
    #[command(subcommand)]
    pub command: RepairCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum RepairCommand {
    /// Write the missing .hoodie_partition_metadata of directories that hold data files.
    AddPartitionMeta(Common),
    /// Delete the markers of completed instants and of instants the timeline does not know.
    Markers(Common),
    /// Replace hoodie.properties with FILE (checked, checksum recomputed, the old file kept
    /// under .hoodie/.aux/repair_backup/).
    OverwriteProps {
        #[command(flatten)]
        common: Common,
        /// The new properties file (a local path).
        file: std::path::PathBuf,
    },
    /// Keep one record per key in a partition (the latest commit's): an insert_overwrite of
    /// the partition with its deduplicated rows, as one replace commit (Spark reads it,
    /// rollback and restore undo it).
    Deduplicate {
        #[command(flatten)]
        common: Common,
        /// The partition to deduplicate (relative path, e.g. `country=de`).
        #[arg(long, value_name = "P")]
        partition: String,
    },
}

#[derive(Debug, clap::Args)]
pub struct Common {
    /// Table path or URL.
    pub table: String,
    /// Make the changes (default: only print them).
    #[arg(long)]
    pub apply: bool,
    /// Print the plan as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub storage: StorageArgs,
}

pub async fn run(a: RepairArgs) -> Result<(), CliError> {
    let clock: ClockRef = Arc::new(SystemClock);
    let (c, plan) = match &a.command {
        RepairCommand::AddPartitionMeta(c) => {
            let t = Table::open_with_options(&c.table, &c.storage.options()).await?;
            let p =
                repair::add_partition_metadata(t.storage(), t.timeline(), c.apply, &clock).await?;
            (c, p)
        }
        RepairCommand::Markers(c) => {
            let t = Table::open_with_options(&c.table, &c.storage.options()).await?;
            (
                c,
                repair::delete_stray_markers(t.storage(), t.timeline(), c.apply).await?,
            )
        }
        RepairCommand::OverwriteProps { common: c, file } => {
            let text = std::fs::read_to_string(file).map_err(|e| CliError::Usage {
                arg: "FILE",
                reason: format!("cannot read '{}': {e}", file.display()),
            })?;
            let storage = Storage::open(&c.table, &c.storage.options())?;
            let source = file.display().to_string();
            let p = repair::overwrite_properties(&storage, &text, &source, c.apply, &clock).await?;
            (c, p)
        }
        RepairCommand::Deduplicate {
            common: c,
            partition,
        } => {
            let t = Table::open_with_options(&c.table, &c.storage.options()).await?;
            (c, repair::deduplicate(&t, partition, c.apply).await?)
        }
    };
    report(c, &plan)
}

fn report(c: &Common, plan: &RepairPlan) -> Result<(), CliError> {
    if c.json {
        let actions: Vec<_> = plan
            .actions
            .iter()
            .map(|(path, what)| json!({"path": path, "action": what}))
            .collect();
        return print_json(&json!({
            "table": c.table, "applied": plan.applied, "actions": actions, "backup": plan.backup,
        }));
    }
    if plan.actions.is_empty() {
        println!("nothing to repair in {}", c.table);
        return Ok(());
    }
    for (path, what) in &plan.actions {
        println!("{path}: {what}");
    }
    match (plan.applied, &plan.backup) {
        (true, Some(b)) => println!("applied; the replaced content is kept in {b}"),
        (true, None) => println!("applied"),
        (false, _) => println!("dry run: nothing changed (add --apply to make these changes)"),
    }
    Ok(())
}
