package dev.resiliencegateway.it.edge;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.boot.web.embedded.tomcat.TomcatWebServer;
import org.springframework.boot.web.servlet.context.ServletWebServerApplicationContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import dev.resiliencegateway.GatewayApplication;
import dev.resiliencegateway.edge.SheddingNioProtocol;
import io.micrometer.core.instrument.MeterRegistry;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * At its cap the traffic port refuses a new request on Tomcat's poller thread, before it waits for a
 * request thread (issue #10's fast 503s under bursts): the answer, the closed connection, nothing at
 * the replica, the metric and the access log; and what is not plainly one complete request still goes
 * through Tomcat's parser (its 400 for a malformed head, the valve's 503 otherwise). The status line
 * tells the two paths apart: the poller writes a reason phrase, Tomcat does not.
 */
@SpringBootTest(classes = GatewayApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ExtendWith(OutputCaptureExtension.class)
class EarlyRefusalIT {

	static final RecordingReplica REPLICA = start();

	private static final String EARLY = "HTTP/1.1 503 Service Unavailable";

	private static final String VALVE = "HTTP/1.1 503 ";

	@LocalServerPort
	int port;

	@Autowired
	MeterRegistry meters;

	@Autowired
	ServletWebServerApplicationContext context;

	private final List<RawClient> held = new ArrayList<>();

	private static RecordingReplica start() {
		try {
			return new RecordingReplica();
		}
		catch (java.io.IOException e) {
			throw new IllegalStateException(e);
		}
	}

	@AfterAll
	static void stop() throws Exception {
		REPLICA.close();
	}

	@DynamicPropertySource
	static void gateway(DynamicPropertyRegistry registry) {
		registry.add("management.server.port", () -> "0");
		registry.add("resilience.gateway.edge.max-in-flight", () -> "2");
		registry.add("resilience.gateway.access-log.enabled", () -> "true");
		registry.add("spring.cloud.gateway.server.webmvc.routes[0].id", () -> "all");
		registry.add("spring.cloud.gateway.server.webmvc.routes[0].uri", () -> "lb://rec");
		registry.add("spring.cloud.gateway.server.webmvc.routes[0].predicates[0]", () -> "Path=/**");
		registry.add("resilience.gateway.pools.rec.replicas[0].url", REPLICA::url);
		registry.add("resilience.gateway.pools.rec.health-check.enabled", () -> "false");
		registry.add("resilience.gateway.pools.rec.outlier.detect-only", () -> "true");
		registry.add("resilience.gateway.routes.all.per-try-timeout", () -> "20s");
		registry.add("server.tomcat.connection-timeout", () -> "5s");
	}

	/** Two requests to a replica that answers after 20 s: the cap of two is reached. */
	@BeforeEach
	void fillTheCap() throws Exception {
		int mark = REPLICA.count();
		for (int i = 0; i < 2; i++) {
			held.add(new RawClient(port).send("GET /slow/20000 HTTP/1.1\r\nHost: x\r\n\r\n"));
		}
		Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> REPLICA.count() - mark >= 2);
	}

	@AfterEach
	void release() throws Exception {
		for (RawClient client : held) {
			client.close();
		}
		held.clear();
		// the gateway's requests to the replica end when the clients go (the disconnect watcher)
		Awaitility.await().atMost(Duration.ofSeconds(15)).until(() -> protocol().busy() == 0);
	}

	private SheddingNioProtocol protocol() {
		return (SheddingNioProtocol) ((TomcatWebServer) context.getWebServer()).getTomcat()
			.getConnector()
			.getProtocolHandler();
	}

	private double shed() {
		return meters.get("gateway.shed").counter().count();
	}

	@Test
	void aCompleteRequestIsRefusedOnThePollerAndReachesNoReplica(CapturedOutput output) throws Exception {
		int mark = REPLICA.count();
		double shedBefore = shed();
		try (RawClient client = new RawClient(port)) {
			client.send("GET /over?secret=1 HTTP/1.1\r\nHost: x\r\nX-Request-Id: mine\r\n"
					+ "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n\r\n");
			RawClient.Response r = client.read();
			assertThat(r.head()).startsWith(EARLY + "\r\n");
			assertThat(r.headers("Retry-After")).containsExactly("1");
			assertThat(r.headers("Content-Type")).containsExactly("application/problem+json");
			assertThat(r.headers("Connection")).as("HTTP/1.1: the connection stays open").isEmpty();
			assertThat(r.headers("Date")).hasSize(1);
			List<String> ids = r.headers("X-Request-Id");
			assertThat(ids).hasSize(1);
			assertThat(ids.get(0)).matches("[0-9a-f]{32}");
			assertThat(r.bodyText()).contains("\"status\":503");
			assertThat(r.truncated()).isFalse();
			assertThat(client.closedWithin(300)).as("kept open, nothing more sent").isFalse();
			assertThat(shed() - shedBefore).isEqualTo(1.0);
			assertThat(output.getOut()).contains(" GET /over - status=503 bytes=" + r.body().length + " duration_ms=0 id="
					+ ids.get(0) + " trace=4bf92f3577b34da6a3ce929d0e0e4736");
			assertThat(output.getOut()).doesNotContain("secret=1");

			// the next request on that connection is refused as itself, then one asking to close is closed on
			client.send("GET /again HTTP/1.1\r\nHost: x\r\n\r\n");
			assertThat(client.read().head()).startsWith(EARLY + "\r\n");
			client.send("GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
			RawClient.Response last = client.read();
			assertThat(last.head()).startsWith(EARLY + "\r\n");
			assertThat(last.headers("Connection")).containsExactly("close");
			assertThat(client.closedWithin(3000)).isTrue();
			assertThat(output.getOut()).contains(" GET /again - status=503 ", " GET /last - status=503 ");
		}
		assertThat(REPLICA.count()).as("nothing reached the replica").isEqualTo(mark);
	}

	@Test
	void aPostWhoseBodyHasArrivedIsRefusedOnThePollerAndAHeadRequestGetsNoBody() throws Exception {
		int mark = REPLICA.count();
		try (RawClient client = new RawClient(port)) {
			client.send("POST /order HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
			RawClient.Response r = client.read();
			assertThat(r.head()).startsWith(EARLY + "\r\n");
			// the body was read with the head: a canary on the connection is answered as itself
			client.send("GET /canary HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
			assertThat(client.read().headers("Connection")).containsExactly("close");
			assertThat(client.closedWithin(3000)).isTrue();
		}
		try (RawClient client = new RawClient(port)) {
			client.send("HEAD /h HTTP/1.1\r\nHost: x\r\n\r\n");
			RawClient.Response r = client.read(true);
			assertThat(r.head()).startsWith(EARLY + "\r\n");
			assertThat(client.closedWithin(300)).as("no body followed the head, the connection stays").isFalse();
		}
		assertThat(REPLICA.count()).isEqualTo(mark);
	}

	@Test
	void aKeptAliveConnectionIsRefusedBetweenRequests() throws Exception {
		int mark = REPLICA.count();
		// the connection carried a request before the cap was reached: release one held request first
		held.remove(0).close();
		Awaitility.await().atMost(Duration.ofSeconds(15)).until(() -> protocol().busy() <= 1);
		try (RawClient client = new RawClient(port)) {
			client.send("GET /first HTTP/1.1\r\nHost: x\r\n\r\n");
			assertThat(client.read().status()).isEqualTo(200);
			// the first request's thread gives the connection back just after its answer
			Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> protocol().busy() <= 1);
			held.add(new RawClient(port).send("GET /slow/20000 HTTP/1.1\r\nHost: x\r\n\r\n"));
			Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> protocol().busy() >= 2);
			client.send("GET /second HTTP/1.1\r\nHost: x\r\n\r\n");
			RawClient.Response r = client.read();
			assertThat(r.head()).startsWith(EARLY + "\r\n");
			// below the cap again, the same connection is served by Tomcat as before
			held.remove(held.size() - 1).close();
			Awaitility.await().atMost(Duration.ofSeconds(15)).until(() -> protocol().busy() <= 1);
			client.send("GET /third HTTP/1.1\r\nHost: x\r\n\r\n");
			RawClient.Response third = client.read();
			assertThat(third.status()).isEqualTo(200);
			assertThat(third.bodyText()).isEqualTo("rec GET /third body=0");
		}
		assertThat(REPLICA.since(mark)).extracting(RecordingReplica.Received::target)
			.containsExactly("/first", "/slow/20000", "/third");
	}

	@Test
	void aBodyStillOnItsWayGoesThroughTomcatAndTheValveRefusesIt() throws Exception {
		int mark = REPLICA.count();
		try (RawClient client = new RawClient(port)) {
			client.send("POST /order HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello");
			RawClient.Response r = client.read();
			assertThat(r.head()).startsWith(VALVE).doesNotStartWith(EARLY);
			assertThat(r.headers("Retry-After")).containsExactly("1");
			assertThat(r.headers("X-Request-Id")).hasSize(1);
			client.send("world");
			assertThat(client.closedWithin(3000)).isTrue();
		}
		assertThat(REPLICA.count()).isEqualTo(mark);
	}

	@Test
	void aHeadSentInPiecesGoesThroughTomcatAndTheValveRefusesIt() throws Exception {
		int mark = REPLICA.count();
		try (RawClient client = new RawClient(port)) {
			client.send("GET /split HTTP/1.1\r\nHo");
			Thread.sleep(300);
			client.send("st: x\r\n\r\n");
			RawClient.Response r = client.read();
			assertThat(r.head()).startsWith(VALVE).doesNotStartWith(EARLY);
			assertThat(client.closedWithin(3000)).isTrue();
		}
		assertThat(REPLICA.count()).isEqualTo(mark);
	}

	@Test
	void aMalformedHeadStillGetsTomcats400() throws Exception {
		int mark = REPLICA.count();
		for (String request : List.of("GET /sp HTTP/1.1\r\nHost : x\r\n\r\n", "GET /ctl HTTP/1.1\r\nHost: x\u0001y\r\n\r\n")) {
			try (RawClient client = new RawClient(port)) {
				client.send(request);
				RawClient.Response r = client.read();
				assertThat(r.status()).as(request).isEqualTo(400);
				assertThat(client.closedWithin(3000)).isTrue();
			}
		}
		assertThat(REPLICA.count()).isEqualTo(mark);
	}

	@Test
	void aBurstOfRefusalsLeavesNothingBehindAndServiceResumes() throws Exception {
		int mark = REPLICA.count();
		List<CompletableFuture<Integer>> burst = new ArrayList<>();
		for (int i = 0; i < 200; i++) {
			int n = i;
			burst.add(CompletableFuture.supplyAsync(() -> {
				try (RawClient client = new RawClient(port)) {
					client.send("GET /burst/" + n + " HTTP/1.1\r\nHost: x\r\n\r\n");
					return client.read().status();
				}
				catch (Exception e) {
					throw new IllegalStateException(e);
				}
			}));
		}
		for (CompletableFuture<Integer> f : burst) {
			assertThat(f.get()).isEqualTo(503);
		}
		assertThat(REPLICA.count()).isEqualTo(mark);
		assertThat(protocol().busy()).as("only the two held requests are being served").isEqualTo(2);
		assertThat(meters.get("gateway.connections.busy").gauge().value()).isEqualTo(2.0);
		release();
		try (RawClient client = new RawClient(port)) {
			client.send("GET /after HTTP/1.1\r\nHost: x\r\n\r\n");
			assertThat(client.read().status()).isEqualTo(200);
		}
	}

}
