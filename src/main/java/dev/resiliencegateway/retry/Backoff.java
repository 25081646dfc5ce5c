package dev.resiliencegateway.retry;

import java.time.Duration;
import java.util.random.RandomGenerator;

/**
 * Full-jitter exponential backoff (AWS architecture blog, "Exponential Backoff And Jitter"): the wait
 * before retry n is uniform in [0, min(cap, base x 2^(n-1))). Spreads retries of many clients apart.
 */
public record Backoff(Duration base, Duration cap) {

	public static final Backoff DEFAULT = new Backoff(Duration.ofMillis(25), Duration.ofMillis(250));

	public Backoff {
		if (base.isNegative() || cap.compareTo(base) < 0) {
			throw new IllegalArgumentException("backoff: base " + base + ", cap " + cap + " (expected: 0 <= base <= cap)");
		}
	}

	/** Nanos to wait before the {@code retry}-th retry (1 for the first). */
	public long delayNanos(int retry, RandomGenerator random) {
		long ceiling = Math.min(cap.toNanos(), base.toNanos() << Math.min(30, Math.max(0, retry - 1)));
		return ceiling <= 0 ? 0 : (long) (random.nextDouble() * ceiling);
	}

}
