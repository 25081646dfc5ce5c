package dev.resiliencegateway.idempotency;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;

import org.springframework.dao.DataAccessException;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.data.redis.core.script.RedisScript;

/**
 * Keys in Redis, shared by every gateway copy that points at it ({@code spring.data.redis.*}). A
 * claim is {@code SET key value NX PX ttl}; the answer replaces the claim only if the claim is still
 * this request's (a Lua script compares the token, so a claim that expired and was taken by another
 * request is never overwritten); Redis expires the key.
 *
 * <p>The value is {@code token F fingerprint startedMillis} while in flight and
 * {@code token D fingerprint base64(answer)} once done: one string, so claim and answer are one key.
 */
public final class RedisIdempotencyStore implements IdempotencyStore {

	private static final RedisScript<Long> COMPLETE = RedisScript.of("""
			local v = redis.call('GET', KEYS[1])
			if v and string.sub(v, 1, string.len(ARGV[1]) + 3) == ARGV[1] .. ' F ' then
			  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
			  return 1
			end
			return 0
			""", Long.class);

	private static final RedisScript<Long> RELEASE = RedisScript.of("""
			local v = redis.call('GET', KEYS[1])
			if v and string.sub(v, 1, string.len(ARGV[1]) + 3) == ARGV[1] .. ' F ' then
			  return redis.call('DEL', KEYS[1])
			end
			return 0
			""", Long.class);

	private final StringRedisTemplate redis;

	private final String prefix;

	/** @param prefix put before every key, so several gateways (or other users) can share one Redis */
	public RedisIdempotencyStore(StringRedisTemplate redis, String prefix) {
		this.redis = redis;
		this.prefix = prefix;
	}

	@Override
	public Claim claim(String key, String token, String fingerprint, long nowMillis, Duration ttl) {
		String claim = token + " F " + fingerprint + " " + nowMillis;
		try {
			Boolean set = redis.opsForValue().setIfAbsent(prefix + key, claim, ttl);
			if (Boolean.TRUE.equals(set)) {
				return new Claimed();
			}
			Claim existing = peek(key);
			// freed between our SET and GET (released or expired): one more try, then it is in flight
			if (existing != null) {
				return existing;
			}
			set = redis.opsForValue().setIfAbsent(prefix + key, claim, ttl);
			return Boolean.TRUE.equals(set) ? new Claimed() : new InFlight(fingerprint, nowMillis);
		}
		catch (DataAccessException e) {
			throw new StoreUnavailableException("Redis: " + e.getMessage(), e);
		}
	}

	@Override
	public Claim peek(String key) {
		String v;
		try {
			v = redis.opsForValue().get(prefix + key);
		}
		catch (DataAccessException e) {
			throw new StoreUnavailableException("Redis: " + e.getMessage(), e);
		}
		if (v == null) {
			return null;
		}
		String[] parts = v.split(" ", 4);
		if (parts.length < 4) {
			throw new StoreUnavailableException("Redis key " + prefix + key + " holds a value this gateway did not write", null);
		}
		try {
			if (parts[1].equals("F")) {
				return new InFlight(parts[2], Long.parseLong(parts[3]));
			}
			return new Done(StoredAnswer.decode(Base64.getDecoder().decode(parts[3].getBytes(StandardCharsets.US_ASCII))));
		}
		catch (IllegalArgumentException | ArrayIndexOutOfBoundsException e) {
			throw new StoreUnavailableException("Redis key " + prefix + key + " holds an unreadable answer", e);
		}
	}

	@Override
	public void complete(String key, String token, StoredAnswer answer, Duration ttl) {
		String value = token + " D " + answer.fingerprint() + " " + Base64.getEncoder().encodeToString(answer.encode());
		try {
			redis.execute(COMPLETE, List.of(prefix + key), token, value, String.valueOf(ttl.toMillis()));
		}
		catch (DataAccessException e) {
			throw new StoreUnavailableException("Redis: " + e.getMessage(), e);
		}
	}

	@Override
	public void release(String key, String token) {
		try {
			redis.execute(RELEASE, List.of(prefix + key), token);
		}
		catch (DataAccessException e) {
			throw new StoreUnavailableException("Redis: " + e.getMessage(), e);
		}
	}

}
