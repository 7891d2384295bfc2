//! Table services from the `Table` facade: builders with `with_*` setters that run on
//! `.await`.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::future::BoxFuture;

use super::Table;
use crate::config::capability::Changes;
use crate::error::Result;
use crate::model::InstantTime;
use crate::services::compaction::{
    self, CompactionConfig, CompactionOutcome, PendingRun, ScheduleOutcome,
};
use crate::services::{archive, clean, Progress};
use crate::storage::Storage;
use crate::timeline::transition::{ClockRef, SystemClock};
use crate::txn::mutation::Mutation;
use crate::write::{AfterCommit, InlineService, WriteMetrics};

/// Compaction of a merge-on-read table: schedule a plan, run a pending one, or both.
#[derive(Clone)]
pub struct CompactionBuilder {
    storage: Storage,
    options: BTreeMap<String, String>,
    clock: ClockRef,
    force: bool,
    instant: Option<InstantTime>,
    progress: Option<Progress>,
}

impl std::fmt::Debug for CompactionBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompactionBuilder")
            .field("storage", &self.storage)
            .field("options", &self.options)
            .field("force", &self.force)
            .field("instant", &self.instant)
            .finish()
    }
}

impl CompactionBuilder {
    pub(super) fn new(table: &Table) -> Self {
        CompactionBuilder {
            storage: table.storage().clone(),
            options: BTreeMap::new(),
            clock: Arc::new(SystemClock),
            force: false,
            instant: None,
            progress: None,
        }
    }

    /// Reports each file group compacted.
    pub fn with_progress(mut self, progress: Progress) -> Self {
        self.progress = Some(progress);
        self
    }

    /// Sets a `hoodie.*` option (`hoodie.compaction.strategy`, `hoodie.compact.inline.*`, ...).
    pub fn with_option(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.options.insert(key.into(), value.into());
        self
    }

    pub fn with_options(mut self, options: BTreeMap<String, String>) -> Self {
        self.options.extend(options);
        self
    }

    pub fn with_clock(mut self, clock: ClockRef) -> Self {
        self.clock = clock;
        self
    }

    /// Schedules even when the trigger says no compaction is due yet.
    pub fn with_force(mut self, force: bool) -> Self {
        self.force = force;
        self
    }

    /// The pending compaction to run (the earliest when unset).
    pub fn with_instant(mut self, instant: InstantTime) -> Self {
        self.instant = Some(instant);
        self
    }

    async fn config(
        &self,
    ) -> Result<(
        crate::config::table::TableConfig,
        CompactionConfig,
        BTreeMap<String, String>,
    )> {
        let m =
            Mutation::begin(&self.storage, "compaction", Changes::Records, &self.options).await?;
        let cc = CompactionConfig::from_options(&m.options)?;
        Ok((m.config, cc, m.options))
    }

    /// Writes a compaction plan if one is due (always with `with_force(true)`). Under
    /// optimistic concurrency control, under the table lock.
    pub async fn schedule(self) -> Result<ScheduleOutcome> {
        let (config, cc, all) = self.config().await?;
        let s = &self.storage;
        crate::txn::under_table_lock(s, &all, async {
            compaction::schedule(s, &config, &cc, self.clock.as_ref(), self.force).await
        })
        .await
    }

    /// Runs a pending compaction (under optimistic concurrency control, under the table lock).
    pub async fn run(self) -> Result<CompactionOutcome> {
        let (config, cc, all) = self.config().await?;
        let s = &self.storage;
        crate::txn::under_table_lock(s, &all, async {
            compaction::run(
                s,
                &config,
                self.instant.as_ref(),
                &cc,
                &self.options,
                self.progress.as_ref(),
            )
            .await
        })
        .await
    }

    /// Runs the pending compaction (the earliest, or the one `with_instant` names); when none
    /// is pending and no instant is named, schedules one first, due or not. Under optimistic
    /// concurrency control, all of it under the table lock.
    pub async fn run_or_schedule(self) -> Result<PendingRun> {
        let (config, cc, all) = self.config().await?;
        let s = self.storage.clone();
        crate::txn::under_table_lock(&s, &all, async {
            let timeline = crate::timeline::Timeline::load(&s, &config).await?;
            if self.instant.is_none() && timeline.pending_compactions().await?.is_empty() {
                let clock = self.clock.as_ref();
                match compaction::schedule(&s, &config, &cc, clock, true).await? {
                    ScheduleOutcome::NothingToCompact { reason } => {
                        return Ok(PendingRun::NothingToCompact { reason })
                    }
                    ScheduleOutcome::Scheduled { .. } | ScheduleOutcome::NotDue { .. } => {}
                }
            }
            let ran = compaction::run(
                &s,
                &config,
                self.instant.as_ref(),
                &cc,
                &self.options,
                self.progress.as_ref(),
            )
            .await?;
            Ok(PendingRun::Ran(ran))
        })
        .await
    }

