package dev.resiliencegateway.limits;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

import io.github.bucket4j.distributed.ExpirationAfterWriteStrategy;
import io.github.bucket4j.redis.lettuce.Bucket4jLettuce;
import io.lettuce.core.RedisClient;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;

/**
 * Token buckets in Redis (Bucket4j's compare-and-swap Lettuce proxy), shared by every gateway copy
 * that points at the same Redis ({@code spring.data.redis.*}): N copies enforce one limit. The
 * connection is made on first use, not at startup, so the gateway starts (and a route fails open)
 * while Redis is down; a failed connect is tried again at most once a second.
 */
public final class RedisRateLimiter implements RateLimiter {

	private final LettuceConnectionFactory factory;

	private final String prefix;

	private final Duration timeout;

	private volatile Bucket4jRateLimiter connected;

	private volatile long lastFailure = Long.MIN_VALUE;

	public RedisRateLimiter(LettuceConnectionFactory factory, String prefix, Duration timeout) {
		this.factory = factory;
		this.prefix = prefix;
		this.timeout = timeout;
	}

	@Override
	public Decision tryTake(String key, RateLimitPolicy policy) {
		return limiter().tryTake(key, policy);
	}

	private Bucket4jRateLimiter limiter() {
		Bucket4jRateLimiter l = connected;
		if (l != null) {
			return l;
		}
		synchronized (this) {
			if (connected != null) {
				return connected;
			}
			long now = System.nanoTime();
			if (lastFailure != Long.MIN_VALUE && now - lastFailure < TimeUnit.SECONDS.toNanos(1)) {
				throw new IllegalStateException("Redis unreachable (a connect failed less than a second ago)");
			}
			try {
				RedisClient client = (RedisClient) factory.getRequiredNativeClient();
				var connection = client.connect(RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE));
				connected = new Bucket4jRateLimiter(Bucket4jLettuce.casBasedBuilder(connection)
					.expirationAfterWrite(ExpirationAfterWriteStrategy.basedOnTimeForRefillingBucketUpToMax(Duration.ofSeconds(10)))
					.requestTimeout(timeout)
					.build(), prefix);
				return connected;
			}
			catch (RuntimeException e) {
				lastFailure = now;
				throw e;
			}
		}
	}

}
