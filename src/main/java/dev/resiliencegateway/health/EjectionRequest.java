package dev.resiliencegateway.health;

/**
 * A replica's rules (consecutive failures, its circuit breaker) ask for it to be ejected; the pool
 * decides ({@link PoolHealth#record}): detect-only mode, the max-ejection cap and, for slowness, the
 * other replicas' latency may hold it back.
 *
 * @param slowOnly the breaker opened on its slow-call rate alone (its failure rate is below threshold)
 */
record EjectionRequest(ReplicaHealth replica, String reason, boolean slowOnly) {

	EjectionRequest(ReplicaHealth replica, String reason) {
		this(replica, reason, false);
	}

}
