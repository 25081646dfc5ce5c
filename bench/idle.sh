#!/usr/bin/env bash
# A gateway with nothing to do: its CPU (share of one core) and the threads that use it, three demo
# replicas behind one lb://orders route, measured over WINDOW seconds after SETTLE seconds. Not in .ci/run.
#   bench/idle.sh target/resilience-gateway.jar 600 120                    # the 10-minute settle of docs/performance.md
#   bench/idle.sh target/resilience-gateway.jar 180 60 --resilience.gateway.pools.orders.health-check.enabled=false
#   PORT=22000 bench/idle.sh other.jar 600 120                             # a second jar at the same time
set -uo pipefail
A=$1; SETTLE=${2:-600}; WINDOW=${3:-120}; shift $(( $# < 3 ? $# : 3 ))
B=${PORT:-21000}
J="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java"
cd "$(dirname "$0")/.."
pids=()
trap 'kill "${pids[@]}" 2>/dev/null' EXIT
for i in 11 12 13; do
  "$J" -Xmx256m -Dloader.main=dev.resiliencegateway.demo.DemoReplicaMain -jar "$A" --port=$((B + i)) --id=r$i >/dev/null 2>&1 &
  pids+=($!)
done
sleep 6
args=(--logging.level.root=WARN --server.port=$B --management.server.port=$((B + 1))
  --spring.cloud.gateway.server.webmvc.routes[0].id=orders --spring.cloud.gateway.server.webmvc.routes[0].uri=lb://orders
  --spring.cloud.gateway.server.webmvc.routes[0].predicates[0]=Path=/orders/**)
for i in 0 1 2; do args+=(--resilience.gateway.pools.orders.replicas[$i].url=http://127.0.0.1:$((B + 11 + i))); done
log=$(mktemp)
"$J" @docker/jvm.options -jar "$A" "${args[@]}" "$@" >"$log" 2>&1 & gw=$!
pids+=($gw)
for _ in $(seq 1 600); do curl -sf -o /dev/null "http://127.0.0.1:$((B + 1))/actuator/health/readiness" && break; sleep 0.1; done
curl -sf -o /dev/null "http://127.0.0.1:$((B + 1))/actuator/health/readiness" || { echo "the gateway did not start: $log" >&2; exit 1; }
sleep "$SETTLE"
threads() { for t in /proc/$gw/task/*; do echo "$(basename "$t") $(tr ' ' '_' <"$t/comm") $(awk '{print $14 + $15}' "$t/stat" 2>/dev/null)"; done | sort; }
t0=$(threads); c0=$(awk '{print $14 + $15}' /proc/$gw/stat)
sleep "$WINDOW"
t1=$(threads); c1=$(awk '{print $14 + $15}' /proc/$gw/stat)
# clock ticks are 1/100 s: ticks / seconds = percent of one core
awk -v w="$WINDOW" -v c=$((c1 - c0)) 'BEGIN { printf "idle: %.2f %% of a core over %d s\n", c / w, w }'
join <(echo "$t0") <(echo "$t1") | awk -v w="$WINDOW" '$5 > $3 { printf "  %-20s %.2f %%\n", $2, ($5 - $3) / w }' | sort -k2 -nr | head -12
rm -f "$log"
