package dev.resiliencegateway.retry;

import java.util.random.RandomGenerator;

import dev.resiliencegateway.outcome.Outcome;

/**
 * Whether and when an attempt that ended is tried again: one pure decision per attempt, so it is
 * tested as a table (RetryRuleTest) and the exchange only acts on it.
 *
 * <p>The order of the questions matters, because asking the budget spends a token:
 * <ol>
 * <li>an answer below 500 (other than 429) is relayed; so is a 5xx or 429 the rule may not retry,
 * since the replica's own answer tells the client more than the gateway's would;</li>
 * <li>a 503 or 429 whose {@code Retry-After} asks for longer than {@code maxRetryAfter} is relayed;</li>
 * <li>{@link RetryPolicy#mayRetry}: connect failures for any method, anything else only when the
 * request is idempotent and its body replayable;</li>
 * <li>attempts left ({@code maxAttempts}), then the budget (a token, and a replica that takes traffic);</li>
 * <li>the wait: the replica's {@code Retry-After}, none after a connect failure (it loaded nobody),
 * else full-jitter backoff; a retry the route deadline would not allow gives up as a timeout.</li>
 * </ol>
 *
 * @param maxAttempts attempts per request, the first included
 * @param maxRetryAfterNanos the longest {@code Retry-After} the gateway waits out itself
 */
public record RetryRule(int maxAttempts, long maxRetryAfterNanos, Backoff backoff) {

	/** Spends one retry if the route may still take one. */
	@FunctionalInterface
	public interface Budget {

		boolean tryRetry();

	}

	/**
	 * What the rule needs to know of the request.
	 *
	 * @param idempotent by method, or by an {@code Idempotency-Key}
	 * @param replayable the whole body can be sent again (none, or buffered)
	 * @param bodySent a byte of a streamed body may have left for a replica
	 * @param attempts attempts made so far, hedges included
	 * @param deadline the route deadline, in ticker nanos
	 */
	public record Request(boolean idempotent, boolean replayable, boolean bodySent, int attempts, long deadline) {
	}

	/**
	 * How the attempt ended: a status (then {@code failure} is null), or a failure without an answer.
	 *
	 * @param retryAfterNanos the response's {@code Retry-After} in nanos, -1 without one
	 */
	public record Ended(int status, Outcome failure, long retryAfterNanos) {

		public static Ended answered(int status, long retryAfterNanos) {
			return new Ended(status, null, retryAfterNanos);
		}

		public static Ended failed(Outcome failure) {
			return new Ended(-1, failure, -1);
		}

		public boolean answered() {
			return failure == null;
		}

		/** The attempt's outcome for the replica's health. */
		public Outcome outcome() {
			return failure != null ? failure : Outcome.ofStatus(status);
		}

	}

	public RetryDecision decide(Ended ended, Request request, long now, Budget budget, RandomGenerator random) {
		long retryAfter = -1;
		if (ended.answered()) {
			int status = ended.status();
			boolean retryable = Outcome.ofStatus(status) == Outcome.UPSTREAM_5XX || status == 429;
			if (retryable && (status == 503 || status == 429)) {
				retryAfter = ended.retryAfterNanos();
				retryable = retryAfter <= maxRetryAfterNanos; // else the client should hear the replica's wish
			}
			if (!retryable || !RetryPolicy.mayRetry(Outcome.UPSTREAM_5XX, request.idempotent(), request.replayable(), true)
					|| request.attempts() >= maxAttempts || !budget.tryRetry()) {
				return RetryDecision.RELAY;
			}
		}
		else if (!RetryPolicy.mayRetry(ended.failure(), request.idempotent(), request.replayable(), request.bodySent())
				|| request.attempts() >= maxAttempts || !budget.tryRetry()) {
			return new RetryDecision.GiveUp(ended.failure(), false);
		}
		long wait = retryAfter >= 0 ? retryAfter
				: ended.failure() == Outcome.CONNECT_FAILURE || ended.failure() == Outcome.TLS_FAILURE ? 0
						: backoff.delayNanos(request.attempts(), random);
		if (now + wait >= request.deadline()) {
			return new RetryDecision.GiveUp(Outcome.TIMEOUT, true);
		}
		return new RetryDecision.Retry(wait);
	}

}
