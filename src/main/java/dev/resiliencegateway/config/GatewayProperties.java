package dev.resiliencegateway.config;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * The gateway's own keys, under {@code resilience.gateway}. Every field may be left out; defaults
 * live in {@link GatewayConfig} as named constants, and {@link GatewayConfigValidator} checks
 * everything at startup with messages that name the key, the value and what is expected.
 *
 * @param trustedProxies peers (IP addresses or CIDR ranges) whose {@code X-Forwarded-*} and
 * {@code Forwarded} headers are kept and appended to; from any other peer they are replaced
 * @param decisionHeaders add {@code X-Gateway-Replica} and {@code X-Gateway-Attempts} to responses
 * @param upstream the HTTP client that talks to replicas
 * @param pools named pools of replicas; a route's {@code lb://NAME} uri sends to pool NAME
 * @param routeDefaults retry and timeout settings for every route to a pool
 * @param routes per-route overrides of {@code route-defaults}, keyed by Gateway route id
 * @param admin the operator credential of the management port
 * @param edge limits and rules for what clients may send (docs/security.md)
 * @param idempotency where routes that keep {@code Idempotency-Key}s keep them
 * @param rateLimits where per-client rate limits keep their token buckets
 * @param accessLog one line per request on logger {@code resilience.gateway.access}
 */
