package dev.resiliencegateway.limits;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.BucketConfiguration;
import io.github.bucket4j.ConsumptionProbe;
import io.github.bucket4j.distributed.proxy.ProxyManager;

/**
 * Bucket4j's token buckets behind a {@link ProxyManager}: Lettuce on Redis for a fleet (one bucket per
 * key in Redis, updated by compare-and-swap, so every copy takes from the same tokens), or Caffeine
 * in this gateway's memory. Keys expire once their bucket would be full again.
 */
public final class Bucket4jRateLimiter implements RateLimiter {

	private final ProxyManager<String> buckets;

	private final String prefix;

	private final Map<RateLimitPolicy, Supplier<BucketConfiguration>> configurations = new ConcurrentHashMap<>();

	public Bucket4jRateLimiter(ProxyManager<String> buckets, String prefix) {
		this.buckets = buckets;
		this.prefix = prefix;
	}

	@Override
	public Decision tryTake(String key, RateLimitPolicy policy) {
		Supplier<BucketConfiguration> configuration = configurations.computeIfAbsent(policy, p -> {
			BucketConfiguration c = BucketConfiguration.builder()
				.addLimit(Bandwidth.builder().capacity(p.requests()).refillGreedy(p.requests(), p.period()).build())
				.build();
			return () -> c;
		});
		ConsumptionProbe probe = buckets.builder().build(prefix + key, configuration).tryConsumeAndReturnRemaining(1);
		return new Decision(probe.isConsumed(), probe.getRemainingTokens(), probe.getNanosToWaitForRefill());
	}

}
