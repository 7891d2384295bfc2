#!/usr/bin/env bash
# Builds the hudi_rust wheel (release, abi3), installs it into a clean test venv with the pinned
# test dependencies (pyarrow, pandas, polars, hudi-rs, pytest), and runs the pytest suite.
# The venv and the build cache live outside the clone (~/.cache/hudi-python, CARGO_TARGET_DIR).
#
#   python/test.sh                 # everything (Spark tests need HUDI_SPARK_PYTHON/_BUNDLE)
#   python/test.sh -k services     # pytest arguments pass through
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/hudi-target}
VENV=${HUDI_PYTHON_VENV:-$HOME/.cache/hudi-python/venv}
STAMP="$VENV/.hudi-python-v1"
if [ ! -f "$STAMP" ]; then
  rm -rf "$VENV"
  python3 -m venv "$VENV" >&2
  "$VENV/bin/pip" install -q --upgrade pip >&2
  "$VENV/bin/pip" install -q maturin==1.16.0 pytest==9.2.0 pyarrow==25.0.1 pandas==3.1.1 \
    polars==2.1.0 hudi==0.5.0 deltalake==1.6.6 >&2
  touch "$STAMP"
fi
echo "== build the wheel" >&2
rm -rf "$CARGO_TARGET_DIR/wheels/hudi_rust-"*
"$VENV/bin/maturin" build --release --manifest-path "$HERE/Cargo.toml" --interpreter "$VENV/bin/python" >&2
WHEEL=$(ls "$CARGO_TARGET_DIR"/wheels/hudi_rust-*.whl | head -1)
"$VENV/bin/pip" install -q --force-reinstall --no-deps "$WHEEL" >&2
echo "== pytest ($(basename "$WHEEL"))" >&2
cd "$HERE/tests"
exec "$VENV/bin/python" -m pytest -p no:cacheprovider -q -ra "$@"
