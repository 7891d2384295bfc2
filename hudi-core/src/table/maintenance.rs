//! Clean, rollback, savepoints and restore from the `Table` facade: builders with `with_*`
//! setters, run with `.run()` (or the savepoint verbs).

use std::collections::BTreeMap;
use std::sync::Arc;

use super::Table;
use crate::config::table::TableConfig;
use crate::error::Result;
use crate::model::InstantTime;
use crate::services::archive::{self, ArchiveOutcome};
use crate::services::clean::{self, config as clean_keys, CleanConfig, CleanPolicy, CleanRun};
use crate::services::restore::{self, RestoreOutcome};
use crate::services::rollback;
use crate::services::savepoint::{self, SavepointInfo};
use crate::services::Progress;
use crate::storage::Storage;
use crate::timeline::transition::{ClockRef, SystemClock};
use crate::txn::rollback::RollbackOutcome;

impl Table {
    /// Clean: delete file slices that no retained commit, savepoint or pending compaction
    /// needs (policy and retention from the options, Hudi's defaults otherwise).
    pub fn clean(&self) -> CleanBuilder {
        CleanBuilder {
            storage: self.storage().clone(),
            config: self.config().clone(),
            options: BTreeMap::new(),
            clock: Arc::new(SystemClock),
            dry_run: false,
            progress: None,
        }
    }

    /// Rollback: of failed writes, or (`with_instant`) of the latest completed instant.
    pub fn rollback(&self) -> RollbackBuilder {
        RollbackBuilder {
            storage: self.storage().clone(),
            config: self.config().clone(),
            instant: None,
            clock: Arc::new(SystemClock),
            options: BTreeMap::new(),
        }
    }

    /// Savepoints: create, list, delete.
    pub fn savepoint(&self) -> SavepointBuilder {
        SavepointBuilder {
            storage: self.storage().clone(),
            config: self.config().clone(),
            instant: None,
            by: String::new(),
            comments: String::new(),
            clock: Arc::new(SystemClock),
        }
    }

    /// Archival: move the oldest instants to the archived timeline (options
    /// `hoodie.keep.min.commits`, `hoodie.keep.max.commits`, ...).
    pub fn archive(&self) -> ArchiveBuilder {
        ArchiveBuilder {
            storage: self.storage().clone(),
            config: self.config().clone(),
            options: BTreeMap::new(),
        }
    }

    /// Restore the table to the savepoint `savepoint`: everything written after it is rolled
    /// back.
    pub fn restore(&self, savepoint: InstantTime) -> RestoreBuilder {
        RestoreBuilder {
            storage: self.storage().clone(),
            config: self.config().clone(),
            savepoint,
            clock: Arc::new(SystemClock),
        }
    }
}

/// See [`Table::clean`].
#[derive(Clone)]
pub struct CleanBuilder {
    storage: Storage,
    config: TableConfig,
    options: BTreeMap<String, String>,
    clock: ClockRef,
    dry_run: bool,
    progress: Option<Progress>,
}

impl std::fmt::Debug for CleanBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CleanBuilder")
            .field("storage", &self.storage)
            .field("options", &self.options)
            .field("dry_run", &self.dry_run)
            .finish()
    }
}

impl CleanBuilder {
    /// Sets a `hoodie.*` option (`hoodie.cleaner.policy`, `hoodie.cleaner.commits.retained`, ...).
    pub fn with_option(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.options.insert(key.into(), value.into());
        self
    }

    pub fn with_options(mut self, options: BTreeMap<String, String>) -> Self {
        self.options.extend(options);
        self
    }

    pub fn with_policy(self, policy: CleanPolicy) -> Self {
        self.with_option(clean_keys::POLICY.key, policy.name())
    }

    /// Commits retained (KEEP_LATEST_COMMITS).
    pub fn with_retained_commits(self, n: usize) -> Self {
        self.with_option(clean_keys::COMMITS_RETAINED.key, n.to_string())
    }

    /// Versions of each file group retained (KEEP_LATEST_FILE_VERSIONS).
    pub fn with_retained_versions(self, n: usize) -> Self {
        self.with_option(clean_keys::FILE_VERSIONS_RETAINED.key, n.to_string())
    }

    /// Hours of commits retained (KEEP_LATEST_BY_HOURS).
    pub fn with_retained_hours(self, h: i64) -> Self {
        self.with_option(clean_keys::HOURS_RETAINED.key, h.to_string())
    }

    /// Report what would be deleted without deleting.
    pub fn with_dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }

    pub fn with_clock(mut self, clock: ClockRef) -> Self {
        self.clock = clock;
        self
    }

    /// Reports the files deleted as it goes.
    pub fn with_progress(mut self, progress: Progress) -> Self {
        self.progress = Some(progress);
        self
    }

    pub async fn run(self) -> Result<CleanRun> {
        let mut all = self.config.raw.clone();
        all.extend(self.options);
        let cc = CleanConfig::from_options(&all)?;
        // Under optimistic concurrency control, under the table lock.
        let s = &self.storage;
        let locked = async {
            clean::clean(
                s,
                &self.config,
                &cc,
                self.clock.as_ref(),
                self.dry_run,
                self.progress.as_ref(),
            )
            .await
        };
        crate::txn::under_table_lock(s, &all, locked).await
    }
}

