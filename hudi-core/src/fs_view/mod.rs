//! The file-system view: file groups and file slices per partition, as of an instant.
//!
//! Only committed files are visible: a base file's instant, or the delta commit of a log file
//! (v8+), must be a completed write on the timeline (or older than the whole active timeline,
//! i.e. archived). File groups replaced by a completed replace commit are set apart. Log files
//! join the slice whose base instant is the largest one not after the log's instant (v6) or
//! its delta commit's completion time (v8+); a v6 log file written against a pending
//! compaction joins the previous slice, as Java merges it.

use std::collections::{BTreeMap, HashMap, HashSet};

use futures::StreamExt;

use crate::error::Result;
use crate::model::{Action, BaseFileName, DataFileName, InstantTime, LogFileName, TimelineLayout};
use crate::storage::{FileInfo, Storage};
use crate::timeline::Timeline;

pub mod partitions;
pub mod pending;

pub use partitions::list_partitions;
pub use pending::PendingCompaction;

/// A base file of a slice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseFile {
    pub name: BaseFileName,
    /// Path relative to the table's base path.
    pub path: String,
    pub size: u64,
}

/// A log file of a slice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFile {
    pub name: LogFileName,
    pub path: String,
    pub size: u64,
    /// Completion time of the delta commit that wrote it (layout 2 only).
    pub completion: Option<InstantTime>,
}

/// A base file (or none) and the log files written on top of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSlice {
    pub partition: String,
    pub file_id: String,
    /// The base file's instant, or for a log-only slice the first log's instant.
    pub base_instant: InstantTime,
    pub base_file: Option<BaseFile>,
    pub log_files: Vec<LogFile>,
}

/// Identity of a file group.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileGroupId {
    pub partition: String,
    pub file_id: String,
}

/// All visible slices of one file group, by base instant.
#[derive(Debug, Clone, Default)]
pub struct FileGroup {
    pub slices: BTreeMap<InstantTime, FileSlice>,
}

/// Which instants count as committed for a view.
#[derive(Debug, Clone)]
pub struct CommitIndex {
    /// Completed write instants (requested time → completion time if known).
    completed: HashMap<InstantTime, Option<InstantTime>>,
    /// The earliest instant of the active timeline; anything older is archived and committed.
    earliest_active: Option<InstantTime>,
    /// Requested times of pending compactions.
    pending_compactions: HashSet<InstantTime>,
    as_of: Option<InstantTime>,
}

impl CommitIndex {
    pub fn new(timeline: &Timeline, as_of: Option<&InstantTime>) -> Self {
        let completed = timeline
            .completed_writes()
            .map(|i| (i.requested().clone(), i.completion().cloned()))
            .collect();
        let earliest_active = timeline.earliest_write().cloned();
        let pending_compactions = timeline
            .pending()
            .filter(|i| i.action() == Action::Compaction)
            .map(|i| i.requested().clone())
            .collect();
        CommitIndex {
            completed,
            earliest_active,
            pending_compactions,
            as_of: as_of.cloned(),
        }
    }

    /// Whether `t` is a committed write instant at or before the view's instant.
    pub fn is_committed(&self, t: &InstantTime) -> bool {
        let committed =
            self.completed.contains_key(t) || self.earliest_active.as_ref().is_some_and(|e| t < e);
        committed && self.as_of.as_ref().is_none_or(|a| t <= a)
    }

    /// Completion time of a committed instant, when the timeline records it.
    pub fn completion(&self, t: &InstantTime) -> Option<&InstantTime> {
        self.completed.get(t).and_then(Option::as_ref)
    }

    pub fn is_pending_compaction(&self, t: &InstantTime) -> bool {
        self.pending_compactions.contains(t)
    }

    pub fn as_of(&self) -> Option<&InstantTime> {
        self.as_of.as_ref()
    }
}

/// A file group a completed replace commit replaced (insert_overwrite, delete_partition,
/// clustering), with what it held: a cleaner deletes its files once the replace is old
/// enough.
#[derive(Debug, Clone)]
pub struct ReplacedGroup {
    pub by: InstantTime,
    pub group: FileGroup,
}

/// The file groups of a table as of an instant: one listing of the table, everything an
/// operation needs to know about its files.
#[derive(Debug, Clone)]
pub struct FileSystemView {
    pub partitions: Vec<String>,
    /// Visible file groups, every committed slice of each.
    pub groups: BTreeMap<FileGroupId, FileGroup>,
    /// File groups replaced by completed replace commits.
    pub replaced: BTreeMap<FileGroupId, ReplacedGroup>,
    /// File groups under a pending compaction, with their part of its plan.
    pub pending_compactions: BTreeMap<FileGroupId, PendingCompaction>,
    /// File groups a pending clustering will replace, with its instant.
    pub pending_clustering: BTreeMap<FileGroupId, InstantTime>,
    /// Which instants the view counts as committed.
    pub index: CommitIndex,
    /// Per partition, how many data files the view hides (written by pending or failed
    /// instants, or after the view's instant).
    pub hidden_files: BTreeMap<String, usize>,
}

