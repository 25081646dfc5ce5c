package dev.resiliencegateway.limits;

/**
 * Takes a token from a client's bucket: in this gateway's memory, or in Redis so that N gateway
 * copies enforce one limit, not N.
 */
public interface RateLimiter {

	/**
	 * @param allowed a token was taken
	 * @param remaining tokens left
	 * @param waitNanos until the next token, when refused
	 */
	record Decision(boolean allowed, long remaining, long waitNanos) {
	}

	/**
	 * @param key route and client
	 * @throws RuntimeException the shared store failed; the caller lets the request through
	 */
	Decision tryTake(String key, RateLimitPolicy policy);

}
