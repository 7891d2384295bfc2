//! What writes and table services did, as JSON: the one shape the `hudi` command prints with
//! `--json` and the Python package returns as dicts.

use serde_json::{json, Value};

use crate::services::archive::ArchiveOutcome;
use crate::services::clean::run::{CleanOutcome, CleanReport, CleanRun};
use crate::services::compaction::plan::ScheduleOutcome;
use crate::services::compaction::run::{CompactionOutcome, PendingRun};
use crate::services::restore::RestoreOutcome;
use crate::services::savepoint::SavepointInfo;
use crate::txn::rollback::RollbackOutcome;
use crate::write::WriteMetrics;

/// An outcome as JSON.
pub trait Report {
    fn to_json(&self) -> Value;
}

impl Report for WriteMetrics {
    fn to_json(&self) -> Value {
        json!({
            "instant": self.instant.as_str(),
            "operation": self.operation.token(),
            "records_inserted": self.records_inserted,
            "records_updated": self.records_updated,
            "records_deleted": self.records_deleted,
            "files_written": self.files_written,
            "file_groups_replaced": self.file_groups_replaced,
            "bytes_written": self.bytes_written,
            "duration_ms": self.duration_ms,
            "rolled_back": self.rolled_back.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
            "inline_services": self.inline_services.iter().map(|s| json!({
                "service": s.service,
                "instant": s.instant.as_str(),
                "detail": s.detail,
            })).collect::<Vec<_>>(),
        })
    }
}

impl Report for ScheduleOutcome {
    fn to_json(&self) -> Value {
        match self {
            ScheduleOutcome::Scheduled { instant, plan } => json!({
                "scheduled": instant.as_str(),
                "file_groups": plan.operations.len(),
            }),
            ScheduleOutcome::NotDue { reason } => json!({"scheduled": null, "not_due": reason}),
            ScheduleOutcome::NothingToCompact { reason } => {
                json!({"scheduled": null, "nothing_to_compact": reason})
            }
        }
    }
}

impl Report for PendingRun {
    fn to_json(&self) -> Value {
        match self {
            PendingRun::Ran(outcome) => outcome.to_json(),
            PendingRun::NothingToCompact { reason } => {
                json!({"compacted": null, "nothing_to_compact": reason})
            }
        }
    }
}

impl Report for CompactionOutcome {
    fn to_json(&self) -> Value {
        json!({
            "compacted": self.instant.as_str(),
            "file_groups": self.file_groups,
            "records_written": self.records_written,
            "log_records": self.log_records,
            "bytes_written": self.bytes_written,
            "spilled_groups": self.spilled_groups,
            "retried": self.retried,
            "duration_ms": self.duration_ms,
        })
    }
}

impl Report for CleanReport {
    fn to_json(&self) -> Value {
        json!({
            "instant": self.instant.as_str(),
            "policy": self.policy,
            "earliest_retained": self.earliest_retained.as_ref().map(|t| t.as_str()),
            "files_deleted": self.files_deleted(),
            "deleted": self.deleted,
            "already_gone": self.missing,
            "partitions_deleted": self.partitions_deleted,
            "duration_ms": self.duration_ms,
        })
    }
}

impl Report for CleanRun {
    fn to_json(&self) -> Value {
        let outcome = match &self.outcome {
            CleanOutcome::Cleaned(r) => json!({"cleaned": r.to_json()}),
            CleanOutcome::WouldClean(s) => json!({"dry_run": {
                "earliest_retained": s.earliest_retained.as_ref().map(|(t, _)| t.as_str()),
                "files": s.files,
                "partitions": s.partitions,
            }}),
            CleanOutcome::NothingToClean { reason } => json!({"nothing_to_clean": reason}),
        };
        json!({
            "finished_pending": self.finished.iter().map(Report::to_json).collect::<Vec<_>>(),
            "outcome": outcome,
        })
    }
}

impl Report for RollbackOutcome {
    fn to_json(&self) -> Value {
        json!({
            "rolled_back": self.rolled_back.as_str(),
            "action": self.action.token(),
            "rollback_instant": self.rollback_instant.as_str(),
            "files_deleted": self.files_deleted,
        })
    }
}

impl Report for SavepointInfo {
    fn to_json(&self) -> Value {
        json!({
            "instant": self.instant.as_str(),
            "savepointed_at_ms": self.savepointed_at_ms,
            "savepointed_by": self.savepointed_by,
            "comments": self.comments,
            "partitions": self.partitions,
            "files": self.files,
        })
    }
}

impl Report for RestoreOutcome {
    fn to_json(&self) -> Value {
        json!({
            "restore_instant": self.restore_instant.as_str(),
            "savepoint": self.savepoint.as_str(),
            "rolled_back": self.rolled_back.iter()
                .map(|(t, a)| json!({"instant": t.as_str(), "action": a}))
                .collect::<Vec<_>>(),
            "files_deleted": self.files_deleted,
            "duration_ms": self.duration_ms,
        })
    }
}

impl Report for ArchiveOutcome {
    fn to_json(&self) -> Value {
        match self {
            ArchiveOutcome::Archived {
                instants,
                file,
                commits_left,
            } => json!({
                "archived": instants.iter()
                    .map(|(t, a)| json!({"instant": t.as_str(), "action": a.token()}))
                    .collect::<Vec<_>>(),
                "file": file,
                "commits_left": commits_left,
            }),
            ArchiveOutcome::NothingToArchive { reason } => {
                json!({"archived": [], "nothing_to_archive": reason})
            }
        }
    }
}
