package dev.resiliencegateway.it;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

import dev.resiliencegateway.demo.DemoReplica;

import static org.assertj.core.api.Assertions.assertThat;

/** What the foundation promises: balancing, routes and filters, headers, request ids, streaming, ports. */
class ProxyingIT extends GatewayIT {

	@Test
	void spreadsRequestsAcrossAllThreeReplicas() throws Exception {
		// A replica whose first requests were slow (cold JIT, new connections) is avoided until its
		// latency penalty fades (about a second): so wait for a batch that spreads, not for speed.
		Awaitility.await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
			Map<String, Integer> byReplica = new HashMap<>();
			for (int i = 0; i < 90; i++) {
				HttpResponse<String> r = get("/svc/hello");
				assertThat(r.statusCode()).isEqualTo(200);
				byReplica.merge(r.headers().firstValue("X-Gateway-Replica").orElseThrow(), 1, Integer::sum);
			}
			assertThat(byReplica).hasSize(3);
			assertThat(byReplica.values()).allSatisfy(n -> assertThat(n).isGreaterThanOrEqualTo(10));
		});
	}

	@Test
	void aStoppedReplicaCostsNoRequestForGetOrPost() throws Exception {
		DemoReplica stopped = Replicas.SVC.get(1);
		stopped.crash();
		for (int i = 0; i < 60; i++) {
			assertThat(get("/svc/hello").statusCode()).isEqualTo(200);
			HttpResponse<String> post = post("/svc/orders", "order-" + i, "X-Request-Id", "stopped-post-" + i);
			assertThat(post.statusCode()).isEqualTo(200);
			assertThat(post.body()).isEqualTo("order-" + i);
		}
		// every POST was executed exactly once, by a replica that was up
		Map<String, Integer> executions = new HashMap<>();
		Replicas.SVC.forEach(r -> r.executions().forEach((id, n) -> executions.merge(id, n, Integer::sum)));
		assertThat(executions).hasSize(60).allSatisfy((id, n) -> assertThat(n).isEqualTo(1));
	}

	@Test
	void routePredicatesAndStandardFiltersStillWork() throws Exception {
		HttpResponse<String> rewritten = get("/rw/items/7");
		assertThat(rewritten.statusCode()).isEqualTo(200);
		assertThat(rewritten.body()).contains("\"path\":\"/api/items/7\"");

		HttpResponse<String> stripped = get("/svc/deep/path?q=a%20b&x=1");
		assertThat(stripped.body()).contains("\"path\":\"/deep/path\"");

		HttpResponse<String> canary = http.send(HttpRequest.newBuilder(gateway("/anything")).header("X-Canary", "yes").build(),
				HttpResponse.BodyHandlers.ofString());
		assertThat(canary.statusCode()).isEqualTo(200);
		assertThat(canary.headers().firstValue("X-Canary-Route")).contains("matched");

		HttpResponse<String> noRoute = get("/anything");
		assertThat(noRoute.statusCode()).isEqualTo(404);
	}

	@Test
	void queryStringReachesTheReplicaWithItsEncodingIntact() throws Exception {
		Replicas.SVC.forEach(r -> r.recordRequests(true));
		get("/svc/search?q=a%20b&tag=x%2Fy&empty=");
		DemoReplica.Recorded rec = recorded().get(0);
		assertThat(rec.path()).isEqualTo("/search?q=a%20b&tag=x%2Fy&empty=");
	}

	@Test
	void hopByHopHeadersAreDroppedAndForwardedHeadersComeFromTheRealPeer() throws Exception {
		Replicas.SVC.forEach(r -> r.recordRequests(true));
		String response = RawHttp.exchange(port, "GET /svc/hop HTTP/1.1\r\n" + "Host: gw.example\r\n"
				+ "Connection: keep-alive, X-Secret\r\n" + "X-Secret: nominated-by-connection\r\n"
				+ "Keep-Alive: timeout=5\r\n" + "TE: trailers\r\n" + "Trailer: X-Checksum\r\n" + "Upgrade: websocket\r\n"
				+ "Proxy-Authorization: Basic Zm9vOmJhcg==\r\n" + "Proxy-Connection: keep-alive\r\n"
				+ "X-Forwarded-For: 6.6.6.6\r\n" + "X-Forwarded-Host: evil.example\r\n" + "Forwarded: for=6.6.6.6\r\n"
				+ "X-Request-Id: hop-test-1\r\n" + "X-Keep: end-to-end\r\n" + "Content-Length: 0\r\n\r\n");
		assertThat(response).startsWith("HTTP/1.1 200");
		DemoReplica.Recorded rec = recorded().get(0);
		Map<String, List<String>> h = rec.headers();
		assertThat(h).doesNotContainKeys("Keep-Alive", "Te", "Trailer", "Upgrade", "Proxy-Authorization",
				"Proxy-Connection", "X-Secret");
		assertThat(String.valueOf(h.get("Connection"))).doesNotContainIgnoringCase("x-secret");
		assertThat(h.get("X-Keep")).containsExactly("end-to-end");
		assertThat(h.get("X-Forwarded-For")).containsExactly("127.0.0.1");
		assertThat(h.get("X-Forwarded-Host")).containsExactly("gw.example");
		assertThat(h.get("X-Forwarded-Proto")).containsExactly("http");
		assertThat(h.get("Forwarded")).containsExactly("for=127.0.0.1;proto=http;host=\"gw.example\"");
		assertThat(h.get("X-Request-Id")).containsExactly("hop-test-1");
	}

	@Test
	void requestIdRoundTripsOrIsGenerated() throws Exception {
		Replicas.SVC.forEach(r -> r.recordRequests(true));
		HttpResponse<String> given = http.send(
				HttpRequest.newBuilder(gateway("/svc/id")).header("X-Request-Id", "client-id_42.a:b").build(),
				HttpResponse.BodyHandlers.ofString());
		assertThat(given.headers().firstValue("X-Request-Id")).contains("client-id_42.a:b");
		assertThat(given.body()).contains("\"requestId\":\"client-id_42.a:b\"");

		HttpResponse<String> malformed = http.send(
				HttpRequest.newBuilder(gateway("/svc/id")).header("X-Request-Id", "bad id with spaces").build(),
				HttpResponse.BodyHandlers.ofString());
		String generated = malformed.headers().firstValue("X-Request-Id").orElseThrow();
		assertThat(generated).matches("[0-9a-f]{32}");
		assertThat(malformed.body()).contains("\"requestId\":\"" + generated + "\"");

		HttpResponse<String> none = get("/svc/id");
		assertThat(none.headers().firstValue("X-Request-Id").orElseThrow()).matches("[0-9a-f]{32}");
	}

	@Test
	void largeBodiesStreamThroughIntactBothWays() throws Exception {
		byte[] payload = new byte[5 * 1024 * 1024];
		new Random(1).nextBytes(payload);
		HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(gateway("/svc/upload"))
			.timeout(Duration.ofSeconds(30))
			.POST(HttpRequest.BodyPublishers.ofByteArray(payload))
			.build(), HttpResponse.BodyHandlers.ofByteArray());
		assertThat(r.statusCode()).isEqualTo(200);
		assertThat(r.body()).isEqualTo(payload);
	}

	@Test
	void actuatorLivesOnTheManagementPortOnly() throws Exception {
		assertThat(get("/actuator/health").statusCode()).isEqualTo(404);
		assertThat(get("/actuator/prometheus").statusCode()).isEqualTo(404);
		HttpResponse<String> health = management("/actuator/health/pools/svc");
		assertThat(health.statusCode()).isEqualTo(200);
		assertThat(health.body()).contains("\"status\":\"UP\"");
		for (String probe : List.of("liveness", "readiness")) {
			HttpResponse<String> p = http.send(HttpRequest
				.newBuilder(java.net.URI.create("http://127.0.0.1:" + managementPort + "/actuator/health/" + probe))
				.build(), HttpResponse.BodyHandlers.ofString());
			assertThat(p.statusCode()).isEqualTo(200);
		}
		HttpResponse<String> env = http.send(
				HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + managementPort + "/actuator/env")).build(),
				HttpResponse.BodyHandlers.ofString());
		assertThat(env.statusCode()).isEqualTo(404);
	}

	private List<DemoReplica.Recorded> recorded() {
		return Replicas.SVC.stream().flatMap(r -> r.recorded().stream()).toList();
	}

	@org.springframework.beans.factory.annotation.Autowired
	org.springframework.web.servlet.DispatcherServlet dispatcher;

	/**
	 * With the shipped configuration, nothing keeps a routed request on Spring MVC's full dispatch (an
	 * interceptor of some starter would, silently: docs/performance.md, "Fifth pass").
	 */
	@Test
	void routedRequestsGoStraightToTheirRoutesWithTheShippedConfiguration() throws Exception {
		HttpRequest get = HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port + "/svc/items/1")).build();
		assertThat(http.send(get, HttpResponse.BodyHandlers.discarding()).statusCode()).isEqualTo(200);
		assertThat(dispatcher).isInstanceOf(dev.resiliencegateway.wiring.DirectRouteDispatcher.class);
		assertThat(((dev.resiliencegateway.wiring.DirectRouteDispatcher) dispatcher).direct()).isTrue();
	}

	/** The shipped {@code server.tomcat.max-keep-alive-requests}: nginx's 1000, not Tomcat's 100. */
	@Test
	void aKeptAliveConnectionCarriesAThousandRequestsThenCloses() throws Exception {
		try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
			socket.setSoTimeout(10_000);
			var out = socket.getOutputStream();
			var in = socket.getInputStream();
			byte[] get = "GET /svc/items/1 HTTP/1.1\r\nHost: gw\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
			for (int i = 1; i <= 1000; i++) {
				out.write(get);
				out.flush();
				String response = RawHttp.readResponse(in);
				assertThat(response).as("response %d", i).startsWith("HTTP/1.1 200");
				assertThat(response.toLowerCase(java.util.Locale.ROOT).contains("connection: close")).as("response %d closes", i)
					.isEqualTo(i == 1000);
			}
			assertThat(in.read()).as("closed after the 1000th").isEqualTo(-1);
		}
	}

}
