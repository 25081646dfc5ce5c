#!/usr/bin/env bash
# The floor of the stack the gateway is built on, on this machine, against issue #12's last targets.
# Not in .ci/run; needs target/aot (docker/aot-cache.sh) and, for "start", bench/stock-scg's jar.
#   bench/floor.sh latency [ROUNDS]  # p50/p99 at 300 req/s (hey -c 1 -q 300, 20 s), alternating:
#                                    # a replica directly, nginx in front of the three, the gateway,
#                                    # and the gateway's own Tomcat answering alone (bench/floor/TomcatFloor.java:
#                                    # its jars, NIO, a virtual thread per request, no Spring, no hop),
#                                    # and the same Tomcat relaying to the replicas with HttpClient 5
#                                    # (tomcat-hop: the least a proxy on this stack does)
#   HEY_OPTS="-m POST -d {} -T application/json" bench/floor.sh latency   # the same with POSTs
#   bench/floor.sh start [ROUNDS]    # launch to ready from each one's own AOT cache, alternating: the
#                                    # gateway, and stock Spring Cloud Gateway MVC (bench/stock-scg)
set -uo pipefail
cd "$(dirname "$0")/.."
WHAT=${1:?usage: bench/floor.sh latency|start [ROUNDS]}; ROUNDS=${2:-3}
test -f target/aot/app.aot || { echo "run docker/aot-cache.sh target/resilience-gateway.jar target/aot first"; exit 1; }
# shellcheck source=bench/replicas.sh
. bench/replicas.sh
command -v hey >/dev/null || { echo "hey is needed (apt-get install hey)"; exit 1; }
work=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null; stop_replicas; sleep 0.5; rm -rf "$work"; }
trap cleanup EXIT
# AOTMode=on: a cache the JVM cannot use stops the start instead of being left out unsaid
GW=(-XX:AOTMode=on -XX:AOTCache=target/aot/app.aot -jar target/aot/resilience-gateway.jar)
# at most 3000 tries 10 ms apart (about a minute with curl's own time)
await() { for _ in $(seq 1 3000); do curl -sf -o /dev/null "$1" && return 0; sleep 0.01; done; echo "not ready: $1"; return 1; }
ms() { date +%s%3N; }

if [ "$WHAT" = latency ]; then
  command -v nginx >/dev/null || { echo "nginx is needed (apt-get install nginx-light)"; exit 1; }
  start_replicas target/resilience-gateway.jar
  # nginx as the benchmark runs it (bench/.../Systems.java), without the retry lines (nothing fails here)
  cat >"$work/nginx.conf" <<EOF
