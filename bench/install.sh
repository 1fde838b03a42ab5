#!/usr/bin/env bash
# Benchmark: the portal-side install time (request received to all objects
# applied, from the operation's own timestamps) and the API-server requests per
# install (dataport_kube_requests_total), against the local control plane with
# the simulator. Target: under 300 ms and at most objects + 2 requests.
#
#   bench/install.sh [FLINK_INSTALLS]      default 20
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

installs=${1:-20}
ensure_commands cargo go openssl python3 curl
cargo build --release --locked --quiet
bin=$PWD/target/release/dataport
work=$(mktemp -d /tmp/dataport-bench-install.XXXXXX)
trap 'testenv/controlplane.sh stop "$work/cluster" >/dev/null 2>&1 || true; kill "$(cat "$work/portal.pid" 2>/dev/null)" 2>/dev/null || true; rm -rf "$work"' EXIT

start_bench_portal "$work" "$bin"

BENCH_TOKEN=$token python3 - "$port" "$installs" <<'PY'
import json, os, statistics, sys, time, urllib.request
from datetime import datetime

token = os.environ["BENCH_TOKEN"]

base = f"http://127.0.0.1:{sys.argv[1]}"
installs = int(sys.argv[2])

def call(path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, headers={"content-type": "application/json", "authorization": "Bearer " + token})
    with urllib.request.urlopen(request) as answer:
        return answer.read().decode()

def kube_requests():
    for line in call("/metrics").splitlines():
        if line.startswith("dataport_kube_requests_total"):
            return int(float(line.split()[-1]))
    return 0

def install(app, name, params):
    before = kube_requests()
    submitted = time.monotonic()
    created = json.loads(call("/api/v1/instances", {"app": app, "name": name, "namespace": "bench", "params": params}))
    while True:
        instance = json.loads(call(created["api"]))
        operation = instance["operations"][0]
        if operation["state"] in ("succeeded", "failed"):
            break
        time.sleep(0.005)
    observed = (time.monotonic() - submitted) * 1000
    assert operation["state"] == "succeeded", operation
    # The request's own timestamp is the instance's creation: the transaction
    # that stores it runs after the namespace and Secrets are created.
    start = datetime.fromisoformat(operation["created_at"].replace("Z", "+00:00"))
    end = datetime.fromisoformat(operation["finished_at"].replace("Z", "+00:00"))
    return observed, (end - start).total_seconds() * 1000, kube_requests() - before, len(instance["objects"])

rows = []
for app, name, params in [
    ("flink-kubernetes-operator", "flink-operator", {}),
    ("zookeeper", "zk", {"replicas": 1}),
    ("minio", "minio", {}),
]:
    rows.append((app, *install(app, name, params)))
flink = [install("flink", f"flink-{i}", {
    "operator": "flink-operator", "highAvailability": True, "haType": "zookeeper",
    "zookeeper": "zk", "storage": "s3", "minio": "minio"}) for i in range(installs)]

print("\nms: submit seen as applied by the client (polling every 5 ms) / stored to applied by the operation's timestamps")
print(f"{'install':<36} {'ms submit→applied':>18} {'ms stored→applied':>18} {'API requests':>13} {'objects':>8} {'target':>8}")
for app, observed, ms, requests, objects in rows:
    verdict = "met" if observed < 300 and requests <= objects + 2 else "NOT met"
    print(f"{app:<36} {observed:>18.1f} {ms:>18.1f} {requests:>13} {objects:>8} {verdict:>8}")
def p95(values):
    values = sorted(values)
    return values[max(0, int(len(values) * 0.95) - 1)]
observed = [o for o, _, _, _ in flink]
stored = [m for _, m, _, _ in flink]
requests = max(r for _, _, r, _ in flink)
objects = flink[0][3]
verdict = "met" if p95(observed) < 300 and requests <= objects + 2 else "NOT met"
print(f"{'flink, ZooKeeper HA on S3 (x%d)' % installs:<36} {'p50 %.0f p95 %.0f' % (statistics.median(observed), p95(observed)):>18} "
      f"{'p50 %.0f p95 %.0f' % (statistics.median(stored), p95(stored)):>18} {requests:>13} {objects:>8} {verdict:>8}")
PY
