#!/usr/bin/env bash
# Fuzz the parsers of what other writers put on storage, each target for a set time:
#   fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]     (default 60 s, every target)
# Needs the nightly toolchain (rustup) and cargo-fuzz, which it installs once under
# ~/.cache/hudi-fuzz. Seeds each target's corpus (kept in ~/.cache/hudi-fuzz/corpus) from the
# Spark-written tables of testdata/spark and ../shared/fixtures. Prints one line per target:
# executions, seconds, corpus size, and crashes (saved under fuzz/artifacts/TARGET/).
# Exit status 1 if any target crashed. Several lanes may run at once on disjoint targets
# (e.g. `run.sh 600 log_block bloom & run.sh 600 properties file_names`).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
CACHE=${HUDI_FUZZ_CACHE:-$HOME/.cache/hudi-fuzz}
SHARED=${HUDI_SHARED:-$ROOT/../shared}
SECS=${1:-60}
shift || true
ALL=(log_block properties file_names commit_metadata avro_plans bloom)
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=("${ALL[@]}")

export PATH="$CACHE/bin:$PATH"
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  cargo install --locked --root "$CACHE" cargo-fuzz >&2
fi
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal >&2

seed() {
  local stamp="$CACHE/corpus/.seeded"
  [ -f "$stamp" ] && return
  local tmp
  tmp=$(mktemp -d)
  for z in "$ROOT"/testdata/spark/*.zip "$SHARED"/fixtures/*/*/*.zip "$SHARED"/fixtures/*/*/*/*.zip; do
    [ -f "$z" ] || continue
    mkdir -p "$tmp/$(basename "$z" .zip)"
    unzip -q -o "$z" -d "$tmp/$(basename "$z" .zip)" || true
  done
  for t in "${ALL[@]}"; do mkdir -p "$CACHE/corpus/$t"; done
  local n=0
  while IFS= read -r -d '' f; do
    n=$((n + 1))
    local base
    base=$(basename "$f")
    printf '%s' "$base" >"$CACHE/corpus/file_names/name-$n"
    case "$base" in
      *.log.*) cp "$f" "$CACHE/corpus/log_block/log-$n" ;;
      hoodie.properties*) cp "$f" "$CACHE/corpus/properties/props-$n" ;;
      *.commit|*.deltacommit|*.replacecommit|*.commit.inflight|*.deltacommit.inflight)
        cp "$f" "$CACHE/corpus/commit_metadata/commit-$n" ;;
      *.compaction.requested|*.clean.requested|*.clean|*.rollback|*.rollback.requested|*.restore|*.restore.requested|*.savepoint)
        cp "$f" "$CACHE/corpus/avro_plans/plan-$n" ;;
    esac
  done < <(find "$tmp" -type f -size -4M -print0)
  # Bloom filters: the footer entries of the base files (pyarrow from the oracle venv).
  local py=${HUDI_ORACLE_PYTHON:-$HOME/.cache/hudi-oracle/venv/bin/python}
  if [ -x "$py" ]; then
    "$py" - "$tmp" "$CACHE/corpus/bloom" <<'PY' || true
import pathlib, sys
import pyarrow.parquet as pq
out = pathlib.Path(sys.argv[2])
for i, f in enumerate(sorted(pathlib.Path(sys.argv[1]).rglob("*.parquet"))):
    try:
        md = pq.read_metadata(f).metadata or {}
    except Exception:  # a corrupt base file of a test table: no seed
        continue
    bloom = md.get(b"org.apache.hudi.bloomfilter")
    if bloom:
        code = md.get(b"hoodie_bloom_filter_type_code", b"")
        kind = b"\x02" if code == b"DYNAMIC_V0" else b"\x01"
        (out / f"bloom-{i}").write_bytes(kind + bloom)
PY
  fi
  rm -rf "$tmp"
  touch "$stamp"
}
seed

cd "$HERE"
cargo +nightly fuzz build -O >&2
failed=0
for t in "${TARGETS[@]}"; do
  mkdir -p "artifacts/$t"
  log=$(mktemp)
  start=$SECONDS
  set +e
  cargo +nightly fuzz run -O "$t" "$CACHE/corpus/$t" -- \
    -max_total_time="$SECS" -rss_limit_mb=2048 -max_len=1048576 -timeout=20 \
    -print_final_stats=1 >"$log" 2>&1
  rc=$?
  set -e
  took=$((SECONDS - start))
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  crashes=$(find "artifacts/$t" -type f | wc -l)
  corpus=$(find "$CACHE/corpus/$t" -type f | wc -l)
  echo "$t: ${runs:-?} executions in ${took} s, corpus $corpus, crash files $crashes (exit $rc)"
  if [ "$rc" -ne 0 ]; then
    failed=1
    grep -m5 -E 'panicked|ERROR|SUMMARY|Test unit written' "$log" >&2 || true
  fi
  rm -f "$log"
done
exit $failed
