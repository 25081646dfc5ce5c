package dev.resiliencegateway.health;

/**
 * Where a pool's replica events go once its lock is released. The gateway's own sink logs them,
 * keeps the recent ones for the admin endpoint and status page, and publishes them as Spring
 * application events; a bean of this type replaces it. A sink that throws is logged, never rethrown
 * into the request that caused the event.
 */
@FunctionalInterface
public interface ReplicaEventSink {

	void publish(ReplicaEvent event);

}
