"""Table services from Python: compaction, clean, rollback, savepoints and restore, archival;
every one checked by reading the table back (ours and hudi-rs)."""

from __future__ import annotations

import pytest

from conftest import Model, canonical, hudi_rs_read, rows

from hudi_rust import HudiError, HudiTable, write_hudi

MOR = dict(record_key="id", partition_by="region", precombine="ts", table_type="MERGE_ON_READ")
NO_INLINE = {"hoodie.compact.inline": "false", "hoodie.clean.automatic": "false"}


def mor_table(path, commits=3):
    model = Model()
    for c in range(commits):
        data = rows(range(c * 5, c * 5 + 20), ts=c + 1, note=f"c{c}")
        model.upsert(data)
        write_hudi(path, data, operation="bulk_insert" if c == 0 else "upsert", options=NO_INLINE, **MOR)
    return model


def test_compaction_merges_logs_into_base_files(table_path):
    model = mor_table(table_path)
    t = HudiTable(table_path)
    # Read-optimized: base files only. Updates are in logs (stale values there); new keys
    # went to new base files (a Bloom index cannot find records in logs).
    ro = {r["id"]: r for r in canonical(t.read(read_optimized=True))}
    assert set(ro) == set(model.rows)
    assert ro["k00012"]["note"] == "c012" and model.rows["k00012"]["note"] == "c212"
    out = t.compact()
    assert out["compacted"] and out["file_groups"] >= 3
    # Every slice with logs is rewritten; the base file of the last write's 5 new keys has
    # none and stays.
    assert out["records_written"] == len(model.rows) - 5
    assert canonical(t.read()) == model.sorted()
    assert canonical(t.read(read_optimized=True)) == model.sorted()
    assert hudi_rs_read(table_path) == model.sorted()
    assert t.timeline()[-1]["action"] == "commit"  # a compaction completes as a commit
    again = t.compact()
    assert again["compacted"] is None and again["nothing_to_compact"]


def test_schedule_then_run_a_compaction(table_path):
    mor_table(table_path)
    t = HudiTable(table_path)
    s = t.schedule_compaction(force=True)
    assert s["scheduled"] and s["file_groups"] >= 3
    pending = t.timeline(incomplete=True)
    assert [(i["action"], i["state"]) for i in pending] == [("compaction", "requested")]
    out = t.compact(s["scheduled"])
    assert out["compacted"] == s["scheduled"] and out["file_groups"] == s["file_groups"]
    assert t.timeline(incomplete=True) == []


def test_clean_keeps_what_the_policy_retains(table_path):
    spec = dict(record_key="id", partition_by="region", precombine="ts")
    model = Model()
    for c in range(4):
        data = rows(range(30), ts=c + 1, note=f"v{c}")
        model.upsert(data)
        write_hudi(table_path, data, options=NO_INLINE, **spec)
    t = HudiTable(table_path)
    dry = t.clean(policy="KEEP_LATEST_FILE_VERSIONS", retained=1, dry_run=True)
    would = sum(len(v) for v in dry["outcome"]["dry_run"]["files"].values())
    assert would == 9, dry  # 3 file groups x 3 older versions
    done = t.clean(policy="KEEP_LATEST_FILE_VERSIONS", retained=1)
    assert done["outcome"]["cleaned"]["files_deleted"] == 9
    assert canonical(t.read()) == model.sorted()
    nothing = t.clean(policy="KEEP_LATEST_FILE_VERSIONS", retained=1)
    assert "nothing_to_clean" in nothing["outcome"]
    with pytest.raises(ValueError, match="policy"):
        t.clean(policy="KEEP_SOME")


def test_rollback_savepoint_restore_and_archive(table_path):
    spec = dict(record_key="id", partition_by="region", precombine="ts")
    write_hudi(table_path, rows(range(10)), operation="bulk_insert", options=NO_INLINE, **spec)
    t = HudiTable(table_path)
    sp = t.savepoint(user="tests", comments="before the changes")
    assert sp["files"] == 3 and t.savepoints()[0]["savepointed_by"] == "tests"
    for c in range(2, 6):
        write_hudi(table_path, rows(range(10), ts=c, note=f"v{c}"), options=NO_INLINE, **spec)
    latest = t.timeline()[-1]["instant"]
    done = t.rollback(latest)
    assert [d["rolled_back"] for d in done] == [latest]
    assert set(t.read().column("note").to_pylist()) == {f"v4{i}" for i in range(10)}
    assert t.rollback() == [], "no failed writes"
    out = t.restore(sp["instant"])
    assert out["savepoint"] == sp["instant"] and len(out["rolled_back"]) == 3
    assert canonical(t.read()) == canonical(rows(range(10)))
    assert hudi_rs_read(table_path) == canonical(rows(range(10)))
    t.delete_savepoint(sp["instant"])
    assert t.savepoints() == []
    for c in range(10, 16):
        write_hudi(table_path, rows(range(10), ts=c), options=NO_INLINE, **spec)
    arch = t.archive(options={"hoodie.keep.min.commits": "2", "hoodie.keep.max.commits": "3",
                              "hoodie.cleaner.commits.retained": "1"})
    assert arch["archived"], arch
    assert len(t.read()) == 10
    with pytest.raises(HudiError):
        t.restore("20000101000000000")
