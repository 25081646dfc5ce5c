package dev.resiliencegateway.config;

import static dev.resiliencegateway.config.ConfigChecks.atLeast;
import static dev.resiliencegateway.config.ConfigChecks.nonNegative;
import static dev.resiliencegateway.config.ConfigChecks.percent;
import static dev.resiliencegateway.config.ConfigChecks.positive;
import static dev.resiliencegateway.config.ConfigChecks.replicaUrl;
import static dev.resiliencegateway.config.ConfigChecks.size;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import dev.resiliencegateway.config.GatewayConfig.HealthCheckSettings;
import dev.resiliencegateway.config.GatewayConfig.PoolConfig;
import dev.resiliencegateway.config.GatewayConfig.RoutePolicy;
import dev.resiliencegateway.config.GatewayConfig.TlsSettings;
import dev.resiliencegateway.idempotency.IdempotencyPolicy;
import dev.resiliencegateway.limits.RateLimitPolicy;
import dev.resiliencegateway.config.GatewayConfig.UpstreamSettings;
import dev.resiliencegateway.health.HealthPolicy;
import dev.resiliencegateway.pool.Replica;

import static dev.resiliencegateway.config.GatewayConfig.*;

/**
 * Checks the gateway's configuration once, at startup, and fills in defaults. Every problem stops
 * startup with one {@link InvalidConfigurationException} naming the key, the value and what is
 * expected.
 */
public final class GatewayConfigValidator {

	private static final String P = "resilience.gateway";

	/**
	 * One Gateway MVC route as the validator needs it: its property path, id, uri and the
	 * {@link RoutePolicyFilters} among its filters.
	 */
	public record RouteRef(String key, String id, URI uri, List<PolicyFilter> policyFilters) {

		public RouteRef(String key, String id, URI uri) {
			this(key, id, uri, List.of());
		}

	}

	/** A {@link RoutePolicyFilters} filter on a route: {@code name=value} at property path {@code key}. */
	public record PolicyFilter(String key, String name, String value) {
	}

	private GatewayConfigValidator() {
	}

