//! Values crossing to Python: JSON reports as dicts and lists, and points in time.

use hudi_core::InstantTime;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use serde_json::Value;

/// A JSON value as the Python object `json.loads` would make of it.
pub fn json_to_py<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.into_pyobject(py)?.into_any(),
            (_, Some(u), _) => u.into_pyobject(py)?.into_any(),
            (_, _, Some(f)) => f.into_pyobject(py)?.into_any(),
            _ => py.None().into_bound(py),
        },
        Value::String(s) => s.into_pyobject(py)?.into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(json_to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, item) in map {
                dict.set_item(k, json_to_py(py, item)?)?;
            }
            dict.into_any()
        }
    })
}

/// A point in a table's history given by the caller (an instant, `0`, or an ISO-8601 date or
/// time; see [`InstantTime::parse_point`]), `what` naming the argument in the error.
pub fn instant(what: &str, s: &str) -> PyResult<InstantTime> {
    InstantTime::parse_point(s).map_err(|e| PyValueError::new_err(format!("{what}: {e}")))
}

pub fn opt_instant(what: &str, s: Option<&str>) -> PyResult<Option<InstantTime>> {
    s.map(|s| instant(what, s)).transpose()
}
