package dev.resiliencegateway.checks;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import dev.resiliencegateway.clock.Ticker;
import dev.resiliencegateway.config.GatewayConfig.HealthCheckSettings;
import dev.resiliencegateway.config.GatewayConfig.UpstreamSettings;
import dev.resiliencegateway.exchange.transport.HttpUpstreamClient;
import dev.resiliencegateway.exchange.transport.RequestBody;
import dev.resiliencegateway.exchange.transport.UpstreamClient;
import dev.resiliencegateway.health.HealthPolicy;
import dev.resiliencegateway.health.PoolHealth;
import dev.resiliencegateway.health.ReplicaHealth;
import dev.resiliencegateway.health.ReplicaState;
import dev.resiliencegateway.pool.Replica;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;

/** How the active checks read a replica's health endpoint, against a real HTTP server on loopback. */
class ActiveHealthChecksTest {

	private HttpServer server;

	/** The gateway's own upstream client: the checks go through it, as in the product. */
	private final HttpUpstreamClient upstream = new HttpUpstreamClient(
			new UpstreamSettings(Duration.ofSeconds(1), 16, 64, Duration.ofSeconds(30), 64 * 1024));

	private final ActiveHealthChecks checks = new ActiveHealthChecks(upstream);

	private final CountDownLatch release = new CountDownLatch(1);

	private final AtomicInteger hangRequests = new AtomicInteger();

	/** The client ports the {@code /who} path saw: one port, one connection. */
	private final Set<Integer> ports = ConcurrentHashMap.newKeySet();

	@BeforeEach
	void serve() throws IOException {
		server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
		server.setExecutor(Executors.newCachedThreadPool());
		answer("/down-but-200", 200, "{\"status\":\"DOWN\"}");
		answer("/out-of-service", 503, "{\"status\":\"OUT_OF_SERVICE\"}");
		answer("/plain-ok", 200, "ok");
		answer("/plain-500", 500, "<html>oops</html>");
		answer("/up", 200, "{\"status\":\"UP\",\"components\":{}}");
		answer("/huge-down", 200, "{\"status\":\"DOWN\",\"padding\":\"" + "x".repeat(ActiveHealthChecks.MAX_BODY) + "\"}");
		answer("/down-last", 200, "{\"components\":{\"db\":{\"status\":\"UP\",\"details\":[1,{\"status\":\"UP\"}]}},\"status\":\"DOWN\"}");
		answer("/array", 200, "[{\"status\":\"DOWN\"}]");
		answer("/status-number", 200, "{\"status\":0}");
		server.createContext("/stall-body", ex -> {
			ex.sendResponseHeaders(200, 100);
			OutputStream out = ex.getResponseBody();
			out.write("{\"status\":".getBytes(StandardCharsets.UTF_8));
			out.flush();
			holdUntilReleased();
			ex.close();
		});
		server.createContext("/who", ex -> {
			ports.add(ex.getRemoteAddress().getPort());
			send(ex, 200, "{\"status\":\"UP\"}");
		});
		server.createContext("/hang", ex -> {
			hangRequests.incrementAndGet();
			holdUntilReleased();
			ex.close();
		});
		server.start();
	}

	private void answer(String path, int status, String body) {
		server.createContext(path, (HttpExchange ex) -> send(ex, status, body));
	}

	private static void send(HttpExchange ex, int status, String body) throws IOException {
		byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
		ex.sendResponseHeaders(status, bytes.length);
		try (OutputStream out = ex.getResponseBody()) {
			out.write(bytes);
		}
	}

	/** Keeps a handler waiting until the test ends (at most 10 s). */
	private void holdUntilReleased() {
		try {
			release.await(10, TimeUnit.SECONDS);
		}
		catch (InterruptedException e) {
			Thread.currentThread().interrupt();
		}
	}

	@AfterEach
	void stop() {
		release.countDown();
		checks.close();
		upstream.close();
		server.stop(0);
	}

