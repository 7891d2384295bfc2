//! The active timeline: every instant on `.hoodie/` (layout 1) or `.hoodie/timeline/`
//! (layout 2), its latest state, and access to its contents.

use std::collections::BTreeMap;

use bytes::Bytes;

use crate::config::table::TableConfig;
use crate::error::{HudiError, Result};
use crate::model::metadata::{self, CommitMetadata, CompactionPlan};
use crate::model::{Action, Instant, InstantTime, State, TimelineLayout};
use crate::storage::Storage;

pub mod transition;

/// One instant of the timeline in its latest state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineInstant {
    /// The latest state, with the action as its file names it (a completed compaction is a
    /// `commit`).
    pub instant: Instant,
    /// The action the instant was requested as (`compaction` for a completed compaction).
    pub planned_action: Action,
    /// Modification time of the latest state's file, in epoch milliseconds.
    pub modified_ms: i64,
    /// Every state file present, in state order (requested, inflight, completed).
    pub state_files: Vec<Instant>,
    /// Modification time of each state file (epoch milliseconds), in the same order.
    pub state_modified_ms: Vec<i64>,
}

impl TimelineInstant {
    pub fn requested(&self) -> &InstantTime {
        &self.instant.requested
    }
    pub fn action(&self) -> Action {
        self.instant.action
    }
    pub fn state(&self) -> State {
        self.instant.state
    }
    pub fn is_completed(&self) -> bool {
        self.instant.is_completed()
    }
    /// Completion time: from the file name (layout 2), else none.
    pub fn completion(&self) -> Option<&InstantTime> {
        self.instant.completion.as_ref()
    }
    /// The time incremental reads of this table compare with: completion time on layout 2,
    /// requested time on layout 1.
    pub fn ordering_time(&self) -> &InstantTime {
        self.instant
            .completion
            .as_ref()
            .unwrap_or(&self.instant.requested)
    }
    /// Whether this is a completed instant that wrote data files.
    pub fn is_completed_write(&self) -> bool {
        self.is_completed()
            && matches!(
                self.instant.action,
                Action::Commit | Action::DeltaCommit | Action::ReplaceCommit
            )
    }
}

/// The loaded active timeline.
#[derive(Debug, Clone)]
pub struct Timeline {
    storage: Storage,
    layout: TimelineLayout,
    dir: String,
    timeline_path: String,
    /// Whether instant times are UTC (`hoodie.table.timeline.timezone=UTC`) or local time.
    utc: bool,
    instants: Vec<TimelineInstant>,
}

impl Timeline {
    /// Lists and parses the timeline directory.
    pub async fn load(storage: &Storage, config: &TableConfig) -> Result<Timeline> {
        Self::load_dir(
            storage,
            config.uses_layout_v2(),
            &config.timeline_path,
            config.timeline_timezone_utc,
        )
        .await
    }

    /// Lists the timeline again (after this process changed it).
    pub async fn reload(&self) -> Result<Timeline> {
        Self::load_dir(
            &self.storage,
            self.layout == TimelineLayout::V2,
            &self.timeline_path,
            self.utc,
        )
        .await
    }

    async fn load_dir(
        storage: &Storage,
        v2: bool,
        timeline_path: &str,
        utc: bool,
    ) -> Result<Timeline> {
        let (layout, dir) = if v2 {
            (TimelineLayout::V2, format!(".hoodie/{timeline_path}"))
        } else {
            (TimelineLayout::V1, ".hoodie".to_string())
        };
        let listing = storage.list_dir(&dir).await?;
        // Group the state files of one instant: same requested time and the same completed action.
        let mut groups: BTreeMap<(InstantTime, Action), Vec<(Instant, i64)>> = BTreeMap::new();
        for f in &listing.files {
            if !f.name.as_bytes().first().is_some_and(u8::is_ascii_digit) {
                continue;
            }
            match Instant::parse_file_name(&f.name) {
                Ok(i) => groups
                    .entry((i.requested.clone(), i.action.completed_action()))
                    .or_default()
                    .push((i, f.last_modified_ms)),
                Err(e) => log::warn!("skipping {}: {e}", storage.display(&f.path)),
            }
        }
        let mut instants = Vec::with_capacity(groups.len());
        for (_, mut states) in groups {
            states.sort_by_key(|a| a.0.state);
            let planned_action = states[0].0.action;
            let state_files: Vec<Instant> = states.iter().map(|(i, _)| i.clone()).collect();
            let state_modified_ms: Vec<i64> = states.iter().map(|(_, m)| *m).collect();
            let (latest, modified_ms) =
                states
                    .pop()
                    .ok_or_else(|| HudiError::InvalidInstantFileName {
                        name: dir.clone(),
                        reason: "empty instant group".into(),
                    })?;
            instants.push(TimelineInstant {
                instant: latest,
                planned_action,
                modified_ms,
                state_files,
                state_modified_ms,
            });
        }
        instants.sort_by(|a, b| {
            a.instant
                .requested
                .cmp(&b.instant.requested)
                .then(a.instant.action.cmp(&b.instant.action))
        });
        Ok(Timeline {
            storage: storage.clone(),
            layout,
            dir,
            timeline_path: timeline_path.to_string(),
            utc,
            instants,
        })
    }

