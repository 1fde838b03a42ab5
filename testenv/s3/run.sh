#!/usr/bin/env bash
# Serve S3 with S3Proxy (the stand-in for MinIO's server) in the foreground: path-style requests,
# AWS Signature V4 (and V2) authentication with one access key, objects kept as plain files.
#
#   testenv/s3/run.sh ACCESS_KEY SECRET_KEY IP:PORT DATA_DIR
#
# Buckets are the folders of DATA_DIR (created if missing), objects the files below them. The
# configuration goes to S3Proxy on a pipe, so the secret is neither on the command line nor in a
# file. Ends when the JVM ends; SIGTERM stops it. Extra JVM flags: S3PROXY_JAVA_OPTS; log level
# (INFO, on stderr): S3PROXY_LOG_LEVEL.
#
# The same, without this script (what the process node runs for a MinIO pod):
#   java -Dlogback.configurationFile=testenv/s3/logback.xml -cp "$(testenv/s3/assemble.sh)/lib/*" \
#     org.gaul.s3proxy.Main --properties FILE
# with FILE holding (see README.md):
#   s3proxy.endpoint=http://IP:PORT
#   s3proxy.authorization=aws-v2-or-v4
#   s3proxy.identity=ACCESS_KEY
#   s3proxy.credential=SECRET_KEY
#   jclouds.provider=filesystem
#   jclouds.filesystem.basedir=DATA_DIR
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[ $# -eq 4 ] || { echo "usage: run.sh ACCESS_KEY SECRET_KEY IP:PORT DATA_DIR" >&2; exit 1; }
access="$1" secret="$2" bind="$3" data="$4"
[[ "$bind" =~ ^[0-9.]+:[0-9]+$ ]] || { echo "run.sh: '$bind' is not IP:PORT" >&2; exit 1; }
mkdir -p "$data"
data="$(cd "$data" && pwd)"

home="$("$here/assemble.sh")"
# shellcheck disable=SC2086 # S3PROXY_JAVA_OPTS holds whitespace-separated JVM flags
exec java ${S3PROXY_JAVA_OPTS:-} -Dlogback.configurationFile="$here/logback.xml" -cp "$home/lib/*" org.gaul.s3proxy.Main --properties /dev/fd/3 3< <(
  printf '%s\n' \
    "s3proxy.endpoint=http://$bind" \
    "s3proxy.authorization=aws-v2-or-v4" \
    "s3proxy.identity=$access" \
    "s3proxy.credential=$secret" \
    "jclouds.provider=filesystem" \
    "jclouds.filesystem.basedir=$data")
