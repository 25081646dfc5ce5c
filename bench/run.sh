#!/usr/bin/env bash
# The benchmark: this gateway side by side with nginx, HAProxy and Caddy (Debian packages, installed
# if missing) in front of the same three demo replicas, under open-loop load. Not part of .ci/run.
#   bench/run.sh                                  # every scenario, 30 s each, all systems
#   bench/run.sh --scenarios=crash,hang --rate=300 --duration=30 --fault-start=10 --fault-end=20
#   bench/run.sh --overhead                       # also max throughput with wrk, and launch to ready
#   bench/run.sh --overload --systems=resilience-gateway,nginx   # goodput at 2x and 4x the peak
# Writes docs/benchmarks/results.md and docs/benchmarks/chart-*.png.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
for tool in nginx haproxy caddy wrk hey; do command -v "$tool" >/dev/null 2>&1 || need+=("$tool"); done
if [ ${#need[@]} -gt 0 ]; then
  pkgs=("${need[@]/nginx/nginx-light}")
  DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${pkgs[@]}" >/dev/null
fi
for jdk in /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/temurin-25-jdk; do
  if [ -x "$jdk/bin/java" ]; then export JAVA_HOME="$jdk"; break; fi
done
# the gateway's jar, as users run it
./mvnw -B -q -DskipTests package
# the JDK's AOT cache the Docker image starts from, for the overhead run's start table (about 30 s)
case " $* " in *" --overhead "*) docker/aot-cache.sh target/resilience-gateway.jar target/aot >/dev/null ;; esac
# stock Spring Cloud Gateway Server MVC, a small separate app (bench/stock-scg), built here
./mvnw -B -q -f bench/stock-scg/pom.xml -DskipTests package
# the driver: a Maven project of its own (bench/pom.xml), so no benchmark code is in the product
./mvnw -B -q -f bench/pom.xml -DskipTests package
./mvnw -B -q -f bench/pom.xml dependency:build-classpath -Dmdep.outputFile=target/bench.classpath >/dev/null
JAVA="${JAVA_HOME:-/usr}/bin/java"
exec "$JAVA" -Xmx1g -cp "bench/target/classes:$(cat bench/target/bench.classpath)" \
  dev.resiliencegateway.bench.Benchmark --java-home="${JAVA_HOME:-/usr}" "$@"
