#!/usr/bin/env bash
# Two gateway jars (or one jar with two settings) side by side, under the same load at the same time,
# so the machine's noise hits both: CPU-ms per 1000 requests of each, and their ratio. Not in .ci/run.
#   bench/side-by-side.sh A.jar "args" B.jar "args" [rounds]
#   bench/side-by-side.sh target/resilience-gateway.jar "" target/resilience-gateway.jar \
#       "--management.tracing.enabled=true --management.tracing.sampling.probability=1.0" 3
# Each round runs the pair twice, swapping ports (the first of the two gateways pays a little more).
set -euo pipefail
A=$1; AA=$2; B=$3; BA=$4; ROUNDS=${5:-3}
# shellcheck source=bench/replicas.sh
. "$(dirname "$0")/replicas.sh"
trap stop_replicas EXIT
start_replicas "$A"
ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
pair() { # name1 jar1 args1 name2 jar2 args2
  # shellcheck disable=SC2086
  "$J" -jar "$2" $ARGS --server.port=18080 --management.server.port=18081 $3 >/dev/null 2>&1 & local a=$!
  # shellcheck disable=SC2086
  "$J" -jar "$5" $ARGS --server.port=18090 --management.server.port=18091 $6 >/dev/null 2>&1 & local b=$!
  for _ in $(seq 1 600); do
    curl -sf -o /dev/null http://127.0.0.1:18081/actuator/health/readiness \
      && curl -sf -o /dev/null http://127.0.0.1:18091/actuator/health/readiness && break
    sleep 0.1
  done
  wrk -t1 -c25 -d8s http://127.0.0.1:18080/orders/x >/dev/null 2>&1 & local w=$!
  wrk -t1 -c25 -d8s http://127.0.0.1:18090/orders/x >/dev/null 2>&1; wait $w; sleep 1   # warm-up
  local a0 b0 a1 b1; a0=$(ticks $a); b0=$(ticks $b)
  wrk -t1 -c25 -d20s http://127.0.0.1:18080/orders/x > /tmp/side-a.txt & w=$!
  wrk -t1 -c25 -d20s http://127.0.0.1:18090/orders/x > /tmp/side-b.txt; wait $w
  a1=$(ticks $a); b1=$(ticks $b)
  local na nb; na=$(awk '/requests in/{print $1}' /tmp/side-a.txt); nb=$(awk '/requests in/{print $1}' /tmp/side-b.txt)
  awk -v n1="$1" -v n2="$4" -v ca=$((a1 - a0)) -v cb=$((b1 - b0)) -v na="$na" -v nb="$nb" 'BEGIN {
    ma = ca * 10 * 1000 / na; mb = cb * 10 * 1000 / nb   # clock ticks are 10 ms
    printf "%s: %d req, %.0f cpu-ms/1000 | %s: %d req, %.0f cpu-ms/1000\n", n1, na, ma, n2, nb, mb }'
  kill $a $b; wait $a $b 2>/dev/null || true
}
for _ in $(seq 1 "$ROUNDS"); do
  pair A "$A" "$AA" B "$B" "$BA"
  pair B "$B" "$BA" A "$A" "$AA"
done
