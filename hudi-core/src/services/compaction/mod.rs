//! Compaction of merge-on-read tables: [`plan::schedule`] writes a plan of file slices to
//! compact, [`run::run`] merges each slice into a new base file and completes the instant.

pub mod config;
pub mod plan;
pub mod run;

pub use config::CompactionConfig;
pub use plan::{schedule, ScheduleOutcome};
pub use run::{run, CompactionOutcome, PendingRun};
