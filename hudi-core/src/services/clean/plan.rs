//! Planning a clean: which instant is the earliest to retain, and which files no retained
//! instant, savepoint or pending compaction needs (Hudi's `CleanPlanner` rules).
//!
//! - KEEP_LATEST_COMMITS: of each file group keep the newest slice, every slice at or after
//!   the earliest retained commit (the oldest of the last N completed commits, never after the
//!   earliest pending one), and the last slice before it (a query of the earliest retained
//!   commit reads it).
//! - KEEP_LATEST_BY_HOURS: the same, the earliest retained commit being the first completed
//!   one of the last N hours.
//! - KEEP_LATEST_FILE_VERSIONS: keep the newest N slices of each file group.
//!
//! Under every policy: slices a savepoint names stay; slices a pending compaction reads stay;
//! file groups replaced before the earliest retained commit (under KEEP_LATEST_FILE_VERSIONS:
//! all replaced groups) go entirely; a partition left without file groups goes too.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};

use super::config::{CleanConfig, CleanPolicy};
use crate::fs_view::{FileGroup, FileGroupId, FileSlice, FileSystemView};
use crate::model::{Action, InstantTime};
use crate::timeline::transition::instant_at;
use crate::timeline::{Timeline, TimelineInstant};

/// What a clean would delete.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CleanSelection {
    /// The earliest instant whose reads stay intact (none under KEEP_LATEST_FILE_VERSIONS).
    pub earliest_retained: Option<(InstantTime, Action)>,
    /// The latest completed commit when planned.
    pub last_completed: Option<InstantTime>,
    /// Table-relative paths to delete, per partition.
    pub files: BTreeMap<String, Vec<String>>,
    /// Partitions left without any file group, deleted whole.
    pub partitions: Vec<String>,
}

impl CleanSelection {
    pub fn is_empty(&self) -> bool {
        self.files.values().all(Vec::is_empty) && self.partitions.is_empty()
    }

    pub fn file_count(&self) -> usize {
        self.files.values().map(Vec::len).sum()
    }
}

/// The inputs of a clean plan besides the table's files.
#[derive(Debug, Clone)]
pub struct CleanInputs<'a> {
    pub timeline: &'a Timeline,
    pub config: &'a CleanConfig,
    pub now: DateTime<Utc>,
    /// File names (base and log) that savepoints keep.
    pub savepointed: &'a HashSet<String>,
}

/// Commits, delta commits and replace commits (a v6 completed compaction is a commit).
fn is_commit_action(a: Action) -> bool {
    matches!(
        a,
        Action::Commit | Action::DeltaCommit | Action::ReplaceCommit
    )
}

/// Completed commits, oldest first.
fn completed_commits(timeline: &Timeline) -> Vec<&TimelineInstant> {
    timeline
        .instants()
        .iter()
        .filter(|i| i.is_completed() && is_commit_action(i.action()))
        .collect()
}

/// The earliest instant a clean under `cc` retains (Hudi's
/// `CleanerUtils.getEarliestCommitToRetain`).
pub fn earliest_to_retain<'t>(
    timeline: &'t Timeline,
    cc: &CleanConfig,
    now: DateTime<Utc>,
) -> Option<&'t TimelineInstant> {
    let completed = completed_commits(timeline);
    match cc.policy {
        CleanPolicy::KeepLatestCommits => {
            if completed.len() <= cc.commits_retained {
                return None;
            }
            let nth = completed[completed.len() - cc.commits_retained];
            let earliest_pending = timeline
                .pending()
                .filter(|i| {
                    is_commit_action(i.action())
                        || matches!(i.action(), Action::Compaction | Action::LogCompaction)
                })
                .map(|i| i.requested())
                .min();
            match earliest_pending {
                Some(p) if nth.requested() > p => {
                    completed.iter().rev().find(|i| i.requested() < p).copied()
                }
                _ => Some(nth),
            }
        }
        CleanPolicy::KeepLatestByHours => {
            let cutoff = instant_at(
                timeline,
                &(now - chrono::Duration::hours(cc.hours_retained)),
            );
            completed.into_iter().find(|i| *i.requested() >= cutoff)
        }
        CleanPolicy::KeepLatestFileVersions => None,
    }
}

