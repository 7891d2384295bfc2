//! Scheduling a compaction: whether one is due (the trigger), which file slices it takes (the
//! strategy), and its plan (`C.compaction.requested`, Avro `HoodieCompactionPlan` version 2,
//! with the `.hoodie/.aux/` copy Hudi 0.14 keeps).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use bytes::Bytes;

use super::config::{CompactionConfig, Strategy, Trigger};
use crate::config::table::{TableConfig, TableType};
use crate::error::{HudiError, Result};
use crate::fs_view::{FileSlice, FileSystemView};
use crate::model::avro_instants::encode_compaction_plan;
use crate::model::metadata::{CompactionOperation, CompactionPlan};
use crate::model::{Action, Instant, InstantTime, State, TimelineLayout};
use crate::storage::Storage;
use crate::timeline::transition::{next_instant, Clock};
use crate::timeline::Timeline;
use crate::txn::{SingleWriter, Transaction};

/// What scheduling did.
#[derive(Debug, Clone, PartialEq)]
pub enum ScheduleOutcome {
    /// A plan is on the timeline.
    Scheduled {
        instant: InstantTime,
        plan: CompactionPlan,
    },
    /// The trigger says no compaction is due yet.
    NotDue { reason: String },
    /// No file slice has anything to compact.
    NothingToCompact { reason: String },
}

pub const TOTAL_LOG_FILES: &str = "TOTAL_LOG_FILES";
pub const TOTAL_IO_READ_MB: &str = "TOTAL_IO_READ_MB";
pub const TOTAL_IO_WRITE_MB: &str = "TOTAL_IO_WRITE_MB";
pub const TOTAL_IO_MB: &str = "TOTAL_IO_MB";
pub const TOTAL_LOG_FILES_SIZE: &str = "TOTAL_LOG_FILES_SIZE";

const MB: u64 = 1024 * 1024;

/// Refuses tables compaction does not apply to.
pub(super) fn check_table(storage: &Storage, config: &TableConfig) -> Result<()> {
    if config.table_type != TableType::MergeOnRead {
        return Err(HudiError::Unsupported {
            path: storage.location().to_string(),
            feature: "compaction of a copy-on-write table (it has no log files)".into(),
        });
    }
    Ok(())
}

/// Schedules a compaction if one is due (always with `force`) and there is something to
/// compact. Refuses while a write is pending: its logs would be left out of the plan.
pub async fn schedule(
    storage: &Storage,
    config: &TableConfig,
    cc: &CompactionConfig,
    clock: &dyn Clock,
    force: bool,
) -> Result<ScheduleOutcome> {
    check_table(storage, config)?;
    let timeline = Timeline::load(storage, config).await?;
    if let Some(w) = timeline.pending().find(|i| {
        matches!(i.action(), Action::DeltaCommit | Action::Commit)
            && i.planned_action != Action::Compaction
            && !cc.concurrent_writers
    }) {
        return Err(HudiError::Unsupported {
            path: storage.location().to_string(),
            feature: format!(
                "scheduling a compaction while the write {} is pending (roll it back or let it finish first)",
                w.requested()
            ),
        });
    }
    if !force {
        if let Some(reason) = not_due(&timeline, cc, clock) {
            return Ok(ScheduleOutcome::NotDue { reason });
        }
    }
    let view = FileSystemView::load(storage, &timeline, None).await?;
    let busy = if cc.concurrent_writers {
        groups_of_pending_writes(storage, &timeline).await?
    } else {
        BTreeSet::new()
    };
    let free = candidates(&view, cc.max_file_size)
        .into_iter()
        .filter(|op| {
            let id = (
                op.partition_path.clone().unwrap_or_default(),
                op.file_id.clone().unwrap_or_default(),
            );
            !busy.contains(&id)
        })
        .collect();
    let operations = select(cc, free);
    if operations.is_empty() {
        return Ok(ScheduleOutcome::NothingToCompact {
            reason: "no file slice outside pending compactions and clustering has log files the strategy selects".into(),
        });
    }
    let plan = CompactionPlan {
        operations,
        extra_metadata: None,
        version: Some(2),
        strategy: None,
        preserve_hoodie_metadata: Some(false),
    };
    let bytes = encode_compaction_plan(&plan).map_err(|reason| HudiError::Avro {
        context: "compaction plan".into(),
        reason,
    })?;
    let instant = next_instant(&timeline, clock);
    Transaction::begin_at(
        storage,
        &timeline,
        instant.clone(),
        Action::Compaction,
        Bytes::from(bytes.clone()),
        Arc::new(SingleWriter),
    )
    .await?;
    // Hudi 0.14 keeps a copy of the plan in the auxiliary folder.
    let requested = Instant::new(instant.clone(), Action::Compaction, State::Requested);
    storage
        .put(
            &format!(".hoodie/.aux/{}", requested.file_name(TimelineLayout::V1)),
            Bytes::from(bytes),
        )
        .await?;
    Ok(ScheduleOutcome::Scheduled { instant, plan })
}

