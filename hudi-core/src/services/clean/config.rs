//! Clean options (`hoodie.clean.*`, `hoodie.cleaner.*`), parsed once.

use std::collections::BTreeMap;

use crate::config::ConfigKey;
use crate::error::Result;
use crate::services::{bad_option, flag, num};

pub const AUTOMATIC: ConfigKey = ConfigKey::new("hoodie.clean.automatic").with_default("true");
pub const POLICY: ConfigKey = ConfigKey::new("hoodie.cleaner.policy")
    .with_aliases(&["hoodie.clean.policy"])
    .with_default("KEEP_LATEST_COMMITS");
pub const COMMITS_RETAINED: ConfigKey = ConfigKey::new("hoodie.cleaner.commits.retained")
    .with_aliases(&["hoodie.clean.commits.retained"])
    .with_default("10");
pub const FILE_VERSIONS_RETAINED: ConfigKey =
    ConfigKey::new("hoodie.cleaner.fileversions.retained")
        .with_aliases(&["hoodie.clean.fileversions.retained"])
        .with_default("3");
pub const HOURS_RETAINED: ConfigKey = ConfigKey::new("hoodie.cleaner.hours.retained")
    .with_aliases(&["hoodie.clean.hours.retained"])
    .with_default("24");
pub const MAX_COMMITS: ConfigKey = ConfigKey::new("hoodie.clean.max.commits")
    .with_aliases(&["hoodie.clean.trigger.max.commits"])
    .with_default("1");
pub const TRIGGER: ConfigKey =
    ConfigKey::new("hoodie.clean.trigger.strategy").with_default("NUM_COMMITS");

/// Which file slices a clean keeps (Hudi's `HoodieCleaningPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CleanPolicy {
    /// Keep every slice a query of the last N commits can read.
    KeepLatestCommits,
    /// Keep the newest N slices of each file group.
    KeepLatestFileVersions,
    /// Keep every slice a query of the commits of the last N hours can read.
    KeepLatestByHours,
}

impl CleanPolicy {
    pub fn name(&self) -> &'static str {
        match self {
            CleanPolicy::KeepLatestCommits => "KEEP_LATEST_COMMITS",
            CleanPolicy::KeepLatestFileVersions => "KEEP_LATEST_FILE_VERSIONS",
            CleanPolicy::KeepLatestByHours => "KEEP_LATEST_BY_HOURS",
        }
    }

    pub fn parse(s: &str) -> Option<CleanPolicy> {
        [
            CleanPolicy::KeepLatestCommits,
            CleanPolicy::KeepLatestFileVersions,
            CleanPolicy::KeepLatestByHours,
        ]
        .into_iter()
        .find(|p| p.name().eq_ignore_ascii_case(s.trim()))
    }
}

/// Typed clean options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CleanConfig {
    /// Clean after each write (`hoodie.clean.automatic`, on by default as in Hudi).
    pub automatic: bool,
    pub policy: CleanPolicy,
    pub commits_retained: usize,
    pub file_versions_retained: usize,
    pub hours_retained: i64,
    /// Commits since the last clean before an automatic clean is due.
    pub max_commits: usize,
}

impl CleanConfig {
    pub fn from_options(o: &BTreeMap<String, String>) -> Result<Self> {
        let policy_s = POLICY.get(o).unwrap_or_default();
        let policy = CleanPolicy::parse(policy_s).ok_or_else(|| {
            bad_option(
                &POLICY,
                policy_s,
                "KEEP_LATEST_COMMITS, KEEP_LATEST_FILE_VERSIONS or KEEP_LATEST_BY_HOURS",
            )
        })?;
        let trigger = TRIGGER.get(o).unwrap_or_default();
        if !trigger.eq_ignore_ascii_case("NUM_COMMITS") {
            return Err(bad_option(&TRIGGER, trigger, "only NUM_COMMITS exists"));
        }
        let c = CleanConfig {
            automatic: flag(o, &AUTOMATIC)?,
            policy,
            commits_retained: num(o, &COMMITS_RETAINED)?,
            file_versions_retained: num(o, &FILE_VERSIONS_RETAINED)?,
            hours_retained: num(o, &HOURS_RETAINED)?,
            max_commits: num(o, &MAX_COMMITS)?,
        };
        if c.policy == CleanPolicy::KeepLatestFileVersions && c.file_versions_retained == 0 {
            return Err(bad_option(
                &FILE_VERSIONS_RETAINED,
                "0",
                "at least one version of each file group must stay",
            ));
        }
        if c.policy == CleanPolicy::KeepLatestCommits && c.commits_retained == 0 {
            return Err(bad_option(
                &COMMITS_RETAINED,
                "0",
                "at least the latest commit must stay readable",
            ));
        }
        if c.hours_retained < 0 {
            return Err(bad_option(
                &HOURS_RETAINED,
                &c.hours_retained.to_string(),
                "must not be negative",
            ));
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_hudis_and_bad_values_name_the_key() {
        let c = CleanConfig::from_options(&BTreeMap::new()).unwrap();
        assert_eq!(c.policy, CleanPolicy::KeepLatestCommits);
        assert_eq!(
            (
                c.commits_retained,
                c.file_versions_retained,
                c.hours_retained
            ),
            (10, 3, 24)
        );
        assert!(c.automatic);
        let o = BTreeMap::from([(
            "hoodie.cleaner.policy".to_string(),
            "keep_latest_file_versions".to_string(),
        )]);
        assert_eq!(
            CleanConfig::from_options(&o).unwrap().policy,
            CleanPolicy::KeepLatestFileVersions
        );
        let o = BTreeMap::from([("hoodie.cleaner.policy".to_string(), "NEVER".to_string())]);
        let e = CleanConfig::from_options(&o).unwrap_err().to_string();
        assert!(e.contains("hoodie.cleaner.policy"), "{e}");
        let o = BTreeMap::from([(
            "hoodie.cleaner.commits.retained".to_string(),
            "0".to_string(),
        )]);
        assert!(CleanConfig::from_options(&o).is_err());
    }
}
