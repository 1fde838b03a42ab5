#!/usr/bin/env bash
# Benchmark: dataport's pages with INSTANCES instances in its store, next to
# the same bytes served as static files by nginx, on loopback. Prints, per
# page, requests/s, p50 and p99 and the ratio dataport / nginx; then
# dataport's memory (RSS) idle and at peak under load, and its cold start to
# a ready /readyz. A benchmark, not a test: it prints figures and the targets.
#
#   bench/pages.sh [INSTANCES] [SECONDS] [CONNECTIONS]   defaults: 10000, 10 s, 64
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

instances=${1:-10000}
duration=${2:-10}
connections=${3:-64}
threads=2

ensure_commands cargo curl python3
ensure_debian_packages nginx-light wrk
cargo build --release --locked --quiet --bin dataport --example seed

work=$(mktemp -d /tmp/dataport-bench.XXXXXX)
cleanup() {
  [[ -f "$work/dataport.pid" ]] && kill "$(cat "$work/dataport.pid")" 2>/dev/null || true
  [[ -f "$work/nginx.pid" ]] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  [[ -n "${sampler:-}" ]] && kill "$sampler" 2>/dev/null || true
  sleep 0.5
  rm -rf "$work"
}
trap cleanup EXIT

say "seeding $instances instances into a fresh SQLite store"
target/release/examples/seed "sqlite://$work/bench.db" "$instances"
token=$(bench_token target/release/dataport "sqlite://$work/bench.db")
auth="Authorization: Bearer $token"

dataport_port=$(free_port)
nginx_port=$(free_port)
# Cold start: from spawn to the first 200 of /readyz, polled every millisecond.
start_ms=$(python3 - "$work" "$dataport_port" <<'PY'
import http.client, os, subprocess, sys, time
work, port = sys.argv[1], int(sys.argv[2])
env = dict(os.environ, RUST_LOG="warn")
env.pop("KUBECONFIG", None)
started = time.monotonic()
process = subprocess.Popen(
    ["target/release/dataport", "serve", "--listen", f"127.0.0.1:{port}",
     "--database-url", f"sqlite://{work}/bench.db"],
    stdin=subprocess.DEVNULL, stdout=open(f"{work}/dataport.log", "w"),
    stderr=subprocess.STDOUT, env=env, start_new_session=True)
open(f"{work}/dataport.pid", "w").write(str(process.pid))
while time.monotonic() - started < 30:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        connection.request("GET", "/readyz")
        if connection.getresponse().status == 200:
            print(f"{(time.monotonic() - started) * 1000:.0f}")
            sys.exit(0)
    except OSError:
        pass
    time.sleep(0.001)
sys.exit("dataport was not ready within 30 s")
PY
)
pid=$(cat "$work/dataport.pid")
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$pid/status"; }
sleep 1
rss_idle=$(rss_kib)

# The pages, and one instance's id to open.
id=$(curl -sf -H "$auth" "http://127.0.0.1:$dataport_port/api/v1/instances?page=2" \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["instances"][7]["id"])')
last_page=$(( (instances + 49) / 50 ))
middle_page=$(( last_page > 1 ? last_page / 2 : 1 ))
pages=(
  "/catalog"
  "/instances?page=$middle_page"
  "/instances/$id"
  "/api/v1/instances?page=$middle_page"
)

# nginx serves exactly the bytes dataport renders, one file per page.
mkdir -p "$work/www"
chmod 755 "$work" "$work/www"  # nginx workers run as an unprivileged user
file_of() { printf '%s' "$1" | tr -c 'a-zA-Z0-9\n' '_'; }
for page in "${pages[@]}"; do
  curl -sf -H "$auth" "http://127.0.0.1:$dataport_port$page" -o "$work/www/$(file_of "$page")"
  cmp -s <(curl -sf -H "$auth" "http://127.0.0.1:$dataport_port$page") "$work/www/$(file_of "$page")" \
    || { say "dataport's $page changed between requests"; exit 1; }
