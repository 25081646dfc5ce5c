package dev.resiliencegateway.health;

/**
 * A replica's rules (consecutive failures, its circuit breaker) ask for it to be ejected; the pool
 * decides ({@link PoolHealth#record}): the max-ejection cap and detect-only mode may hold it back.
 */
record EjectionRequest(ReplicaHealth replica, String reason) {
}
