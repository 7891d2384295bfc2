//! The commit protocol: the one place that creates and removes timeline files. Every writer
//! and service goes requested → inflight → completed through it; each state file is created
//! with put-if-absent, so two writers can never both complete the same instant.

use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Utc};

use super::Timeline;
use crate::error::{HudiError, Result};
use crate::model::{Action, Instant, InstantTime, State};
use crate::storage::Storage;

/// Where instant times come from. Tests inject a fixed clock.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock (UTC).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that always reads the same time (instants still increase: see [`next_instant`]).
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

/// A shared clock.
pub type ClockRef = Arc<dyn Clock>;

/// The instant time of a moment in the timeline's zone: UTC, or local wall-clock time on a
/// LOCAL timeline, as Hudi formats them.
pub fn instant_at(timeline: &Timeline, t: &DateTime<Utc>) -> InstantTime {
    if timeline.is_utc() {
        InstantTime::from_datetime_utc(t)
    } else {
        InstantTime::from_datetime_utc(&t.with_timezone(&chrono::Local).naive_local().and_utc())
    }
}

/// A fresh instant: the clock's time (UTC, or local time on a LOCAL timeline), or 1 ms after the greatest instant on the timeline
/// (pending ones included) when the clock is not ahead of it.
pub fn next_instant(timeline: &Timeline, clock: &dyn Clock) -> InstantTime {
    let now = instant_at(timeline, &clock.now());
    let latest = timeline
        .instants()
        .iter()
        .flat_map(|i| std::iter::once(i.requested()).chain(i.completion()))
        .max()
        .cloned();
    match latest {
        Some(l) if l >= now => {
            let next = l
                .to_datetime_utc()
                .map(|t| t + chrono::Duration::milliseconds(1))
                .map(|t| InstantTime::from_datetime_utc(&t));
            match next {
                Some(n) if n > l => n,
                _ => now,
            }
        }
        _ => now,
    }
}

/// The instant 1 ms after `t` (`t` itself if it has no time).
pub fn instant_after(t: &InstantTime) -> InstantTime {
    t.to_datetime_utc()
        .map(|d| InstantTime::from_datetime_utc(&(d + chrono::Duration::milliseconds(1))))
        .filter(|n| n > t)
        .unwrap_or_else(|| t.clone())
}

/// Timeline writes for one table (layout 1, table version 6).
#[derive(Debug, Clone)]
pub struct Transitions {
    storage: Storage,
    timeline: Timeline,
}

impl Transitions {
    pub fn new(storage: &Storage, timeline: &Timeline) -> Self {
        Transitions {
            storage: storage.clone(),
            timeline: timeline.clone(),
        }
    }

    async fn create(&self, instant: &Instant, content: Bytes) -> Result<()> {
        let path = self.timeline.instant_path(instant);
        self.storage
            .put_if_absent(&path, content)
            .await
            .map_err(|e| match e {
                HudiError::AlreadyExists { path } => HudiError::InstantConflict {
                    instant: instant.requested.to_string(),
                    path,
                },
                e => e,
            })
    }

    /// Creates `T.<action>.requested`.
    pub async fn request(
        &self,
        t: &InstantTime,
        action: Action,
        content: Bytes,
    ) -> Result<Instant> {
        let i = Instant::new(t.clone(), action, State::Requested);
        self.create(&i, content).await?;
        Ok(i)
    }

    /// Creates the inflight file.
    pub async fn inflight(
        &self,
        t: &InstantTime,
        action: Action,
        content: Bytes,
    ) -> Result<Instant> {
        let i = Instant::new(t.clone(), action, State::Inflight);
        self.create(&i, content).await?;
        Ok(i)
    }

    /// Creates the completed file: the commit point.
    pub async fn complete(
        &self,
        t: &InstantTime,
        action: Action,
        content: Bytes,
    ) -> Result<Instant> {
        let i = Instant::new(t.clone(), action.completed_action(), State::Completed);
        self.create(&i, content).await?;
        Ok(i)
    }

    /// Takes an inflight instant back to requested (a failed compaction's files are gone; it
    /// runs again from its plan).
    pub async fn revert_to_requested(&self, t: &InstantTime, action: Action) -> Result<()> {
        let i = Instant::new(t.clone(), action, State::Inflight);
        self.storage.delete(&self.timeline.instant_path(&i)).await
    }

    /// Removes the completed file of an instant being rolled back or a savepoint being deleted:
    /// from here on readers no longer see it; its pending files go with [`Self::remove_pending`].
    pub async fn uncomplete(&self, ti: &crate::timeline::TimelineInstant) -> Result<()> {
        for f in ti.state_files.iter().filter(|f| f.is_completed()) {
            self.storage.delete(&self.timeline.instant_path(f)).await?;
        }
        Ok(())
    }

    /// Removes archived instants from the active timeline: every pending state file first,
    /// then the completed ones oldest first, so that no reader ever sees a completed instant's
    /// leftover pending states as a pending operation, nor a hole in the timeline.
    pub async fn remove_archived(
        &self,
        instants: &[&crate::timeline::TimelineInstant],
    ) -> Result<()> {
        for ti in instants {
            for f in ti.state_files.iter().filter(|f| !f.is_completed()) {
                self.storage.delete(&self.timeline.instant_path(f)).await?;
            }
        }
        let mut sorted: Vec<&&crate::timeline::TimelineInstant> = instants.iter().collect();
        sorted.sort_by(|a, b| a.requested().cmp(b.requested()));
        for ti in sorted {
            for f in ti.state_files.iter().filter(|f| f.is_completed()) {
                self.storage.delete(&self.timeline.instant_path(f)).await?;
            }
        }
        Ok(())
    }

    /// Replaces the content of a completed instant's file. Only an explicit user request does
    /// this (`hudi checkpoint set`), after keeping a copy: committed metadata is otherwise never
    /// rewritten.
    pub async fn rewrite_completed(
        &self,
        ti: &crate::timeline::TimelineInstant,
        content: Bytes,
    ) -> Result<()> {
        let completed = ti
            .state_files
            .iter()
            .find(|f| f.is_completed())
            .ok_or_else(|| HudiError::Internal {
                what: format!("rewrite of {}, which has not completed", ti.requested()),
            })?;
        self.storage
            .put(&self.timeline.instant_path(completed), content)
            .await
    }

    /// Removes every state file of a pending instant (after its rollback). A completed instant
    /// is never touched here.
    pub async fn remove_pending(&self, t: &InstantTime, action: Action) -> Result<()> {
        for state in [State::Inflight, State::Requested] {
            let i = Instant::new(t.clone(), action, state);
            self.storage.delete(&self.timeline.instant_path(&i)).await?;
        }
        Ok(())
    }
}