worker_processes 1;
error_log $work/error.log error;
pid $work/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  upstream demo { server 127.0.0.1:19001; server 127.0.0.1:19002; server 127.0.0.1:19003; keepalive 64; }
  server {
    listen 127.0.0.1:18070;
    location / { proxy_pass http://demo; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
EOF
  nginx -p "$work" -c "$work/nginx.conf" -g "daemon off;" & pids+=($!)
  # shellcheck disable=SC2086
  "$J" @docker/jvm.options "${GW[@]}" $ARGS --server.port=18080 --management.server.port=18081 >"$work/gw.log" 2>&1 & pids+=($!)
  await http://127.0.0.1:18081/actuator/health/readiness || exit 1
  "$J" @docker/jvm.options -cp 'target/aot/lib/*' bench/floor/TomcatFloor.java 18090 >"$work/floor.log" 2>&1 & pids+=($!)
  await http://127.0.0.1:18090/orders/x || exit 1
  "$J" @docker/jvm.options -cp 'target/aot/lib/*' bench/floor/TomcatFloor.java 18091 \
    http://127.0.0.1:19001 http://127.0.0.1:19002 http://127.0.0.1:19003 >"$work/floor-hop.log" 2>&1 & pids+=($!)
  await http://127.0.0.1:18091/orders/x || exit 1
  declare -A url=([direct]=http://127.0.0.1:19001/orders/x [nginx]=http://127.0.0.1:18070/orders/x
    [gateway]=http://127.0.0.1:18080/orders/x [tomcat-alone]=http://127.0.0.1:18090/orders/x
    [tomcat-hop]=http://127.0.0.1:18091/orders/x)
  order=(direct nginx gateway tomcat-alone tomcat-hop)
  for s in "${order[@]}"; do   # warm-up: the JIT, the connections
    # shellcheck disable=SC2086
    wrk -t2 -c50 -d10s "${url[$s]}" >/dev/null 2>&1; hey -z 10s -c 1 -q 300 ${HEY_OPTS:-} "${url[$s]}" >/dev/null
  done
  for r in $(seq 1 "$ROUNDS"); do
    for s in "${order[@]}"; do
      # shellcheck disable=SC2086
      hey -z 20s -c 1 -q 300 ${HEY_OPTS:-} "${url[$s]}" >"$work/hey.txt"
      awk -v s="$s" -v r="$r" '/ 50% in/{p50=$3*1000} / 99% in/{p99=$3*1000} / \[200\]/{ok=$2}
        END { printf "round %d  %-13s p50 %.2f ms  p99 %.2f ms  (%d answers 200)\n", r, s, p50, p99, ok }' "$work/hey.txt"
    done
  done
elif [ "$WHAT" = start ]; then
  test -f bench/stock-scg/target/stock-scg.jar || { echo "build bench/stock-scg first (bench/run.sh does)"; exit 1; }
  start_replicas target/resilience-gateway.jar
  # stock SCG MVC's cache, trained as the gateway's is: the whole start, requests through it, then exit
  "$J" -Djarmode=tools -jar bench/stock-scg/target/stock-scg.jar extract --destination "$work/stock" >/dev/null
  STOCK=(-jar "$work/stock/stock-scg.jar" --logging.level.root=WARN
    "--spring.cloud.discovery.client.simple.instances.demo[0].uri=http://127.0.0.1:19001"
    "--spring.cloud.discovery.client.simple.instances.demo[1].uri=http://127.0.0.1:19002"
    "--spring.cloud.discovery.client.simple.instances.demo[2].uri=http://127.0.0.1:19003")
  # with the gateway's JVM settings, trained without their CompileCommand lines as docker/aot-cache.sh does
  grep -v -- '^-XX:CompileCommand' docker/jvm.options >"$work/training.options"
  "$J" @"$work/training.options" -XX:AOTCacheOutput="$work/stock.aot" "${STOCK[@]}" --server.port=18082 --management.server.port=18083 \
    >"$work/stock-training.log" 2>&1 & t=$!; pids+=($t)
  await http://127.0.0.1:18083/actuator/health || exit 1
  for _ in $(seq 1 300); do curl -s -o /dev/null http://127.0.0.1:18082/demo/x; done
  kill -TERM $t; wait $t
  test -s "$work/stock.aot" || { echo "no AOT cache for stock SCG MVC"; cat "$work/stock-training.log"; exit 1; }
  for r in $(seq 1 "$ROUNDS"); do
    t0=$(ms)
    # shellcheck disable=SC2086
    "$J" @docker/jvm.options "${GW[@]}" $ARGS --server.port=18080 --management.server.port=18081 >"$work/gw.log" 2>&1 & p=$!; pids+=($p)
    await http://127.0.0.1:18081/actuator/health/readiness || exit 1
    echo "round $r  gateway     ready after $(( $(ms) - t0 )) ms"
    kill $p; wait $p 2>/dev/null
    t0=$(ms)
    "$J" @docker/jvm.options -XX:AOTMode=on -XX:AOTCache="$work/stock.aot" "${STOCK[@]}" --server.port=18082 \
      --management.server.port=18083 >"$work/stock.log" 2>&1 & p=$!; pids+=($p)
    await http://127.0.0.1:18083/actuator/health || exit 1
    echo "round $r  stock-scg   ready after $(( $(ms) - t0 )) ms"
    kill $p; wait $p 2>/dev/null
  done
else
  echo "usage: bench/floor.sh latency|start [ROUNDS]"; exit 1
fi
