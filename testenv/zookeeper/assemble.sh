#!/usr/bin/env bash
# Assemble (or reuse) the classpath of Apache ZooKeeper (Apache-2.0), whose server and client the
# process node runs for pods of the official `zookeeper` image, from its Maven artifacts, and print
# the folder.
#
#   testenv/zookeeper/assemble.sh     the pinned release (ZOOKEEPER_VERSION below)
#
# The folder is ${DATAPORT_CACHE:-~/.cache/dataport}/zookeeper-VERSION/lib/*.jar, reused while it
# was assembled from the same pom.xml (testenv/maven-classpath.sh, which also gives the exit
# status: 2 when an artifact does not resolve here). Run it as the node does
# (src/simulator/node/process/zookeeper.rs), or:
#   java -cp 'FOLDER/lib/*' org.apache.zookeeper.server.quorum.QuorumPeerMain zoo.cfg
set -euo pipefail

# 3.9.3: the newest release dataport's ZooKeeper app offers (src/catalog/apps/zookeeper.rs).
ZOOKEEPER_VERSION="${ZOOKEEPER_VERSION:-3.9.3}"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[ $# -eq 0 ] || { echo "usage: assemble.sh (the release is ZOOKEEPER_VERSION, default 3.9.3)" >&2; exit 1; }
exec "$here/../maven-classpath.sh" zookeeper ZooKeeper "$ZOOKEEPER_VERSION" "$here/pom.xml"
