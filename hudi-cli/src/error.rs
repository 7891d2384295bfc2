//! Errors of the `hudi` command.

use std::path::PathBuf;

#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Hudi(#[from] hudi_core::HudiError),
    #[error("cannot write '{path}': {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write output as {format}: {source}")]
    Format {
        format: &'static str,
        #[source]
        source: arrow::error::ArrowError,
    },
    #[error("cannot write parquet '{path}': {source}")]
    Parquet {
        path: PathBuf,
        #[source]
        source: parquet::errors::ParquetError,
    },
    #[error("{0}")]
    Sync(#[from] hudi_glue_sync::SyncError),
    #[error("commit {instant} is written, but the catalog sync after it failed: {reason} (run `hudi sync glue` or `hudi sync hms` to retry)")]
    SyncAfterCommit { instant: String, reason: String },
    #[error("invalid argument {arg}: {reason}")]
    Usage { arg: &'static str, reason: String },
    #[error("the demo's reads differ from what it wrote: {}", failed.join("; "))]
    Demo { failed: Vec<String> },
    #[error("'{table}' has {findings} integrity problem(s)")]
    Unhealthy { table: String, findings: usize },
    /// stdout was closed (e.g. piped into `head`): not an error.
    #[error("broken pipe")]
    BrokenPipe,
}

impl CliError {
    pub fn stdout(source: std::io::Error) -> Self {
        if source.kind() == std::io::ErrorKind::BrokenPipe {
            CliError::BrokenPipe
        } else {
            CliError::Write {
                path: PathBuf::from("<stdout>"),
                source,
            }
        }
    }
}
