package dev.resiliencegateway.limits;

import java.time.Duration;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;

import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;

/**
 * Bucket4j's local token buckets, one per client key, in a bounded Caffeine cache: one gateway's
 * limit. With N copies each enforces it alone, so a client gets N times the limit; use Redis there.
 */
public final class LocalRateLimiter implements RateLimiter {

	private final Cache<String, Bucket> buckets;

	/** @param maxKeys clients tracked at most (least recently seen first out) */
	public LocalRateLimiter(long maxKeys, Duration idleExpiry) {
		this.buckets = Caffeine.newBuilder().maximumSize(maxKeys).expireAfterAccess(idleExpiry).build();
	}

	@Override
	public Decision tryTake(String key, RateLimitPolicy policy) {
		Bucket bucket = buckets.get(key, k -> Bucket.builder()
			.addLimit(Bandwidth.builder().capacity(policy.requests()).refillGreedy(policy.requests(), policy.period()).build())
			.build());
		ConsumptionProbe probe = bucket.tryConsumeAndReturnRemaining(1);
		return new Decision(probe.isConsumed(), probe.getRemainingTokens(), probe.getNanosToWaitForRefill());
	}

}
