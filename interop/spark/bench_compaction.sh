#!/usr/bin/env bash
# Compaction of one merge-on-read table by us and by Apache Hudi on Spark, side by side.
#
#   interop/spark/bench_compaction.sh [ROWS] [UPDATES] [DIR]
#
# hudi-bench bulk-inserts ROWS rows (10 partitions) into a new MOR table and upserts UPDATES
# updates of existing keys (logs in every file group); the table is copied; `hudi compaction
# run --schedule` compacts one copy (time and peak RSS from /usr/bin/time), Spark's
# run_compaction the other (time of the call, the JVM's peak RSS). Needs a release build
# (cargo build --release) and the Spark oracle (interop/spark/setup.sh).
set -euo pipefail
ROWS=${1:-1000000}
UPDATES=${2:-200000}
DIR=${3:-/tmp/hudi-bench-compaction}
HERE=$(cd "$(dirname "$0")" && pwd)
TARGET=${CARGO_TARGET_DIR:-$HERE/../../target}
BIN=$TARGET/release
SPARK_HOME_DIR=${HUDI_SPARK_CACHE:-$HOME/.cache/hudi-spark}
export HUDI_SPARK_BUNDLE=${HUDI_SPARK_BUNDLE:-$SPARK_HOME_DIR/jars/hudi-spark3.5-bundle_2.12-0.15.0.jar}
rm -rf "$DIR" && mkdir -p "$DIR"
made=$("$BIN/hudi-bench" --rows "$ROWS" --upsert "$UPDATES" --updates-only --table-type mor \
  --no-read --dir "$DIR")
echo "input: $made"
table=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["table"])' "$made")
cp -r "$table" "$table-spark"
/usr/bin/time -f '{"engine": "ours", "max_rss_kb": %M, "wall_s": %e}' -o "$DIR/ours.time" \
  "$BIN/hudi" compaction run "$table" --schedule --json > "$DIR/ours.json"
echo "ours: $(cat "$DIR/ours.json") $(cat "$DIR/ours.time")"
"$SPARK_HOME_DIR/venv/bin/python" "$HERE/bench_compaction.py" "$HERE/../../../shared/oracle" "$table-spark" 2>/dev/null
