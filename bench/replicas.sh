# Sourced by bench/side-by-side.sh and bench/solo.sh: the JVM, three demo replicas on 19001-19003
# from the given jar, and the gateway arguments of one lb://orders route to them.
#   start_replicas JAR; ... "$J" -jar gateway.jar $ARGS ...; stop_replicas
J="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java"
command -v wrk >/dev/null || { echo "wrk is needed (apt-get install wrk)"; exit 1; }
replica_pids=()
start_replicas() {
  for p in 19001 19002 19003; do
    "$J" -Xmx256m -Dloader.main=dev.resiliencegateway.demo.DemoReplicaMain -jar "$1" --port=$p --id=r$p >/dev/null 2>&1 &
    replica_pids+=($!)
  done
  sleep 6
}
stop_replicas() { kill "${replica_pids[@]}" 2>/dev/null || true; }
ARGS="--logging.level.root=WARN
 --spring.cloud.gateway.server.webmvc.routes[0].id=orders --spring.cloud.gateway.server.webmvc.routes[0].uri=lb://orders
 --spring.cloud.gateway.server.webmvc.routes[0].predicates[0]=Path=/orders/**
 --resilience.gateway.pools.orders.replicas[0].url=http://127.0.0.1:19001
 --resilience.gateway.pools.orders.replicas[1].url=http://127.0.0.1:19002
 --resilience.gateway.pools.orders.replicas[2].url=http://127.0.0.1:19003"
