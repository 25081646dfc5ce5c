package dev.resiliencegateway.health;

/**
 * A replica's rules (consecutive failures, its circuit breaker, its failure rate against its peers)
 * ask for it to be ejected; the pool decides ({@link PoolHealth#record}): detect-only mode, the
 * max-ejection cap and, for the relative rules, the other replicas may hold it back.
 *
 * @param evidence what the request rests on
 */
record EjectionRequest(ReplicaHealth replica, String reason, Evidence evidence) {

	/** What an ejection request rests on. */
	enum Evidence {

		/** Failures alone (consecutive, or the breaker's failure rate): eject whatever the peers do. */
		FAILURES,

		/** The breaker opened on its slow-call rate alone: eject only if a peer is much faster. */
		SLOW_CALLS,

		/**
		 * A failure rate below the breaker's threshold but above the pool's outlier threshold: eject
		 * only if a peer fails at most half as often (a gray replica, not a pool-wide failure).
		 */
		FAILURE_OUTLIER,

		/**
		 * One attempt ran out of its per-try timeout: eject only if a peer answers at least
		 * {@link PoolHealth#SLOW_OUTLIER_FACTOR} times faster (a replica gone slow, not a slow pool).
		 */
		TIMEOUT

	}

	EjectionRequest(ReplicaHealth replica, String reason) {
		this(replica, reason, Evidence.FAILURES);
	}

}
