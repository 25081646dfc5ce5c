package dev.resiliencegateway.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import dev.resiliencegateway.edge.AccessLog;

/**
 * The access log through the real Tomcat: one line per request once its response is complete, with
 * the route's fields, the client's status and bytes, the request id and the W3C trace id.
 */
class AccessLogIT extends GatewayIT {

	private final Logger logger = (Logger) LoggerFactory.getLogger(AccessLog.LOGGER);

	private LogLines lines;

	@BeforeEach
	void capture() {
		lines = LogLines.of(AccessLog.LOGGER);
		logger.setLevel(Level.INFO); // the other tests keep it at WARN: no line per request in their output
	}

	@AfterEach
	void release() {
		logger.setLevel(Level.WARN);
		lines.close();
	}

	private HttpResponse<String> get(String path, String... headers) throws Exception {
		HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
			.timeout(Duration.ofSeconds(10));
		if (headers.length > 0) {
			b.headers(headers);
		}
		return http.send(b.GET().build(), HttpResponse.BodyHandlers.ofString());
	}

	/** The line of the request with this id (written after the response, so waited for). */
	private String lineOf(String requestId) {
		org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5))
			.until(() -> snapshot().stream().anyMatch(l -> l.contains(" id=" + requestId + " ")));
		return snapshot().stream().filter(l -> l.contains(" id=" + requestId + " ")).findFirst().orElseThrow();
	}

	private List<String> snapshot() {
		return lines.lines();
	}

	@Test
	void aRoutedRequestsLineNamesTheRouteReplicaStatusBytesAndTraceId() throws Exception {
		HttpResponse<String> out = get("/svc/items/7?token=secret", "X-Request-Id", "access-log-1", "traceparent",
				"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
		assertThat(out.statusCode()).isEqualTo(200);
		String line = lineOf("access-log-1");
		String replica = out.headers().firstValue("X-Gateway-Replica").orElseThrow();
		assertThat(line).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}(Z|[+-]\\d\\d:\\d\\d) GET /svc/items/7 "
				+ "route=svc pool=svc replicas=" + Pattern.quote(replica) + " attempts=1 hedged=false status=200 bytes="
				+ out.body().getBytes(java.nio.charset.StandardCharsets.UTF_8).length
				+ " duration_ms=\\d+ id=access-log-1 trace=4bf92f3577b34da6a3ce929d0e0e4736");
		assertThat(line).as("the query string may carry credentials").doesNotContain("secret");
	}

	@Test
	void aRetryListsBothReplicasAndAHedgeSaysSo() throws Exception {
		// halfdead: a dead port and a live replica; a request that meets the dead one first is retried
		boolean retried = false;
		for (int i = 0; i < 40 && !retried; i++) {
			HttpResponse<String> out = get("/halfdead/items/" + i, "X-Request-Id", "access-retry-" + i);
			assertThat(out.statusCode()).isEqualTo(200);
			String line = lineOf("access-retry-" + i);
			assertThat(line).containsPattern("route=halfdead pool=halfdead replicas=\\S+ attempts=[12] hedged=false status=200");
			retried = line.contains("attempts=2");
			if (retried) {
				assertThat(line).contains("replicas=127.0.0.1:" + Replicas.DEAD_PORTS.get(0) + ",127.0.0.1:"
						+ Replicas.SPARE.port() + " ");
			}
			Thread.sleep(50);
		}
		assertThat(retried).as("one of 40 requests met the dead replica first").isTrue();
		// hedged: hedgepool has a replica that never answers; a request sent to it (or a probe of it
		// once ejected) is hedged to the other after 100 ms
		boolean hedged = false;
		for (int i = 0; i < 40 && !hedged; i++) {
			HttpResponse<String> out = get("/hedged/items/" + i, "X-Request-Id", "access-hedge-" + i);
			assertThat(out.statusCode()).isEqualTo(200);
			String line = lineOf("access-hedge-" + i);
			hedged = line.contains("hedged=true");
			if (hedged) {
				assertThat(line).contains("attempts=2").contains("replicas=127.0.0.1:" + Replicas.HANG2.port() + ",127.0.0.1:"
						+ Replicas.SPARE2.port() + " ");
			}
			Thread.sleep(100);
		}
		assertThat(hedged).as("one of 40 requests was hedged").isTrue();
	}

	@Test
	void aRequestNoRouteTookIsLoggedWithoutRouteFields() throws Exception {
		HttpResponse<String> out = get("/no-such-route/x", "X-Request-Id", "access-404", "traceparent", "not-a-traceparent");
		assertThat(out.statusCode()).isEqualTo(404);
		assertThat(lineOf("access-404")).contains(" GET /no-such-route/x - status=404 ").endsWith(" trace=-");
	}

}
