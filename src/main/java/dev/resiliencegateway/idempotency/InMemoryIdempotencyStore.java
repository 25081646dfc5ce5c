package dev.resiliencegateway.idempotency;

import java.time.Duration;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;

/**
 * Keys in this gateway's memory: a Caffeine cache bounded in entries, each entry expiring after its
 * own TTL (set when claimed, renewed when answered). Enough for one gateway; with
 * several copies behind a load balancer, a retry that lands on another copy is not recognised: use
 * {@link RedisIdempotencyStore} there.
 */
public final class InMemoryIdempotencyStore implements IdempotencyStore {

	private record Entry(String token, String fingerprint, long startedMillis, StoredAnswer answer, long ttlNanos) {
	}

	private final Cache<String, Entry> keys;

	/** @param maxKeys keys kept at most; beyond it the least recently used go first */
	public InMemoryIdempotencyStore(long maxKeys) {
		this.keys = Caffeine.newBuilder().maximumSize(maxKeys).expireAfter(new Expiry<String, Entry>() {
			@Override
			public long expireAfterCreate(String key, Entry value, long currentTime) {
				return value.ttlNanos();
			}

			@Override
			public long expireAfterUpdate(String key, Entry value, long currentTime, long currentDuration) {
				return value.ttlNanos();
			}

			@Override
			public long expireAfterRead(String key, Entry value, long currentTime, long currentDuration) {
				return currentDuration;
			}
		}).build();
	}

	@Override
	public Claim claim(String key, String token, String fingerprint, long nowMillis, Duration ttl) {
		Entry mine = new Entry(token, fingerprint, nowMillis, null, ttl.toNanos());
		Entry existing = keys.asMap().putIfAbsent(key, mine);
		return existing == null ? new Claimed() : of(existing);
	}

	@Override
	public Claim peek(String key) {
		Entry existing = keys.getIfPresent(key);
		return existing == null ? null : of(existing);
	}

	private static Claim of(Entry e) {
		return e.answer() == null ? new InFlight(e.fingerprint(), e.startedMillis()) : new Done(e.answer());
	}

	@Override
	public void complete(String key, String token, StoredAnswer answer, Duration ttl) {
		keys.asMap().computeIfPresent(key, (k, e) -> e.token().equals(token) && e.answer() == null
				? new Entry(token, e.fingerprint(), e.startedMillis(), answer, ttl.toNanos()) : e);
	}

	@Override
	public void release(String key, String token) {
		keys.asMap().computeIfPresent(key, (k, e) -> e.token().equals(token) && e.answer() == null ? null : e);
	}

	long size() {
		keys.cleanUp();
		return keys.estimatedSize();
	}

}
