"""A table on S3 (moto on loopback, started with the shared oracle's start_moto.sh):
``storage_options`` reach the object store for writes, reads and services, and ``sync()``
registers the table in Glue (moto's), read back with the shared ``glue_dump.py``."""

from __future__ import annotations

import json
import os
import socket
import subprocess

import pytest

from conftest import REQUIRE, rows

from hudi_rust import SYNC_BUILT_IN, HudiTable, write_hudi

SPEC = dict(record_key="id", partition_by="region", precombine="ts")
SHARED = os.environ.get("HUDI_SHARED")
ORACLE_PYTHON = os.environ.get("HUDI_ORACLE_PYTHON")


@pytest.fixture
def moto():
    if not SHARED or not ORACLE_PYTHON:
        if REQUIRE:
            pytest.fail("HUDI_SHARED and HUDI_ORACLE_PYTHON are required (HUDI_REQUIRE_SHARED=1)")
        pytest.skip("no shared oracle (HUDI_SHARED, HUDI_ORACLE_PYTHON)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    script = os.path.join(SHARED, "oracle", "start_moto.sh")
    pid = subprocess.check_output(["bash", script, "start", str(port)], text=True).strip()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        make = (
            "import boto3; boto3.client('s3', endpoint_url='%s', region_name='us-east-1', "
            "aws_access_key_id='test', aws_secret_access_key='test').create_bucket(Bucket='pyhudi')"
        ) % endpoint
        subprocess.run([ORACLE_PYTHON, "-c", make], check=True)
        yield endpoint
    finally:
        subprocess.run(["bash", script, "stop", pid], check=False)


def test_storage_options_and_glue_sync(moto, monkeypatch):
    opts = {
        "aws_endpoint": moto,
        "aws_allow_http": "true",
        "aws_region": "us-east-1",
        "aws_access_key_id": "test",
        "aws_secret_access_key": "test",
    }
    uri = "s3://pyhudi/trips"
    write_hudi(uri, rows(range(10)), storage_options=opts, **SPEC)
    write_hudi(uri, rows(range(5, 15), ts=2), storage_options=opts, **SPEC)
    t = HudiTable(uri, storage_options=opts)
    assert len(t.read()) == 15
    assert t.clean(dry_run=True) is not None
    if not SYNC_BUILT_IN:
        pytest.fail("the wheel is built with catalog sync")
    for k, v in [("AWS_ACCESS_KEY_ID", "test"), ("AWS_SECRET_ACCESS_KEY", "test"),
                 ("AWS_REGION", "us-east-1")]:
        monkeypatch.setenv(k, v)
    glue = {
        "hoodie.datasource.meta.sync.enable": "true",
        "hoodie.meta.sync.client.tool.class": "org.apache.hudi.aws.sync.AwsGlueCatalogSyncTool",
        "hoodie.datasource.hive_sync.database": "lake",
        "hoodie.datasource.hive_sync.table": "trips",
        "hoodie.aws.glue.endpoint": moto,
        "hoodie.aws.glue.region": "us-east-1",
    }
    first = t.sync(glue)
    assert first, first
    dump = subprocess.check_output(
        [ORACLE_PYTHON, os.path.join(SHARED, "oracle", "glue_dump.py"), "lake",
         "--endpoint", moto, "--region", "us-east-1"],
        text=True,
        env={**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"},
    )
    db = json.loads(dump)
    tables = {tb["Name"]: tb for tb in db["tables"]}
    assert "trips" in tables, dump
    values = sorted(p["Values"][0] for p in tables["trips"].get("Partitions", []))
    assert values == ["amer", "apac", "emea"], dump
    assert tables["trips"]["StorageDescriptor"]["Location"].startswith("s3://pyhudi/trips"), dump
