#!/usr/bin/env bash
# Assemble (or reuse) the classpath of Apache ZooKeeper (Apache-2.0), whose server and client the
# process node runs for pods of the official `zookeeper` image, from its Maven artifacts, and print
# the folder.
#
#   testenv/s3/assemble.sh            the pinned release (ZOOKEEPER_VERSION below)
#
# The folder is ${DATAPORT_CACHE:-~/.cache/dataport}/zookeeper-VERSION/lib/*.jar. It is reused while
# it was assembled from the same pom.xml (its hash is kept in zookeeper-VERSION/.pom-sha256).
# Run it as the node does (src/simulator/node/process/zookeeper.rs), or:
#   java -cp 'FOLDER/lib/*' org.apache.zookeeper.server.quorum.QuorumPeerMain zoo.cfg
#
# Exit status: 0 and the folder on stdout; 2 when an artifact does not resolve from the registry
# reachable here (named on stderr); 1 on any other failure. Maven's log stays in
# zookeeper-VERSION.mvn.log next to the folder.
set -euo pipefail

# 3.9.3: the newest release dataport's ZooKeeper app offers (src/catalog/apps/zookeeper.rs).
ZOOKEEPER_VERSION="${ZOOKEEPER_VERSION:-3.9.3}"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
pom="$here/pom.xml"

die() { echo "assemble.sh: $*" >&2; exit 1; }
[ $# -eq 0 ] || die "usage: assemble.sh (the release is ZOOKEEPER_VERSION, default 3.9.3)"
command -v mvn >/dev/null || die "Maven (mvn) is not installed"

version="$ZOOKEEPER_VERSION"
cache_root="${DATAPORT_CACHE:-$HOME/.cache/dataport}"
dest="$cache_root/zookeeper-$version"
log="$cache_root/zookeeper-$version.mvn.log"
pom_hash="$(sha256sum "$pom" | cut -c1-64)"
mkdir -p "$cache_root"

assembled() { [ "$(cat "$dest/.pom-sha256" 2>/dev/null)" = "$pom_hash" ]; }

if assembled; then echo "$dest"; exit 0; fi

# One assembly at a time (tests may ask in parallel); the loser reuses the winner's.
exec 9>"$dest.lock"
flock 9
if assembled; then echo "$dest"; exit 0; fi

work="$(mktemp -d "$cache_root/.zookeeper-$version.XXXXXX")"
trap 'rm -rf "$work"' EXIT

echo "assembling ZooKeeper $version (Maven log: $log)" >&2
if ! nice mvn -B -f "$pom" package -Dzookeeper.version="$version" -Dzookeeper.out="$work/out" >"$log" 2>&1; then
  missing="$( { grep -oE '(Could not find artifact|Failure to find|Failed to read artifact descriptor for) [^ ]+' "$log" \
                  | awk '{print $NF}';
                grep -oE '[^ ]+ was not found in ' "$log" | awk '{print $1}'; } | sort -u | tr '\n' ' ' || true)"
  if [ -n "$missing" ]; then
    echo "assemble.sh: ZooKeeper $version cannot be assembled here: not resolvable: $missing(see $log)" >&2
    exit 2
  fi
  echo "assemble.sh: Maven failed for ZooKeeper $version; see $log:" >&2
  grep -E '^\[ERROR\]' "$log" | head -5 >&2 || true
  exit 1
fi

echo "$pom_hash" >"$work/out/.pom-sha256"
rm -rf "$dest"
mv "$work/out" "$dest"
echo "$dest"
