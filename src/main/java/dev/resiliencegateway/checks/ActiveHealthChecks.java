package dev.resiliencegateway.checks;

import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.resiliencegateway.config.GatewayConfig.HealthCheckSettings;
import dev.resiliencegateway.exchange.transport.RequestBody;
import dev.resiliencegateway.exchange.transport.UpstreamClient;
import dev.resiliencegateway.health.HealthVerdict;
import dev.resiliencegateway.health.PoolHealth;
import dev.resiliencegateway.health.ReplicaHealth;
import dev.resiliencegateway.support.Threads;

/**
 * Active health checks: GET the health path of every replica of a pool, read Spring Boot's health
 * JSON, and feed the verdict to the replica's health model. Each check runs on a virtual thread of
 * its own and goes through the gateway's upstream client, the one requests use: its pooled
 * keep-alive connections, its pool's TLS settings, its connect timeout, and code the request path
 * keeps compiled. (The JDK's HTTP client did this before, on two threads of its own: with three
 * replicas checked once a second, it and the compiler working on its cold code were nearly all of an
 * idle gateway's CPU, docs/performance.md "Idle".) Checks never touch the request path, and a replica
 * whose previous check is still in flight is skipped, so checks never pile up on a hanging replica.
 */
public final class ActiveHealthChecks implements AutoCloseable {

	/** Spring Boot's health JSON is a few hundred bytes; a longer body is judged by its status code alone. */
	static final int MAX_BODY = 64 * 1024;

	private static final List<String> ACCEPT_JSON = List.of("Accept", "application/json");

	private final UpstreamClient upstream;

	private final ExecutorService threads = Threads.perTask("gateway-health-check");

	private final ObjectMapper json = new ObjectMapper();

	private final Set<ReplicaHealth> inFlight = ConcurrentHashMap.newKeySet();

	public ActiveHealthChecks(UpstreamClient upstream) {
		this.upstream = upstream;
	}

	/**
	 * Starts one round of checks of a pool; returns at once. It asks the replicas {@code budget}
	 * chooses (at most {@code health-check.max-per-interval} as a rule; the pool keeps one budget
	 * across its rounds, so its healthy replicas take turns). A replica its checks marked down is left
	 * out: it is rechecked on its own schedule ({@link #check}, {@link ReplicaHealth#recheckDue}).
	 */
	public void checkAll(PoolHealth pool, HealthCheckSettings settings, ActiveChecksBudget budget) {
		for (ReplicaHealth replica : budget.select(pool.replicas(), settings.maxPerInterval())) {
			check(pool.name(), replica, settings);
		}
	}

	/** Starts a check of one replica of {@code pool}, unless one is in flight; returns at once. */
	public void check(String pool, ReplicaHealth replica, HealthCheckSettings settings) {
		if (!inFlight.add(replica)) {
			return;
		}
		if (!start(() -> {
			try {
				Answer answer = get(pool, replica, settings.path(), settings.timeout(), true);
				Map.Entry<HealthVerdict, String> v = answer.failure() != null
						? Map.entry(HealthVerdict.DOWN, answer.failure())
						: verdict(answer.status(), answer.body());
				replica.onHealthCheck(v.getKey(), v.getValue());
			}
			catch (RuntimeException e) {
				replica.onHealthCheck(HealthVerdict.DOWN, "the check failed: " + e);
			}
			finally {
				inFlight.remove(replica);
			}
		})) {
			inFlight.remove(replica);
		}
	}

	/**
	 * Sends an ejected replica's synthetic probe: {@code GET path}, judged as a request would be (an
	 * answer below 500 succeeds), reported to {@link ReplicaHealth#endSyntheticProbe}. Its claim on the
	 * probe slot keeps probes of one replica from overlapping.
	 */
	public void probe(String pool, ReplicaHealth replica, String path, Duration timeout) {
		if (!start(() -> {
			Answer answer;
			try {
				answer = get(pool, replica, path, timeout, false);
			}
			catch (RuntimeException e) {
				// the probe slot must be given back, or the replica would wait for this probe forever
				replica.endSyntheticProbe(false, "GET " + path + ": " + e);
				return;
			}
			if (answer.failure() != null) {
				replica.endSyntheticProbe(false, "GET " + path + ": " + answer.failure());
			}
			else {
				replica.endSyntheticProbe(answer.status() < 500, "GET " + path + " answered " + answer.status());
			}
		})) {
			replica.endSyntheticProbe(false, "the gateway is stopping");
		}
	}

	private boolean start(Runnable check) {
		try {
			threads.execute(check);
			return true;
		}
		catch (RejectedExecutionException stopped) {
			return false;
		}
	}

	/** One answer: a status and (when asked for) the body's first {@link #MAX_BODY} bytes, or why there is none. */
	private record Answer(int status, byte[] body, String failure) {
	}

	/**
	 * {@code GET path} on {@code replica}; {@code timeout} bounds the wait for the answer's head and
	 * each wait for more of its body. The body is read to its end when it is short (the connection goes
	 * back to the pool), else the connection is closed.
	 */
	private Answer get(String pool, ReplicaHealth replica, String path, Duration timeout, boolean wantBody) {
		UpstreamClient.Call call = upstream.prepare(pool, replica.replica(), "GET", path, ACCEPT_JSON,
				RequestBody.none(), timeout.toNanos());
		if (call == null) {
			return new Answer(0, null, "bad health check path " + path);
		}
		UpstreamClient.Result result = upstream.execute(call, false);
		if (!result.answered()) {
			return new Answer(0, null, result.failure() + (result.detail() == null ? "" : " (" + result.detail() + ")"));
		}
		UpstreamClient.Response response = result.response();
		byte[] body = null;
		boolean whole = false;
		try (InputStream in = response.body()) {
			if (in == null) {
				whole = true;
			}
			else {
				body = in.readNBytes(MAX_BODY);
				whole = body.length < MAX_BODY && in.read() < 0;
			}
		}
		catch (IOException e) {
			// the head came: the status still decides
		}
		finally {
			if (whole) {
				response.release();
			}
			else {
				response.abort();
			}
		}
		return new Answer(response.status(), wantBody && whole ? body : null, null);
	}

	/** Whether a check of {@code replica} is in flight (a new round skips it). */
	boolean inFlight(ReplicaHealth replica) {
		return inFlight.contains(replica);
	}

	/** Reads Spring Boot's health JSON: UP, DOWN, OUT_OF_SERVICE; without a status, the HTTP code decides. */
	Map.Entry<HealthVerdict, String> verdict(int code, byte[] body) {
		String status = status(body);
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

	/**
	 * The top-level {@code status} of a JSON object, read with Jackson's streaming parser: it stops at
	 * that field and skips the rest unread (the components' details can be most of the body), where a
	 * tree would build all of it. {@code null} when the body is not such an object.
	 */
	private String status(byte[] body) {
		if (body == null || body.length == 0) {
			return null;
		}
		try (JsonParser parser = json.createParser(body)) {
			if (parser.nextToken() != JsonToken.START_OBJECT) {
				return null;
			}
			for (JsonToken t = parser.nextToken(); t == JsonToken.FIELD_NAME; t = parser.nextToken()) {
				JsonToken value = parser.nextToken();
				if ("status".equals(parser.currentName())) {
					return value == JsonToken.VALUE_STRING ? parser.getText() : null;
				}
				parser.skipChildren();
			}
			return null;
		}
		catch (IOException notJson) {
			return null; // a health path that does not speak Spring Boot's JSON: the status code decides
		}
	}

	@Override
	public void close() {
		threads.shutdownNow();
	}

}
