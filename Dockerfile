# Resilience Gateway image: builds with the Maven wrapper, runs on a Java 25 JRE (virtual threads on)
# from the JDK's AOT cache (classes loaded and linked ahead of time: about half the time to readiness,
# docs/performance.md).
FROM eclipse-temurin:25-jdk AS build
WORKDIR /src
COPY mvnw pom.xml ./
COPY .mvn .mvn
RUN ./mvnw -B -q dependency:go-offline
COPY src src
RUN ./mvnw -B -q package -DskipTests

# The AOT cache is trained by the JVM that will use it (this JRE), with the same options.
FROM eclipse-temurin:25-jre AS aot
COPY --from=build /src/target/resilience-gateway.jar /tmp/resilience-gateway.jar
COPY docker/aot-cache.sh docker/jvm.options /tmp/
RUN /tmp/aot-cache.sh /tmp/resilience-gateway.jar /app && cp /tmp/jvm.options /app/jvm.options

FROM eclipse-temurin:25-jre
RUN useradd --system --uid 10001 gateway
# /app: the extracted jar (resilience-gateway.jar and lib/) and app.aot
COPY --from=aot /app /app
WORKDIR /app
USER gateway
EXPOSE 8080 8081
# the shipped JVM settings (docker/jvm.options: heap 64-512 MB, why in docs/performance.md); options in
# JAVA_OPTS come after them and win, e.g. JAVA_OPTS=-Xmx512m for large in-memory key stores
ENV JAVA_OPTS=""
ENTRYPOINT ["sh", "-c", "exec java @/app/jvm.options $JAVA_OPTS -XX:AOTCache=/app/app.aot -jar /app/resilience-gateway.jar \"$@\"", "resilience-gateway"]
