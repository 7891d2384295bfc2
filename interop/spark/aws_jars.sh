#!/usr/bin/env bash
# Fetch (once) the jars Apache Hudi's AWS Glue sync (AwsGlueCatalogSyncTool) needs beside the
# Spark bundle, and print them comma-separated, for spark.jars:
#   hudi-aws 0.15.0 (its own classes only: the bundle has the rest of Hudi) and the AWS SDK v2
#   Glue client at the version hudi-aws 0.15.0 is built with (2.18.40), without the Netty,
#   HttpClient and logging jars Spark already ships.
# Cache: $HUDI_SPARK_CACHE/aws-jars (default ~/.cache/hudi-spark); a second call only lists it.
set -euo pipefail
CACHE=${HUDI_SPARK_CACHE:-$HOME/.cache/hudi-spark}
HUDI=0.15.0
SDK=2.18.40
DIR=$CACHE/aws-jars-$HUDI-$SDK

if [ ! -f "$DIR/.stamp" ]; then
  rm -rf "$DIR"
  mkdir -p "$DIR"
  work=$(mktemp -d)
  sdk_dep() {
    cat <<DEP
    <dependency><groupId>software.amazon.awssdk</groupId><artifactId>$1</artifactId><version>$SDK</version>
      <exclusions>
        <exclusion><groupId>io.netty</groupId><artifactId>*</artifactId></exclusion>
        <exclusion><groupId>org.slf4j</groupId><artifactId>*</artifactId></exclusion>
        <exclusion><groupId>org.apache.httpcomponents</groupId><artifactId>*</artifactId></exclusion>
        <exclusion><groupId>commons-codec</groupId><artifactId>*</artifactId></exclusion>
        <exclusion><groupId>commons-logging</groupId><artifactId>*</artifactId></exclusion>
      </exclusions></dependency>
DEP
  }
  cat >"$work/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local</groupId><artifactId>hudi-aws-sync-classpath</artifactId><version>1</version>
  <dependencies>
    <dependency><groupId>org.apache.hudi</groupId><artifactId>hudi-aws</artifactId><version>$HUDI</version>
      <exclusions><exclusion><groupId>*</groupId><artifactId>*</artifactId></exclusion></exclusions></dependency>
$(sdk_dep glue)
$(sdk_dep sts)
  </dependencies>
</project>
POM
  (cd "$work" && mvn -q -B org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies \
    -DincludeScope=runtime "-DoutputDirectory=$DIR" >&2)
  rm -rf "$work"
  [ -s "$DIR/hudi-aws-$HUDI.jar" ] && [ -s "$DIR/glue-$SDK.jar" ] || {
    echo "aws_jars.sh: hudi-aws or the Glue client was not fetched into $DIR" >&2; exit 1; }
  touch "$DIR/.stamp"
fi
ls "$DIR"/*.jar | paste -sd, -
