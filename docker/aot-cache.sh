#!/usr/bin/env bash
# Builds the JDK's AOT cache (JEP 483/514/515, JDK 25+) for the gateway: the classes it loads and
# links at startup, and their method profiles, from one training run that starts the gateway to
# readiness and sends it a few hundred requests. Starting with the cache roughly halves the time to
# readiness (docs/performance.md, "Start").
#   docker/aot-cache.sh target/resilience-gateway.jar target/aot
#   java -XX:AOTCache=target/aot/app.aot -jar target/aot/resilience-gateway.jar ...
# The cache holds only for the same JDK build, the same jars and compatible JVM options: rebuild it with
# the jar (the Dockerfile does). A JVM that cannot use it says so and starts without it.
set -euo pipefail
jar="${1:?usage: aot-cache.sh JAR OUTDIR}"
out="${2:?usage: aot-cache.sh JAR OUTDIR}"
java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
rm -rf "$out"
# the AOT cache needs a plain class path: the Spring Boot jar is extracted to a thin jar plus lib/
"$java" -Djarmode=tools -jar "$jar" extract --destination "$out"
app="$out/$(basename "$jar")"
# the shipped JVM settings, when next to this script (docker/jvm.options; the Dockerfile copies both)
opts=()
training_opts=()
if [ -f "$(dirname "$0")/jvm.options" ]; then
  opts=("@$(dirname "$0")/jvm.options")
  # the training runs without jvm.options' CompileCommand lines (start-up code kept from C2): the cache
  # records what C2 compiled in training and the JIT replays it at start; trained with them, C2 spent
  # its freed time on other start-up methods, which the start then replayed (C2 used 1.9-2.4 s of CPU
  # by readiness against 1.2-1.5 s trained without them; docs/performance.md, "Start")
  grep -v -- '^-XX:CompileCommand' "$(dirname "$0")/jvm.options" >"$out/training.options"
  training_opts=("@$out/training.options")
fi
# training run (dev.resiliencegateway.AotTraining): the whole start to readiness, both ports, then a
# few hundred requests through the gateway to a replica on loopback, then exit; ports of the system's
# choosing, nothing leaves the machine. Stopping at the context's refresh instead
# (spring.context.exit=onRefresh) left out the web servers' start and the request path.
if ! "$java" -XX:AOTCacheOutput="$out/app.aot" "${training_opts[@]}" -cp "$app" dev.resiliencegateway.AotTraining \
  --server.port=0 --management.server.port=0 --logging.level.root=WARN --spring.main.banner-mode=off \
  >"$out/training.log" 2>&1; then
  cat "$out/training.log" >&2; echo "the AOT cache's training run failed" >&2; exit 1
fi
grep -v '^\[.*\]\[warning\]\[aot\] Skipping' "$out/training.log" || true
rm -f "$out/training.log" "$out/training.options"
test -s "$out/app.aot" || { echo "no AOT cache was written to $out/app.aot" >&2; exit 1; }
# the start as production runs it (-jar), with the cache required (AOTMode=on: a cache the JVM cannot
# use is an error, not a warning), stopped once the context has refreshed
args=("${opts[@]}" -Dspring.context.exit=onRefresh -jar "$app"
  --server.port=0 --management.server.port=0 --logging.level.root=WARN
  --spring.cloud.gateway.server.webmvc.routes[0].id=check
  --spring.cloud.gateway.server.webmvc.routes[0].uri=lb://check
  --spring.cloud.gateway.server.webmvc.routes[0].predicates[0]=Path=/check/**
  --resilience.gateway.pools.check.replicas[0].url=http://127.0.0.1:9
  --resilience.gateway.pools.check.health-check.enabled=false)
"$java" -XX:AOTMode=on -XX:AOTCache="$out/app.aot" "${args[@]}" >/dev/null
echo "AOT cache: $out/app.aot ($(du -h "$out/app.aot" | cut -f1)); start with: java -XX:AOTCache=$out/app.aot -jar $app"