/// Why no compaction is due yet, or `None` when one is.
fn not_due(timeline: &Timeline, cc: &CompactionConfig, clock: &dyn Clock) -> Option<String> {
    let last_compaction = timeline
        .instants()
        .iter()
        .filter(|i| i.planned_action == Action::Compaction)
        .map(|i| i.requested().clone())
        .max();
    let deltas: Vec<&InstantTime> = timeline
        .completed_writes()
        .filter(|i| i.action() == Action::DeltaCommit)
        .map(|i| i.requested())
        .filter(|t| last_compaction.as_ref().is_none_or(|c| *t > c))
        .collect();
    let since = last_compaction.as_ref().or(deltas.first().copied());
    let elapsed = since
        .and_then(InstantTime::to_datetime_utc)
        .map(|t| (clock.now() - t).num_seconds())
        .unwrap_or(0);
    let by_count = deltas.len() >= cc.max_delta_commits;
    let by_time = elapsed >= cc.max_delta_seconds;
    let due = match cc.trigger {
        Trigger::NumCommits => by_count,
        Trigger::TimeElapsed => by_time,
        Trigger::NumAndTime => by_count && by_time,
        Trigger::NumOrTime => by_count || by_time,
    };
    (!due).then(|| {
        format!(
            "{} delta commits since the last compaction (due at {}), {elapsed} s elapsed (due at {} s), trigger {:?}",
            deltas.len(),
            cc.max_delta_commits,
            cc.max_delta_seconds,
            cc.trigger
        )
    })
}

/// The latest slice of every file group that has log files and no pending compaction or
/// clustering, as a plan operation with Hudi's metrics.
/// The file groups (partition, file id) running writes have written into so far, by their
/// markers: a compaction scheduled beside concurrent writers leaves them out (they are
/// compacted next time), so that no running write conflicts with the plan.
async fn groups_of_pending_writes(
    storage: &Storage,
    timeline: &Timeline,
) -> Result<BTreeSet<(String, String)>> {
    let mut out = BTreeSet::new();
    for i in timeline
        .pending()
        .filter(|i| i.action().is_write() && i.planned_action != Action::Compaction)
    {
        for f in crate::txn::markers::marked_files(storage, i.requested()).await? {
            let (partition, name) = f.rsplit_once('/').unwrap_or(("", f.as_str()));
            if let Some(Ok(d)) = crate::model::DataFileName::classify(name) {
                out.insert((partition.to_string(), d.file_id().to_string()));
            }
        }
    }
    Ok(out)
}

fn candidates(view: &FileSystemView, max_file_size: u64) -> Vec<CompactionOperation> {
    view.groups
        .iter()
        .filter(|(id, _)| {
            !view.pending_compactions.contains_key(*id)
                && !view.pending_clustering.contains_key(*id)
        })
        .filter_map(|(_, g)| g.slices.values().next_back())
        .filter(|s| !s.log_files.is_empty())
        .map(|s| operation(s, max_file_size))
        .collect()
}

/// One slice as a plan operation: file names, and the metrics Java's strategies compute
/// (`CompactionStrategy.captureMetrics`, sizes in whole MB).
pub fn operation(slice: &FileSlice, max_file_size: u64) -> CompactionOperation {
    let log_size: u64 = slice.log_files.iter().map(|l| l.size).sum();
    let base_size = slice.base_file.as_ref().map_or(0, |b| b.size);
    let read_mb = (base_size + log_size) / MB;
    let write_mb = slice.base_file.as_ref().map_or(max_file_size, |b| b.size) / MB;
    let metrics = BTreeMap::from([
        (TOTAL_LOG_FILES.to_string(), slice.log_files.len() as f64),
        (TOTAL_IO_READ_MB.to_string(), read_mb as f64),
        (TOTAL_IO_WRITE_MB.to_string(), write_mb as f64),
        (TOTAL_IO_MB.to_string(), (read_mb + write_mb) as f64),
        (TOTAL_LOG_FILES_SIZE.to_string(), log_size as f64),
    ]);
    CompactionOperation {
        base_instant_time: Some(slice.base_instant.to_string()),
        delta_file_paths: slice.log_files.iter().map(|l| l.name.to_string()).collect(),
        data_file_path: slice.base_file.as_ref().map(|b| b.name.to_string()),
        file_id: Some(slice.file_id.clone()),
        partition_path: Some(slice.partition.clone()),
        metrics: Some(metrics),
        bootstrap_file_path: None,
    }
}

fn metric(op: &CompactionOperation, name: &str) -> f64 {
    op.metrics
        .as_ref()
        .and_then(|m| m.get(name))
        .copied()
        .unwrap_or(0.0)
}

