# Shared by scripts/*.sh: install what a fresh machine lacks, start throwaway services.
# shellcheck shell=bash

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# What runs when the calling script exits, in order: add with `at_exit CMD`.
exit_actions=()
at_exit() {
  exit_actions+=("$*")
  trap 'for action in "${exit_actions[@]}"; do eval "$action"; done' EXIT
}

# `phase NAME CMD...` runs CMD in this shell (so what it exports stays) and
# records how long it took; `print_phases` prints the table, naming a phase
# that failed (set -e ends the script inside it).
phases=()
current_phase=""
phase() {
  current_phase=$1
  phase_started=$SECONDS
  shift
  say "$current_phase"
  "$@"
  phases+=("$(printf '  %-34s %6d s' "$current_phase" $((SECONDS - phase_started)))")
  current_phase=""
}
phase_started=$SECONDS

# `background_phase NAME CMD...` starts CMD in a subshell in the background, its output
# in a log: on a fresh machine the Go and Maven builds wait on downloads for minutes, while
# the Rust code compiles. `await_background` waits for every one started, records how long
# each took, and fails (printing the end of its log) when one failed.
background_names=() background_pids=() background_logs=() background_started=()
background_phase() {
  local name=$1 log
  shift
  log=$(mktemp -t dataport-phase.XXXXXX)
  say "$name (in the background; log: $log)"
  # A script that ends early (a failed lint) leaves no build behind.
  ((${#background_pids[@]})) || at_exit 'kill "${background_pids[@]}" 2>/dev/null || true'
  # The subshell notes when it ended: the wait may come later.
  ("$@"; echo "$SECONDS" >"$log.ended") >"$log" 2>&1 &
  background_names+=("$name") background_pids+=("$!") background_logs+=("$log")
  background_started+=("$SECONDS")
}
await_background() {
  local i status ended
  for i in "${!background_pids[@]}"; do
    status=0
    wait "${background_pids[$i]}" || status=$?
    if ((status)); then
      tail -40 "${background_logs[$i]}" >&2
      current_phase=${background_names[$i]} phase_started=${background_started[$i]}
      return "$status"
    fi
    ended=$(cat "${background_logs[$i]}.ended" 2>/dev/null || echo "$SECONDS")
    phases+=("$(printf '  %-34s %6d s  (in the background)' "${background_names[$i]}" \
      $((ended - background_started[i])))")
  done
  background_names=() background_pids=() background_logs=() background_started=()
}

print_phases() {
  ((${#phases[@]})) || [[ -n $current_phase ]] || return 0
  printf '\nphases\n' >&2
  printf '%s\n' "${phases[@]}" >&2
  [[ -z $current_phase ]] || printf '  %-34s %6d s  FAILED\n' "$current_phase" $((SECONDS - phase_started)) >&2
  printf '  %-34s %6d s\n' "total" "$SECONDS" >&2
}

# Installs Debian packages that are missing (needs root, as on CI and dev machines here).
ensure_debian_packages() {
  local missing=() package
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  ((${#missing[@]})) || return 0
  if [[ $(id -u) -ne 0 ]]; then
    say "missing Debian packages: ${missing[*]} (install them, or run as root)"; return 1
  fi
  say "installing ${missing[*]}"
  if [[ -z "${DATAPORT_APT_UPDATED:-}" ]]; then
    apt-get update -qq
    export DATAPORT_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

ensure_commands() {
  local command
  for command in "$@"; do
    command -v "$command" >/dev/null || { say "$command is needed and not installed"; return 1; }
  done
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Starts a throwaway Postgres server on loopback and exports DATAPORT_TEST_POSTGRES_URL.
# It is stopped and deleted when the calling shell exits.
start_postgres() {
  local bin dir port run_as=()
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [[ -x "$bin/initdb" ]] || { say "no Postgres server found under /usr/lib/postgresql"; return 1; }
  dir=$(mktemp -d /tmp/dataport-pg.XXXXXX)
  port=$(free_port)
  # initdb and postgres refuse to run as root.
  if [[ $(id -u) -eq 0 ]]; then chown postgres "$dir"; run_as=(runuser -u postgres --); fi
  "${run_as[@]}" "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 >/dev/null
  "${run_as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=200" start >/dev/null
  DATAPORT_PG_DIR=$dir DATAPORT_PG_BIN=$bin
  export DATAPORT_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
  at_exit stop_postgres
  say "Postgres $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (throwaway, $dir)"
}

stop_postgres() {
  [[ -n "${DATAPORT_PG_DIR:-}" ]] || return 0
  local run_as=()
  [[ $(id -u) -eq 0 ]] && run_as=(runuser -u postgres --)
  "${run_as[@]}" "$DATAPORT_PG_BIN/pg_ctl" -D "$DATAPORT_PG_DIR/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$DATAPORT_PG_DIR"
}

# Starts the local control plane in folder $1 with the Flink CRDs and the
# simulator ($2: the dataport binary; further arguments go to `dataport
# simulate`); all of it stops when this shell ends.
start_local_cluster() {
  local dir=$1 bin=$2
  shift 2
  testenv/controlplane.sh start "$dir" --watch-pid $$ -- "$bin" crds --install >/dev/null
  "$bin" simulate --kubeconfig "$dir/kubeconfig" "$@" </dev/null >"$dir/simulator.log" 2>&1 &
  echo $! >"$dir/simulator.pid"
}

# The Flink releases the local cluster runs for real (testenv/flink/RELEASES.md):
# the 1.20 line's and the 2.x line's that assemble whole from Maven.
REAL_FLINK_RELEASE=1.20.0
REAL_FLINK_2_RELEASE=2.0.0

# Assembles what the process node needs to run Flink for real: the Flink
# release from Maven, Flink's native client for the stand-in operator, the
# S3 server and mc stand-in for MinIO's pods, Prometheus, ZooKeeper and the
# test job. Cached under
# ~/.cache/dataport; a second run takes seconds.
prepare_real_flink() {
  local release
  for release in "$REAL_FLINK_RELEASE" "$REAL_FLINK_2_RELEASE"; do
    testenv/flink/assemble.sh "$release" >/dev/null
    testenv/flink/deployer.sh "$release" >/dev/null
    testenv/flink-test-job/build.sh "$release" >/dev/null
  done
  # MinIO's stand-ins on the process node: S3Proxy (server) and mc-standin (mc).
  testenv/s3/assemble.sh >/dev/null
  testenv/s3/mc-standin/build.sh >/dev/null
  # Each Flink pod's metrics port on its own pod IP (testenv/flink/pod-address-httpserver).
  testenv/flink/pod-address-httpserver/build.sh >/dev/null
  # A real Prometheus (and promtool) for prom/prometheus pods, from its Go module.
  testenv/prometheus/build.sh >/dev/null
  # Apache ZooKeeper for zookeeper pods (server and zkCli.sh), from its Maven artifacts.
  testenv/zookeeper/assemble.sh >/dev/null
}

# Benchmarks: adds an admin with a random password to the database $2 (with
# the dataport binary $1) and prints an API token of theirs.
bench_token() {
  local bin=$1 database=$2
  DATAPORT_PASSWORD=$(python3 -c 'import secrets; print(secrets.token_hex(16))') \
    "$bin" user add --admin bench --database-url "$database" >/dev/null
  "$bin" token add --user bench --name bench --database-url "$database"
}

# Benchmarks: the local cluster in $1/cluster and a portal on it with a fresh
# SQLite store, on a free port (set in `port`), its pid in $1/portal.pid, and
# an admin's API token in `token` (send it as `Authorization: Bearer`).
start_bench_portal() {
  local work=$1 bin=$2
  start_local_cluster "$work/cluster" "$bin"
  token=$(bench_token "$bin" "sqlite://$work/bench.db")
  port=$(free_port)
  RUST_LOG=warn "$bin" serve --listen "127.0.0.1:$port" --database-url "sqlite://$work/bench.db" \
    --kubeconfig "$work/cluster/kubeconfig" </dev/null >"$work/portal.log" 2>&1 &
  echo $! >"$work/portal.pid"
  until curl -sf "http://127.0.0.1:$port/readyz" >/dev/null; do sleep 0.1; done
}
