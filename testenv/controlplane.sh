#!/usr/bin/env bash
# dataport's test Kubernetes control plane: etcd, kube-apiserver and
# kube-controller-manager built from the official Go modules (see README.md).
#
#   controlplane.sh build                      build kubestack, or reuse the cached build; print its path
#   controlplane.sh is-built                   exit 0 when the cached build is there (nothing is built)
#   controlplane.sh start DIR [--watch-pid P] [-- CMD...]
#                                              start on loopback in DIR (throwaway), wait for /readyz;
#                                              writes DIR/kubeconfig; with --watch-pid, stops itself
#                                              when process P ends (a test binary that panicked or was killed);
#                                              CMD runs with KUBECONFIG set once the API server is ready and
#                                              before the controllers start (install CRDs there: the garbage
#                                              collector then knows their kinds from its first sync, instead
#                                              of after its 30 s rediscovery)
#   controlplane.sh stop DIR                   stop what `start DIR` started
#   controlplane.sh apiserver-stop DIR         stop only the API server (fault tests: etcd keeps the data)
#   controlplane.sh apiserver-start DIR        start it again on the same port, and wait for /readyz
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
k8s_version=v1.34.4
cache_root=${DATAPORT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dataport}

say() { printf 'controlplane: %s\n' "$*" >&2; }

# The cache key covers everything the binary is built from.
build_key() {
  cat "$here/go.mod" "$here/go.sum" "$here/cmd/kubestack/main.go" | sha256sum | cut -c1-16
}

build_dir() {
  echo "$cache_root/kubestack-$k8s_version-$(build_key)"
}

