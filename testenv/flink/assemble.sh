#!/usr/bin/env bash
# Assemble (or reuse) the lib/, opt/ and plugins/ folders of the official `flink:VERSION` image
# from Flink's own Maven artifacts of exactly that release, and print the folder.
#
#   testenv/flink/assemble.sh VERSION        e.g. 1.20.0, 2.0.0
#
# The folder is ${DATAPORT_CACHE:-~/.cache/dataport}/flink-VERSION/{lib,opt,plugins}. It is reused
# while it was assembled from the same pom.xml (its hash is kept in flink-VERSION/.pom-sha256);
# a changed pom.xml rebuilds it. Maven's own repository (~/.m2) keeps the jars, so a rebuild
# after a pom change only downloads what is new.
#
# Exit status: 0 and the folder on stdout; 2 when an artifact of that release does not resolve
# from the registry reachable here (the artifacts are named on stderr); 1 on any other failure.
# Maven's log stays in flink-VERSION.mvn.log next to the folder.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
pom="$here/pom.xml"

die() { echo "assemble.sh: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: assemble.sh VERSION (e.g. 1.20.0)"
version="$1"
[[ "$version" =~ ^([0-9]+)\.[0-9]+\.[0-9]+$ ]] || die "'$version' is not a Flink release (MAJOR.MINOR.PATCH)"
line="${BASH_REMATCH[1]}"
case "$line" in
  1|2) ;;
  *) die "Flink $version: only the 1.x and 2.x lines are described in pom.xml" ;;
esac
command -v mvn >/dev/null || die "Maven (mvn) is not installed"

cache_root="${DATAPORT_CACHE:-$HOME/.cache/dataport}"
dest="$cache_root/flink-$version"
log="$cache_root/flink-$version.mvn.log"
pom_hash="$(sha256sum "$pom" | cut -c1-64)"
mkdir -p "$cache_root"

assembled() { [ "$(cat "$dest/.pom-sha256" 2>/dev/null)" = "$pom_hash" ]; }

if assembled; then
  echo "$dest"
  exit 0
fi

# One assembly per release at a time (tests may ask in parallel); the loser reuses the winner's.
exec 9>"$dest.lock"
flock 9
if assembled; then
  echo "$dest"
  exit 0
fi

work="$(mktemp -d "$cache_root/.flink-$version.XXXXXX")"
trap 'rm -rf "$work"' EXIT

echo "assembling Flink $version (Maven log: $log)" >&2
if ! nice mvn -B -f "$pom" package \
      -Dflink.version="$version" -Dflink.line="$line" -Dflink.out="$work/out" >"$log" 2>&1; then
  # Maven lists every jar it could not get in one line ("The following artifacts could not be
  # resolved: G:A:TYPE:V, G:A:TYPE:V: <why the first failed>"); a single one as "Could not find
  # artifact G:A:TYPE:V" or, once that failure is cached in ~/.m2, "Failure to find G:A:TYPE:V" /
  # "G:A:TYPE:V was not found in <repository> during a previous attempt";
  # a dependency whose pom is missing as "Failed to read artifact descriptor for G:A:TYPE:V"
  # (Maven stops collecting there, so only the first such pom is named).
  missing="$( { grep -oE 'The following artifacts could not be resolved: ([^ ,]+, )*[^ ,]+:' "$log" \
                  | sed 's/^The following artifacts could not be resolved: //; s/:$//' | tr ',' '\n';
                grep -oE '(Could not find artifact|Failure to find|Failed to read artifact descriptor for) [^ ]+' "$log" \
                  | awk '{print $NF}';
                grep -oE '[^ ]+ was not found in ' "$log" | awk '{print $1}'; } \
             | tr -d ' ' | sed 's/:$//; /^$/d' | sort -u | tr '\n' ' ' || true)"
  if [ -n "$missing" ]; then
    echo "assemble.sh: Flink $version cannot be assembled here: not resolvable: $missing(see $log)" >&2
    exit 2
  fi
  echo "assemble.sh: Maven failed for Flink $version; see $log:" >&2
  grep -E '^\[ERROR\]' "$log" | head -5 >&2 || true
  exit 1
fi

echo "$pom_hash" >"$work/out/.pom-sha256"
rm -rf "$dest"
mv "$work/out" "$dest"
echo "$dest"
