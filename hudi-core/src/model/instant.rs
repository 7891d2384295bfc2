//! Instants: instant times, actions, states, and the timeline file names that encode them.

use std::fmt;
use std::str::FromStr;

use chrono::{NaiveDateTime, TimeZone, Utc};

use crate::error::{HudiError, Result};

/// An instant time: `yyyyMMddHHmmssSSS` (or the legacy 14-digit form, or a 0.x metadata-table
/// instant with a 3-digit suffix). Instants order as strings, exactly as Hudi compares them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InstantTime(String);

impl InstantTime {
    /// The instant before every real instant (`00000000000000000`).
    pub fn zero() -> Self {
        InstantTime("00000000000000000".to_string())
    }

    pub fn parse(s: &str) -> Result<Self> {
        let err = |reason: &str| HudiError::InvalidInstantTime {
            value: s.to_string(),
            reason: reason.to_string(),
        };
        if !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err("expected only digits"));
        }
        if !matches!(s.len(), 14 | 17 | 20) {
            return Err(err(
                "expected 14, 17 or 20 digits (yyyyMMddHHmmss[SSS][suffix])",
            ));
        }
        Ok(InstantTime(s.to_string()))
    }

    /// A point in a table's history as Hudi's readers take it: an instant
    /// (`20261201153000123`), `0` or any run of zeros for "the beginning", or an ISO-8601 date
    /// or time (`2026-12-01`, `2026-12-01 15:30:00`, `2026-12-01T15:30:00.123`), re-spelled as
    /// an instant. A date or time without an offset is read as UTC, the zone of the instants
    /// our writer makes (a table with `hoodie.table.timeline.timezone=LOCAL` names its
    /// instants in the writer's local time: give those as instants); one with an offset
    /// (`2026-12-01T15:30:00+01:00`, `...Z`) is converted to UTC.
    pub fn parse_point(s: &str) -> Result<Self> {
        use chrono::{DateTime, NaiveDate, NaiveDateTime};
        let s = s.trim();
        if !s.is_empty() && s.bytes().all(|b| b == b'0') {
            return Ok(InstantTime::zero());
        }
        if s.bytes().all(|b| b.is_ascii_digit()) {
            return InstantTime::parse(s);
        }
        let naive = if let Ok(t) = DateTime::parse_from_rfc3339(s) {
            Some(t.with_timezone(&Utc).naive_utc())
        } else if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            d.and_hms_opt(0, 0, 0)
        } else {
            ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
                .iter()
                .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        };
        let t = naive.ok_or_else(|| HudiError::InvalidInstantTime {
            value: s.to_string(),
            reason: "expected an instant (yyyyMMddHHmmss[SSS]), 0 for the beginning, or an \
                     ISO-8601 date or time"
                .into(),
        })?;
        Ok(InstantTime::from_datetime_utc(&t.and_utc()))
    }

    /// The instant time for a UTC wall-clock moment, to the millisecond.
    pub fn from_datetime_utc(t: &chrono::DateTime<Utc>) -> Self {
        InstantTime(t.format("%Y%m%d%H%M%S%3f").to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The wall-clock time this instant names, reading it as UTC. Legacy 14-digit instants
    /// get 999 ms as in Java; metadata-table suffixes are ignored.
    pub fn to_datetime_utc(&self) -> Option<chrono::DateTime<Utc>> {
        let s = &self.0;
        let (secs, millis) = if s.len() == 14 {
            (&s[..14], "999")
        } else {
            (&s[..14], &s[14..17])
        };
        let naive = NaiveDateTime::parse_from_str(secs, "%Y%m%d%H%M%S").ok()?;
        let ms: i64 = millis.parse().ok()?;
        Some(Utc.from_utc_datetime(&naive) + chrono::Duration::milliseconds(ms))
    }
}

impl fmt::Display for InstantTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for InstantTime {
    type Err = HudiError;
    fn from_str(s: &str) -> Result<Self> {
        InstantTime::parse(s)
    }
}

/// The action of an instant. The one source of the action tokens in file names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    Commit,
    DeltaCommit,
    ReplaceCommit,
    Compaction,
    LogCompaction,
    Clustering,
    Clean,
    Rollback,
    Savepoint,
    Restore,
    Indexing,
    SchemaCommit,
}