impl FileSystemView {
    /// Lists the table and builds the view as of `as_of` (latest when `None`).
    pub async fn load(
        storage: &Storage,
        timeline: &Timeline,
        as_of: Option<&InstantTime>,
    ) -> Result<Self> {
        let listed = list_partitions(storage).await?;
        Self::from_listing(timeline, as_of, listed).await
    }

    /// The view of some partitions only (each listed once, a few at a time; a partition
    /// without a directory yet is empty): what a write whose records can only be in their
    /// own partitions needs, without listing the whole table.
    pub async fn load_partitions(
        storage: &Storage,
        timeline: &Timeline,
        as_of: Option<&InstantTime>,
        partitions: &[String],
    ) -> Result<Self> {
        let listings: Vec<_> = partitions
            .iter()
            .map(|p| async move {
                // A directory is a partition once it holds the partition metafile (as when
                // the whole table is listed).
                let files = storage.list_dir(p).await?.files;
                let is_partition = files
                    .iter()
                    .any(|f| f.name.starts_with(partitions::PARTITION_METAFILE_PREFIX));
                Ok(is_partition.then(|| (p.clone(), files)))
            })
            .collect();
        let listed: Vec<Option<(String, Vec<FileInfo>)>> = futures::stream::iter(listings)
            .buffered(16)
            .collect::<Vec<Result<_>>>()
            .await
            .into_iter()
            .collect::<Result<_>>()?;
        let mut listed: Vec<_> = listed.into_iter().flatten().collect();
        listed.sort_by(|a, b| a.0.cmp(&b.0));
        Self::from_listing(timeline, as_of, listed).await
    }

    async fn from_listing(
        timeline: &Timeline,
        as_of: Option<&InstantTime>,
        listed: Vec<(String, Vec<FileInfo>)>,
    ) -> Result<Self> {
        let index = CommitIndex::new(timeline, as_of);
        let replaced = replaced_file_groups(timeline, as_of).await?;
        let mut view = FileSystemView {
            partitions: Vec::new(),
            groups: BTreeMap::new(),
            replaced: BTreeMap::new(),
            pending_compactions: pending::pending_compactions(timeline).await?,
            pending_clustering: pending::pending_clustering(timeline).await?,
            index,
            hidden_files: BTreeMap::new(),
        };
        for (partition, files) in listed {
            view.add_partition(&partition, &files, timeline.layout())?;
            view.partitions.push(partition);
        }
        for (id, by) in replaced {
            if let Some(group) = view.groups.remove(&id) {
                view.replaced.insert(id, ReplacedGroup { by, group });
            }
        }
        Ok(view)
    }

    fn add_partition(
        &mut self,
        partition: &str,
        files: &[FileInfo],
        layout: TimelineLayout,
    ) -> Result<()> {
        let index = &self.index;
        let mut logs: Vec<LogFile> = Vec::new();
        let mut hidden = 0;
        for f in files {
            let Some(parsed) = DataFileName::classify(&f.name) else {
                continue;
            };
            match parsed {
                Ok(DataFileName::Base(name)) => {
                    if !index.is_committed(&name.instant) {
                        hidden += 1;
                        continue;
                    }
                    let id = FileGroupId {
                        partition: partition.to_string(),
                        file_id: name.file_id.clone(),
                    };
                    let instant = name.instant.clone();
                    self.groups.entry(id).or_default().slices.insert(
                        instant.clone(),
                        FileSlice {
                            partition: partition.to_string(),
                            file_id: name.file_id.clone(),
                            base_instant: instant,
                            base_file: Some(BaseFile {
                                name,
                                path: f.path.clone(),
                                size: f.size,
                            }),
                            log_files: Vec::new(),
                        },
                    );
                }
                Ok(DataFileName::Log(name)) => {
                    if name.cdc_suffix.is_some() || name.extension != "log" {
                        continue;
                    }
                    let visible = index.is_committed(&name.instant)
                        || (layout == TimelineLayout::V1
                            && index.is_pending_compaction(&name.instant)
                            && index.as_of().is_none_or(|a| &name.instant <= a));
                    if !visible {
                        hidden += 1;
                        continue;
                    }
                    let completion = match layout {
                        TimelineLayout::V2 => index.completion(&name.instant).cloned(),
                        TimelineLayout::V1 => None,
                    };
                    logs.push(LogFile {
                        name,
                        path: f.path.clone(),
                        size: f.size,
                        completion,
                    });
                }
                Err(e) => log::warn!("skipping file in partition '{partition}': {e}"),
            }
        }
        if hidden > 0 {
            self.hidden_files.insert(partition.to_string(), hidden);
        }
        for log in logs {
            let id = FileGroupId {
                partition: partition.to_string(),
                file_id: log.name.file_id.clone(),
            };
            let group = self.groups.entry(id).or_default();
            let key = log
                .completion
                .clone()
                .unwrap_or_else(|| log.name.instant.clone());
            let slice_key = group
                .slices
                .range(..=key)
                .next_back()
                .map(|(k, _)| k.clone());
            match slice_key {
                Some(k) => {
                    if let Some(s) = group.slices.get_mut(&k) {
                        s.log_files.push(log);
                    }
                }
                None => {
                    let instant = log.name.instant.clone();
                    group.slices.insert(
                        instant.clone(),
                        FileSlice {
                            partition: partition.to_string(),
                            file_id: log.name.file_id.clone(),
                            base_instant: instant,
                            base_file: None,
                            log_files: vec![log],
                        },
                    );
                }
            }
        }
        for g in self.groups.values_mut() {
            for s in g.slices.values_mut() {
                s.log_files.sort_by(|a, b| {
                    let by_completion = match (&a.completion, &b.completion) {
                        (Some(x), Some(y)) => x.cmp(y),
                        (Some(_), None) => std::cmp::Ordering::Less,
                        (None, Some(_)) => std::cmp::Ordering::Greater,
                        (None, None) => std::cmp::Ordering::Equal,
                    };
                    by_completion.then_with(|| a.name.slice_order(&b.name))
                });
            }
        }
        Ok(())
    }

