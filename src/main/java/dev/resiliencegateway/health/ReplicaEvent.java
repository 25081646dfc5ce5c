package dev.resiliencegateway.health;

import java.time.Instant;

/** What happened to a replica; each event's {@code toString} reads as a sentence. */
public sealed interface ReplicaEvent {

	String pool();

	String replica();

	Instant at();

	/** A state change; published once, by the thread whose compare-and-set won. */
	record Transition(String pool, String replica, ReplicaState from, ReplicaState to, String reason,
			Instant at) implements ReplicaEvent {
		@Override
		public String toString() {
			return "Replica " + replica + " of pool " + pool + " went from " + from + " to " + to + ": " + reason;
		}
	}

	/** An operator's action through the admin endpoint (audit trail). */
	record AdminAction(String pool, String replica, String action, String by, String result, Instant at)
			implements ReplicaEvent {
		@Override
		public String toString() {
			return "Operator " + by + " asked to " + action + " " + (replica == null ? "pool " + pool
					: "replica " + replica + " of pool " + pool) + ": " + result;
		}
	}

	/** Detect-only mode, or the max-ejection cap, kept a replica in rotation that the rules would eject. */
	record WouldEject(String pool, String replica, String reason, String heldBy, Instant at) implements ReplicaEvent {
		@Override
		public String toString() {
			return "Replica " + replica + " of pool " + pool + " would be ejected (" + reason + ") but " + heldBy;
		}
	}

}
