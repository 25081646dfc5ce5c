package dev.resiliencegateway.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;

import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.web.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

import com.sun.net.httpserver.HttpServer;

import dev.resiliencegateway.GatewayApplication;
import dev.resiliencegateway.demo.DemoReplica;
import io.opentelemetry.sdk.trace.SdkTracerProvider;

/**
 * Tracing end to end: a client's {@code traceparent} continues through the gateway (a span for the
 * request, one per attempt, the retry marked as such) to the replica, which gets the attempt's own
 * span as its parent; the spans leave over OTLP/HTTP to a collector on loopback (a bare HTTP server
 * here that keeps the protobuf bodies). With tracing off (the default) the client's traceparent
 * reaches the replica untouched.
 */
class TracingIT {

	private final HttpClient http = HttpClient.newHttpClient();

	private static final String TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";

	private static String traceparent(int i) {
		return "00-" + TRACE_ID.substring(0, 28) + String.format("%04x", i) + "-00f067aa0ba902b7-01";
	}

	private static List<String> args(DemoReplica failing, DemoReplica healthy, String... extra) {
		List<String> args = new java.util.ArrayList<>(List.of("--server.port=0", "--management.server.port=0",
				"--spring.main.banner-mode=off", "--logging.level.root=OFF", "--resilience.gateway.decision-headers=true",
				"--spring.cloud.gateway.server.webmvc.routes[0].id=orders",
				"--spring.cloud.gateway.server.webmvc.routes[0].uri=lb://orders",
				"--spring.cloud.gateway.server.webmvc.routes[0].predicates[0]=Path=/orders/**",
				"--resilience.gateway.pools.orders.replicas[0].url=" + failing.url(),
				"--resilience.gateway.pools.orders.replicas[1].url=" + healthy.url(),
				"--resilience.gateway.pools.orders.health-check.enabled=false",
				// the failing replica must stay in the pool for the retry this test wants to see
				"--resilience.gateway.pools.orders.outlier.consecutive-failures=1000",
				"--resilience.gateway.pools.orders.outlier.failure-outlier-percent=0"));
		args.addAll(List.of(extra));
		return args;
	}

