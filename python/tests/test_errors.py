"""Bad input raises the right exception and commits nothing; a concurrent writer's conflict
is a CommitConflictError."""

from __future__ import annotations


import pyarrow as pa
import pytest

from conftest import canonical, data_files, rows, timeline_files

import hudi_rust
from hudi_rust import (
    CommitConflictError,
    CorruptTableError,
    HudiError,
    HudiTable,
    RefusedError,
    SchemaError,
    TableNotFoundError,
    write_hudi,
)

SPEC = dict(record_key="id", partition_by="region", precombine="ts")


def test_the_exceptions_form_one_hierarchy():
    for e in (CommitConflictError, SchemaError, TableNotFoundError, RefusedError,
              CorruptTableError):
        assert issubclass(e, HudiError)
    assert issubclass(HudiError, Exception)


@pytest.mark.parametrize("operation", ["bulk_insert", "upsert", "insert"])
def test_a_null_key_raises_a_schema_error_and_commits_nothing(table_path, operation):
    write_hudi(table_path, rows(range(10)), operation="bulk_insert", **SPEC)
    before = (timeline_files(table_path), data_files(table_path))
    bad = rows(range(100, 110)).set_column(0, "id", pa.array(["x"] * 5 + [None] + ["y"] * 4))
    with pytest.raises(SchemaError, match="row 5"):
        write_hudi(table_path, bad, operation=operation, **SPEC)
    assert (timeline_files(table_path), data_files(table_path)) == before
    assert len(HudiTable(table_path).read()) == 10


def test_a_wrongly_typed_column_raises_a_schema_error(table_path):
    write_hudi(table_path, rows(range(10)), operation="bulk_insert", **SPEC)
    before = timeline_files(table_path)
    bad = rows(range(10, 20)).set_column(1, "ts", pa.array(["soon"] * 10))
    with pytest.raises(SchemaError, match="ts"):
        write_hudi(table_path, bad, **SPEC)
    assert timeline_files(table_path) == before


def test_missing_tables_and_bad_arguments(tmp_path):
    with pytest.raises(TableNotFoundError):
        HudiTable(tmp_path / "nothing")
    with pytest.raises(TableNotFoundError, match="record_key"):
        write_hudi(tmp_path / "new", rows(range(3)))
    assert not (tmp_path / "new" / ".hoodie").exists()
    with pytest.raises(ValueError, match="operation"):
        write_hudi(tmp_path / "new", rows(range(3)), operation="merge", **SPEC)
    with pytest.raises(ValueError, match="table_type"):
        write_hudi(tmp_path / "new", rows(range(3)), table_type="HEAP", **SPEC)
    with pytest.raises(TypeError, match="cannot write"):
        write_hudi(tmp_path / "new", {"id": [1]}, **SPEC)


def test_a_writer_that_cannot_get_the_table_lock_raises_commit_conflict(table_path):
    """Another writer holds the table lock (Hudi's file-system lock, `.hoodie/lock`) past the
    wait: the write fails with CommitConflictError before it begins, leaving nothing behind,
    and goes through once the lock is released."""
    occ = {
        "hoodie.write.concurrency.mode": "optimistic_concurrency_control",
        "hoodie.write.lock.wait_time_ms": "300",
        "hoodie.clean.automatic": "false",
    }
    write_hudi(table_path, rows(range(30)), operation="bulk_insert", options=occ, **SPEC)
    lock = table_path / ".hoodie" / "lock"
    lock.write_bytes(b"")  # held, as a Java writer holds it
    before = (timeline_files(table_path), data_files(table_path))
    with pytest.raises(CommitConflictError, match="lock"):
        write_hudi(table_path, rows(range(30), ts=5, note="late"), options=occ, **SPEC)
    assert (timeline_files(table_path), data_files(table_path)) == before
    t = HudiTable(table_path)
    assert set(t.read().column("note").to_pylist()) == {f"a{i}" for i in range(30)}
    lock.unlink()
    m = write_hudi(table_path, rows(range(30), ts=6, note="retry"), options=occ, **SPEC)
    assert m["records_updated"] == 30


def test_a_record_key_that_is_not_a_column_creates_no_table(tmp_path):
    path = tmp_path / "t"
    with pytest.raises(SchemaError, match="no column 'idx'"):
        write_hudi(path, rows(range(3)), record_key="idx", partition_by="region", precombine="ts")
    assert not (path / ".hoodie").exists()
    # The corrected write creates the table as asked.
    write_hudi(path, rows(range(3)), **SPEC)
    assert HudiTable(path).properties()["hoodie.table.recordkey.fields"] == "id"


def test_a_failure_after_the_commit_says_the_write_committed(table_path):
    """The catalog sync after the commit cannot reach its metastore: AfterCommitError names
    the committed instant, and the rows are in the table."""
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sync = {
        "hoodie.datasource.hive_sync.enable": "true",
        "hoodie.datasource.hive_sync.mode": "hms",
        "hoodie.datasource.hive_sync.metastore.uris": f"thrift://127.0.0.1:{port}",
    }
    with pytest.raises(hudi_rust.AfterCommitError) as e:
        write_hudi(table_path, rows(range(5)), options=sync, **SPEC)
    committed = [i for i in HudiTable(table_path).timeline() if i["state"] == "completed"]
    assert e.value.instant == committed[-1]["instant"]
    assert isinstance(e.value, HudiError)
    assert len(HudiTable(table_path).read()) == 5


def test_a_table_with_parts_we_do_not_maintain_refuses_every_mutation(table_path):
    """A metadata table another writer keeps (here named in hoodie.properties as Spark names
    it): every write and service raises RefusedError naming it, and nothing changes."""
    write_hudi(table_path, rows(range(10)), table_type="MERGE_ON_READ", **SPEC)
    write_hudi(table_path, rows(range(5)), table_type="MERGE_ON_READ", **SPEC)
    assert HudiTable(table_path).unmaintained() == []
    props = table_path / ".hoodie" / "hoodie.properties"
    props.write_text(props.read_text() + "hoodie.table.metadata.partitions=files\n")
    before = sorted(str(p.relative_to(table_path)) for p in table_path.rglob("*"))
    t = HudiTable(table_path)
    assert len(t.unmaintained()) == 1 and "metadata table" in t.unmaintained()[0]
    mutations = [
        lambda: write_hudi(table_path, rows(range(5)), **SPEC),
        t.compact,
        t.clean,
        t.rollback,
        t.savepoint,
        t.archive,
    ]
    for mutate in mutations:
        with pytest.raises(RefusedError, match="metadata table"):
            mutate()
        assert sorted(str(p.relative_to(table_path)) for p in table_path.rglob("*")) == before
    assert t.clean(dry_run=True) is not None
    assert len(t.read()) == 10


def test_a_damaged_table_file_raises_corrupt_table_error(table_path):
    """An instant file that does not parse is the table's fault, not the input's: reads
    raise CorruptTableError naming the instant."""
    write_hudi(table_path, rows(range(5)), **SPEC)
    write_hudi(table_path, rows(range(3), ts=2), **SPEC)
    commit = sorted((table_path / ".hoodie").glob("*.commit"))[-1]
    commit.write_text("{ not json")
    with pytest.raises(CorruptTableError, match=commit.name.split(".")[0]):
        HudiTable(table_path).read()
