//! What a catalog holds of a Hudi table, independent of the catalog (Glue, Hive metastore),
//! and the client trait each catalog implements.

use std::collections::BTreeMap;

use futures::future::BoxFuture;

use crate::error::Result;

/// A column: name, Hive type (`bigint`, `struct<a:int>`), comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub type_name: String,
    pub comment: Option<String>,
}

impl Column {
    pub fn new(name: impl Into<String>, type_name: impl Into<String>) -> Self {
        Column {
            name: name.into(),
            type_name: type_name.into(),
            comment: None,
        }
    }
}

/// A catalog table as Hudi's sync registers it: an external table over the base path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDef {
    pub name: String,
    pub columns: Vec<Column>,
    pub partition_keys: Vec<Column>,
    pub location: String,
    pub input_format: String,
    pub output_format: String,
    pub serde_library: String,
    pub serde_parameters: BTreeMap<String, String>,
    pub parameters: BTreeMap<String, String>,
}

/// One partition: its values (in partition-key order) and its directory.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PartitionDef {
    pub values: Vec<String>,
    pub location: String,
}

/// How many calls a client made that read, and that changed, the catalog.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallCounts {
    pub reads: usize,
    pub writes: usize,
}

/// Counts of a client's calls, kept as they are made.
#[derive(Debug, Default)]
pub struct CallCounter {
    reads: std::sync::atomic::AtomicUsize,
    writes: std::sync::atomic::AtomicUsize,
}

impl CallCounter {
    pub fn read(&self) {
        self.reads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn wrote(&self) {
        self.writes
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn counts(&self) -> CallCounts {
        use std::sync::atomic::Ordering::Relaxed;
        CallCounts {
            reads: self.reads.load(Relaxed),
            writes: self.writes.load(Relaxed),
        }
    }
}

/// The calls a sync makes. Each client batches and paces its calls as its catalog requires
/// (Glue: 100 partitions per create/update, 25 per delete; retries of throttled calls) and
/// tolerates "already exists" on creation.
pub trait MetastoreClient: Send + Sync {
    /// The catalog's name in messages ("Glue", "Hive metastore").
    fn name(&self) -> &'static str;

    /// A location as this catalog stores it (Glue: `s3a://` becomes `s3://`).
    fn normalize_location(&self, location: &str) -> String {
        location.to_string()
    }

    /// Calls made so far.
    fn calls(&self) -> CallCounts;

    fn database_exists<'a>(&'a self, db: &'a str) -> BoxFuture<'a, Result<bool>>;

    fn create_database<'a>(&'a self, db: &'a str) -> BoxFuture<'a, Result<()>>;

    fn get_table<'a>(
        &'a self,
        db: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<TableDef>>>;

    fn create_table<'a>(&'a self, db: &'a str, table: &'a TableDef) -> BoxFuture<'a, Result<()>>;

    /// Replaces the table's definition (columns, parameters, storage); with
    /// `cascade`, partitions get the new columns too.
    fn update_table<'a>(
        &'a self,
        db: &'a str,
        table: &'a TableDef,
        cascade: bool,
    ) -> BoxFuture<'a, Result<()>>;

    /// Every partition of a table.
    fn list_partitions<'a>(
        &'a self,
        db: &'a str,
        table: &'a str,
    ) -> BoxFuture<'a, Result<Vec<PartitionDef>>>;

    /// The partitions among `values` that exist.
    fn get_partitions<'a>(
        &'a self,
        db: &'a str,
        table: &'a str,
        values: &'a [Vec<String>],
    ) -> BoxFuture<'a, Result<Vec<PartitionDef>>>;

    /// Adds partitions with the table's storage (columns, formats) and their own location.
    fn add_partitions<'a>(
        &'a self,
        db: &'a str,
        table: &'a TableDef,
        partitions: &'a [PartitionDef],
    ) -> BoxFuture<'a, Result<()>>;

    /// Moves existing partitions to new locations.
    fn update_partitions<'a>(
        &'a self,
        db: &'a str,
        table: &'a TableDef,
        partitions: &'a [PartitionDef],
    ) -> BoxFuture<'a, Result<()>>;

    fn drop_partitions<'a>(
        &'a self,
        db: &'a str,
        table: &'a str,
        values: &'a [Vec<String>],
    ) -> BoxFuture<'a, Result<()>>;
}
