//! The checks that start from the files: orphans, partition metadata, log files.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use super::timeline::Written;
use super::{finding, Check, Finding};
use crate::error::Result;
use crate::fs_view::FileSystemView;
use crate::io::log_block::walk;
use crate::io::log_reader::LogFileDecoder;
use crate::model::{DataFileName, InstantTime};
use crate::snapshot::Snapshot;
use crate::storage::{FileInfo, Storage};
use crate::timeline::Timeline;

/// Every file of the table outside `.hoodie`, by relative path.
pub(super) struct Listing {
    pub files: BTreeMap<String, FileInfo>,
}

pub(super) async fn list_table(storage: &Storage) -> Result<Listing> {
    let files = storage
        .list_recursive("")
        .await?
        .into_iter()
        .filter(|f| !f.path.starts_with(".hoodie/"))
        .map(|f| (f.path.clone(), f))
        .collect();
    Ok(Listing { files })
}

/// Data files nothing on the timeline accounts for (orphans), and those of pending instants.
pub(super) fn orphans(
    tl: &Timeline,
    w: &Written,
    listing: &Listing,
) -> (Vec<Finding>, Vec<String>) {
    let completed: HashSet<&InstantTime> = tl.completed_writes().map(|i| i.requested()).collect();
    let pending: HashSet<&InstantTime> = tl.pending().map(|i| i.requested()).collect();
    let earliest = tl.earliest_write();
    let archived = |t: &InstantTime| earliest.is_none_or(|e| t < e);
    let (mut out, mut pending_files) = (Vec::new(), Vec::new());
    for (path, f) in &listing.files {
        let (instant, is_base) = match DataFileName::classify(&f.name) {
            Some(Ok(DataFileName::Base(b))) => (b.instant, true),
            Some(Ok(DataFileName::Log(l))) => (l.instant, false),
            _ => continue,
        };
        if w.referenced.contains(path) || archived(&instant) {
            continue;
        }
        if pending.contains(&instant) {
            pending_files.push(path.clone());
        } else if !is_base && w.rolled_back.contains(&instant) {
            // A rolled-back delta commit's log file, with the rollback block Hudi appends
            // instead of deleting it: readers skip both.
            continue;
        } else if completed.contains(&instant) {
            // A log file carries its base file's instant; the delta commit that wrote it may
            // still be running.
            if is_base {
                out.push(finding(
                    Check::OrphanFile,
                    path,
                    format!("not among the files its instant {instant} committed"),
                ));
            } else if tl.pending().next().is_some() {
                pending_files.push(path.clone());
            }
        } else {
            out.push(finding(
                Check::OrphanFile,
                path,
                format!(
                    "written by {instant}, which is not on the timeline (rolled back, or never committed)"
                ),
            ));
        }
    }
    (out, pending_files)
}

/// Directories holding data files must hold the partition metadata file.
pub(super) fn partition_metadata(listing: &Listing) -> Vec<Finding> {
    let mut with_data = BTreeSet::new();
    let mut with_meta = HashSet::new();
    for (path, f) in &listing.files {
        let dir = path.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
        if f.name.starts_with(".hoodie_partition_metadata") {
            with_meta.insert(dir);
        } else if matches!(DataFileName::classify(&f.name), Some(Ok(_))) {
            with_data.insert(dir);
        }
    }
    with_data
        .into_iter()
        .filter(|d| !with_meta.contains(d))
        .map(|d| {
            let shown = if d.is_empty() { "." } else { d };
            finding(
                Check::PartitionMetadata,
                shown,
                "data files but no .hoodie_partition_metadata",
            )
        })
        .collect()
}

/// Every log file of the view walks without corrupt regions and its blocks decode.
pub(super) async fn log_files(
    storage: &Storage,
    table: &Snapshot,
    view: &FileSystemView,
    progress: Option<&crate::services::Progress>,
) -> Result<(Vec<Finding>, usize)> {
    let (schema, _) = table.schema().await?;
    let mut out = Vec::new();
    let mut count = 0;
    let logs: Vec<_> = view
        .groups
        .values()
        .flat_map(|g| g.slices.values())
        .flat_map(|s| s.log_files.iter())
        .collect();
    for l in &logs {
        crate::services::report(progress, "verify", "log files", count, logs.len());
        count += 1;
        let bytes = match storage.get(&l.path).await {
            Ok(b) => b,
            Err(e) => {
                out.push(finding(Check::LogFile, &l.path, e.to_string()));
                continue;
            }
        };
        let w = walk(&bytes);
        for c in &w.corrupt {
            out.push(finding(
                Check::LogFile,
                &l.path,
                format!(
                    "corrupt region at byte {} ({} bytes): {}",
                    c.offset, c.len, c.reason
                ),
            ));
        }
        let mut decoder = LogFileDecoder::new(schema.clone())?;
        for b in &w.blocks {
            if let Err(e) = decoder.decode_block(&l.path, b) {
                out.push(finding(Check::LogFile, &l.path, e.to_string()));
            }
        }
    }
    Ok((out, count))
}
