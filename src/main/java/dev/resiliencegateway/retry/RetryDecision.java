package dev.resiliencegateway.retry;

import dev.resiliencegateway.outcome.Outcome;

/**
 * What to do after an attempt ended, as a value (in the spirit of Armeria's {@code RetryDecision}):
 * the exchange acts on it, {@link RetryRule} decides it.
 */
public sealed interface RetryDecision {

	/** Relay the replica's answer to the client as it is. */
	Relay RELAY = new Relay();

	/** Relay the replica's answer (a success, or a failure that may not or cannot be retried). */
	record Relay() implements RetryDecision {
	}

	/** Send the request again, to a replica not tried yet, after waiting this long. */
	record Retry(long waitNanos) implements RetryDecision {
	}

	/**
	 * Stop without an answer to relay: the gateway answers for the last failure.
	 *
	 * @param outcome the failure the client's answer stands for
	 * @param deadline {@code true} when the route deadline ended it (then {@code outcome} is TIMEOUT)
	 */
	record GiveUp(Outcome outcome, boolean deadline) implements RetryDecision {
	}

}
