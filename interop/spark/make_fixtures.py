"""Generates the Spark-written read fixtures in testdata/spark/ with Apache Hudi 0.15 on Spark.

    python make_fixtures.py OUT_DIR [NAME ...]     (HUDI_SPARK_BUNDLE = the bundle jar)

Each fixture is a table version 6 table that went through what the hudi-rs test data lacks:
compaction, clean, clustering, rollback of a completed commit, savepoint and restore,
archival, logs written while a compaction was pending, multi-level partitions, the bucket
index, global-index partition moves, virtual keys (hoodie.populate.meta.fields=false). The
story of each is the function that makes it (see FIXTURES). OUT_DIR gets <name>.zip (the
table directory, without Hadoop's .crc files) and <name>.json (the steps, for readers of the
zip). Instant times are wall-clock times, so a regenerated zip differs from the kept one.
"""
import json
import os
import shutil
import sys
import tempfile
import zipfile
from datetime import date
from decimal import Decimal

from pyspark.sql import SparkSession
from pyspark.sql.types import (DateType, DecimalType, DoubleType, IntegerType, LongType,
                               StringType, StructField, StructType, BooleanType)

SCHEMA = StructType([
    StructField("id", IntegerType()), StructField("name", StringType()),
    StructField("region", StringType()), StructField("city", StringType()),
    StructField("ts", LongType()), StructField("amount", DoubleType()),
    StructField("dt", DateType()), StructField("price", DecimalType(10, 2)),
    StructField("_hoodie_is_deleted", BooleanType()),
])

REGIONS = ["americas", "asia", "europe"]
CITIES = ["north", "south"]


def row(i, ts, amount=None, region=None, deleted=False):
    return (i, f"name-{i}", region or REGIONS[i % 3], CITIES[i % 2], ts,
            float(amount if amount is not None else i * 1.5), date(2024, 1 + i % 12, 1 + i % 28),
            Decimal(f"{i}.{ts % 100:02d}"), deleted)


class Table:
    """One fixture table: its options and the log of what was done to it."""

    def __init__(self, spark, root, name, table_type, **extra):
        self.spark, self.name = spark, name
        self.path = os.path.join(root, name)
        self.steps = []
        self.opts = {
            "hoodie.table.name": name,
            "hoodie.datasource.write.table.type": table_type,
            "hoodie.datasource.write.recordkey.field": "id",
            "hoodie.datasource.write.partitionpath.field": "region",
            "hoodie.datasource.write.precombine.field": "ts",
            "hoodie.metadata.enable": "false",
            "hoodie.index.bloom.num_entries": "1000",
            "hoodie.upsert.shuffle.parallelism": "2",
            "hoodie.insert.shuffle.parallelism": "2",
            "hoodie.bulkinsert.shuffle.parallelism": "2",
            "hoodie.delete.shuffle.parallelism": "2",
            # Services run only when a fixture calls them.
            "hoodie.compact.inline": "false",
            "hoodie.clean.automatic": "false",
            "hoodie.archive.automatic": "false",
        }
        self.opts.update(extra)

    def write(self, op, rows, **extra):
        df = self.spark.createDataFrame(rows, SCHEMA)
        opts = dict(self.opts, **{"hoodie.datasource.write.operation": op}, **extra)
        df.write.format("hudi").options(**opts).mode("append").save(self.path)
        self.steps.append({"write": op, "ids": sorted({r[0] for r in rows}), "options": extra})

    def call(self, sql):
        if not self.spark.catalog.tableExists(self.name):
            self.spark.sql(f"CREATE TABLE {self.name} USING hudi LOCATION '{self.path}'")
        out = [r.asDict() for r in self.spark.sql(sql.format(t=self.name)).collect()]
        self.steps.append({"call": sql.format(t=self.name)})
        return out

    def latest(self, suffixes=(".commit", ".deltacommit", ".replacecommit")):
        names = sorted(f for f in os.listdir(os.path.join(self.path, ".hoodie"))
                       if f.endswith(suffixes) and f[0].isdigit())
        return names[-1].split(".")[0]


def mor_compacted(t):
    t.write("insert", [row(i, 1) for i in range(1, 9)])
    t.write("upsert", [row(i, 2, amount=i * 10) for i in (1, 2, 3)])
    t.write("upsert", [row(2, 3, amount=200), row(9, 1), row(4, 3, deleted=True)])
    t.call("CALL run_compaction(op => 'scheduleAndExecute', table => '{t}', "
           "options => 'hoodie.compact.inline.max.delta.commits=1')")
    t.write("upsert", [row(1, 4, amount=1000), row(5, 4, amount=500)])
    t.write("delete", [row(6, 5)])