	/**
	 * @param routes the Gateway MVC routes from {@code spring.cloud.gateway.server.webmvc.routes}
	 * @param discoverable whether discovery knows a service id (for pools without listed replicas)
	 * @param discoveryIsStatic discovery is the simple, configuration-backed one: a service it does not
	 * know now will never appear, so an unknown pool is an error rather than a warning
	 */
	public static GatewayConfig validate(GatewayProperties props, List<RouteRef> routes,
			Predicate<String> discoverable, boolean discoveryIsStatic) {
		TrustedProxies trusted = TrustedProxies.parse(props.trustedProxies(), P + ".trusted-proxies");
		GatewayProperties.Upstream u = props.upstream();
		UpstreamSettings upstream = new UpstreamSettings(
				positive(P + ".upstream.connect-timeout", u.connectTimeout(), DEFAULT_CONNECT_TIMEOUT),
				atLeast(P + ".upstream.max-connections-per-replica", u.maxConnectionsPerReplica(),
						DEFAULT_MAX_CONNECTIONS_PER_REPLICA, 1),
				atLeast(P + ".upstream.max-connections", u.maxConnections(), DEFAULT_MAX_CONNECTIONS, 1),
				positive(P + ".upstream.idle-timeout", u.idleTimeout(), DEFAULT_IDLE_TIMEOUT),
				size(P + ".upstream.max-response-header-size", u.maxResponseHeaderSize(), DEFAULT_MAX_RESPONSE_HEADER_SIZE,
						1024, 12 * 1024));
		GatewayConfig.EdgeSettings edge = edge(props.edge());

		Map<String, PoolConfig> pools = new LinkedHashMap<>();
		props.pools().forEach((name, pool) -> pools.put(name, pool(name, pool, discoverable, discoveryIsStatic)));

		// routes: ids unique, lb:// targets known
		Map<String, String> seen = new HashMap<>();
		Map<String, PoolConfig> implicit = new LinkedHashMap<>();
		for (RouteRef route : routes) {
			if (route.id() == null || route.id().isBlank()) {
				throw new InvalidConfigurationException(route.key() + ".id", route.id(), "a non-empty route id");
			}
			String earlier = seen.putIfAbsent(route.id(), route.key());
			if (earlier != null) {
				throw new InvalidConfigurationException(route.key() + ".id", route.id(),
						"a route id used once (it is also the id of " + earlier + ")");
			}
			if (route.uri() != null && "lb".equalsIgnoreCase(route.uri().getScheme())) {
				String pool = route.uri().getHost();
				if (pool == null || pool.isBlank()) {
					throw new InvalidConfigurationException(route.key() + ".uri", String.valueOf(route.uri()),
							"lb://POOL with the name of a pool under " + P + ".pools");
				}
				if (!pools.containsKey(pool) && !implicit.containsKey(pool)) {
					if (discoveryIsStatic && !discoverable.test(pool)) {
						throw new InvalidConfigurationException(route.key() + ".uri", String.valueOf(route.uri()),
								"the name of a pool under " + P + ".pools " + pools.keySet()
										+ " or a service known to the discovery client");
					}
					implicit.put(pool, pool(pool, emptyPool(), discoverable, false));
				}
			}
		}
		pools.putAll(implicit);

		RoutePolicy defaults = route(P + ".route-defaults", props.routeDefaults(), DEFAULT_ROUTE);
		Map<String, RoutePolicy> routePolicies = new LinkedHashMap<>();
		props.routes().forEach((id, r) -> {
			String key = P + ".routes." + id;
			if (!seen.containsKey(id)) {
				throw new InvalidConfigurationException(key, id, "the id of a route under spring.cloud.gateway.server.webmvc.routes "
						+ seen.keySet());
			}
			routePolicies.put(id, route(key, r, defaults));
		});
		for (RouteRef route : routes) {
			if (!route.policyFilters().isEmpty()) {
				if (route.uri() == null || !"lb".equalsIgnoreCase(route.uri().getScheme())) {
					PolicyFilter f = route.policyFilters().get(0);
					throw new InvalidConfigurationException(f.key(), f.name() + "=" + f.value(),
							"no resilience filter on a route whose uri is not lb://POOL");
				}
				routePolicies.put(route.id(), RoutePolicyFilterValues.apply(route.policyFilters(),
						routePolicies.getOrDefault(route.id(), defaults)));
			}
		}
		return new GatewayConfig(trusted, props.decisionHeaders(), upstream, Map.copyOf(pools), defaults,
				Map.copyOf(routePolicies), edge);
	}

	private static GatewayConfig.EdgeSettings edge(GatewayProperties.Edge e) {
		String key = P + ".edge";
		GatewayConfig.EdgeSettings d = DEFAULT_EDGE;
		String underscores = e.underscoreHeaders() == null ? "reject" : e.underscoreHeaders().trim().toLowerCase(java.util.Locale.ROOT);
		if (!underscores.equals("reject") && !underscores.equals("drop")) {
			throw new InvalidConfigurationException(key + ".underscore-headers", e.underscoreHeaders(), "reject or drop");
		}
		java.util.Set<String> extra = new java.util.LinkedHashSet<>();
		for (int i = 0; i < e.extraMethods().size(); i++) {
			String m = e.extraMethods().get(i);
			if (m == null || !m.matches("[!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}") || m.equals("TRACE") || m.equals("CONNECT")) {
				throw new InvalidConfigurationException(key + ".extra-methods[" + i + "]", m,
						"a method name of 1-32 token characters such as PROPFIND (TRACE and CONNECT are never forwarded)");
			}
			extra.add(m);
		}
		return new GatewayConfig.EdgeSettings(
				size(key + ".max-request-line", e.maxRequestLine(), d.maxRequestLine(), 256, 16 * 1024),
				size(key + ".max-header-size", e.maxHeaderSize(), d.maxHeaderSize(), 1024, 24 * 1024),
				atLeast(key + ".max-header-count", e.maxHeaderCount(), d.maxHeaderCount(), 1),
				underscores.equals("drop"), java.util.Set.copyOf(extra),
				atLeast(key + ".max-in-flight", e.maxInFlight(), d.maxInFlight(), 1));
	}

