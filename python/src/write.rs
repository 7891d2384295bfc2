//! `write`: one write to a table, created on the first write.

use std::collections::{BTreeMap, HashMap};

use arrow_array::ffi_stream::RecordBatchStreamReader;
use arrow_array::RecordBatchReader;
use arrow_pyarrow::FromPyArrow;
use hudi_core::config::table::TableType;
use hudi_core::keygen::KeyGenKind;
use hudi_core::write::config::IndexType;
use hudi_core::{HudiError, Report, Table, TableBuilder, WriteOperation};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::convert::json_to_py;
use crate::stream::input_stream;
use crate::{py_err, runtime};

/// What a new table is created with (ignored when the table exists; so is `index`, which is
/// the table's).
struct Spec {
    record_key: Vec<String>,
    partition_by: Vec<String>,
    precombine: Option<String>,
    table_type: TableType,
    key_generator: Option<KeyGenKind>,
    table_name: Option<String>,
    hive_style: bool,
    index: Option<IndexType>,
    buckets: Option<u32>,
}

fn bad(what: &str, value: &str, expected: &str) -> PyErr {
    PyValueError::new_err(format!("{what}: '{value}' is not one of {expected}"))
}

fn builder(uri: &str, spec: &Spec, storage: &HashMap<String, String>) -> PyResult<TableBuilder> {
    if spec.record_key.is_empty() {
        return Err(crate::TableNotFoundError::new_err(format!(
            "no Hudi table at '{uri}'; pass record_key (and partition_by, precombine, ...) to create one"
        )));
    }
    let mut b = TableBuilder::new(uri)
        .with_storage_options(storage.clone())
        .with_record_key_fields(spec.record_key.clone())
        .with_partition_fields(spec.partition_by.clone())
        .with_hive_style_partitioning(spec.hive_style)
        .with_table_type(spec.table_type);
    if let Some(n) = &spec.table_name {
        b = b.with_name(n);
    }
    if let Some(p) = &spec.precombine {
        b = b.with_precombine_field(p);
    }
    if let Some(k) = spec.key_generator {
        b = b.with_key_generator(k);
    }
    if let Some(i) = spec.index {
        b = b.with_index(i);
    }
    if let Some(n) = spec.buckets {
        if spec.index != Some(IndexType::Bucket) {
            return Err(PyValueError::new_err("buckets takes index='BUCKET'"));
        }
        b = b.with_option("hoodie.bucket.index.num.buckets", n.to_string());
    }
    Ok(b)
}

