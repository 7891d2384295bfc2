//! `hudi savepoint`: create, list, delete savepoints, and restore a table to one.

use hudi_core::Report;
use hudi_core::Table;
use serde_json::json;

use crate::error::CliError;
use crate::output::print_json;
use crate::StorageArgs;

/// Savepoints: create, list, delete, and restore the table to one.
///
/// Examples:
///   hudi savepoint create /data/events --comments "before backfill"
///   hudi savepoint list /data/events --json
///   hudi savepoint restore /data/events --instant 20250101120000000
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct SavepointArgs {
    #[command(subcommand)]
    pub command: SavepointCommand,
}

/// Options every savepoint command takes.
#[derive(Debug, clap::Args)]
pub struct Common {
    /// Table path or URL.
    pub table: String,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub storage: StorageArgs,
}

#[derive(Debug, clap::Subcommand)]
pub enum SavepointCommand {
    /// Savepoint a completed commit (the latest unless --instant): clean and archival keep
    /// its files, and the table can be restored to it.
    ///
    /// Examples:
    ///   hudi savepoint create /data/events
    ///   hudi savepoint create /data/events --instant 20250101120000000 --comments "before backfill"
    #[command(verbatim_doc_comment)]
    Create {
        #[command(flatten)]
        common: Common,
        /// The completed commit to savepoint.
        #[arg(long)]
        instant: Option<String>,
        /// Who savepoints (recorded in the savepoint).
        #[arg(long, default_value = "")]
        user: String,
        /// A comment recorded in the savepoint.
        #[arg(long, default_value = "")]
        comments: String,
    },
    /// List savepoints.
    ///
    /// Examples:
    ///   hudi savepoint list /data/events
    ///   hudi savepoint list /data/events --json
    #[command(verbatim_doc_comment)]
    List {
        #[command(flatten)]
        common: Common,
    },
    /// Delete a savepoint: its files become ordinary again (clean may delete them).
    ///
    /// Examples:
    ///   hudi savepoint delete /data/events --instant 20250101120000000
    #[command(verbatim_doc_comment)]
    Delete {
        #[command(flatten)]
        common: Common,
        /// The savepoint to delete.
        #[arg(long)]
        instant: String,
    },
    /// Restore the table to a savepoint: every instant after it is rolled back, newest
    /// first, under one restore instant.
    ///
    /// Examples:
    ///   hudi savepoint restore /data/events --instant 20250101120000000
    #[command(verbatim_doc_comment)]
    Restore {
        #[command(flatten)]
        common: Common,
        /// The savepoint to restore.
        #[arg(long)]
        instant: String,
    },
}

async fn open(c: &Common) -> Result<Table, CliError> {
    Ok(Table::open_with_options(&c.table, &c.storage.options()).await?)
}

pub async fn run(a: SavepointArgs) -> Result<(), CliError> {
    match a.command {
        SavepointCommand::Create {
            common,
            instant,
            user,
            comments,
        } => {
            let table = open(&common).await?;
            let mut b = table.savepoint().with_user(user).with_comments(comments);
            if let Some(t) = &instant {
                b = b.with_instant(crate::parse_instant("--instant", t)?);
            }
            let s = b.create().await?;
            if common.json {
                return print_json(&s.to_json());
            }
            println!(
                "savepoint {}: {} files in {} partitions kept",
                s.instant, s.files, s.partitions
            );
        }
        SavepointCommand::List { common } => {
            let table = open(&common).await?;
            let all = table.savepoint().list().await?;
            if common.json {
                return print_json(&json!(all.iter().map(Report::to_json).collect::<Vec<_>>()));
            }
            if all.is_empty() {
                println!("no savepoints");
            }
            for s in &all {
                let at = chrono::DateTime::from_timestamp_millis(s.savepointed_at_ms)
                    .map(|t| t.to_rfc3339())
                    .unwrap_or_default();
                println!(
                    "{}  {} files in {} partitions  created {at}{}{}",
                    s.instant,
                    s.files,
                    s.partitions,
                    if s.savepointed_by.is_empty() {
                        String::new()
                    } else {
                        format!(" by {}", s.savepointed_by)
                    },
                    if s.comments.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", s.comments)
                    }
                );
            }
        }
        SavepointCommand::Delete { common, instant } => {
            let table = open(&common).await?;
            let t = crate::parse_instant("--instant", &instant)?;
            table.savepoint().delete(t.clone()).await?;
            if common.json {
                return print_json(&json!({"deleted": t.as_str()}));
            }
            println!("savepoint {t} deleted");
        }
        SavepointCommand::Restore { common, instant } => {
            let table = open(&common).await?;
            let t = crate::parse_instant("--instant", &instant)?;
            let out = table.restore(t).run().await?;
            if common.json {
                return print_json(&out.to_json());
            }
            println!(
                "restored to savepoint {} (restore {}): {} instants rolled back, {} files deleted, {} ms",
                out.savepoint,
                out.restore_instant,
                out.rolled_back.len(),
                out.files_deleted,
                out.duration_ms
            );
            for (t, a) in &out.rolled_back {
                println!("  {a} {t}");
            }
        }
    }
    Ok(())
}