	private static GatewayProperties.Pool emptyPool() {
		return new GatewayProperties.Pool(null, null, null, new GatewayProperties.HealthCheck(null, null, null, null, null, null, null, null),
				new GatewayProperties.Outlier(null, null, null, null, null, null, null, null, null), new GatewayProperties.SlowStart(null, null),
				null, null, new GatewayProperties.Tls(null, null));
	}

	private static PoolConfig pool(String name, GatewayProperties.Pool pool, Predicate<String> discoverable,
			boolean discoveryIsStatic) {
		String key = P + ".pools." + name;
		List<Replica> replicas = null;
		String serviceId = pool.serviceId() != null ? pool.serviceId() : name;
		if (pool.replicas() != null) {
			if (pool.replicas().isEmpty()) {
				throw new InvalidConfigurationException(key + ".replicas", "[]",
						"at least one replica, or no replicas key at all to take them from discovery");
			}
			replicas = new ArrayList<>();
			for (int i = 0; i < pool.replicas().size(); i++) {
				GatewayProperties.ReplicaEntry e = pool.replicas().get(i);
				String rk = key + ".replicas[" + i + "]";
				URI uri = replicaUrl(rk + ".url", e.url());
				int weight = atLeast(rk + ".weight", e.weight(), 1, 1);
				Replica replica = Replica.of(uri, weight);
				for (Replica other : replicas) {
					if (other.id().equals(replica.id())) {
						throw new InvalidConfigurationException(rk + ".url", e.url(), "a replica listed once in the pool");
					}
				}
				replicas.add(replica);
			}
			replicas = List.copyOf(replicas);
		}
		else if (discoveryIsStatic && !discoverable.test(serviceId)) {
			throw new InvalidConfigurationException(key + ".replicas", "(none)",
					"at least one replica, or a service '" + serviceId + "' known to the discovery client");
		}
		GatewayProperties.HealthCheck hc = pool.healthCheck();
		String path = hc.path() != null ? hc.path() : DEFAULT_HEALTH_PATH;
		if (!path.startsWith("/")) {
			throw new InvalidConfigurationException(key + ".health-check.path", path, "a path starting with /");
		}
		Duration interval = positive(key + ".health-check.interval", hc.interval(), DEFAULT_HEALTH_INTERVAL);
		Duration quiet = positive(key + ".health-check.no-traffic-interval", hc.noTrafficInterval(),
				interval.compareTo(DEFAULT_HEALTH_NO_TRAFFIC_INTERVAL) > 0 ? interval : DEFAULT_HEALTH_NO_TRAFFIC_INTERVAL);
		if (quiet.compareTo(interval) < 0) {
			throw new InvalidConfigurationException(key + ".health-check.no-traffic-interval", quiet.toString(),
					"at least health-check.interval (" + interval + ")");
		}
		HealthCheckSettings check = new HealthCheckSettings(hc.enabled() == null || hc.enabled(), path, interval, quiet,
				positive(key + ".health-check.timeout", hc.timeout(), DEFAULT_HEALTH_TIMEOUT),
				atLeast(key + ".health-check.max-per-interval", hc.maxPerInterval(), DEFAULT_HEALTH_MAX_PER_INTERVAL, 1));
		HealthPolicy d = HealthPolicy.DEFAULTS;
		GatewayProperties.Outlier o = pool.outlier();
		Duration base = positive(key + ".outlier.base-ejection-time", o.baseEjectionTime(), d.baseEjection());
		Duration max = positive(key + ".outlier.max-ejection-time", o.maxEjectionTime(), d.maxEjection());
		if (max.compareTo(base) < 0) {
			throw new InvalidConfigurationException(key + ".outlier.max-ejection-time", max.toString(),
					"at least base-ejection-time (" + base + ")");
		}
		GatewayProperties.SlowStart ss = pool.slowStart();
		Duration window = ss.window() != null ? ss.window() : d.slowStartWindow();
		if (window.isNegative()) {
			throw new InvalidConfigurationException(key + ".slow-start.window", window.toString(), "0 (off) or a positive duration");
		}
		double share = ss.initialShare() != null ? ss.initialShare() : d.slowStartInitialShare();
		if (!(share > 0 && share <= 1)) {
			throw new InvalidConfigurationException(key + ".slow-start.initial-share", share, "> 0 and <= 1");
		}
		Duration probeInterval = positive(key + ".outlier.probe-interval", o.probeInterval(), d.probeInterval());
		Duration firstProbe = positive(key + ".outlier.first-probe-interval", o.firstProbeInterval(),
				d.firstProbeInterval().compareTo(probeInterval) > 0 ? probeInterval : d.firstProbeInterval());
		if (firstProbe.compareTo(probeInterval) > 0) {
			throw new InvalidConfigurationException(key + ".outlier.first-probe-interval", firstProbe.toString(),
					"at most probe-interval (" + probeInterval + ")");
		}
		String probePath = o.probePath();
		if (probePath != null && (!probePath.startsWith("/") || probePath.startsWith("//"))) {
			throw new InvalidConfigurationException(key + ".outlier.probe-path", probePath,
					"a path starting with a single /, such as /orders/ping");
		}
		HealthPolicy policy = new HealthPolicy(
				atLeast(key + ".outlier.consecutive-failures", o.consecutiveFailures(), d.consecutiveFailures(), 1), base,
				max, d.ejectionJitter(),
				percent(key + ".outlier.max-ejection-percent", o.maxEjectionPercent(), d.maxEjectionPercent()),
				percent(key + ".panic-threshold-percent", pool.panicThresholdPercent(), d.panicThresholdPercent()),
				o.detectOnly() != null && o.detectOnly(), firstProbe, probeInterval, window, share,
				atLeast(key + ".health-check.unhealthy-threshold", hc.unhealthyThreshold(), d.unhealthyThreshold(), 1),
				atLeast(key + ".health-check.healthy-threshold", hc.healthyThreshold(), d.healthyThreshold(), 1),
				percent(key + ".outlier.failure-outlier-percent", o.failureOutlierPercent(), d.failureOutlierPercent()));
		GatewayProperties.Tls t = pool.tls();
		TlsSettings tls = new TlsSettings(t.bundle() == null || t.bundle().isBlank() ? null : t.bundle(),
				t.verifyHostname() == null || t.verifyHostname());
		if (tls.bundle() != null && replicas != null) {
			for (int i = 0; i < replicas.size(); i++) {
				if (!"https".equalsIgnoreCase(replicas.get(i).uri().getScheme())) {
					// a bundle on a plain-text pool would be a silent downgrade: say so
					throw new InvalidConfigurationException(key + ".replicas[" + i + "].url", replicas.get(i).uri().toString(),
							"an https URL (the pool names SSL bundle '" + tls.bundle() + "' in " + key + ".tls.bundle)");
				}
			}
		}
		return new PoolConfig(name, replicas, serviceId,
				positive(key + ".discovery-refresh", pool.discoveryRefresh(), DEFAULT_DISCOVERY_REFRESH), check, policy, probePath,
				atLeast(key + ".max-concurrent-per-replica", pool.maxConcurrentPerReplica(),
						DEFAULT_MAX_CONCURRENT_PER_REPLICA, 1), tls);
	}

