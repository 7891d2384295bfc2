//! `RawTable`: an opened table. Every call sees the table as it is at that call (its timeline
//! is loaded again), so a table object stays current across writes and services.

use std::collections::{BTreeMap, HashMap};

use arrow::array::RecordBatchReader;
use arrow_pyarrow::{IntoPyArrow, ToPyArrow};
use hudi_core::services::clean::config::CleanPolicy;
use hudi_core::{Report, Table};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use serde_json::json;

use crate::convert::{instant, json_to_py, opt_instant};
use crate::stream::ScanReader;
use crate::{py_err, runtime};

#[pyclass(module = "hudi_rust._internal", frozen)]
pub struct RawTable {
    table: Table,
}

impl RawTable {
    /// Runs `f` on the table as it is now, detached from the interpreter.
    fn with_latest<'py, T, F, Fut>(&self, py: Python<'py>, f: F) -> PyResult<T>
    where
        T: Send,
        F: FnOnce(Table) -> Fut + Send,
        Fut: std::future::Future<Output = hudi_core::Result<T>> + Send,
    {
        py.detach(|| {
            runtime().block_on(async {
                let table = self.table.reload().await?;
                f(table).await
            })
        })
        .map_err(py_err)
    }

    /// [`Self::with_latest`] for a service whose outcome goes to Python as its JSON report.
    fn report<'py, F, Fut>(&self, py: Python<'py>, f: F) -> PyResult<Bound<'py, PyAny>>
    where
        F: FnOnce(Table) -> Fut + Send,
        Fut: std::future::Future<Output = hudi_core::Result<serde_json::Value>> + Send,
    {
        let v = self.with_latest(py, f)?;
        json_to_py(py, &v)
    }
}

#[pymethods]
impl RawTable {
    #[new]
    #[pyo3(signature = (uri, storage_options=HashMap::new()))]
    fn new(
        py: Python<'_>,
        uri: String,
        storage_options: HashMap<String, String>,
    ) -> PyResult<Self> {
        let table = py
            .detach(|| runtime().block_on(Table::open_with_options(&uri, &storage_options)))
            .map_err(py_err)?;
        Ok(RawTable { table })
    }

    /// The table's location.
    #[getter]
    fn uri(&self) -> String {
        self.table.location().to_string()
    }

