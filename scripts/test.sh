#!/usr/bin/env bash
# Every check and test of dataport, on a fresh machine or a used one:
# formatting, lints, unit tests, and integration tests against a real Postgres
# (throwaway, started here), the real control plane (testenv/, built or reused)
# and headless Chromium. Installs the Debian packages it needs when missing.
# Ends with a table of how long each phase took, also when one fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

at_exit print_phases

phase "install missing packages" ensure_debian_packages postgresql chromium chromium-driver maven openjdk-17-jdk-headless
ensure_commands cargo go openssl python3 curl java mvn setpriv
[[ -n "${DATAPORT_TEST_POSTGRES_URL:-}" ]] || phase "start Postgres" start_postgres

# Only the tests need the control plane and the Java and Go artifacts: they build in the
# background, next to the Rust code (on a fresh machine most of their time is downloads).
build_control_plane() { testenv/controlplane.sh build >/dev/null; }
if testenv/controlplane.sh is-built; then
  background_phase "control plane (reused)" build_control_plane
else
  background_phase "control plane (built)" build_control_plane
fi
background_phase "Flink $REAL_FLINK_RELEASE and $REAL_FLINK_2_RELEASE, the test job, S3Proxy, mc-standin, ZooKeeper (Maven); Prometheus (Go)" prepare_real_flink
phase "cargo fmt --check" cargo fmt --all -- --check
phase "cargo clippy" cargo clippy --all-targets --locked -- -D warnings
phase "build tests" cargo test --all-targets --locked --no-run
phase "wait for the background builds" await_background
phase "cargo test" cargo test --all-targets --locked --no-fail-fast
phase "bad input and faults (summary)" scripts/fuzz.sh
