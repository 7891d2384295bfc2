//! One `HoodieArchivedMetaEntry` per state file of an archived instant, as Hudi's
//! `MetadataConversionUtils.createMetaWrapper` makes it: the state's content decoded into the
//! entry's field for its action (commit metadata re-shaped as the Avro `HoodieCommitMetadata`,
//! rolling stats blanked), its state and the time the state file was written.

use serde_json::{json, Map, Value as Json};

use crate::model::metadata::{avro_container_to_json, is_avro_container, DecodeResult};
use crate::model::{Action, Instant, State};
use crate::timeline::transition::instant_at;
use crate::timeline::Timeline;

/// The content of a state file as JSON (`None` when empty).
fn content(bytes: &[u8]) -> DecodeResult<Option<Json>> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    if is_avro_container(bytes) {
        return avro_container_to_json(bytes).map(Some);
    }
    serde_json::from_slice(bytes)
        .map(Some)
        .map_err(|e| e.to_string())
}

/// Commit metadata (JSON) as the Avro `HoodieCommitMetadata` Java's archiver converts it to.
fn commit_metadata(c: Option<&Json>) -> Json {
    let empty = Map::new();
    let obj = c.and_then(Json::as_object).unwrap_or(&empty);
    let mut extra = obj
        .get("extraMetadata")
        .and_then(Json::as_object)
        .cloned()
        .unwrap_or_default();
    // Java does not archive rolling stats.
    extra.insert("ROLLING_STAT".into(), json!(""));
    let compacted = obj.get("compacted").and_then(Json::as_bool) == Some(true);
    let operation = if compacted {
        json!("COMPACT")
    } else {
        obj.get("operationType")
            .filter(|v| v.is_string())
            .cloned()
            .unwrap_or(json!("UNKNOWN"))
    };
    let mut out = json!({
        "partitionToWriteStats": obj.get("partitionToWriteStats").cloned().unwrap_or(json!({})),
        "extraMetadata": extra,
        "version": null,
        "operationType": operation,
    });
    if let Some(r) = obj.get("partitionToReplaceFileIds") {
        out["partitionToReplaceFileIds"] = r.clone();
    }
    out
}

/// The archived entry of one state file of an instant.
pub fn entry(
    timeline: &Timeline,
    state: &Instant,
    modified_ms: i64,
    bytes: &[u8],
) -> DecodeResult<Json> {
    let transition = chrono::DateTime::from_timestamp_millis(modified_ms)
        .map(|t| instant_at(timeline, &t).to_string());
    let mut e = json!({
        "commitTime": state.requested.as_str(),
        "actionType": state.action.token(),
        "actionState": match state.state {
            State::Requested => "REQUESTED",
            State::Inflight => "INFLIGHT",
            State::Completed => "COMPLETED",
        },
        "stateTransitionTime": transition,
        "version": null,
    });
    let c = content(bytes).map_err(|e| format!("{}: {e}", state.file_name(timeline.layout())))?;
    let completed = state.state == State::Completed;
    if completed && c.is_none() {
        // An empty completed file (a crash on HDFS or a local disk): the entry names it only.
        return Ok(e);
    }
    let (field, value) = match (state.action, state.state) {
        (Action::Commit | Action::DeltaCommit, _) => {
            ("hoodieCommitMetadata", Some(commit_metadata(c.as_ref())))
        }
        (Action::ReplaceCommit, State::Completed) => (
            "hoodieReplaceCommitMetadata",
            Some(commit_metadata(c.as_ref())),
        ),
        (Action::ReplaceCommit, State::Inflight) => (
            "HoodieInflightReplaceMetadata",
            c.as_ref().map(|c| commit_metadata(Some(c))),
        ),
        (Action::ReplaceCommit, State::Requested) => ("hoodieRequestedReplaceMetadata", c),
        (Action::Clean, State::Completed) => ("hoodieCleanMetadata", c),
        (Action::Clean, _) => ("hoodieCleanerPlan", c),
        (Action::Rollback, State::Completed) => ("hoodieRollbackMetadata", c),
        (Action::Compaction, State::Requested) => ("hoodieCompactionPlan", c),
        (Action::Savepoint, State::Completed) => ("hoodieSavePointMetadata", c),
        _ => ("", None),
    };
    if let Some(v) = value {
        e[field] = v;
    }
    Ok(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_metadata_is_reshaped_like_javas() {
        let c = json!({"partitionToWriteStats": {"p": [{"fileId": "f"}]}, "compacted": true,
            "extraMetadata": {"schema": "s"}, "operationType": "UPSERT", "writePartitionPaths": ["p"]});
        let m = commit_metadata(Some(&c));
        assert_eq!(m["operationType"], "COMPACT");
        assert_eq!(m["extraMetadata"]["ROLLING_STAT"], "");
        assert_eq!(m["extraMetadata"]["schema"], "s");
        assert!(m.get("writePartitionPaths").is_none());
        let empty = commit_metadata(None);
        assert_eq!(empty["operationType"], "UNKNOWN");
        assert_eq!(empty["partitionToWriteStats"], json!({}));
    }
}
