//! `hudi checkpoint`: the streamer checkpoint in the commits' extra metadata.

use hudi_core::services::checkpoint;
use hudi_core::timeline::transition::SystemClock;
use hudi_core::Table;
use serde_json::json;

use crate::error::CliError;
use crate::output::print_json;
use crate::StorageArgs;

/// The streamer checkpoint in the latest commit's metadata: get, set.
///
/// The checkpoint Hudi's streamer (HoodieStreamer / DeltaStreamer) resumes from, kept in the
/// extra metadata (`deltastreamer.checkpoint.key`) of its latest commit (delta commit on
/// merge-on-read tables).
///
/// Examples:
///   hudi checkpoint get /data/events
///   hudi checkpoint get /data/events --json
///   hudi checkpoint set /data/events --checkpoint 'events,0:1500,1:1720'
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct CheckpointArgs {
    #[command(subcommand)]
    pub command: CheckpointCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum CheckpointCommand {
    /// Print the latest checkpoint and the commit holding it (exit 1 if there is none).
    Get {
        /// Table path or URL.
        table: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Replace the checkpoint in the latest commit (its metadata is copied to
    /// .hoodie/.aux/repair_backup/ first). Version-6 tables.
    Set {
        /// Table path or URL.
        table: String,
        /// The new checkpoint (for Kafka sources: `topic,partition:offset,...`).
        #[arg(long)]
        checkpoint: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        storage: StorageArgs,
    },
}

pub async fn run(a: CheckpointArgs) -> Result<(), CliError> {
    match a.command {
        CheckpointCommand::Get {
            table,
            json,
            storage,
        } => {
            let t = Table::open_with_options(&table, &storage.options()).await?;
            let c = checkpoint::latest(&t)
                .await?
                .ok_or_else(|| CliError::Usage {
                    arg: "TABLE",
                    reason: format!(
                        "no commit of '{}' holds a streamer checkpoint",
                        t.location()
                    ),
                })?;
            match json {
                true => print_json(&json!({
                    "instant": c.instant.as_str(), "key": c.key, "checkpoint": c.value,
                    "reset_key": c.reset_key,
                })),
                false => {
                    println!("{}  (commit {}, {})", c.value, c.instant, c.key);
                    Ok(())
                }
            }
        }
        CheckpointCommand::Set {
            table,
            checkpoint: value,
            json,
            storage,
        } => {
            let t = Table::open_with_options(&table, &storage.options()).await?;
            let c = checkpoint::set(&t, &value, &SystemClock).await?;
            match json {
                true => print_json(&json!({
                    "instant": c.instant.as_str(), "old": c.old, "new": c.new, "backup": c.backup,
                })),
                false => {
                    println!(
                        "commit {}: checkpoint {} -> {} (previous metadata kept in {})",
                        c.instant,
                        c.old.as_deref().unwrap_or("(none)"),
                        c.new,
                        c.backup
                    );
                    Ok(())
                }
            }
        }
    }
}
