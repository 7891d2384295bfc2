//! Pending table-service plans per file group: compactions (v6 `compaction.requested`) and
//! clustering (v6: a `replacecommit.requested` that carries a clustering plan).

use std::collections::BTreeMap;

use crate::error::{HudiError, Result};
use crate::model::metadata::{decode_json_or_avro, CompactionOperation};
use crate::model::{Action, Instant, InstantTime, State};
use crate::timeline::{Timeline, TimelineInstant};

use super::FileGroupId;

/// One file group's part of a pending compaction.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingCompaction {
    pub instant: InstantTime,
    pub operation: CompactionOperation,
}

/// Pending compactions, by file group.
pub async fn pending_compactions(
    timeline: &Timeline,
) -> Result<BTreeMap<FileGroupId, PendingCompaction>> {
    let mut out = BTreeMap::new();
    for (instant, plan) in timeline.pending_compactions().await? {
        for op in plan.operations {
            if let (Some(p), Some(f)) = (op.partition_path.clone(), op.file_id.clone()) {
                out.insert(
                    FileGroupId {
                        partition: p,
                        file_id: f,
                    },
                    PendingCompaction {
                        instant: instant.clone(),
                        operation: op,
                    },
                );
            }
        }
    }
    Ok(out)
}

/// The requested replace metadata of a pending replace or clustering instant, as JSON
/// (`None` when the file is empty or gone).
pub async fn requested_replace(
    timeline: &Timeline,
    i: &TimelineInstant,
) -> Result<Option<serde_json::Value>> {
    let req = Instant::new(i.requested().clone(), i.planned_action, State::Requested);
    let bytes = match timeline.read(&req).await {
        Ok(b) if !b.is_empty() => b,
        Ok(_) | Err(HudiError::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    decode_json_or_avro(&bytes)
        .map(Some)
        .map_err(|reason| HudiError::InstantMetadata {
            instant: i.requested().to_string(),
            path: timeline.instant_path(&req),
            what: "requested replace metadata",
            reason,
        })
}

/// Whether a pending replace instant is clustering (its requested metadata carries a plan).
pub async fn is_clustering(timeline: &Timeline, i: &TimelineInstant) -> Result<bool> {
    if i.planned_action == Action::Clustering {
        return Ok(true);
    }
    Ok(requested_replace(timeline, i)
        .await?
        .is_some_and(|v| v.get("clusteringPlan").is_some_and(|p| !p.is_null())))
}

/// File groups named by pending clustering plans, with the clustering instant.
pub async fn pending_clustering(timeline: &Timeline) -> Result<BTreeMap<FileGroupId, InstantTime>> {
    let mut out = BTreeMap::new();
    let pending: Vec<TimelineInstant> = timeline
        .pending()
        .filter(|i| matches!(i.action(), Action::ReplaceCommit | Action::Clustering))
        .cloned()
        .collect();
    for i in pending {
        let Some(v) = requested_replace(timeline, &i).await? else {
            continue;
        };
        for g in v["clusteringPlan"]["inputGroups"]
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            for s in g["slices"].as_array().cloned().unwrap_or_default() {
                if let (Some(f), Some(p)) = (s["fileId"].as_str(), s["partitionPath"].as_str()) {
                    out.insert(
                        FileGroupId {
                            partition: p.to_string(),
                            file_id: f.to_string(),
                        },
                        i.requested().clone(),
                    );
                }
            }
        }
    }
    Ok(out)
}
