//! Compaction options (`hoodie.compact.*`, `hoodie.compaction.*`), parsed once.

use std::collections::BTreeMap;

use crate::config::ConfigKey;
use crate::error::Result;
use crate::services::{bad_option, flag, num};

pub const INLINE: ConfigKey = ConfigKey::new("hoodie.compact.inline").with_default("false");
pub const MAX_DELTA_COMMITS: ConfigKey =
    ConfigKey::new("hoodie.compact.inline.max.delta.commits").with_default("5");
pub const MAX_DELTA_SECONDS: ConfigKey =
    ConfigKey::new("hoodie.compact.inline.max.delta.seconds").with_default("3600");
pub const TRIGGER: ConfigKey =
    ConfigKey::new("hoodie.compact.inline.trigger.strategy").with_default("NUM_COMMITS");
pub const STRATEGY: ConfigKey = ConfigKey::new("hoodie.compaction.strategy").with_default(
    "org.apache.hudi.table.action.compact.strategy.LogFileSizeBasedCompactionStrategy",
);
pub const TARGET_IO_MB: ConfigKey =
    ConfigKey::new("hoodie.compaction.target.io").with_default("512000");
pub const LOGFILE_SIZE_THRESHOLD: ConfigKey =
    ConfigKey::new("hoodie.compaction.logfile.size.threshold").with_default("0");
pub const LOGFILE_NUM_THRESHOLD: ConfigKey =
    ConfigKey::new("hoodie.compaction.logfile.num.threshold").with_default("0");
pub const DAYBASED_TARGET_PARTITIONS: ConfigKey =
    ConfigKey::new("hoodie.compaction.daybased.target.partitions").with_default("10");
pub const MEMORY: ConfigKey =
    ConfigKey::new("hoodie.memory.compaction.max.size").with_default("1073741824");
pub const MAX_FILE_SIZE: ConfigKey =
    ConfigKey::new("hoodie.parquet.max.file.size").with_default("125829120");

/// When a compaction is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    NumCommits,
    TimeElapsed,
    NumAndTime,
    NumOrTime,
}

/// Which file slices a plan takes, and in what order (Hudi's compaction strategies).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Largest logs first, slices with at least `hoodie.compaction.logfile.size.threshold`
    /// bytes of logs, up to the target IO (Hudi's default).
    LogFileSizeBased,
    /// Slices with at least `hoodie.compaction.logfile.num.threshold` log files.
    LogFileNumBased,
    /// Every slice with logs.
    Unbounded,
    /// Slices in order until the target IO is reached.
    BoundedIo,
    /// The latest `hoodie.compaction.daybased.target.partitions` date partitions.
    DayBased,
}

impl Strategy {
    fn parse(s: &str) -> Option<Strategy> {
        Some(match s.rsplit('.').next().unwrap_or(s) {
            "LogFileSizeBasedCompactionStrategy" => Strategy::LogFileSizeBased,
            "LogFileNumBasedCompactionStrategy" => Strategy::LogFileNumBased,
            "UnBoundedCompactionStrategy" => Strategy::Unbounded,
            "BoundedIOCompactionStrategy" => Strategy::BoundedIo,
            "DayBasedCompactionStrategy" => Strategy::DayBased,
            _ => return None,
        })
    }
}

/// Typed compaction options.
#[derive(Debug, Clone)]
pub struct CompactionConfig {
    /// Compact after writes (`hoodie.compact.inline`).
    pub inline: bool,
    pub max_delta_commits: usize,
    pub max_delta_seconds: i64,
    pub trigger: Trigger,
    pub strategy: Strategy,
    pub target_io_mb: u64,
    pub logfile_size_threshold: u64,
    pub logfile_num_threshold: usize,
    pub daybased_target_partitions: usize,
    /// Log bytes one file group merges in memory before spilling.
    pub memory_budget: usize,
    /// The write IO a slice without a base file is estimated at.
    pub max_file_size: u64,
    /// Optimistic concurrency control: writes may be pending when a compaction is scheduled
    /// (each finds the plan in its conflict check), as Hudi allows with multiple writers.
    pub concurrent_writers: bool,
}

impl CompactionConfig {
    pub fn from_options(o: &BTreeMap<String, String>) -> Result<Self> {
        let trigger_s = TRIGGER.get(o).unwrap_or("NUM_COMMITS");
        let trigger = match trigger_s.to_ascii_uppercase().as_str() {
            "NUM_COMMITS" => Trigger::NumCommits,
            "TIME_ELAPSED" => Trigger::TimeElapsed,
            "NUM_AND_TIME" => Trigger::NumAndTime,
            "NUM_OR_TIME" => Trigger::NumOrTime,
            _ => {
                return Err(bad_option(
                    &TRIGGER,
                    trigger_s,
                    "NUM_COMMITS, TIME_ELAPSED, NUM_AND_TIME or NUM_OR_TIME",
                ))
            }
        };
        let strategy_s = STRATEGY.get(o).unwrap_or_default();
        let strategy = Strategy::parse(strategy_s).ok_or_else(|| {
            bad_option(
                &STRATEGY,
                strategy_s,
                "supported: LogFileSizeBased, LogFileNumBased, UnBounded, BoundedIO and DayBased CompactionStrategy",
            )
        })?;
        let c = CompactionConfig {
            inline: flag(o, &INLINE)?,
            max_delta_commits: num(o, &MAX_DELTA_COMMITS)?,
            max_delta_seconds: num(o, &MAX_DELTA_SECONDS)?,
            trigger,
            strategy,
            target_io_mb: num(o, &TARGET_IO_MB)?,
            logfile_size_threshold: num(o, &LOGFILE_SIZE_THRESHOLD)?,
            logfile_num_threshold: num(o, &LOGFILE_NUM_THRESHOLD)?,
            daybased_target_partitions: num(o, &DAYBASED_TARGET_PARTITIONS)?,
            memory_budget: num(o, &MEMORY)?,
            max_file_size: num(o, &MAX_FILE_SIZE)?,
            concurrent_writers: crate::txn::concurrency::MODE.get(o).is_some_and(|m| {
                m.trim()
                    .eq_ignore_ascii_case("optimistic_concurrency_control")
            }),
        };
        if c.max_delta_commits == 0 {
            return Err(bad_option(&MAX_DELTA_COMMITS, "0", "must be positive"));
        }
        Ok(c)
    }
}
