#!/usr/bin/env bash
# Make (once) what the Spark oracle needs, outside the clone, and print two lines:
#   1. the python of a venv with pyspark (and pyarrow, for canonical rows),
#   2. the Apache Hudi Spark bundle jar.
# Cache: $HUDI_SPARK_CACHE (default ~/.cache/hudi-spark); a second call only checks the stamps.
# Versions are pinned: Spark 3.5.1 with Hudi 0.15.0 (table version 6), fetched from PyPI and
# Maven Central (maven-dependency-plugin 3.6.1).
set -euo pipefail
CACHE=${HUDI_SPARK_CACHE:-$HOME/.cache/hudi-spark}
PYSPARK=3.5.1
PYARROW=25.0.1
HUDI=0.15.0
BUNDLE_ARTIFACT=hudi-spark3.5-bundle_2.12
VENV=$CACHE/venv
JARS=$CACHE/jars
BUNDLE=$JARS/$BUNDLE_ARTIFACT-$HUDI.jar

if [ ! -f "$VENV/.stamp-pyspark-$PYSPARK-pyarrow-$PYARROW" ]; then
  rm -rf "$VENV"
  python3 -m venv "$VENV" >&2
  "$VENV/bin/pip" install -q --disable-pip-version-check "pyspark==$PYSPARK" "pyarrow==$PYARROW" >&2
  touch "$VENV/.stamp-pyspark-$PYSPARK-pyarrow-$PYARROW"
fi

if [ ! -s "$BUNDLE" ]; then
  mkdir -p "$JARS"
  work=$(mktemp -d)
  # The copy goal needs no project; run it from an empty directory so no pom is picked up.
  (cd "$work" && mvn -q -B org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy \
    "-Dartifact=org.apache.hudi:$BUNDLE_ARTIFACT:$HUDI" "-DoutputDirectory=$JARS" >&2)
  rm -rf "$work"
  [ -s "$BUNDLE" ] || { echo "setup.sh: $BUNDLE was not fetched" >&2; exit 1; }
fi

if ! command -v java >/dev/null 2>&1; then
  echo "setup.sh: no java on PATH (Spark $PYSPARK needs Java 17)" >&2
  exit 1
fi
echo "$VENV/bin/python"
echo "$BUNDLE"