    /// Whether instant times are UTC; otherwise they are the writer's local time, as Java
    /// writes when `hoodie.table.timeline.timezone` is absent or `LOCAL`.
    pub fn is_utc(&self) -> bool {
        self.utc
    }

    pub fn layout(&self) -> TimelineLayout {
        self.layout
    }

    /// The timeline directory relative to the base path.
    pub fn dir(&self) -> &str {
        &self.dir
    }

    /// Every instant, ordered by requested time.
    pub fn instants(&self) -> &[TimelineInstant] {
        &self.instants
    }

    /// Completed commits, delta commits and replace commits, ordered by requested time.
    pub fn completed_writes(&self) -> impl Iterator<Item = &TimelineInstant> {
        self.instants.iter().filter(|i| i.is_completed_write())
    }

    /// The completed write instant with this requested time.
    pub fn completed_write(&self, t: &InstantTime) -> Option<&TimelineInstant> {
        self.completed_writes().find(|i| i.requested() == t)
    }

    /// Instants not yet completed.
    pub fn pending(&self) -> impl Iterator<Item = &TimelineInstant> {
        self.instants.iter().filter(|i| !i.is_completed())
    }

    /// Pending compactions (requested or inflight), with their plans.
    pub async fn pending_compactions(&self) -> Result<Vec<(InstantTime, CompactionPlan)>> {
        let mut out = Vec::new();
        for i in self.pending().filter(|i| i.action() == Action::Compaction) {
            out.push((
                i.requested().clone(),
                self.compaction_plan(i.requested()).await?,
            ));
        }
        Ok(out)
    }

    /// The path (relative to the base) of one state file of an instant.
    pub fn instant_path(&self, instant: &Instant) -> String {
        format!("{}/{}", self.dir, instant.file_name(self.layout))
    }

    /// Reads the file of an instant state.
    pub async fn read(&self, instant: &Instant) -> Result<Bytes> {
        self.storage.get(&self.instant_path(instant)).await
    }

    fn decode<T: for<'de> serde::Deserialize<'de>>(
        &self,
        instant: &Instant,
        bytes: &[u8],
        what: &'static str,
    ) -> Result<T> {
        metadata::decode_json_or_avro(bytes).map_err(|reason| HudiError::InstantMetadata {
            instant: instant.requested.to_string(),
            path: self.storage.display(&self.instant_path(instant)),
            what,
            reason,
        })
    }

    /// The earliest write instant (completed or planned) of the active timeline: anything
    /// older has been archived, and counts as committed.
    pub fn earliest_write(&self) -> Option<&InstantTime> {
        self.instants
            .iter()
            .filter(|i| i.action().is_write() || i.planned_action.is_write())
            .map(|i| i.requested())
            .min()
    }

    /// The last completed clean and its metadata, if a clean has run.
    pub async fn last_clean(&self) -> Result<Option<(InstantTime, metadata::CleanMetadata)>> {
        let Some(c) = self
            .instants
            .iter()
            .rfind(|i| i.action() == Action::Clean && i.is_completed())
        else {
            return Ok(None);
        };
        let bytes = self.read(&c.instant).await?;
        let m = self.decode(&c.instant, &bytes, "clean metadata")?;
        Ok(Some((c.requested().clone(), m)))
    }

