//! The table schema readers produce: the latest commit's Avro schema as Arrow, with the meta
//! columns first; falling back to a base file's schema, then to the create schema.

use std::sync::Arc;

use arrow::datatypes::{DataType, FieldRef, Fields, Schema, SchemaRef};

use crate::config::table::TableConfig;
use crate::error::{HudiError, Result};
use crate::io::avro_arrow::{avro_schema_to_arrow, parse_avro_schema};
use crate::io::base_file::ParquetFile;
use crate::model::META_FIELDS;
use crate::storage::Storage;
use crate::timeline::Timeline;

/// Where the table schema came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaSource {
    CommitMetadata,
    BaseFile,
    CreateSchema,
}

/// Makes every field nullable, recursively (map keys excepted), so that rows from files
/// written under older schemas always fit.
pub fn deep_nullable(schema: &Schema) -> Schema {
    Schema::new_with_metadata(
        schema
            .fields()
            .iter()
            .map(nullable_field)
            .collect::<Vec<_>>(),
        schema.metadata().clone(),
    )
}

fn nullable_field(f: &FieldRef) -> FieldRef {
    Arc::new(
        f.as_ref()
            .clone()
            .with_data_type(nullable_type(f.data_type()))
            .with_nullable(true),
    )
}

fn nullable_type(dt: &DataType) -> DataType {
    match dt {
        DataType::Struct(fields) => {
            DataType::Struct(fields.iter().map(nullable_field).collect::<Fields>())
        }
        DataType::List(item) => DataType::List(nullable_field(item)),
        DataType::LargeList(item) => DataType::LargeList(nullable_field(item)),
        DataType::Map(entries, sorted) => {
            let DataType::Struct(kv) = entries.data_type() else {
                return dt.clone();
            };
            let kv: Fields = kv
                .iter()
                .enumerate()
                .map(|(i, f)| if i == 0 { f.clone() } else { nullable_field(f) })
                .collect();
            DataType::Map(
                Arc::new(
                    entries
                        .as_ref()
                        .clone()
                        .with_data_type(DataType::Struct(kv)),
                ),
                *sorted,
            )
        }
        other => other.clone(),
    }
}

pub use crate::model::with_meta_fields;

/// Resolves the table's read schema.
pub async fn table_schema(
    storage: &Storage,
    config: &TableConfig,
    timeline: &Timeline,
) -> Result<(SchemaRef, SchemaSource)> {
    let ctx = |what: &str| format!("{what} of table '{}'", storage.location());
    let (schema, source) = if let Some(text) = timeline.latest_schema().await? {
        let avro = parse_avro_schema(&text, &ctx("latest commit schema"))?;
        (avro_schema_to_arrow(&avro)?, SchemaSource::CommitMetadata)
    } else if let Some(s) = first_base_file_schema(storage, timeline).await? {
        (s, SchemaSource::BaseFile)
    } else if let Some(text) = &config.create_schema {
        let avro = parse_avro_schema(text, &ctx("hoodie.table.create.schema"))?;
        (avro_schema_to_arrow(&avro)?, SchemaSource::CreateSchema)
    } else {
        return Err(HudiError::Schema {
            context: storage.location().to_string(),
            reason: "no schema in any commit, base file or hoodie.table.create.schema".into(),
        });
    };
    let schema = if config.populate_meta_fields || schema.field_with_name(META_FIELDS[0]).is_ok() {
        with_meta_fields(&schema)
    } else {
        schema
    };
    Ok((Arc::new(deep_nullable(&schema)), source))
}

async fn first_base_file_schema(storage: &Storage, timeline: &Timeline) -> Result<Option<Schema>> {
    let writes: Vec<_> = timeline.completed_writes().collect();
    for i in writes.into_iter().rev() {
        let m = timeline.commit_metadata(&i.instant).await?;
        for (_, stat) in m.write_stats() {
            let Some(path) = stat.path.as_deref().filter(|p| p.ends_with(".parquet")) else {
                continue;
            };
            let bytes = storage.get(path).await?;
            let schema = ParquetFile::new(storage.display(path), bytes).arrow_schema()?;
            return Ok(Some(schema.as_ref().clone()));
        }
    }
    Ok(None)
}