impl Action {
    pub const ALL: [Action; 12] = [
        Action::Commit,
        Action::DeltaCommit,
        Action::ReplaceCommit,
        Action::Compaction,
        Action::LogCompaction,
        Action::Clustering,
        Action::Clean,
        Action::Rollback,
        Action::Savepoint,
        Action::Restore,
        Action::Indexing,
        Action::SchemaCommit,
    ];

    pub fn token(&self) -> &'static str {
        match self {
            Action::Commit => "commit",
            Action::DeltaCommit => "deltacommit",
            Action::ReplaceCommit => "replacecommit",
            Action::Compaction => "compaction",
            Action::LogCompaction => "logcompaction",
            Action::Clustering => "clustering",
            Action::Clean => "clean",
            Action::Rollback => "rollback",
            Action::Savepoint => "savepoint",
            Action::Restore => "restore",
            Action::Indexing => "indexing",
            Action::SchemaCommit => "schemacommit",
        }
    }

    pub fn from_token(s: &str) -> Option<Action> {
        Action::ALL.iter().copied().find(|a| a.token() == s)
    }

    /// The action a completed instant of this action is written as: compaction completes as
    /// `commit`, log compaction as `deltacommit`, clustering as `replacecommit`.
    pub fn completed_action(&self) -> Action {
        match self {
            Action::Compaction => Action::Commit,
            Action::LogCompaction => Action::DeltaCommit,
            Action::Clustering => Action::ReplaceCommit,
            a => *a,
        }
    }

    /// Whether a completed instant of this action adds data files (a "write" instant).
    pub fn is_write(&self) -> bool {
        matches!(
            self,
            Action::Commit
                | Action::DeltaCommit
                | Action::ReplaceCommit
                | Action::Compaction
                | Action::LogCompaction
                | Action::Clustering
        )
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.token())
    }
}

/// The state of an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum State {
    Requested,
    Inflight,
    Completed,
}

impl State {
    pub fn token(&self) -> &'static str {
        match self {
            State::Requested => "requested",
            State::Inflight => "inflight",
            State::Completed => "completed",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.token())
    }
}

/// Which timeline file-name layout a table uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimelineLayout {
    /// Table version 6: `.hoodie/T.action[.state]`.
    V1,
    /// Table versions 8+: `.hoodie/timeline/`, completed files named `T_C.action`.
    V2,
}

/// One state of one instant, as named by one timeline file.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Instant {
    pub requested: InstantTime,
    /// Completion time, known for completed instants of layout 2.
    pub completion: Option<InstantTime>,
    pub action: Action,
    pub state: State,
}

impl Instant {
    pub fn new(requested: InstantTime, action: Action, state: State) -> Self {
        Instant {
            requested,
            completion: None,
            action,
            state,
        }
    }

    pub fn is_completed(&self) -> bool {
        self.state == State::Completed
    }

    /// Parses a timeline file name of either layout.
    pub fn parse_file_name(name: &str) -> Result<Instant> {
        let err = |reason: &str| HudiError::InvalidInstantFileName {
            name: name.to_string(),
            reason: reason.to_string(),
        };
        let (head, rest) = name.split_once('.').ok_or_else(|| err("no '.' in name"))?;
        let (requested, completion) = match head.split_once('_') {
            Some((r, c)) => (
                InstantTime::parse(r).map_err(|e| err(&e.to_string()))?,
                Some(InstantTime::parse(c).map_err(|e| err(&e.to_string()))?),
            ),
            None => (
                InstantTime::parse(head).map_err(|e| err(&e.to_string()))?,
                None,
            ),
        };
        let (action, state) = if rest == "inflight" {
            (Action::Commit, State::Inflight)
        } else if let Some(a) = rest.strip_suffix(".requested") {
            (a, State::Requested).into_action(&err)?
        } else if let Some(a) = rest.strip_suffix(".inflight") {
            (a, State::Inflight).into_action(&err)?
        } else {
            (rest, State::Completed).into_action(&err)?
        };
        if action == Action::Commit && state == State::Inflight && rest != "inflight" {
            return Err(err("a commit's inflight file is named 'T.inflight'"));
        }
        if completion.is_some() && state != State::Completed {
            return Err(err("only completed instants carry a completion time"));
        }
        Ok(Instant {
            requested,
            completion,
            action,
            state,
        })
    }

