#!/usr/bin/env bash
# Assemble (or reuse) the classpath of S3Proxy, the S3-compatible server (Apache-2.0) that stands
# in for MinIO's server in dataport's tests, from its Maven artifacts, and print the folder.
#
#   testenv/s3/assemble.sh            the pinned release (S3PROXY_VERSION below)
#
# The folder is ${DATAPORT_CACHE:-~/.cache/dataport}/s3proxy-VERSION/lib/*.jar, reused while it
# was assembled from the same pom.xml (testenv/maven-classpath.sh, which also gives the exit
# status: 2 when an artifact does not resolve here). Run it with run.sh, or:
# java -cp 'FOLDER/lib/*' org.gaul.s3proxy.Main --properties FILE.
set -euo pipefail

# 4.1.0: the newest release on 2026-11-30; it and 3.3.0 resolve whole here (README.md).
S3PROXY_VERSION="${S3PROXY_VERSION:-4.1.0}"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[ $# -eq 0 ] || { echo "usage: assemble.sh (the release is S3PROXY_VERSION, default 4.1.0)" >&2; exit 1; }
exec "$here/../maven-classpath.sh" s3proxy S3Proxy "$S3PROXY_VERSION" "$here/pom.xml"
