//go:build tools

// Package tools pins the Prometheus release the process node runs: its two
// programs are built from this module's requirement of
// github.com/prometheus/prometheus (see build.sh).
package tools

import (
	_ "github.com/prometheus/prometheus/cmd/prometheus"
	_ "github.com/prometheus/prometheus/cmd/promtool"
)