    /// A read of the table as a `pyarrow.RecordBatchReader`.
    #[pyo3(signature = (as_of=None, read_optimized=false, incremental=false, start=None, end=None, columns=None))]
    #[allow(clippy::too_many_arguments)]
    fn read<'py>(
        &self,
        py: Python<'py>,
        as_of: Option<&str>,
        read_optimized: bool,
        incremental: bool,
        start: Option<&str>,
        end: Option<&str>,
        columns: Option<Vec<String>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let as_of = opt_instant("as_of", as_of)?;
        let start = opt_instant("incremental start", start)?;
        let end = opt_instant("incremental end", end)?;
        let scan = self.with_latest(py, |table| async move {
            let mut b = table.read();
            if let Some(t) = as_of {
                b = b.with_as_of(t);
            }
            if read_optimized {
                b = b.with_read_optimized();
            }
            if incremental {
                b = b.with_incremental(start, end);
            }
            if let Some(c) = columns {
                b = b.with_columns(c);
            }
            b.stream().await
        })?;
        let reader: Box<dyn RecordBatchReader + Send> = Box::new(ScanReader::new(scan));
        reader.into_pyarrow(py)
    }

    /// The table's current schema (meta columns first) as a `pyarrow.Schema`.
    fn schema<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let (schema, _) = self.with_latest(py, |t| async move { t.schema().await })?;
        schema.as_ref().to_pyarrow(py)
    }

    /// Every instant of the active timeline: requested time, action, state, completion time.
    #[pyo3(signature = (incomplete=false))]
    fn timeline<'py>(&self, py: Python<'py>, incomplete: bool) -> PyResult<Bound<'py, PyAny>> {
        let table = self.with_latest(py, |t| async move { Ok(t) })?;
        let list = PyList::empty(py);
        for ti in table.timeline().instants() {
            if incomplete && ti.is_completed() {
                continue;
            }
            let v = json!({
                "instant": ti.requested().as_str(),
                "action": ti.action().token(),
                "state": ti.state().token(),
                "completed": ti.completion().map(|t| t.as_str()),
            });
            list.append(json_to_py(py, &v)?)?;
        }
        Ok(list.into_any())
    }

    /// `hoodie.properties`, as a dict.
    fn properties<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let table = self.with_latest(py, |t| async move { Ok(t) })?;
        let d = PyDict::new(py);
        for (k, v) in &table.config().raw {
            d.set_item(k, v)?;
        }
        Ok(d)
    }

    /// The parts of the table this library does not maintain, each described; writes and
    /// services refuse a table that has any.
    fn unmaintained(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        self.with_latest(py, |t| async move {
            let records = hudi_core::config::capability::Changes::Records;
            let parts = hudi_core::txn::mutation::unmaintained(t.storage(), t.config(), records);
            Ok(parts.await?.iter().map(|p| p.to_string()).collect())
        })
    }

    /// Compacts (merge-on-read): the pending compaction `instant`, else the earliest pending
    /// one, else a new plan of every file slice with logs.
    #[pyo3(signature = (instant_time=None, options=BTreeMap::new()))]
    fn compact<'py>(
        &self,
        py: Python<'py>,
        instant_time: Option<&str>,
        options: BTreeMap<String, String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let at = opt_instant("instant", instant_time)?;
        self.report(py, |table| async move {
            let mut b = table.compaction().with_options(options);
            if let Some(t) = at {
                b = b.with_instant(t);
            }
            Ok(b.run_or_schedule().await?.to_json())
        })
    }

    /// Schedules a compaction plan if one is due (`force`: whatever the trigger says).
    #[pyo3(signature = (force=false, options=BTreeMap::new()))]
    fn schedule_compaction<'py>(
        &self,
        py: Python<'py>,
        force: bool,
        options: BTreeMap<String, String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.report(py, |table| async move {
            let s = table
                .compaction()
                .with_options(options)
                .with_force(force)
                .schedule()
                .await?;
            Ok(s.to_json())
        })
    }

    /// Cleans old file slices (finishing interrupted cleans first).
    #[pyo3(signature = (policy=None, retained=None, hours=None, dry_run=false, options=BTreeMap::new()))]
    fn clean<'py>(
        &self,
        py: Python<'py>,
        policy: Option<&str>,
        retained: Option<usize>,
        hours: Option<i64>,
        dry_run: bool,
        options: BTreeMap<String, String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let policy = policy
            .map(|p| {
                CleanPolicy::parse(p).ok_or_else(|| {
                    PyValueError::new_err(format!(
                        "policy: '{p}' is not one of KEEP_LATEST_COMMITS, \
                         KEEP_LATEST_FILE_VERSIONS, KEEP_LATEST_BY_HOURS"
                    ))
                })
            })
            .transpose()?;
        let by_hours = policy == Some(CleanPolicy::KeepLatestByHours);
        if hours.is_some() && !by_hours {
            return Err(PyValueError::new_err(
                "hours goes with policy='KEEP_LATEST_BY_HOURS'",
            ));
        }
        if retained.is_some() && by_hours {
            return Err(PyValueError::new_err(
                "KEEP_LATEST_BY_HOURS retains hours, not a count",
            ));
        }
        self.report(py, |table| async move {
            let mut b = table.clean().with_options(options).with_dry_run(dry_run);
            if let Some(p) = policy {
                b = b.with_policy(p);
            }
            if let Some(n) = retained {
                b = match policy {
                    Some(CleanPolicy::KeepLatestFileVersions) => b.with_retained_versions(n),
                    _ => b.with_retained_commits(n),
                };
            }
            if let Some(h) = hours {
                b = b.with_retained_hours(h);
            }
            Ok(b.run().await?.to_json())
        })
    }

    /// Rolls back failed writes, or (`instant`) the latest completed instant.
    #[pyo3(signature = (instant_time=None, options=BTreeMap::new()))]
    fn rollback<'py>(
        &self,
        py: Python<'py>,
        instant_time: Option<&str>,
        options: BTreeMap<String, String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let at = opt_instant("instant", instant_time)?;
        let done = self.with_latest(py, |table| async move {
            let mut b = table.rollback().with_options(options);
            if let Some(t) = at {
                b = b.with_instant(t);
            }
            b.run().await
        })?;
        json_to_py(
            py,
            &json!(done.iter().map(Report::to_json).collect::<Vec<_>>()),
        )
    }

    /// Savepoints a completed commit (the latest when `instant` is `None`).
    #[pyo3(signature = (instant_time=None, user="", comments=""))]
    fn savepoint<'py>(
        &self,
        py: Python<'py>,
        instant_time: Option<&str>,
        user: &str,
        comments: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let at = opt_instant("instant", instant_time)?;
        let (user, comments) = (user.to_string(), comments.to_string());
        let info = self.with_latest(py, |table| async move {
            let mut b = table.savepoint().with_user(user).with_comments(comments);
            if let Some(t) = at {
                b = b.with_instant(t);
            }
            b.create().await
        })?;
        json_to_py(py, &info.to_json())
    }

    /// The table's savepoints.
    fn savepoints<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let all = self.with_latest(py, |t| async move { t.savepoint().list().await })?;
        json_to_py(
            py,
            &json!(all.iter().map(Report::to_json).collect::<Vec<_>>()),
        )
    }

    /// Deletes the savepoint of `instant`.
    fn delete_savepoint(&self, py: Python<'_>, instant_time: &str) -> PyResult<()> {
        let t = instant("instant", instant_time)?;
        self.with_latest(py, |table| async move { table.savepoint().delete(t).await })
    }

    /// Restores the table to the savepoint of `savepoint`.
    fn restore<'py>(&self, py: Python<'py>, savepoint: &str) -> PyResult<Bound<'py, PyAny>> {
        let t = instant("savepoint", savepoint)?;
        let out = self.with_latest(py, |table| async move { table.restore(t).run().await })?;
        json_to_py(py, &out.to_json())
    }

    /// Moves the oldest instants to the archived timeline.
    #[pyo3(signature = (options=BTreeMap::new()))]
    fn archive<'py>(
        &self,
        py: Python<'py>,
        options: BTreeMap<String, String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let out = self.with_latest(py, |t| async move {
            t.archive().with_options(options).run().await
        })?;
        json_to_py(py, &out.to_json())
    }

    /// Registers the table in a catalog (`hoodie.datasource.meta.sync.*` and
    /// `hoodie.datasource.hive_sync.*` options: AWS Glue or a Hive metastore), as a writer's
    /// post-commit sync does.
    #[pyo3(signature = (options=BTreeMap::new()))]
    fn sync<'py>(
        &self,
        py: Python<'py>,
        options: BTreeMap<String, String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        sync(self, py, options)
    }
}

#[cfg(feature = "sync")]
fn sync<'py>(
    t: &RawTable,
    py: Python<'py>,
    options: BTreeMap<String, String>,
) -> PyResult<Bound<'py, PyAny>> {
    let table = &t.table;
    let out = py.detach(|| runtime().block_on(hudi_glue_sync::meta_sync(table, &options)));
    match out {
        Ok(Some(o)) => json_to_py(py, &o.plan.to_json()),
        Ok(None) => Err(PyValueError::new_err(
            "no catalog named: set hoodie.datasource.meta.sync.enable=true (Glue: \
             hoodie.meta.sync.client.tool.class=org.apache.hudi.aws.sync.AwsGlueCatalogSyncTool) \
             or hoodie.datasource.hive_sync.enable=true with hoodie.datasource.hive_sync.metastore.uris",
        )),
        Err(e) => Err(crate::HudiError::new_err(e.to_string())),
    }
}

#[cfg(not(feature = "sync"))]
fn sync<'py>(
    _: &RawTable,
    _: Python<'py>,
    _: BTreeMap<String, String>,
) -> PyResult<Bound<'py, PyAny>> {
    Err(crate::HudiError::new_err(
        "catalog sync is not built into this package (the `sync` feature)",
    ))
}
