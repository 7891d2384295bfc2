"""Runs many oracle comparisons in one Python process.

Reads JSON lines from stdin; for each case prints one JSON line with the canonical rows that
`read_oracle.py --reader hudi` prints for the table and mode, and the canonical rows that
`read_oracle.py --reader file OURS.parquet` prints for our output (the same functions of
read_oracle.py, called in-process to avoid one interpreter start per case).

Case fields: id, table, mode (snapshot|read_optimized|as_of|incremental), start, end, as_of,
ours (a parquet file, or null), op ("compare" or "instants").
"""
import json
import sys

sys.path.insert(0, sys.argv[1])  # shared/oracle
import read_oracle as ro  # noqa: E402


def main():
    for line in sys.stdin:
        case = json.loads(line)
        out = {"id": case["id"]}
        try:
            if case.get("op") == "instants":
                out["instants"] = ro.list_instants(case["table"])
            elif case.get("op") == "run":
                import subprocess
                r = subprocess.run(case["argv"], capture_output=True, text=True)
                out["rc"] = r.returncode
                out["stdout"] = r.stdout
                out["stderr"] = r.stderr
            else:
                if case.get("reader") == "file":
                    tab = ro.read_file(case["table"])
                else:
                    tab = ro.read_table(case["table"], "hudi", mode=case["mode"], start=case.get("start"),
                                        end=case.get("end"), as_of=case.get("as_of"), columns=None)
                out["expected"] = ro.canonical_rows(tab)
                if case.get("ours"):
                    out["actual"] = ro.canonical_rows(ro.read_file(case["ours"]))
        except Exception as e:  # noqa: BLE001 - report, do not stop the batch
            out["error"] = f"{type(e).__name__}: {e}"
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
