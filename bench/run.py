#!/usr/bin/env python3
"""The benchmark runner: our `hudi` binary against its peers on the same Arrow input.

Started by `bench/run.sh`, which builds the release binary, installs the peers and
generates the data. Every measurement is one process, timed by its wall clock (ours: the
whole `hudi` command, start-up included; peers: the operation only, after their input is
loaded), with its own peak RSS (wait4). Runs alternate (ours, peers, Spark) and each figure
is the median of the runs. Prints one JSON line per measurement and, at the end, a table:
ours, the peer, the ratio peer time / our time, and the issue's target for it.
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

HERE = os.path.dirname(os.path.abspath(__file__))
PEERS = os.path.join(HERE, "peers.py")
SPARK = os.path.join(HERE, "spark_bench.py")

# (our workload, peer, target ratio peer/ours or None)
TARGETS = [
    ("bulk_insert_cow", "pyarrow_write_part", 1.0),
    ("bulk_insert_cow", "delta_append", None),
    ("bulk_insert_cow", "spark:bulk_insert_cow", 5.0),
    ("upsert_cow_bloom", "delta_merge", 2.0),
    ("upsert_cow_bloom", "spark:upsert_cow_bloom", 5.0),
    ("bulk_insert_mor", "spark:bulk_insert_mor", 5.0),
    ("bulk_insert_mor_bucket", None, None),
    ("upsert_mor_bloom", "delta_merge", 10.0),
    ("upsert_mor_bloom", "spark:upsert_mor_bloom", 5.0),
    ("upsert_mor_bucket", "delta_merge", 10.0),
    ("read_cow", "hudirs_read_cow", 1.5),
    ("read_cow", "spark:read_cow", 5.0),
    ("read_cow", "pyarrow_read_part", None),
    ("read_cow", "delta_read", None),
    ("read_mor", "hudirs_read_mor", 1.5),
    ("read_mor", "spark:read_mor", 5.0),
    ("read_mor_ro", "hudirs_read_mor_ro", 1.5),
    ("read_mor_incr", "hudirs_read_mor_incr", 1.5),
    ("compaction_mor", "pyarrow_rewrite", 0.7),
    ("compaction_mor", "spark:compaction_mor", 5.0),
    ("clean_cow", None, None),
    ("p7000_bulk_insert_mor", None, None),
    ("p7000_upsert_mor", None, None),
]


class Bench:
    def __init__(self, a):
        self.a = a
        self.results: list[dict] = []
        self.out = open(a.out, "w") if a.out else None

    def record(self, system, workload, run, seconds, rows, bytes_written=0, rss_mb=0.0, **extra):
        r = {"system": system, "workload": workload, "run": run, "seconds": round(seconds, 4),
             "rows": rows, "rows_per_s": int(rows / seconds) if seconds > 0 else None,
             "bytes_written": bytes_written, "peak_rss_mb": round(rss_mb, 1), **extra}
        self.results.append(r)
        line = json.dumps(r)
        print(line, flush=True)
        if self.out:
            self.out.write(line + "\n")
            self.out.flush()
        return r

    def run(self, argv, env=None):
        """Runs argv; returns (wall seconds, this child's own peak RSS in MB (wait4), stdout)."""
        import tempfile
        with tempfile.TemporaryFile() as err:
            start = time.perf_counter()
            p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err, env=env)
            out = p.stdout.read()
            _, status, ru = os.wait4(p.pid, 0)
            seconds = time.perf_counter() - start
            p.returncode = os.waitstatus_to_exitcode(status)
            p.stdout.close()
            if p.returncode != 0:
                err.seek(0)
                tail = err.read().decode(errors="replace")[-3000:]
                raise SystemExit(f"{' '.join(argv)} failed ({p.returncode}):\n{tail}")
        return seconds, ru.ru_maxrss / 1024, out.decode()

    # ---- ours -------------------------------------------------------------------------------
    def hudi(self, workload, run, rows, *args, rows_key="rows"):
        seconds, rss, out = self.run([self.a.hudi, *args])
        doc = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
        written = doc.get("bytes_written", 0) or 0
        if rows_key in doc:
            rows = doc[rows_key]
        return self.record("ours", workload, run, seconds, rows, written, rss), doc

    def ours_writes(self, run, work, base, ups, n_base, n_ups):
        common = ["--record-key", "event_id", "--partition-by", "country", "--precombine", "ts",
                  "--option", "hoodie.parquet.compression.codec=snappy",
                  "--option", "hoodie.compact.inline=false", "--json"]
        cow, mor, bucket = (os.path.join(work, x) for x in ("cow", "mor", "mor_bucket"))
        self.hudi("bulk_insert_cow", run, n_base, "write", cow, "--input", base, "--operation", "bulk_insert",
                  "--type", "cow", *common)
        self.hudi("upsert_cow_bloom", run, n_ups, "write", cow, "--input", ups, "--operation", "upsert",
                  "--index", "bloom", *common)
        _, first = self.hudi("bulk_insert_mor", run, n_base, "write", mor, "--input", base, "--operation",
                             "bulk_insert", "--type", "mor", *common)
        self.hudi("upsert_mor_bloom", run, n_ups, "write", mor, "--input", ups, "--operation", "upsert",
                  "--index", "bloom", *common)
        bk = ["--index", "bucket", "--buckets", str(self.a.buckets)]
        self.hudi("bulk_insert_mor_bucket", run, n_base, "write", bucket, "--input", base, "--operation",
                  "bulk_insert", "--type", "mor", *bk, *common)
        self.hudi("upsert_mor_bucket", run, n_ups, "write", bucket, "--input", ups, "--operation", "upsert",
                  *bk, *common)
        return first["instant"]

    def ours_reads(self, run, work, n_after, first_instant):
        cow, mor = os.path.join(work, "cow"), os.path.join(work, "mor")
        self.hudi("read_cow", run, n_after, "read", cow, "--count", "--json")
        self.hudi("read_mor", run, n_after, "read", mor, "--count", "--json")
        self.hudi("read_mor_ro", run, 0, "read", mor, "--read-optimized", "--count", "--json")
        self.hudi("read_mor_incr", run, 0, "read", mor, "--incremental", "--start", first_instant, "--count",
                  "--json")

    def ours_services(self, run, work, n_after):
        cow, mor = os.path.join(work, "cow"), os.path.join(work, "mor")
        # Rows: those the compaction rewrote (file groups with logs; inserts went to new base files).
        self.hudi("compaction_mor", run, n_after, "compaction", "run", mor, "--schedule",
                  "--option", "hoodie.parquet.compression.codec=snappy", "--json",
                  rows_key="records_written")
        self.hudi("clean_cow", run, 0, "clean", cow, "--policy", "KEEP_LATEST_FILE_VERSIONS",
                           "--retain", "1", "--json")

    # ---- peers ------------------------------------------------------------------------------
    def peer(self, name, run, *args, python=None):
        seconds, rss, out = self.run([python or sys.executable, PEERS, *args])
        doc = json.loads(out.strip().splitlines()[-1])
        return self.record(name, name, run, doc["seconds"], doc["rows"], doc["bytes"], rss,
                           process_seconds=round(seconds, 3))

    def peer_writes(self, run, work, base, ups):
        pq, delta = os.path.join(work, "pq"), os.path.join(work, "delta")
        self.peer("pyarrow_write_part", run, "pq_write_part", base, pq)
        self.peer("pyarrow_read_part", run, "pq_read_part", pq)
        self.peer("delta_append", run, "delta_append", base, delta)
        self.peer("delta_merge", run, "delta_merge", ups, delta)
        self.peer("delta_read", run, "delta_read", delta)

    def hudirs_reads(self, run, ours, first_instant):
        cow, mor = os.path.join(ours, "cow"), os.path.join(ours, "mor")
        self.peer("hudirs_read_cow", run, "hudirs_read", cow, "snapshot")
        self.peer("hudirs_read_mor", run, "hudirs_read", mor, "snapshot")
        self.peer("hudirs_read_mor_ro", run, "hudirs_read", mor, "read_optimized")
        self.peer("hudirs_read_mor_incr", run, "hudirs_read", mor, "incremental", first_instant)

    def spark(self, run, work, base_pq, ups_pq, ours_mor):
        env = dict(os.environ)
        argv = [self.a.spark_python, SPARK, base_pq, ups_pq, work, ours_mor]
        seconds, rss, out = self.run(argv, env=env)
        docs = [json.loads(x) for x in out.splitlines() if x.startswith("{")]
        jvm = next((d["jvm_peak_rss_mb"] for d in docs if "jvm_peak_rss_mb" in d), 0.0)
        for d in docs:
            if "workload" in d:
                self.record("spark:" + d["workload"], "spark:" + d["workload"], run, d["seconds"], d["rows"],
                            0, jvm)

    # ---- seed 002: a table of 7000 partitions ----------------------------------------------
    def p7000(self, work):
        import numpy as np
        import pyarrow as pa
        import pyarrow.ipc as ipc

        parts, per = 7000, 100
        n = parts * per
        rng = np.random.Generator(np.random.PCG64(7000))

        def table(ids, ts):
            return pa.table({
                "event_id": pa.array([f"e{i:09d}" for i in ids]),
                "region": pa.array([f"r{i % parts:04d}" for i in ids]),
                "ts": pa.array(np.full(len(ids), ts, dtype=np.int64)),
                "value": pa.array(rng.random(len(ids))),
                "page": pa.array([f"/p/{i % 200}" for i in ids]),
            })

        def write_ipc(t, path):
            with pa.OSFile(path, "wb") as f, ipc.new_file(f, t.schema) as w:
                w.write_table(t)

        path = os.path.join(work, "p7000")
        shutil.rmtree(path, ignore_errors=True)
        os.makedirs(work, exist_ok=True)
        base = os.path.join(work, "p7000_base.arrow")
        write_ipc(table(range(n), 1), base)
        common = ["--record-key", "event_id", "--partition-by", "region", "--precombine", "ts", "--type", "mor",
                  "--option", "hoodie.parquet.compression.codec=snappy", "--option", "hoodie.compact.inline=false",
                  "--json"]
        self.hudi("p7000_bulk_insert_mor", 0, n, "write", path, "--input", base, "--operation", "bulk_insert",
                  *common)
        for run in range(self.a.runs):
            # 10k updates touching 100 partitions (a different hundred each run).
            touched = rng.choice(parts, size=100, replace=False)
            ids = [p + parts * k for p in touched for k in range(per)]
            up = os.path.join(work, f"p7000_up{run}.arrow")
            write_ipc(table(ids, 2 + run), up)
            self.hudi("p7000_upsert_mor", run, len(ids), "write", path, "--input", up, "--operation", "upsert",
                      "--index", "bloom", *common)

    # ---- the table ----------------------------------------------------------------------------
    def median(self, workload):
        xs = [r for r in self.results if r["workload"] == workload]
        if not xs:
            return None
        s = statistics.median(r["seconds"] for r in xs)
        return {"seconds": s, "rows": xs[0]["rows"], "rss": max(r["peak_rss_mb"] for r in xs),
                "bytes": statistics.median(r["bytes_written"] for r in xs), "n": len(xs)}

    def table(self):
        print()
        head = (f"{'workload':24s} {'rows':>9s} {'ours s':>8s} {'rows/s':>11s} {'MB out':>7s} {'RSS MB':>7s}  "
                f"{'peer':24s} {'peer s':>8s} {'ratio':>6s} {'target':>6s}  met")
        print(head)
        print("-" * len(head))
        summary = []
        for ours, peer, target in TARGETS:
            o = self.median(ours)
            if not o:
                continue
            p = self.median(peer) if peer else None
            ratio = p["seconds"] / o["seconds"] if p else None
            met = "" if target is None or ratio is None else ("yes" if ratio >= target else "NO")
            if ours == "p7000_upsert_mor":
                target, met = None, "yes" if o["seconds"] < 1.0 else "NO (< 1 s)"
            print(f"{ours:24s} {o['rows']:9d} {o['seconds']:8.2f} {int(o['rows'] / o['seconds']):11,d} "
                  f"{o['bytes'] / 1e6:7.0f} {o['rss']:7.0f}  {peer or '-':24s} "
                  f"{(p['seconds'] if p else float('nan')):8.2f} {(ratio or float('nan')):6.2f} "
                  f"{(target or float('nan')):6.1f}  {met}")
            summary.append({"workload": ours, "ours_s": o["seconds"], "peer": peer,
                            "peer_s": p["seconds"] if p else None, "ratio": ratio, "target": target,
                            "ours_peak_rss_mb": o["rss"], "runs": o["n"]})
        return summary

    def scaling(self, sizes, data_dir):
        print("\nscaling: bulk_insert into COW (snappy), ours against pyarrow's partitioned write")
        print(f"{'rows':>10s} {'ours s':>8s} {'s per 1M':>9s} {'RSS MB':>7s} {'pyarrow s':>10s} {'ratio':>6s}")
        for n in sizes:
            base = os.path.join(data_dir, data_name(n))
            ours, peer = [], []
            for run in range(self.a.runs):
                work = os.path.join(self.a.work, f"scale_{n}_{run}")
                shutil.rmtree(work, ignore_errors=True)
                os.makedirs(work)
                r, _ = self.hudi(f"scale_{n}", run, n, "write", os.path.join(work, "cow"), "--input", base,
                                 "--operation", "bulk_insert", "--record-key", "event_id", "--partition-by",
                                 "country", "--precombine", "ts", "--option",
                                 "hoodie.parquet.compression.codec=snappy", "--json")
                ours.append(r)
                peer.append(self.peer(f"scale_pyarrow_{n}", run, "pq_write_part", base, os.path.join(work, "pq")))
                shutil.rmtree(work, ignore_errors=True)
            o = statistics.median(r["seconds"] for r in ours)
            p = statistics.median(r["seconds"] for r in peer)
            print(f"{n:10d} {o:8.2f} {o / (n / 1e6):9.2f} {max(r['peak_rss_mb'] for r in ours):7.0f} "
                  f"{p:10.2f} {p / o:6.2f}", flush=True)


