package dev.resiliencegateway.health;

/** Where a replica stands. Only {@link #HEALTHY} and {@link #RECOVERING} take normal traffic. */
public enum ReplicaState {

	/** Takes its full share of traffic. */
	HEALTHY,
	/** Readmitted (or newly discovered): takes a share that ramps up over the slow-start window. */
	RECOVERING,
	/** Ejected by passive detection until its ejection time is over or a probe request succeeds. */
	EJECTED,
	/** Ejected, with one probe request in flight to see whether it healed. */
	PROBING,
	/** Drained: no new requests, in-flight ones finish (OUT_OF_SERVICE health, or an operator). */
	DRAINED,
	/** Active health checks say it is down. */
	DOWN;

	public boolean takesTraffic() {
		return this == HEALTHY || this == RECOVERING;
	}

	/** Out of rotation because of the replica's own behaviour (not an operator's drain). */
	public boolean isOut() {
		return this == EJECTED || this == PROBING || this == DOWN;
	}

}
