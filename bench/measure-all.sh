#!/usr/bin/env bash
# The measurement campaign behind BENCHMARKS.md: every row of the targets table, each scenario run
# RUNS times (medians are taken), Tether and the raw Netty baseline in the same run, server pinned
# to CPU 0 and generator to CPU 1 (bench/run.sh). Results: bench/results/*.jsonl, *.png, jmh.*.
# About an hour on the 2-core reference machine. Build first:
#   mvn -B -q -pl bench -am package -DskipTests
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-bench/results}
RUNS=${RUNS:-3}
mkdir -p "$OUT"
run() { echo "=== $*" >&2; bench/run.sh "$@" 2>>"$OUT/campaign.log" | tee -a "$OUT/campaign.out" | grep '^#' >&2; }

# Fan-out at 25 pubs/s, 128 B over subscriber counts, both servers; medians drawn as PNG charts.
bench/run.sh sweep --subscribers 100,1000,5000,10000 --runs "$RUNS" --out "$OUT" \
  --rate 25 --duration 15 --warmup 5 2>>"$OUT/campaign.log" | tee -a "$OUT/campaign.out" | grep '^#' >&2
for i in $(seq "$RUNS"); do
  # CPU per delivery at a fixed load (1,000 subscribers, 25 pubs/s, 128 B): both servers up at once and
  # measured in ten alternating 6 s legs, so that they share the machine's quiet and busy minutes, after
  # 60 s of warm-up each (Netty's per-wake-up paths reach C2 only after ~90 s at this load).
  run fanout --subscribers 1000 --rate 25 --duration 60 --warmup 60 --legs 10 --json-out "$OUT/fanout-1000.jsonl" --label "run-$i"
  # Highest rate with no loss and p99 <= 250 ms, then latency at half of it on a fresh server.
  run fanout --max --subscribers 1000 --max-start 100 --max-factor 1.6 --step-seconds 5 --json-out "$OUT/max.jsonl" --label "run-$i"
  # 50 s = two whole 25 s ping intervals: every connection gets exactly two pings in the window on
  # both servers (40 s gave one or two, depending on where the window fell). The same hold with
  # pings off (one per hour) right after it isolates the heartbeat's share of the idle server.
  run hold --connections 19500 --duration 50 --settle 5 --json-out "$OUT/hold.jsonl" --label "run-$i"
  run hold --connections 19500 --duration 50 --settle 5 --ping-ms 3600000 --json-out "$OUT/hold-nopings.jsonl" --label "run-$i"
  run storm --connections 19000 --channels 10 --rate 50 --spread-ms 3000 --json-out "$OUT/storm.jsonl" --label "run-$i"
  run fanout --subscribers 19000 --rate 1 --duration 20 --warmup 3 --json-out "$OUT/one-to-19000.jsonl" --label "run-$i"
  run publish --publishers 20 --outstanding 16 --duration 10 --json-out "$OUT/publish.jsonl" --label "run-$i"
  run channels --connections 5000 --subs-per-conn 20 --subs-per-channel 2 --rate 2000 --duration 15 --json-out "$OUT/channels.jsonl" --label "run-$i"
done
# Server memory per connection depends on the collector: the same hold under other settings than
# bin/tether's (G1 with its own young sizing; Serial with a small young generation).
run hold --connections 19500 --duration 40 --settle 5 --server-jvm "-Xms1g -Xmx1g -XX:+UseG1GC" --json-out "$OUT/hold-gc.jsonl" --label g1-default-young
run hold --connections 19500 --duration 40 --settle 5 --server-jvm "-Xms64m -Xmx1g -XX:+UseSerialGC -Xmn8m" --json-out "$OUT/hold-gc.jsonl" --label serial-xmn8m
# What acknowledgements every 200 ms cost (the fan-out rows run without acks, like the baseline).
run fanout --subscribers 1000 --rate 25 --duration 15 --warmup 5 --ack-ms 200 --json-out "$OUT/fanout-acks.jsonl" --label acks-200ms
bench/run.sh jmh -f 1 -wi 2 -i 3 -w 1 -r 1 -rf json -rff "$OUT/jmh.json" 2>>"$OUT/campaign.log" > "$OUT/jmh.txt"
