"""A stream larger than the write's memory budget is written batch by batch: the writing
process never holds it whole (measured in a process of its own)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from hudi_rust import HudiTable

BATCH = 20_000
BATCHES = 120  # 2.4M rows of about 400 bytes: about 960 MB of Arrow data

WRITER = textwrap.dedent(
    """
    import json, resource, sys
    import pyarrow as pa
    from hudi_rust import write_hudi

    path, operation, batch, batches = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    note = "x" * 360

    def gen():
        for b in range(batches):
            ids = range(b * batch, (b + 1) * batch)
            yield pa.record_batch({
                "id": pa.array([f"k{i:08d}" for i in ids]),
                "ts": pa.array([1] * batch, pa.int64()),
                "region": pa.array([("amer", "apac", "emea")[i % 3] for i in ids]),
                "note": pa.array([f"{i}{note}" for i in ids]),
            })

    schema = next(gen()).schema
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    reader = pa.RecordBatchReader.from_batches(schema, gen())
    m = write_hudi(path, reader, operation=operation, record_key="id", partition_by="region",
                   precombine="ts", options={"hoodie.write.spill.threshold.bytes": str(64 << 20)})
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"metrics": m, "baseline_mb": baseline, "peak_mb": peak}))
    """
)


@pytest.mark.parametrize("operation", ["bulk_insert", "upsert"])
def test_a_reader_larger_than_the_memory_budget_is_written_batch_by_batch(table_path, operation):
    out = subprocess.run(
        [sys.executable, "-c", WRITER, str(table_path), operation, str(BATCH), str(BATCHES)],
        capture_output=True, text=True, timeout=600,
    )
    assert out.returncode == 0, out.stderr
    r = json.loads(out.stdout.strip().splitlines()[-1])
    total = BATCH * BATCHES
    assert r["metrics"]["records_inserted"] == total
    grown = r["peak_mb"] - r["baseline_mb"]
    print(f"{operation}: peak RSS grew by {grown:.0f} MB")
    # About 960 MB went through. A bulk insert streams it into files; an upsert keeps each
    # row's key and ordering value (its index lookup and deduplication need them all) and
    # spills the rows past the budget: either holds a fraction of the input.
    limit = {"bulk_insert": 250, "upsert": 600}[operation]
    assert grown < limit, f"peak RSS grew by {grown:.0f} MB while writing"
    counted = sum(b.num_rows for b in HudiTable(table_path).to_batches(columns=["id"]))
    assert counted == total
