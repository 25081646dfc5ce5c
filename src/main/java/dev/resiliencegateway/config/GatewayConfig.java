package dev.resiliencegateway.config;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

import dev.resiliencegateway.health.HealthPolicy;
import dev.resiliencegateway.idempotency.IdempotencyPolicy;
import dev.resiliencegateway.limits.RateLimitPolicy;
import dev.resiliencegateway.pool.Replica;

/**
 * The validated, defaulted configuration the gateway runs with. Built once at startup by
 * {@link GatewayConfigValidator}; holds no runtime state.
 */
public record GatewayConfig(TrustedProxies trustedProxies, boolean decisionHeaders, UpstreamSettings upstream,
		Map<String, PoolConfig> pools, RoutePolicy routeDefaults, Map<String, RoutePolicy> routes, EdgeSettings edge) {

	public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(1);

	public static final int DEFAULT_MAX_CONNECTIONS_PER_REPLICA = 512;

	public static final int DEFAULT_MAX_CONNECTIONS = 4096;

	public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(30);

	/** nginx's proxy_buffer_size; below Tomcat's response head buffer (server.tomcat.max-http-response-header-size, 16KB here). */
	public static final int DEFAULT_MAX_RESPONSE_HEADER_SIZE = 8 * 1024;

	public static final long DEFAULT_MAX_BODY_SIZE = 10L * 1024 * 1024;

	public static final EdgeSettings DEFAULT_EDGE = new EdgeSettings(8 * 1024, 16 * 1024, 100, false, Set.of(), 1024);

	public static final Duration DEFAULT_DISCOVERY_REFRESH = Duration.ofSeconds(5);

	public static final String DEFAULT_HEALTH_PATH = "/actuator/health";

	public static final Duration DEFAULT_HEALTH_INTERVAL = Duration.ofSeconds(1);

	public static final Duration DEFAULT_HEALTH_TIMEOUT = Duration.ofMillis(500);

	/** Most checks one round of a pool sends: a 1000-replica pool checks each healthy replica every 10 rounds. */
	public static final int DEFAULT_HEALTH_MAX_PER_INTERVAL = 100;

	/** Envoy's {@code no_traffic_interval} is 60 s; 10 s keeps an idle pool's view as fresh as Kubernetes' default probe period. */
	public static final Duration DEFAULT_HEALTH_NO_TRAFFIC_INTERVAL = Duration.ofSeconds(10);

	public static final int DEFAULT_MAX_ATTEMPTS = 3;

	public static final Duration DEFAULT_PER_TRY_TIMEOUT = Duration.ofSeconds(2);

	public static final Duration DEFAULT_DEADLINE = Duration.ofSeconds(10);

	public static final RoutePolicy DEFAULT_ROUTE = new RoutePolicy(DEFAULT_MAX_ATTEMPTS, DEFAULT_PER_TRY_TIMEOUT,
			DEFAULT_DEADLINE, Duration.ofMillis(25), Duration.ofMillis(250), 20, 3, Duration.ofSeconds(1), 1024 * 1024,
			10_000, DEFAULT_MAX_BODY_SIZE, false, null, Duration.ofMillis(10), 5, null, IdempotencyPolicy.OFF,
			RateLimitPolicy.OFF, RideThroughPolicy.OFF);

	public static final int DEFAULT_MAX_CONCURRENT_PER_REPLICA = 512;

	/** The route policy for a route id (its override, or the defaults). */
	public RoutePolicy routePolicy(String routeId) {
		return routes.getOrDefault(routeId, routeDefaults);
	}

	public record UpstreamSettings(Duration connectTimeout, int maxConnectionsPerReplica, int maxConnections,
			Duration idleTimeout, int maxResponseHeaderSize) {
	}

	/**
	 * @param dropUnderscoreHeaders drop header fields whose name has {@code _} instead of rejecting the request
	 * @param extraMethods methods allowed besides the standard ones, exactly as spelled
	 * @param maxInFlight requests in flight on the traffic port beyond which new ones get 503 at once
	 */
	public record EdgeSettings(int maxRequestLine, int maxHeaderSize, int maxHeaderCount, boolean dropUnderscoreHeaders,
			Set<String> extraMethods, int maxInFlight) {
	}

	/**
	 * @param replicas the configured replicas, or {@code null} when they come from discovery
	 */
	/** @param probePath the synthetic probe's path, or {@code null}: probes ride on requests only */
	public record PoolConfig(String name, List<Replica> replicas, String serviceId, Duration discoveryRefresh,
			HealthCheckSettings healthCheck, HealthPolicy policy, String probePath, int maxConcurrentPerReplica,
			TlsSettings tls) {

		public boolean fromDiscovery() {
			return replicas == null;
		}
	}

	/**
	 * TLS to a pool's https replicas.
	 *
	 * @param bundle the SSL bundle's name, or {@code null} for the JDK's trusted CAs and no client certificate
	 */
	public record TlsSettings(String bundle, boolean verifyHostname) {

		public static final TlsSettings DEFAULT = new TlsSettings(null, true);

	}

	/**
	 * @param interval between rounds of checks while the pool carries traffic or a replica is out of rotation
	 * @param noTrafficInterval between rounds while the pool is quiet and whole (at least {@code interval})
	 * @param maxPerInterval most checks one round sends ({@link ActiveChecksBudget})
	 */
	public record HealthCheckSettings(boolean enabled, String path, Duration interval, Duration noTrafficInterval,
			Duration timeout, int maxPerInterval) {

		/** Without a limit per round (tests). */
		public HealthCheckSettings(boolean enabled, String path, Duration interval, Duration noTrafficInterval,
				Duration timeout) {
			this(enabled, path, interval, noTrafficInterval, timeout, Integer.MAX_VALUE);
		}

	}

	/**
	 * @param maxBodySize largest request body in bytes, 0 for no limit
	 * @param hedgeDelay fixed hedge delay, or {@code null} for the route's observed p95
	 */
	public record RoutePolicy(int maxAttempts, Duration perTryTimeout, Duration deadline, Duration backoffBase,
			Duration backoffCap, int retryBudgetPercent, int retryBudgetFloor, Duration maxRetryAfter, long bufferLimit,
			int maxConcurrent, long maxBodySize, boolean hedge, Duration hedgeDelay, Duration hedgeMinDelay, int hedgeBudgetPercent,
			Fallback fallback, IdempotencyPolicy idempotency, RateLimitPolicy rateLimit, RideThroughPolicy rideThrough) {

		public RoutePolicy withAttempts(int maxAttempts, Duration perTryTimeout, Duration deadline) {
			return new RoutePolicy(maxAttempts, perTryTimeout, deadline, backoffBase, backoffCap, retryBudgetPercent,
					retryBudgetFloor, maxRetryAfter, bufferLimit, maxConcurrent, maxBodySize, hedge, hedgeDelay,
					hedgeMinDelay, hedgeBudgetPercent, fallback, idempotency, rateLimit, rideThrough);
		}

		public RoutePolicy withBackoff(Duration base, Duration cap) {
			return new RoutePolicy(maxAttempts, perTryTimeout, deadline, base, cap, retryBudgetPercent, retryBudgetFloor,
					maxRetryAfter, bufferLimit, maxConcurrent, maxBodySize, hedge, hedgeDelay, hedgeMinDelay,
					hedgeBudgetPercent, fallback, idempotency, rateLimit, rideThrough);
		}

		public RoutePolicy withLimits(long bufferLimit, int maxConcurrent, long maxBodySize) {
			return new RoutePolicy(maxAttempts, perTryTimeout, deadline, backoffBase, backoffCap, retryBudgetPercent,
					retryBudgetFloor, maxRetryAfter, bufferLimit, maxConcurrent, maxBodySize, hedge, hedgeDelay,
					hedgeMinDelay, hedgeBudgetPercent, fallback, idempotency, rateLimit, rideThrough);
		}

		/** @param delay fixed hedge delay, or {@code null} for the route's observed p95 */
		public RoutePolicy withHedging(boolean hedge, Duration delay, Duration minDelay, int budgetPercent) {
			return new RoutePolicy(maxAttempts, perTryTimeout, deadline, backoffBase, backoffCap, retryBudgetPercent,
					retryBudgetFloor, maxRetryAfter, bufferLimit, maxConcurrent, maxBodySize, hedge, delay, minDelay,
					budgetPercent, fallback, idempotency, rateLimit, rideThrough);
		}

		public RoutePolicy withIdempotency(IdempotencyPolicy idempotency) {
			return new RoutePolicy(maxAttempts, perTryTimeout, deadline, backoffBase, backoffCap, retryBudgetPercent,
					retryBudgetFloor, maxRetryAfter, bufferLimit, maxConcurrent, maxBodySize, hedge, hedgeDelay,
					hedgeMinDelay, hedgeBudgetPercent, fallback, idempotency, rateLimit, rideThrough);
		}

		public RoutePolicy withRateLimit(RateLimitPolicy rateLimit) {
			return new RoutePolicy(maxAttempts, perTryTimeout, deadline, backoffBase, backoffCap, retryBudgetPercent,
					retryBudgetFloor, maxRetryAfter, bufferLimit, maxConcurrent, maxBodySize, hedge, hedgeDelay,
					hedgeMinDelay, hedgeBudgetPercent, fallback, idempotency, rateLimit, rideThrough);
		}

		public RoutePolicy withRideThrough(RideThroughPolicy rideThrough) {
			return new RoutePolicy(maxAttempts, perTryTimeout, deadline, backoffBase, backoffCap, retryBudgetPercent,
					retryBudgetFloor, maxRetryAfter, bufferLimit, maxConcurrent, maxBodySize, hedge, hedgeDelay,
					hedgeMinDelay, hedgeBudgetPercent, fallback, idempotency, rateLimit, rideThrough);
		}

		public RoutePolicy withFallback(Fallback fallback) {
			return new RoutePolicy(maxAttempts, perTryTimeout, deadline, backoffBase, backoffCap, retryBudgetPercent,
					retryBudgetFloor, maxRetryAfter, bufferLimit, maxConcurrent, maxBodySize, hedge, hedgeDelay,
					hedgeMinDelay, hedgeBudgetPercent, fallback, idempotency, rateLimit, rideThrough);
		}

	}

	/**
	 * Ride-through: when no replica of the pool can take a request, it waits up to {@code maxWait} for
	 * one to come back instead of getting 503 at once.
	 *
	 * @param maxWait the longest a request waits (0: off, the 503 comes at once)
	 * @param maxWaiting requests waiting at once on the route; beyond it, 503 at once
	 */
	public record RideThroughPolicy(Duration maxWait, int maxWaiting) {

		public static final RideThroughPolicy OFF = new RideThroughPolicy(Duration.ZERO, 1000);

		public boolean enabled() {
			return !maxWait.isZero() && !maxWait.isNegative();
		}

	}

	/**
	 * A route's answer in place of the gateway's own failure: a static response, or (when
	 * {@code forward} is set) a forward to that path.
	 */
	public record Fallback(int status, String body, String contentType, String forward) {

		public boolean forwards() {
			return forward != null;
		}

	}

}
