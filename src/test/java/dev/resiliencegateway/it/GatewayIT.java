package dev.resiliencegateway.it;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.autoconfigure.actuate.observability.AutoConfigureObservability;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalManagementPort;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import dev.resiliencegateway.GatewayApplication;
import dev.resiliencegateway.demo.DemoReplica;
import dev.resiliencegateway.health.ReplicaHealth;
import dev.resiliencegateway.wiring.PoolRegistry;

/**
 * Base of the integration tests: the gateway as it runs in production (Tomcat on a real port,
 * management on another), in front of real demo replicas on loopback. Shared by every test class
 * so the context starts once.
 */
@SpringBootTest(classes = GatewayApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@AutoConfigureObservability // tests turn metrics export off by default; the Prometheus endpoint is under test
abstract class GatewayIT {

	static final String ADMIN_PASSWORD = "s3cret-test";

	@LocalServerPort
	int port;

	@LocalManagementPort
	int managementPort;

	@Autowired
	PoolRegistry pools;

	final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

	@DynamicPropertySource
	static void gateway(DynamicPropertyRegistry registry) {
		registry.add("management.server.port", () -> "0");
		registry.add("resilience.gateway.admin.password", () -> "{noop}" + ADMIN_PASSWORD);
		String routes = "spring.cloud.gateway.server.webmvc.routes";
		route(registry, routes, 0, "svc", "lb://svc", "Path=/svc/**", "StripPrefix=1");
		route(registry, routes, 1, "rewrite", "lb://svc", "Path=/rw/**", "RewritePath=/rw/(?<seg>.*), /api/${seg}");
		route(registry, routes, 2, "hang", "lb://hang", "Path=/hang/**", "StripPrefix=1");
		route(registry, routes, 3, "reset", "lb://reset", "Path=/reset/**", "StripPrefix=1");
		route(registry, routes, 4, "dead", "lb://dead", "Path=/dead/**", "StripPrefix=1");
		route(registry, routes, 5, "canary", "lb://svc", "Header=X-Canary, yes", "AddResponseHeader=X-Canary-Route, matched");
		route(registry, routes, 6, "bench", "lb://svc", "Path=/demo/**", "AddResponseHeader=X-Bench, smoke");
		route(registry, routes, 7, "budget", "lb://svc", "Path=/budget/**", "StripPrefix=1");
		route(registry, routes, 8, "hedged", "lb://hedgepool", "Path=/hedged/**", "StripPrefix=1");
		route(registry, routes, 9, "halfdead", "lb://halfdead", "Path=/halfdead/**", "StripPrefix=1");
		route(registry, routes, 10, "deadline", "lb://hang", "Path=/deadline/**", "StripPrefix=1");
		route(registry, routes, 11, "retrying", "lb://svc", "Path=/retrying/**", "StripPrefix=1");
		route(registry, routes, 12, "abandon", "lb://abandon", "Path=/abandon/**", "StripPrefix=1");
		route(registry, routes, 13, "fbstatic", "lb://dead", "Path=/fbstatic/**", "StripPrefix=1");
		route(registry, routes, 14, "fbforward", "lb://dead", "Path=/fbforward/**", "StripPrefix=1");
		route(registry, routes, 15, "fbloop", "lb://dead", "Path=/fbloop/**", "StripPrefix=1");
		// hedgepool behind a route that does not hedge and would wait 20 s for the hanging replica
		route(registry, routes, 16, "probing", "lb://hedgepool", "Path=/probing/**", "StripPrefix=1");
		route(registry, routes, 17, "riding", "lb://riding", "Path=/riding/**", "StripPrefix=1");
		route(registry, routes, 18, "quiet", "lb://quiet", "Path=/quiet/**", "StripPrefix=1");
		route(registry, routes, 19, "idle", "lb://idle", "Path=/idle/**", "StripPrefix=1");
		// idle: the shipped health-check cadence (1 s with traffic, 10 s without)
		registry.add("resilience.gateway.pools.idle.replicas[0].url", Replicas.IDLE::url);
		// riding: crashed replicas are to be marked down by their checks while no request comes
		registry.add("resilience.gateway.pools.riding.health-check.no-traffic-interval", () -> "1s");
		registry.add("resilience.gateway.routes.riding.ride-through.max-wait", () -> "5s");
		for (int i = 0; i < 2; i++) {
			DemoReplica ride = Replicas.RIDE.get(i);
			DemoReplica quiet = Replicas.QUIET.get(i);
			registry.add("resilience.gateway.pools.riding.replicas[" + i + "].url", ride::url);
			registry.add("resilience.gateway.pools.quiet.replicas[" + i + "].url", quiet::url);
		}
		// quiet: only traffic and synthetic probes judge its replicas, and an ejection outlasts the test
		registry.add("resilience.gateway.pools.quiet.health-check.enabled", () -> "false");
		registry.add("resilience.gateway.pools.quiet.outlier.probe-path", () -> "/ping");
		registry.add("resilience.gateway.pools.quiet.outlier.base-ejection-time", () -> "60s");
		registry.add("resilience.gateway.pools.quiet.outlier.consecutive-failures", () -> "2");
		registry.add("resilience.gateway.routes.probing.per-try-timeout", () -> "20s");
		registry.add("resilience.gateway.routes.probing.deadline", () -> "30s");
		registry.add("resilience.gateway.routes.fbstatic.fallback.status", () -> "200");
		registry.add("resilience.gateway.routes.fbstatic.fallback.body", () -> "{\"items\":[],\"stale\":true}");
		registry.add("resilience.gateway.routes.fbforward.fallback.forward", () -> "/svc/from-fallback");
		registry.add("resilience.gateway.routes.fbloop.fallback.forward", () -> "/fbloop/again");
		registry.add("resilience.gateway.pools.halfdead.replicas[0].url", () -> "http://127.0.0.1:" + Replicas.DEAD_PORTS.get(0));
		registry.add("resilience.gateway.pools.halfdead.replicas[1].url", Replicas.SPARE::url);
		registry.add("resilience.gateway.pools.hedgepool.replicas[0].url", Replicas.HANG2::url);
		registry.add("resilience.gateway.pools.hedgepool.replicas[1].url", Replicas.SPARE2::url);
		registry.add("resilience.gateway.pools.halfdead.health-check.enabled", () -> "false");
		// a hanging replica behind a route that would wait 20 s: only a cancellation ends its attempts sooner
		registry.add("resilience.gateway.pools.abandon.replicas[0].url", Replicas.HANG3::url);
		registry.add("resilience.gateway.pools.abandon.health-check.enabled", () -> "false");
		registry.add("resilience.gateway.routes.abandon.per-try-timeout", () -> "20s");
		registry.add("resilience.gateway.routes.abandon.deadline", () -> "30s");
		registry.add("resilience.gateway.routes.hedged.hedge.enabled", () -> "true");
		registry.add("resilience.gateway.routes.hedged.hedge.delay", () -> "100ms");
		registry.add("resilience.gateway.routes.hedged.hedge.budget-percent", () -> "100");
		registry.add("resilience.gateway.routes.deadline.per-try-timeout", () -> "1s");
		registry.add("resilience.gateway.routes.deadline.deadline", () -> "400ms");
		for (int i = 0; i < 3; i++) {
			DemoReplica r = Replicas.SVC.get(i);
			registry.add("resilience.gateway.pools.svc.replicas[" + i + "].url", r::url);
		}
		registry.add("resilience.gateway.pools.hang.replicas[0].url", Replicas.HANG::url);
		registry.add("resilience.gateway.pools.reset.replicas[0].url", Replicas.RESET::url);
		for (int i = 0; i < Replicas.DEAD_PORTS.size(); i++) {
			int p = Replicas.DEAD_PORTS.get(i);
			registry.add("resilience.gateway.pools.dead.replicas[" + i + "].url", () -> "http://127.0.0.1:" + p);
		}
		for (String pool : new String[] { "svc", "hang", "reset", "dead", "halfdead", "hedgepool" }) {
			String key = "resilience.gateway.pools." + pool;
			registry.add(key + ".health-check.interval", () -> "200ms");
			// the fault tests wait for checks on pools without traffic
			registry.add(key + ".health-check.no-traffic-interval", () -> "200ms");
			registry.add(key + ".health-check.timeout", () -> "200ms");
			registry.add(key + ".outlier.base-ejection-time", () -> "2s");
			registry.add(key + ".outlier.probe-interval", () -> "300ms");
			registry.add(key + ".slow-start.window", () -> "1s");
		}
		registry.add("resilience.gateway.decision-headers", () -> "true");
		// on, with its logger at WARN: AccessLogIT turns it to INFO and reads the lines
		registry.add("resilience.gateway.access-log.enabled", () -> "true");
		registry.add("logging.level.resilience.gateway.access", () -> "WARN");
		registry.add("resilience.gateway.route-defaults.per-try-timeout", () -> "2s");
		registry.add("resilience.gateway.routes.hang.per-try-timeout", () -> "300ms");
		registry.add("resilience.gateway.routes.hang.deadline", () -> "2s");
	}

	private static void route(DynamicPropertyRegistry registry, String prefix, int i, String id, String uri,
			String predicate, String filter) {
		String key = prefix + "[" + i + "]";
		registry.add(key + ".id", () -> id);
		registry.add(key + ".uri", () -> uri);
		registry.add(key + ".predicates[0]", () -> predicate);
		registry.add(key + ".filters[0]", () -> filter);
	}

	/** Every test leaves the replicas healthy, running, and back in rotation. */
	@AfterEach
	void healReplicas() throws Exception {
		for (DemoReplica r : Replicas.SVC) {
			r.setMode(DemoReplica.Mode.HEALTHY);
			r.recordRequests(false);
			if (!r.isRunning()) {
				r.start();
			}
		}
		for (ReplicaHealth r : pools.pool("svc").replicas()) {
			if (r.state() != dev.resiliencegateway.health.ReplicaState.HEALTHY) {
				r.restore("test cleanup");
			}
		}
		Replicas.SVC.forEach(DemoReplica::resetStats);
	}

	/**
	 * Starts each test with every svc replica healthy, at full weight, and with the latency penalty of
	 * an earlier test's fault faded (it decays with a 0.5 s time constant).
	 */
	@BeforeEach
	void awaitHealthyPool() {
		Awaitility.await().atMost(Duration.ofSeconds(15)).until(() -> pools.pool("svc").replicas().stream()
			.allMatch(r -> r.state() == dev.resiliencegateway.health.ReplicaState.HEALTHY
					&& r.load().latencyNanos(System.nanoTime()) < Duration.ofMillis(20).toNanos()));
	}

	URI gateway(String path) {
		return URI.create("http://127.0.0.1:" + port + path);
	}

	/** GET on the management port as the operator (health details need the credential). */
	HttpResponse<String> management(String path) throws Exception {
		return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + managementPort + path))
			.timeout(Duration.ofSeconds(10))
			.header("Authorization", basic("admin", ADMIN_PASSWORD))
			.build(), HttpResponse.BodyHandlers.ofString());
	}

	static String basic(String user, String password) {
		return "Basic " + java.util.Base64.getEncoder()
			.encodeToString((user + ":" + password).getBytes(java.nio.charset.StandardCharsets.UTF_8));
	}

	HttpResponse<String> get(String path) throws Exception {
		return http.send(HttpRequest.newBuilder(gateway(path)).timeout(Duration.ofSeconds(10)).build(),
				HttpResponse.BodyHandlers.ofString());
	}

	HttpResponse<String> post(String path, String body, String... headers) throws Exception {
		HttpRequest.Builder b = HttpRequest.newBuilder(gateway(path))
			.timeout(Duration.ofSeconds(10))
			.POST(HttpRequest.BodyPublishers.ofString(body));
		if (headers.length > 0) {
			b.headers(headers);
		}
		return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
	}

}
