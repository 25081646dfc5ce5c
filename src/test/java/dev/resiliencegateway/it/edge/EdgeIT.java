package dev.resiliencegateway.it.edge;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import org.awaitility.Awaitility;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import dev.resiliencegateway.GatewayApplication;
import dev.resiliencegateway.it.edge.RecordingReplica.Received;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Base of the raw-socket suites: the gateway in front of one {@link RecordingReplica}, a catch-all
 * route to it, and a route with a small body limit. Short read timeouts so the slow-client cases take
 * seconds, not minutes. Every case asserts the status, whether the connection closed, exactly what
 * reached the replica, and (when the connection stays open) that a canary request on the same
 * connection is answered as itself, so nothing was smuggled.
 */
@SpringBootTest(classes = GatewayApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
abstract class EdgeIT {

	static final RecordingReplica REPLICA = start();

	/** The read timeout of client connections in these tests (headers and body): 408 after it. */
	static final Duration READ_TIMEOUT = Duration.ofSeconds(2);

	static final String SMUGGLED = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";

	private static final AtomicInteger CANARIES = new AtomicInteger();

	@LocalServerPort
	int port;

	enum Conn {
		/** The gateway closes the connection after its answer. */
		CLOSES,
		/** The connection stays open and a canary on it is answered as itself. */
		KEEPS,
		/** Either, but if it stays open the canary must be answered as itself. */
		EITHER
	}

	/**
	 * One row: the raw request, the statuses accepted, what happens to the connection, how many
	 * complete requests reach the replica (0 or more), and optional checks on those requests.
	 */
	record Case(String request, Set<Integer> statuses, Conn conn, int forwarded, Consumer<List<Received>> check) {

		Case(String request, Set<Integer> statuses, Conn conn, int forwarded) {
			this(request, statuses, conn, forwarded, r -> {
			});
		}

	}

	static Case rejected(String request, int... statuses) {
		return new Case(request, set(statuses), Conn.CLOSES, 0);
	}

	static Case forwarded(String request, Consumer<List<Received>> check) {
		return new Case(request, Set.of(200), Conn.KEEPS, 1, check);
	}

	static Set<Integer> set(int... statuses) {
		return java.util.Arrays.stream(statuses).boxed().collect(java.util.stream.Collectors.toSet());
	}

	/** Lines joined with CRLF, ending with the blank line. */
	static String head(String... lines) {
		return String.join("\r\n", lines) + "\r\n\r\n";
	}

	@DynamicPropertySource
	static void gateway(DynamicPropertyRegistry registry) {
		registry.add("management.server.port", () -> "0");
		String routes = "spring.cloud.gateway.server.webmvc.routes";
		registry.add(routes + "[0].id", () -> "limited");
		registry.add(routes + "[0].uri", () -> "lb://rec");
		registry.add(routes + "[0].predicates[0]", () -> "Path=/limited/**");
		// a route whose filter rebuilds the request (as StripPrefix and RewritePath do)
		registry.add(routes + "[1].id", () -> "strip");
		registry.add(routes + "[1].uri", () -> "lb://rec");
		registry.add(routes + "[1].predicates[0]", () -> "Path=/strip/**");
		registry.add(routes + "[1].filters[0]", () -> "StripPrefix=1");
		// a route whose response filters change the relayed answer's status and header fields
		registry.add(routes + "[2].id", () -> "filtered");
		registry.add(routes + "[2].uri", () -> "lb://rec");
		registry.add(routes + "[2].predicates[0]", () -> "Path=/filtered/**");
		registry.add(routes + "[2].filters[0]", () -> "SetStatus=203");
		registry.add(routes + "[2].filters[1]", () -> "AddResponseHeader=X-Added, by-route");
		registry.add(routes + "[2].filters[2]", () -> "RemoveResponseHeader=ETag");
		// a route whose response filter throws on the replica's answer (a replacement naming a group the
		// pattern lacks): Spring MVC answers with an error and the relayed answer is never written
		registry.add(routes + "[3].id", () -> "throwing");
		registry.add(routes + "[3].uri", () -> "lb://rec");
		registry.add(routes + "[3].predicates[0]", () -> "Path=/throwing/**");
		registry.add(routes + "[3].filters[0]", () -> "RewriteResponseHeader=X-Between, yes, $\\{missing}");
		registry.add(routes + "[4].id", () -> "edge");
		registry.add(routes + "[4].uri", () -> "lb://rec");
		registry.add(routes + "[4].predicates[0]", () -> "Path=/**");
		registry.add("resilience.gateway.pools.rec.replicas[0].url", REPLICA::url);
		registry.add("resilience.gateway.pools.rec.health-check.enabled", () -> "false");
		// one replica that answers broken HTTP on purpose: never eject it, or later cases would get 503
		registry.add("resilience.gateway.pools.rec.outlier.consecutive-failures", () -> "1000000");
		registry.add("resilience.gateway.pools.rec.outlier.detect-only", () -> "true");
		registry.add("resilience.gateway.routes.limited.max-body-size", () -> "1KB");
		registry.add("resilience.gateway.routes.edge.per-try-timeout", () -> "5s");
		registry.add("server.tomcat.connection-timeout", () -> READ_TIMEOUT.toMillis() + "ms");
	}

	private static RecordingReplica start() {
		try {
			return new RecordingReplica();
		}
		catch (IOException e) {
			throw new java.io.UncheckedIOException(e);
		}
	}

	/** Runs one case on a new connection and checks everything it promises. */
	void check(Case c) throws Exception {
		int mark = REPLICA.count();
		try (RawClient client = new RawClient(port)) {
			client.send(c.request());
			RawClient.Response response = client.read(c.request().startsWith("HEAD "));
			assertThat(response).as("a response to:\n%s", c.request()).isNotNull();
			assertThat(response.status()).as("status for:\n%s\nanswer:\n%s", c.request(), response).isIn(c.statuses());
			assertThat(response.headers("X-Request-Id")).as("one request id").hasSize(1);
			if (response.status() >= 400) {
				// the gateway's refusals and Tomcat's own (ProblemReportValve) alike
				assertThat(response.headers("Content-Type")).as("a problem answer: %s", response)
					.anyMatch(t -> t.startsWith("application/problem+json"));
			}
			assertThat(response.truncated()).as("a complete answer").isFalse();
			switch (c.conn()) {
				case CLOSES -> assertThat(client.closedWithin(3000)).as("connection closed after:\n%s", response).isTrue();
				case KEEPS -> canary(client, true);
				case EITHER -> canary(client, false);
			}
		}
		List<Received> reached = settled(mark);
		assertThat(reached).as("requests that reached the replica").hasSize(c.forwarded());
		c.check().accept(reached);
	}

	/**
	 * Sends a canary on a connection that may stay open: it must be answered as itself (not with a
	 * smuggled request's answer) and must reach the replica as the only extra request.
	 */
	void canary(RawClient client, boolean mustStayOpen) throws IOException {
		String path = "/canary-" + CANARIES.incrementAndGet();
		try {
			client.send("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n");
		}
		catch (IOException e) {
			if (mustStayOpen) {
				throw e;
			}
			return;
		}
		RawClient.Response answer = client.read();
		if (answer == null) {
			if (mustStayOpen) {
				fail("the connection closed; the canary got no answer");
			}
			return;
		}
		assertThat(answer.status()).isEqualTo(200);
		assertThat(answer.bodyText()).isEqualTo("rec GET " + path + " body=0");
	}

	/** Complete requests (canaries aside) that reached the replica since {@code mark}, once traffic settled. */
	static List<Received> settled(int mark) throws InterruptedException {
		int[] last = { -1 };
		Awaitility.await().pollInterval(Duration.ofMillis(100)).atMost(Duration.ofSeconds(5)).until(() -> {
			int n = REPLICA.count();
			boolean stable = n == last[0];
			last[0] = n;
			return stable;
		});
		return REPLICA.since(mark).stream().filter(Received::complete).filter(r -> !r.target().startsWith("/canary-")).toList();
	}

	/** Every request that reached the replica since mark, complete or not. */
	static List<Received> allSince(int mark) {
		return REPLICA.since(mark);
	}

}
