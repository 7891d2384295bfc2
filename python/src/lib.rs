//! `hudi_rust._internal`: the native half of the `hudi_rust` Python package. The Python half
//! (`hudi_rust/__init__.py`) turns pandas, polars and pyarrow objects into Arrow streams and
//! Hudi-style keyword options into the arguments these functions take.
//!
//! Data crosses with the Arrow C stream interface: no copy, no per-row Python. Every call
//! that reads or writes a table detaches from the interpreter (releases the GIL) while Rust
//! works.

mod convert;
mod stream;
mod table;
mod write;

use std::sync::OnceLock;

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

create_exception!(
    _internal,
    HudiError,
    PyException,
    "A Hudi table operation failed; the message names the table, file, instant or key."
);
create_exception!(
    _internal,
    CommitConflictError,
    HudiError,
    "Another writer got there first: a write conflict (overlapping file groups under \
     optimistic concurrency control), an instant taken, or the table lock not acquired in time. \
     Nothing of this write was committed; retry it."
);
create_exception!(
    _internal,
    SchemaError,
    HudiError,
    "The input does not fit the table: a null or empty record key, a missing or mistyped \
     column, an incompatible schema change. Nothing was committed."
);
create_exception!(
    _internal,
    TableNotFoundError,
    HudiError,
    "No Hudi table at this location (no .hoodie/hoodie.properties)."
);

/// The runtime every call runs its futures on (one per process).
pub(crate) fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("hudi-rust")
            .build()
            .expect("cannot start the async runtime")
    })
}

/// The Python exception of a library error.
pub(crate) fn py_err(e: hudi_core::HudiError) -> PyErr {
    use hudi_core::HudiError as E;
    let message = e.to_string();
    match e {
        E::WriteConflict { .. } | E::InstantConflict { .. } | E::LockTimeout { .. } => {
            CommitConflictError::new_err(message)
        }
        E::Schema { .. } => SchemaError::new_err(message),
        E::NotATable { .. } => TableNotFoundError::new_err(message),
        _ => HudiError::new_err(message),
    }
}

#[pymodule]
fn _internal(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("HudiError", py.get_type::<HudiError>())?;
    m.add("CommitConflictError", py.get_type::<CommitConflictError>())?;
    m.add("SchemaError", py.get_type::<SchemaError>())?;
    m.add("TableNotFoundError", py.get_type::<TableNotFoundError>())?;
    m.add("SYNC_BUILT_IN", cfg!(feature = "sync"))?;
    m.add_function(wrap_pyfunction!(write::write, m)?)?;
    m.add_class::<table::RawTable>()?;
    Ok(())
}
