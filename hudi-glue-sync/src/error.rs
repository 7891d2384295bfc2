//! What a sync can fail with.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum SyncError {
    /// Reading the table failed.
    #[error(transparent)]
    Hudi(#[from] hudi_core::HudiError),

    /// A call to the catalog failed (after retries, when the error was transient).
    #[error("{catalog} {operation} of {target} failed: {message}")]
    Catalog {
        catalog: &'static str,
        operation: &'static str,
        target: String,
        message: String,
    },

    /// The table's schema changed in a way the catalog's columns cannot follow.
    #[error(
        "incompatible schema change for {table}: column '{column}' is {catalog_type} in the \
         catalog but {table_type} in the table; only new columns and widening \
         (int to bigint, float to double) are synced"
    )]
    IncompatibleSchema {
        table: String,
        column: String,
        catalog_type: String,
        table_type: String,
    },

    /// The table has no completed commit: no schema, nothing to register.
    #[error("nothing to sync: '{table}' has no completed commit yet")]
    NoCommits { table: String },

    /// A sync option has a value that cannot be used.
    #[error("invalid sync option {key}={value}: {reason}")]
    InvalidOption {
        key: String,
        value: String,
        reason: String,
    },

    /// The catalog holds something the sync did not expect (its own invariant).
    #[error("catalog state of {target} is not what the sync expects: {what}")]
    Unexpected { target: String, what: String },
}

pub type Result<T, E = SyncError> = std::result::Result<T, E>;