	private PoolHealth pool() {
		Replica replica = Replica.of(URI.create("http://127.0.0.1:" + server.getAddress().getPort()), 1);
		return new PoolHealth("orders", HealthPolicy.DEFAULTS, PoolHealth.Environment.of(Ticker.SYSTEM,
				InstantSource.system(), new Random(1), e -> {
				}, CircuitBreaker::ofDefaults), List.of(replica));
	}

	/** Runs {@code rounds} checks one after another (each awaited, bounded) and returns the replica's state. */
	private ReplicaState check(PoolHealth pool, String path, Duration timeout, int rounds) throws InterruptedException {
		HealthCheckSettings settings = new HealthCheckSettings(true, path, Duration.ofSeconds(1), Duration.ofSeconds(10), timeout);
		ReplicaHealth replica = pool.replicas().get(0);
		for (int i = 0; i < rounds; i++) {
			checks.checkAll(pool, settings, new ActiveChecksBudget());
			awaitCheckDone(pool);
		}
		return replica.state();
	}

	/** The check is over when its replica is no longer in flight (a second round would be skipped). */
	private void awaitCheckDone(PoolHealth pool) throws InterruptedException {
		for (int i = 0; i < 300 && checks.inFlight(pool.replicas().get(0)); i++) {
			Thread.sleep(10);
		}
	}

	@Test
	void aStatusDownIsDownEvenWithHttp200() throws Exception {
		PoolHealth pool = pool();
		assertThat(check(pool, "/down-but-200", Duration.ofSeconds(1), 1)).as("one failure is not enough").isEqualTo(ReplicaState.HEALTHY);
		assertThat(check(pool, "/down-but-200", Duration.ofSeconds(1), 1)).isEqualTo(ReplicaState.DOWN);
		assertThat(pool.replicas().get(0).status().reason()).contains("status DOWN (HTTP 200)");
	}

	@Test
	void outOfServiceDrainsAtOnce() throws Exception {
		PoolHealth pool = pool();
		assertThat(check(pool, "/out-of-service", Duration.ofSeconds(1), 1)).isEqualTo(ReplicaState.DRAINED);
		assertThat(check(pool, "/up", Duration.ofSeconds(1), 2)).as("two passes bring it back").isEqualTo(ReplicaState.RECOVERING);
	}

	@Test
	void aBodyThatIsNotJsonLeavesTheDecisionToTheStatusCode() throws Exception {
		PoolHealth pool = pool();
		assertThat(check(pool, "/plain-ok", Duration.ofSeconds(1), 3)).isEqualTo(ReplicaState.HEALTHY);
		assertThat(check(pool, "/plain-500", Duration.ofSeconds(1), 2)).isEqualTo(ReplicaState.DOWN);
		assertThat(pool.replicas().get(0).status().reason()).contains("HTTP 500");
	}

	@Test
	void aCheckThatTimesOutIsAFailureAndChecksNeverPileUp() throws Exception {
		PoolHealth pool = pool();
		HealthCheckSettings settings = new HealthCheckSettings(true, "/hang", Duration.ofSeconds(1), Duration.ofSeconds(10), Duration.ofMillis(300));
		checks.checkAll(pool, settings, new ActiveChecksBudget());
		checks.checkAll(pool, settings, new ActiveChecksBudget()); // the first is still in flight: skipped
		checks.checkAll(pool, settings, new ActiveChecksBudget());
		awaitCheckDone(pool);
		assertThat(hangRequests).as("one check in flight per replica").hasValue(1);
		assertThat(check(pool, "/hang", Duration.ofMillis(300), 1)).isEqualTo(ReplicaState.DOWN);
		assertThat(pool.replicas().get(0).status().reason()).contains("TIMEOUT");
	}

