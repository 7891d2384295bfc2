//! Compaction of merge-on-read tables: [`plan::schedule`] writes a plan of file slices to
//! compact, [`run::run`] merges each slice into a new base file and completes the instant.

pub mod config;
pub mod plan;
pub mod run;

pub use config::CompactionConfig;
pub use plan::{schedule, ScheduleOutcome};
pub use run::{run, CompactionOutcome, PendingRun};

use std::collections::BTreeMap;

use crate::config::table::TableConfig;
use crate::error::Result;
use crate::storage::Storage;
use crate::timeline::transition::Clock;

/// Schedules a compaction if one is due (always with `force`), then runs the one it
/// scheduled: the rule inline compaction and `CompactionBuilder::schedule_and_run` share.
pub async fn schedule_then_run(
    storage: &Storage,
    config: &TableConfig,
    cc: &CompactionConfig,
    clock: &dyn Clock,
    force: bool,
    options: &BTreeMap<String, String>,
    progress: Option<&crate::services::Progress>,
) -> Result<(ScheduleOutcome, Option<CompactionOutcome>)> {
    let scheduled = schedule(storage, config, cc, clock, force).await?;
    let ran = match &scheduled {
        ScheduleOutcome::Scheduled { instant, .. } => {
            Some(run(storage, config, Some(instant), cc, options, progress).await?)
        }
        _ => None,
    };
    Ok((scheduled, ran))
}
