//! Archival (table version 6): once the active timeline holds more than
//! `hoodie.keep.max.commits` completed commits, the oldest move into the archived timeline
//! (`.hoodie/archived/`) down to `hoodie.keep.min.commits`, never past a pending instant, the
//! first savepoint or what the last clean retains; readers of the active timeline treat what
//! precedes it as committed, and `hudi timeline --archived` reads the archive back.

pub mod config;
pub mod entry;
pub mod log;
pub mod select;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value as Json;

pub use config::ArchiveConfig;
use select::{select, LastClean};

use crate::config::table::{TableConfig, TableType};
use crate::error::{HudiError, Result};
use crate::model::{Action, InstantTime};
use crate::services::compaction::CompactionConfig;
use crate::storage::Storage;
use crate::timeline::Timeline;

/// What an archival did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArchiveOutcome {
    Archived {
        /// The instants moved, oldest first, with their actions.
        instants: Vec<(InstantTime, Action)>,
        /// The archive file written.
        file: String,
        /// Completed commits left on the active timeline.
        commits_left: usize,
    },
    NothingToArchive {
        reason: String,
    },
}

/// One archived instant state, read back.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ArchivedInstant {
    pub instant: String,
    pub action: String,
    pub state: String,
    pub state_transition_time: Option<String>,
}

/// Archives what the options allow.
pub async fn archive(
    storage: &Storage,
    config: &TableConfig,
    options: &BTreeMap<String, String>,
) -> Result<ArchiveOutcome> {
    let all = config.options_with(options);
    let ac = ArchiveConfig::from_options(&all)?;
    let cc = CompactionConfig::from_options(&all)?;
    let timeline = Timeline::load(storage, config).await?;
    let clean = timeline.last_clean().await?.map(|(t, m)| LastClean {
        instant: t,
        earliest_retained: InstantTime::parse(&m.earliest_commit_to_retain).ok(),
    });
    let mor = config.table_type == TableType::MergeOnRead;
    let selection = select(&timeline, mor, &cc, &ac, clean.as_ref());
    let commits = timeline.completed_writes().count();
    if selection.instants.is_empty() {
        let reason = match &selection.commits_kept_by {
            Some(why) => format!("the oldest commits stay for {why}"),
            None => format!(
                "{commits} completed commits: archiving starts above hoodie.keep.max.commits ({})",
                ac.max_commits
            ),
        };
        return Ok(ArchiveOutcome::NothingToArchive { reason });
    }
    let mut entries: Vec<Json> = Vec::new();
    for ti in &selection.instants {
        for (k, state) in ti.state_files.iter().enumerate() {
            let bytes = timeline.read(state).await?;
            let modified = ti
                .state_modified_ms
                .get(k)
                .copied()
                .unwrap_or(ti.modified_ms);
            let e = entry::entry(&timeline, state, modified, &bytes).map_err(|reason| {
                HudiError::InstantMetadata {
                    instant: state.requested.to_string(),
                    path: storage.display(&timeline.instant_path(state)),
                    what: "instant to archive",
                    reason,
                }
            })?;
            entries.push(e);
        }
    }
    // The archive first: a crash after it leaves the instants on both timelines (read once),
    // never on neither.
    let file = log::write(storage, &entries, ac.batch).await?;
    crate::txn::instants::retire_archived(storage, &timeline, &selection.instants).await?;
    let archived_commits = selection
        .instants
        .iter()
        .filter(|i| i.is_completed_write())
        .count();
    Ok(ArchiveOutcome::Archived {
        instants: selection
            .instants
            .iter()
            .map(|i| (i.requested().clone(), i.action()))
            .collect(),
        file,
        commits_left: commits - archived_commits,
    })
}

/// Every instant state of the archived timeline, oldest first (duplicates of an archival
/// that stopped before removing its instants read once).
pub async fn archived_instants(storage: &Storage) -> Result<Vec<ArchivedInstant>> {
    let s = |v: &Json| v.as_str().map(String::from);
    let set: BTreeSet<ArchivedInstant> = log::read(storage)
        .await?
        .iter()
        .map(|e| ArchivedInstant {
            instant: s(&e["commitTime"]).unwrap_or_default(),
            action: s(&e["actionType"]).unwrap_or_default(),
            state: s(&e["actionState"]).unwrap_or_default(),
            state_transition_time: s(&e["stateTransitionTime"]),
        })
        .collect();
    Ok(set.into_iter().collect())
}
