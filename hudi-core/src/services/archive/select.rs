//! Which instants an archival moves out of the active timeline (Hudi 0.14/0.15's
//! `HoodieTimelineArchiver` rules):
//!
//! - completed cleans and rollbacks, per action, down to `hoodie.keep.min.commits` once there
//!   are more than `hoodie.keep.max.commits`;
//! - completed commits likewise, the oldest first, but never one at or after: the earliest
//!   pending write (the completed commit before it stays too), the first savepoint, the
//!   earliest commit the last clean retained, the first replace commit the last clean has not
//!   emptied (readers need it to hide the groups it replaced), and on merge-on-read tables the
//!   delta commits the compaction trigger still counts.

use super::config::ArchiveConfig;
use crate::model::{Action, InstantTime};
use crate::services::compaction::config::{CompactionConfig, Trigger};
use crate::timeline::{Timeline, TimelineInstant};

/// What the last clean recorded, as archival needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastClean {
    pub instant: InstantTime,
    /// Its earliest retained commit (`None` under KEEP_LATEST_FILE_VERSIONS).
    pub earliest_retained: Option<InstantTime>,
}

/// The instants to archive, oldest first, and why the next commit stays (when one does).
#[derive(Debug, Clone, Default)]
pub struct ArchiveSelection<'t> {
    pub instants: Vec<&'t TimelineInstant>,
    pub commits_kept_by: Option<String>,
}

fn is_commit(i: &TimelineInstant) -> bool {
    matches!(
        i.action(),
        Action::Commit | Action::DeltaCommit | Action::ReplaceCommit
    )
}

fn is_write(i: &TimelineInstant) -> bool {
    i.action().is_write() || i.planned_action.is_write()
}

/// The oldest instants of each of clean and rollback beyond the limits.
fn cleans_and_rollbacks<'t>(
    timeline: &'t Timeline,
    ac: &ArchiveConfig,
) -> Vec<&'t TimelineInstant> {
    let mut out = Vec::new();
    for action in [Action::Clean, Action::Rollback] {
        let done: Vec<&TimelineInstant> = timeline
            .instants()
            .iter()
            .filter(|i| i.is_completed() && i.action() == action)
            .collect();
        if done.len() > ac.max_commits {
            out.extend(&done[..done.len() - ac.min_commits]);
        }
    }
    out
}

/// The earliest delta commit the compaction trigger still counts (Hudi's
/// `getEarliestInstantToRetainForCompaction`): the last compaction when fewer delta commits
/// than the trigger's count followed it, else the one that starts the last such count.
fn kept_for_compaction<'t>(
    timeline: &'t Timeline,
    cc: &CompactionConfig,
) -> Option<&'t InstantTime> {
    let last_compaction = timeline
        .instants()
        .iter()
        .filter(|i| i.is_completed() && i.action() == Action::Commit)
        .map(|i| i.requested())
        .max();
    let deltas: Vec<&InstantTime> = timeline
        .instants()
        .iter()
        .filter(|i| i.action() == Action::DeltaCommit)
        .map(|i| i.requested())
        .filter(|t| last_compaction.is_none_or(|c| *t > c))
        .collect();
    let anchor = last_compaction.or(deltas.first().copied())?;
    if deltas.len() < cc.max_delta_commits {
        Some(anchor)
    } else {
        Some(deltas[deltas.len() - cc.max_delta_commits])
    }
}

/// The first replace commit the last clean may not have emptied (Hudi's
/// `getOldestInstantToRetainForClustering`).
fn kept_for_replace<'t>(
    timeline: &'t Timeline,
    clean: Option<&LastClean>,
) -> Option<&'t InstantTime> {
    let mut replaces = timeline
        .instants()
        .iter()
        .filter(|i| i.action() == Action::ReplaceCommit || i.planned_action == Action::Clustering)
        .map(|i| i.requested());
    match clean {
        None => replaces.next(),
        Some(c) => {
            let bound = c.earliest_retained.as_ref().unwrap_or(&c.instant);
            replaces.find(|t| *t >= bound)
        }
    }
}

