//! Clean, rollback, savepoints and restore from the `Table` facade: builders with `with_*`
//! setters, run with `.run()` (or the savepoint verbs).

use std::collections::BTreeMap;
use std::sync::Arc;

use super::Table;
use crate::config::capability::Changes;
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
use crate::txn::mutation::Mutation;
use crate::txn::rollback::RollbackOutcome;

impl Table {
    /// Clean: delete file slices that no retained commit, savepoint or pending compaction
    /// needs (policy and retention from the options, Hudi's defaults otherwise).
    pub fn clean(&self) -> CleanBuilder {
        CleanBuilder {
            storage: self.storage().clone(),
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
            options: BTreeMap::new(),
        }
    }

    /// Restore the table to the savepoint `savepoint`: everything written after it is rolled
    /// back.
    pub fn restore(&self, savepoint: InstantTime) -> RestoreBuilder {
        RestoreBuilder {
            storage: self.storage().clone(),
            savepoint,
            clock: Arc::new(SystemClock),
        }
    }
}

/// See [`Table::clean`].
#[derive(Clone)]
pub struct CleanBuilder {
    storage: Storage,
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

    /// Cleans (refused on a table with parts this library does not maintain, unless a dry
    /// run).
    pub async fn run(self) -> Result<CleanRun> {
        let s = &self.storage;
        let Mutation {
            config,
            options: all,
        } = match self.dry_run {
            true => Mutation::look(s, &self.options).await?,
            false => Mutation::begin(s, "clean", Changes::Files, &self.options).await?,
        };
        let cc = CleanConfig::from_options(&all)?;
        // Under optimistic concurrency control, under the table lock.
        let locked = async {
            let timeline = crate::timeline::Timeline::load(s, &config).await?;
            clean::clean(
                s,
                timeline,
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
        let (s, clock) = (&self.storage, self.clock.as_ref());
        let Mutation { config, options } =
            Mutation::begin(s, "rollback", Changes::Files, &self.options).await?;
        match &self.instant {
            Some(t) => {
                // Under optimistic concurrency control, under the table lock.
                let one = rollback::rollback_instant(s, &config, t, clock);
                Ok(vec![crate::txn::under_table_lock(s, &options, one).await?])
            }
            None => {
                let cc = crate::txn::concurrency::ConcurrencyConfig::from_options(s, &options)?;
                rollback::rollback_failed_writes(s, &config, clock, &cc).await
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
        let m = Mutation::begin(
            &self.storage,
            "savepoint create",
            Changes::Files,
            &BTreeMap::new(),
        )
        .await?;
        savepoint::create(
            &self.storage,
            &m.config,
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
        let m = Mutation::begin(
            &self.storage,
            "savepoint delete",
            Changes::Files,
            &BTreeMap::new(),
        )
        .await?;
        savepoint::delete(&self.storage, &m.config, &t).await
    }
}

/// See [`Table::archive`].
#[derive(Debug, Clone)]
pub struct ArchiveBuilder {
    storage: Storage,
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
        let s = &self.storage;
        let Mutation { config, options } =
            Mutation::begin(s, "archival", Changes::Files, &self.options).await?;
        crate::txn::under_table_lock(s, &options, archive::archive(s, &config, &self.options)).await
    }
}

/// See [`Table::restore`].
#[derive(Debug, Clone)]
pub struct RestoreBuilder {
    storage: Storage,
    savepoint: InstantTime,
    clock: ClockRef,
}

impl RestoreBuilder {
    pub fn with_clock(mut self, clock: ClockRef) -> Self {
        self.clock = clock;
        self
    }

    pub async fn run(self) -> Result<RestoreOutcome> {
        let m = Mutation::begin(&self.storage, "restore", Changes::Files, &BTreeMap::new()).await?;
        restore::restore(
            &self.storage,
            &m.config,
            &self.savepoint,
            self.clock.as_ref(),
        )
        .await
    }
}

/// A builder whose one verb is `run` also runs on `.await` (as delta-rs' operations do):
/// `table.clean().with_retained_commits(5).await`.
macro_rules! run_on_await {
    ($builder:ty, $output:ty) => {
        impl std::future::IntoFuture for $builder {
            type Output = Result<$output>;
            type IntoFuture = futures::future::BoxFuture<'static, Result<$output>>;

            fn into_future(self) -> Self::IntoFuture {
                Box::pin(self.run())
            }
        }
    };
}

run_on_await!(CleanBuilder, CleanRun);
run_on_await!(RollbackBuilder, Vec<RollbackOutcome>);
run_on_await!(ArchiveBuilder, ArchiveOutcome);
run_on_await!(RestoreBuilder, RestoreOutcome);
