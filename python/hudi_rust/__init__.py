"""Write, maintain and read Apache Hudi tables from Python, without a JVM.

The tables are Apache Hudi's own (table version 6, as Hudi 0.14/0.15 writes them): Spark,
Flink, Trino, Athena and hudi-rs read them, and Spark writes into them and runs its services
on them.

>>> import pyarrow as pa
>>> from hudi_rust import write_hudi, HudiTable
>>> trips = pa.table({"id": ["a", "b"], "ts": [1, 1], "city": ["sf", "nyc"], "fare": [9.5, 12.0]})
>>> write_hudi("/tmp/trips", trips, record_key="id", partition_by="city", precombine="ts")["records_inserted"]
2
>>> HudiTable("/tmp/trips").read(columns=["id", "fare"]).num_rows
2

Data goes in as any Arrow source: a ``pyarrow.Table``, ``RecordBatch`` or
``RecordBatchReader``, a pandas or polars ``DataFrame``, or anything exporting the Arrow C
stream interface (``__arrow_c_stream__``). It crosses into Rust without a copy, and streams:
a reader larger than memory is written batch by batch. Options are Hudi's own keys
(``hoodie.*``); the keyword arguments are their short forms.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

import pyarrow as pa

from ._internal import (
    SYNC_BUILT_IN,
    AfterCommitError,
    CommitConflictError,
    CorruptTableError,
    HudiError,
    RawTable,
    RefusedError,
    SchemaError,
    TableNotFoundError,
    __version__,
)
from ._internal import write as _write

__all__ = [
    "write_hudi",
    "HudiTable",
    "HudiError",
    "CommitConflictError",
    "AfterCommitError",
    "SchemaError",
    "TableNotFoundError",
    "RefusedError",
    "CorruptTableError",
    "SYNC_BUILT_IN",
    "__version__",
]

Fields = Union[str, Sequence[str]]
Options = Mapping[str, Any]

OPERATIONS = (
    "upsert",
    "insert",
    "bulk_insert",
    "delete",
    "insert_overwrite",
    "insert_overwrite_table",
    "delete_partition",
)

# Hudi's write options and the keyword arguments they stand for.
_OPTION_ARGS = {
    "hoodie.datasource.write.operation": "operation",
    "hoodie.datasource.write.recordkey.field": "record_key",
    "hoodie.datasource.write.partitionpath.field": "partition_by",
    "hoodie.datasource.write.precombine.field": "precombine",
    "hoodie.datasource.write.table.type": "table_type",
    "hoodie.datasource.write.keygenerator.class": "key_generator",
    "hoodie.datasource.write.keygenerator.type": "key_generator",
    "hoodie.table.name": "table_name",
    "hoodie.datasource.write.hive_style_partitioning": "hive_style_partitioning",
    "hoodie.index.type": "index",
    "hoodie.bucket.index.num.buckets": "buckets",
}

# Java key generator classes by their simple name.
_KEYGEN_CLASSES = {
    "SimpleKeyGenerator": "SIMPLE",
    "SimpleAvroKeyGenerator": "SIMPLE",
    "ComplexKeyGenerator": "COMPLEX",
    "ComplexAvroKeyGenerator": "COMPLEX",
    "NonpartitionedKeyGenerator": "NON_PARTITION",
    "NonpartitionedAvroKeyGenerator": "NON_PARTITION",
    "TimestampBasedKeyGenerator": "TIMESTAMP",
    "TimestampBasedAvroKeyGenerator": "TIMESTAMP",
    "CustomKeyGenerator": "CUSTOM",
    "CustomAvroKeyGenerator": "CUSTOM",
}


def _fields(v: Optional[Fields]) -> List[str]:
    if v is None:
        return []
    if isinstance(v, str):
        return [f.strip() for f in v.split(",") if f.strip()]
    return [str(f) for f in v]


def _options(options: Optional[Options]) -> Dict[str, str]:
    out = {}
    for k, v in (options or {}).items():
        if isinstance(v, bool):
            v = "true" if v else "false"
        out[str(k)] = str(v)
    return out


def _keygen(k: Optional[str]) -> Optional[str]:
    if k is None:
        return None
    simple = k.rsplit(".", 1)[-1]
    return _KEYGEN_CLASSES.get(simple, k)


def _is_pandas(data: Any) -> bool:
    return type(data).__module__.split(".")[0] == "pandas" and hasattr(data, "columns")


def _arrow_stream(data: Any) -> Any:
    """An object exporting the Arrow C stream interface for ``data``."""
    if _is_pandas(data):
        # The index is not a column of the table.
        return pa.Table.from_pandas(data, preserve_index=False)
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    if hasattr(data, "__arrow_c_stream__"):
        return data
    if hasattr(data, "to_arrow"):  # polars before the C stream interface
        return data.to_arrow()
    if isinstance(data, (list, tuple)) and all(isinstance(b, pa.RecordBatch) for b in data):
        return pa.Table.from_batches(list(data))
    raise TypeError(
        f"cannot write a {type(data).__name__}: pass a pyarrow Table, RecordBatch or "
        "RecordBatchReader, a pandas or polars DataFrame, or an object with __arrow_c_stream__"
    )


def write_hudi(
    table_uri: str,
    data: Any,
    *,
    operation: Optional[str] = None,
    record_key: Optional[Fields] = None,
    partition_by: Optional[Fields] = None,
    precombine: Optional[str] = None,
    table_type: Optional[str] = None,
    key_generator: Optional[str] = None,
    table_name: Optional[str] = None,
    hive_style_partitioning: Optional[bool] = None,
    index: Optional[str] = None,
    buckets: Optional[int] = None,
    partitions: Optional[Sequence[str]] = None,
    options: Optional[Options] = None,
    storage_options: Optional[Mapping[str, str]] = None,
) -> Dict[str, Any]:
    """Writes ``data`` to the Hudi table at ``table_uri`` in one commit.

    The table is created on the first write; ``record_key`` (and ``partition_by``,
    ``precombine``, ``table_type`` (``COPY_ON_WRITE``, the default, or ``MERGE_ON_READ``),
    ``key_generator``, ``index``, ``buckets``, ``hive_style_partitioning``) say how.
    ``operation`` is one of ``upsert`` (default), ``insert``, ``bulk_insert``, ``delete``,
    ``insert_overwrite``, ``insert_overwrite_table``, ``delete_partition`` (``partitions``
    names the partitions to drop; else the input's).

    ``options`` are Hudi's write options (``hoodie.*``): the usual Spark data source keys
    work (``hoodie.datasource.write.recordkey.field``, ...; a keyword argument wins), as do
    compaction, clean, file sizing, concurrency and catalog sync options.
    ``storage_options`` configure the object store (``aws_region``, ``aws_endpoint``, ...);
    credentials also come from the usual environment variables.

    Returns the commit's metrics: ``instant``, ``records_inserted``, ``records_updated``,
    ``records_deleted``, ``files_written``, ``bytes_written``, ``duration_ms``,
    ``rolled_back`` (failed writes rolled back first) and ``inline_services``.

    With ``hoodie.datasource.meta.sync.enable`` (or ``hoodie.datasource.hive_sync.enable``)
    the table is registered in AWS Glue or a Hive metastore after the commit, as Hudi's
    writers do; the result then has ``meta_sync``.

    Raises ``SchemaError`` for input that does not fit (a null key, a mistyped column, a
    record key that is not a column), ``CommitConflictError`` when a concurrent writer wins,
    ``TableNotFoundError`` when there is no table and no ``record_key`` to create one,
    ``HudiError`` otherwise; nothing is committed then. ``AfterCommitError`` (its ``instant``
    attribute names the commit) says the write committed but an inline service or the catalog
    sync after it failed: do not write the data again.

    >>> import pandas as pd
    >>> df = pd.DataFrame({"id": [1, 2], "ts": [0, 0], "v": ["a", "b"]})
    >>> write_hudi("/tmp/t", df, record_key="id", precombine="ts", operation="insert")["files_written"]
    1
    """
    opts = _options(options)
    args: Dict[str, Any] = {
        "operation": operation,
        "record_key": record_key,
        "partition_by": partition_by,
        "precombine": precombine,
        "table_type": table_type,
        "key_generator": key_generator,
        "table_name": table_name,
        "hive_style_partitioning": hive_style_partitioning,
        "index": index,
        "buckets": buckets,
    }
    for key, arg in _OPTION_ARGS.items():
        if key in opts and args[arg] is None:
            v = opts[key]
            if arg == "hive_style_partitioning":
                args[arg] = v.lower() == "true"
            elif arg == "buckets":
                args[arg] = int(v)
            else:
                args[arg] = v
    defaults = {"operation": "upsert", "table_type": "COPY_ON_WRITE", "hive_style_partitioning": False}
    for arg, v in defaults.items():
        if args[arg] is None:
            args[arg] = v
    op = str(args["operation"]).lower().replace("-", "_")
    if op not in OPERATIONS:
        raise ValueError(f"operation: '{args['operation']}' is not one of {', '.join(OPERATIONS)}")
    return _write(
        str(table_uri),
        _arrow_stream(data),
        op,
        record_key=_fields(args["record_key"]),
        partition_by=_fields(args["partition_by"]),
        precombine=args["precombine"],
        table_type=str(args["table_type"]),
        key_generator=_keygen(args["key_generator"]),
        table_name=args["table_name"],
        hive_style=bool(args["hive_style_partitioning"]),
        index=args["index"],
        buckets=args["buckets"],
        partitions=list(partitions or []),
        options=opts,
        storage_options=dict(storage_options or {}),
    )


class HudiTable:
    """A Hudi table: reads (snapshot, read-optimized, time travel, incremental), its schema,
    timeline and properties, and its services (compaction, clean, rollback, savepoints and
    restore, archival, catalog sync). Every call sees the table as it is then.

    >>> t = HudiTable("s3://bucket/trips", storage_options={"aws_region": "eu-west-1"})
    >>> t.read(columns=["uuid", "fare"]).num_rows  # doctest: +SKIP
    """

    def __init__(self, uri: str, storage_options: Optional[Mapping[str, str]] = None) -> None:
        self._t = RawTable(str(uri), dict(storage_options or {}))

    @property
    def uri(self) -> str:
        """The table's location."""
        return self._t.uri

    def __repr__(self) -> str:
        return f"HudiTable({self.uri!r})"

    def to_batches(
        self,
        *,
        as_of: Optional[str] = None,
        read_optimized: bool = False,
        incremental: Optional[Tuple[Optional[str], Optional[str]]] = None,
        columns: Optional[Sequence[str]] = None,
    ) -> pa.RecordBatchReader:
        """The table's rows as a ``pyarrow.RecordBatchReader``, file slice after file slice
        (never the whole table in memory). See :meth:`read` for the arguments."""
        start, end = (None, None)
        if incremental is not None:
            start, end = incremental
        return self._t.read(
            as_of=None if as_of is None else str(as_of),
            read_optimized=read_optimized,
            incremental=incremental is not None,
            start=None if start is None else str(start),
            end=None if end is None else str(end),
            columns=None if columns is None else list(columns),
        )

    def read(
        self,
        *,
        as_of: Optional[str] = None,
        read_optimized: bool = False,
        incremental: Optional[Tuple[Optional[str], Optional[str]]] = None,
        columns: Optional[Sequence[str]] = None,
    ) -> pa.Table:
        """Reads the table into a ``pyarrow.Table``.

        - default: a snapshot (merge-on-read: base files merged with their logs);
        - ``as_of``: time travel, as of an instant (``"20261201153000123"``) or an ISO-8601
          date or time (``"2026-12-01 15:30:00"``);
        - ``read_optimized=True``: base files only (merge-on-read);
        - ``incremental=(start, end)``: records written after ``start`` up to ``end``
          (inclusive; either may be ``None``; ``"0"`` is the beginning);
        - ``columns``: only these columns, in this order.

        >>> HudiTable("/tmp/trips").read(incremental=("0", None)).num_rows  # doctest: +SKIP
        """
        reader = self.to_batches(
            as_of=as_of, read_optimized=read_optimized, incremental=incremental, columns=columns
        )
        return reader.read_all()

    def schema(self) -> pa.Schema:
        """The table's current schema, meta columns (``_hoodie_*``) first."""
        return self._t.schema()

    def timeline(self, *, incomplete: bool = False) -> List[Dict[str, Any]]:
        """The active timeline, oldest first: ``instant``, ``action``, ``state`` and
        ``completed`` (the completion time, or ``None``). ``incomplete=True``: only instants
        that have not completed (failed or running writes, pending services)."""
        return self._t.timeline(incomplete)

    def properties(self) -> Dict[str, str]:
        """``hoodie.properties``."""
        return self._t.properties()

    def unmaintained(self) -> List[str]:
        """The parts of the table this library does not maintain (a metadata table, table
        version 8 or 9, CDC, ...), each described: with any, writes and services raise
        ``RefusedError`` and change nothing; reads go ahead. Empty for a table it writes."""
        return self._t.unmaintained()

    def compact(
        self, instant: Optional[str] = None, *, options: Optional[Options] = None
    ) -> Dict[str, Any]:
        """Compacts a merge-on-read table: the pending compaction ``instant``, else the
        earliest pending one, else a new plan of every file slice with logs. Returns what it
        did (``compacted`` is ``None`` and ``nothing_to_compact`` says why when there was
        nothing to do)."""
        return self._t.compact(instant, _options(options))

    def schedule_compaction(
        self, *, force: bool = False, options: Optional[Options] = None
    ) -> Dict[str, Any]:
        """Writes a compaction plan if the trigger (``hoodie.compact.inline.trigger.strategy``,
        ...) says one is due, or whenever there are logs with ``force=True``."""
        return self._t.schedule_compaction(force, _options(options))

    def clean(
        self,
        *,
        policy: Optional[str] = None,
        retained: Optional[int] = None,
        hours: Optional[int] = None,
        dry_run: bool = False,
        options: Optional[Options] = None,
    ) -> Dict[str, Any]:
        """Deletes file slices no retained commit, savepoint or pending compaction needs, as
        Hudi's cleaner does. ``policy``: ``KEEP_LATEST_COMMITS`` (Hudi's default, ``retained``
        commits), ``KEEP_LATEST_FILE_VERSIONS`` (``retained`` versions per file group) or
        ``KEEP_LATEST_BY_HOURS`` (``hours``). ``dry_run=True`` only says what it would
        delete."""
        return self._t.clean(policy, retained, hours, dry_run, _options(options))

    def rollback(
        self, instant: Optional[str] = None, *, options: Optional[Options] = None
    ) -> List[Dict[str, Any]]:
        """Rolls back failed writes (``instant=None``), or the latest completed instant
        ``instant``. Returns one entry per instant rolled back."""
        return self._t.rollback(instant, _options(options))

    def savepoint(
        self, instant: Optional[str] = None, *, user: str = "", comments: str = ""
    ) -> Dict[str, Any]:
        """Savepoints a completed commit (the latest by default): the cleaner keeps its files
        and :meth:`restore` can go back to it."""
        return self._t.savepoint(instant, user, comments)

    def savepoints(self) -> List[Dict[str, Any]]:
        """The table's savepoints."""
        return self._t.savepoints()

    def delete_savepoint(self, instant: str) -> None:
        """Deletes the savepoint of ``instant``."""
        self._t.delete_savepoint(str(instant))

    def restore(self, savepoint: str) -> Dict[str, Any]:
        """Restores the table to the savepoint ``savepoint``: every later write is rolled
        back."""
        return self._t.restore(str(savepoint))

    def archive(self, *, options: Optional[Options] = None) -> Dict[str, Any]:
        """Moves the oldest instants to the archived timeline (``hoodie.keep.min.commits``,
        ``hoodie.keep.max.commits``)."""
        return self._t.archive(_options(options))

    def sync(self, options: Options) -> Dict[str, Any]:
        """Registers the table in AWS Glue or a Hive metastore, as a Hudi writer's meta sync
        does (``hoodie.datasource.meta.sync.enable``, ``hoodie.meta.sync.client.tool.class``,
        ``hoodie.datasource.hive_sync.*``). Returns what changed. Needs ``SYNC_BUILT_IN``."""
        return self._t.sync(_options(options))
