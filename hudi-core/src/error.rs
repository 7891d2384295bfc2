//! The one error type of `hudi-core`.

use std::path::PathBuf;

/// Everything that can go wrong in `hudi-core`, with the context needed to act on it:
/// the file, the instant or the key concerned.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum HudiError {
    /// A table location (path or URL) could not be understood.
    #[error("invalid table location '{location}': {reason}")]
    InvalidLocation { location: String, reason: String },

    /// A storage operation failed.
    #[error("storage error on '{path}': {source}")]
    Storage {
        path: String,
        #[source]
        source: object_store::Error,
    },

    /// A file that must exist does not.
    #[error("file not found: '{path}'")]
    NotFound { path: String },

    /// A create-if-absent found the file already there.
    #[error("file already exists: '{path}'")]
    AlreadyExists { path: String },

    /// No `.hoodie/hoodie.properties` under the location.
    #[error("'{path}' is not a Hudi table: no .hoodie/hoodie.properties")]
    NotATable { path: String },

    /// A configuration value is missing or malformed.
    #[error("invalid config '{key}' = '{value}' in {source_name}: {reason}")]
    InvalidConfig {
        key: String,
        value: String,
        source_name: String,
        reason: String,
    },

    /// A required configuration key is absent.
    #[error("missing required config '{key}' in {source_name}")]
    MissingConfig { key: String, source_name: String },

    /// The table's version is not one this library handles.
    #[error("unsupported table version {version} at '{path}': supported are {supported}")]
    UnsupportedTableVersion {
        version: u32,
        path: String,
        supported: String,
    },

    /// `hoodie.properties` and its backup both failed validation.
    #[error("hoodie.properties at '{path}' failed its checksum ({expected} expected, {found} found) and no valid backup exists")]
    ChecksumMismatch {
        path: String,
        expected: u64,
        found: u64,
    },

    /// An instant time string is malformed.
    #[error("invalid instant time '{value}': {reason}")]
    InvalidInstantTime { value: String, reason: String },

    /// A timeline file name could not be parsed.
    #[error("invalid timeline file name '{name}': {reason}")]
    InvalidInstantFileName { name: String, reason: String },

    /// A data file name (base or log) could not be parsed.
    #[error("invalid data file name '{name}': {reason}")]
    InvalidFileName { name: String, reason: String },

    /// Instant metadata (JSON or Avro) could not be decoded.
    #[error("cannot decode {what} of instant {instant} ('{path}'): {reason}")]
    InstantMetadata {
        instant: String,
        path: String,
        what: &'static str,
        reason: String,
    },

    /// Another writer holds this instant: one of its timeline files already exists.
    #[error("instant {instant} is taken: '{path}' already exists (another writer holds it)")]
    InstantConflict { instant: String, path: String },

    /// Optimistic concurrency control: an instant that completed (or was planned) while this
    /// write ran touched the same file groups; this write was rolled back.
    #[error(
        "write conflict: {instant} and {other_action} {other} both wrote file groups {}; {instant} was rolled back, write it again",
        file_groups.join(", ")
    )]
    WriteConflict {
        instant: String,
        other: String,
        other_action: String,
        /// `partition/file_id` of each file group both touched.
        file_groups: Vec<String>,
    },

    /// The table's lock was not free within the configured wait.
    #[error("lock '{lock}' not acquired within {waited_ms} ms: held by {holder}")]
    LockTimeout {
        lock: String,
        holder: String,
        waited_ms: u64,
    },

    /// An invariant of this library does not hold (a bug, not bad input).
    #[error("internal error: {what}")]
    Internal { what: String },

    /// A table service would break what the table promises (a later instant depends on the
    /// one to roll back, a savepoint's files were cleaned, ...): nothing was changed.
    #[error("{operation} refused on '{table}': {reason}")]
    Refused {
        operation: String,
        table: String,
        reason: String,
    },

    /// A mutation (write, service, repair) refused because the table has parts this library
    /// does not maintain (a metadata table, a table version, CDC, ...): writing would leave
    /// Apache Hudi's readers with a stale view. Nothing was changed; reads are not affected.
    #[error(
        "{operation} refused on '{table}': the table has {}; nothing was changed",
        parts.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("; and ")
    )]
    Unmaintained {
        operation: String,
        table: String,
        parts: Vec<crate::config::capability::Unmaintained>,
    },

    /// The write committed, but a table service it runs afterwards (inline compaction,
    /// automatic clean or archival) failed: the data is in; the service can be run again.
    #[error("the write {instant} committed, but the table services after it failed: {source}")]
    AfterCommit {
        instant: String,
        #[source]
        source: Box<HudiError>,
    },

    /// An instant the caller referred to is not on the timeline.
    #[error("instant {instant} is not a completed instant on the timeline of '{table}'")]
    InstantNotFound { instant: String, table: String },

    /// A parquet file could not be read or written.
    #[error("parquet error in '{path}': {source}")]
    Parquet {
        path: String,
        #[source]
        source: parquet::errors::ParquetError,
    },

    /// An Arrow operation failed.
    #[error("arrow error while {context}: {source}")]
    Arrow {
        context: String,
        #[source]
        source: arrow::error::ArrowError,
    },

    /// A log file or one of its blocks is malformed beyond recovery.
    #[error("invalid log file '{path}' at byte {offset}: {reason}")]
    LogFormat {
        path: String,
        offset: u64,
        reason: String,
    },

    /// An Avro schema or datum could not be handled.
    #[error("avro error in {context}: {reason}")]
    Avro { context: String, reason: String },

    /// Bad input: rows or a schema that do not fit the table (a null or empty record key, a
    /// missing or mistyped column, an incompatible schema change). Nothing was committed.
    #[error("schema error in {context}: {reason}")]
    Schema { context: String, reason: String },

    /// A file of the table (a base or log file, a Bloom filter, instant metadata) does not
    /// hold what it must: the table is damaged, not the input.
    #[error("corrupt table file {what}: {reason}")]
    Corrupt { what: String, reason: String },

    /// A feature the table uses is not supported by this library.
    #[error("unsupported in '{path}': {feature}")]
    Unsupported { path: String, feature: String },

    /// A read was asked with arguments that do not fit.
    #[error("invalid read options: {reason}")]
    InvalidReadOptions { reason: String },

    /// Local file IO outside object_store (CLI outputs).
    #[error("io error on '{path}': {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl HudiError {
    /// Whether retrying the same call may succeed (transient storage faults).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            HudiError::Storage {
                source: object_store::Error::Generic { .. },
                ..
            }
        )
    }

    /// An instant's content (plan or metadata) that does not decode or lacks what it needs.
    pub(crate) fn instant_content(
        t: &crate::model::InstantTime,
        what: &'static str,
        reason: String,
    ) -> Self {
        HudiError::InstantMetadata {
            instant: t.to_string(),
            path: String::new(),
            what,
            reason,
        }
    }

    pub(crate) fn storage(path: impl Into<String>, source: object_store::Error) -> Self {
        let path = path.into();
        match source {
            object_store::Error::NotFound { .. } => HudiError::NotFound { path },
            object_store::Error::AlreadyExists { .. } => HudiError::AlreadyExists { path },
            source => HudiError::Storage { path, source },
        }
    }

    pub(crate) fn parquet(path: impl Into<String>, source: parquet::errors::ParquetError) -> Self {
        HudiError::Parquet {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn arrow(context: impl Into<String>, source: arrow::error::ArrowError) -> Self {
        HudiError::Arrow {
            context: context.into(),
            source,
        }
    }
}

/// Result alias of `hudi-core`.
pub type Result<T, E = HudiError> = std::result::Result<T, E>;
