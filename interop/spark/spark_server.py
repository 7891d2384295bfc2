"""One long-lived local SparkSession with Apache Hudi, driven by JSON lines on stdin.

Start: python spark_server.py SHARED_ORACLE_DIR   (HUDI_SPARK_BUNDLE = the bundle jar, or a
       comma-separated list of jars beginning with it, as spark.jars takes them)
Prints {"ready": true, ...} once Spark is up, then answers one JSON line per request:

  {"id": 1, "op": "read", "path": P, "mode": "snapshot|read_optimized|incremental|as_of",
   "start": T, "end": T, "as_of": T, "columns": [..], "options": {..}}
      -> {"id": 1, "rows": [canonical JSON lines, as shared/oracle/read_oracle.py makes them]}
  {"id": 2, "op": "sql", "sql": "CALL show_commits(...)"}      -> {"rows": [...]}
  {"id": 3, "op": "write", "path": P, "input": "rows.parquet", "options": {..},
   "mode": "append|overwrite", "comments": {column: text}}     -> {"ok": true}
      (comments: Spark column comments, which Hudi writes as the docs of the Avro fields)
  {"id": 4, "op": "ping"}                                       -> {"ok": true}

A failure answers {"error": "...", "java": "class: message <- cause ..."} and the server goes on.
Spark's own logging goes to stderr.
"""
import json
import os
import sys
import traceback

sys.path.insert(0, sys.argv[1])  # shared/oracle: canonical rows
import pyarrow as pa  # noqa: E402
import read_oracle as ro  # noqa: E402
from pyspark.sql import SparkSession  # noqa: E402

QUERY_TYPES = {"snapshot": "snapshot", "as_of": "snapshot", "read_optimized": "read_optimized",
               "incremental": "incremental"}

# Defaults for every write: small parallelism for local[2], no metadata table (we neither read
# nor write it), no embedded timeline server (one less port per write client).
WRITE_DEFAULTS = {
    "hoodie.metadata.enable": "false",
    "hoodie.upsert.shuffle.parallelism": "2",
    "hoodie.insert.shuffle.parallelism": "2",
    "hoodie.bulkinsert.shuffle.parallelism": "2",
    "hoodie.delete.shuffle.parallelism": "2",
}


def session(bundle):
    spark = (SparkSession.builder.master("local[2]")
             .appName("hudi-rust-spark-oracle")
             .config("spark.jars", bundle)
             .config("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
             .config("spark.kryo.registrator", "org.apache.spark.HoodieSparkKryoRegistrar")
             .config("spark.sql.extensions", "org.apache.spark.sql.hudi.HoodieSparkSessionExtension")
             .config("spark.sql.catalog.spark_catalog",
                     "org.apache.spark.sql.hudi.catalog.HoodieCatalog")
             .config("spark.ui.enabled", "false")
             .config("spark.driver.memory", os.environ.get("HUDI_SPARK_DRIVER_MEMORY", "2g"))
             .config("spark.sql.shuffle.partitions", "2")
             .config("spark.default.parallelism", "2")
             .config("spark.sql.session.timeZone", "UTC")
             .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC -XX:-OmitStackTraceInFastThrow")
             .config("spark.sql.warehouse.dir", os.environ.get("HUDI_SPARK_WAREHOUSE", "/tmp/hudi-spark-warehouse"))
             .config("hoodie.metadata.enable", "false")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    spark.sql("set hoodie.metadata.enable=false")
    return spark


def arrow_table(df):
    from pyspark.sql.pandas.types import to_arrow_schema
    schema = to_arrow_schema(df.schema)
    batches = df._collect_as_arrow()
    return pa.Table.from_batches(batches, schema=schema) if batches else schema.empty_table()


def do_read(spark, req):
    mode = req.get("mode", "snapshot")
    r = spark.read.format("hudi").option("hoodie.datasource.query.type", QUERY_TYPES[mode])
    r = r.option("hoodie.metadata.enable", "false")
    if mode == "incremental":
        r = r.option("hoodie.datasource.read.begin.instanttime", req["start"])
        if req.get("end"):
            r = r.option("hoodie.datasource.read.end.instanttime", req["end"])
    if req.get("as_of"):
        r = r.option("as.of.instant", req["as_of"])
    for k, v in (req.get("options") or {}).items():
        r = r.option(k, v)
    df = r.load(req["path"])
    if req.get("columns"):
        df = df.select(*req["columns"])
    return {"rows": ro.canonical_rows(arrow_table(df))}


def do_sql(spark, req):
    df = spark.sql(req["sql"])
    return {"rows": ro.canonical_rows(arrow_table(df), sort_by_row=True)}


def do_write(spark, req):
    df = spark.read.parquet(req["input"])
    for column, text in (req.get("comments") or {}).items():
        df = df.withMetadata(column, {"comment": text})
    opts = dict(WRITE_DEFAULTS)
    opts.update(req.get("options") or {})
    df.write.format("hudi").options(**opts).mode(req.get("mode", "append")).save(req["path"])
    return {"ok": True}


def java_chain(e):
    """'class: message <- cause: message ...' of a Py4J Java exception and the first frames
    of its root cause, else None."""
    je = getattr(e, "java_exception", None)
    parts, root = [], None
    while je is not None and len(parts) < 8:
        parts.append(str(je.toString()))
        root = je
        je = je.getCause()
    if not parts:
        return None
    frames = [str(f.toString()) for f in list(root.getStackTrace())[:12]]
    return " <- ".join(parts) + "\n  at " + "\n  at ".join(frames)


def main():
    # Answers go to the original stdout; everything else written to fd 1 (the JVM's own
    # System.out among it) goes to stderr, so that no stray line enters the protocol.
    proto = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    bundle = os.environ["HUDI_SPARK_BUNDLE"]
    spark = session(bundle)
    version = spark.sparkContext._jvm.org.apache.hudi.common.util.HoodieTimer  # loads the bundle
    del version
    print(json.dumps({"ready": True, "spark": spark.version}), file=proto, flush=True)
    ops = {"read": do_read, "sql": do_sql, "write": do_write, "ping": lambda s, r: {"ok": True}}
    for line in sys.stdin:
        req = json.loads(line)
        out = {"id": req.get("id")}
        try:
            out.update(ops[req["op"]](spark, req))
        except Exception as e:  # noqa: BLE001 - report, keep serving
            out["error"] = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
            chain = java_chain(e)
            if chain:
                out["java"] = chain
            else:
                out["trace"] = traceback.format_exc(limit=3)
        print(json.dumps(out), file=proto, flush=True)
    spark.stop()


if __name__ == "__main__":
    main()
