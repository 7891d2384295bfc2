"""Apache Hudi on Spark, the strictest oracle: it reads what Python wrote (every query mode),
writes into it and compacts it, and we read what it wrote."""

from __future__ import annotations

import pytest

from conftest import Model, canonical, hudi_rs_read, rows

from hudi_rust import HudiTable, write_hudi

SPEC = dict(record_key="id", partition_by="region", precombine="ts", table_name="t")


def spark_options(table_type: str) -> dict:
    return {
        "hoodie.table.name": "t",
        "hoodie.datasource.write.recordkey.field": "id",
        "hoodie.datasource.write.partitionpath.field": "region",
        "hoodie.datasource.write.precombine.field": "ts",
        "hoodie.datasource.write.table.type": table_type,
        "hoodie.datasource.write.operation": "upsert",
    }


@pytest.mark.parametrize("table_type", ["COPY_ON_WRITE", "MERGE_ON_READ"])
def test_spark_reads_writes_and_compacts_what_python_wrote(spark, tmp_path, table_type):
    path = tmp_path / table_type
    model = Model()
    steps = [
        ("bulk_insert", rows(range(40))),
        ("upsert", rows(range(30, 60), ts=2, note="u")),
        ("delete", rows(range(0, 5))),
    ]
    for op, data in steps:
        write_hudi(path, data, operation=op, table_type=table_type, **SPEC,
                   options={"hoodie.compact.inline": "false"})
        model.delete(data) if op == "delete" else model.upsert(data)
        assert spark.read(path) == model.sorted(), op
    if table_type == "MERGE_ON_READ":
        ro = spark.read(path, mode="read_optimized")
        assert ro == canonical(HudiTable(path).read(read_optimized=True))
    # Spark writes into the table; we and hudi-rs read its commit.
    theirs = rows(range(55, 70), ts=3, note="spark")
    spark.write(path, theirs, spark_options(table_type), tmp_path)
    model.upsert(theirs)
    assert canonical(HudiTable(path).read()) == model.sorted()
    assert hudi_rs_read(path) == model.sorted()
    # And we go on writing after Spark, then compact; Spark reads the result.
    ours = rows(range(65, 75), ts=4, note="after")
    write_hudi(path, ours, table_type=table_type, **SPEC, options={"hoodie.compact.inline": "false"})
    model.upsert(ours)
    if table_type == "MERGE_ON_READ":
        out = HudiTable(path).compact()
        assert out["compacted"]
    assert spark.read(path) == model.sorted()
