//! Clean: deleting file slices no retained instant, savepoint or pending service needs.

pub mod config;
pub mod plan;
pub mod run;

pub use config::{CleanConfig, CleanPolicy};
pub use plan::{earliest_to_retain, CleanSelection};
pub use run::{automatic_due, clean, finish_pending, CleanOutcome, CleanReport, CleanRun};
