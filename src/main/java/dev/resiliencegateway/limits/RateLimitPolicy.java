package dev.resiliencegateway.limits;

import java.time.Duration;

/**
 * A route's rate limit per client: a token bucket of {@code requests} tokens, refilled greedily over
 * {@code period} (so 100 per second allows a burst of 100, then one every 10 ms).
 *
 * @param requests requests per period and client; 0: no limit
 * @param period the period (default 1 s)
 * @param keyHeader the header whose value names the client (an API key); {@code null}: the client's
 * IP address (through trusted proxies' {@code X-Forwarded-For})
 */
public record RateLimitPolicy(long requests, Duration period, String keyHeader) {

	public static final RateLimitPolicy OFF = new RateLimitPolicy(0, Duration.ofSeconds(1), null);

	public boolean enabled() {
		return requests > 0;
	}

}
