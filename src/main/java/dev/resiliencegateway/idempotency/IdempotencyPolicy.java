package dev.resiliencegateway.idempotency;

import java.time.Duration;

/**
 * A route's {@code Idempotency-Key} handling: the gateway keeps the first answer to a keyed POST or
 * PATCH and replays it to every retry with the same key, so the request executes once however often
 * the client sends it, through any gateway copy that shares the store.
 *
 * @param enabled keep keys on this route (default false: keys pass through to the replica untouched)
 * @param ttl how long a key and its answer are kept (default 24 h)
 * @param waitForInFlight a request whose key is still in flight waits for the first one's answer
 * (up to the route's deadline) instead of getting 409 at once (default false)
 * @param maxAnswerSize the largest answer body kept (default 1 MB); a larger answer is relayed, and a
 * retry gets 409 saying the first answer was too large to keep
 * @param store5xx keep a replica's 5xx answer too (default false: the key is released, and a retry
 * executes again)
 * @param clientHeader a request header whose value (hashed) becomes part of the key, so two clients
 * never share a key (an API key or Authorization header); {@code null}: the key alone
 * @param failOpen when the store cannot be reached, forward the request without the key's protection
 * (default true; false answers 503)
 */
public record IdempotencyPolicy(boolean enabled, Duration ttl, boolean waitForInFlight, long maxAnswerSize,
		boolean store5xx, String clientHeader, boolean failOpen) {

	public static final IdempotencyPolicy OFF = new IdempotencyPolicy(false, Duration.ofHours(24), false, 1024 * 1024,
			false, null, true);

	/** Whether the gateway keeps keys for requests of this method (the non-idempotent ones). */
	public boolean covers(String method) {
		return enabled && (method.equals("POST") || method.equals("PATCH"));
	}

}
