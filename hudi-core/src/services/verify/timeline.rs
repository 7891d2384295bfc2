//! The checks that start from `.hoodie`: properties, instant metadata, the files commits
//! name, marker directories.

use std::collections::{BTreeMap, HashSet};

use super::files::Listing;
use super::{finding, Check, Finding};
use crate::config::properties;
use crate::config::table::TableConfig;
use crate::error::Result;
use crate::model::metadata::{decode_json_or_avro, RestoreMetadata, RollbackMetadata};
use crate::model::{Action, DataFileName, InstantTime};
use crate::storage::{Storage, PROPERTIES_BACKUP, PROPERTIES_FILE};
use crate::timeline::Timeline;

pub(super) async fn properties(storage: &Storage) -> Result<Vec<Finding>> {
    let mut out = Vec::new();
    match storage.get(PROPERTIES_FILE).await {
        Err(e) => out.push(finding(Check::Properties, PROPERTIES_FILE, e.to_string())),
        Ok(bytes) => {
            let props = properties::parse(&String::from_utf8_lossy(&bytes));
            match TableConfig::from_properties(props, &storage.display(PROPERTIES_FILE)) {
                Err(e) => out.push(finding(Check::Properties, PROPERTIES_FILE, e.to_string())),
                Ok(c) => match c.stored_checksum() {
                    Some(Ok(stored)) if stored != c.expected_checksum() => out.push(finding(
                        Check::Properties,
                        PROPERTIES_FILE,
                        format!(
                            "hoodie.table.checksum is {stored}, but the table name gives {}",
                            c.expected_checksum()
                        ),
                    )),
                    Some(Err(e)) => out.push(finding(Check::Properties, PROPERTIES_FILE, e)),
                    _ => {}
                },
            }
        }
    }
    if storage.exists(PROPERTIES_BACKUP).await? {
        out.push(finding(
            Check::Properties,
            PROPERTIES_BACKUP,
            "an interrupted update of hoodie.properties left its backup",
        ));
    }
    Ok(out)
}

pub(super) async fn instant_metadata(tl: &Timeline) -> Vec<Finding> {
    let mut out = Vec::new();
    for i in tl.instants() {
        let checked = match (i.is_completed(), i.action()) {
            (true, _) => tl.check_metadata(i).await,
            (false, Action::Compaction) => tl.compaction_plan(i.requested()).await.map(|_| ()),
            (false, _) => Ok(()),
        };
        if let Err(e) = checked {
            out.push(finding(
                Check::InstantMetadata,
                i.requested().as_str(),
                e.to_string(),
            ));
        }
    }
    out
}

/// The files of one file group that the active timeline's commits name.
#[derive(Debug, Default)]
pub(super) struct GroupFiles {
    /// The newest base file: (instant, path).
    base: Option<(InstantTime, String)>,
    /// Log files: (base instant in the name, writing instant, path).
    logs: Vec<(InstantTime, InstantTime, String)>,
}

/// What the completed writes of the active timeline wrote.
#[derive(Debug, Default)]
pub(super) struct Written {
    pub groups: BTreeMap<(String, String), GroupFiles>,
    pub referenced: HashSet<String>,
    pub replaced: HashSet<(String, String)>,
    /// The operation each completed write recorded (`INSERT`, `UPSERT`, ...).
    pub operations: std::collections::HashMap<String, String>,
    /// Instants completed rollbacks and restores undid.
    pub rolled_back: HashSet<InstantTime>,
}

/// Collects the files of every completed write (metadata that does not parse is reported by
/// [`instant_metadata`] and skipped here).
pub(super) async fn written_files(tl: &Timeline) -> Written {
    let mut w = Written::default();
    for i in tl.completed_writes() {
        let Ok(m) = tl.commit_metadata(&i.instant).await else {
            continue;
        };
        if let Some(op) = &m.operation_type {
            w.operations
                .insert(i.requested().as_str().to_string(), op.clone());
        }
        for (p, s) in m.write_stats() {
            let Some(path) = s.path.as_deref().filter(|p| !p.is_empty()) else {
                continue;
            };
            w.referenced.insert(path.to_string());
            let name = path.rsplit('/').next().unwrap_or(path);
            let g = w
                .groups
                .entry((p.to_string(), s.file_id.clone().unwrap_or_default()))
                .or_default();
            match DataFileName::classify(name) {
                Some(Ok(DataFileName::Base(b)))
                    if g.base.as_ref().is_none_or(|(t, _)| t <= &b.instant) =>
                {
                    g.base = Some((b.instant, path.to_string()));
                }
                Some(Ok(DataFileName::Log(l))) => {
                    g.logs
                        .push((l.instant, i.requested().clone(), path.to_string()));
                }
                _ => {}
            }
        }
        for (p, f) in m.replaced_file_ids() {
            w.replaced.insert((p.to_string(), f.to_string()));
        }
    }
    w.rolled_back = rolled_back(tl).await;
    w
}

/// The instants completed rollbacks and restores undid (metadata that does not parse is
/// reported by [`instant_metadata`]).
async fn rolled_back(tl: &Timeline) -> HashSet<InstantTime> {
    let mut out = HashSet::new();
    for i in tl.instants().iter().filter(|i| i.is_completed()) {
        let Ok(bytes) = tl.read(&i.instant).await else {
            continue;
        };
        let undone: Vec<String> = match i.action() {
            Action::Rollback => decode_json_or_avro::<RollbackMetadata>(&bytes)
                .map(|m| m.commits_rollback)
                .unwrap_or_default(),
            Action::Restore => decode_json_or_avro::<RestoreMetadata>(&bytes)
                .map(|m| m.instants_to_rollback)
                .unwrap_or_default(),
            _ => continue,
        };
        out.extend(undone.iter().filter_map(|t| InstantTime::parse(t).ok()));
    }
    out
}

/// The latest slice of every live file group must be on storage: its newest base file and the
/// log files written onto it (older slices may have been cleaned).
pub(super) fn missing_files(w: &Written, listing: &Listing) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut check = |path: &str, instant: &InstantTime| {
        if !listing.files.contains_key(path) {
            out.push(finding(
                Check::MissingFile,
                path,
                format!("written by the completed instant {instant}, but not on storage"),
            ));
        }
    };
    for (id, g) in &w.groups {
        if w.replaced.contains(id) {
            continue;
        }
        if let Some((t, path)) = &g.base {
            check(path, t);
        }
        let newest = g.base.as_ref().map(|(t, _)| t);
        for (base_instant, wrote, path) in &g.logs {
            if newest.is_none_or(|t| base_instant >= t) {
                check(path, wrote);
            }
        }
    }
    out
}

/// Marker directories of instants that completed (a commit removes them) or that the
/// timeline does not know.
pub(super) async fn stray_markers(storage: &Storage, tl: &Timeline) -> Result<Vec<Finding>> {
    let mut out = Vec::new();
    for dir in storage.list_dir(".hoodie/.temp").await?.dirs {
        let name = dir.trim_end_matches('/').rsplit('/').next().unwrap_or(&dir);
        let Ok(t) = InstantTime::parse(name) else {
            continue;
        };
        // Local disks keep the emptied directories of removed markers: only files count.
        if storage.list_recursive(&dir).await?.is_empty() {
            continue;
        }
        let state = tl.instants().iter().find(|i| i.requested() == &t);
        let why = match state {
            Some(i) if i.is_completed() => format!("markers of the completed instant {t}"),
            Some(_) => continue,
            None => format!("markers of {t}, which is not on the timeline"),
        };
        out.push(finding(Check::StrayMarkers, dir.trim_end_matches('/'), why));
    }
    Ok(out)
}
