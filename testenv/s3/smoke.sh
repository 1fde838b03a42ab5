#!/usr/bin/env bash
# Smoke check of the pieces issue 21 puts together, without Kubernetes: S3Proxy (the MinIO
# stand-in) on loopback, a bucket made with mc-standin, a real Flink standalone session cluster
# (one JobManager, one TaskManager) with the flink-s3-fs-presto plugin enabled and its checkpoints
# and savepoints on s3://, dataport's test job submitted over REST, a savepoint whose objects are
# listed from the bucket, and a resume from that savepoint that Flink's REST reports and whose
# keyed state goes on. Prints the figures. No Java process outlives the script, however it ends.
#
#   testenv/s3/smoke.sh FLINK_VERSION [TIMEOUT_SECONDS]     (default timeout per wait: 180)
#
# SMOKE_KEEP=1 keeps the run's folder (logs, configuration, the bucket's files) after a success too.
# The Flink processes start as testenv/flink/smoke.sh starts them (see there): JVM memory flags
# and TaskManager memory settings from Flink's BashJavaUtils, classpath from
# testenv/flink/assemble.sh. The plugin is enabled as the image's ENABLE_BUILT_IN_PLUGINS does it:
# opt/flink-s3-fs-presto-VERSION.jar linked into plugins/flink-s3-fs-presto-VERSION/.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
testenv="$(dirname "$here")"
[ $# -ge 1 ] || { echo "usage: smoke.sh FLINK_VERSION [TIMEOUT_SECONDS]" >&2; exit 1; }
version="$1"
timeout="${2:-180}"
for tool in java mvn curl jq python3; do
  command -v "$tool" >/dev/null || { echo "smoke.sh: $tool is not installed" >&2; exit 1; }
done

t0=$SECONDS
home="$("$testenv/flink/assemble.sh" "$version")"
s3proxy_home="$("$here/assemble.sh")"
mc_jar="$("$here/mc-standin/build.sh")"
job_jar="$("$testenv/flink-test-job/build.sh" "$version")"
t_built=$SECONDS

run="$(mktemp -d "${TMPDIR:-/tmp}/s3-smoke-$version.XXXXXX")"
conf="$run/conf"
mkdir -p "$conf" "$run/log" "$run/plugins" "$run/s3data"

pids=()
names=()
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
  if [ "$rc" -eq 0 ] && [ -z "${SMOKE_KEEP:-}" ]; then rm -rf "$run"; else echo "smoke.sh: logs kept in $run/log" >&2; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() { echo "smoke.sh: $*" >&2; tail -n 30 "$run/log/"*.log >&2 2>/dev/null || true; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rss() { awk '/VmRSS/ {printf "%d MiB", $2/1024}' "/proc/$1/status" 2>/dev/null || echo "?"; }
alive() { # every process started so far still runs
  local i
  for i in "${!pids[@]}"; do
    kill -0 "${pids[$i]}" 2>/dev/null || fail "${names[$i]} (pid ${pids[$i]}) ended early"
  done
}
# wait_for DESCRIPTION COMMAND...: rerun COMMAND every second until it succeeds (its stdout is
# kept in $got) or the timeout passes.
got=""
wait_for() {
  local what="$1" deadline=$((SECONDS + timeout)); shift
  while [ $SECONDS -lt $deadline ]; do
    alive
    if got="$("$@" 2>/dev/null)"; then return 0; fi
    sleep 1
  done
  fail "$what: not within ${timeout}s"
}

# --- S3: S3Proxy and a bucket, as the MinIO pod and dataport's bucket job do ---
s3_port="$(free_port)"
access_key="dataport-smoke"
secret_key="$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
bucket="flink"
"$here/run.sh" "$access_key" "$secret_key" "127.0.0.1:$s3_port" "$run/s3data" >"$run/log/s3proxy.log" 2>&1 &
pids+=($!); names+=(S3Proxy)
export MC_CONFIG_DIR="$run/mc"
mc() { java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -jar "$mc_jar" "$@"; }
# The bucket job's own loop: `until mc alias set ...; do sleep 2; done; mc mb --ignore-existing`.
t_s3=$SECONDS
wait_for "S3Proxy answering mc-standin alias set" mc alias set dataport "http://127.0.0.1:$s3_port" "$access_key" "$secret_key"
t_s3_ready=$SECONDS
mc mb --ignore-existing "dataport/$bucket" >/dev/null || fail "mc-standin mb failed"
mc mb --ignore-existing "dataport/$bucket" >/dev/null || fail "mc-standin mb --ignore-existing failed on an existing bucket"
if mc alias set wrong "http://127.0.0.1:$s3_port" "$access_key" "not-the-secret" >/dev/null 2>&1; then
  fail "mc-standin alias set accepted a wrong secret key"
fi

# --- Flink: a standalone session with the presto S3 filesystem plugin ---
rest_port="$(free_port)"
rpc_port="$(free_port)"
presto_jar="flink-s3-fs-presto-$version.jar"
[ -f "$home/opt/$presto_jar" ] || fail "Plugin $presto_jar does not exist in $home/opt"
mkdir -p "$run/plugins/${presto_jar%.jar}"
ln -s "$home/opt/$presto_jar" "$run/plugins/${presto_jar%.jar}/$presto_jar"
ln -s "$home/plugins/metrics-prometheus" "$run/plugins/metrics-prometheus"

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
metrics.fetcher.update-interval: 1000
execution.checkpointing.interval: 3s
state.checkpoints.dir: s3://$bucket/checkpoints
state.savepoints.dir: s3://$bucket/savepoints
s3.endpoint: http://127.0.0.1:$s3_port
s3.path.style.access: true
s3.access-key: $access_key
s3.secret-key: $secret_key
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
opens=(--add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED
       --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED
       --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
       --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED)
bash_java_utils() {
  java -cp "$cp" org.apache.flink.runtime.util.bash.BashJavaUtils "$1" --configDir "$conf" 2>"$run/log/bash-java-utils.err" \
    | sed -n 's/^BASH_JAVA_UTILS_EXEC_RESULT://p'
}
mapfile -t jm_params < <(bash_java_utils GET_JM_RESOURCE_PARAMS)
mapfile -t tm_params < <(bash_java_utils GET_TM_RESOURCE_PARAMS)
[ ${#jm_params[@]} -ge 1 ] && [ ${#tm_params[@]} -ge 2 ] || fail "BashJavaUtils gave no memory settings"

export FLINK_CONF_DIR="$conf" FLINK_PLUGINS_DIR="$run/plugins" FLINK_LIB_DIR="$home/lib"
start() { # NAME CLASS JVM_FLAGS DYNAMIC_PROPERTIES
  local name="$1" class="$2" jvm="$3" dyn="$4"
  # shellcheck disable=SC2086 # the flags are whitespace-separated words, as Flink's scripts pass them
  nice java $jvm "${opens[@]}" -Dlog.file="$run/log/$name.log" \
    -Dlog4j.configurationFile="file:$conf/log4j-console.properties" \
    -cp "$cp" "$class" --configDir "$conf" $dyn >"$run/log/$name.out" 2>&1 &
  pids+=($!); names+=("$name")
}
t_flink=$SECONDS
start jobmanager org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint "${jm_params[0]}" "${jm_params[1]:-}"
start taskmanager org.apache.flink.runtime.taskexecutor.TaskManagerRunner "${tm_params[0]}" "${tm_params[1]}"
jm=${pids[1]} tm=${pids[2]}

rest="http://127.0.0.1:$rest_port"
one_tm() { curl -fsS "$rest/overview" | jq -e '.taskmanagers == 1' >/dev/null && curl -fsS "$rest/overview"; }
wait_for "a TaskManager registered" one_tm
reported="$(jq -r '."flink-version"' <<<"$got")"
[ "$reported" = "$version" ] || fail "REST reports Flink $reported, not $version"
t_flink_ready=$SECONDS

# --- the test job, through the REST API as the operator submits session jobs ---
jar_id="$(curl -fsS -X POST -F "jarfile=@$job_jar" "$rest/jars/upload" | jq -r '.filename' | xargs basename)"
[ -n "$jar_id" ] || fail "jar upload failed"
run_job() { # BODY -> job id
  curl -fsS -X POST -H 'Content-Type: application/json' -d "$1" "$rest/jars/$jar_id/run" | jq -er '.jobid'
}
job_args='["--delay-ms","50","--log-every","20"]'
t_submit=$SECONDS
job1="$(run_job "{\"programArgsList\":$job_args}")" || fail "jar run failed"
state_is() { curl -fsS "$rest/jobs/$1" | jq -e --arg s "$2" '.state == $s' >/dev/null; }
completed_checkpoint() { curl -fsS "$rest/jobs/$1/checkpoints" | jq -e '.counts.completed >= 1' >/dev/null && curl -fsS "$rest/jobs/$1/checkpoints"; }
wait_for "job $job1 RUNNING" state_is "$job1" RUNNING
t_running=$SECONDS
wait_for "a completed checkpoint of job $job1" completed_checkpoint "$job1"
t_checkpoint=$SECONDS
checkpoint_path="$(jq -r '.latest.completed.external_path' <<<"$got")"

# The count-per-key operator's gauges, through REST (the vertex holding that operator).
gauge() { # JOB NAME
  local vid ids
  vid="$(curl -fsS "$rest/jobs/$1" | jq -er '.vertices[] | select(.name | contains("count-per-key")) | .id')" || return 1
  ids="$(curl -fsS "$rest/jobs/$1/vertices/$vid/metrics" | jq -r --arg n ".$2" '[.[].id | select(endswith($n))] | join(",")')"
  [ -n "$ids" ] || return 1
  curl -fsS "$rest/jobs/$1/vertices/$vid/metrics?get=$ids" | jq -er '.[0].value | tonumber'
}
first_counts() { grep -oE "dataport-test-job first key=[0-9]+ count=[0-9]+" "$run/log/taskmanager.log" | sed 's/dataport-test-job first //'; }

# --- savepoint: trigger, poll, find its objects in the bucket ---
wait_for "the maxCount gauge of job $job1 in REST" gauge "$job1" maxCount
max_before="$got"
t_sp=$SECONDS
trigger="$(curl -fsS -X POST -H 'Content-Type: application/json' -d '{"cancel-job":false}' "$rest/jobs/$job1/savepoints" | jq -er '."request-id"')" \
  || fail "savepoint trigger failed"
savepoint_done() {
  curl -fsS "$rest/jobs/$job1/savepoints/$trigger" | jq -e '.status.id == "COMPLETED"' >/dev/null \
    && curl -fsS "$rest/jobs/$job1/savepoints/$trigger"
}
wait_for "savepoint $trigger completed" savepoint_done
t_sp_done=$SECONDS
savepoint="$(jq -r '.operation.location // empty' <<<"$got")"
[ -n "$savepoint" ] || fail "savepoint failed: $(jq -c '.operation' <<<"$got")"
[[ "$savepoint" == s3://$bucket/savepoints/* ]] || fail "savepoint at $savepoint, not under s3://$bucket/savepoints/"
sp_objects="$(mc ls "dataport/$bucket/${savepoint#s3://$bucket/}")" || fail "mc-standin ls failed"
grep -q '/_metadata$' <<<"$sp_objects" || fail "no _metadata object under $savepoint: $sp_objects"
cp_objects="$(mc ls "dataport/$bucket/checkpoints/" | wc -l)"
wait_for "the maxCount gauge of job $job1 in REST" gauge "$job1" maxCount
max_at_cancel="$got"

# --- stop, and resume from the savepoint ---
curl -fsS -X PATCH "$rest/jobs/$job1?mode=cancel" >/dev/null || fail "cancel failed"
wait_for "job $job1 CANCELED" state_is "$job1" CANCELED
first_before="$(first_counts)"
t_resume=$SECONDS
job2="$(run_job "{\"programArgsList\":$job_args,\"savepointPath\":\"$savepoint\"}")" || fail "resume run failed"
restored() { curl -fsS "$rest/jobs/$job2/checkpoints" | jq -e '.latest.restored != null' >/dev/null && curl -fsS "$rest/jobs/$job2/checkpoints"; }
wait_for "job $job2 RUNNING" state_is "$job2" RUNNING
wait_for "job $job2 reporting its restore" restored
restore="$(jq -c '.latest.restored | {id, is_savepoint, external_path}' <<<"$got")"
[ "$(jq -r '.external_path' <<<"$restore")" = "$savepoint" ] || fail "job $job2 restored $restore, not $savepoint"
[ "$(jq -r '.is_savepoint' <<<"$restore")" = true ] || fail "job $job2 restored from a checkpoint, not a savepoint: $restore"
new_firsts() { # once each of the job's 3 keys (its default --keys) had a record
  local lines; lines="$(first_counts | tail -n +"$(( $(wc -l <<<"$first_before") + 1 ))")"
  [ "$(grep -c . <<<"$lines")" -ge 3 ] && echo "$lines"
}
wait_for "job $job2 processing records" new_firsts
first_after="$got"
t_restored=$SECONDS
# On a fresh start every key's first count is 1. Restored, it is one past the key's count in the
# savepoint, which was taken after maxCount read $max_before; the keys take turns, so each key had
# reached at least $max_before - 1 then.
while read -r line; do
  c="${line##*count=}"
  [ "$c" -gt 1 ] || fail "job $job2 started ${line%% *} from scratch ($line): the state was not restored"
  [ "$c" -ge "$max_before" ] || fail "job $job2 $line: below $max_before, the count before the savepoint"
done <<<"$first_after"
gauge_above() { local v; v="$(gauge "$1" maxCount)" && [ "$v" -gt "$2" ] && echo "$v"; }
wait_for "the maxCount gauge of job $job2 above $max_before (before the savepoint)" gauge_above "$job2" "$max_before"
max_after="$got"

# --- stop with a savepoint, as the operator suspends a job ---
t_stop=$SECONDS
stop_trigger="$(curl -fsS -X POST -H 'Content-Type: application/json' -d '{"drain":false}' "$rest/jobs/$job2/stop" | jq -er '."request-id"')" \
  || fail "stop-with-savepoint failed"
stop_done() { curl -fsS "$rest/jobs/$job2/savepoints/$stop_trigger" | jq -e '.status.id == "COMPLETED"' >/dev/null && curl -fsS "$rest/jobs/$job2/savepoints/$stop_trigger"; }
wait_for "stop-with-savepoint of $job2" stop_done
stop_savepoint="$(jq -r '.operation.location // empty' <<<"$got")"
[ -n "$stop_savepoint" ] || fail "stop-with-savepoint failed: $(jq -c '.operation' <<<"$got")"
wait_for "job $job2 FINISHED" state_is "$job2" FINISHED
mc ls "dataport/$bucket/${stop_savepoint#s3://$bucket/}" | grep -q '/_metadata$' || fail "no _metadata under $stop_savepoint"
t_stopped=$SECONDS

echo "flink:$version with S3 (S3Proxy + flink-s3-fs-presto) smoke check"
echo "  assemble/build reuse or build: $((t_built - t0))s"
echo "  S3Proxy answering mc-standin alias set after $((t_s3_ready - t_s3))s; bucket $bucket made (again with --ignore-existing); a wrong secret refused"
echo "  Flink session up (REST flink-version=$reported, 1 TaskManager) after $((t_flink_ready - t_flink))s"
echo "  job $job1 RUNNING $((t_running - t_submit))s after submit; first completed checkpoint $((t_checkpoint - t_submit))s after submit: $checkpoint_path"
echo "  savepoint in $((t_sp_done - t_sp))s: $savepoint ($(wc -l <<<"$sp_objects") objects, _metadata among them; $cp_objects objects under checkpoints/)"
echo "  maxCount: $max_before before the savepoint, $max_at_cancel read after it (REST gauges lag by up to metrics.fetcher.update-interval)"
echo "  job $job2 resumed from it: REST latest.restored=$restore; first records after $((t_restored - t_resume))s:"
# shellcheck disable=SC2001
sed 's/^/    /' <<<"$first_after"
echo "  maxCount after the restore: $max_after"
echo "  stop-with-savepoint in $((t_stopped - t_stop))s: $stop_savepoint"
echo "  RSS: S3Proxy $(rss "${pids[0]}"), JobManager $(rss "$jm"), TaskManager $(rss "$tm")"
echo "  total ${SECONDS}s"
