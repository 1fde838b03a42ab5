#!/usr/bin/env bash
# Build (or reuse) mc-standin and print its jar's path; run it with `java -jar PATH ARGS...`
# (its manifest names the dependency jars next to it) or through the `mc` script beside this one.
#
#   testenv/s3/mc-standin/build.sh
#
# The jar is ${DATAPORT_CACHE:-~/.cache/dataport}/mc-standin-HASH/mc-standin.jar, HASH covering
# pom.xml and src/: a build is reused until one of them changes. Maven's log stays in
# mc-standin.mvn.log in the cache folder. Exit 1 when the build fails.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
die() { echo "build.sh: $*" >&2; exit 1; }
[ $# -eq 0 ] || die "usage: build.sh"
command -v mvn >/dev/null || die "Maven (mvn) is not installed"

hash="$(cd "$here" && find pom.xml src -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)"
cache_root="${DATAPORT_CACHE:-$HOME/.cache/dataport}"
dest="$cache_root/mc-standin-$hash"
jar="$dest/mc-standin.jar"
mkdir -p "$cache_root"
[ -f "$jar" ] && { echo "$jar"; exit 0; }

exec 9>"$cache_root/mc-standin.lock"
flock 9
[ -f "$jar" ] && { echo "$jar"; exit 0; }

work="$(mktemp -d "$cache_root/.mc-standin.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cp -r "$here/pom.xml" "$here/src" "$work/"
log="$cache_root/mc-standin.mvn.log"
echo "building mc-standin (Maven log: $log)" >&2
nice mvn -B -f "$work/pom.xml" package -Dmc-standin.out="$work/out" >"$log" 2>&1 \
  || { grep -E '^\[ERROR\]' "$log" | head -10 >&2; die "Maven failed; see $log"; }
rm -rf "$dest"
mv "$work/out" "$dest"
echo "$jar"