	/** Sends GETs with their own trace ids until one was retried; returns its index. */
	private int retriedRequest(ConfigurableApplicationContext context) throws Exception {
		int port = ((WebServerApplicationContext) context).getWebServer().getPort();
		for (int i = 1; i <= 40; i++) {
			HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/orders/" + i))
				.header("traceparent", traceparent(i))
				.build(), HttpResponse.BodyHandlers.ofString());
			assertThat(r.statusCode()).isEqualTo(200);
			if (r.headers().firstValue("X-Gateway-Attempts").orElse("1").equals("2")) {
				return i;
			}
		}
		throw new AssertionError("no request met the failing replica first in 40");
	}

	private static String header(DemoReplica.Recorded r, String name) {
		return r.headers().entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(name))
			.map(e -> e.getValue().get(0)).findFirst().orElse(null);
	}

	@Test
	void spansForTheRequestAndEachAttemptGoOutOverOtlpAndTheReplicaContinuesTheTrace() throws Exception {
		ConcurrentLinkedQueue<byte[]> exported = new ConcurrentLinkedQueue<>();
		HttpServer collector = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
		collector.createContext("/v1/traces", ex -> {
			exported.add(ex.getRequestBody().readAllBytes());
			ex.getResponseHeaders().add("Content-Type", "application/x-protobuf");
			ex.sendResponseHeaders(200, -1);
			ex.close();
		});
		collector.start();
		try (DemoReplica failing = new DemoReplica("failing", 0).start(); DemoReplica healthy = new DemoReplica("healthy", 0).start()) {
			failing.setMode(DemoReplica.Mode.FAILING);
			failing.recordRequests(true);
			healthy.recordRequests(true);
			List<String> args = args(failing, healthy, "--management.tracing.enabled=true",
					"--management.tracing.sampling.probability=1.0", "--resilience.gateway.access-log.enabled=true",
					"--logging.level.resilience.gateway.access=INFO",
					"--management.otlp.tracing.endpoint=http://127.0.0.1:" + collector.getAddress().getPort() + "/v1/traces");
			try (ConfigurableApplicationContext context = SpringApplication.run(GatewayApplication.class, args.toArray(String[]::new));
					LogLines accessLog = LogLines.of("resilience.gateway.access")) {
				int i = retriedRequest(context);
				String clientParent = traceparent(i);
				String traceId = clientParent.substring(3, 35);
				DemoReplica.Recorded first = failing.recorded().stream().filter(r -> r.path().equals("/orders/" + i)).findFirst().orElseThrow();
				DemoReplica.Recorded retry = healthy.recorded().stream().filter(r -> r.path().equals("/orders/" + i)).findFirst().orElseThrow();
				String firstParent = header(first, "traceparent");
				String retryParent = header(retry, "traceparent");
				assertThat(firstParent).as("the same trace continues to the replica").contains("-" + traceId + "-");
				assertThat(retryParent).contains("-" + traceId + "-");
				assertThat(firstParent).as("each attempt is its own span, the replica's parent")
					.isNotEqualTo(clientParent)
					.isNotEqualTo(retryParent);

				// a request without a traceparent: the access log names the trace the gateway started
				int port = ((WebServerApplicationContext) context).getWebServer().getPort();
				http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/orders/untraced")).build(),
						HttpResponse.BodyHandlers.discarding());
				long until = System.nanoTime() + Duration.ofSeconds(5).toNanos();
				while (accessLog.lines().stream().noneMatch(l -> l.contains("/orders/untraced"))
						&& System.nanoTime() < until) {
					Thread.sleep(20);
				}
				String line = accessLog.lines().stream().filter(l -> l.contains("/orders/untraced")).findFirst().orElseThrow();
				java.util.regex.Matcher m = java.util.regex.Pattern.compile("trace=([0-9a-f]{32})").matcher(line);
				assertThat(m.find()).as(line).isTrue();
				String gatewayTrace = m.group(1);
				assertThat(accessLog.lines())
					.as("a traced request is logged with its trace id")
					.anyMatch(l -> l.contains("/orders/" + i + " ") && l.contains("trace=" + traceId));

				context.getBean(SdkTracerProvider.class).forceFlush().join(10, java.util.concurrent.TimeUnit.SECONDS);
				ByteArrayOutputStream all = new ByteArrayOutputStream();
				for (byte[] b : exported) {
					all.write(b);
				}
				byte[] bytes = all.toByteArray();
				String text = new String(bytes, StandardCharsets.ISO_8859_1);
				assertThat(text).as("OTLP carries the attempt spans, the retry marked as one")
					.contains("attempt first")
					.contains("attempt retry")
					.contains("gateway.attempt.kind")
					.contains("UPSTREAM_5XX")
					.contains("127.0.0.1:" + healthy.port());
				assertThat(text).as("and the request's own span").contains("http get");
				assertThat(indexOf(bytes, HexFormat.of().parseHex(traceId))).as("in the client's trace").isNotNegative();
				assertThat(indexOf(bytes, HexFormat.of().parseHex(gatewayTrace))).as("the logged trace was exported").isNotNegative();
				String firstSpanId = firstParent.substring(36, 52);
				assertThat(indexOf(bytes, HexFormat.of().parseHex(firstSpanId))).as("the replica's parent is an exported span")
					.isNotNegative();
			}
		}
		finally {
			collector.stop(0);
		}
	}

	@Test
	void withTracingOffTheClientsTraceparentPassesThroughUntouched() throws Exception {
		try (DemoReplica failing = new DemoReplica("failing", 0).start(); DemoReplica healthy = new DemoReplica("healthy", 0).start()) {
			failing.setMode(DemoReplica.Mode.FAILING);
			failing.recordRequests(true);
			healthy.recordRequests(true);
			try (ConfigurableApplicationContext context = SpringApplication.run(GatewayApplication.class,
					args(failing, healthy).toArray(String[]::new))) {
				// off means no tracer at all (Spring Boot alone would still make one and a span per request)
				assertThat(context.getBeanNamesForType(io.micrometer.tracing.Tracer.class)).isEmpty();
				assertThat(context.getBeanNamesForType(io.opentelemetry.api.OpenTelemetry.class)).isEmpty();
				int i = retriedRequest(context);
				DemoReplica.Recorded first = failing.recorded().stream().filter(r -> r.path().equals("/orders/" + i)).findFirst().orElseThrow();
				DemoReplica.Recorded retry = healthy.recorded().stream().filter(r -> r.path().equals("/orders/" + i)).findFirst().orElseThrow();
				assertThat(header(first, "traceparent")).isEqualTo(traceparent(i));
				assertThat(header(retry, "traceparent")).isEqualTo(traceparent(i));
			}
		}
	}

	private static int indexOf(byte[] haystack, byte[] needle) {
		outer: for (int i = 0; i <= haystack.length - needle.length; i++) {
			for (int j = 0; j < needle.length; j++) {
				if (haystack[i + j] != needle[j]) {
					continue outer;
				}
			}
			return i;
		}
		return -1;
	}

}