/// Why a clean under `cc` has nothing to do before looking at files, if so.
pub fn nothing_due(timeline: &Timeline, cc: &CleanConfig, now: DateTime<Utc>) -> Option<String> {
    let completed = completed_commits(timeline).len();
    match cc.policy {
        CleanPolicy::KeepLatestFileVersions => None,
        CleanPolicy::KeepLatestCommits if completed <= cc.commits_retained => Some(format!(
            "the table has {completed} completed commits and {} are retained (hoodie.cleaner.commits.retained)",
            cc.commits_retained
        )),
        _ => match earliest_to_retain(timeline, cc, now) {
            Some(_) => None,
            None => Some(match cc.policy {
                CleanPolicy::KeepLatestByHours => format!(
                    "no completed commit in the last {} hours (hoodie.cleaner.hours.retained): the latest one stays readable",
                    cc.hours_retained
                ),
                _ => "no completed commit precedes the earliest pending instant".to_string(),
            }),
        },
    }
}

/// Selects the files a clean deletes.
pub fn select(view: &FileSystemView, inputs: &CleanInputs<'_>) -> CleanSelection {
    let cc = inputs.config;
    let earliest = earliest_to_retain(inputs.timeline, cc, inputs.now);
    let mut out = CleanSelection {
        earliest_retained: earliest.map(|i| (i.requested().clone(), i.action())),
        last_completed: completed_commits(inputs.timeline)
            .last()
            .map(|i| i.requested().clone()),
        ..Default::default()
    };
    let by_commits = cc.policy != CleanPolicy::KeepLatestFileVersions;
    if by_commits && earliest.is_none() {
        return out;
    }
    let earliest = earliest.map(|i| i.requested());
    let mut partitions: Vec<&str> = view.partitions.iter().map(String::as_str).collect();
    partitions.extend(view.replaced.keys().map(|id| id.partition.as_str()));
    partitions.sort_unstable();
    partitions.dedup();
    for partition in partitions {
        let (files, kept_any) = select_partition(view, inputs, partition, earliest);
        let groups_left = view.groups.keys().any(|id| id.partition == partition);
        let later_replace = view
            .replaced
            .iter()
            .any(|(id, r)| id.partition == partition && earliest.is_some_and(|e| &r.by >= e));
        if !partition.is_empty()
            && !groups_left
            && !kept_any
            && !later_replace
            && !view.hidden_files.contains_key(partition)
        {
            out.partitions.push(partition.to_string());
        }
        if !files.is_empty() {
            out.files.insert(partition.to_string(), files);
        }
    }
    out
}

/// The files of one partition to delete, and whether any replaced slice stays (savepointed).
fn select_partition(
    view: &FileSystemView,
    inputs: &CleanInputs<'_>,
    partition: &str,
    earliest: Option<&InstantTime>,
) -> (Vec<String>, bool) {
    let mut files = Vec::new();
    let mut kept_replaced = false;
    for (_, replaced) in view
        .replaced
        .iter()
        .filter(|(id, _)| id.partition == partition)
    {
        if earliest.is_some_and(|e| &replaced.by >= e) {
            kept_replaced = true;
            continue;
        }
        for slice in replaced.group.slices.values() {
            if is_savepointed(slice, inputs.savepointed) {
                kept_replaced = true;
            } else {
                files.extend(slice_files(slice));
            }
        }
    }
    for (id, group) in view
        .groups
        .iter()
        .filter(|(id, _)| id.partition == partition)
    {
        let doomed = match earliest {
            Some(e) if inputs.config.policy != CleanPolicy::KeepLatestFileVersions => {
                by_commits(view, id, group, e)
            }
            _ => by_versions(view, id, group, inputs.config.file_versions_retained),
        };
        for slice in doomed {
            if !is_savepointed(slice, inputs.savepointed) {
                files.extend(slice_files(slice));
            }
        }
    }
    files.sort();
    (files, kept_replaced)
}

/// Slices of a group older than the earliest retained commit that no query of a retained
/// commit reads: not the newest, not the last one before `earliest`, not needed by a pending
/// compaction.
fn by_commits<'v>(
    view: &'v FileSystemView,
    id: &FileGroupId,
    group: &'v FileGroup,
    earliest: &InstantTime,
) -> Vec<&'v FileSlice> {
    let newest = group.slices.keys().next_back();
    let last_before = group.slices.keys().rev().find(|b| *b < earliest);
    group
        .slices
        .iter()
        .filter(|(b, _)| Some(*b) != newest && Some(*b) != last_before && *b < earliest)
        .filter(|(_, s)| !needed_by_pending_compaction(view, id, s))
        .map(|(_, s)| s)
        .collect()
}

