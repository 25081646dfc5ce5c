package dev.resiliencegateway.outcome;

/**
 * How one attempt to one replica ended. Every attempt ends in exactly one outcome, recorded
 * against the replica with its latency.
 *
 * <p>Local-origin failures ({@link #CONNECT_FAILURE}, {@link #TIMEOUT}) are kept apart from
 * {@link #UPSTREAM_5XX}: the first two say the gateway could not get an answer, the last that the
 * replica answered with an error.
 */
public enum Outcome {

	/** A response below 500 (4xx is the client's problem, not the replica's). */
	SUCCESS,
	/** The replica answered 500-599. */
	UPSTREAM_5XX,
	/** No connection could be made: nothing reached the replica, so any method may be retried. */
	CONNECT_FAILURE,
	/**
	 * The TLS handshake failed: the replica's certificate is not trusted or does not name it, or it
	 * refused the gateway's client certificate. Nothing was sent (any method may be retried), but
	 * unlike a refused connection the replica is there and answering wrongly: a 502, not a 503.
	 */
	TLS_FAILURE,
	/** The replica did not answer in time (per-try timeout or idle read timeout). */
	TIMEOUT,
	/** The connection was reset or closed before a complete response. */
	RESET,
	/**
	 * The first attempt had the hedge delay as a head start and still lost to the hedge sent to
	 * another replica: counted as a failure, or a replica that hangs behind hedging would never be
	 * ejected (each of its requests cancelled, none timed out). A lost hedge (the second attempt) is
	 * {@link #CANCELLED}: it had less time, so its loss says nothing.
	 */
	OUTRUN,
	/** The gateway gave up on the attempt itself (client left, a hedge lost); says nothing about the replica. */
	CANCELLED;

	/** Counts against the replica's health. */
	public boolean isFailure() {
		return this != SUCCESS && this != CANCELLED;
	}

	/** Classifies a response status. */
	public static Outcome ofStatus(int status) {
		return status >= 500 && status <= 599 ? UPSTREAM_5XX : SUCCESS;
	}

}
