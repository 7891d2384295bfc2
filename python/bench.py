#!/usr/bin/env python3
"""write_hudi against deltalake's write_deltalake and DeltaTable.merge, on the same Arrow
input (../shared/bench/gen_clickstream.py's 5M-row clickstream and its 500k-row upsert batch,
memory-mapped before the clock starts), each measurement in a process of its own, runs
alternating, medians printed.

    python/bench.py --data ~/.cache/hudi-bench/data [--runs 3] [--work DIR]

Run it in the venv python/test.sh makes (hudi_rust, deltalake and pyarrow installed); the data
comes from bench/run.sh (or gen_clickstream.py --rows 5000000 --upsert 500000).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

# The installed package, not its sources beside this script.
sys.path = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]

SNAPPY = {"hoodie.parquet.compression.codec": "snappy", "hoodie.compact.inline": "false"}
SPEC = dict(record_key="event_id", partition_by="country", precombine="ts")


def load(path):
    import pyarrow as pa
    import pyarrow.ipc as ipc

    with pa.memory_map(path) as m:
        return ipc.open_file(m).read_all()


def one(op: str, data: str, table: str) -> None:
    """One measurement: prints {"seconds", "rows", "peak_rss_mb"}."""
    import resource

    t = load(data)
    start = time.perf_counter()
    if op.startswith("hudi_"):
        from hudi_rust import write_hudi

        kind = "MERGE_ON_READ" if op.endswith("_mor") else "COPY_ON_WRITE"
        operation = "bulk_insert" if op.startswith("hudi_bulk") else "upsert"
        write_hudi(table, t, operation=operation, table_type=kind, options=SNAPPY, **SPEC)
    elif op == "delta_append":
        from deltalake import WriterProperties, write_deltalake

        write_deltalake(table, t, mode="append", partition_by=["country"],
                        writer_properties=WriterProperties(compression="SNAPPY"))
    elif op == "delta_merge":
        from deltalake import DeltaTable, WriterProperties

        (DeltaTable(table)
         .merge(source=t, predicate="t.event_id = s.event_id", source_alias="s", target_alias="t",
                writer_properties=WriterProperties(compression="SNAPPY"))
         .when_matched_update_all().when_not_matched_insert_all().execute())
    else:
        raise SystemExit(f"unknown operation {op}")
    seconds = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "rows": t.num_rows, "peak_rss_mb": round(rss)}), flush=True)
    os._exit(0)  # deltalake's runtime threads have aborted interpreter teardown now and then


def measure(op: str, data: str, table: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--one", op, data, table],
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{op} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--one", nargs=3, metavar=("OP", "DATA", "TABLE"), help=argparse.SUPPRESS)
    ap.add_argument("--data", default=os.path.expanduser("~/.cache/hudi-bench/data"))
    ap.add_argument("--work", default="/tmp/hudi-python-bench")
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    if a.one:
        one(*a.one)
        return
    base = os.path.join(a.data, "clickstream_5m.arrow")
    ups = os.path.join(a.data, "clickstream_upsert_500k.arrow")
    results: dict = {}
    for run in range(a.runs):
        shutil.rmtree(a.work, ignore_errors=True)
        os.makedirs(a.work)
        for system, bulk, upsert in (("hudi", "hudi_bulk", "hudi_upsert"),
                                     ("hudi_mor", "hudi_bulk_mor", "hudi_upsert_mor"),
                                     ("delta", "delta_append", "delta_merge")):
            table = os.path.join(a.work, system)
            for op, data in ((bulk, base), (upsert, ups)):
                r = measure(op, data, table)
                results.setdefault(op, []).append(r)
                print(json.dumps({"run": run, "op": op, **r}), flush=True)
    med = {op: statistics.median(r["seconds"] for r in rs) for op, rs in results.items()}
    rss = {op: max(r["peak_rss_mb"] for r in rs) for op, rs in results.items()}
    print(f"\n{'workload':<22}{'write_hudi s':>14}{'deltalake s':>14}{'ratio':>8}")
    for name, ours, theirs in (("bulk write 5M (COW)", "hudi_bulk", "delta_append"),
                               ("bulk write 5M (MOR)", "hudi_bulk_mor", "delta_append"),
                               ("upsert 500k (COW)", "hudi_upsert", "delta_merge"),
                               ("upsert 500k (MOR)", "hudi_upsert_mor", "delta_merge")):
        print(f"{name:<22}{med[ours]:>14.2f}{med[theirs]:>14.2f}{med[theirs] / med[ours]:>8.2f}"
              f"   (peak RSS {rss[ours]} / {rss[theirs]} MB)")


if __name__ == "__main__":
    main()