	@Test
	void theTopLevelStatusCountsWhereverItIsAndNothingNestedDoes() throws Exception {
		PoolHealth pool = pool();
		assertThat(check(pool, "/down-last", Duration.ofSeconds(1), 2)).isEqualTo(ReplicaState.DOWN);
		assertThat(pool.replicas().get(0).status().reason()).contains("status DOWN (HTTP 200)");
		PoolHealth other = pool();
		assertThat(check(other, "/array", Duration.ofSeconds(1), 3)).as("not an object: HTTP 200 decides").isEqualTo(ReplicaState.HEALTHY);
		assertThat(check(other, "/status-number", Duration.ofSeconds(1), 3)).isEqualTo(ReplicaState.HEALTHY);
	}

	@Test
	void aBodyThatStallsAfterItsHeadEndsTheCheckAfterTheTimeoutAndTheStatusCodeDecides() throws Exception {
		PoolHealth pool = pool();
		ReplicaHealth replica = pool.replicas().get(0);
		HealthCheckSettings settings = new HealthCheckSettings(true, "/stall-body", Duration.ofSeconds(1), Duration.ofSeconds(10), Duration.ofMillis(300));
		checks.checkAll(pool, settings, new ActiveChecksBudget());
		awaitCheckDone(pool); // at most 3 s; the body is held back for 10 s
		assertThat(checks.inFlight(replica)).as("the check ended although the body never came").isFalse();
		assertThat(check(pool, "/stall-body", Duration.ofMillis(300), 2)).as("HTTP 200, body unread: UP").isEqualTo(ReplicaState.HEALTHY);
	}

	@Test
	void checksKeepTheirConnectionAlive() throws Exception {
		PoolHealth pool = pool();
		assertThat(check(pool, "/who", Duration.ofSeconds(1), 5)).isEqualTo(ReplicaState.HEALTHY);
		assertThat(ports).as("five checks, one pooled keep-alive connection").hasSize(1);
	}

	@Test
	void aBodyTooLongToReadIsJudgedByItsStatusCode() throws Exception {
		PoolHealth pool = pool();
		assertThat(check(pool, "/huge-down", Duration.ofSeconds(1), 3)).as("a DOWN past the first 64 KB is not read")
			.isEqualTo(ReplicaState.HEALTHY);
	}

	@Test
	void aCheckOfAClosedPortIsAConnectFailure() throws Exception {
		PoolHealth pool = pool();
		server.stop(0);
		assertThat(check(pool, "/up", Duration.ofSeconds(1), 2)).isEqualTo(ReplicaState.DOWN);
		assertThat(pool.replicas().get(0).status().reason()).contains("CONNECT_FAILURE");
	}

	@Test
	void aClientThatThrowsMarksTheReplicaDownInsteadOfLeavingAStackTrace() throws Exception {
		UpstreamClient broken = new UpstreamClient() {
			@Override
			public Call prepare(Replica replica, String method, String target, List<String> headers, RequestBody body,
					long timeoutNanos) {
				throw new IllegalStateException("broken client");
			}

			@Override
			public Result execute(Call call, boolean atMostOnce) {
				throw new IllegalStateException("not reached");
			}

			@Override
			public void close() {
			}
		};
		try (ActiveHealthChecks brokenChecks = new ActiveHealthChecks(broken)) {
			PoolHealth pool = pool();
			ReplicaHealth replica = pool.replicas().get(0);
			HealthCheckSettings settings = new HealthCheckSettings(true, "/up", Duration.ofSeconds(1), Duration.ofSeconds(10), Duration.ofSeconds(1));
			for (int i = 0; i < 2; i++) {
				brokenChecks.checkAll(pool, settings, new ActiveChecksBudget());
				for (int w = 0; w < 300 && brokenChecks.inFlight(replica); w++) {
					Thread.sleep(10);
				}
			}
			assertThat(replica.state()).isEqualTo(ReplicaState.DOWN);
			assertThat(replica.status().reason()).contains("the check failed").contains("broken client");
		}
	}

}
