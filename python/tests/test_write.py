"""Writes from every kind of Arrow source, and every operation checked against a model by our
reader and hudi-rs."""

from __future__ import annotations

import pyarrow as pa
import pytest

from conftest import Model, canonical, data_files, hudi_rs_read, rows, timeline_files

import hudi_rust
from hudi_rust import HudiTable, write_hudi

SPEC = dict(record_key="id", partition_by="region", precombine="ts")


def test_a_pyarrow_table_round_trips_through_our_reader_and_hudi_rs(table_path):
    data = rows(range(100))
    m = write_hudi(table_path, data, operation="bulk_insert", **SPEC)
    assert m["records_inserted"] == 100 and m["operation"] == "BULK_INSERT"
    assert m["files_written"] == 3  # one file per partition
    want = canonical(data)
    t = HudiTable(table_path)
    assert canonical(t.read()) == want
    assert hudi_rs_read(table_path) == want
    assert t.properties()["hoodie.table.recordkey.fields"] == "id"
    assert [i["action"] for i in t.timeline()] == ["commit"]
    names = t.schema().names
    assert names[:5] == [
        "_hoodie_commit_time", "_hoodie_commit_seqno", "_hoodie_record_key",
        "_hoodie_partition_path", "_hoodie_file_name",
    ]
    assert names[5:] == ["id", "ts", "region", "note", "amount"]


def test_pandas_polars_batches_and_readers_are_written_alike(tmp_path):
    import pandas as pd
    import polars as pl

    data = rows(range(30))
    want = canonical(data)
    batch = data.combine_chunks().to_batches()[0]
    sources = {
        # pandas: its index is not a column.
        "pandas": data.to_pandas().set_index("id", drop=False),
        "polars": pl.from_arrow(data),  # strings as views, large types
        "batch": batch,
        "reader": pa.RecordBatchReader.from_batches(data.schema, data.to_batches(max_chunksize=7)),
        "batches": data.to_batches(max_chunksize=10),
    }
    assert isinstance(sources["pandas"], pd.DataFrame)
    for name, source in sources.items():
        path = tmp_path / name
        m = write_hudi(path, source, operation="insert", **SPEC)
        assert m["records_inserted"] == 30, name
        got = HudiTable(path).read()
        assert "__index_level_0__" not in got.column_names, name
        assert canonical(got) == want, name
        assert hudi_rs_read(path) == want, name


def test_hudi_option_keys_stand_for_the_keyword_arguments(table_path):
    opts = {
        "hoodie.table.name": "trips",
        "hoodie.datasource.write.recordkey.field": "id",
        "hoodie.datasource.write.partitionpath.field": "region",
        "hoodie.datasource.write.precombine.field": "ts",
        "hoodie.datasource.write.table.type": "MERGE_ON_READ",
        "hoodie.datasource.write.operation": "bulk_insert",
        "hoodie.datasource.write.keygenerator.class": "org.apache.hudi.keygen.SimpleKeyGenerator",
        "hoodie.datasource.write.hive_style_partitioning": "true",
    }
    m = write_hudi(table_path, rows(range(9)), options=opts)
    assert m["operation"] == "BULK_INSERT"
    props = HudiTable(table_path).properties()
    assert props["hoodie.table.name"] == "trips"
    assert props["hoodie.table.type"] == "MERGE_ON_READ"
    assert props["hoodie.datasource.write.hive_style_partitioning"] == "true"
    assert (table_path / "region=amer").is_dir()
    # A keyword argument wins over the option.
    m = write_hudi(table_path, rows(range(3)), operation="upsert", options=opts)
    assert m["operation"] == "UPSERT"


