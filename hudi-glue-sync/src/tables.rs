//! The catalog tables Hudi's sync registers for a Hudi table: names, columns, formats and
//! parameters, per table type and strategy.

use std::collections::BTreeMap;

use arrow::datatypes::{DataType, Field, Schema};
use hudi_core::config::table::{BaseFileFormat, TableType};
use hudi_core::model::META_FIELDS;
use hudi_core::Table;

use crate::catalog::{Column, TableDef};
use crate::config::{SyncConfig, TableStrategy};
use crate::error::{Result, SyncError};
use crate::schema;

pub const LAST_COMMIT_TIME_SYNC: &str = "last_commit_time_sync";
/// Written by Hudi's Hive metastore sync only (not by its Glue sync).
pub const LAST_COMMIT_COMPLETION_TIME_SYNC: &str = "last_commit_completion_time_sync";
pub const QUERY_AS_RO: &str = "hoodie.query.as.ro.table";
const OUTPUT_FORMAT: &str = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat";
const SERDE: &str = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe";
const INPUT_FORMAT: &str = "org.apache.hudi.hadoop.HoodieParquetInputFormat";
const REALTIME_INPUT_FORMAT: &str =
    "org.apache.hudi.hadoop.realtime.HoodieParquetRealtimeInputFormat";

/// One catalog table to register: how it reads the Hudi table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// Copy-on-write, or a merge-on-read table's `_rt`: base and log files merged.
    Snapshot { realtime: bool },
    /// A merge-on-read table's read-optimized view (`_ro`): base files only.
    ReadOptimized,
}

/// Names and views of the catalog tables of `table`.
pub fn views(cfg: &SyncConfig, table_type: TableType) -> Vec<(String, View)> {
    let t = cfg.table.to_ascii_lowercase();
    match (table_type, cfg.strategy) {
        (TableType::CopyOnWrite, _) => vec![(t, View::Snapshot { realtime: false })],
        (TableType::MergeOnRead, TableStrategy::Ro) => vec![(t, View::ReadOptimized)],
        (TableType::MergeOnRead, TableStrategy::Rt) => {
            vec![(t, View::Snapshot { realtime: true })]
        }
        (TableType::MergeOnRead, TableStrategy::All) => {
            let ro = if cfg.skip_ro_suffix {
                t.clone()
            } else {
                format!("{t}_ro")
            };
            let mut out = vec![
                (ro, View::ReadOptimized),
                (format!("{t}_rt"), View::Snapshot { realtime: true }),
            ];
            // Hudi 0.15 also registers the plain name as a snapshot table (unless the
            // read-optimized table took it).
            if cfg.snapshot_with_table_name && !cfg.skip_ro_suffix {
                out.push((t, View::Snapshot { realtime: true }));
            }
            out
        }
    }
}

/// The table's columns split as the catalog wants them: data columns (meta columns first
/// unless omitted), then the partition columns (string when the schema lacks them).
pub fn split_schema<'a>(cfg: &SyncConfig, schema: &'a Schema) -> (Vec<&'a Field>, Vec<Field>) {
    let is_partition = |n: &str| cfg.partition_fields.iter().any(|p| p == n);
    let data: Vec<&Field> = schema
        .fields()
        .iter()
        .map(|f| f.as_ref())
        .filter(|f| !is_partition(f.name()))
        .filter(|f| !(cfg.omit_metadata_fields && META_FIELDS.contains(&f.name().as_str())))
        .collect();
    let partition: Vec<Field> = cfg
        .partition_fields
        .iter()
        .map(|p| {
            schema
                .field_with_name(p)
                .cloned()
                .unwrap_or_else(|_| Field::new(p, DataType::Utf8, false))
        })
        .collect();
    (data, partition)
}

