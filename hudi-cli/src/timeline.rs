//! `hudi timeline`.

use hudi_core::Table;
use serde_json::json;

use crate::error::CliError;
use crate::output::print_json;
use crate::StorageArgs;

/// The instants of the table's timeline, oldest first.
///
/// Examples:
///   hudi timeline /data/events                 # each instant's latest state
///   hudi timeline /data/events --incomplete    # failed or running writes, pending services
///   hudi timeline /data/events --all --json    # every state file, as JSON lines
///   hudi timeline /data/events --archived      # the archived timeline
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct TimelineArgs {
    /// Table path or URL.
    pub table: String,
    /// Print JSON lines instead of text.
    #[arg(long)]
    pub json: bool,
    /// List every state file of each instant (requested, inflight, completed), not only its
    /// latest state.
    #[arg(long)]
    pub all: bool,
    /// List the archived timeline (`.hoodie/archived/`) instead: every archived state of
    /// each instant, with the time it was reached.
    #[arg(long, conflicts_with = "incomplete")]
    pub archived: bool,
    /// Only instants that have not completed (requested or inflight): failed or running
    /// writes, pending compactions and cleans.
    #[arg(long)]
    pub incomplete: bool,
    #[command(flatten)]
    pub storage: StorageArgs,
}

pub async fn run(a: TimelineArgs) -> Result<(), CliError> {
    let table = Table::open_with_options(&a.table, &a.storage.options()).await?;
    if a.archived {
        return archived(&table, a.json).await;
    }
    let tl = table.timeline();
    let mut text = String::new();
    if !a.json {
        text.push_str(&format!(
            "{:<20}{:<15}{:<11}{:<20}\n",
            "requested", "action", "state", "completed"
        ));
    }
    for ti in tl.instants() {
        if a.incomplete && ti.is_completed() {
            continue;
        }
        let shown: Vec<&hudi_core::model::Instant> = if a.all {
            ti.state_files.iter().collect()
        } else {
            vec![&ti.instant]
        };
        for i in shown {
            // A completed instant's completion time is shown on each of its lines.
            let completed = ti.completion().map(|t| t.as_str());
            if a.json {
                print_json(&json!({
                    "requested": i.requested.as_str(),
                    "action": i.action.token(),
                    "state": i.state.token(),
                    "completed": completed,
                    "file": i.file_name(tl.layout()),
                }))?;
            } else {
                text.push_str(&format!(
                    "{:<20}{:<15}{:<11}{:<20}\n",
                    i.requested.as_str(),
                    i.action.token(),
                    i.state.token(),
                    completed.unwrap_or("-")
                ));
            }
        }
    }
    if !a.json {
        if a.incomplete && !tl.instants().iter().any(|i| !i.is_completed()) {
            println!("no incomplete instants");
            return Ok(());
        }
        print!("{text}");
    }
    Ok(())
}

async fn archived(table: &Table, as_json: bool) -> Result<(), CliError> {
    let all = hudi_core::services::archive::archived_instants(table.storage()).await?;
    let mut text = String::new();
    if !as_json {
        if all.is_empty() {
            println!("no archived instants");
            return Ok(());
        }
        text.push_str(&format!(
            "{:<20}{:<15}{:<11}{:<20}\n",
            "instant", "action", "state", "reached"
        ));
    }
    for i in &all {
        if as_json {
            print_json(&json!({
                "instant": i.instant,
                "action": i.action,
                "state": i.state,
                "reached": i.state_transition_time,
            }))?;
        } else {
            text.push_str(&format!(
                "{:<20}{:<15}{:<11}{:<20}\n",
                i.instant,
                i.action,
                i.state.to_ascii_lowercase(),
                i.state_transition_time.as_deref().unwrap_or("-")
            ));
        }
    }
    if !as_json {
        print!("{text}");
    }
    Ok(())
}
