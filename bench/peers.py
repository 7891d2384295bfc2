#!/usr/bin/env python3
"""One peer operation, timed, in its own process (so that its peak RSS is its own).

    peers.py OP [ARGS...]

Prints one JSON object: {"seconds": s, "rows": n, "bytes": b}. `seconds` covers the
operation only: loading the Arrow input (memory-mapped) happens before the clock starts.

Operations (input files are the generator's Arrow IPC files):
  pq_write_part  INPUT OUT          pyarrow.dataset.write_dataset, hive partitioned by country, snappy
  pq_read_part   DIR                pyarrow.dataset(DIR, hive).to_table()
  pq_rewrite     TABLE OUT          read the latest base file of every file group of a Hudi table
                                    with pyarrow and write each again (snappy): the Parquet work
                                    a compaction cannot avoid
  delta_append   INPUT OUT          deltalake.write_deltalake(mode=append, partition_by=[country])
  delta_merge    INPUT TABLE        MERGE ON event_id: update all matched, insert the rest
  delta_read     TABLE              DeltaTable(TABLE).to_pyarrow_table()
  hudirs_read    TABLE MODE [START] hudi-rs: snapshot | read_optimized | incremental (after START)
"""
from __future__ import annotations

import json
import os
import re
import sys
import time

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.ipc as ipc
import pyarrow.parquet as pq


def load(path: str) -> pa.Table:
    with pa.memory_map(path) as m:
        return ipc.open_file(m).read_all()


def parquet_bytes(path: str) -> int:
    total = 0
    for d, _, files in os.walk(path):
        total += sum(os.path.getsize(os.path.join(d, f)) for f in files if f.endswith(".parquet"))
    return total


def latest_base_files(table: str) -> list[str]:
    """The newest base file of each file group (by file id), skipping `.hoodie`."""
    name = re.compile(r"^(?P<fid>[0-9a-f-]+(?:-\d+)?)_[^_]+_(?P<instant>\d+)\.parquet$")
    newest: dict[tuple[str, str], tuple[str, str]] = {}
    for d, dirs, files in os.walk(table):
        dirs[:] = [x for x in dirs if not x.startswith(".")]
        for f in files:
            m = name.match(f)
            if m:
                key = (d, m["fid"])
                if key not in newest or newest[key][0] < m["instant"]:
                    newest[key] = (m["instant"], os.path.join(d, f))
    return [p for _, p in newest.values()]


def main() -> None:
    op, args = sys.argv[1], sys.argv[2:]
    snappy = ds.ParquetFileFormat().make_write_options(compression="snappy")
    rows = written = 0
    if op == "pq_write_part":
        t = load(args[0])
        start = time.perf_counter()
        ds.write_dataset(t, args[1], format="parquet", file_options=snappy, partitioning=["country"],
                         partitioning_flavor="hive", existing_data_behavior="overwrite_or_ignore")
        rows, written = t.num_rows, parquet_bytes(args[1])
    elif op == "pq_read_part":
        start = time.perf_counter()
        rows = ds.dataset(args[0], format="parquet", partitioning="hive").to_table().num_rows
    elif op == "pq_rewrite":
        files = latest_base_files(args[0])
        os.makedirs(args[1], exist_ok=True)
        start = time.perf_counter()
        for i, f in enumerate(files):
            t = pq.read_table(f)
            pq.write_table(t, os.path.join(args[1], f"{i}.parquet"), compression="snappy")
            rows += t.num_rows
        written = parquet_bytes(args[1])
    elif op == "delta_append":
        from deltalake import WriterProperties, write_deltalake
        t = load(args[0])
        start = time.perf_counter()
        write_deltalake(args[1], t, mode="append", partition_by=["country"],
                        writer_properties=WriterProperties(compression="SNAPPY"))
        rows, written = t.num_rows, parquet_bytes(args[1])
    elif op == "delta_merge":
        from deltalake import DeltaTable, WriterProperties
        t = load(args[0])
        before = parquet_bytes(args[1])
        start = time.perf_counter()
        (DeltaTable(args[1])
         .merge(source=t, predicate="t.event_id = s.event_id", source_alias="s", target_alias="t",
                writer_properties=WriterProperties(compression="SNAPPY"))
         .when_matched_update_all().when_not_matched_insert_all().execute())
        rows, written = t.num_rows, parquet_bytes(args[1]) - before
    elif op == "delta_read":
        from deltalake import DeltaTable
        start = time.perf_counter()
        rows = DeltaTable(args[0]).to_pyarrow_table().num_rows
    elif op == "hudirs_read":
        from hudi import HudiQueryType, HudiReadOptions, HudiTableBuilder
        path, mode = os.path.abspath(args[0]), args[1]
        start = time.perf_counter()
        o = HudiReadOptions()
        if mode == "read_optimized":
            o = o.with_hudi_option("hoodie.read.use.read_optimized.mode", "true")
        elif mode == "incremental":
            o = o.with_query_type(HudiQueryType.Incremental).with_start_timestamp(args[2])
        batches = HudiTableBuilder.from_base_uri(path).build().read(o)
        rows = sum(b.num_rows for b in batches)
    else:
        raise SystemExit(f"unknown operation {op}")
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "rows": rows, "bytes": written}), flush=True)
    # Skip interpreter teardown: deltalake's runtime threads have aborted it now and then.
    os._exit(0)


if __name__ == "__main__":
    main()
