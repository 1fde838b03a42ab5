#!/usr/bin/env bash
# Assemble (or reuse) the runtime classpath of a Java release from its Maven artifacts, for the
# testenv scripts that run one on the process node (s3/assemble.sh, zookeeper/assemble.sh), and
# print the folder.
#
#   testenv/maven-classpath.sh NAME LABEL VERSION POM
#
# POM copies the release's runtime dependencies into ${NAME}.out/lib when given -DNAME.version and
# -DNAME.out. The folder is ${DATAPORT_CACHE:-~/.cache/dataport}/NAME-VERSION/lib/*.jar; it is
# reused while it was assembled from the same POM (its hash is kept in NAME-VERSION/.pom-sha256,
# written last: the process node takes only finished folders). LABEL names the release in messages.
#
# Exit status: 0 and the folder on stdout; 2 when an artifact does not resolve from the registry
# reachable here (named on stderr); 1 on any other failure. Maven's log stays in
# NAME-VERSION.mvn.log next to the folder.
set -euo pipefail

die() { echo "maven-classpath.sh: $*" >&2; exit 1; }
[ $# -eq 4 ] || die "usage: maven-classpath.sh NAME LABEL VERSION POM"
name=$1 label=$2 version=$3 pom=$4
command -v mvn >/dev/null || die "Maven (mvn) is not installed"

cache_root="${DATAPORT_CACHE:-$HOME/.cache/dataport}"
dest="$cache_root/$name-$version"
log="$cache_root/$name-$version.mvn.log"
pom_hash="$(sha256sum "$pom" | cut -c1-64)"
mkdir -p "$cache_root"

assembled() { [ "$(cat "$dest/.pom-sha256" 2>/dev/null)" = "$pom_hash" ]; }

if assembled; then echo "$dest"; exit 0; fi

# One assembly at a time (tests may ask in parallel); the loser reuses the winner's.
exec 9>"$dest.lock"
flock 9
if assembled; then echo "$dest"; exit 0; fi

work="$(mktemp -d "$cache_root/.$name-$version.XXXXXX")"
trap 'rm -rf "$work"' EXIT

echo "assembling $label $version (Maven log: $log)" >&2
if ! nice mvn -B -f "$pom" package -D"$name.version=$version" -D"$name.out=$work/out" >"$log" 2>&1; then
  missing="$( { grep -oE '(Could not find artifact|Failure to find|Failed to read artifact descriptor for) [^ ]+' "$log" \
                  | awk '{print $NF}';
                grep -oE '[^ ]+ was not found in ' "$log" | awk '{print $1}'; } | sort -u | tr '\n' ' ' || true)"
  if [ -n "$missing" ]; then
    echo "maven-classpath.sh: $label $version cannot be assembled here: not resolvable: $missing(see $log)" >&2
    exit 2
  fi
  echo "maven-classpath.sh: Maven failed for $label $version; see $log:" >&2
  grep -E '^\[ERROR\]' "$log" | head -5 >&2 || true
  exit 1
fi

echo "$pom_hash" >"$work/out/.pom-sha256"
rm -rf "$dest"
mv "$work/out" "$dest"
echo "$dest"
