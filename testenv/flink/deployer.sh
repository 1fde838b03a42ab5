#!/usr/bin/env bash
# Builds (once per Flink release, cached) the small command that deploys a session cluster with
# Flink's own native Kubernetes client (deployer/), and prints the jar's path.
#
#   testenv/flink/deployer.sh VERSION
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[ $# -eq 1 ] || { echo "usage: deployer.sh VERSION" >&2; exit 1; }
version="$1"
cache_root="${DATAPORT_CACHE:-$HOME/.cache/dataport}"
sources_hash="$(cat "$here/deployer/pom.xml" "$here"/deployer/src/main/java/io/dataport/testenv/*.java | sha256sum | cut -c1-16)"
jar="$cache_root/flink-deployer-$version-$sources_hash.jar"
if [ ! -f "$jar" ]; then
  work="$(mktemp -d "$cache_root/.deployer.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  cp -r "$here/deployer/pom.xml" "$here/deployer/src" "$work/"
  nice mvn -B -q -f "$work/pom.xml" package -Dflink.version="$version" >"$work/mvn.log" 2>&1 \
    || { echo "deployer.sh: Maven failed; see below" >&2; tail -20 "$work/mvn.log" >&2; exit 1; }
  cp "$work/target/flink-native-deployer-1.jar" "$jar.tmp" && mv "$jar.tmp" "$jar"
fi
echo "$jar"
