#!/usr/bin/env bash
# One start of the gateway from its AOT cache, timed to readiness, then each thread's CPU and its wait
# in the kernel's run queue at that moment (/proc/PID/task/*/schedstat): shows whether the start is
# waiting for a core (two cores shared by the main thread and the JIT) or working. Not in .ci/run.
#   docker/aot-cache.sh target/resilience-gateway.jar target/aot
#   bench/start-threads.sh [extra JVM options...]
# One pool whose only replica does not answer (127.0.0.1:9), checks off, as the start measurements in
# docs/performance.md ("Start") use.
set -uo pipefail
cd "$(dirname "$0")/.."
J="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java"
t0=$(date +%s.%N)
"$J" @docker/jvm.options "$@" -XX:AOTCache=target/aot/app.aot -jar target/aot/resilience-gateway.jar \
  --server.port=18080 --management.server.port=18081 --logging.level.root=WARN --spring.main.banner-mode=off \
  --spring.cloud.gateway.server.webmvc.routes[0].id=check --spring.cloud.gateway.server.webmvc.routes[0].uri=lb://check \
  --spring.cloud.gateway.server.webmvc.routes[0].predicates[0]=Path=/check/** \
  --resilience.gateway.pools.check.replicas[0].url=http://127.0.0.1:9 \
  --resilience.gateway.pools.check.health-check.enabled=false >/dev/null 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT
for _ in $(seq 1 600); do
  curl -sf -o /dev/null http://127.0.0.1:18081/actuator/health/readiness && break
  sleep 0.01
done
t1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" 'BEGIN { printf "ready after %.2f s\nthread cpu-ms run-queue-wait-ms\n", b - a }'
for t in /proc/$pid/task/*; do
  read -r run wait _ <"$t/schedstat"
  echo "$(tr ' ' '_' <"$t/comm") $((run / 1000000)) $((wait / 1000000))"
done | sort -k2 -n -r | head -8