    /// The latest slice of every file group.
    pub fn latest_slices(&self) -> Vec<&FileSlice> {
        self.groups
            .values()
            .filter_map(|g| g.slices.values().next_back())
            .collect()
    }

    /// Counts: (file groups, base files, log files).
    pub fn counts(&self) -> (usize, usize, usize) {
        let mut base = 0;
        let mut logs = 0;
        for g in self.groups.values() {
            for s in g.slices.values() {
                base += usize::from(s.base_file.is_some());
                logs += s.log_files.len();
            }
        }
        (self.groups.len(), base, logs)
    }
}

/// File groups replaced by completed replace commits requested at or before `as_of`, with
/// the instant that replaced them.
pub async fn replaced_file_groups(
    timeline: &Timeline,
    as_of: Option<&InstantTime>,
) -> Result<HashMap<FileGroupId, InstantTime>> {
    let mut out = HashMap::new();
    let replaces: Vec<_> = timeline
        .completed_writes()
        .filter(|i| i.action() == Action::ReplaceCommit)
        .filter(|i| as_of.is_none_or(|a| i.requested() <= a))
        .collect();
    for i in replaces {
        let m = timeline.commit_metadata(&i.instant).await?;
        for (p, id) in m.replaced_file_ids() {
            out.insert(
                FileGroupId {
                    partition: p.to_string(),
                    file_id: id.to_string(),
                },
                i.requested().clone(),
            );
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    const T: &str = "20250101000000000";

    #[tokio::test]
    async fn a_partial_view_lists_only_the_partitions_asked_for() {
        let commit = format!("{T}.commit");
        let st =
            crate::storage::test_support::memory_table("COPY_ON_WRITE", &[(&commit, "{}")]).await;
        for p in ["a", "b", "c/x"] {
            st.put(&format!("{p}/.hoodie_partition_metadata"), Bytes::new())
                .await
                .unwrap();
            st.put(
                &format!("{p}/f-{}_0-1-1_{T}.parquet", p.len()),
                Bytes::new(),
            )
            .await
            .unwrap();
        }
        // A directory without the partition metafile is not a partition.
        st.put(&format!("d/f-9_0-1-1_{T}.parquet"), Bytes::new())
            .await
            .unwrap();
        let config = crate::storage::load_table_config(&st).await.unwrap();
        let tl = Timeline::load(&st, &config).await.unwrap();
        let full = FileSystemView::load(&st, &tl, None).await.unwrap();
        assert_eq!(full.partitions, ["a", "b", "c/x"]);
        let asked: Vec<String> = ["c/x", "a", "d", "missing"].map(String::from).to_vec();
        let part = FileSystemView::load_partitions(&st, &tl, None, &asked)
            .await
            .unwrap();
        assert_eq!(part.partitions, ["a", "c/x"]);
        let ids: Vec<&FileGroupId> = part.groups.keys().collect();
        let expected: Vec<&FileGroupId> =
            full.groups.keys().filter(|g| g.partition != "b").collect();
        assert_eq!(ids, expected);
        assert_eq!(part.latest_slices().len(), 2);
    }
}
