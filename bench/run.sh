#!/usr/bin/env bash
# Runs one benchmark scenario with the server as its own process, pinned to one core and the load
# generator to the other, e.g.
#   bench/run.sh fanout --subscribers 1000 --rate 25
#   bench/run.sh hold --connections 19500 --duration 60
#   SERVER_CPUS=0 CLIENT_CPUS=1 bench/run.sh fanout --max
# Limits are raised for this script's processes only (ulimit -n up to the hard limit, the local port
# range inside a private network namespace when possible); nothing on the system is changed for good.
set -euo pipefail
SELF=$(readlink -f "$0")
cd "$(dirname "$SELF")/.."
JAR=bench/target/tether-bench.jar
if [[ ! -f $JAR ]]; then
  echo "run.sh: $JAR is missing; build it first: mvn -B -q -pl bench -am package -DskipTests" >&2
  exit 2
fi
if [[ $# -lt 1 ]]; then
  echo "usage: bench/run.sh <hold|fanout|channels|publish|storm|sweep> [flags]   (bench/run.sh fanout --help)" >&2
  exit 2
fi

# Ephemeral ports: the range is a per-network-namespace setting, so the run moves into a private
# namespace of its own (loopback only) and widens it there; the host's range is never touched.
# BENCH_NETNS=0 keeps the host's namespace (for example to measure a server started elsewhere).
if [[ ${BENCH_IN_NETNS:-0} != 1 && ${BENCH_NETNS:-1} != 0 ]] && unshare -n true 2>/dev/null; then
  exec env BENCH_IN_NETNS=1 unshare -n "$SELF" "$@"
fi
if [[ ${BENCH_IN_NETNS:-0} == 1 ]]; then
  ip link set lo up 2>/dev/null || true
  if echo "1024 65535" > /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null; then
    echo "run.sh: private network namespace; local port range widened to 1024-65535 in it only" >&2
  else
    echo "run.sh: private network namespace, but its port range could not be widened" >&2
  fi
else
  echo "run.sh: could not make a private network namespace; local port range left at" \
    "$(tr '\t' '-' < /proc/sys/net/ipv4/ip_local_port_range) (250 source addresses x that range suffice)" >&2
fi

# Open files: as many as this shell may have (one server or generator process holds at most this many).
hard=$(ulimit -Hn)
if ulimit -n "$hard" 2>/dev/null; then
  echo "run.sh: open files raised to $(ulimit -n) for this run" >&2
else
  echo "run.sh: could not raise open files above $(ulimit -n) (hard limit $hard)" >&2
fi

CPUS=$(nproc)
SERVER_CPUS=${SERVER_CPUS:-0}
CLIENT_CPUS=${CLIENT_CPUS:-$(( CPUS > 1 ? 1 : 0 ))}
JAVA_OPTS=${JAVA_OPTS:--Xms1g -Xmx2g -XX:+UseG1GC}
pin=()
if command -v taskset >/dev/null; then
  pin=(taskset -c "$CLIENT_CPUS")
  echo "run.sh: server pinned to CPU $SERVER_CPUS, generator to CPU $CLIENT_CPUS" >&2
else
  echo "run.sh: taskset not found; server and generator are not pinned" >&2
fi
scenario=$1
shift
extra=()
if [[ $scenario != jmh && $scenario != chart && $scenario != baseline ]]; then
  extra=(--server-cpus "$SERVER_CPUS")
fi
# Run from a private copy: a build that rewrites the jar mid-run would break the JVMs reading it.
RUNJAR=$(mktemp /tmp/tether-bench-XXXXXX.jar)
trap 'rm -f "$RUNJAR"' EXIT
cp "$JAR" "$RUNJAR"
set +e
"${pin[@]}" java $JAVA_OPTS -cp "$RUNJAR" dev.tether.bench.BenchMain "$scenario" "${extra[@]}" "$@"
exit $?
