#!/usr/bin/env bash
# Every check and test of dataport, on a fresh machine or a used one:
# formatting, lints, unit tests, and integration tests against a real Postgres
# (throwaway, started here), the real control plane (testenv/, built or reused)
# and headless Chromium. Installs the Debian packages it needs when missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

ensure_commands cargo go openssl python3 curl
ensure_debian_packages postgresql chromium chromium-driver
[[ -n "${DATAPORT_TEST_POSTGRES_URL:-}" ]] || start_postgres

say "test control plane binaries"
testenv/controlplane.sh build >/dev/null

say "cargo fmt --check"
cargo fmt --all -- --check
say "cargo clippy"
cargo clippy --all-targets --locked -- -D warnings
say "cargo test"
cargo test --all-targets --locked --no-fail-fast
say "bad input and faults (summary)"
scripts/fuzz.sh