done
cat >"$work/nginx.conf" <<NGINX
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  default_type text/html;
  server {
    listen 127.0.0.1:$nginx_port;
    root $work/www;
  }
}
NGINX
nginx -c "$work/nginx.conf" -p "$work" </dev/null >"$work/nginx.log" 2>&1
until curl -sf "http://127.0.0.1:$nginx_port/$(file_of /catalog)" >/dev/null; do sleep 0.1; done

# Prints "requests_per_second p50_ms p99_ms" for one wrk run.
measure() {
  wrk -t"$threads" -c"$connections" -d"${duration}s" --latency -H "$auth" "$1" | python3 -c '
import re, sys
text = sys.stdin.read()
def ms(value):
    number, unit = re.match(r"([\d.]+)(us|ms|s)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
p50 = ms(re.search(r"\s50%\s+(\S+)", text).group(1))
p99 = ms(re.search(r"\s99%\s+(\S+)", text).group(1))
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
if errors:
    sys.exit(f"{errors.group(1)} error responses")
print(f"{rps:.0f} {p50:.2f} {p99:.2f}")'
}

# Peak RSS while loaded, sampled every 100 ms.
( peak=0; while kill -0 "$pid" 2>/dev/null; do
    now=$(rss_kib); (( now > peak )) && { peak=$now; echo "$peak" >"$work/rss-peak"; }
    sleep 0.1
  done ) &
sampler=$!

say "measuring each page for ${duration}s at $connections connections ($threads wrk threads, $(nproc) cores)"
results=()
for page in "${pages[@]}"; do
  wrk -t1 -c4 -d2s -H "$auth" "http://127.0.0.1:$dataport_port$page" >/dev/null
  read -r d_rps d_p50 d_p99 < <(measure "http://127.0.0.1:$dataport_port$page")
  read -r n_rps n_p50 n_p99 < <(measure "http://127.0.0.1:$nginx_port/$(file_of "$page")")
  bytes=$(wc -c <"$work/www/$(file_of "$page")")
  results+=("$page $bytes $d_rps $d_p50 $d_p99 $n_rps $n_p50 $n_p99")
done
kill "$sampler" 2>/dev/null || true
rss_peak=$(cat "$work/rss-peak")

python3 - "$instances" "$connections" "$rss_idle" "$rss_peak" "$start_ms" "${results[@]}" <<'PY'
import sys
instances, connections, rss_idle, rss_peak, start_ms = sys.argv[1:6]
mib = lambda kib: int(kib) / 1024
print(f"\n{instances} instances in the store, {connections} connections; dataport | nginx serving the same bytes")
print(f"{'page':34} {'bytes':>7} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} | {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} | {'ratio':>5}  targets (>=50%, p99<10ms)")
for row in sys.argv[6:]:
    page, size, d_rps, d_p50, d_p99, n_rps, n_p50, n_p99 = row.split()
    ratio = float(d_rps) / float(n_rps)
    met = "met" if ratio >= 0.5 and float(d_p99) < 10 else "NOT met"
    print(f"{page:34} {size:>7} {d_rps:>8} {d_p50:>7} {d_p99:>7} | {n_rps:>8} {n_p50:>7} {n_p99:>7} | {ratio:>5.0%}  {met}")
rss_target = 40 if int(instances) == 0 else 150
print(f"\nRSS idle {mib(rss_idle):.1f} MiB (target < 40 MiB): {'met' if mib(rss_idle) < 40 else 'NOT met'}")
print(f"RSS peak under load {mib(rss_peak):.1f} MiB (target < {rss_target} MiB with {instances} instances): {'met' if mib(rss_peak) < rss_target else 'NOT met'}")
print(f"cold start to ready /readyz {start_ms} ms (target < 500 ms): {'met' if int(start_ms) < 500 else 'NOT met'}")
PY
