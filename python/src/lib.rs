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

use std::sync::{Arc, Mutex};

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
    AfterCommitError,
    HudiError,
    "The write committed (its instant is the `instant` attribute), but what runs after the \
     commit failed: an inline compaction or clean, or the catalog sync. Do not write the data \
     again; run the service again."
);
create_exception!(
    _internal,
    RefusedError,
    HudiError,
    "The operation was refused and nothing was changed: the table has parts this library does \
     not maintain (a metadata table, a table version it does not write, change data capture, \
     ...; the message names each), or the operation would break what the table promises (a \
     rollback that later instants depend on, a cleaned savepoint, ...)."
);
create_exception!(
    _internal,
    CorruptTableError,
    HudiError,
    "A file of the table does not hold what it must (a base or log file, a Bloom filter, an \
     instant's metadata, hoodie.properties): the table is damaged, not the input. The message \
     names the file or instant; `hudi verify` lists what else is wrong."
);
create_exception!(
    _internal,
    TableNotFoundError,
    HudiError,
    "No Hudi table at this location (no .hoodie/hoodie.properties)."
);

/// The runtime every call runs its futures on: one per process, made again in a process
/// forked from one that had it (a fork has none of its threads).
pub(crate) fn runtime() -> Arc<tokio::runtime::Runtime> {
    type Shared = Option<(u32, Arc<tokio::runtime::Runtime>)>;
    static RUNTIME: Mutex<Shared> = Mutex::new(None);
    let pid = std::process::id();
    let mut slot = RUNTIME.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((owner, rt)) = slot.as_ref() {
        if *owner == pid {
            return rt.clone();
        }
    }
    if let Some((_, inherited)) = slot.take() {
        // The parent's runtime: its threads are not in this process, so it cannot be shut
        // down here.
        std::mem::forget(inherited);
    }
    let rt = Arc::new(
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("hudi-rust")
            .build()
            .expect("cannot start the async runtime"),
    );
    *slot = Some((pid, rt.clone()));
    rt
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
        E::Refused { .. } | E::Unmaintained { .. } => RefusedError::new_err(message),
        E::Corrupt { .. }
        | E::LogFormat { .. }
        | E::InstantMetadata { .. }
        | E::ChecksumMismatch { .. } => CorruptTableError::new_err(message),
        E::AfterCommit { instant, .. } => after_commit_error(&instant, message),
        _ => HudiError::new_err(message),
    }
}

/// An `AfterCommitError` carrying the committed instant.
pub(crate) fn after_commit_error(instant: &str, message: String) -> PyErr {
    Python::attach(|py| {
        let e = AfterCommitError::new_err(message);
        if let Err(set) = e.value(py).setattr("instant", instant) {
            return set;
        }
        e
    })
}

#[pymodule]
fn _internal(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("HudiError", py.get_type::<HudiError>())?;
    m.add("CommitConflictError", py.get_type::<CommitConflictError>())?;
    m.add("SchemaError", py.get_type::<SchemaError>())?;
    m.add("TableNotFoundError", py.get_type::<TableNotFoundError>())?;
    m.add("RefusedError", py.get_type::<RefusedError>())?;
    m.add("CorruptTableError", py.get_type::<CorruptTableError>())?;
    m.add("AfterCommitError", py.get_type::<AfterCommitError>())?;
    m.add("SYNC_BUILT_IN", cfg!(feature = "sync"))?;
    m.add_function(wrap_pyfunction!(write::write, m)?)?;
    m.add_class::<table::RawTable>()?;
    Ok(())
}
