package dev.resiliencegateway.health;

/**
 * The immutable state of one replica, swapped by compare-and-set.
 *
 * @param state where it stands
 * @param reason why it got there, as a sentence fragment for logs and the status page
 * @param sinceNanos ticker time of the transition
 * @param untilNanos for EJECTED/PROBING the end of the ejection; for RECOVERING the end of the ramp
 * @param ejections how many ejections count towards the next ejection's length (decays while healthy)
 * @param nextProbeNanos for EJECTED, when the next probe request may go
 * @param adminDrained an operator drained it: only an operator's restore brings it back
 */
public record ReplicaStatus(ReplicaState state, String reason, long sinceNanos, long untilNanos, int ejections,
		long nextProbeNanos, boolean adminDrained) {

	static ReplicaStatus initial(ReplicaState state, String reason, long now, long until) {
		return new ReplicaStatus(state, reason, now, until, 0, 0, false);
	}

	ReplicaStatus to(ReplicaState next, String why, long now, long until) {
		return new ReplicaStatus(next, why, now, until, ejections, nextProbeNanos, adminDrained);
	}

}
