//! Which partitions a sync must look at, and which of them hold data now: every partition
//! on the first sync (or when the last synced commit is no longer on the active timeline, or
//! a rollback or restore happened since), else the partitions the commits since wrote or
//! replaced.

use std::collections::BTreeSet;

use hudi_core::fs_view::FileSystemView;
use hudi_core::model::instant::Action;
use hudi_core::{InstantTime, Table};

use crate::error::Result;

/// The partitions to reconcile with the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovery {
    /// Every partition was listed: catalog partitions not in `live` are gone.
    pub full: bool,
    /// The partitions examined (all of them when `full`).
    pub examined: BTreeSet<String>,
    /// Those of them that hold a live file group (partitions whose file groups were all
    /// replaced, by delete_partition or insert_overwrite_table, are not live).
    pub live: BTreeSet<String>,
}

/// Why a full listing is needed after `last`, if it is.
pub fn full_listing_reason(table: &Table, last: Option<&InstantTime>) -> Option<String> {
    let Some(last) = last else {
        return Some("first sync".into());
    };
    let timeline = table.timeline();
    if let Some(earliest) = timeline.earliest_write() {
        if last < earliest {
            return Some(format!(
                "the last synced commit {last} is archived (the active timeline starts at {earliest})"
            ));
        }
    }
    let undo = timeline.instants().iter().find(|i| {
        i.is_completed()
            && matches!(i.action(), Action::Rollback | Action::Restore)
            && i.requested() > last
    });
    if let Some(u) = undo {
        return Some(format!(
            "{} {} since the last synced commit {last}",
            u.action().token(),
            u.requested()
        ));
    }
    None
}

/// Partitions the completed writes after `last` wrote to or replaced file groups in.
pub async fn touched_since(table: &Table, last: &InstantTime) -> Result<BTreeSet<String>> {
    let timeline = table.timeline();
    let mut out = BTreeSet::new();
    for i in timeline.completed_writes().filter(|i| i.requested() > last) {
        let m = timeline.commit_metadata(&i.instant).await?;
        out.extend(m.partition_to_write_stats.keys().cloned());
        out.extend(m.replaced_file_ids().map(|(p, _)| p.to_string()));
    }
    Ok(out)
}

fn live(view: &FileSystemView) -> BTreeSet<String> {
    view.groups.keys().map(|g| g.partition.clone()).collect()
}

/// Lists what the sync needs: all partitions, or those touched since `last`.
pub async fn discover(table: &Table, full: bool, last: Option<&InstantTime>) -> Result<Discovery> {
    match (full, last) {
        (false, Some(last)) => {
            let examined = touched_since(table, last).await?;
            let paths: Vec<String> = examined.iter().cloned().collect();
            let view =
                FileSystemView::load_partitions(table.storage(), table.timeline(), None, &paths)
                    .await?;
            Ok(Discovery {
                full: false,
                live: live(&view),
                examined,
            })
        }
        _ => {
            let view = table.file_system_view(None).await?;
            let live = live(&view);
            Ok(Discovery {
                full: true,
                examined: live.clone(),
                live,
            })
        }
    }
}