/// Selects the instants to archive.
pub fn select<'t>(
    timeline: &'t Timeline,
    mor: bool,
    cc: &CompactionConfig,
    ac: &ArchiveConfig,
    clean: Option<&LastClean>,
) -> ArchiveSelection<'t> {
    let mut out = ArchiveSelection {
        instants: cleans_and_rollbacks(timeline, ac),
        commits_kept_by: None,
    };
    let commits: Vec<&TimelineInstant> = timeline
        .instants()
        .iter()
        .filter(|i| i.is_completed() && is_commit(i))
        .collect();
    if commits.len() > ac.max_commits {
        let mut bounds: Vec<(&InstantTime, String)> = Vec::new();
        if let Some(p) = timeline
            .pending()
            .filter(|i| is_write(i))
            .map(|i| i.requested())
            .min()
        {
            let before = commits.iter().rev().map(|i| i.requested()).find(|t| *t < p);
            bounds.push((before.unwrap_or(p), format!("the pending instant {p}")));
        }
        let savepoints: Vec<&InstantTime> = timeline
            .instants()
            .iter()
            .filter(|i| i.action() == Action::Savepoint && i.is_completed())
            .map(|i| i.requested())
            .collect();
        if let (false, Some(first)) = (ac.beyond_savepoint, savepoints.first()) {
            bounds.push((first, format!("the savepoint {first}")));
        }
        if let Some(e) = clean.and_then(|c| c.earliest_retained.as_ref()) {
            bounds.push((
                e,
                format!("the earliest commit the last clean retained ({e})"),
            ));
        }
        if let Some(r) = kept_for_replace(timeline, clean) {
            bounds.push((
                r,
                format!("the replace commit {r}, whose replaced files a clean has not deleted yet"),
            ));
        }
        if mor && matches!(cc.trigger, Trigger::NumCommits | Trigger::NumAndTime) {
            if let Some(c) = kept_for_compaction(timeline, cc) {
                bounds.push((
                    c,
                    format!("the delta commits from {c} on, which the compaction trigger counts"),
                ));
            }
        }
        let limit = commits.len() - ac.min_commits;
        let eligible: Vec<&TimelineInstant> = commits
            .iter()
            .copied()
            .filter(|s| !(ac.beyond_savepoint && savepoints.contains(&s.requested())))
            .filter(|s| bounds.iter().all(|(b, _)| s.requested() < *b))
            .take(limit)
            .collect();
        if eligible.len() < limit {
            out.commits_kept_by = bounds
                .iter()
                .min_by_key(|(b, _)| *b)
                .map(|(_, why)| why.clone());
        }
        out.instants.extend(eligible);
    }
    out.instants
        .sort_by(|a, b| a.requested().cmp(b.requested()));
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn t(i: usize) -> String {
        format!("202501010000{:05}", i)
    }

    async fn timeline(files: &[String]) -> Timeline {
        let instants: Vec<(&str, &str)> = files.iter().map(|f| (f.as_str(), "{}")).collect();
        let st = crate::storage::test_support::memory_table("MERGE_ON_READ", &instants).await;
        let config = crate::storage::load_table_config(&st).await.unwrap();
        Timeline::load(&st, &config).await.unwrap()
    }

    fn configs(min: usize, max: usize, deltas: usize) -> (CompactionConfig, ArchiveConfig) {
        let o: BTreeMap<String, String> = [
            ("hoodie.keep.min.commits", min.to_string()),
            ("hoodie.keep.max.commits", max.to_string()),
            ("hoodie.cleaner.commits.retained", (min - 1).to_string()),
            (
                "hoodie.compact.inline.max.delta.commits",
                deltas.to_string(),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        (
            CompactionConfig::from_options(&o).unwrap(),
            ArchiveConfig::from_options(&o).unwrap(),
        )
    }

    fn times(s: &ArchiveSelection) -> Vec<String> {
        s.instants
            .iter()
            .map(|i| i.requested().to_string())
            .collect()
    }

    #[tokio::test]
    async fn archives_down_to_min_and_stops_at_pending_savepoints_and_cleans() {
        let mut files: Vec<String> = (1..=8).map(|i| format!("{}.deltacommit", t(i))).collect();
        let tl = timeline(&files).await;
        let (cc, ac) = configs(3, 5, 100);
        // 8 > 5 completed: archive down to 3; the compaction trigger (100 delta commits) is
        // not close, so it keeps the first delta commit on.
        let s = select(&tl, false, &cc, &ac, None);
        assert_eq!(times(&s), (1..=5).map(t).collect::<Vec<_>>());
        let s = select(&tl, true, &cc, &ac, None);
        assert!(s.instants.is_empty(), "{:?}", times(&s));
        assert!(s.commits_kept_by.unwrap().contains("compaction trigger"));
        // A pending write at 4: the commit before it (3) stays.
        files.push(format!("{}.deltacommit.inflight", t(4)));
        files.retain(|f| f != &format!("{}.deltacommit", t(4)));
        let tl = timeline(&files).await;
        let s = select(&tl, false, &cc, &ac, None);
        assert_eq!(times(&s), vec![t(1), t(2)]);
        assert!(s.commits_kept_by.unwrap().contains("pending"));
        // A savepoint at 2 and a clean that retained from 3.
        files.retain(|f| !f.contains(".inflight"));
        files.push(format!("{}.deltacommit", t(4)));
        files.push(format!("{}.savepoint", t(2)));
        let tl = timeline(&files).await;
        assert_eq!(times(&select(&tl, false, &cc, &ac, None)), vec![t(1)]);
        let clean = LastClean {
            instant: t(9).parse().unwrap(),
            earliest_retained: Some(t(3).parse().unwrap()),
        };
        let (_, mut beyond) = configs(3, 5, 100);
        beyond.beyond_savepoint = true;
        let s = select(&tl, false, &cc, &beyond, Some(&clean));
        assert_eq!(times(&s), vec![t(1)]);
        assert!(s.commits_kept_by.unwrap().contains("clean"));
    }
}