/// See [`Table::rollback`].
#[derive(Debug, Clone)]
pub struct RollbackBuilder {
    storage: Storage,
    config: TableConfig,
    instant: Option<InstantTime>,
    clock: ClockRef,
    options: BTreeMap<String, String>,
}

impl RollbackBuilder {
    /// Options: `hoodie.write.concurrency.mode=optimistic_concurrency_control` takes the table
    /// lock around the rollback of failed writes, with the heartbeat expiry of
    /// `hoodie.client.heartbeat.*`.
    pub fn with_options(mut self, options: BTreeMap<String, String>) -> Self {
        self.options.extend(options);
        self
    }

    /// The instant to roll back; without it, failed writes are.
    pub fn with_instant(mut self, t: InstantTime) -> Self {
        self.instant = Some(t);
        self
    }

    pub fn with_clock(mut self, clock: ClockRef) -> Self {
        self.clock = clock;
        self
    }

    /// Rolls back; an empty result means there were no failed writes.
    pub async fn run(self) -> Result<Vec<RollbackOutcome>> {
        match &self.instant {
            Some(t) => {
                // Under optimistic concurrency control, under the table lock.
                let mut all = self.config.raw.clone();
                all.extend(self.options.clone());
                let (s, clock) = (&self.storage, self.clock.as_ref());
                let one = rollback::rollback_instant(s, &self.config, t, clock);
                Ok(vec![crate::txn::under_table_lock(s, &all, one).await?])
            }
            None => {
                let mut all = self.config.raw.clone();
                all.extend(self.options);
                let cc =
                    crate::txn::concurrency::ConcurrencyConfig::from_options(&self.storage, &all)?;
                rollback::rollback_failed_writes(
                    &self.storage,
                    &self.config,
                    self.clock.as_ref(),
                    &cc,
                )
                .await
            }
        }
    }
}

/// See [`Table::savepoint`].
#[derive(Debug, Clone)]
pub struct SavepointBuilder {
    storage: Storage,
    config: TableConfig,
    instant: Option<InstantTime>,
    by: String,
    comments: String,
    clock: ClockRef,
}

impl SavepointBuilder {
    /// The completed commit to savepoint (the latest when unset).
    pub fn with_instant(mut self, t: InstantTime) -> Self {
        self.instant = Some(t);
        self
    }

    pub fn with_user(mut self, by: impl Into<String>) -> Self {
        self.by = by.into();
        self
    }

    pub fn with_comments(mut self, comments: impl Into<String>) -> Self {
        self.comments = comments.into();
        self
    }

    pub fn with_clock(mut self, clock: ClockRef) -> Self {
        self.clock = clock;
        self
    }

    pub async fn create(self) -> Result<SavepointInfo> {
        savepoint::create(
            &self.storage,
            &self.config,
            self.instant.as_ref(),
            &self.by,
            &self.comments,
            self.clock.as_ref(),
        )
        .await
    }

    pub async fn list(self) -> Result<Vec<SavepointInfo>> {
        savepoint::list(&self.storage, &self.config).await
    }

    /// Deletes the savepoint of `t`.
    pub async fn delete(self, t: InstantTime) -> Result<()> {
        savepoint::delete(&self.storage, &self.config, &t).await
    }
}

/// See [`Table::archive`].
#[derive(Debug, Clone)]
pub struct ArchiveBuilder {
    storage: Storage,
    config: TableConfig,
    options: BTreeMap<String, String>,
}

impl ArchiveBuilder {
    pub fn with_option(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.options.insert(key.into(), value.into());
        self
    }

    pub fn with_options(mut self, options: BTreeMap<String, String>) -> Self {
        self.options.extend(options);
        self
    }

    /// Under optimistic concurrency control, under the table lock.
    pub async fn run(self) -> Result<ArchiveOutcome> {
        let mut all = self.config.raw.clone();
        all.extend(self.options.clone());
        let s = &self.storage;
        crate::txn::under_table_lock(s, &all, archive::archive(s, &self.config, &self.options))
            .await
    }
}

/// See [`Table::restore`].
#[derive(Debug, Clone)]
pub struct RestoreBuilder {
    storage: Storage,
    config: TableConfig,
    savepoint: InstantTime,
    clock: ClockRef,
}

impl RestoreBuilder {
    pub fn with_clock(mut self, clock: ClockRef) -> Self {
        self.clock = clock;
        self
    }

    pub async fn run(self) -> Result<RestoreOutcome> {
        restore::restore(
            &self.storage,
            &self.config,
            &self.savepoint,
            self.clock.as_ref(),
        )
        .await
    }
}
