package dev.resiliencegateway.checks;

import java.net.URI;
import java.net.http.HttpClient;

import javax.net.ssl.SSLContext;
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
import dev.resiliencegateway.health.ReplicaState;
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

	/** One client per pool TLS setting (an https pool with its own SSL bundle), sharing the two threads. */
	private final Map<SSLContext, HttpClient> tlsClients = new ConcurrentHashMap<>();

	public ActiveHealthChecks() {
		this.http = client(null);
	}

	private HttpClient client(SSLContext tls) {
		HttpClient.Builder b = HttpClient.newBuilder()
			.version(HttpClient.Version.HTTP_1_1)
			.followRedirects(HttpClient.Redirect.NEVER)
			.connectTimeout(Duration.ofSeconds(1))
			.executor(executor);
		if (tls != null) {
			b.sslContext(tls);
		}
		return b.build();
	}

	private HttpClient http(SSLContext tls) {
		return tls == null ? http : tlsClients.computeIfAbsent(tls, this::client);
	}

	/**
	 * Starts one round of checks of a pool; returns at once. A replica its checks marked down is left
	 * out: it is rechecked on its own schedule ({@link #check}, {@link ReplicaHealth#recheckDue}).
	 */
	public void checkAll(PoolHealth pool, HealthCheckSettings settings) {
		checkAll(pool, settings, null);
	}

	/** @param tls the pool's TLS to its https replicas, {@code null} for the JDK's defaults */
	public void checkAll(PoolHealth pool, HealthCheckSettings settings, SSLContext tls) {
		for (ReplicaHealth replica : pool.replicas()) {
			if (replica.state() != ReplicaState.DOWN) {
				check(replica, settings, tls);
			}
		}
	}

	public void check(ReplicaHealth replica, HealthCheckSettings settings) {
		check(replica, settings, null);
	}

	/** Starts a check of one replica, unless one is in flight; returns at once. */
	public void check(ReplicaHealth replica, HealthCheckSettings settings, SSLContext tls) {
		if (!inFlight.add(replica)) {
			return;
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
			return;
		}
		http(tls).sendAsync(request, HttpResponse.BodyHandlers.ofString()).whenComplete((response, error) -> {
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

	/**
	 * Sends an ejected replica's synthetic probe: {@code GET path}, judged as a request would be (an
	 * answer below 500 succeeds), reported to {@link ReplicaHealth#endSyntheticProbe}. Its claim on the
	 * probe slot keeps probes of one replica from overlapping.
	 */
	public void probe(ReplicaHealth replica, String path, Duration timeout) {
		probe(replica, path, timeout, null);
	}

	public void probe(ReplicaHealth replica, String path, Duration timeout, SSLContext tls) {
		HttpRequest request;
		try {
			request = HttpRequest.newBuilder(URI.create(replica.replica().uri() + path)).timeout(timeout).GET().build();
		}
		catch (IllegalArgumentException e) {
			replica.endSyntheticProbe(false, "bad probe URL: " + e.getMessage());
			return;
		}
		http(tls).sendAsync(request, HttpResponse.BodyHandlers.discarding()).whenComplete((response, error) -> {
			if (error != null) {
				Throwable cause = error.getCause() != null ? error.getCause() : error;
				replica.endSyntheticProbe(false, "GET " + path + ": " + cause.getClass().getSimpleName());
			}
			else {
				replica.endSyntheticProbe(response.statusCode() < 500, "GET " + path + " answered " + response.statusCode());
			}
		});
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