	private static RoutePolicy route(String key, GatewayProperties.Route r, RoutePolicy d) {
		Duration perTry = positive(key + ".per-try-timeout", r.perTryTimeout(), d.perTryTimeout());
		Duration deadline = positive(key + ".deadline", r.deadline(), d.deadline());
		Duration base = nonNegative(key + ".backoff-base", r.backoffBase(), d.backoffBase());
		Duration cap = nonNegative(key + ".backoff-cap", r.backoffCap(), d.backoffCap());
		if (cap.compareTo(base) < 0) {
			throw new InvalidConfigurationException(key + ".backoff-cap", cap.toString(), "at least backoff-base (" + base + ")");
		}
		long buffer = r.bufferLimit() == null ? d.bufferLimit() : r.bufferLimit().toBytes();
		if (buffer < 0) {
			throw new InvalidConfigurationException(key + ".buffer-limit", r.bufferLimit().toString(), "0 or a size such as 1MB");
		}
		GatewayProperties.Hedge h = r.hedge();
		return new RoutePolicy(atLeast(key + ".max-attempts", r.maxAttempts(), d.maxAttempts(), 1), perTry, deadline,
				base, cap, percent(key + ".retry-budget-percent", r.retryBudgetPercent(), d.retryBudgetPercent()),
				atLeast(key + ".retry-budget-floor", r.retryBudgetFloor(), d.retryBudgetFloor(), 0),
				nonNegative(key + ".max-retry-after", r.maxRetryAfter(), d.maxRetryAfter()), buffer,
				atLeast(key + ".max-concurrent", r.maxConcurrent(), d.maxConcurrent(), 1), maxBody(key, r, d),
				h.enabled() != null ? h.enabled() : d.hedge(),
				h.delay() != null ? positive(key + ".hedge.delay", h.delay(), null) : d.hedgeDelay(),
				positive(key + ".hedge.min-delay", h.minDelay(), d.hedgeMinDelay()),
				percent(key + ".hedge.budget-percent", h.budgetPercent(), d.hedgeBudgetPercent()),
				fallback(key + ".fallback", r.fallback(), d.fallback()), idempotency(key + ".idempotency", r.idempotency(),
						d.idempotency()), rateLimit(key + ".rate-limit", r.rateLimit(), d.rateLimit()),
				rideThrough(key + ".ride-through", r.rideThrough(), d.rideThrough(), deadline));
	}