build() {
  local out
  out=$(build_dir)
  if [[ -x "$out/kubestack" ]]; then
    say "reusing $out/kubestack"
    echo "$out/kubestack"
    return
  fi
  command -v go >/dev/null || { say "go is not installed"; exit 1; }
  mkdir -p "$out"
  say "building kubestack ($k8s_version) into $out, a few minutes the first time"
  local started=$SECONDS
  local version_pkg=k8s.io/component-base/version
  local minor=${k8s_version#v1.}; minor=${minor%%.*}
  (cd "$here" && go build -trimpath -o "$out/kubestack.tmp" \
    -ldflags "-s -w -X $version_pkg.gitVersion=$k8s_version -X $version_pkg.gitMajor=1 -X $version_pkg.gitMinor=$minor -X $version_pkg.gitTreeState=clean" \
    ./cmd/kubestack)
  mv "$out/kubestack.tmp" "$out/kubestack"
  say "built in $((SECONDS - started)) s, $(du -h "$out/kubestack" | cut -f1)"
  echo "$out/kubestack"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

make_certs() {
  local dir=$1
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=dataport-test-ca" \
    -keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" \
    -keyout "$dir/apiserver.key" -out "$dir/apiserver.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default.svc\n' >"$dir/san.ext"
  openssl x509 -req -in "$dir/apiserver.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
    -days 30 -extfile "$dir/san.ext" -out "$dir/apiserver.crt" 2>/dev/null
  # The API server's client certificate towards kubelets (`pods/log` is proxied
  # to the node's kubelet endpoint): the simulated node trusts only client
  # certificates of this CA, as a kubelet with --client-ca-file does.
  openssl req -newkey rsa:2048 -nodes -subj "/O=system:masters/CN=kube-apiserver-kubelet-client" \
    -keyout "$dir/kubelet-client.key" -out "$dir/kubelet-client.csr" 2>/dev/null
  printf 'extendedKeyUsage=clientAuth\n' >"$dir/client.ext"
  openssl x509 -req -in "$dir/kubelet-client.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
    -days 30 -extfile "$dir/client.ext" -out "$dir/kubelet-client.crt" 2>/dev/null
  openssl genrsa -out "$dir/sa.key" 2048 2>/dev/null
  openssl rsa -in "$dir/sa.key" -pubout -out "$dir/sa.pub" 2>/dev/null
}

# Starts one part in its own session, logging to DIR/NAME.log, pid in DIR/NAME.pid.
launch() {
  local dir=$1 name=$2; shift 2
  setsid "$@" </dev/null >"$dir/$name.log" 2>&1 &
  echo $! >"$dir/$name.pid"
}

wait_ready() {
  local url=$1 token=$2 ca=$3 what=$4 deadline=$((SECONDS + 60))
  until curl -sf --cacert "$ca" -H "Authorization: Bearer $token" "$url" >/dev/null 2>&1; do
    if ((SECONDS > deadline)); then say "$what not ready after 60 s"; return 1; fi
    sleep 0.2
  done
}

# The API server of DIR, with the ports and token `start` chose (DIR/ports).
launch_apiserver() {
  local dir=$1 etcd_port api_port token kubestack
  # shellcheck disable=SC1091
  source "$dir/ports"
  launch "$dir" kube-apiserver "$kubestack" kube-apiserver \
    --etcd-servers "http://127.0.0.1:$etcd_port" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$api_port" \
    --tls-cert-file "$dir/apiserver.crt" --tls-private-key-file "$dir/apiserver.key" \
    --client-ca-file "$dir/ca.crt" --token-auth-file "$dir/tokens.csv" \
    --kubelet-client-certificate "$dir/kubelet-client.crt" --kubelet-client-key "$dir/kubelet-client.key" \
    --authorization-mode RBAC --allow-privileged \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$dir/sa.pub" --service-account-signing-key-file "$dir/sa.key" \
    --service-cluster-ip-range 10.96.0.0/16 --cert-dir "$dir/apiserver-certs" \
    --enable-priority-and-fairness=false --v 1
}

stop_part() {
  local dir=$1 name=$2 pid
  [[ -f "$dir/$name.pid" ]] || return 0
  pid=$(cat "$dir/$name.pid")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$dir/$name.pid"
}

start() {
  local dir=$1 watch_pid=$2; shift 2
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  local kubestack; kubestack=$(build)
  local started=$SECONDS
  make_certs "$dir"
  local etcd_port peer_port api_port cm_port token
  etcd_port=$(free_port); peer_port=$(free_port); api_port=$(free_port); cm_port=$(free_port)
  token=$(openssl rand -hex 24)
  printf '%s,admin,admin-uid,system:masters\n' "$token" >"$dir/tokens.csv"

  launch "$dir" etcd "$kubestack" etcd --name default --data-dir "$dir/etcd" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-cluster "default=http://127.0.0.1:$peer_port" --unsafe-no-fsync --log-level warn

  printf 'etcd_port=%s\napi_port=%s\ntoken=%s\nkubestack=%s\n' "$etcd_port" "$api_port" "$token" "$kubestack" >"$dir/ports"
  launch_apiserver "$dir"

  cat >"$dir/kubeconfig" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
- name: dataport-test
  cluster:
    server: https://127.0.0.1:$api_port
    certificate-authority-data: $(base64 -w0 "$dir/ca.crt")
users:
- name: admin
  user:
    token: $token
contexts:
- name: dataport-test
  context: {cluster: dataport-test, user: admin}
current-context: dataport-test
KUBECONFIG
  chmod 600 "$dir/kubeconfig"

  if ! wait_ready "https://127.0.0.1:$api_port/readyz" "$token" "$dir/ca.crt" kube-apiserver; then
    tail -n 30 "$dir/kube-apiserver.log" >&2; stop "$dir"; exit 1
  fi
  if (($#)); then
    KUBECONFIG="$dir/kubeconfig" "$@" || { say "'$*' failed"; stop "$dir"; exit 1; }
  fi
  launch "$dir" kube-controller-manager "$kubestack" kube-controller-manager \
    --kubeconfig "$dir/kubeconfig" --authentication-kubeconfig "$dir/kubeconfig" \
    --authorization-kubeconfig "$dir/kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$cm_port" --cert-dir "$dir/controller-manager-certs" \
    --service-account-private-key-file "$dir/sa.key" --root-ca-file "$dir/ca.crt" \
    --use-service-account-credentials=false --leader-elect=false \
    --controllers '*' --concurrent-gc-syncs 5 --concurrent-statefulset-syncs 20 \
    --kube-api-qps 200 --kube-api-burst 400 --v 1
  if ! wait_ready "https://127.0.0.1:$cm_port/healthz" "$token" "$dir/controller-manager-certs/kube-controller-manager.crt" kube-controller-manager 2>/dev/null; then
    # The controller manager serves a self-signed certificate: a plain TCP probe is enough.
    until (exec 3<>"/dev/tcp/127.0.0.1/$cm_port") 2>/dev/null; do sleep 0.2; done
  fi

  printf 'KUBECONFIG=%s\nAPI_SERVER=https://127.0.0.1:%s\n' "$dir/kubeconfig" "$api_port" >"$dir/env"
  if [[ -n "$watch_pid" ]]; then
    # A watchdog in its own session: when the owner dies, however it died, so does the control plane.
    setsid bash -c 'while kill -0 "$1" 2>/dev/null && [[ -e "$2/env" ]]; do sleep 1; done; "$3" stop "$2"' \
      watchdog "$watch_pid" "$dir" "$here/controlplane.sh" </dev/null >/dev/null 2>&1 &
    echo $! >"$dir/watchdog.pid"
  fi
  say "ready in $((SECONDS - started)) s at https://127.0.0.1:$api_port (kubeconfig $dir/kubeconfig)"
}

stop() {
  local dir=$1 name pid
  rm -f "$dir/env"
  for name in simulator kube-controller-manager kube-apiserver etcd; do
    stop_part "$dir" "$name"
  done
  # Keep the logs for a post-mortem; the data and keys are throwaway.
  rm -rf "$dir/etcd" "$dir"/*.key "$dir/tokens.csv" "$dir/kubeconfig"
  say "stopped ($dir)"
}

case "${1:-}" in
  build) build ;;
  is-built) [[ -x "$(build_dir)/kubestack" ]] ;;
  start)
    [[ $# -ge 2 ]] || { echo "usage: $0 start DIR [--watch-pid PID] [-- CMD...]" >&2; exit 2; }
    dir=$2; watch=""; shift 2
    if [[ "${1:-}" == --watch-pid ]]; then watch=${2:?--watch-pid needs a pid}; shift 2; fi
    if [[ "${1:-}" == -- ]]; then shift; fi
    start "$dir" "$watch" "$@" ;;
  stop) [[ $# -eq 2 ]] || { echo "usage: $0 stop DIR" >&2; exit 2; }; stop "$2" ;;
  apiserver-stop) [[ $# -eq 2 ]] || { echo "usage: $0 apiserver-stop DIR" >&2; exit 2; }
    stop_part "$2" kube-apiserver; say "API server stopped ($2)" ;;
  apiserver-start) [[ $# -eq 2 ]] || { echo "usage: $0 apiserver-start DIR" >&2; exit 2; }
    launch_apiserver "$2"
    # shellcheck disable=SC1091
    source "$2/ports"
    wait_ready "https://127.0.0.1:$api_port/readyz" "$token" "$2/ca.crt" kube-apiserver
    say "API server started again ($2)" ;;
  *) echo "usage: $0 build | start DIR [--watch-pid PID] [-- CMD...] | stop DIR" >&2; exit 2 ;;
esac