def mor_pending_compaction_logs(t):
    t.write("insert", [row(i, 1) for i in range(1, 7)])
    t.write("upsert", [row(i, 2, amount=i * 10) for i in (1, 2)])
    t.call("CALL run_compaction(op => 'schedule', table => '{t}', "
           "options => 'hoodie.compact.inline.max.delta.commits=1')")
    # Written while the compaction is pending: these logs join the compaction's slice.
    t.write("upsert", [row(1, 3, amount=111), row(3, 3, amount=333), row(7, 1)])
    t.write("upsert", [row(2, 4, deleted=True)])


def mor_pending_compaction_then_run(t):
    mor_pending_compaction_logs(t)
    t.call("CALL run_compaction(op => 'run', table => '{t}')")
    t.write("upsert", [row(3, 5, amount=3333)])


def cow_clean(t):
    t.write("bulk_insert", [row(i, 1) for i in range(1, 7)])
    for ts in (2, 3, 4):
        t.write("upsert", [row(1, ts, amount=ts * 100), row(ts + 2, ts)])
    t.call("CALL run_clean(table => '{t}', retain_commits => 2)")
    t.write("upsert", [row(2, 9, amount=900)])


def mor_clean(t):
    cow_clean(t)


def cow_clustering(t):
    for n in range(3):
        t.write("insert", [row(i, 1) for i in range(1 + n * 4, 5 + n * 4)])
    t.call("CALL run_clustering(op => 'scheduleAndExecute', table => '{t}')")
    t.write("upsert", [row(1, 2, amount=42), row(20, 1)])


def mor_clustering(t):
    for n in range(3):
        t.write("insert", [row(i, 1) for i in range(1 + n * 4, 5 + n * 4)])
    t.write("upsert", [row(2, 2, amount=22)])
    t.call("CALL run_clustering(op => 'scheduleAndExecute', table => '{t}')")
    t.write("upsert", [row(1, 3, amount=42), row(20, 1)])


def cow_rollback_completed(t):
    t.write("insert", [row(i, 1) for i in range(1, 7)])
    t.write("upsert", [row(1, 2, amount=10), row(7, 1)])
    t.write("upsert", [row(1, 3, amount=99), row(8, 1)])
    t.call("CALL rollback_to_instant(table => '{t}', instant_time => '%s')" % t.latest())
    t.write("upsert", [row(2, 4, amount=20)])


def mor_rollback_completed(t):
    cow_rollback_completed(t)


def savepoint_restore(t):
    t.write("insert", [row(i, 1) for i in range(1, 7)])
    t.write("upsert", [row(1, 2, amount=10)])
    sp = t.latest()
    t.call("CALL create_savepoint(table => '{t}', commit_time => '%s')" % sp)
    t.write("upsert", [row(1, 3, amount=30), row(7, 1)])
    t.write("delete", [row(2, 4)])
    t.call("CALL rollback_to_savepoint(table => '{t}', instant_time => '%s')" % sp)
    t.write("upsert", [row(3, 5, amount=300)])


def cow_archived(t):
    t.write("insert", [row(i, 1) for i in range(1, 5)])
    for ts in range(2, 10):
        t.write("upsert", [row(1 + ts % 4, ts, amount=ts * 10)])
    t.call("CALL run_clean(table => '{t}', retain_commits => 2)")
    t.call("CALL archive_commits(table => '{t}', min_commits => 3, max_commits => 4, "
           "retain_commits => 2)")
    t.write("upsert", [row(1, 20, amount=2000)])


def cow_multilevel(t):
    t.write("insert", [row(i, 1) for i in range(1, 10)])
    t.write("upsert", [row(1, 2, amount=10), row(10, 1)])
    t.write("delete_partition", [row(3, 0)],
            **{"hoodie.datasource.write.partitions.to.delete": "region=europe/city=south/dt=2024-04-04"})
    t.write("upsert", [row(2, 3, deleted=True)])


def mor_bucket(t):
    t.write("upsert", [row(i, 1) for i in range(1, 11)])
    t.write("upsert", [row(i, 2, amount=i * 100) for i in (1, 5, 9)])
    t.write("upsert", [row(3, 3, deleted=True), row(11, 1)])
    t.write("delete", [row(4, 4)])


def global_moves(t):
    t.write("insert", [row(i, 1) for i in range(1, 7)])
    # Records move to another region: deleted from the old partition, inserted in the new.
    t.write("upsert", [row(1, 2, region="asia"), row(2, 2, region="europe"), row(3, 2, amount=3)])
    t.write("upsert", [row(1, 3, region="americas", amount=11)])
    t.write("delete", [row(4, 4)])


def virtual_keys(t):
    t.write("insert", [row(i, 1) for i in range(1, 7)])
    t.write("upsert", [row(1, 2, amount=10), row(7, 1)])
    t.write("upsert", [row(2, 3, deleted=True), row(3, 3, amount=30)])
    t.write("delete", [row(5, 4)])


