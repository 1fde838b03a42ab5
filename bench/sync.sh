#!/usr/bin/env bash
# Benchmark: what keeping statuses in step costs the API server. Against the
# local control plane with the simulator, installs ZooKeeper instances (one
# StatefulSet and two Services each, their pods run by the simulated node)
# until SMALL, then LARGE exist and are Running, and after each counts the
# requests dataport sends to the API server (dataport_kube_requests_total)
# over SECONDS of steady state, as requests per minute. Target: the same at
# both sizes (status comes from watches, not from polling per instance).
# Then, with LARGE instances, loads an instance page and a list page with wrk
# (64 connections) and counts the API-server requests that load causes.
#
#   bench/sync.sh [SMALL] [LARGE] [SECONDS]      defaults: 10, 1000, 60
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

small=${1:-10}
large=${2:-1000}
seconds=${3:-60}
ensure_commands cargo go openssl python3 curl
ensure_debian_packages wrk
cargo build --release --locked --quiet --bin dataport
bin=$PWD/target/release/dataport
work=$(mktemp -d /tmp/dataport-bench-sync.XXXXXX)
trap 'testenv/controlplane.sh stop "$work/cluster" >/dev/null 2>&1 || true; kill "$(cat "$work/portal.pid" 2>/dev/null)" 2>/dev/null || true; rm -rf "$work"' EXIT

start_bench_portal "$work" "$bin"

BENCH_TOKEN=$token python3 - "$port" "$small" "$large" "$seconds" <<'PY'
import json, os, sys, time, urllib.request

token = os.environ["BENCH_TOKEN"]
base = f"http://127.0.0.1:{sys.argv[1]}"
small, large, seconds = (int(a) for a in sys.argv[2:5])

def call(path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, headers={"content-type": "application/json", "authorization": "Bearer " + token})
    with urllib.request.urlopen(request) as answer:
        return json.loads(answer.read().decode()) if path != "/metrics" else answer.read().decode()

def kube_requests():
    for line in call("/metrics").splitlines():
        if line.startswith("dataport_kube_requests_total"):
            return int(float(line.split()[-1]))
    return 0

installed = 0
def grow_to(count):
    global installed
    started = time.monotonic()
    while installed < count:
        call("/api/v1/instances", {"app": "zookeeper", "name": f"zk-{installed:04}",
                                   "namespace": f"bench-{installed % 10}", "params": {"replicas": 1}})
        installed += 1
    while call("/api/v1/instances?status=Running")["total"] < count:
        assert time.monotonic() - started < 900, "instances never all Running"
        time.sleep(1)
    return time.monotonic() - started

rows = []
for count in (small, large):
    took = grow_to(count)
    time.sleep(5)  # let the last status writes and watch events settle
    before = kube_requests()
    time.sleep(seconds)
    per_minute = (kube_requests() - before) * 60 / seconds
    rows.append((count, took, per_minute))
    print(f"{count} instances Running after {took:.0f} s; {per_minute:.1f} API requests/min at steady state", file=sys.stderr)

print(f"\n{'instances':>10} {'API requests/min (steady state)':>32}")
for count, _, per_minute in rows:
    print(f"{count:>10} {per_minute:>32.1f}")
grows = rows[1][2] > rows[0][2] + 2
print("status-sync requests " + ("GROW with the number of instances: NOT met" if grows else "do not grow with the number of instances: met"))

import re, subprocess
def load(path, seconds=10):
    text = subprocess.run(["wrk", "-t2", "-c64", f"-d{seconds}s", "--latency", "-H", "Authorization: Bearer " + token, base + path],
                          capture_output=True, text=True, check=True).stdout
    def ms(value):
        number, unit = re.match(r"([\d.]+)(us|ms|s)", value).groups()
        return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    assert "Non-2xx" not in text, text
    return (float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)),
            ms(re.search(r"\s50%\s+(\S+)", text).group(1)), ms(re.search(r"\s99%\s+(\S+)", text).group(1)))

instance = call("/api/v1/instances?page=5")["instances"][0]["id"]
print(f"\nwith {large} instances in the cluster, 64 connections, 10 s each")
print(f"{'page':48} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'API requests':>13}")
for path in (f"/instances/{instance}", "/instances?page=10"):
    before = kube_requests()
    rps, p50, p99 = load(path)
    print(f"{path:48} {rps:>8.0f} {p50:>7.2f} {p99:>7.2f} {kube_requests() - before:>13}")
PY
