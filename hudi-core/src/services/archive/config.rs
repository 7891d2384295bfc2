//! Archival options (`hoodie.keep.*`, `hoodie.archive.*`), parsed and checked once.

use std::collections::BTreeMap;

use crate::config::ConfigKey;
use crate::error::Result;
use crate::services::clean::{CleanConfig, CleanPolicy};
use crate::services::{bad_option, flag, num};

pub const AUTOMATIC: ConfigKey = ConfigKey::new("hoodie.archive.automatic").with_default("true");
pub const MIN_COMMITS: ConfigKey = ConfigKey::new("hoodie.keep.min.commits").with_default("20");
pub const MAX_COMMITS: ConfigKey = ConfigKey::new("hoodie.keep.max.commits").with_default("30");
pub const BATCH: ConfigKey = ConfigKey::new("hoodie.commits.archival.batch").with_default("10");
pub const BEYOND_SAVEPOINT: ConfigKey =
    ConfigKey::new("hoodie.archive.beyond.savepoint").with_default("false");

/// Typed archival options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveConfig {
    /// Archive after each write (`hoodie.archive.automatic`, on by default as in Hudi).
    pub automatic: bool,
    /// Completed commits the active timeline keeps after archiving.
    pub min_commits: usize,
    /// Completed commits beyond which archiving starts.
    pub max_commits: usize,
    /// Records per Avro data block of the archive file.
    pub batch: usize,
    /// Archive commits after the first savepoint too (the savepoints themselves stay).
    pub beyond_savepoint: bool,
}

impl ArchiveConfig {
    /// Parses the options and checks them against the cleaner's, as Hudi does: the active
    /// timeline must keep more commits than the cleaner retains.
    pub fn from_options(o: &BTreeMap<String, String>) -> Result<Self> {
        let c = ArchiveConfig {
            automatic: flag(o, &AUTOMATIC)?,
            min_commits: num(o, &MIN_COMMITS)?,
            max_commits: num(o, &MAX_COMMITS)?,
            batch: num(o, &BATCH)?,
            beyond_savepoint: flag(o, &BEYOND_SAVEPOINT)?,
        };
        if c.min_commits == 0 {
            return Err(bad_option(
                &MIN_COMMITS,
                "0",
                "the active timeline must keep a commit",
            ));
        }
        if c.max_commits <= c.min_commits {
            return Err(bad_option(
                &MAX_COMMITS,
                &c.max_commits.to_string(),
                &format!(
                    "must be greater than hoodie.keep.min.commits ({})",
                    c.min_commits
                ),
            ));
        }
        let clean = CleanConfig::from_options(o)?;
        if clean.policy == CleanPolicy::KeepLatestCommits && c.min_commits <= clean.commits_retained
        {
            return Err(bad_option(
                &MIN_COMMITS,
                &c.min_commits.to_string(),
                &format!(
                    "must be greater than hoodie.cleaner.commits.retained ({}): archived commits would leave incremental reads of retained ones incomplete",
                    clean.commits_retained
                ),
            ));
        }
        Ok(ArchiveConfig {
            batch: c.batch.max(1),
            ..c
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_and_the_checks_hudi_makes() {
        let c = ArchiveConfig::from_options(&BTreeMap::new()).unwrap();
        assert_eq!((c.min_commits, c.max_commits, c.batch), (20, 30, 10));
        let e = ArchiveConfig::from_options(&opts(&[("hoodie.keep.max.commits", "20")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("hoodie.keep.max.commits"), "{e}");
        let e = ArchiveConfig::from_options(&opts(&[
            ("hoodie.keep.min.commits", "5"),
            ("hoodie.keep.max.commits", "8"),
        ]))
        .unwrap_err()
        .to_string();
        assert!(e.contains("hoodie.cleaner.commits.retained"), "{e}");
        assert!(ArchiveConfig::from_options(&opts(&[
            ("hoodie.keep.min.commits", "5"),
            ("hoodie.keep.max.commits", "8"),
            ("hoodie.cleaner.commits.retained", "4"),
        ]))
        .is_ok());
    }
}
