#!/usr/bin/env bash
# Benchmark: the latency the web interface proxy (/instances/{id}/ui/{name}/)
# adds to a request, next to the same request sent straight to the same
# upstream (a local HTTP server answering like Flink's /overview), on
# loopback, one request at a time. Prints p50, p99 and max of both and the
# added p99 (target <= 2 ms). A benchmark, not a test.
#
#   bench/webui-proxy.sh [REQUESTS] [BODY_BYTES]   defaults: 5000, Flink's /overview (~170 bytes)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo build --release --locked --quiet --example webui_proxy_bench
"${CARGO_TARGET_DIR:-target}/release/examples/webui_proxy_bench" "$@"
