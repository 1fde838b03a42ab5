#!/usr/bin/env bash
# Benchmark: requests/s and latency of /catalog served by dataport, next to the
# same bytes served as a static file by nginx, on loopback. Prints a table and
# the ratio dataport / nginx (target: at least 50 %). A benchmark, not a test.
#
#   bench/pages.sh [SECONDS] [CONNECTIONS]     defaults: 10 s, 64 connections
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

duration=${1:-10}
connections=${2:-64}
threads=2

ensure_commands cargo curl python3
ensure_debian_packages nginx-light wrk
cargo build --release --locked --quiet

work=$(mktemp -d /tmp/dataport-bench.XXXXXX)
cleanup() {
  [[ -f "$work/dataport.pid" ]] && kill "$(cat "$work/dataport.pid")" 2>/dev/null || true
  [[ -f "$work/nginx.pid" ]] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  sleep 0.5
  rm -rf "$work"
}
trap cleanup EXIT

dataport_port=$(free_port)
nginx_port=$(free_port)
RUST_LOG=warn env -u KUBECONFIG target/release/dataport serve --listen "127.0.0.1:$dataport_port" \
  --database-url "sqlite://$work/bench.db" </dev/null >"$work/dataport.log" 2>&1 &
echo $! >"$work/dataport.pid"
wait_for_url() {
  local deadline=$((SECONDS + 30))
  until curl -sf "$1" >/dev/null; do
    ((SECONDS < deadline)) || { say "$1 did not answer in 30 s"; tail -n 20 "$work"/*.log >&2; exit 1; }
    sleep 0.1
  done
}
wait_for_url "http://127.0.0.1:$dataport_port/healthz"

# nginx serves exactly the bytes dataport renders for /catalog.
mkdir -p "$work/www"
chmod 755 "$work" "$work/www"  # nginx workers run as an unprivileged user
curl -sf "http://127.0.0.1:$dataport_port/catalog" -o "$work/www/catalog"
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
wait_for_url "http://127.0.0.1:$nginx_port/catalog"
cmp -s <(curl -sf "http://127.0.0.1:$dataport_port/catalog") "$work/www/catalog" \
  || { say "dataport's /catalog changed between requests"; exit 1; }

# Prints "requests_per_second p50_ms p99_ms" for one wrk run.
measure() {
  wrk -t"$threads" -c"$connections" -d"${duration}s" --latency "$1" | python3 -c '
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

say "warming up"
wrk -t1 -c4 -d2s "http://127.0.0.1:$dataport_port/catalog" >/dev/null
say "measuring /catalog for ${duration}s each at $connections connections ($threads wrk threads, $(nproc) cores)"
read -r d_rps d_p50 d_p99 < <(measure "http://127.0.0.1:$dataport_port/catalog")
read -r n_rps n_p50 n_p99 < <(measure "http://127.0.0.1:$nginx_port/catalog")
bytes=$(wc -c <"$work/www/catalog")

printf '\n%-22s %12s %10s %10s\n' "/catalog ($bytes bytes)" "requests/s" "p50 ms" "p99 ms"
printf '%-22s %12s %10s %10s\n' "dataport" "$d_rps" "$d_p50" "$d_p99"
printf '%-22s %12s %10s %10s\n' "nginx (static file)" "$n_rps" "$n_p50" "$n_p99"
python3 -c "r = $d_rps / $n_rps; print(f'dataport / nginx: {r:.0%} of nginx requests/s (target at least 50%): ' + ('met' if r >= 0.5 else 'NOT met'))"
