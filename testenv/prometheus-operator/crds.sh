#!/usr/bin/env bash
# Print the folder holding the Prometheus Operator's own CRDs (PodMonitor, PrometheusRule, ...),
# taken from its release's Go module, for tests that need a cluster serving those kinds.
#
#   testenv/prometheus-operator/crds.sh
#
# prometheus-operator v0.85.0 (Apache-2.0) is published as the Go module
# github.com/prometheus-operator/prometheus-operator; its zip carries
# example/prometheus-operator-crd/monitoring.coreos.com_*.yaml, the CRDs its Helm chart and
# bundle.yaml install. `go mod download` fetches it once into Go's module cache (checked
# against the checksum database) and reuses it. Exit 1 when Go or the download fails.
set -euo pipefail

version=v0.85.0
die() { echo "crds.sh: $*" >&2; exit 1; }
[ $# -eq 0 ] || die "usage: crds.sh"
command -v go >/dev/null || die "Go is not installed"

# Outside any module, so that no go.mod around decides what is fetched.
dir="$(cd "$(mktemp -d)" && GO111MODULE=on GOFLAGS=-mod=mod \
  go mod download -json "github.com/prometheus-operator/prometheus-operator@$version" \
  | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')" \
  || die "go mod download of prometheus-operator $version failed"
crds="$dir/example/prometheus-operator-crd"
[ -f "$crds/monitoring.coreos.com_podmonitors.yaml" ] || die "no CRDs in $crds"
echo "$crds"
