package dev.resiliencegateway.checks;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.resiliencegateway.config.GatewayConfig.HealthCheckSettings;
import dev.resiliencegateway.health.HealthVerdict;
import dev.resiliencegateway.health.PoolHealth;
import dev.resiliencegateway.health.ReplicaHealth;
import dev.resiliencegateway.support.Threads;

/**
 * Active health checks: GET the health path of every replica of a pool, read Spring Boot's health
 * JSON, and feed the verdict to the replica's health model. Asynchronous (the JDK client on its own
 * two threads), so checks never touch the request path, and a replica whose previous check is still
 * in flight is skipped, so checks never pile up on a hanging replica.
 */
public final class ActiveHealthChecks implements AutoCloseable {

	private final ExecutorService executor = Executors.newFixedThreadPool(2, Threads.daemon("gateway-health-check"));

	private final HttpClient http;

	private final ObjectMapper json = new ObjectMapper();

	private final Set<ReplicaHealth> inFlight = ConcurrentHashMap.newKeySet();

	public ActiveHealthChecks() {
		this.http = HttpClient.newBuilder()
			.version(HttpClient.Version.HTTP_1_1)
			.followRedirects(HttpClient.Redirect.NEVER)
			.connectTimeout(Duration.ofSeconds(1))
			.executor(executor)
			.build();
	}

	/** Starts one round of checks of a pool; returns at once. */
	public void checkAll(PoolHealth pool, HealthCheckSettings settings) {
		for (ReplicaHealth replica : pool.replicas()) {
			if (!inFlight.add(replica)) {
				continue;
			}
			HttpRequest request;
			try {
				request = HttpRequest.newBuilder(URI.create(replica.replica().uri() + settings.path()))
					.timeout(settings.timeout())
					.header("Accept", "application/json")
					.GET()
					.build();
			}
			catch (IllegalArgumentException e) {
				inFlight.remove(replica);
				replica.onHealthCheck(HealthVerdict.DOWN, "bad health check URL: " + e.getMessage());
				continue;
			}
			http.sendAsync(request, HttpResponse.BodyHandlers.ofString()).whenComplete((response, error) -> {
				try {
					if (error != null) {
						Throwable cause = error.getCause() != null ? error.getCause() : error;
						replica.onHealthCheck(HealthVerdict.DOWN, cause.getClass().getSimpleName());
					}
					else {
						Map.Entry<HealthVerdict, String> v = verdict(response.statusCode(), response.body());
						replica.onHealthCheck(v.getKey(), v.getValue());
					}
				}
				finally {
					inFlight.remove(replica);
				}
			});
		}
	}

	/** Whether a check of {@code replica} is in flight (a new round skips it). */
	boolean inFlight(ReplicaHealth replica) {
		return inFlight.contains(replica);
	}

	/** Reads Spring Boot's health JSON: UP, DOWN, OUT_OF_SERVICE; without a status, the HTTP code decides. */
	Map.Entry<HealthVerdict, String> verdict(int code, String body) {
		String status = null;
		try {
			JsonNode node = json.readTree(body);
			if (node != null && node.hasNonNull("status")) {
				status = node.get("status").asText();
			}
		}
		catch (Exception notJson) {
			// a health path that does not speak Spring Boot's JSON: the status code decides
		}
		if ("OUT_OF_SERVICE".equals(status)) {
			return Map.entry(HealthVerdict.OUT_OF_SERVICE, "status OUT_OF_SERVICE");
		}
		if ("DOWN".equals(status)) {
			return Map.entry(HealthVerdict.DOWN, "status DOWN (HTTP " + code + ")");
		}
		if (code >= 200 && code < 300) {
			return Map.entry(HealthVerdict.UP, "HTTP " + code);
		}
		return Map.entry(HealthVerdict.DOWN, "HTTP " + code + (status == null ? "" : ", status " + status));
	}

	@Override
	public void close() {
		executor.shutdownNow();
	}

}
