package dev.resiliencegateway.config;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.diagnostics.FailureAnalysis;

import dev.resiliencegateway.GatewayApplication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/** Each misconfiguration stops startup with one message naming the key, the value and what is expected. */
class StartupValidationTest {

	private static final String ROUTE = "--spring.cloud.gateway.server.webmvc.routes[0].";

	private static final String POOL = "--resilience.gateway.pools.orders.";

	private static List<String> base() {
		return new ArrayList<>(List.of("--server.port=0", "--management.server.port=0",
				"--spring.main.banner-mode=off", "--logging.level.root=OFF", ROUTE + "id=orders", ROUTE + "uri=lb://orders",
				ROUTE + "predicates[0]=Path=/orders/**", POOL + "replicas[0].url=http://127.0.0.1:9"));
	}

	/** The base arguments with {@code extra} replacing any of the same key (Boot joins repeated keys). */
	private static String startupFailure(String... extra) {
		java.util.Map<String, String> byKey = new java.util.LinkedHashMap<>();
		for (String a : base()) {
			byKey.put(a.substring(0, a.indexOf('=')), a);
		}
		for (String a : extra) {
			byKey.put(a.substring(0, a.indexOf('=')), a);
		}
		List<String> args = new ArrayList<>(byKey.values());
		Throwable thrown = catchThrowable(() -> SpringApplication.run(GatewayApplication.class, args.toArray(String[]::new)).close());
		assertThat(thrown).as("startup should fail").isNotNull();
		Throwable t = thrown;
		while (t != null && !(t instanceof InvalidConfigurationException)) {
			t = t.getCause();
		}
		assertThat(t).as("cause chain of %s", thrown).isInstanceOf(InvalidConfigurationException.class);
		FailureAnalysis analysis = new InvalidConfigurationFailureAnalyzer().analyze(thrown);
		assertThat(analysis.getDescription()).startsWith("Invalid gateway configuration: ");
		return t.getMessage();
	}

	@Test
	void edgeKeys() {
		assertThat(startupFailure("--resilience.gateway.edge.underscore-headers=allow"))
			.isEqualTo("resilience.gateway.edge.underscore-headers: 'allow' (expected: reject or drop)");
		assertThat(startupFailure("--resilience.gateway.edge.max-header-size=100KB"))
			.isEqualTo("resilience.gateway.edge.max-header-size: '102400B' (expected: a size from 1KB to 24KB)");
		assertThat(startupFailure("--resilience.gateway.edge.max-in-flight=0"))
			.isEqualTo("resilience.gateway.edge.max-in-flight: 0 (expected: >= 1)");
		assertThat(startupFailure("--resilience.gateway.edge.extra-methods=TRACE")).startsWith(
				"resilience.gateway.edge.extra-methods[0]: 'TRACE' (expected: a method name");
		assertThat(startupFailure("--resilience.gateway.route-defaults.max-body-size=-1B"))
			.isEqualTo("resilience.gateway.route-defaults.max-body-size: '-1B' (expected: 0 (no limit) or a size such as 10MB)");
	}

	@Test
	void unknownPool() {
		assertThat(startupFailure(ROUTE + "uri=lb://payments")).isEqualTo(
				"spring.cloud.gateway.server.webmvc.routes[0].uri: 'lb://payments' (expected: the name of a pool under "
						+ "resilience.gateway.pools [orders] or a service known to the discovery client)");
	}

	@Test
	void emptyPool() {
		assertThat(startupFailure("--resilience.gateway.pools.orders.replicas=")).isEqualTo(
				"resilience.gateway.pools.orders.replicas: '[]' (expected: at least one replica, or no replicas key at all to take them from discovery)");
	}

	@Test
	void malformedReplicaUrl() {
		assertThat(startupFailure(POOL + "replicas[0].url=htp:/10.0.0.1")).isEqualTo(
				"resilience.gateway.pools.orders.replicas[0].url: 'htp:/10.0.0.1' (expected: an absolute http or https URL "
						+ "such as http://orders-1.internal:8080, without user info, query or fragment)");
	}

