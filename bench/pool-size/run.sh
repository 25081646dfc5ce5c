#!/usr/bin/env bash
# Per-request cost of a 3-replica pool and a 1000-replica pool (issue #12), two gateways side by side
# under the same load at the same time (the machine's noise hits both). The replicas are one nginx
# listening on 1000 loopback ports, each port a replica. Not part of .ci/run.
#   bench/pool-size/run.sh target/resilience-gateway.jar nochecks 2   # passive health only
#   bench/pool-size/run.sh target/resilience-gateway.jar checks 2     # plus active checks every 1 s
set -euo pipefail
JAR=$1; CHECKS=${2:-nochecks}; ROUNDS=${3:-2}
J="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java"
command -v nginx >/dev/null && command -v wrk >/dev/null || { echo "nginx and wrk are needed (apt-get install nginx-light wrk)"; exit 1; }
D=$(mktemp -d)
{
  echo "worker_processes 1; pid $D/nginx.pid; error_log $D/error.log warn;"
  echo "events { worker_connections 4096; }"
  echo "http { access_log off; keepalive_requests 100000; server {"
  for i in $(seq 20000 20999); do echo "  listen 127.0.0.1:$i;"; done
  echo "  location /actuator/health { default_type application/json; return 200 '{\"status\":\"UP\"}'; }"
  echo "  location / { default_type application/json; return 200 '{\"ok\":true}'; } } }"
} > "$D/nginx.conf"
for n in 3 1000; do
  for c in checks nochecks; do
    { echo "resilience.gateway.pools.orders:"
      echo "  health-check.enabled: $([ $c = checks ] && echo true || echo false)"
      echo "  replicas:"
      for i in $(seq 20000 $((20000 + n - 1))); do echo "    - url: http://127.0.0.1:$i"; done
    } > "$D/pool-$n-$c.yml"
  done
done
nginx -c $D/nginx.conf; trap 'nginx -c $D/nginx.conf -s stop 2>/dev/null || true' EXIT
ROUTE="--logging.level.root=WARN --spring.cloud.gateway.server.webmvc.routes[0].id=orders
 --spring.cloud.gateway.server.webmvc.routes[0].uri=lb://orders --spring.cloud.gateway.server.webmvc.routes[0].predicates[0]=Path=/orders/**"
ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
pair() { # nameA fileA nameB fileB
  # shellcheck disable=SC2086
  "$J" -jar "$JAR" $ROUTE --spring.config.import=file:$2 --server.port=18080 --management.server.port=18081 >/tmp/ps-a.log 2>&1 & local a=$!
  # shellcheck disable=SC2086
  "$J" -jar "$JAR" $ROUTE --spring.config.import=file:$4 --server.port=18090 --management.server.port=18091 >/tmp/ps-b.log 2>&1 & local b=$!
  for _ in $(seq 1 600); do
    curl -sf -o /dev/null http://127.0.0.1:18081/actuator/health/readiness \
      && curl -sf -o /dev/null http://127.0.0.1:18091/actuator/health/readiness && break
    sleep 0.1
  done
  sleep 5 # first health-check rounds
  wrk -t1 -c25 -d8s http://127.0.0.1:18080/orders/x >/dev/null 2>&1 & local w=$!
  wrk -t1 -c25 -d8s http://127.0.0.1:18090/orders/x >/dev/null 2>&1; wait $w; sleep 1
  local a0 b0 a1 b1; a0=$(ticks $a); b0=$(ticks $b)
  wrk -t1 -c25 -d20s http://127.0.0.1:18080/orders/x > /tmp/ps-wa.txt & w=$!
  wrk -t1 -c25 -d20s http://127.0.0.1:18090/orders/x > /tmp/ps-wb.txt; wait $w
  a1=$(ticks $a); b1=$(ticks $b)
  local na nb; na=$(awk '/requests in/{print $1}' /tmp/ps-wa.txt); nb=$(awk '/requests in/{print $1}' /tmp/ps-wb.txt)
  local ea eb; ea=$(grep -c 'Non-2xx\|Socket errors' /tmp/ps-wa.txt || true); eb=$(grep -c 'Non-2xx\|Socket errors' /tmp/ps-wb.txt || true)
  awk -v n1="$1" -v n2="$3" -v ca=$((a1 - a0)) -v cb=$((b1 - b0)) -v na="$na" -v nb="$nb" -v ea="$ea" -v eb="$eb" 'BEGIN {
    ma = ca * 10 * 1000 / na; mb = cb * 10 * 1000 / nb
    printf "%s: %d req, %.0f cpu-ms/1000 (errors %s) | %s: %d req, %.0f cpu-ms/1000 (errors %s) | ratio %.3f\n", n1, na, ma, ea, n2, nb, mb, eb, (n1 == "1000" ? ma / mb : mb / ma) }'
  kill $a $b; wait $a $b 2>/dev/null || true
}
for _ in $(seq 1 "$ROUNDS"); do
  pair 3 $D/pool-3-$CHECKS.yml 1000 $D/pool-1000-$CHECKS.yml
  pair 1000 $D/pool-1000-$CHECKS.yml 3 $D/pool-3-$CHECKS.yml
done
