#!/usr/bin/env bash
# The benchmark, end to end: builds our release binary, installs the peers (the shared oracle
# venv: pyarrow, deltalake, hudi-rs; Apache Hudi 0.15 on Spark), generates the clickstream
# (cached in ~/.cache/hudi-bench/data), then runs bench/run.py (see bench/README.md).
#
#   bench/run.sh                          # 5M rows + 500k upsert, 3 alternating runs, every peer
#   bench/run.sh --rows 1000000 --upsert 100000 --runs 1 --no-spark   # a quick look
#   bench/run.sh --only-scaling --scaling 1000000,2000000,5000000,10000000
#
# Arguments are bench/run.py's; results also go to ~/.cache/hudi-bench/results-<time>.jsonl.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
SHARED=${HUDI_SHARED:-$(cd "$ROOT/.." && pwd)/shared}
CACHE=${HUDI_BENCH_CACHE:-$HOME/.cache/hudi-bench}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/hudi-target}
mkdir -p "$CACHE/data"

rows=5000000 upsert=500000 scaling=""
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[$i]}" in
    --rows) rows=${args[$((i + 1))]} ;;
    --upsert) upsert=${args[$((i + 1))]} ;;
    --scaling) scaling=${args[$((i + 1))]} ;;
  esac
done

echo "== build (release)" >&2
(cd "$ROOT" && cargo build --release -p hudi-cli --bin hudi >&2)
echo "== peers" >&2
PY=$(bash "$SHARED/oracle/setup.sh")
spark_env=$(bash "$ROOT/interop/spark/setup.sh")
HUDI_SPARK_PYTHON=$(echo "$spark_env" | sed -n 1p)
HUDI_SPARK_BUNDLE=$(echo "$spark_env" | sed -n 2p)
export HUDI_SPARK_PYTHON HUDI_SPARK_BUNDLE
export HUDI_SHARED_ORACLE=$SHARED/oracle

echo "== data" >&2
gen() { # rows upsert
  local name=clickstream_$1.arrow
  [ "$1" = 5000000 ] && name=clickstream_5m.arrow
  if [ ! -f "$CACHE/data/$name" ]; then
    "$PY" "$SHARED/bench/gen_clickstream.py" --rows "$1" --upsert "$2" --out "$CACHE/data" >&2
  fi
  # Spark's input: the same rows as Parquet.
  "$PY" - "$CACHE/data" "$1" "$2" <<'EOF'
import os, sys
import pyarrow as pa, pyarrow.ipc as ipc, pyarrow.parquet as pq
d, n, u = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
names = ["clickstream_5m" if n == 5_000_000 else f"clickstream_{n}",
         "clickstream_upsert_500k" if u == 500_000 else f"clickstream_upsert_{u}"]
for name in names:
    src, dst = os.path.join(d, name + ".arrow"), os.path.join(d, name + ".parquet")
    if not os.path.exists(dst):
        with pa.memory_map(src) as m:
            pq.write_table(ipc.open_file(m).read_all(), dst + ".tmp", compression="snappy")
        os.replace(dst + ".tmp", dst)
EOF
}
gen "$rows" "$upsert"
for n in ${scaling//,/ }; do gen "$n" $((n / 10)); done

out="$CACHE/results-$(date -u +%Y%m%dT%H%M%S).jsonl"
exec "$PY" "$HERE/run.py" --hudi "$CARGO_TARGET_DIR/release/hudi" --data "$CACHE/data" \
  --work "$CACHE/work" --spark-python "$HUDI_SPARK_PYTHON" --out "$out" "$@"