    /// The file name of this instant state in the given layout.
    pub fn file_name(&self, layout: TimelineLayout) -> String {
        let t = &self.requested;
        match self.state {
            State::Requested => format!("{t}.{}.requested", self.action),
            State::Inflight if self.action == Action::Commit => format!("{t}.inflight"),
            State::Inflight => format!("{t}.{}.inflight", self.action),
            State::Completed => match (layout, &self.completion) {
                (TimelineLayout::V2, Some(c)) => format!("{t}_{c}.{}", self.action),
                _ => format!("{t}.{}", self.action),
            },
        }
    }
}

trait IntoAction {
    fn into_action(self, err: &dyn Fn(&str) -> HudiError) -> Result<(Action, State)>;
}

impl IntoAction for (&str, State) {
    fn into_action(self, err: &dyn Fn(&str) -> HudiError) -> Result<(Action, State)> {
        let action = Action::from_token(self.0).ok_or_else(|| err("unknown action"))?;
        Ok((action, self.1))
    }
}

impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.requested, self.action, self.state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_round_trip_in_both_layouts() {
        let v1 = [
            "20240418173213674.commit.requested",
            "20240418173213674.inflight",
            "20240418173213674.commit",
            "20250126040823628.deltacommit.requested",
            "20250126040823628.deltacommit.inflight",
            "20250126040823628.deltacommit",
            "20250126040936578.rollback.requested",
            "20250126040936578.rollback.inflight",
            "20250126040936578.rollback",
            "20250126040936578.savepoint.inflight",
            "20250126040936578.compaction.requested",
            "20250126040936578.replacecommit",
            "20250126040936578.clean",
            "20250126040936578.restore.requested",
            "20250126040936578.logcompaction.inflight",
            "20250126040936578.indexing",
            "20250126040936578.schemacommit.requested",
            "20240418173213.commit",
        ];
        for name in v1 {
            let i = Instant::parse_file_name(name).unwrap();
            assert_eq!(i.file_name(TimelineLayout::V1), name);
        }
        let v2 = [
            "20250713010139392_20250713010140981.commit",
            "20260307162454799.clustering.requested",
            "20260307162454799_20260307162456102.replacecommit",
            "20250713010139392.inflight",
        ];
        for name in v2 {
            let i = Instant::parse_file_name(name).unwrap();
            assert_eq!(i.file_name(TimelineLayout::V2), name);
        }
        let i = Instant::parse_file_name("20250713010139392_20250713010140981.commit").unwrap();
        assert_eq!(i.completion.unwrap().as_str(), "20250713010140981");
        assert_eq!(i.state, State::Completed);
    }

    #[test]
    fn every_action_and_state_round_trips() {
        for a in Action::ALL {
            assert_eq!(Action::from_token(a.token()), Some(a));
            for s in [State::Requested, State::Inflight, State::Completed] {
                let i = Instant::new(InstantTime::parse("20240101000000000").unwrap(), a, s);
                for layout in [TimelineLayout::V1, TimelineLayout::V2] {
                    let name = i.file_name(layout);
                    assert_eq!(Instant::parse_file_name(&name).unwrap(), i, "{name}");
                }
            }
        }
    }

    #[test]
    fn rejects_malformed_names() {
        for bad in [
            "hoodie.properties",
            "2024.commit",
            "20240418173213674.bogus",
            "20240418173213674.commit.inflight",
            "20240418173213674_20240418173213675.commit.requested",
            "2024041817321367x.commit",
        ] {
            assert!(Instant::parse_file_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn instant_times_order_and_convert() {
        let a = InstantTime::parse("20240418173213674").unwrap();
        let b = InstantTime::parse("20240418173235694").unwrap();
        assert!(a < b);
        let dt = a.to_datetime_utc().unwrap();
        assert_eq!(InstantTime::from_datetime_utc(&dt), a);
        let legacy = InstantTime::parse("20240418173213").unwrap();
        assert_eq!(
            legacy.to_datetime_utc().unwrap().timestamp_subsec_millis(),
            999
        );
        assert!(InstantTime::parse("123").is_err());
    }
}
