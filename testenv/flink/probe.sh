#!/usr/bin/env bash
# Probe which Flink releases can be assembled whole here (every artifact of pom.xml, transitive
# dependencies included): one assembly attempt per release, one release after the other, so the
# registry sees one ordinary Maven build at a time. Writes a tab-separated line per release:
#   VERSION  ok|missing|error  ARTIFACTS-OR-MESSAGE
# to stdout. RELEASES.md and resolvable-releases.txt record a run of it.
#
#   testenv/flink/probe.sh [VERSION...]     (default: the 1.20.x and 2.x releases below)
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
versions=("$@")
if [ ${#versions[@]} -eq 0 ]; then
  versions=(1.20.0 1.20.1 1.20.2 1.20.3 1.20.4 1.20.5
            2.0.0 2.0.1 2.0.2 2.1.0 2.1.1 2.1.2 2.1.3 2.2.0 2.2.1)
fi

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

for v in "${versions[@]}"; do
  # A throwaway cache: the probe only asks whether the release resolves; Maven's ~/.m2 keeps the jars.
  DATAPORT_CACHE="$scratch/$v" "$here/assemble.sh" "$v" >/dev/null 2>"$scratch/err"
  rc=$?
  case $rc in
    0) printf '%s\tok\t-\n' "$v" ;;
    2) printf '%s\tmissing\t%s\n' "$v" "$(sed -n 's/.*not resolvable: \(.*\) (see .*/\1/p' "$scratch/err" | tail -1)" ;;
    *) printf '%s\terror\t%s\n' "$v" "$(grep -v '^assembling' "$scratch/err" | tr '\n' ' ' | cut -c1-300)" ;;
  esac
  cp "$scratch/$v/flink-$v.mvn.log" "${PROBE_LOGS:-$scratch}/flink-$v.mvn.log" 2>/dev/null || true
  rm -rf "$scratch/$v"
done
