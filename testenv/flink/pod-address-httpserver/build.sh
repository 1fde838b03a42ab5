#!/usr/bin/env bash
# Build (or reuse) pod-address-httpserver and print its jar's path. The process node puts it on
# the classpath of the Flink processes it runs (see src/main/java/.../PodAddressHttpServerProvider.java).
#
#   testenv/flink/pod-address-httpserver/build.sh
#
# The jar is ${DATAPORT_CACHE:-~/.cache/dataport}/pod-address-httpserver-HASH/pod-address-httpserver.jar, HASH covering
# pom.xml and src/: a build is reused until one of them changes. Maven's log stays in
# pod-address-httpserver.mvn.log in the cache folder. Exit 1 when the build fails.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
die() { echo "build.sh: $*" >&2; exit 1; }
[ $# -eq 0 ] || die "usage: build.sh"
command -v mvn >/dev/null || die "Maven (mvn) is not installed"

hash="$(cd "$here" && find pom.xml src -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)"
cache_root="${DATAPORT_CACHE:-$HOME/.cache/dataport}"
dest="$cache_root/pod-address-httpserver-$hash"
jar="$dest/pod-address-httpserver.jar"
mkdir -p "$cache_root"
[ -f "$jar" ] && { echo "$jar"; exit 0; }

exec 9>"$cache_root/pod-address-httpserver.lock"
flock 9
[ -f "$jar" ] && { echo "$jar"; exit 0; }

work="$(mktemp -d "$cache_root/.pod-address-httpserver.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cp -r "$here/pom.xml" "$here/src" "$work/"
log="$cache_root/pod-address-httpserver.mvn.log"
echo "building pod-address-httpserver (Maven log: $log)" >&2
nice mvn -B -f "$work/pom.xml" package -Dpod-address-httpserver.out="$work/out" >"$log" 2>&1 \
  || { grep -E '^\[ERROR\]' "$log" | head -10 >&2; die "Maven failed; see $log"; }
rm -rf "$dest"
mv "$work/out" "$dest"
echo "$jar"
