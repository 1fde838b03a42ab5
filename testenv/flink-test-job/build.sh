#!/usr/bin/env bash
# Build (or reuse) dataport's Flink test job for one Flink release and print the jar's path.
#
#   testenv/flink-test-job/build.sh FLINK_VERSION        e.g. 1.20.0, 2.0.0
#
# The jar is ${DATAPORT_CACHE:-~/.cache/dataport}/flink-test-job-HASH/flink-test-job-VERSION.jar,
# HASH covering pom.xml and src/: a build is reused until one of them changes. It holds only the
# job's classes (Flink is provided by the cluster) and names its entry class in the manifest, so
# REST /jars/upload + /jars/:id/run needs no entryClass. Maven's log:
# flink-test-job-VERSION.mvn.log in the cache folder. Exit 1 when the build fails.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
die() { echo "build.sh: $*" >&2; exit 1; }
[ $# -eq 1 ] || die "usage: build.sh FLINK_VERSION (e.g. 1.20.0)"
version="$1"
[[ "$version" =~ ^[12]\.[0-9]+\.[0-9]+$ ]] || die "'$version' is not a Flink 1.x or 2.x release"
command -v mvn >/dev/null || die "Maven (mvn) is not installed"

hash="$(cd "$here" && find pom.xml src -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)"
cache_root="${DATAPORT_CACHE:-$HOME/.cache/dataport}"
dest="$cache_root/flink-test-job-$hash"
jar="$dest/flink-test-job-$version.jar"
mkdir -p "$dest"
[ -f "$jar" ] && { echo "$jar"; exit 0; }

exec 9>"$dest/$version.lock"
flock 9
[ -f "$jar" ] && { echo "$jar"; exit 0; }

work="$(mktemp -d "$cache_root/.flink-test-job.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cp -r "$here/pom.xml" "$here/src" "$work/"
log="$dest/flink-test-job-$version.mvn.log"
echo "building the Flink test job for Flink $version (Maven log: $log)" >&2
nice mvn -B -f "$work/pom.xml" package -Dflink.version="$version" -Dtestjob.out="$work/out" >"$log" 2>&1 \
  || { grep -E '^\[ERROR\]' "$log" | head -10 >&2; die "Maven failed for Flink $version; see $log"; }
mv "$work/out/flink-test-job-$version.jar" "$jar"
echo "$jar"
