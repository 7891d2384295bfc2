#!/usr/bin/env bash
# Crash injection (issue 12): every crash point of every operation the harness knows
# (tests/it/crash.rs), then N kills at random moments (default 200; HUDI_CRASH_SEED varies
# them). Prints "N iterations, L lost, E exposed, F failed"; fails on any.
#   tests/crash.sh [N]
# Sets up the oracle venv (../shared/oracle/setup.sh) and Spark (interop/spark/setup.sh, which
# reads the first recovered table of each operation) as the test suite does.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/hudi-target}
export HUDI_SHARED=${HUDI_SHARED:-$(cd .. && pwd)/shared}
export HUDI_ORACLE_PYTHON=${HUDI_ORACLE_PYTHON:-$(bash "$HUDI_SHARED/oracle/setup.sh")}
if [ -z "${HUDI_SPARK_PYTHON:-}" ]; then
  spark_env=$(bash interop/spark/setup.sh)
  HUDI_SPARK_PYTHON=$(echo "$spark_env" | sed -n 1p)
  HUDI_SPARK_BUNDLE=$(echo "$spark_env" | sed -n 2p)
  export HUDI_SPARK_PYTHON HUDI_SPARK_BUNDLE
fi
export HUDI_CRASH_ITERATIONS=${1:-${HUDI_CRASH_ITERATIONS:-200}}
exec cargo test -p hudi-integration-tests --test it crash::crash_every_point_and_random_moments \
  -- --ignored --nocapture