	@Test
	void negativeTimeout() {
		assertThat(startupFailure("--resilience.gateway.route-defaults.per-try-timeout=-2s")).isEqualTo(
				"resilience.gateway.route-defaults.per-try-timeout: 'PT-2S' (expected: a positive duration such as 500ms or 2s)");
		assertThat(startupFailure(POOL + "health-check.interval=-1s"))
			.startsWith("resilience.gateway.pools.orders.health-check.interval: 'PT-1S'");
	}

	@Test
	void duplicateRouteId() {
		String second = "--spring.cloud.gateway.server.webmvc.routes[1].";
		assertThat(startupFailure(second + "id=orders", second + "uri=lb://orders", second + "predicates[0]=Path=/o2/**"))
			.isEqualTo("spring.cloud.gateway.server.webmvc.routes[1].id: 'orders' (expected: a route id used once "
					+ "(it is also the id of spring.cloud.gateway.server.webmvc.routes[0]))");
	}

	@Test
	void routeSettingsForARouteThatDoesNotExist() {
		assertThat(startupFailure("--resilience.gateway.routes.ordres.max-attempts=2"))
			.isEqualTo("resilience.gateway.routes.ordres: 'ordres' (expected: the id of a route under "
					+ "spring.cloud.gateway.server.webmvc.routes [orders])");
	}

	@Test
	void fallbackIsEitherAForwardOrAStaticResponse() {
		String fallback = "--resilience.gateway.routes.orders.fallback.";
		assertThat(startupFailure(fallback + "forward=/fallback", fallback + "body={}"))
			.isEqualTo("resilience.gateway.routes.orders.fallback.forward: '/fallback' (expected: either forward or a "
					+ "static response (status, body, content-type), not both)");
		assertThat(startupFailure(fallback + "forward=http://elsewhere/"))
			.isEqualTo("resilience.gateway.routes.orders.fallback.forward: 'http://elsewhere/' (expected: a path on this "
					+ "gateway such as /fallback/catalog)");
		assertThat(startupFailure(fallback + "status=700"))
			.isEqualTo("resilience.gateway.routes.orders.fallback.status: 700 (expected: >= 200 and <= 599)");
		assertThat(startupFailure("--resilience.gateway.route-defaults.fallback.content-type=json"))
			.isEqualTo("resilience.gateway.route-defaults.fallback.content-type: 'json' (expected: a media type such as "
					+ "application/json)");
	}

	@Test
	void badTrustedProxy() {
		assertThat(startupFailure("--resilience.gateway.trusted-proxies=10.0.0.0/33"))
			.isEqualTo("resilience.gateway.trusted-proxies[0]: '10.0.0.0/33' (expected: an IP address or CIDR range such as 10.0.0.0/8)");
	}

	@Test
	void aPoolFromSimpleDiscoveryIsAccepted() {
		List<String> args = new ArrayList<>(List.of("--server.port=0", "--management.server.port=0",
				"--spring.main.banner-mode=off", "--logging.level.root=OFF", ROUTE + "id=users", ROUTE + "uri=lb://users",
				ROUTE + "predicates[0]=Path=/users/**",
				"--spring.cloud.discovery.client.simple.instances.users[0].uri=http://127.0.0.1:9"));
		var context = SpringApplication.run(GatewayApplication.class, args.toArray(String[]::new));
		try {
			var pools = context.getBean(dev.resiliencegateway.wiring.PoolRegistry.class);
			assertThat(pools.pool("users").replicas()).singleElement()
				.satisfies(r -> assertThat(r.replica().id()).isEqualTo("127.0.0.1:9"));
		}
		finally {
			context.close();
		}
	}

	@Test
	void readinessGoesDownWhenShutdownStarts() {
		var context = SpringApplication.run(GatewayApplication.class, base().toArray(String[]::new));
		var availability = context.getBean(org.springframework.boot.availability.ApplicationAvailability.class);
		assertThat(availability.getReadinessState())
			.isEqualTo(org.springframework.boot.availability.ReadinessState.ACCEPTING_TRAFFIC);
		context.close();
		assertThat(availability.getReadinessState())
			.isEqualTo(org.springframework.boot.availability.ReadinessState.REFUSING_TRAFFIC);
	}

}