/// Slices of a group beyond its newest `keep` (a pending compaction's slice counts as one
/// kept version).
fn by_versions<'v>(
    view: &'v FileSystemView,
    id: &FileGroupId,
    group: &'v FileGroup,
    keep: usize,
) -> Vec<&'v FileSlice> {
    let mut keep = keep;
    if view.pending_compactions.contains_key(id) {
        keep = keep.saturating_sub(1);
    }
    group
        .slices
        .values()
        .rev()
        .filter(|s| !needed_by_pending_compaction(view, id, s))
        .skip(keep)
        .collect()
}

/// Whether a pending compaction reads this slice (or a later one of its group).
fn needed_by_pending_compaction(view: &FileSystemView, id: &FileGroupId, s: &FileSlice) -> bool {
    view.pending_compactions.get(id).is_some_and(|p| {
        p.operation
            .base_instant_time
            .as_deref()
            .is_none_or(|b| s.base_instant.as_str() >= b)
    })
}

fn is_savepointed(slice: &FileSlice, savepointed: &HashSet<String>) -> bool {
    slice
        .base_file
        .iter()
        .map(|b| b.name.to_string())
        .chain(slice.log_files.iter().map(|l| l.name.to_string()))
        .any(|n| savepointed.contains(&n))
}

fn slice_files(slice: &FileSlice) -> impl Iterator<Item = String> + '_ {
    slice
        .base_file
        .iter()
        .map(|b| b.path.clone())
        .chain(slice.log_files.iter().map(|l| l.path.clone()))
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::storage::Storage;

    const T: [&str; 6] = [
        "20250101000000000",
        "20250102000000000",
        "20250103000000000",
        "20250104000000000",
        "20250105000000000",
        "20250106000000000",
    ];

    /// An in-memory COW table: `files` are (partition, file id, instant) base files,
    /// `timeline` the instant files under `.hoodie/` with their contents.
    async fn table(files: &[(&str, &str, &str)], timeline: &[(&str, &str)]) -> (Storage, Timeline) {
        let st = crate::storage::test_support::memory_table("COPY_ON_WRITE", timeline).await;
        for (p, f, t) in files {
            st.put(&format!("{p}/.hoodie_partition_metadata"), Bytes::new())
                .await
                .unwrap();
            st.put(&format!("{p}/{f}_0-1-1_{t}.parquet"), Bytes::new())
                .await
                .unwrap();
        }
        let config = crate::storage::load_table_config(&st).await.unwrap();
        let tl = Timeline::load(&st, &config).await.unwrap();
        (st, tl)
    }

    fn commits(n: usize) -> Vec<(String, &'static str)> {
        T[..n]
            .iter()
            .map(|t| (format!("{t}.commit"), "{}"))
            .collect()
    }

    async fn selected(
        st: &Storage,
        tl: &Timeline,
        cc: &CleanConfig,
        savepointed: &[&str],
    ) -> CleanSelection {
        let view = FileSystemView::load(st, tl, None).await.unwrap();
        let savepointed: HashSet<String> = savepointed.iter().map(|s| s.to_string()).collect();
        let inputs = CleanInputs {
            timeline: tl,
            config: cc,
            now: chrono::DateTime::parse_from_rfc3339("2025-01-06T12:00:00Z")
                .unwrap()
                .into(),
            savepointed: &savepointed,
        };
        select(&view, &inputs)
    }

    fn cc(policy: CleanPolicy, retained: usize) -> CleanConfig {
        CleanConfig {
            automatic: true,
            policy,
            commits_retained: retained,
            file_versions_retained: retained,
            hours_retained: retained as i64,
            max_commits: 1,
        }
    }

    fn names(s: &CleanSelection) -> Vec<String> {
        s.files
            .values()
            .flatten()
            .map(|p| p.rsplit('_').next().unwrap().to_string())
            .collect()
    }

    #[tokio::test]
    async fn keep_latest_commits_keeps_what_retained_reads_need() {
        let files: Vec<(&str, &str, &str)> = T[..4].iter().map(|t| ("p", "f1", *t)).collect();
        let tl_files = commits(4);
        let tl_refs: Vec<(&str, &str)> = tl_files.iter().map(|(a, b)| (a.as_str(), *b)).collect();
        let (st, tl) = table(&files, &tl_refs).await;
        // 4 commits, 2 retained: the earliest retained is the third; its reads need the
        // second's slice, so only the first goes.
        let s = selected(&st, &tl, &cc(CleanPolicy::KeepLatestCommits, 2), &[]).await;
        assert_eq!(
            s.earliest_retained.as_ref().map(|(t, _)| t.as_str()),
            Some(T[2])
        );
        assert_eq!(names(&s), [format!("{}.parquet", T[0])]);
        assert_eq!(s.last_completed.as_ref().map(|t| t.as_str()), Some(T[3]));
        // A savepoint keeps its files.
        let sp = format!("f1_0-1-1_{}.parquet", T[0]);
        let s = selected(&st, &tl, &cc(CleanPolicy::KeepLatestCommits, 2), &[&sp]).await;
        assert!(s.is_empty(), "{s:?}");
        // As many commits as retained: nothing is due.
        assert!(nothing_due(&tl, &cc(CleanPolicy::KeepLatestCommits, 4), Utc::now()).is_some());
        // Newest N versions.
        let s = selected(&st, &tl, &cc(CleanPolicy::KeepLatestFileVersions, 1), &[]).await;
        assert_eq!(names(&s).len(), 3);
        assert!(s.earliest_retained.is_none());
        // By hours (now = Jan 6 12:00): 60 hours back is Jan 4 00:00, the fourth commit.
        let s = selected(&st, &tl, &cc(CleanPolicy::KeepLatestByHours, 60), &[]).await;
        assert_eq!(
            s.earliest_retained.as_ref().map(|(t, _)| t.as_str()),
            Some(T[3])
        );
        assert_eq!(
            names(&s),
            [format!("{}.parquet", T[0]), format!("{}.parquet", T[1])]
        );
    }

    #[tokio::test]
    async fn a_pending_instant_holds_the_earliest_retained_back() {
        let files: Vec<(&str, &str, &str)> = T[..4].iter().map(|t| ("p", "f1", *t)).collect();
        let mut tl_files = commits(4);
        tl_files.remove(1);
        tl_files.push((format!("{}.inflight", T[1]), ""));
        tl_files.push((format!("{}.commit", T[4]), "{}"));
        let tl_refs: Vec<(&str, &str)> = tl_files.iter().map(|(a, b)| (a.as_str(), *b)).collect();
        let (st, tl) = table(&files, &tl_refs).await;
        // 4 completed (T0, T2, T3, T4), 2 retained: T3, but T1 is pending: T0.
        let s = selected(&st, &tl, &cc(CleanPolicy::KeepLatestCommits, 2), &[]).await;
        assert_eq!(
            s.earliest_retained.as_ref().map(|(t, _)| t.as_str()),
            Some(T[0])
        );
        assert!(s.is_empty(), "{s:?}");
    }

    #[tokio::test]
    async fn replaced_groups_go_after_retention_and_empty_partitions_with_them() {
        let files = [("p", "f1", T[0]), ("q", "f2", T[0]), ("q", "f3", T[1])];
        let replace =
            r#"{"partitionToReplaceFileIds":{"p":["f1"]},"partitionToWriteStats":{}}"#.to_string();
        let tl_files = [
            (format!("{}.commit", T[0]), "{}".to_string()),
            (format!("{}.replacecommit", T[1]), replace),
            (format!("{}.commit", T[2]), "{}".to_string()),
        ];
        let tl_refs: Vec<(&str, &str)> = tl_files
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let (st, tl) = table(&files, &tl_refs).await;
        // Retaining 2: the earliest retained is the replace itself: the replaced group stays.
        let s = selected(&st, &tl, &cc(CleanPolicy::KeepLatestCommits, 2), &[]).await;
        assert!(s.is_empty(), "{s:?}");
        // Retaining 1: the replace is older than the earliest retained commit.
        let s = selected(&st, &tl, &cc(CleanPolicy::KeepLatestCommits, 1), &[]).await;
        assert_eq!(s.files.keys().collect::<Vec<_>>(), ["p"]);
        assert_eq!(s.partitions, ["p"]);
        // Under KEEP_LATEST_FILE_VERSIONS every replaced group goes.
        let s = selected(&st, &tl, &cc(CleanPolicy::KeepLatestFileVersions, 3), &[]).await;
        assert_eq!(s.partitions, ["p"]);
        // A savepointed replaced file keeps its partition.
        let sp = format!("f1_0-1-1_{}.parquet", T[0]);
        let s = selected(&st, &tl, &cc(CleanPolicy::KeepLatestCommits, 1), &[&sp]).await;
        assert!(s.is_empty(), "{s:?}");
    }
}
