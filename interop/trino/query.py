"""Runs SQL on a Trino server through its HTTP protocol and prints one JSON line per query:
{"query": Q, "columns": [...], "rows": [[...], ...]} or {"query": Q, "error": "..."}.

Usage: python3 query.py PORT QUERY...   (standard library only)
"""
import json
import sys
import time
import urllib.request

HEADERS = {"X-Trino-User": "hudi-rust-test"}


def fetch(url, data=None):
    req = urllib.request.Request(url, data=data, headers=HEADERS)
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.load(r)


def query(port, sql):
    r = fetch(f"http://127.0.0.1:{port}/v1/statement", sql.encode())
    out = {"query": sql, "columns": None, "rows": []}
    while True:
        if "error" in r:
            return {"query": sql, "error": r["error"].get("message", str(r["error"]))}
        if r.get("columns"):
            out["columns"] = [c["name"] for c in r["columns"]]
        out["rows"].extend(r.get("data") or [])
        if not r.get("nextUri"):
            return out
        time.sleep(0.02)
        r = fetch(r["nextUri"])


def main():
    port = int(sys.argv[1])
    for q in sys.argv[2:]:
        try:
            print(json.dumps(query(port, q)), flush=True)
        except Exception as e:  # noqa: BLE001 - report and go on
            print(json.dumps({"query": q, "error": f"{type(e).__name__}: {e}"}), flush=True)


if __name__ == "__main__":
    main()
