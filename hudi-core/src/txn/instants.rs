//! The timeline changes that are not a new transaction's begin and commit: retiring archived
//! instants, rewriting a completed instant's metadata on request (a checkpoint reset), deleting
//! a savepoint, and the inner rollbacks a restore plans and then removes. With
//! [`super::Transaction`] these are the only code outside `timeline` that changes timeline
//! files (through `timeline::transition`), so what must follow every timeline change (the
//! metadata table, once it is maintained) has one place to go.

use bytes::Bytes;

use crate::error::Result;
use crate::model::{Action, InstantTime};
use crate::storage::Storage;
use crate::timeline::transition::Transitions;
use crate::timeline::{Timeline, TimelineInstant};

/// Removes archived instants from the active timeline (pending state files first, then the
/// completed ones oldest first); their archive entries are written before.
pub async fn retire_archived(
    storage: &Storage,
    timeline: &Timeline,
    archived: &[&TimelineInstant],
) -> Result<()> {
    Transitions::new(storage, timeline)
        .remove_archived(archived)
        .await
}

/// Replaces the content of a completed instant's file: only on an explicit request, after the
/// caller kept a copy.
pub async fn rewrite_completed(
    storage: &Storage,
    timeline: &Timeline,
    instant: &TimelineInstant,
    content: Bytes,
) -> Result<()> {
    Transitions::new(storage, timeline)
        .rewrite_completed(instant, content)
        .await
}

/// Deletes a savepoint: its completed file first (readers stop seeing it), then its pending
/// ones.
pub async fn delete_savepoint(
    storage: &Storage,
    timeline: &Timeline,
    savepoint: &TimelineInstant,
) -> Result<()> {
    let transitions = Transitions::new(storage, timeline);
    transitions.uncomplete(savepoint).await?;
    transitions
        .remove_pending(savepoint.requested(), Action::Savepoint)
        .await
}

/// Plans one of a restore's inner rollbacks: its requested (with `plan`) and inflight files.
/// Hudi never completes them; [`remove_inner_rollbacks`] removes them once the restore has.
pub async fn begin_inner_rollback(
    storage: &Storage,
    timeline: &Timeline,
    instant: &InstantTime,
    plan: Bytes,
) -> Result<()> {
    let transitions = Transitions::new(storage, timeline);
    transitions.request(instant, Action::Rollback, plan).await?;
    transitions
        .inflight(instant, Action::Rollback, Bytes::new())
        .await?;
    Ok(())
}

/// Removes a completed restore's inner rollbacks.
pub async fn remove_inner_rollbacks(
    storage: &Storage,
    timeline: &Timeline,
    instants: &[InstantTime],
) -> Result<()> {
    let transitions = Transitions::new(storage, timeline);
    for i in instants {
        transitions.remove_pending(i, Action::Rollback).await?;
    }
    Ok(())
}