	private static RideThroughPolicy rideThrough(String key, GatewayProperties.RideThrough t, RideThroughPolicy d,
			Duration deadline) {
		if (t == null) {
			return d;
		}
		Duration wait = nonNegative(key + ".max-wait", t.maxWait(), d.maxWait());
		if (wait.compareTo(deadline) >= 0) {
			throw new InvalidConfigurationException(key + ".max-wait", wait.toString(),
					"less than the route's deadline (" + deadline + "), which bounds every request, waiting included");
		}
		return new RideThroughPolicy(wait, atLeast(key + ".max-waiting", t.maxWaiting(), d.maxWaiting(), 1));
	}

	private static RateLimitPolicy rateLimit(String key, GatewayProperties.RateLimit l, RateLimitPolicy d) {
		if (l == null) {
			return d;
		}
		long requests = l.requests() == null ? d.requests() : l.requests();
		if (requests < 0) {
			throw new InvalidConfigurationException(key + ".requests", l.requests(), "0 (no limit) or more requests per period");
		}
		String header = l.keyHeader() == null ? d.keyHeader() : l.keyHeader().strip();
		if (header != null && (header.isEmpty() || !header.chars().allMatch(c -> c > 0x20 && c < 0x7f && c != ':'))) {
			throw new InvalidConfigurationException(key + ".key-header", l.keyHeader(), "a header name such as X-Api-Key");
		}
		return new RateLimitPolicy(requests, positive(key + ".period", l.period(), d.period()), header);
	}

