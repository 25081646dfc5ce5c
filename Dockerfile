# Resilience Gateway image: builds with the Maven wrapper, runs on a Java 25 JRE (virtual threads on).
FROM eclipse-temurin:25-jdk AS build
WORKDIR /src
COPY mvnw pom.xml ./
COPY .mvn .mvn
RUN ./mvnw -B -q dependency:go-offline
COPY src src
RUN ./mvnw -B -q package -DskipTests

FROM eclipse-temurin:25-jre
RUN useradd --system --uid 10001 gateway
WORKDIR /app
COPY --from=build /src/target/resilience-gateway.jar app.jar
USER gateway
EXPOSE 8080 8081
# A bounded heap: the container limit, not a quarter of the host, decides the footprint.
ENV JAVA_TOOL_OPTIONS="-XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError"
ENTRYPOINT ["java", "-jar", "/app/app.jar"]
