//! Pure data types of the Hudi format: instants, file names, instant contents. No IO.

pub mod avro_instants;
pub mod avro_json;
pub mod avro_schemas;
pub mod avro_services;
pub mod file_name;
pub mod instant;
pub mod metadata;
pub mod ordering;

pub use file_name::{ArchiveFileName, BaseFileName, DataFileName, LogFileName};
pub use instant::{Action, Instant, InstantTime, State, TimelineLayout};
pub use ordering::OrderingValue;

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, FieldRef, Schema};

/// The meta columns Hudi puts first in every record, in order.
pub const META_FIELDS: [&str; 5] = [
    "_hoodie_commit_time",
    "_hoodie_commit_seqno",
    "_hoodie_record_key",
    "_hoodie_partition_path",
    "_hoodie_file_name",
];
pub const COMMIT_TIME_FIELD: &str = "_hoodie_commit_time";
pub const COMMIT_SEQNO_FIELD: &str = "_hoodie_commit_seqno";
pub const RECORD_KEY_FIELD: &str = "_hoodie_record_key";
pub const PARTITION_PATH_FIELD: &str = "_hoodie_partition_path";
pub const FILE_NAME_FIELD: &str = "_hoodie_file_name";
pub const IS_DELETED_FIELD: &str = "_hoodie_is_deleted";

/// Adds the five meta columns (strings) in front, replacing any already present.
pub fn with_meta_fields(schema: &Schema) -> Schema {
    let mut fields: Vec<FieldRef> = META_FIELDS
        .iter()
        .map(|n| Arc::new(Field::new(*n, DataType::Utf8, true)))
        .collect();
    fields.extend(
        schema
            .fields()
            .iter()
            .filter(|f| !META_FIELDS.contains(&f.name().as_str()))
            .cloned(),
    );
    Schema::new(fields)
}
