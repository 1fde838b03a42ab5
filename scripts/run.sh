#!/usr/bin/env bash
# Starts dataport doing its real job: serving the portal on http://127.0.0.1:8080/.
#
# With a cluster configured (KUBECONFIG, or ~/.kube/config) it drives that cluster.
# Without one it first starts dataport's local test control plane (testenv/: real
# etcd, kube-apiserver and kube-controller-manager) with the Flink CRDs and the
# workload simulator, and every page says so. Ctrl-C stops everything it started.
# Flags are passed to `dataport serve` (see `dataport serve --help`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

ensure_commands cargo python3
say "building dataport (release; the first build takes 10 to 25 minutes on 2 idle cores, longer on a busy machine; the last crate, dataport itself, compiles for minutes without a new line)"
cargo build --release --locked
bin=${CARGO_TARGET_DIR:-$PWD/target}/release/dataport

if [[ -z "${KUBECONFIG:-}" && ! -f "$HOME/.kube/config" ]]; then
  ensure_commands go openssl python3 curl
  dir=$PWD/.dataport/cluster
  rm -rf "$dir"
  say "no cluster configured: starting the local test control plane in $dir"
  # With Java 17 and Maven the node runs Flink's pods as real Flink processes.
  simulate_args=() mode=simulated
  if command -v java >/dev/null && command -v mvn >/dev/null; then
    say "assembling Flink $REAL_FLINK_RELEASE from Maven for the local node (first time: a few minutes)"
    if prepare_real_flink; then
      simulate_args=(--run-processes --process-root "$dir/node") mode=real-flink
    else
      say "Flink could not be assembled: the local node simulates every pod"
    fi
  else
    say "no java or mvn: the local node simulates every pod (install openjdk-17-jdk-headless and maven to run Flink for real)"
  fi
  # The watchdog watches this shell's pid, which `exec` below hands to the
  # portal: when the portal stops, so do the control plane and the simulator.
  start_local_cluster "$dir" "$bin" "${simulate_args[@]}"
  export KUBECONFIG=$dir/kubeconfig DATAPORT_LOCAL_CLUSTER=$mode
elif [[ -z "${KUBECONFIG:-}" ]]; then
  export KUBECONFIG=$HOME/.kube/config
fi

# The first admin: a random password made once for this checkout (never a
# default one), used only when the database has no user yet.
if [[ -z "${DATAPORT_ADMIN_USER:-}" ]]; then
  mkdir -p .dataport
  password_file=$PWD/.dataport/admin-password
  [[ -s "$password_file" ]] || (umask 077; python3 -c 'import secrets; print(secrets.token_urlsafe(18))' >"$password_file")
  export DATAPORT_ADMIN_USER=admin DATAPORT_ADMIN_PASSWORD
  DATAPORT_ADMIN_PASSWORD=$(cat "$password_file")
  say "log in as admin with the password in $password_file (made on the first start; change users at /users)"
fi

say "dataport on http://${DATAPORT_LISTEN:-127.0.0.1:8080}/"
exec "$bin" serve "$@"
