"""What the tests share: a data builder, a model of what a table holds, and the readers every
table is checked with (ours, hudi-rs, and Apache Hudi on Spark when it is installed).

Environment (set by python/test.sh from .ci/run):
  HUDI_SHARED            ../shared (its oracle/ directory has Spark's canonical-row code)
  HUDI_SPARK_PYTHON      the Python of the Spark oracle venv (pyspark)
  HUDI_SPARK_BUNDLE      the Hudi Spark bundle jar
  HUDI_REQUIRE_SHARED=1  a missing oracle is a failure, not a skip (CI)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional

import pyarrow as pa
import pytest

ROOT = Path(__file__).resolve().parents[2]
REQUIRE = os.environ.get("HUDI_REQUIRE_SHARED") == "1"


def rows(ids: Iterable[int], ts: int = 1, note: str = "a", deleted: Optional[set] = None) -> pa.Table:
    """The test table's rows: a string key, an ordering value, a partition (one of three),
    a note and a double; `deleted` ids carry `_hoodie_is_deleted = true`."""
    ids = list(ids)
    cols: Dict[str, Any] = {
        "id": [f"k{i:05d}" for i in ids],
        "ts": pa.array([ts] * len(ids), pa.int64()),
        "region": [("amer", "apac", "emea")[i % 3] for i in ids],
        "note": [f"{note}{i}" for i in ids],
        "amount": pa.array([i * 1.5 for i in ids], pa.float64()),
    }
    if deleted is not None:
        cols["_hoodie_is_deleted"] = [i in deleted for i in ids]
    return pa.table(cols)


class Model:
    """What a table should hold: key -> row (data columns only)."""

    def __init__(self) -> None:
        self.rows: Dict[str, Dict[str, Any]] = {}

    def upsert(self, t: pa.Table) -> None:
        for r in t.to_pylist():
            if r.pop("_hoodie_is_deleted", False):
                self.rows.pop(r["id"], None)
            else:
                self.rows[r["id"]] = r

    def delete(self, t: pa.Table) -> None:
        for k in t.column("id").to_pylist():
            self.rows.pop(k, None)

    def overwrite_partitions(self, t: pa.Table) -> None:
        parts = set(t.column("region").to_pylist())
        self.rows = {k: r for k, r in self.rows.items() if r["region"] not in parts}
        self.upsert(t)

    def drop_partitions(self, parts: Iterable[str]) -> None:
        parts = set(parts)
        self.rows = {k: r for k, r in self.rows.items() if r["region"] not in parts}

    def sorted(self) -> List[Dict[str, Any]]:
        return [self.rows[k] for k in sorted(self.rows)]


DATA_COLUMNS = ["id", "ts", "region", "note", "amount"]


def canonical(t: pa.Table) -> List[Dict[str, Any]]:
    """Rows of a read, data columns only, sorted by key."""
    t = t.select([c for c in DATA_COLUMNS if c in t.column_names])
    return sorted(t.to_pylist(), key=lambda r: r["id"])


SHARED = Path(os.environ.get("HUDI_SHARED", ROOT.parent / "shared"))


def hudi_rs_read(path: Path, mode: str = "snapshot", **kw: Any) -> List[Dict[str, Any]]:
    """hudi-rs's read (its Python package, as ../shared/oracle/read_oracle.py drives it),
    canonical."""
    sys.path.insert(0, str(SHARED / "oracle"))
    try:
        import read_oracle
    except ImportError:
        if REQUIRE:
            raise
        pytest.skip("../shared/oracle not found")
    return canonical(read_oracle.read_hudi(str(path), mode, **kw))


class Spark:
    """Apache Hudi 0.15 on Spark, as a long-lived process (interop/spark/spark_server.py)."""

    def __init__(self, python: str, bundle: str, shared: Path) -> None:
        env = dict(os.environ, HUDI_SPARK_BUNDLE=bundle)
        self.proc = subprocess.Popen(
            [python, str(ROOT / "interop/spark/spark_server.py"), str(shared / "oracle")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            text=True,
        )
        self.next = 0
        ready = json.loads(self.proc.stdout.readline())
        assert ready.get("ready"), ready

    def ask(self, req: Dict[str, Any]) -> Dict[str, Any]:
        self.next += 1
        req = dict(req, id=self.next)
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        answer = json.loads(self.proc.stdout.readline())
        if "error" in answer:
            raise AssertionError(f"Spark: {answer['error']} {answer.get('java', '')}")
        return answer

    def read(self, path: Path, mode: str = "snapshot") -> List[Dict[str, Any]]:
        answer = self.ask({"op": "read", "path": str(path), "mode": mode})
        out = []
        for line in answer["rows"]:
            r = json.loads(line) if isinstance(line, str) else line
            out.append({c: r.get(c) for c in DATA_COLUMNS})
        return sorted(out, key=lambda r: r["id"])

    def write(self, path: Path, data: pa.Table, options: Dict[str, str], tmp: Path) -> None:
        import pyarrow.parquet as pq

        input_file = tmp / f"spark-input-{self.next}.parquet"
        pq.write_table(data, input_file)
        self.ask({"op": "write", "path": str(path), "input": str(input_file),
                  "options": options, "mode": "append"})

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


@pytest.fixture(scope="session")
def spark():
    python = os.environ.get("HUDI_SPARK_PYTHON")
    bundle = os.environ.get("HUDI_SPARK_BUNDLE")
    shared = SHARED
    if not (python and bundle and (shared / "oracle").is_dir()):
        if REQUIRE:
            pytest.fail("Spark oracle missing (HUDI_SPARK_PYTHON, HUDI_SPARK_BUNDLE, HUDI_SHARED)")
        pytest.skip("Spark oracle not installed")
    s = Spark(python, bundle, shared)
    yield s
    s.close()


@pytest.fixture
def table_path(tmp_path: Path) -> Path:
    return tmp_path / "t"


def timeline_files(path: Path) -> List[str]:
    """The instant files of the active timeline."""
    return sorted(
        p.name
        for p in (path / ".hoodie").iterdir()
        if p.is_file() and not p.name.startswith(".") and p.name != "hoodie.properties"
    )


def data_files(path: Path) -> List[str]:
    return sorted(
        str(p.relative_to(path))
        for p in path.rglob("*")
        if p.is_file() and ".hoodie" not in p.parts and not p.name.startswith(".hoodie_partition")
        and not p.name.endswith(".crc")
    )
