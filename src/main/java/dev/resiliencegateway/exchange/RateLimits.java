package dev.resiliencegateway.exchange;

import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import jakarta.servlet.http.HttpServletRequest;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.web.servlet.function.ServerResponse;

import dev.resiliencegateway.config.TrustedProxies;
import dev.resiliencegateway.exchange.transport.Problems;
import dev.resiliencegateway.idempotency.Fingerprint;
import dev.resiliencegateway.limits.RateLimitPolicy;
import dev.resiliencegateway.limits.RateLimiter;

/**
 * A route's per-client rate limit, checked before anything else of the exchange: a token from the
 * client's bucket, or 429 problem+json with {@code Retry-After} and the {@code RateLimit-Limit},
 * {@code RateLimit-Remaining} and {@code RateLimit-Reset} fields (draft-ietf-httpapi-ratelimit-headers).
 * When the shared store fails the request goes through (counted, and logged at most every 10 s): a
 * limit protects the replicas, and refusing every request while Redis is down would be the outage
 * it exists to prevent.
 */
final class RateLimits {

	private static final Logger log = LoggerFactory.getLogger(RateLimits.class);

	private final RateLimiter limiter;

	private final TrustedProxies trusted;

	private final GatewayMetrics metrics;

	private final AtomicLong lastWarning = new AtomicLong(Long.MIN_VALUE);

	RateLimits(RateLimiter limiter, TrustedProxies trusted, GatewayMetrics metrics) {
		this.limiter = limiter;
		this.trusted = trusted;
		this.metrics = metrics;
	}

	/** The 429 for a client over its limit, or {@code null} to go on. */
	ServerResponse check(Route route, HttpServletRequest request, String requestId) {
		RateLimitPolicy policy = route.policy.rateLimit();
		String client;
		if (policy.keyHeader() != null) {
			String value = request.getHeader(policy.keyHeader());
			client = value == null ? "anonymous" : "h:" + Fingerprint.ofClient(value);
		}
		else {
			client = "ip:" + address(request, trusted);
		}
		RateLimiter.Decision d;
		try {
			d = limiter.tryTake(route.id + ":" + client, policy);
		}
		catch (RuntimeException e) {
			metrics.rateLimit(route.id, "store-failure");
			long now = System.nanoTime();
			long last = lastWarning.get();
			if ((last == Long.MIN_VALUE || now - last > TimeUnit.SECONDS.toNanos(10)) && lastWarning.compareAndSet(last, now)) {
				log.warn("the rate limit store failed ({}); route '{}' lets requests through unlimited", e.toString(), route.id);
			}
			return null;
		}
		if (d.allowed()) {
			metrics.rateLimit(route.id, "allowed");
			return null;
		}
		metrics.rateLimit(route.id, "refused");
		long seconds = Math.max(1, TimeUnit.NANOSECONDS.toSeconds(d.waitNanos() + TimeUnit.SECONDS.toNanos(1) - 1));
		return Problems.of(429, "Too many requests", requestId, route.id, "more than " + policy.requests()
				+ " requests per " + policy.period().toMillis() + " ms from this client on route '" + route.id
				+ "'; retry after " + seconds + " s",
				Map.of("Retry-After", String.valueOf(seconds), "RateLimit-Limit", String.valueOf(policy.requests()),
						"RateLimit-Remaining", "0", "RateLimit-Reset", String.valueOf(seconds)));
	}

	/**
	 * The client's address: the peer, or when the peer is a trusted proxy, the rightmost
	 * {@code X-Forwarded-For} entry that is not a trusted proxy (entries further left are the client's
	 * own word and could be anything).
	 */
	static String address(HttpServletRequest request, TrustedProxies trusted) {
		String client = request.getRemoteAddr();
		if (!trusted.trusts(client)) {
			return client;
		}
		List<String> hops = new ArrayList<>();
		Enumeration<String> values = request.getHeaders("X-Forwarded-For");
		while (values != null && values.hasMoreElements()) {
			for (String hop : values.nextElement().split(",")) {
				if (!hop.isBlank()) {
					hops.add(hop.strip());
				}
			}
		}
		for (int i = hops.size() - 1; i >= 0; i--) {
			client = hops.get(i);
			// only an address literal is looked at (a name would make trusts() ask DNS)
			if (!client.chars().allMatch(c -> Character.digit(c, 16) >= 0 || c == '.' || c == ':') || !trusted.trusts(client)) {
				break;
			}
		}
		return client;
	}

}
