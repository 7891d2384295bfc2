"""Compacts a merge-on-read table with Apache Hudi on Spark and reports what it took.

Usage: bench_compaction.py SHARED_ORACLE_DIR TABLE_PATH
Prints one JSON line: seconds for the run_compaction call (Spark started beforehand), the
records the compaction wrote, and the JVM's peak resident memory (VmHWM).
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import spark_server  # noqa: E402

bundle = os.environ["HUDI_SPARK_BUNDLE"]
path = sys.argv[2]
spark = spark_server.session(bundle)
t = time.time()
rows = spark.sql(
    f"CALL run_compaction(op => 'scheduleAndExecute', path => '{path}', "
    "options => 'hoodie.compact.inline.max.delta.commits=1')").collect()
seconds = time.time() - t
pid = spark._jvm.java.lang.ProcessHandle.current().pid()
hwm_kb = 0
with open(f"/proc/{pid}/status") as f:
    for line in f:
        if line.startswith("VmHWM:"):
            hwm_kb = int(line.split()[1])
print(json.dumps({"engine": "spark", "seconds": seconds, "instants": [r[0] for r in rows],
                  "jvm_peak_rss_mb": hwm_kb / 1024}))
