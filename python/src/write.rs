//! `write`: one write to a table, created on the first write.

use std::collections::{BTreeMap, HashMap};

use arrow_array::ffi_stream::RecordBatchStreamReader;
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

/// What a new table is created with (ignored when the table exists).
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
    let metrics = py.detach(|| {
        runtime().block_on(async {
            let table = match Table::open_with_options(&table_uri, &storage_options).await {
                Ok(t) => t,
                Err(HudiError::NotATable { .. }) => {
                    match builder(&table_uri, &spec, &storage_options) {
                        Ok(b) => b.create().await.map_err(py_err)?,
                        Err(e) => return Err(e),
                    }
                }
                Err(e) => return Err(py_err(e)),
            };
            let mut w = table
                .write(op)
                .with_options(options)
                .with_partitions(partitions);
            if let Some(i) = spec.index {
                w = w.with_option("hoodie.index.type", i.name());
            }
            w.execute(Box::pin(input_stream(reader)))
                .await
                .map_err(py_err)
        })
    })?;
    json_to_py(py, &metrics.to_json())
}