/// The catalog table Hudi's sync writes for a view, without `last_commit_time_sync`; with
/// `sync_comment`, data columns carry the docs of the table's Avro fields (`docs`, by
/// lowercased name) as comments.
pub fn definition(
    table: &Table,
    cfg: &SyncConfig,
    schema: &Schema,
    docs: &BTreeMap<String, String>,
    name: &str,
    view: View,
) -> Result<TableDef> {
    let format = table.config().base_file_format;
    if format != BaseFileFormat::Parquet {
        return Err(SyncError::InvalidOption {
            key: "hoodie.table.base.file.format".into(),
            value: format!("{format:?}"),
            reason: "only Parquet tables are synced".into(),
        });
    }
    let (data, partition) = split_schema(cfg, schema);
    let part_refs: Vec<&Field> = partition.iter().collect();
    let mut columns = schema::columns(&data, cfg.support_timestamp)?;
    if cfg.sync_comment {
        for c in &mut columns {
            c.comment = docs.get(&c.name.to_ascii_lowercase()).cloned();
        }
    }
    let partition_keys: Vec<Column> = schema::columns(&part_refs, cfg.support_timestamp)?;
    let base = table.location().trim_end_matches('/').to_string();
    let read_optimized = view == View::ReadOptimized;
    let mut parameters = BTreeMap::new();
    if !cfg.create_managed_table {
        parameters.insert("EXTERNAL".to_string(), "TRUE".to_string());
    }
    let mut serde_parameters = BTreeMap::new();
    if cfg.sync_as_datasource {
        parameters.insert("spark.sql.sources.provider".into(), "hudi".into());
        if let Some(v) = &cfg.spark_version {
            parameters.insert("spark.sql.create.version".into(), v.clone());
        }
        let js = schema::spark_schema_json(&data, &part_refs)?;
        parameters.extend(schema::spark_schema_parameters(
            &js,
            &cfg.partition_fields,
            cfg.schema_length_threshold,
        ));
        serde_parameters.insert("path".to_string(), base.clone());
        serde_parameters.insert(QUERY_AS_RO.to_string(), read_optimized.to_string());
    }
    serde_parameters.insert("serialization.format".to_string(), "1".to_string());
    parameters.extend(cfg.table_properties.clone());
    serde_parameters.extend(cfg.serde_properties.clone());
    let input_format = match view {
        View::Snapshot { realtime: true } => REALTIME_INPUT_FORMAT,
        _ => INPUT_FORMAT,
    };
    Ok(TableDef {
        name: name.to_string(),
        columns,
        partition_keys,
        location: base,
        input_format: input_format.into(),
        output_format: OUTPUT_FORMAT.into(),
        serde_library: SERDE.into(),
        serde_parameters,
        parameters,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::partitions::Extractor;

    fn cfg(strategy: TableStrategy, skip_ro_suffix: bool) -> SyncConfig {
        SyncConfig {
            database: "db".into(),
            table: "Trips".into(),
            skip_ro_suffix,
            strategy,
            support_timestamp: false,
            partition_fields: vec!["city".into()],
            extractor: Extractor::HiveStyle,
            auto_create_database: true,
            sync_as_datasource: true,
            schema_length_threshold: 4000,
            sync_comment: false,
            omit_metadata_fields: false,
            create_managed_table: false,
            batch_size: 1000,
            table_properties: BTreeMap::new(),
            serde_properties: BTreeMap::new(),
            spark_version: None,
            snapshot_with_table_name: true,
            glue_metadata_listing: false,
        }
    }

    #[test]
    fn table_names_per_type_and_strategy() {
        let names = |c: &SyncConfig, t| views(c, t).into_iter().map(|(n, _)| n).collect::<Vec<_>>();
        let all = cfg(TableStrategy::All, false);
        assert_eq!(names(&all, TableType::CopyOnWrite), vec!["trips"]);
        assert_eq!(
            names(&all, TableType::MergeOnRead),
            vec!["trips_ro", "trips_rt", "trips"]
        );
        let skip = cfg(TableStrategy::All, true);
        assert_eq!(
            names(&skip, TableType::MergeOnRead),
            vec!["trips", "trips_rt"]
        );
        let rt = cfg(TableStrategy::Rt, false);
        assert_eq!(
            views(&rt, TableType::MergeOnRead),
            vec![("trips".to_string(), View::Snapshot { realtime: true })]
        );
    }

    #[test]
    fn partition_columns_move_to_the_end_with_their_type() {
        let schema = Schema::new(vec![
            Field::new("_hoodie_commit_time", DataType::Utf8, true),
            Field::new("city", DataType::Utf8, true),
            Field::new("fare", DataType::Float64, true),
        ]);
        let mut c = cfg(TableStrategy::All, false);
        let (data, part) = split_schema(&c, &schema);
        assert_eq!(
            data.iter().map(|f| f.name().as_str()).collect::<Vec<_>>(),
            vec!["_hoodie_commit_time", "fare"]
        );
        assert_eq!(part[0].name(), "city");
        c.omit_metadata_fields = true;
        c.partition_fields = vec!["day".into()];
        let (data, part) = split_schema(&c, &schema);
        assert_eq!(data.len(), 2, "city is data now, the meta column left");
        assert_eq!(part[0].data_type(), &DataType::Utf8, "absent: string");
    }
}
