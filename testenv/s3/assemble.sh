#!/usr/bin/env bash
# Assemble (or reuse) the classpath of S3Proxy, the S3-compatible server (Apache-2.0) that stands
# in for MinIO's server in dataport's tests, from its Maven artifacts, and print the folder.
#
#   testenv/s3/assemble.sh            the pinned release (S3PROXY_VERSION below)
#
# The folder is ${DATAPORT_CACHE:-~/.cache/dataport}/s3proxy-VERSION/lib/*.jar. It is reused while
# it was assembled from the same pom.xml (its hash is kept in s3proxy-VERSION/.pom-sha256).
# Run it with run.sh, or: java -cp 'FOLDER/lib/*' org.gaul.s3proxy.Main --properties FILE.
#
# Exit status: 0 and the folder on stdout; 2 when an artifact does not resolve from the registry
# reachable here (named on stderr); 1 on any other failure. Maven's log stays in
# s3proxy-VERSION.mvn.log next to the folder.
set -euo pipefail

# 4.1.0: the newest release on 2026-11-30; it and 3.3.0 resolve whole here (README.md).
S3PROXY_VERSION="${S3PROXY_VERSION:-4.1.0}"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
pom="$here/pom.xml"

die() { echo "assemble.sh: $*" >&2; exit 1; }
[ $# -eq 0 ] || die "usage: assemble.sh (the release is S3PROXY_VERSION, default 4.1.0)"
command -v mvn >/dev/null || die "Maven (mvn) is not installed"

version="$S3PROXY_VERSION"
cache_root="${DATAPORT_CACHE:-$HOME/.cache/dataport}"
dest="$cache_root/s3proxy-$version"
log="$cache_root/s3proxy-$version.mvn.log"
pom_hash="$(sha256sum "$pom" | cut -c1-64)"
mkdir -p "$cache_root"

assembled() { [ "$(cat "$dest/.pom-sha256" 2>/dev/null)" = "$pom_hash" ]; }

if assembled; then echo "$dest"; exit 0; fi

# One assembly at a time (tests may ask in parallel); the loser reuses the winner's.
exec 9>"$dest.lock"
flock 9
if assembled; then echo "$dest"; exit 0; fi

work="$(mktemp -d "$cache_root/.s3proxy-$version.XXXXXX")"
trap 'rm -rf "$work"' EXIT

echo "assembling S3Proxy $version (Maven log: $log)" >&2
if ! nice mvn -B -f "$pom" package -Ds3proxy.version="$version" -Ds3proxy.out="$work/out" >"$log" 2>&1; then
  missing="$( { grep -oE '(Could not find artifact|Failure to find|Failed to read artifact descriptor for) [^ ]+' "$log" \
                  | awk '{print $NF}';
                grep -oE '[^ ]+ was not found in ' "$log" | awk '{print $1}'; } | sort -u | tr '\n' ' ' || true)"
  if [ -n "$missing" ]; then
    echo "assemble.sh: S3Proxy $version cannot be assembled here: not resolvable: $missing(see $log)" >&2
    exit 2
  fi
  echo "assemble.sh: Maven failed for S3Proxy $version; see $log:" >&2
  grep -E '^\[ERROR\]' "$log" | head -5 >&2 || true
  exit 1
fi

echo "$pom_hash" >"$work/out/.pom-sha256"
rm -rf "$dest"
mv "$work/out" "$dest"
echo "$dest"
