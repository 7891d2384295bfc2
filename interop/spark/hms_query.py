"""Queries through a Hive metastore with Spark (Hive support on) and Apache Hudi.

Usage: python hms_query.py SHARED_ORACLE_DIR THRIFT_URI QUERY...   (HUDI_SPARK_BUNDLE = the jar)
Prints one JSON line per query: {"query": Q, "rows": [canonical JSON lines]} or
{"query": Q, "error": "..."}; Spark's own logging goes to stderr.
"""
import json
import os
import sys
import tempfile

sys.path.insert(0, sys.argv[1])  # shared/oracle: canonical rows
import pyarrow as pa  # noqa: E402
import read_oracle as ro  # noqa: E402
from pyspark.sql import SparkSession  # noqa: E402


def main():
    proto = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    uri, queries = sys.argv[2], sys.argv[3:]
    warehouse = tempfile.mkdtemp(prefix="hudi-hms-spark-")
    spark = (SparkSession.builder.master("local[2]")
             .appName("hudi-rust-hms-query")
             .config("spark.jars", os.environ["HUDI_SPARK_BUNDLE"])
             .config("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
             .config("spark.kryo.registrator", "org.apache.spark.HoodieSparkKryoRegistrar")
             .config("spark.sql.extensions", "org.apache.spark.sql.hudi.HoodieSparkSessionExtension")
             .config("spark.sql.catalog.spark_catalog",
                     "org.apache.spark.sql.hudi.catalog.HoodieCatalog")
             .config("spark.ui.enabled", "false")
             .config("spark.sql.shuffle.partitions", "2")
             .config("spark.sql.session.timeZone", "UTC")
             .config("spark.sql.warehouse.dir", warehouse)
             # Derby's log goes to the warehouse, not the working directory.
             .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={warehouse}")
             .config("spark.hadoop.hive.metastore.uris", uri)
             .config("hoodie.metadata.enable", "false")
             .enableHiveSupport()
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    from pyspark.sql.pandas.types import to_arrow_schema
    for q in queries:
        out = {"query": q}
        try:
            df = spark.sql(q)
            schema = to_arrow_schema(df.schema)
            batches = df._collect_as_arrow()
            table = pa.Table.from_batches(batches, schema=schema) if batches else schema.empty_table()
            out["rows"] = ro.canonical_rows(table, sort_by_row=True)
        except Exception as e:  # noqa: BLE001 - report and go on
            out["error"] = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
        print(json.dumps(out), file=proto, flush=True)
    spark.stop()


if __name__ == "__main__":
    main()