/// Writes `data` (any object exporting the Arrow C stream interface) to the table at
/// `table_uri`, creating the table first if there is none; returns the commit's metrics.
#[pyfunction]
#[pyo3(signature = (
    table_uri, data, operation, *, record_key=Vec::new(), partition_by=Vec::new(),
    precombine=None, table_type="COPY_ON_WRITE", key_generator=None, table_name=None,
    hive_style=false, index=None, buckets=None, partitions=Vec::new(), options=BTreeMap::new(),
    storage_options=HashMap::new()
))]
#[allow(clippy::too_many_arguments)]
pub fn write<'py>(
    py: Python<'py>,
    table_uri: String,
    data: &Bound<'py, PyAny>,
    operation: &str,
    record_key: Vec<String>,
    partition_by: Vec<String>,
    precombine: Option<String>,
    table_type: &str,
    key_generator: Option<String>,
    table_name: Option<String>,
    hive_style: bool,
    index: Option<String>,
    buckets: Option<u32>,
    partitions: Vec<String>,
    options: BTreeMap<String, String>,
    storage_options: HashMap<String, String>,
) -> PyResult<Bound<'py, PyAny>> {
    let op = WriteOperation::parse(operation).ok_or_else(|| {
        bad(
            "operation",
            operation,
            "upsert, insert, bulk_insert, delete, insert_overwrite, insert_overwrite_table, delete_partition",
        )
    })?;
    let spec = Spec {
        record_key,
        partition_by,
        precombine,
        table_type: table_type
            .parse()
            .map_err(|_| bad("table_type", table_type, "COPY_ON_WRITE, MERGE_ON_READ"))?,
        key_generator: key_generator
            .map(|k| {
                KeyGenKind::parse(&k).ok_or_else(|| {
                    bad(
                        "key_generator",
                        &k,
                        "SIMPLE, COMPLEX, NON_PARTITION, TIMESTAMP, CUSTOM",
                    )
                })
            })
            .transpose()?,
        table_name,
        hive_style,
        index: index
            .map(|i| {
                IndexType::parse(&i).ok_or_else(|| {
                    bad(
                        "index",
                        &i,
                        "BLOOM, GLOBAL_BLOOM, SIMPLE, GLOBAL_SIMPLE, BUCKET",
                    )
                })
            })
            .transpose()?,
        buckets,
    };
    let reader = RecordBatchStreamReader::from_pyarrow_bound(data)?;
    // Refused before anything is written when the catalog sync asked for cannot run.
    let sync = sync::requested(&options)?;
    let input_schema = reader.schema();
    let report = py.detach(|| {
        runtime().block_on(async {
            let table = match Table::open_with_options(&table_uri, &storage_options).await {
                Ok(t) => t,
                Err(HudiError::NotATable { .. }) => {
                    // A new table for this input (its fields checked against it first).
                    let b = builder(&table_uri, &spec, &storage_options)?;
                    b.open_or_create(&input_schema).await.map_err(py_err)?
                }
                Err(e) => return Err(py_err(e)),
            };
            let sync_options = options.clone();
            let metrics = table
                .write(op)
                .with_options(options)
                .with_partitions(partitions)
                .execute(Box::pin(input_stream(reader)))
                .await
                .map_err(py_err)?;
            let mut report = metrics.to_json();
            if sync {
                report["meta_sync"] = sync::after_write(&table, &sync_options, &metrics).await?;
            }
            Ok(report)
        })
    })?;
    json_to_py(py, &report)
}

/// The catalog sync a write runs after its commit, as Hudi's writers do
/// (`hoodie.datasource.meta.sync.enable`, `hoodie.datasource.hive_sync.enable`).
#[cfg(feature = "sync")]
mod sync {
    use std::collections::BTreeMap;

    use pyo3::exceptions::PyValueError;
    use pyo3::PyResult;

    /// Whether the options ask for a sync (refused now if they ask for one that cannot run).
    pub fn requested(options: &BTreeMap<String, String>) -> PyResult<bool> {
        hudi_glue_sync::requested_sync(options)
            .map(|s| s.is_some())
            .map_err(|e| PyValueError::new_err(e.to_string()))
    }

    pub async fn after_write(
        table: &hudi_core::Table,
        options: &BTreeMap<String, String>,
        m: &hudi_core::WriteMetrics,
    ) -> PyResult<serde_json::Value> {
        match hudi_glue_sync::meta_sync(table, options).await {
            Ok(o) => Ok(o.map_or(serde_json::Value::Null, |o| o.plan.to_json())),
            Err(e) => Err(crate::after_commit_error(
                m.instant.as_str(),
                format!("{} committed, then the catalog sync failed: {e}", m.instant),
            )),
        }
    }
}

#[cfg(not(feature = "sync"))]
mod sync {
    use std::collections::BTreeMap;

    use pyo3::exceptions::PyValueError;
    use pyo3::PyResult;

    pub fn requested(options: &BTreeMap<String, String>) -> PyResult<bool> {
        let asks = [
            "hoodie.datasource.meta.sync.enable",
            "hoodie.datasource.hive_sync.enable",
        ]
        .iter()
        .any(|k| {
            options
                .get(*k)
                .is_some_and(|v| v.eq_ignore_ascii_case("true"))
        });
        if asks {
            return Err(PyValueError::new_err(
                "catalog sync is not built into this package (the `sync` feature)",
            ));
        }
        Ok(false)
    }

    pub async fn after_write(
        _: &hudi_core::Table,
        _: &BTreeMap<String, String>,
        _: &hudi_core::WriteMetrics,
    ) -> PyResult<serde_json::Value> {
        Ok(serde_json::Value::Null)
    }
}
