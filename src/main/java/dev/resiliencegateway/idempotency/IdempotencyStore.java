package dev.resiliencegateway.idempotency;

import java.time.Duration;

/**
 * Where keys and their answers live: in this gateway's memory ({@link InMemoryIdempotencyStore}), or
 * in Redis so every gateway copy sees the same keys ({@link RedisIdempotencyStore}). A claim is
 * atomic: of any number of requests with one key, on any number of copies, one is {@link Claimed}.
 * Each operation either completes within the store's short timeout or throws
 * {@link StoreUnavailableException}.
 */
public interface IdempotencyStore {

	/** What a key holds when a request claims it. */
	sealed interface Claim {
	}

	/** The key was free and is now this request's (until {@code complete}, {@code release} or its in-flight TTL). */
	record Claimed() implements Claim {
	}

	/**
	 * Another request with this key is in flight, since {@code startedMillis} (wall clock of the copy
	 * that claimed it): a claim older than its route's deadline belongs to a copy that stopped.
	 */
	record InFlight(String fingerprint, long startedMillis) implements Claim {
	}

	/** The key's first request has ended; here is what it ended with. */
	record Done(StoredAnswer answer) implements Claim {
	}

	/**
	 * @param key the full key (route, client scope and the client's key)
	 * @param token this request's claim token, which {@code complete} and {@code release} must show
	 * @param fingerprint this request's fingerprint
	 * @param nowMillis the wall clock now, kept with the claim
	 * @param ttl how long the key is kept, claimed or answered
	 */
	Claim claim(String key, String token, String fingerprint, long nowMillis, Duration ttl);

	/** What the key holds now, without claiming it; {@code null} when it is free. */
	Claim peek(String key);

	/** Keeps the answer under the key for {@code ttl}, if the key is still held by {@code token}. */
	void complete(String key, String token, StoredAnswer answer, Duration ttl);

	/** Frees the key, if it is still held by {@code token}: nothing was executed, a retry may go ahead. */
	void release(String key, String token);

	/** The store could not be reached in time (or answered with something unreadable). */
	final class StoreUnavailableException extends RuntimeException {

		public StoreUnavailableException(String message, Throwable cause) {
			super(message, cause);
		}

	}

}
