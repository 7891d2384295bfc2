//! Table services: compaction (merge-on-read), clean, rollback, savepoints and restore,
//! archival. Each plans from one file-system view and commits through the transaction core.

pub mod archive;
pub mod checkpoint;
pub mod clean;
pub mod compaction;
pub mod repair;
pub mod restore;
pub mod rollback;
pub mod savepoint;
pub mod verify;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::config::ConfigKey;
use crate::error::{HudiError, Result};

/// How far a long service run has got: `done` of `total` units (file groups compacted, files
/// deleted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProgressEvent {
    pub service: &'static str,
    pub unit: &'static str,
    pub done: usize,
    pub total: usize,
}

/// A receiver of progress events (a progress bar, a log line).
pub type Progress = Arc<dyn Fn(ProgressEvent) + Send + Sync>;

pub(crate) fn report(
    p: Option<&Progress>,
    service: &'static str,
    unit: &'static str,
    done: usize,
    total: usize,
) {
    if let Some(p) = p {
        p(ProgressEvent {
            service,
            unit,
            done,
            total,
        });
    }
}

/// A service option that is missing or malformed.
pub(crate) fn bad_option(key: &ConfigKey, value: &str, reason: &str) -> HudiError {
    HudiError::InvalidConfig {
        key: key.key.to_string(),
        value: value.to_string(),
        source_name: "service options".into(),
        reason: reason.to_string(),
    }
}

/// A numeric option (its default when absent).
pub(crate) fn num<T: std::str::FromStr>(
    o: &BTreeMap<String, String>,
    key: &ConfigKey,
) -> Result<T> {
    let v = key.get(o).unwrap_or("");
    v.trim()
        .parse()
        .map_err(|_| bad_option(key, v, "not a number"))
}

/// A boolean option (its default when absent).
pub(crate) fn flag(o: &BTreeMap<String, String>, key: &ConfigKey) -> Result<bool> {
    let v = key.get(o).unwrap_or("");
    match v.trim().to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(bad_option(key, v, "expected true or false")),
    }
}
