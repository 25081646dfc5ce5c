package dev.resiliencegateway.retry;

import java.util.Set;

import dev.resiliencegateway.outcome.Outcome;

/**
 * Which failed attempts may be sent again. A connect failure reached no replica, so any method may
 * be retried; anything else may have been executed, so only an idempotent request (by method, or by
 * an {@code Idempotency-Key}) whose body can be sent again is retried.
 */
public final class RetryPolicy {

	private static final Set<String> IDEMPOTENT = Set.of("GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE");

	private RetryPolicy() {
	}

	public static boolean isIdempotent(String method, boolean hasIdempotencyKey) {
		return hasIdempotencyKey || IDEMPOTENT.contains(method);
	}

	/**
	 * @param outcome how the attempt ended
	 * @param idempotent the request is idempotent
	 * @param replayable the whole body can be sent again (none, or buffered)
	 * @param bodySent a byte of a streamed body may have left
	 */
	public static boolean mayRetry(Outcome outcome, boolean idempotent, boolean replayable, boolean bodySent) {
		return switch (outcome) {
			case SUCCESS, CANCELLED, OUTRUN -> false;
			case CONNECT_FAILURE, TLS_FAILURE -> replayable || !bodySent;
			case UPSTREAM_5XX, TIMEOUT, RESET -> idempotent && replayable;
		};
	}

}
