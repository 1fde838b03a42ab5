#!/usr/bin/env bash
# Build (or reuse) a real Prometheus server and promtool from upstream's Go module, and print the
# folder holding both. The process node runs prom/prometheus pods with this server; the tests check
# rendered configurations with this promtool.
#
#   testenv/prometheus/build.sh
#
# Why not Debian's `prometheus` package: it is built without Kubernetes service discovery
# (NEWS.Debian, 1.5.0+ds-1: "Kubernetes support has been completely removed"), so its server
# cannot discover pods and its promtool refuses `kubernetes_sd_configs`.
#
# Prometheus 3.5.0 (its long-term-support line; Apache-2.0) is published as the Go module version
# v0.305.0 of github.com/prometheus/prometheus, pinned in go.mod. The folder is
# ${DATAPORT_CACHE:-~/.cache/dataport}/prometheus-3.5.0-HASH/, HASH covering go.mod, go.sum and
# tools.go: a build is reused until one of them changes. The web UI's assets are not built in
# (upstream's `builtinassets` tag needs its npm build): the HTTP API, /metrics and the health
# endpoints are served, the UI pages are not. Exit 1 when the build fails.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
release=3.5.0
die() { echo "build.sh: $*" >&2; exit 1; }
[ $# -eq 0 ] || die "usage: build.sh"
command -v go >/dev/null || die "Go is not installed"

hash="$(cd "$here" && cat go.mod go.sum tools.go | sha256sum | cut -c1-16)"
cache_root="${DATAPORT_CACHE:-$HOME/.cache/dataport}"
dest="$cache_root/prometheus-$release-$hash"
mkdir -p "$cache_root"
[ -x "$dest/prometheus" ] && { echo "$dest"; exit 0; }

exec 9>"$cache_root/prometheus.lock"
flock 9
[ -x "$dest/prometheus" ] && { echo "$dest"; exit 0; }

log="$cache_root/prometheus.go.log"
echo "building Prometheus $release from its Go module (a few minutes the first time; log: $log)" >&2
version=github.com/prometheus/common/version
mkdir -p "$dest"
# promtool first, the server last: the node takes a folder with `prometheus` as finished.
for program in promtool prometheus; do
  (cd "$here" && nice go build -trimpath -o "$dest/$program.tmp" \
    -ldflags "-s -w -X $version.Version=$release -X $version.Branch=release-3.5 -X $version.BuildUser=dataport" \
    "github.com/prometheus/prometheus/cmd/$program") >>"$log" 2>&1 \
    || { tail -20 "$log" >&2; die "go build of $program failed; see $log"; }
  mv "$dest/$program.tmp" "$dest/$program"
done
echo "$dest"
