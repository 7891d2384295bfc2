#!/usr/bin/env python3
"""The benchmark's workloads on Apache Hudi 0.15 on Spark (local[2]), in one SparkSession.

    spark_bench.py BASE.parquet UPSERT.parquet WORK_DIR [OUR_MOR_TABLE_COPY]

Runs bulk_insert (COW and MOR), upsert with the Bloom index (COW and MOR), snapshot reads
(every column materialised through Spark's `noop` sink) and compaction of a copy of our
MOR table after its upsert.
The inputs are cached in Spark's memory before any clock starts, and the session's start-up
is not timed. Prints one JSON line per workload ({"workload", "seconds", "rows"}), then one
with the JVM's peak resident memory ({"jvm_peak_rss_mb"}).
"""
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "interop", "spark"))
# spark_server imports the shared oracle's canonical rows.
sys.path.insert(0, os.environ.get("HUDI_SHARED_ORACLE", os.path.join(HERE, "..", "..", "shared", "oracle")))
import spark_server  # noqa: E402


def options(name, table_type, operation):
    return {
        "hoodie.table.name": name,
        "hoodie.datasource.write.recordkey.field": "event_id",
        "hoodie.datasource.write.partitionpath.field": "country",
        "hoodie.datasource.write.precombine.field": "ts",
        "hoodie.datasource.write.table.type": table_type,
        "hoodie.datasource.write.operation": operation,
        "hoodie.parquet.compression.codec": "snappy",
        "hoodie.index.type": "BLOOM",
        "hoodie.metadata.enable": "false",
        "hoodie.compact.inline": "false",
        "hoodie.bulkinsert.shuffle.parallelism": "2",
        "hoodie.upsert.shuffle.parallelism": "2",
        "hoodie.insert.shuffle.parallelism": "2",
    }


def main():
    base_path, upsert_path, work = sys.argv[1:4]
    spark = spark_server.session(os.environ["HUDI_SPARK_BUNDLE"])
    base = spark.read.parquet(base_path).cache()
    ups = spark.read.parquet(upsert_path).cache()
    n_base, n_ups = base.count(), ups.count()

    def timed(workload, rows, fn):
        start = time.perf_counter()
        fn()
        print(json.dumps({"workload": workload, "seconds": time.perf_counter() - start, "rows": rows}),
              flush=True)

    def write(df, path, table_type, operation, mode):
        df.write.format("hudi").options(**options(os.path.basename(path), table_type, operation)) \
            .mode(mode).save(path)

    def read(path):
        spark.read.format("hudi").option("hoodie.metadata.enable", "false").load(path) \
            .write.format("noop").mode("overwrite").save()

    n_after = n_base + n_ups - n_ups // 2
    for kind, table_type in (("cow", "COPY_ON_WRITE"), ("mor", "MERGE_ON_READ")):
        path = os.path.join(work, f"spark_{kind}")
        timed(f"bulk_insert_{kind}", n_base, lambda: write(base, path, table_type, "bulk_insert", "overwrite"))
        timed(f"upsert_{kind}_bloom", n_ups, lambda: write(ups, path, table_type, "upsert", "append"))
        timed(f"read_{kind}", n_after, lambda: read(path))
    # Spark's own MOR upsert rewrites small base files instead of logging (nothing would be
    # left to compact): it compacts a copy of our MOR table, whose upsert went to logs.
    if len(sys.argv) > 4:
        ours_mor = sys.argv[4]
        instants = []
        timed("compaction_mor", n_base, lambda: instants.extend(r[0] for r in spark.sql(
            f"CALL run_compaction(op => 'scheduleAndExecute', path => '{ours_mor}', "
            "options => 'hoodie.compact.inline.max.delta.commits=1,hoodie.parquet.compression.codec=snappy')"
        ).collect()))
        assert instants, "Spark compacted nothing"
    pid = spark._jvm.java.lang.ProcessHandle.current().pid()
    with open(f"/proc/{pid}/status") as f:
        hwm_kb = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
    print(json.dumps({"jvm_peak_rss_mb": hwm_kb / 1024}), flush=True)
    spark.stop()


if __name__ == "__main__":
    main()
