package dev.resiliencegateway.balancing;

/** What the balancer needs of a replica. */
public interface Candidate {

	/** Static weight times health and slow-start factors, at {@code now}; greater than 0. */
	double effectiveWeight(long now);

	ReplicaLoad load();

}