    /// Schedules (if due) and runs: what inline compaction does after a write.
    pub async fn schedule_and_run(self) -> Result<(ScheduleOutcome, Option<CompactionOutcome>)> {
        let (config, cc, all) = self.config().await?;
        let (s, clock, progress) = (&self.storage, self.clock.as_ref(), self.progress.as_ref());
        let run = compaction::schedule_then_run(
            s,
            &config,
            &cc,
            clock,
            self.force,
            &self.options,
            progress,
        );
        crate::txn::under_table_lock(s, &all, run).await
    }
}

/// The services a write runs after it commits, as Hudi's write client does: inline
/// compaction (`hoodie.compact.inline=true`), then the automatic clean
/// (`hoodie.clean.automatic`) and archival (`hoodie.archive.automatic`), both on by default.
#[derive(Debug, Clone)]
pub struct InlineServices;

impl AfterCommit for InlineServices {
    fn check(&self, options: &BTreeMap<String, String>) -> Result<()> {
        CompactionConfig::from_options(options)?;
        clean::CleanConfig::from_options(options)?;
        archive::ArchiveConfig::from_options(options)?;
        Ok(())
    }

    fn after_commit<'a>(
        &'a self,
        storage: &'a Storage,
        options: &'a BTreeMap<String, String>,
        _write: &'a WriteMetrics,
        clock: &'a dyn crate::timeline::transition::Clock,
    ) -> BoxFuture<'a, Result<Vec<InlineService>>> {
        Box::pin(async move {
            let Mutation {
                config,
                options: all,
            } = Mutation::look(storage, options).await?;
            // The write that runs these services checked the table at its start: one
            // capability check per operation.
            // Concurrent writers run their services one at a time.
            crate::txn::under_table_lock(storage, &all, async {
                let mut done = Vec::new();
                if let Some(s) = inline_compaction(storage, &config, &all, options, clock).await? {
                    done.push(s);
                }
                if let Some(s) = automatic_clean(storage, &config, &all, clock).await? {
                    done.push(s);
                }
                if let Some(s) = automatic_archive(storage, &config, &all).await? {
                    done.push(s);
                }
                Ok(done)
            })
            .await
        })
    }
}

async fn inline_compaction(
    storage: &Storage,
    config: &crate::config::table::TableConfig,
    all: &BTreeMap<String, String>,
    options: &BTreeMap<String, String>,
    clock: &dyn crate::timeline::transition::Clock,
) -> Result<Option<InlineService>> {
    let cc = CompactionConfig::from_options(all)?;
    let mor = config.table_type == crate::config::table::TableType::MergeOnRead;
    if !cc.inline || !mor {
        return Ok(None);
    }
    let ran = compaction::schedule_then_run(storage, config, &cc, clock, false, options, None);
    let Some(out) = ran.await?.1 else {
        return Ok(None);
    };
    Ok(Some(InlineService {
        service: "compaction",
        instant: out.instant,
        detail: format!(
            "{} file groups, {} records",
            out.file_groups, out.records_written
        ),
    }))
}

async fn automatic_clean(
    storage: &Storage,
    config: &crate::config::table::TableConfig,
    all: &BTreeMap<String, String>,
    clock: &dyn crate::timeline::transition::Clock,
) -> Result<Option<InlineService>> {
    let cc = clean::CleanConfig::from_options(all)?;
    if !cc.automatic {
        return Ok(None);
    }
    let timeline = crate::timeline::Timeline::load(storage, config).await?;
    if !clean::automatic_due(&timeline, &cc).await? {
        return Ok(None);
    }
    let run = clean::clean(storage, timeline, &cc, clock, false, None).await?;
    Ok(match run.outcome {
        clean::CleanOutcome::Cleaned(r) => Some(InlineService {
            service: "clean",
            detail: format!(
                "{} files deleted, earliest retained commit {}",
                r.files_deleted(),
                r.earliest_retained
                    .as_ref()
                    .map(|t| t.to_string())
                    .unwrap_or_else(|| "-".into())
            ),
            instant: r.instant,
        }),
        _ => None,
    })
}

async fn automatic_archive(
    storage: &Storage,
    config: &crate::config::table::TableConfig,
    all: &BTreeMap<String, String>,
) -> Result<Option<InlineService>> {
    let ac = archive::ArchiveConfig::from_options(all)?;
    if !ac.automatic {
        return Ok(None);
    }
    Ok(match archive::archive(storage, config, all).await? {
        archive::ArchiveOutcome::Archived {
            instants,
            commits_left,
            ..
        } => instants.last().map(|(t, _)| InlineService {
            service: "archive",
            instant: t.clone(),
            detail: format!(
                "{} instants archived, {commits_left} commits left",
                instants.len()
            ),
        }),
        archive::ArchiveOutcome::NothingToArchive { .. } => None,
    })
}
