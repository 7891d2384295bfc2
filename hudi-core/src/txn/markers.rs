//! DIRECT markers: an empty file `.hoodie/.temp/<T>/<partition>/<file>.marker.<TYPE>` created
//! before each data file, so a failed write's files can be found and removed.

use bytes::Bytes;

use crate::error::{HudiError, Result};
use crate::model::InstantTime;
use crate::storage::Storage;

/// Why a data file was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkerType {
    Create,
    Merge,
    Append,
}

impl MarkerType {
    pub fn token(&self) -> &'static str {
        match self {
            MarkerType::Create => "CREATE",
            MarkerType::Merge => "MERGE",
            MarkerType::Append => "APPEND",
        }
    }
}

/// The marker directory of an instant.
pub fn marker_dir(t: &InstantTime) -> String {
    format!(".hoodie/.temp/{t}")
}

/// Creates the marker of a data file (path relative to the base path).
pub async fn create_marker(
    storage: &Storage,
    t: &InstantTime,
    data_file: &str,
    kind: MarkerType,
) -> Result<()> {
    let path = format!("{}/{data_file}.marker.{}", marker_dir(t), kind.token());
    match storage.put_if_absent(&path, Bytes::new()).await {
        Ok(()) | Err(HudiError::AlreadyExists { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

/// The data files (relative paths) that markers of `t` name. Timeline-server markers
/// (`MARKERS*` files) are read too.
pub async fn marked_files(storage: &Storage, t: &InstantTime) -> Result<Vec<String>> {
    let dir = marker_dir(t);
    let mut out = Vec::new();
    for f in storage.list_recursive(&dir).await? {
        let rel = f
            .path
            .strip_prefix(&format!("{dir}/"))
            .unwrap_or(&f.path)
            .to_string();
        if let Some((data, _)) = rel.rsplit_once(".marker.") {
            out.push(data.to_string());
        } else if f.name.starts_with("MARKERS") && f.name != "MARKERS.type" {
            let text = storage.get(&f.path).await?;
            for line in String::from_utf8_lossy(&text).lines() {
                if let Some((data, _)) = line.trim().rsplit_once(".marker.") {
                    out.push(data.to_string());
                }
            }
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Deletes every marker of an instant, and its directory.
pub async fn delete_markers(storage: &Storage, t: &InstantTime) -> Result<()> {
    storage.delete_tree(&marker_dir(t)).await.map(|_| ())
}