@pytest.mark.parametrize("table_type", ["COPY_ON_WRITE", "MERGE_ON_READ"])
def test_every_operation_matches_the_model(tmp_path, table_type):
    path = tmp_path / table_type
    model = Model()

    def step(data, operation, **kw):
        m = write_hudi(path, data, operation=operation, table_type=table_type, **SPEC, **kw)
        got = canonical(HudiTable(path).read())
        assert got == model.sorted(), operation
        assert hudi_rs_read(path) == model.sorted(), operation
        return m

    first = rows(range(60))
    model.upsert(first)
    step(first, "bulk_insert")

    up = rows(range(50, 80), ts=2, note="u")
    model.upsert(up)
    m = step(up, "upsert")
    assert (m["records_updated"], m["records_inserted"]) == (10, 20)

    ins = rows(range(80, 90), ts=3, note="i")
    model.upsert(ins)
    step(ins, "insert")

    gone = rows(range(0, 10))
    model.delete(gone)
    m = step(gone, "delete")
    assert m["records_deleted"] == 10

    flagged = rows(range(10, 20), ts=4, deleted={10, 11, 12})
    model.upsert(flagged)
    step(flagged, "upsert")

    over = rows([21, 24, 27, 300], ts=5, note="o")  # amer only
    model.overwrite_partitions(over)
    step(over, "insert_overwrite")

    model.drop_partitions(["apac"])
    m = write_hudi(path, pa.table({"id": pa.array([], pa.string())}), operation="delete_partition",
                   partitions=["apac"], table_type=table_type, **SPEC)
    assert m["file_groups_replaced"] > 0
    assert canonical(HudiTable(path).read()) == model.sorted()

    everything = rows(range(500, 520), ts=6, note="t")
    model.rows = {}
    model.upsert(everything)
    step(everything, "insert_overwrite_table")

    actions = {i["action"] for i in HudiTable(path).timeline()}
    expected = {"replacecommit", "deltacommit" if table_type == "MERGE_ON_READ" else "commit"}
    assert expected <= actions


def test_time_travel_and_incremental_reads(table_path):
    write_hudi(table_path, rows(range(10)), operation="bulk_insert", **SPEC)
    write_hudi(table_path, rows(range(5, 15), ts=2, note="b"), **SPEC)
    t = HudiTable(table_path)
    first, second = [i["instant"] for i in t.timeline()]
    assert len(t.read(as_of=first)) == 10
    assert t.read(as_of=first).column("note").to_pylist().count("b5") == 0
    changed = t.read(incremental=(first, None))
    assert sorted(changed.column("id").to_pylist()) == [f"k{i:05d}" for i in range(5, 15)]
    assert len(t.read(incremental=("0", second))) == 15
    assert t.read(columns=["note", "id"]).column_names == ["note", "id"]
    with pytest.raises(ValueError, match="as_of"):
        t.read(as_of="yesterday")


def test_a_reader_streams_batches_without_reading_the_whole_table(table_path):
    write_hudi(table_path, rows(range(30_000)), operation="bulk_insert", **SPEC)
    reader = HudiTable(table_path).to_batches(columns=["id"])
    assert isinstance(reader, pa.RecordBatchReader)
    first = reader.read_next_batch()
    assert 0 < first.num_rows <= 30_000
    total = first.num_rows + sum(b.num_rows for b in reader)
    assert total == 30_000


def test_the_gil_is_released_while_rust_writes_and_reads(tmp_path):
    """Python threads run while a write (and a read) works: the gaps between a busy loop's
    iterations stay far below the write's duration."""
    import threading
    import time

    data = rows(range(200_000))
    done = threading.Event()
    took = {}

    def writer():
        start = time.perf_counter()
        write_hudi(tmp_path / "t", data, operation="bulk_insert", **SPEC)
        HudiTable(tmp_path / "t").read()
        took["s"] = time.perf_counter() - start
        done.set()

    th = threading.Thread(target=writer)
    last, gap, spins = time.perf_counter(), 0.0, 0
    th.start()
    while not done.is_set():
        now = time.perf_counter()
        gap, last, spins = max(gap, now - last), now, spins + 1
    th.join()
    assert took["s"] > 0.2, "the write is long enough to tell"
    assert gap < took["s"] / 2, f"main thread stalled {gap:.3f}s of a {took['s']:.3f}s write"
    assert spins > 1000
