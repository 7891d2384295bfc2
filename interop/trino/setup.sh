#!/usr/bin/env bash
# Make (once) what the Trino check needs, outside the clone, and print two lines:
#   1. the directory of Trino's server (trino-server-476 from Maven Central, with its Hudi connector),
#   2. a java of version 24 or later (Trino 476 needs it; the Temurin 25 JDK under /usr/lib/jvm).
# Cache: $HUDI_TRINO_CACHE (default ~/.cache/hudi-trino), about 0.9 GB unpacked.
set -euo pipefail
CACHE=${HUDI_TRINO_CACHE:-$HOME/.cache/hudi-trino}
VERSION=476
SERVER=$CACHE/trino-server-$VERSION
URL=https://repo1.maven.org/maven2/io/trino/trino-server/$VERSION/trino-server-$VERSION.tar.gz

if [ ! -f "$SERVER/.complete" ]; then
  mkdir -p "$CACHE"
  tarball=$CACHE/trino-server-$VERSION.tar.gz
  if [ ! -s "$tarball" ] || ! gzip -t "$tarball" 2>/dev/null; then
    curl -sSfL -o "$tarball.part" "$URL" >&2
    mv "$tarball.part" "$tarball"
  fi
  rm -rf "$SERVER"
  tar xzf "$tarball" -C "$CACHE"
  rm -f "$tarball"
  touch "$SERVER/.complete"
fi

java=${HUDI_TRINO_JAVA:-}
if [ -z "$java" ]; then
  for j in /usr/lib/jvm/temurin-25-jdk-amd64/bin/java /usr/lib/jvm/*2[4-9]*/bin/java; do
    if [ -x "$j" ]; then java=$j; break; fi
  done
fi
if [ -z "$java" ]; then
  echo "setup.sh: no java 24+ found (set HUDI_TRINO_JAVA)" >&2
  exit 1
fi
echo "$SERVER"
echo "$java"