def data_name(n):
    return "clickstream_5m.arrow" if n == 5_000_000 else f"clickstream_{n}.arrow"


def upsert_name(u):
    return "clickstream_upsert_500k.arrow" if u == 500_000 else f"clickstream_upsert_{u}.arrow"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hudi", required=True, help="our release `hudi` binary")
    ap.add_argument("--data", required=True, help="directory of the generator's Arrow files")
    ap.add_argument("--work", required=True, help="scratch directory for the tables (emptied)")
    ap.add_argument("--rows", type=int, default=5_000_000)
    ap.add_argument("--upsert", type=int, default=500_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--spark-runs", type=int, default=None, help="Spark runs (default: --runs)")
    ap.add_argument("--buckets", type=int, default=8, help="buckets per partition (bucket index)")
    ap.add_argument("--spark-python", default=os.environ.get("HUDI_SPARK_PYTHON"))
    ap.add_argument("--no-spark", action="store_true")
    ap.add_argument("--no-p7000", action="store_true")
    ap.add_argument("--scaling", default="", help="comma-separated row counts for the scaling run")
    ap.add_argument("--only-scaling", action="store_true")
    ap.add_argument("--only-p7000", action="store_true", help="only the 7000-partition case")
    ap.add_argument("--out", help="also write the JSON lines here")
    a = ap.parse_args()
    b = Bench(a)
    os.makedirs(a.work, exist_ok=True)
    base = os.path.join(a.data, data_name(a.rows))
    ups = os.path.join(a.data, upsert_name(a.upsert))
    n_base, n_ups = a.rows, a.upsert
    n_after = n_base + n_ups - n_ups // 2
    spark_runs = a.runs if a.spark_runs is None else a.spark_runs
    if a.only_p7000:
        b.p7000(os.path.join(a.work, "p7000"))
        b.table()
        return
    if not a.only_scaling:
        for run in range(a.runs):
            ours = os.path.join(a.work, f"ours_{run}")
            peers = os.path.join(a.work, f"peers_{run}")
            for d in (ours, peers):
                shutil.rmtree(d, ignore_errors=True)
                os.makedirs(d)
            first = b.ours_writes(run, ours, base, ups, n_base, n_ups)
            b.peer_writes(run, peers, base, ups)
            b.ours_reads(run, ours, n_after, first)
            b.hudirs_reads(run, ours, first)
            spark = os.path.join(a.work, f"spark_{run}")
            with_spark = not a.no_spark and run < spark_runs
            if with_spark:
                shutil.rmtree(spark, ignore_errors=True)
                os.makedirs(spark)
                shutil.copytree(os.path.join(ours, "mor"), os.path.join(spark, "ours_mor"))
            b.ours_services(run, ours, n_after)
            b.peer("pyarrow_rewrite", run, "pq_rewrite", os.path.join(ours, "mor"), os.path.join(peers, "rewrite"))
            if with_spark:
                b.spark(run, spark, base[:-len(".arrow")] + ".parquet", ups[:-len(".arrow")] + ".parquet",
                        os.path.join(spark, "ours_mor"))
                shutil.rmtree(spark, ignore_errors=True)
            shutil.rmtree(ours, ignore_errors=True)
            shutil.rmtree(peers, ignore_errors=True)
        if not a.no_p7000:
            b.p7000(os.path.join(a.work, "p7000"))
            shutil.rmtree(os.path.join(a.work, "p7000"), ignore_errors=True)
        summary = b.table()
        if a.out:
            with open(a.out[:-len(".jsonl")] + ".summary.json" if a.out.endswith(".jsonl") else a.out + ".summary",
                      "w") as f:
                json.dump(summary, f, indent=1)
    if a.scaling:
        b.scaling([int(x) for x in a.scaling.split(",")], a.data)


if __name__ == "__main__":
    main()