@ConfigurationProperties("resilience.gateway")
public record GatewayProperties(@DefaultValue List<String> trustedProxies, @DefaultValue("false") boolean decisionHeaders,
		@DefaultValue Upstream upstream, @DefaultValue Map<String, Pool> pools, @DefaultValue Route routeDefaults,
		@DefaultValue Map<String, Route> routes, @DefaultValue Admin admin, @DefaultValue Edge edge,
		@DefaultValue KeyStore idempotency, @DefaultValue LimitStore rateLimits, @DefaultValue AccessLog accessLog,
		@DefaultValue ConfigWatch configWatch) {

	/**
	 * @param enabled reread the configuration when its files change (those named by
	 * {@code spring.config.location}, {@code additional-location} and {@code import}), as a refresh
	 * would (default false; true in the kubernetes profile, where the ConfigMap is a mounted volume)
	 * @param interval how often the files are compared (default 5s)
	 */
	public record ConfigWatch(@DefaultValue("false") boolean enabled, @DefaultValue("5s") Duration interval) {
	}

	/**
	 * @param enabled write one line per request (time, method, path, route, pool, replicas tried,
	 * attempts, hedged, status, bytes, duration, request id, trace id) to logger
	 * {@code resilience.gateway.access} at INFO (default false: a line per request costs CPU, and
	 * most platforms log requests at their load balancer already)
	 */
	public record AccessLog(@DefaultValue("false") boolean enabled) {
	}

	/**
	 * Where per-client rate limits keep their token buckets.
	 *
	 * @param store {@code memory} (default: each copy enforces the limit alone) or {@code redis}
	 * (every copy takes from the same buckets)
	 * @param maxKeys clients tracked in memory at most (default 100000)
	 * @param keyPrefix put before every Redis key (default {@code resilience-gateway:rate:})
	 */
	public record LimitStore(@DefaultValue("memory") Store store, @DefaultValue("100000") long maxKeys,
			@DefaultValue("resilience-gateway:rate:") String keyPrefix) {
	}

	/** Where {@code Idempotency-Key}s and their answers are kept. */
	public enum Store {
		/** This gateway's memory (Caffeine, bounded): one gateway, nothing to run. */
		MEMORY,
		/** Redis ({@code spring.data.redis.*}): every gateway copy pointing at it shares the keys. */
		REDIS
	}

	/**
	 * @param store {@code memory} (default) or {@code redis}
	 * @param maxKeys keys kept in memory at most, least recently used first out (default 100000)
	 * @param keyPrefix put before every Redis key (default {@code resilience-gateway:idempotency:})
	 */
	public record KeyStore(@DefaultValue("memory") Store store, @DefaultValue("100000") long maxKeys,
			@DefaultValue("resilience-gateway:idempotency:") String keyPrefix) {
	}

	/**
	 * What the gateway accepts from clients, checked before any route is chosen. Limits that Tomcat
	 * enforces by itself (framing, field syntax, read timeouts) are set under {@code server.*}; see
	 * docs/security.md.
	 *
	 * @param maxRequestLine longest request line (method, target, version) (default 8KB); longer: 414
	 * @param maxHeaderSize all header fields together (default 16KB); more: 431
	 * @param maxHeaderCount header fields (default 100); more: 431
	 * @param underscoreHeaders a header name with {@code _}: {@code reject} (400, default) or
	 * {@code drop} (not forwarded); backends such as CGI and nginx read {@code _} and {@code -} alike
	 * @param extraMethods methods forwarded besides GET, HEAD, POST, PUT, DELETE, PATCH and OPTIONS,
	 * exactly as spelled (methods are case-sensitive); others get 501, TRACE and CONNECT 405
	 * @param maxInFlight requests in flight on the traffic port; beyond it, 503 with Retry-After at once
	 * (default 1024, Envoy's max_requests)
	 */
	public record Edge(DataSize maxRequestLine, DataSize maxHeaderSize, Integer maxHeaderCount, String underscoreHeaders,
			@DefaultValue List<String> extraMethods, Integer maxInFlight) {
	}

	/**
	 * The operator credential for the management port's write operations (drain, eject, restore,
	 * detect-only) and for health details. Without a password, writes are refused.
	 *
	 * @param username user name for HTTP Basic (default admin)
	 * @param password {@code {bcrypt}$2a$...} (recommended) or {@code {noop}plain}; unset: writes refused
	 */
	public record Admin(@DefaultValue("admin") String username, String password) {
	}

	/**
	 * @param connectTimeout time to open a connection to a replica (default 1s); a failure here is
	 * a connect failure, safe to retry for any method
	 * @param maxConnectionsPerReplica pooled keep-alive connections per replica (default 512)
	 * @param maxConnections pooled connections in all (default 4096)
	 * @param idleTimeout a pooled connection idle this long is closed (default 30s)
	 * @param maxResponseHeaderSize a replica's response header fields together (default 8KB, nginx's
	 * proxy_buffer_size); more: 502
	 */
	public record Upstream(Duration connectTimeout, Integer maxConnectionsPerReplica, Integer maxConnections,
			Duration idleTimeout, DataSize maxResponseHeaderSize) {
	}

	/**
	 * @param replicas the replicas, when listed here; leave out to take them from the Spring Cloud
	 * {@code DiscoveryClient} under the pool's name (or {@code service-id})
	 * @param serviceId the discovery service id when it differs from the pool name
	 * @param discoveryRefresh how often discovered replicas are refreshed (default 5s)
	 * @param healthCheck active health checks
	 * @param outlier passive detection (outlier ejection)
	 * @param slowStart ramp-up of readmitted and new replicas
	 * @param panicThresholdPercent when fewer than this share of replicas take traffic, route to all
	 * of them (default 50)
	 * @param maxConcurrentPerReplica requests in flight to one replica; a replica at the limit is
	 * skipped, and when all are, the request gets 503 at once (default 512)
	 */
	public record Pool(List<ReplicaEntry> replicas, String serviceId, Duration discoveryRefresh,
			@DefaultValue HealthCheck healthCheck, @DefaultValue Outlier outlier, @DefaultValue SlowStart slowStart,
			Integer panicThresholdPercent, Integer maxConcurrentPerReplica, @DefaultValue Tls tls) {
	}

	/**
	 * How the gateway talks TLS to the pool's {@code https://} replicas (requests and health checks).
	 *
	 * @param bundle a Spring Boot SSL bundle ({@code spring.ssl.bundle.pem.NAME} or {@code .jks.NAME}):
	 * its trust store decides which replica certificates are trusted, its key store (if any) is the
	 * client certificate for mutual TLS (default: none, the JDK's trusted CAs and no client certificate)
	 * @param verifyHostname the replica's certificate must name the host of its URL (default true)
	 */
	public record Tls(String bundle, Boolean verifyHostname) {
	}

	/**
	 * @param url base URL, e.g. {@code http://10.0.0.5:8080} (a path prefix is allowed)
	 * @param weight static weight, at least 1 (default 1)
	 */
	public record ReplicaEntry(String url, Integer weight) {
	}

	/**
	 * @param enabled run active checks (default true)
	 * @param path GET this path on each replica (default /actuator/health)
	 * @param interval time between checks of one replica (default 1s)
	 * @param noTrafficInterval time between checks while no request went to the pool since the last
	 * round and every replica is healthy (default 10s, never below {@code interval}; Envoy's
	 * {@code no_traffic_interval}): an idle gateway does not keep its replicas busy
	 * @param timeout a check slower than this failed (default 500ms)
	 * @param unhealthyThreshold failed checks in a row to mark a replica down (default 2)
	 * @param healthyThreshold passed checks in a row to mark it up again (default 2)
	 * @param maxPerInterval most checks one round sends (default 100): in a larger pool the healthy
	 * replicas take turns, while every replica out of rotation or ramping up is checked each round
	 */
	public record HealthCheck(Boolean enabled, String path, Duration interval, Duration noTrafficInterval, Duration timeout,
			Integer unhealthyThreshold, Integer healthyThreshold, Integer maxPerInterval) {
	}

	/**
	 * Passive detection. The failure-rate and slow-call-rate rules come from the replica's Resilience4j
	 * circuit breaker, configured the standard way under
	 * {@code resilience4j.circuitbreaker.configs.replica} (or per replica under
	 * {@code resilience4j.circuitbreaker.instances."POOL@HOST:PORT"}).
	 *
	 * @param consecutiveFailures eject after this many failures in a row (default 5)
	 * @param baseEjectionTime first ejection's length (default 5s), doubled per repeated ejection
	 * @param maxEjectionTime cap on one ejection (default 2m)
	 * @param maxEjectionPercent never eject more than this share of the pool (default 50)
	 * @param detectOnly log and report "would eject" without ejecting (default false)
	 * @param firstProbeInterval the first probe of an ejected replica (and the first recheck of one its
	 * health check marked down) goes this long after it left rotation (default 100ms); each failed probe
	 * doubles the wait, up to {@code probe-interval}
	 * @param probeInterval the longest wait between probes of a replica out of rotation (default 800ms)
	 * @param probePath when an ejected replica's probe is due and no idempotent request comes to ride
	 * on, GET this path on it instead (a synthetic probe); unset: probes ride on requests only
	 * @param failureOutlierPercent eject a replica failing at least this share of its last calls while
	 * another replica in rotation fails at most half as often (default 25; 0 turns it off)
	 */
	public record Outlier(Integer consecutiveFailures, Duration baseEjectionTime, Duration maxEjectionTime,
			Integer maxEjectionPercent, Boolean detectOnly, Duration firstProbeInterval, Duration probeInterval,
			String probePath, Integer failureOutlierPercent) {
	}

	/**
	 * @param window ramp to full weight over this window (default 10s; 0 turns slow start off)
	 * @param initialShare start at this share of full weight (default 0.1)
	 */
	public record SlowStart(Duration window, Double initialShare) {
	}

	/**
	 * @param maxAttempts attempts per request in all, first one and hedges included (default 3)
	 * @param perTryTimeout longest wait for a replica to start answering, and longest silence while
	 * it streams (default 2s)
	 * @param deadline the whole request, all attempts included (default 10s); wins over per-try
	 * @param backoffBase full-jitter exponential backoff before a retry: base (default 25ms)
	 * @param backoffCap and cap (default 250ms)
	 * @param retryBudgetPercent retries allowed as a share of requests over the last 10 s (default 20)
	 * @param retryBudgetFloor retries per second allowed whatever the traffic (default 3)
	 * @param maxRetryAfter a replica's 503/429 {@code Retry-After} up to this long is waited out before
	 * retrying elsewhere; longer ones are passed to the client (default 1s)
	 * @param bufferLimit request bodies of retryable requests up to this size are buffered so they can
	 * be sent again; larger ones stream and are not retried once sent (default 1MB)
	 * @param maxConcurrent requests in flight on this route; more get 503 at once (default 10000)
	 * @param maxBodySize largest request body (default 10MB, 0 for no limit); a larger Content-Length
	 * gets 413 before any byte is read, a chunked body that grows past it 413 and an aborted upstream
	 * request; the connection is closed either way
	 * @param hedge hedged requests
	 * @param fallback what to answer instead of the gateway's own 502/503/504
	 * @param idempotency keep {@code Idempotency-Key}s of POST and PATCH requests and replay their answers
	 * @param rateLimit requests per client and period; beyond it, 429
	 * @param rideThrough wait for a replica to come back instead of answering 503 when none can take the request
	 */
	public record Route(Integer maxAttempts, Duration perTryTimeout, Duration deadline, Duration backoffBase,
			Duration backoffCap, Integer retryBudgetPercent, Integer retryBudgetFloor, Duration maxRetryAfter,
			DataSize bufferLimit, Integer maxConcurrent, DataSize maxBodySize, @DefaultValue Hedge hedge, @DefaultValue Fallback fallback,
			@DefaultValue Idempotency idempotency, @DefaultValue RateLimit rateLimit,
			@DefaultValue RideThrough rideThrough) {
	}

	/**
	 * Ride-through (off by default): when no replica can take a request (all down, ejected or
	 * refusing connections), the request waits up to {@code max-wait} for one to come back (a health
	 * check or probe passing, a discovered replica appearing) instead of getting 503 at once. Waiting
	 * requests are let go gradually, a few per replica back at a time; a POST waits only if nothing
	 * of it was sent. See docs/architecture.md.
	 *
	 * @param maxWait the longest a request waits; less than the route's deadline (default 0: off)
	 * @param maxWaiting requests waiting at once on the route; beyond it, 503 at once (default 1000)
	 */
	public record RideThrough(Duration maxWait, Integer maxWaiting) {
	}

	/**
	 * A token bucket per client: {@code requests} per {@code period}, as a burst and then evenly;
	 * beyond it, 429 problem+json with {@code Retry-After} and {@code RateLimit-*} fields.
	 *
	 * @param requests requests per period and client (default none: no limit)
	 * @param period the period (default 1s)
	 * @param keyHeader a header naming the client (an API key); unset: the client's IP address, through
	 * {@code trusted-proxies}' {@code X-Forwarded-For}
	 */
	public record RateLimit(Long requests, Duration period, String keyHeader) {
	}

	/**
	 * The gateway keeps each {@code Idempotency-Key} of a POST or PATCH on this route: the first
	 * request executes, a retry with the same key gets the first one's answer back
	 * ({@code Idempotent-Replayed: true}) without reaching a replica. See docs/idempotency.md.
	 *
	 * @param enabled keep keys on this route (default false: keys pass through untouched)
	 * @param ttl how long a key and its answer are kept (default 24h)
	 * @param inFlight a request whose key is still in flight: {@code reject} with 409 (default) or
	 * {@code wait} for the first one's answer, up to the route's deadline
	 * @param maxAnswerSize the largest answer body kept (default 1MB)
	 * @param store5xx keep a replica's 5xx answer too (default false: the key is freed, a retry executes)
	 * @param clientHeader a request header (an API key, Authorization) whose value scopes keys to a client
	 * @param onStoreFailure {@code open} (default: forward without the key's protection, count
	 * {@code gateway.idempotency{result=store-failure}}) or {@code closed} (503)
	 */
	public record Idempotency(Boolean enabled, Duration ttl, String inFlight, DataSize maxAnswerSize, Boolean store5xx,
			String clientHeader, String onStoreFailure) {
	}

	/**
	 * Answer given in place of the gateway's own failure (a 502, 503 or 504 problem: no replica could
	 * take the request, every attempt failed, or time ran out). A replica's own 5xx answer is relayed
	 * as it is. Either a static response or a forward to a path on this gateway (another route, whose
	 * failures are then answered without a second fallback).
	 *
	 * @param status status of the static response (default 200)
	 * @param body body of the static response
	 * @param contentType its media type (default application/json)
	 * @param forward a path such as {@code /fallback/catalog} to forward the request to instead
	 */
	public record Fallback(Integer status, String body, String contentType, String forward) {
	}

	/**
	 * Hedged requests ("The Tail at Scale"): idempotent requests only.
	 *
	 * @param enabled send a second attempt to another replica when the first is slow (default false)
	 * @param delay how long the first attempt may take before the hedge; leave out to use the route's
	 * recently observed p95 latency
	 * @param minDelay floor of the p95-derived delay (default 10ms)
	 * @param budgetPercent hedges allowed as a share of requests (default 5)
	 */
	public record Hedge(Boolean enabled, Duration delay, Duration minDelay, Integer budgetPercent) {
	}

}
