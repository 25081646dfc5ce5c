#!/usr/bin/env bash
# One gateway alone in front of three demo replicas, under wrk -t2 -c50: req/s, CPU-ms per 1000
# requests (from /proc), the user-time share, p50/p99. Not in .ci/run. Comparing two settings this
# way is noisy (the machine's speed drifts); bench/side-by-side.sh is the fairer A/B, except for
# changes that decide who gets the cores (thread models), which only a solo run shows.
#   bench/solo.sh target/resilience-gateway.jar "--spring.threads.virtual.enabled=false" 2
#   JOPTS="-XX:FlightRecorderOptions:stackdepth=512 -XX:StartFlightRecording=filename=gw.jfr,settings=profile,delay=25s,duration=12s" \
#     bench/solo.sh target/resilience-gateway.jar "" 1       # a JFR profile with whole stacks
set -uo pipefail
A=$1; AA=${2:-}; ROUNDS=${3:-1}
# shellcheck source=bench/replicas.sh
. "$(dirname "$0")/replicas.sh"
out=$(mktemp -d)
trap 'stop_replicas; rm -rf "$out"' EXIT
start_replicas "$A"
stat() { awk -v f="$2" '{print (f == "user") ? $14 : $14 + $15}' "/proc/$1/stat"; }
for _ in $(seq 1 "$ROUNDS"); do
  # shellcheck disable=SC2086
  "$J" @"$(dirname "$0")/../docker/jvm.options" ${JOPTS:-} -jar "$A" $ARGS --server.port=18080 --management.server.port=18081 $AA >"$out/gw.log" 2>&1 & a=$!
  for _ in $(seq 1 600); do curl -sf -o /dev/null http://127.0.0.1:18081/actuator/health/readiness && break; sleep 0.1; done
  wrk -t2 -c50 -d15s http://127.0.0.1:18080/orders/x >/dev/null 2>&1; sleep 1   # warm-up
  c0=$(stat $a all); u0=$(stat $a user)
  wrk -t2 -c50 -d15s --latency http://127.0.0.1:18080/orders/x > "$out/wrk.txt"
  c1=$(stat $a all); u1=$(stat $a user)
  n=$(awk '/requests in/{print $1}' "$out/wrk.txt")
  awk -v c=$((c1 - c0)) -v u=$((u1 - u0)) -v n="$n" \
    'BEGIN { printf "%d req/s, %.0f cpu-ms/1000 (user %.0f%%)  ", n / 15, c * 10 * 1000 / n, 100 * u / c }'
  grep -E '^ +(50|99)%' "$out/wrk.txt" | tr -s ' ' | tr '\n' ' '; echo
  kill $a; wait $a 2>/dev/null
done