    /// The earliest instant whose reads the cleaner keeps intact (`None` when no clean ran):
    /// the last clean's earliest retained commit — or, for a clean by file versions, which
    /// keeps no commit whole, the latest commit when it ran. When a rollback or restore has
    /// since removed that instant, the latest completed write before it (whose slices are the
    /// last ones before it, which the cleaner keeps). Reads as of an earlier instant may find
    /// their files deleted — except as of a savepoint.
    pub async fn clean_retained_from(&self) -> Result<Option<InstantTime>> {
        let Some((_, m)) = self.last_clean().await? else {
            return Ok(None);
        };
        let retained = InstantTime::parse(&m.earliest_commit_to_retain)
            .or_else(|_| InstantTime::parse(&m.last_completed_commit_timestamp));
        let Ok(retained) = retained else {
            return Ok(None);
        };
        Ok(Some(
            self.completed_writes()
                .map(|i| i.requested())
                .filter(|t| *t <= &retained)
                .max()
                .cloned()
                .unwrap_or(retained),
        ))
    }

    /// Whether `t` is a completed savepoint.
    pub fn is_savepoint(&self, t: &InstantTime) -> bool {
        self.instants
            .iter()
            .any(|i| i.action() == Action::Savepoint && i.is_completed() && i.requested() == t)
    }

    /// The commit metadata of a completed write instant.
    pub async fn commit_metadata(&self, instant: &Instant) -> Result<CommitMetadata> {
        let bytes = self.read(instant).await?;
        if bytes.is_empty() {
            return Ok(CommitMetadata::default());
        }
        self.decode(instant, &bytes, "commit metadata")
    }

    /// Reads and decodes the metadata of a completed instant as its action requires (for
    /// `hudi verify`); instants whose metadata nothing reads (indexing, schema commits) are
    /// only read.
    pub async fn check_metadata(&self, i: &TimelineInstant) -> Result<()> {
        let instant = &i.instant;
        let bytes = self.read(instant).await?;
        if bytes.is_empty() {
            return Ok(());
        }
        match instant.action {
            Action::Commit | Action::DeltaCommit | Action::ReplaceCommit => {
                self.decode::<CommitMetadata>(instant, &bytes, "commit metadata")?;
            }
            Action::Clean => {
                self.decode::<metadata::CleanMetadata>(instant, &bytes, "clean metadata")?;
            }
            Action::Rollback => {
                self.decode::<metadata::RollbackMetadata>(instant, &bytes, "rollback metadata")?;
            }
            Action::Savepoint => {
                self.decode::<metadata::SavepointMetadata>(instant, &bytes, "savepoint metadata")?;
            }
            Action::Restore => {
                self.decode::<metadata::RestoreMetadata>(instant, &bytes, "restore metadata")?;
            }
            _ => {}
        }
        Ok(())
    }

    /// A compaction plan, read from the requested file. Table version 6 reads the copy in
    /// `.hoodie/.aux/` first, as Java 0.x does.
    pub async fn compaction_plan(&self, t: &InstantTime) -> Result<CompactionPlan> {
        let requested = Instant::new(t.clone(), Action::Compaction, State::Requested);
        if self.layout == TimelineLayout::V1 {
            let aux = format!(".hoodie/.aux/{}", requested.file_name(self.layout));
            if let Ok(bytes) = self.storage.get(&aux).await {
                return metadata::decode_json_or_avro(&bytes).map_err(|reason| {
                    HudiError::InstantMetadata {
                        instant: t.to_string(),
                        path: self.storage.display(&aux),
                        what: "compaction plan",
                        reason,
                    }
                });
            }
        }
        let bytes = self.read(&requested).await?;
        self.decode(&requested, &bytes, "compaction plan")
    }

    /// The table schema recorded by the latest completed write that recorded one.
    pub async fn latest_schema(&self) -> Result<Option<String>> {
        let writes: Vec<_> = self.completed_writes().collect();
        for i in writes.into_iter().rev() {
            let m = self.commit_metadata(&i.instant).await?;
            if let Some(s) = m.schema() {
                return Ok(Some(s.to_string()));
            }
        }
        Ok(None)
    }

    /// Restricts the timeline to instants requested at or before `t` (time travel).
    pub fn as_of(&self, t: &InstantTime) -> Timeline {
        let mut out = self.clone();
        out.instants.retain(|i| i.requested() <= t);
        out
    }
}
