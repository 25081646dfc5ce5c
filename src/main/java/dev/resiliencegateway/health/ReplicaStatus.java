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
 * @param probeFailures probes failed in a row in this ejection (they set the backoff of the next one)
 * @param probePasses probes passed in a row in this ejection (a replica ejected again and again needs more)
 */
public record ReplicaStatus(ReplicaState state, String reason, long sinceNanos, long untilNanos, int ejections,
		long nextProbeNanos, boolean adminDrained, int probeFailures, int probePasses) {

	static ReplicaStatus initial(ReplicaState state, String reason, long now, long until) {
		return new ReplicaStatus(state, reason, now, until, 0, 0, false, 0, 0);
	}

	/** Out of rotation until {@code until}; the first probe may go at {@code nextProbe}. */
	static ReplicaStatus ejected(String reason, long now, long until, int ejections, long nextProbe) {
		return ejected(reason, now, until, ejections, nextProbe, 0, 0);
	}

	/**
	 * Still out of rotation after {@code probeFailures} failed probes in a row, or {@code probePasses}
	 * passed ones that are not yet enough; the next may go at {@code nextProbe}.
	 */
	static ReplicaStatus ejected(String reason, long now, long until, int ejections, long nextProbe, int probeFailures,
			int probePasses) {
		return new ReplicaStatus(ReplicaState.EJECTED, reason, now, until, ejections, nextProbe, false, probeFailures,
				probePasses);
	}

	/** This ejected replica's probe request is on its way. */
	ReplicaStatus probing(long now, long nextProbe) {
		return new ReplicaStatus(ReplicaState.PROBING, "probing with one request", now, untilNanos, ejections, nextProbe,
				false, probeFailures, probePasses);
	}

	/** Back in rotation: ramping up over {@code window} nanos, or at full weight at once when 0. */
	ReplicaStatus readmitted(String reason, long now, long window) {
		return window > 0 ? new ReplicaStatus(ReplicaState.RECOVERING, reason, now, now + window, ejections, 0, false, 0, 0)
				: new ReplicaStatus(ReplicaState.HEALTHY, reason, now, 0, ejections, 0, false, 0, 0);
	}

	/** Slow start is over. */
	ReplicaStatus healthy(String reason, long now) {
		return new ReplicaStatus(ReplicaState.HEALTHY, reason, now, 0, ejections, 0, false, 0, 0);
	}

	/** Drained by an operator: only an operator's restore brings it back. */
	ReplicaStatus drainedByOperator(String by, long now) {
		return new ReplicaStatus(ReplicaState.DRAINED, "drained by " + by, now, 0, ejections, 0, true, 0, 0);
	}

	/** DOWN or DRAINED as its health check says; the ejection history is kept. */
	ReplicaStatus checked(ReplicaState next, String why, long now) {
		return new ReplicaStatus(next, why, now, 0, ejections, nextProbeNanos, adminDrained, 0, 0);
	}

}