	private static IdempotencyPolicy idempotency(String key, GatewayProperties.Idempotency i, IdempotencyPolicy d) {
		if (i == null) {
			return d;
		}
		String inFlight = i.inFlight() == null ? (d.waitForInFlight() ? "wait" : "reject") : i.inFlight().strip();
		if (!inFlight.equals("reject") && !inFlight.equals("wait")) {
			throw new InvalidConfigurationException(key + ".in-flight", i.inFlight(), "reject (409 at once) or wait");
		}
		String failure = i.onStoreFailure() == null ? (d.failOpen() ? "open" : "closed") : i.onStoreFailure().strip();
		if (!failure.equals("open") && !failure.equals("closed")) {
			throw new InvalidConfigurationException(key + ".on-store-failure", i.onStoreFailure(),
					"open (forward without the key's protection) or closed (503)");
		}
		long maxAnswer = i.maxAnswerSize() == null ? d.maxAnswerSize() : i.maxAnswerSize().toBytes();
		if (maxAnswer < 0 || maxAnswer > 64L * 1024 * 1024) {
			throw new InvalidConfigurationException(key + ".max-answer-size", i.maxAnswerSize(), "a size from 0 to 64MB");
		}
		String client = i.clientHeader() == null ? d.clientHeader() : i.clientHeader().strip();
		if (client != null && (client.isEmpty() || !client.chars().allMatch(c -> c > 0x20 && c < 0x7f && c != ':'))) {
			throw new InvalidConfigurationException(key + ".client-header", i.clientHeader(), "a header name such as X-Api-Key");
		}
		return new IdempotencyPolicy(i.enabled() != null ? i.enabled() : d.enabled(),
				positive(key + ".ttl", i.ttl(), d.ttl()), inFlight.equals("wait"), maxAnswer,
				i.store5xx() != null ? i.store5xx() : d.store5xx(), client, failure.equals("open"));
	}

	private static long maxBody(String key, GatewayProperties.Route r, RoutePolicy d) {
		if (r.maxBodySize() == null) {
			return d.maxBodySize();
		}
		long bytes = r.maxBodySize().toBytes();
		if (bytes < 0) {
			throw new InvalidConfigurationException(key + ".max-body-size", r.maxBodySize().toString(),
					"0 (no limit) or a size such as 10MB");
		}
		return bytes;
	}

	private static GatewayConfig.Fallback fallback(String key, GatewayProperties.Fallback f, GatewayConfig.Fallback d) {
		if (f == null || (f.status() == null && f.body() == null && f.forward() == null && f.contentType() == null)) {
			return d;
		}
		if (f.forward() != null) {
			if (f.status() != null || f.body() != null || f.contentType() != null) {
				throw new InvalidConfigurationException(key + ".forward", f.forward(),
						"either forward or a static response (status, body, content-type), not both");
			}
			if (!f.forward().startsWith("/") || f.forward().startsWith("//") || f.forward().contains("..")) {
				throw new InvalidConfigurationException(key + ".forward", f.forward(),
						"a path on this gateway such as /fallback/catalog");
			}
			return new GatewayConfig.Fallback(0, null, null, f.forward());
		}
		int status = f.status() == null ? 200 : f.status();
		if (status < 200 || status > 599) {
			throw new InvalidConfigurationException(key + ".status", status, ">= 200 and <= 599");
		}
		String type = f.contentType() == null ? "application/json" : f.contentType();
		try {
			org.springframework.http.MediaType.parseMediaType(type);
		}
		catch (org.springframework.http.InvalidMediaTypeException e) {
			throw new InvalidConfigurationException(key + ".content-type", type, "a media type such as application/json");
		}
		return new GatewayConfig.Fallback(status, f.body() == null ? "" : f.body(), type, null);
	}

}
