package dev.resiliencegateway.config;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.env.SimpleCommandLinePropertySource;
import org.springframework.core.env.StandardEnvironment;

import dev.resiliencegateway.GatewayApplication;
import dev.resiliencegateway.demo.DemoReplica;

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
	private static java.util.Map<String, Object> properties(String... extra) {
		java.util.Map<String, Object> byKey = new java.util.LinkedHashMap<>();
		for (String a : base()) {
			byKey.put(a.substring(2, a.indexOf('=')), a.substring(a.indexOf('=') + 1));
		}
		for (String a : extra) {
			byKey.put(a.substring(2, a.indexOf('=')), a.substring(a.indexOf('=') + 1));
		}
		return byKey;
	}

	/**
	 * The validator as a pure function: the settings bound as Spring Boot binds them, then validated;
	 * returns the one-line message. {@link #aBadSettingStopsStartupWithOneReport} is the boot test.
	 */
	private static String startupFailure(String... extra) {
		StandardEnvironment environment = new StandardEnvironment();
		environment.getPropertySources().addFirst(new MapPropertySource("test", properties(extra)));
		GatewayProperties props = Binder.get(environment).bindOrCreate("resilience.gateway", GatewayProperties.class);
		Throwable t = catchThrowable(
				() -> GatewayConfigValidator.validate(props, GatewayRoutes.of(environment), service -> false, true));
		assertThat(t).isInstanceOf(InvalidConfigurationException.class);
		return t.getMessage();
	}

	@Test
	void aBadSettingStopsStartupWithOneReport() {
		List<String> args = base();
		args.add("--resilience.gateway.route-defaults.max-attempts=0");
		Throwable thrown = catchThrowable(() -> SpringApplication.run(GatewayApplication.class, args.toArray(String[]::new)).close());
		assertThat(thrown).as("startup should fail").isNotNull();
		Throwable t = thrown;
		while (t != null && !(t instanceof InvalidConfigurationException)) {
			t = t.getCause();
		}
		assertThat(t).as("cause chain of %s", thrown).isInstanceOf(InvalidConfigurationException.class);
		StandardEnvironment environment = new StandardEnvironment();
		environment.getPropertySources().addFirst(new SimpleCommandLinePropertySource(args.toArray(String[]::new)));
		FailureAnalysis analysis = new InvalidConfigurationFailureAnalyzer(environment).analyze(thrown);
		assertThat(analysis.getDescription())
			.isEqualTo("Invalid gateway configuration: resilience.gateway.route-defaults.max-attempts: 0 (expected: >= 1)");
		assertThat(analysis.getAction()).startsWith("Set resilience.gateway.route-defaults.max-attempts to >= 1 where it is set: ")
			.contains("from property source \"commandLineArgs\"").doesNotContain("application.yml");
		assertThat(new InvalidConfigurationFailureAnalyzer(null).analyze(thrown).getAction())
			.contains("in the gateway's configuration (application.yml, a file given with");
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
	void checksPerIntervalBelowOne() {
		assertThat(startupFailure(POOL + "health-check.max-per-interval=0"))
			.isEqualTo("resilience.gateway.pools.orders.health-check.max-per-interval: 0 (expected: >= 1)");
	}

	@Test
	void noTrafficIntervalBelowTheInterval() {
		assertThat(startupFailure(POOL + "health-check.interval=2s", POOL + "health-check.no-traffic-interval=500ms"))
			.isEqualTo("resilience.gateway.pools.orders.health-check.no-traffic-interval: 'PT0.5S' "
					+ "(expected: at least health-check.interval (PT2S))");
	}

	@Test
	void duplicateRouteId() {
		String second = "--spring.cloud.gateway.server.webmvc.routes[1].";
		assertThat(startupFailure(second + "id=orders", second + "uri=lb://orders", second + "predicates[0]=Path=/o2/**"))
			.isEqualTo("spring.cloud.gateway.server.webmvc.routes[1].id: 'orders' (expected: a route id used once "
					+ "(it is also the id of spring.cloud.gateway.server.webmvc.routes[0]))");
	}

	/** Settings under Gateway MVC's old prefix would be ignored without the properties migrator (not shipped). */
	@Test
	void settingsUnderTheOldGatewayMvcPrefix() {
		String old = "--spring.cloud.gateway.mvc.routes[0].";
		assertThat(startupFailure(old + "id=legacy", old + "uri=lb://orders", old + "predicates[0]=Path=/legacy/**"))
			.isEqualTo("spring.cloud.gateway.mvc.routes[0].id: 'legacy' (expected: the setting under "
					+ "spring.cloud.gateway.server.webmvc.routes[0].id (Gateway MVC 4.3 renamed spring.cloud.gateway.mvc))");
		assertThat(startupFailure("--spring.cloud.gateway.mvc.routes-map.legacy.uri=lb://orders"))
			.isEqualTo("spring.cloud.gateway.mvc.routes-map.legacy.uri: 'lb://orders' (expected: the setting under "
					+ "spring.cloud.gateway.server.webmvc.routes-map.legacy.uri (Gateway MVC 4.3 renamed spring.cloud.gateway.mvc))");
		assertThat(startupFailure("--spring.cloud.gateway.mvc.http-client.connect-timeout=2s"))
			.isEqualTo("spring.cloud.gateway.mvc.http-client.connect-timeout: '2s' (expected: the setting under "
					+ "spring.http.client.* (Gateway MVC 4.3 renamed spring.cloud.gateway.mvc))");
	}

	/** The same from an environment variable, in its relaxed form. */
	@Test
	void oldGatewayMvcPrefixFromTheEnvironment() {
		StandardEnvironment environment = new StandardEnvironment();
		environment.getPropertySources().replace(StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME,
				new org.springframework.core.env.SystemEnvironmentPropertySource(
						StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME,
						java.util.Map.of("SPRING_CLOUD_GATEWAY_MVC_TRUSTEDPROXIES", "10\\..*")));
		Throwable t = catchThrowable(() -> GatewayRoutes.of(environment));
		assertThat(t).isInstanceOf(InvalidConfigurationException.class)
			.hasMessageStartingWith("spring.cloud.gateway.mvc.trustedproxies: ");
	}

	@Test
	void routeSettingsForARouteThatDoesNotExist() {
		assertThat(startupFailure("--resilience.gateway.routes.ordres.max-attempts=2"))
			.isEqualTo("resilience.gateway.routes.ordres: 'ordres' (expected: the id of a route under "
					+ "spring.cloud.gateway.server.webmvc.routes [orders])");
	}

	@Test
	void idempotencyAndRateLimitSettingsAreChecked() {
		String keys = "--resilience.gateway.routes.orders.idempotency.";
		assertThat(startupFailure(keys + "in-flight=queue"))
			.isEqualTo("resilience.gateway.routes.orders.idempotency.in-flight: 'queue' (expected: reject (409 at once) or wait)");
		assertThat(startupFailure(keys + "on-store-failure=maybe"))
			.isEqualTo("resilience.gateway.routes.orders.idempotency.on-store-failure: 'maybe' (expected: open (forward "
					+ "without the key's protection) or closed (503))");
		assertThat(startupFailure(keys + "client-header=X Api"))
			.isEqualTo("resilience.gateway.routes.orders.idempotency.client-header: 'X Api' (expected: a header name such as X-Api-Key)");
		assertThat(startupFailure("--resilience.gateway.routes.orders.rate-limit.requests=-5"))
			.isEqualTo("resilience.gateway.routes.orders.rate-limit.requests: -5 (expected: 0 (no limit) or more requests per period)");
		assertThat(startupFailure("--resilience.gateway.route-defaults.rate-limit.period=0s"))
			.startsWith("resilience.gateway.route-defaults.rate-limit.period: 'PT0S'");
	}

	@Test
	void recoverySettingsAreChecked() {
		assertThat(startupFailure("--resilience.gateway.routes.orders.ride-through.max-wait=10s"))
			.isEqualTo("resilience.gateway.routes.orders.ride-through.max-wait: 'PT10S' (expected: less than the route's "
					+ "deadline (PT10S), which bounds every request, waiting included)");
		assertThat(startupFailure("--resilience.gateway.route-defaults.ride-through.max-waiting=0"))
			.isEqualTo("resilience.gateway.route-defaults.ride-through.max-waiting: 0 (expected: >= 1)");
		assertThat(startupFailure("--resilience.gateway.pools.orders.outlier.first-probe-interval=2s"))
			.isEqualTo("resilience.gateway.pools.orders.outlier.first-probe-interval: 'PT2S' (expected: at most "
					+ "probe-interval (PT0.8S))");
		assertThat(startupFailure("--resilience.gateway.pools.orders.outlier.probe-path=ping"))
			.isEqualTo("resilience.gateway.pools.orders.outlier.probe-path: 'ping' (expected: a path starting with a "
					+ "single /, such as /orders/ping)");
		assertThat(startupFailure("--resilience.gateway.pools.orders.outlier.failure-outlier-percent=120"))
			.startsWith("resilience.gateway.pools.orders.outlier.failure-outlier-percent: 120");
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
	void readinessGoesDownWhenShutdownStarts() {
		var context = SpringApplication.run(GatewayApplication.class, base().toArray(String[]::new));
		var availability = context.getBean(org.springframework.boot.availability.ApplicationAvailability.class);
		assertThat(availability.getReadinessState())
			.isEqualTo(org.springframework.boot.availability.ReadinessState.ACCEPTING_TRAFFIC);
		context.close();
		assertThat(availability.getReadinessState())
			.isEqualTo(org.springframework.boot.availability.ReadinessState.REFUSING_TRAFFIC);
	}


	@Test
	void routePolicyFiltersAreFoldedIntoTheRoutesPolicy() {
		StandardEnvironment environment = new StandardEnvironment();
		environment.getPropertySources().addFirst(new MapPropertySource("test", properties(
				ROUTE + "filters[0]=StripPrefix=1", ROUTE + "filters[1]=MaxAttempts=2", ROUTE + "filters[2]=PerTryTimeout=300ms",
				ROUTE + "filters[3]=Deadline=3s", ROUTE + "filters[4]=Hedge=40ms", ROUTE + "filters[5]=MaxConcurrent=7",
				ROUTE + "filters[6]=MaxBodySize=1KB", "--resilience.gateway.routes.orders.max-attempts=5",
				"--resilience.gateway.routes.orders.retry-budget-percent=30")));
		GatewayProperties props = Binder.get(environment).bindOrCreate("resilience.gateway", GatewayProperties.class);
		GatewayConfig.RoutePolicy p = GatewayConfigValidator
			.validate(props, GatewayRoutes.of(environment), service -> false, true)
			.routePolicy("orders");
		assertThat(p.maxAttempts()).as("the filter wins over routes.ID").isEqualTo(2);
		assertThat(p.retryBudgetPercent()).as("keys the filters do not name stay").isEqualTo(30);
		assertThat(p.perTryTimeout()).isEqualTo(java.time.Duration.ofMillis(300));
		assertThat(p.deadline()).isEqualTo(java.time.Duration.ofSeconds(3));
		assertThat(p.hedge()).isTrue();
		assertThat(p.hedgeDelay()).isEqualTo(java.time.Duration.ofMillis(40));
		assertThat(p.maxConcurrent()).isEqualTo(7);
		assertThat(p.maxBodySize()).isEqualTo(1024);
	}

	@Test
	void badRoutePolicyFilters() {
		assertThat(startupFailure(ROUTE + "filters[0]=MaxAttempts=0")).isEqualTo(
				"spring.cloud.gateway.server.webmvc.routes[0].filters[0]: 'MaxAttempts=0' (expected: a whole number >= 1)");
		assertThat(startupFailure(ROUTE + "filters[0]=AddRequestHeader=X-A, 1", ROUTE + "filters[1]=Hedge=soon")).isEqualTo(
				"spring.cloud.gateway.server.webmvc.routes[0].filters[1]: 'Hedge=soon' (expected: a duration such as 50ms, p95 or off)");
		assertThat(startupFailure(ROUTE + "filters[0]=Deadline=-1s")).isEqualTo(
				"spring.cloud.gateway.server.webmvc.routes[0].filters[0]: 'Deadline=-1s' (expected: a positive duration such as 500ms or 2s)");
		assertThat(startupFailure(ROUTE + "uri=http://127.0.0.1:9", ROUTE + "filters[0]=MaxAttempts=2")).isEqualTo(
				"spring.cloud.gateway.server.webmvc.routes[0].filters[0]: 'MaxAttempts=2' (expected: no resilience filter on a route whose uri is not lb://POOL)");
	}

	/** Gateway MVC accepts the filter names, and the policy they set is the one requests get. */
	@Test
	void aRoutesOwnFiltersSetItsPolicyEndToEnd() throws Exception {
		try (DemoReplica failing = new DemoReplica("failing", 0).start()) {
			failing.setMode(DemoReplica.Mode.FAILING);
			List<String> args = base();
			args.removeIf(a -> a.startsWith(POOL));
			args.add(POOL + "replicas[0].url=" + failing.url());
			args.add(POOL + "health-check.enabled=false");
			args.add(ROUTE + "filters[0]=MaxAttempts=1");
			var context = SpringApplication.run(GatewayApplication.class, args.toArray(String[]::new));
			try {
				int port = ((org.springframework.boot.web.context.WebServerApplicationContext) context).getWebServer().getPort();
				var response = java.net.http.HttpClient.newHttpClient()
					.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port + "/orders/1"))
						.build(), java.net.http.HttpResponse.BodyHandlers.ofString());
				// without the filter the GET would be sent up to 3 times (to the one replica, once all were tried)
				assertThat(response.statusCode()).as("one attempt: the replica's 500 is relayed").isEqualTo(500);
				assertThat(failing.served()).isEqualTo(1);
			}
			finally {
				context.close();
			}
		}
	}

}