/// Operations in order until their IO reaches the target (Java's BoundedIOCompactionStrategy:
/// the operation that crosses it is still taken).
fn bounded_io(ops: Vec<CompactionOperation>, target_mb: u64) -> Vec<CompactionOperation> {
    let mut remaining = target_mb as i64;
    let mut out = Vec::new();
    for op in ops {
        remaining -= metric(&op, TOTAL_IO_MB) as i64;
        out.push(op);
        if remaining <= 0 {
            break;
        }
    }
    out
}

/// Orders and filters candidates as the configured strategy does.
pub fn select(
    cc: &CompactionConfig,
    mut ops: Vec<CompactionOperation>,
) -> Vec<CompactionOperation> {
    let desc = |name: &'static str| {
        move |a: &CompactionOperation, b: &CompactionOperation| {
            metric(b, name).total_cmp(&metric(a, name))
        }
    };
    match cc.strategy {
        Strategy::Unbounded => ops,
        Strategy::BoundedIo => bounded_io(ops, cc.target_io_mb),
        Strategy::LogFileSizeBased => {
            ops.retain(|o| metric(o, TOTAL_LOG_FILES_SIZE) >= cc.logfile_size_threshold as f64);
            ops.sort_by(desc(TOTAL_LOG_FILES_SIZE));
            bounded_io(ops, cc.target_io_mb)
        }
        Strategy::LogFileNumBased => {
            ops.retain(|o| metric(o, TOTAL_LOG_FILES) >= cc.logfile_num_threshold as f64);
            ops.sort_by(desc(TOTAL_LOG_FILES));
            bounded_io(ops, cc.target_io_mb)
        }
        Strategy::DayBased => {
            let mut days: Vec<String> = ops
                .iter()
                .filter_map(|o| o.partition_path.clone())
                .collect();
            days.sort_by_key(|d| std::cmp::Reverse(day_key(d)));
            days.dedup();
            days.truncate(cc.daybased_target_partitions);
            ops.retain(|o| o.partition_path.as_ref().is_some_and(|p| days.contains(p)));
            ops
        }
    }
}

/// A date partition's sort key (`yyyy/MM/dd`, `yyyy-MM-dd` or hive-style `dt=...`): its
/// digits, so later days sort greater.
fn day_key(partition: &str) -> String {
    partition.chars().filter(char::is_ascii_digit).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(partition: &str, logs: f64, log_size: f64, io: f64) -> CompactionOperation {
        CompactionOperation {
            partition_path: Some(partition.into()),
            metrics: Some(BTreeMap::from([
                (TOTAL_LOG_FILES.to_string(), logs),
                (TOTAL_LOG_FILES_SIZE.to_string(), log_size),
                (TOTAL_IO_MB.to_string(), io),
            ])),
            ..Default::default()
        }
    }

    fn cc(pairs: &[(&str, &str)]) -> CompactionConfig {
        CompactionConfig::from_options(
            &pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
        .unwrap()
    }

    #[test]
    fn strategies_order_filter_and_bound_like_hudi() {
        let ops = vec![
            op("2024/01/01", 1.0, 10.0, 100.0),
            op("2024/01/03", 3.0, 30.0, 100.0),
            op("2024/01/02", 2.0, 20.0, 100.0),
        ];
        let parts = |v: Vec<CompactionOperation>| {
            v.into_iter()
                .map(|o| o.partition_path.unwrap())
                .collect::<Vec<_>>()
        };
        // Default: largest logs first, bounded by the target IO (the crossing one is taken).
        let c = cc(&[("hoodie.compaction.target.io", "150")]);
        assert_eq!(parts(select(&c, ops.clone())), ["2024/01/03", "2024/01/02"]);
        let c = cc(&[("hoodie.compaction.logfile.size.threshold", "15")]);
        assert_eq!(parts(select(&c, ops.clone())), ["2024/01/03", "2024/01/02"]);
        let c = cc(&[
            (
                "hoodie.compaction.strategy",
                "org.apache.hudi.table.action.compact.strategy.LogFileNumBasedCompactionStrategy",
            ),
            ("hoodie.compaction.logfile.num.threshold", "3"),
        ]);
        assert_eq!(parts(select(&c, ops.clone())), ["2024/01/03"]);
        let c = cc(&[
            ("hoodie.compaction.strategy", "DayBasedCompactionStrategy"),
            ("hoodie.compaction.daybased.target.partitions", "2"),
        ]);
        assert_eq!(parts(select(&c, ops.clone())), ["2024/01/03", "2024/01/02"]);
        let c = cc(&[("hoodie.compaction.strategy", "UnBoundedCompactionStrategy")]);
        assert_eq!(select(&c, ops.clone()).len(), 3);
        assert!(CompactionConfig::from_options(&BTreeMap::from([(
            "hoodie.compaction.strategy".to_string(),
            "com.x.Mine".to_string()
        )]))
        .is_err());
    }
}
