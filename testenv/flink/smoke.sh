#!/usr/bin/env bash
# Smoke check: start a real Flink standalone session cluster (one JobManager, one TaskManager) on
# loopback from the folder assemble.sh builds for VERSION, wait until its REST API reports that
# release and one TaskManager, print the figures and the JVMs' resident memory, and stop both.
# No Java process outlives the script, however it ends.
#
#   testenv/flink/smoke.sh VERSION [TIMEOUT_SECONDS]      (default timeout 180)
#
# The processes are started the way Flink's own scripts start them (bin/jobmanager.sh and
# bin/taskmanager.sh of the distribution, through flink-console.sh): JVM memory flags and the
# TaskManager's memory settings come from Flink's BashJavaUtils for the configured process sizes.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[ $# -ge 1 ] || { echo "usage: smoke.sh VERSION [TIMEOUT_SECONDS]" >&2; exit 1; }
version="$1"
timeout="${2:-180}"

home="$("$here/assemble.sh" "$version")"
run="$(mktemp -d "${TMPDIR:-/tmp}/flink-smoke-$version.XXXXXX")"
conf="$run/conf"
mkdir -p "$conf" "$run/log"

pids=()
cleanup() {
  local rc=$?
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  local left=""
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && left="$left $pid"; done
  if [ -n "$left" ]; then echo "smoke.sh: Java processes still alive:$left" >&2; rc=1; fi
  [ "$rc" -eq 0 ] && rm -rf "$run" || echo "smoke.sh: logs kept in $run/log" >&2
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rest_port="$(free_port)"
rpc_port="$(free_port)"

# config.yaml (standard YAML) is read by 1.19+ and the only file 2.x reads.
cat >"$conf/config.yaml" <<YAML
jobmanager.rpc.address: 127.0.0.1
jobmanager.rpc.port: $rpc_port
jobmanager.bind-host: 127.0.0.1
taskmanager.bind-host: 127.0.0.1
taskmanager.host: 127.0.0.1
rest.address: 127.0.0.1
rest.bind-address: 127.0.0.1
rest.port: $rest_port
jobmanager.memory.process.size: 1024m
taskmanager.memory.process.size: 1280m
taskmanager.numberOfTaskSlots: 1
parallelism.default: 1
YAML
cat >"$conf/log4j-console.properties" <<'PROPS'
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = MainAppender
appender.main.name = MainAppender
appender.main.type = File
appender.main.fileName = ${sys:log.file}
appender.main.layout.type = PatternLayout
appender.main.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n
PROPS

cp="$home/lib/*"
# A part of the module openings the distribution's default configuration gives every Flink JVM
# on Java 17 (env.java.opts.all), enough for the runtime's reflection.
opens=(--add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED
       --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED
       --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
       --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED)

# BashJavaUtils prints its answers on lines starting with BASH_JAVA_UTILS_EXEC_RESULT: the JVM
# flags first, then (TaskManager and JobManager) the memory settings as dynamic properties.
bash_java_utils() {
  java -cp "$cp" org.apache.flink.runtime.util.bash.BashJavaUtils "$1" --configDir "$conf" 2>"$run/log/bash-java-utils.err" \
    | sed -n 's/^BASH_JAVA_UTILS_EXEC_RESULT://p'
}
mapfile -t jm_params < <(bash_java_utils GET_JM_RESOURCE_PARAMS)
mapfile -t tm_params < <(bash_java_utils GET_TM_RESOURCE_PARAMS)
[ ${#jm_params[@]} -ge 1 ] && [ ${#tm_params[@]} -ge 2 ] \
  || { echo "smoke.sh: BashJavaUtils gave no memory settings:" >&2; cat "$run/log/bash-java-utils.err" >&2; exit 1; }

export FLINK_CONF_DIR="$conf" FLINK_PLUGINS_DIR="$home/plugins" FLINK_LIB_DIR="$home/lib"
start() { # NAME CLASS JVM_FLAGS DYNAMIC_PROPERTIES
  local name="$1" class="$2" jvm="$3" dyn="$4"
  # shellcheck disable=SC2086 # the flags are whitespace-separated words, as Flink's scripts pass them
  nice java $jvm "${opens[@]}" -Dlog.file="$run/log/$name.log" \
    -Dlog4j.configurationFile="file:$conf/log4j-console.properties" \
    -cp "$cp" "$class" --configDir "$conf" $dyn >"$run/log/$name.out" 2>&1 &
  pids+=($!)
}
start jobmanager org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint "${jm_params[0]}" "${jm_params[1]:-}"
start taskmanager org.apache.flink.runtime.taskexecutor.TaskManagerRunner "${tm_params[0]}" "${tm_params[1]}"

overview=""
deadline=$((SECONDS + timeout))
while [ $SECONDS -lt $deadline ]; do
  for i in "${!pids[@]}"; do
    kill -0 "${pids[$i]}" 2>/dev/null || {
      echo "smoke.sh: a Flink process ended early; its output:" >&2
      tail -n 20 "$run/log/"*.out "$run/log/"*.log >&2 || true
      exit 1
    }
  done
  overview="$(curl -fsS "http://127.0.0.1:$rest_port/overview" 2>/dev/null || true)"
  if [ -n "$overview" ] && [ "$(jq -r '.taskmanagers' <<<"$overview")" = 1 ]; then break; fi
  overview=""
  sleep 1
done
[ -n "$overview" ] || { echo "smoke.sh: no TaskManager registered within ${timeout}s" >&2; tail -n 20 "$run/log/"*.log >&2; exit 1; }

reported="$(jq -r '."flink-version"' <<<"$overview")"
rss() { awk '/VmRSS/ {printf "%d MiB", $2/1024}' "/proc/$1/status"; }
echo "flink:$version smoke check"
echo "  REST /overview: flink-version=$reported taskmanagers=$(jq -r .taskmanagers <<<"$overview")" \
     "slots-total=$(jq -r '."slots-total"' <<<"$overview") started after ${SECONDS}s"
echo "  JobManager  pid ${pids[0]} RSS $(rss "${pids[0]}")"
echo "  TaskManager pid ${pids[1]} RSS $(rss "${pids[1]}")"
[ "$reported" = "$version" ] || { echo "smoke.sh: REST reports Flink $reported, not $version" >&2; exit 1; }