SIMPLE = "org.apache.hudi.keygen.SimpleKeyGenerator"
COMPLEX = "org.apache.hudi.keygen.ComplexKeyGenerator"

# name -> (story, table type, extra table options)
FIXTURES = {
    "v6_mor_compacted": (mor_compacted, "MERGE_ON_READ", {}),
    "v6_mor_pending_compaction_logs": (mor_pending_compaction_logs, "MERGE_ON_READ", {}),
    "v6_mor_pending_compaction_then_run": (mor_pending_compaction_then_run, "MERGE_ON_READ", {}),
    "v6_cow_clean": (cow_clean, "COPY_ON_WRITE", {}),
    "v6_mor_clean": (mor_clean, "MERGE_ON_READ", {}),
    "v6_cow_clustering": (cow_clustering, "COPY_ON_WRITE", {}),
    "v6_mor_clustering": (mor_clustering, "MERGE_ON_READ", {}),
    "v6_cow_rollback_completed": (cow_rollback_completed, "COPY_ON_WRITE", {}),
    "v6_mor_rollback_completed": (mor_rollback_completed, "MERGE_ON_READ", {}),
    "v6_cow_savepoint_restore": (savepoint_restore, "COPY_ON_WRITE", {}),
    "v6_mor_savepoint_restore": (savepoint_restore, "MERGE_ON_READ", {}),
    "v6_cow_archived": (cow_archived, "COPY_ON_WRITE", {}),
    "v6_cow_multilevel_hive": (cow_multilevel, "COPY_ON_WRITE", {
        "hoodie.datasource.write.partitionpath.field": "region,city,dt",
        "hoodie.datasource.write.keygenerator.class": COMPLEX,
        "hoodie.datasource.write.hive_style_partitioning": "true"}),
    "v6_mor_bucket": (mor_bucket, "MERGE_ON_READ", {
        "hoodie.index.type": "BUCKET", "hoodie.bucket.index.num.buckets": "4"}),
    "v6_cow_global_moves": (global_moves, "COPY_ON_WRITE", {
        "hoodie.index.type": "GLOBAL_BLOOM", "hoodie.bloom.index.update.partition.path": "true"}),
    "v6_mor_global_moves": (global_moves, "MERGE_ON_READ", {
        "hoodie.index.type": "GLOBAL_BLOOM", "hoodie.bloom.index.update.partition.path": "true"}),
    "v6_cow_virtual_keys": (virtual_keys, "COPY_ON_WRITE", {
        "hoodie.populate.meta.fields": "false",
        "hoodie.datasource.write.keygenerator.class": SIMPLE}),
    "v6_mor_virtual_keys": (virtual_keys, "MERGE_ON_READ", {
        "hoodie.populate.meta.fields": "false",
        "hoodie.datasource.write.keygenerator.class": SIMPLE}),
}


def session():
    return (SparkSession.builder.master("local[2]").appName("hudi-rust-fixtures")
            .config("spark.jars", os.environ["HUDI_SPARK_BUNDLE"])
            .config("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
            .config("spark.kryo.registrator", "org.apache.spark.HoodieSparkKryoRegistrar")
            .config("spark.sql.extensions", "org.apache.spark.sql.hudi.HoodieSparkSessionExtension")
            .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.hudi.catalog.HoodieCatalog")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "2")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC")
            .getOrCreate())


def zip_table(path, dest):
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as z:
        for d, _, files in os.walk(path):
            for f in sorted(files):
                if f.endswith(".crc"):
                    continue
                full = os.path.join(d, f)
                z.write(full, os.path.relpath(full, os.path.dirname(path)))


def main():
    out = sys.argv[1]
    names = sys.argv[2:] or list(FIXTURES)
    os.makedirs(out, exist_ok=True)
    spark = session()
    spark.sparkContext.setLogLevel("ERROR")
    spark.sql("set hoodie.metadata.enable=false")
    work = tempfile.mkdtemp(prefix="hudi-fixtures-")
    try:
        for name in names:
            story, table_type, extra = FIXTURES[name]
            t = Table(spark, work, name, table_type, **extra)
            story(t)
            zip_table(t.path, os.path.join(out, f"{name}.zip"))
            with open(os.path.join(out, f"{name}.json"), "w") as f:
                json.dump({"name": name, "table_type": table_type, "options": t.opts,
                           "story": story.__name__, "steps": t.steps,
                           "made_with": f"Apache Hudi {os.path.basename(os.environ['HUDI_SPARK_BUNDLE'])}, Spark {spark.version}"},
                          f, indent=1, default=str)
            print(f"{name}: {len(t.steps)} steps", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        spark.stop()


if __name__ == "__main__":
    main()
