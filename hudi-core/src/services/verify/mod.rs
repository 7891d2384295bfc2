//! `hudi verify`: an integrity check of a table that changes nothing.
//!
//! What it checks, each reported as [`Finding`]s of one [`Check`]:
//! - `hoodie.properties`: its checksum, and no backup left by an interrupted update;
//! - every completed instant's metadata parses, and so does every pending compaction plan;
//! - the files of the latest slice of every live file group, as the commit metadata of the
//!   active timeline names them, exist;
//! - no data file of an instant the timeline does not know (newer than its first instant), and
//!   no file of a completed instant that its commit does not list: orphans, listed, never
//!   deleted; files of pending instants are counted apart (a running or failed write), and log
//!   files of rolled-back delta commits (which Hudi's rollback leaves, with a rollback block)
//!   are not orphans;
//! - no marker directory of an instant that is complete or unknown;
//! - every directory with data files has its partition metadata file;
//! - base files' footers: the min/max record keys and the Bloom filter agree with the keys in
//!   the file;
//! - log files walk without corrupt regions, and their blocks decode;
//! - no record key twice in the snapshot (within a partition, or across the table).

mod files;
mod keys;
mod timeline;

use std::collections::BTreeSet;

use crate::error::Result;
use crate::fs_view::FileSystemView;
use crate::snapshot::Snapshot;
use crate::storage::Storage;

/// The kinds of check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Check {
    Properties,
    InstantMetadata,
    MissingFile,
    OrphanFile,
    StrayMarkers,
    PartitionMetadata,
    Footer,
    LogFile,
    DuplicateKey,
}

impl Check {
    pub fn name(&self) -> &'static str {
        match self {
            Check::Properties => "properties",
            Check::InstantMetadata => "instant-metadata",
            Check::MissingFile => "missing-file",
            Check::OrphanFile => "orphan-file",
            Check::StrayMarkers => "stray-markers",
            Check::PartitionMetadata => "partition-metadata",
            Check::Footer => "footer",
            Check::LogFile => "log-file",
            Check::DuplicateKey => "duplicate-key",
        }
    }
}

/// One problem, with the path (relative to the base path) or instant it is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Finding {
    pub check: Check,
    pub subject: String,
    pub message: String,
}

/// What a verification looked at and found.
#[derive(Debug, Clone, Default)]
pub struct VerifyReport {
    pub findings: Vec<Finding>,
    /// What deserves a look but is a state Hudi itself produces (keys an insert wrote twice).
    pub warnings: Vec<Finding>,
    pub instants: usize,
    pub base_files: usize,
    pub log_files: usize,
    pub records: usize,
    /// Data files of pending instants (a write running now, or a failed one the next write
    /// rolls back): invisible to readers, not findings.
    pub pending_files: Vec<String>,
}

impl VerifyReport {
    pub fn is_healthy(&self) -> bool {
        self.findings.is_empty()
    }
}

/// How a verification runs.
#[derive(Clone, Default)]
pub struct VerifyOptions {
    /// Record keys must be unique across the table (a global index), not only per partition.
    pub global_keys: bool,
    /// Skip reading every base file's keys (footers, Bloom filters, duplicates): quicker.
    pub skip_keys: bool,
    /// Told of each log and base file checked.
    pub progress: Option<crate::services::Progress>,
}

/// Directories (relative paths; `""` is the base path) that hold data files but no partition
/// metadata file: readers do not see them as partitions.
pub async fn partitions_without_metadata(storage: &Storage) -> Result<Vec<String>> {
    let listing = files::list_table(storage).await?;
    Ok(files::partition_metadata(&listing)
        .into_iter()
        .map(|f| match f.subject.as_str() {
            "." => String::new(),
            s => s.to_string(),
        })
        .collect())
}

/// Marker directories that must not be there: of completed instants, or of instants the
/// timeline does not know (with the reason).
pub async fn stray_marker_dirs(
    storage: &Storage,
    tl: &crate::timeline::Timeline,
) -> Result<Vec<(String, String)>> {
    Ok(timeline::stray_markers(storage, tl)
        .await?
        .into_iter()
        .map(|f| (f.subject, f.message))
        .collect())
}

pub(super) fn finding(
    check: Check,
    subject: impl Into<String>,
    message: impl Into<String>,
) -> Finding {
    Finding {
        check,
        subject: subject.into(),
        message: message.into(),
    }
}

/// Runs every check on `table`.
pub async fn verify(table: &Snapshot, opts: VerifyOptions) -> Result<VerifyReport> {
    let storage: &Storage = table.storage();
    let tl = table.timeline();
    let mut report = VerifyReport {
        instants: tl.instants().len(),
        ..Default::default()
    };
    report.findings.extend(timeline::properties(storage).await?);
    report.findings.extend(timeline::instant_metadata(tl).await);
    let written = timeline::written_files(tl).await;
    let listing = files::list_table(storage).await?;
    report
        .findings
        .extend(timeline::missing_files(&written, &listing));
    report
        .findings
        .extend(timeline::stray_markers(storage, tl).await?);
    let (orphans, pending) = files::orphans(tl, &written, &listing);
    report.findings.extend(orphans);
    report.pending_files = pending;
    report.findings.extend(files::partition_metadata(&listing));

    let view = FileSystemView::load(storage, tl, None).await?;
    let (log_findings, logs) =
        files::log_files(storage, table, &view, opts.progress.as_ref()).await?;
    report.findings.extend(log_findings);
    report.log_files = logs;
    if !opts.skip_keys {
        let (footer_findings, bases) =
            keys::footers(storage, &view, opts.progress.as_ref()).await?;
        report.findings.extend(footer_findings);
        report.base_files = bases;
        if table.config().populate_meta_fields {
            let d = keys::duplicates(table, opts.global_keys, &written.operations).await?;
            report.findings.extend(d.errors);
            report.warnings = d.warnings;
            report.records = d.records;
        }
    } else {
        report.base_files = view
            .groups
            .values()
            .flat_map(|g| g.slices.values())
            .filter(|s| s.base_file.is_some())
            .count();
    }
    let unique: BTreeSet<Finding> = report.findings.drain(..).collect();
    report.findings = unique.into_iter().collect();
    Ok(report)
}
