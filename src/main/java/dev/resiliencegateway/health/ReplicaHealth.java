package dev.resiliencegateway.health;

import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import dev.resiliencegateway.balancing.Candidate;
import dev.resiliencegateway.balancing.ReplicaLoad;
import dev.resiliencegateway.outcome.Outcome;
import dev.resiliencegateway.pool.Replica;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;

import static dev.resiliencegateway.health.ReplicaState.*;

/**
 * The one health model of one replica. Health flows one way: the request path records outcomes
 * through {@link PoolHealth#record}; this replica's rules (consecutive failures, its Resilience4j
 * circuit breaker for failure and slow-call rates) answer with an {@link EjectionRequest}; the pool
 * decides (max-ejection cap, detect-only) and applies it. Active health checks and operators write
 * here too. State is an immutable {@link ReplicaStatus} swapped by compare-and-set along a table of
 * legal transitions: only the winner of a swap hands its event to the pool, a lost race is quiet, and
 * an illegal transition is a bug and throws.
 */
public final class ReplicaHealth implements Candidate {

	private static final Map<ReplicaState, Set<ReplicaState>> LEGAL = new EnumMap<>(ReplicaState.class);

	static {
		// readmission goes to RECOVERING (slow start), or straight to HEALTHY when slow start is off
		LEGAL.put(HEALTHY, EnumSet.of(EJECTED, DOWN, DRAINED));
		LEGAL.put(RECOVERING, EnumSet.of(HEALTHY, EJECTED, DOWN, DRAINED));
		LEGAL.put(EJECTED, EnumSet.of(PROBING, RECOVERING, HEALTHY, DOWN, DRAINED, EJECTED));
		LEGAL.put(PROBING, EnumSet.of(RECOVERING, HEALTHY, EJECTED, DOWN, DRAINED));
		LEGAL.put(DOWN, EnumSet.of(RECOVERING, HEALTHY, DRAINED, EJECTED));
		LEGAL.put(DRAINED, EnumSet.of(RECOVERING, HEALTHY, DOWN, EJECTED));
	}

	/** What a replica reads from its pool, and where it hands its transitions. */
	interface Pool {

		HealthPolicy policy();

		long now();

		/** Called by the winner of a state swap; the pool rebuilds its snapshot and publishes the event. */
		void transitioned(ReplicaHealth replica, ReplicaStatus from, ReplicaStatus to);

	}

	/** Passing probes in a row that readmit a replica ejected again and again (one on a first ejection). */
	static final int MAX_PROBE_PASSES = 3;

	/** Replaced only by a configuration change of the same replica's weight (its address never changes). */
	private volatile Replica replica;

	private final Pool pool;

	private final ReplicaLoad load;

	/** The share of this replica's attempts that succeeded over the last seconds (its p in the availability model). */
	private final AvailabilityWindow availability = new AvailabilityWindow();

	private final CircuitBreaker breaker;

	private final AtomicReference<ReplicaStatus> status;

	private final AtomicInteger consecutiveFailures = new AtomicInteger();

	private final AtomicLong ejectionsTotal = new AtomicLong();

	private int checkPasses;

	private int checkFailures;

	/** When a replica marked down by its checks is checked next (see {@link #recheckDue}). */
	private volatile long nextCheckNanos;

	ReplicaHealth(Replica replica, Pool pool, ReplicaLoad load, CircuitBreaker breaker, ReplicaStatus initial) {
		this.replica = replica;
		this.pool = pool;
		this.load = load;
		this.breaker = breaker;
		this.status = new AtomicReference<>(initial);
	}

	public Replica replica() {
		return replica;
	}

	/** A new weight for the same replica (a configuration change): its health and statistics stay. */
	void reweigh(Replica changed) {
		if (!changed.id().equals(replica.id()) || !changed.uri().equals(replica.uri())) {
			throw new IllegalArgumentException(changed + " is not " + replica);
		}
		replica = changed;
	}

	public ReplicaStatus status() {
		return status.get();
	}

	public ReplicaState state() {
		return status.get().state();
	}

	/**
	 * Readmitted after an ejection and still in slow start: it passed its probes, but a probe or
	 * two of a replica that fails half its requests pass too. Requests that may not be sent again
	 * (a POST) go elsewhere while another replica can take them; retriable ones, whose failure
	 * costs a retry and not an error, are what proves it.
	 */
	public boolean onProbation() {
		ReplicaStatus s = status.get();
		return s.state() == ReplicaState.RECOVERING && s.ejections() > 0;
	}

	public AvailabilityWindow availability() {
		return availability;
	}

	@Override
	public ReplicaLoad load() {
		return load;
	}

	public CircuitBreaker breaker() {
		return breaker;
	}

	public long ejectionsTotal() {
		return ejectionsTotal.get();
	}

	@Override
	public double effectiveWeight(long now) {
		ReplicaStatus s = status.get();
		double slowStart = s.state() == RECOVERING ? pool.policy().slowStartFactor(now - s.sinceNanos()) : 1.0;
		double success = load.successRate();
		return replica.weight() * slowStart * Math.max(0.05, success * success);
	}

	/**
	 * Records how an attempt ended (once per attempt, from the request path, through
	 * {@link PoolHealth#record}).
	 *
	 * @param probe the attempt was this replica's probe request while ejected
	 * @return what the rules ask of the pool, or {@code null}
	 */
	EjectionRequest observe(Outcome outcome, long latencyNanos, boolean probe) {
		long now = pool.now();
		if (outcome == Outcome.CANCELLED) {
			if (probe) {
				endProbe(false, "probe request cancelled", now);
			}
			return null;
		}
		boolean failure = outcome.isFailure();
		// To the balancer an attempt outrun by its hedge was slow, not failed: its latency (at least the
		// hedge delay) is what it says. Penalised as a failure, every healthy replica's p95 moment
		// under hedging made it look ten times slower and cut its weight, which sent a gray replica
		// more of the traffic, POSTs included. For health it stays a failure (a replica that hangs
		// behind hedging is still ejected).
		load.observe(latencyNanos, !failure || outcome == Outcome.OUTRUN, now);
		availability.record(!failure, now);
		if (probe) {
			endProbe(!failure, failure ? "probe request failed: " + outcome : "probe request succeeded", now);
			return null;
		}
		if (!state().takesTraffic()) {
			return null; // a straggler from before the ejection: the verdict is already in
		}
		if (failure) {
			breaker.onError(latencyNanos, TimeUnit.NANOSECONDS, OutcomeFailure.of(outcome));
			int n = consecutiveFailures.incrementAndGet();
			if (n == pool.policy().consecutiveFailures()) {
				return new EjectionRequest(this, n + " consecutive failures (last: " + outcome + ")");
			}
		}
		else {
			breaker.onSuccess(latencyNanos, TimeUnit.NANOSECONDS); // a slow success counts as a slow call
			if (consecutiveFailures.get() != 0) {
				consecutiveFailures.set(0);
			}
		}
		if (breaker.getState() == CircuitBreaker.State.OPEN) {
			// the breaker only detects: it opened on this call, and is reset once the pool has decided
			CircuitBreaker.Metrics m = breaker.getMetrics();
			return new EjectionRequest(this, String.format("failure rate %.0f%% / slow-call rate %.0f%% over the last %d calls",
					m.getFailureRate(), m.getSlowCallRate(), m.getNumberOfBufferedCalls()),
					m.getFailureRate() < breaker.getCircuitBreakerConfig().getFailureRateThreshold()
							? EjectionRequest.Evidence.SLOW_CALLS : EjectionRequest.Evidence.FAILURES);
		}
		if (outcome == Outcome.TIMEOUT) {
			// A timeout is strong evidence (a second of waiting, not a millisecond of noise), and the
			// balancer shuns the replica after it: its peak-EWMA latency is now the timeout, so it gets
			// no request to fail again, reaches no failure count, is never ejected, and is never
			// probed either, so nothing notices when it heals until that latency fades (3 s). Ejected
			// instead (if it is slower than a peer), it is probed 100 ms on and back within a second
			// of healing; a one-off stall costs it one probe interval.
			return new EjectionRequest(this, "no answer within the per-try timeout", EjectionRequest.Evidence.TIMEOUT);
		}
		int outlier = pool.policy().failureOutlierPercent();
		if (failure && outlier > 0) {
			// a gray replica: failing too often to be healthy, too rarely for the breaker's threshold
			CircuitBreaker.Metrics m = breaker.getMetrics();
			float rate = m.getFailureRate(); // -1 until the window holds its minimum of calls
			if (rate >= outlier) {
				return new EjectionRequest(this, String.format("failure rate %.0f%% over the last %d calls",
						rate, m.getNumberOfBufferedCalls()), EjectionRequest.Evidence.FAILURE_OUTLIER);
			}
		}
		return null;
	}

	/** This replica's failure rate over its breaker's window, in percent; -1 before the window's minimum of calls. */
	float recentFailurePercent() {
		return breaker.getMetrics().getFailureRate();
	}

	/**
	 * Forget the breaker's window after a slow-call ejection was refused (the pool is slow, not this
	 * replica); a run of consecutive failures in progress still counts.
	 */
	void resetSlowDetection() {
		breaker.reset();
	}

	/** Forget the evidence that led to an ejection request (after an ejection, or a refusal). */
	void resetDetection() {
		consecutiveFailures.set(0);
		breaker.reset();
	}

	/** Called by the pool, under its lock, once it has decided to eject. */
	boolean eject(String reason, long now, double random01) {
		HealthPolicy policy = pool.policy();
		ReplicaStatus cur = status.get();
		if (!cur.state().takesTraffic()) {
			return false;
		}
		// one ejection is forgiven per four base ejection times spent in rotation
		long forgiven = (now - cur.sinceNanos()) / Math.max(1, 4 * policy.baseEjection().toNanos());
		int previous = (int) Math.max(0, cur.ejections() - forgiven);
		long length = policy.ejectionNanos(previous, random01);
		ReplicaStatus next = ReplicaStatus.ejected(reason + "; ejected for " + millis(length) + " ms", now, now + length,
				previous + 1, now + policy.probeWaitNanos(0));
		if (transition(cur, next)) {
			ejectionsTotal.incrementAndGet();
			resetDetection();
			return true;
		}
		return false;
	}

	/** Claims the probe slot of an ejected replica whose next probe is due. */
	public boolean claimProbe(long now) {
		ReplicaStatus cur = status.get();
		if (cur.state() != EJECTED || now < cur.nextProbeNanos()) {
			return false;
		}
		return transition(cur, cur.probing(now, now + pool.policy().probeWaitNanos(cur.probeFailures())));
	}

	/**
	 * Claims the probe slot of an ejected replica whose probe has been due for {@code graceNanos}
	 * without a request to ride on: a quiet route's replica is then probed by a synthetic request.
	 */
	public boolean claimOverdueProbe(long now, long graceNanos) {
		ReplicaStatus cur = status.get();
		return cur.state() == EJECTED && now - graceNanos >= cur.nextProbeNanos() && claimProbe(now);
	}

	/** How a synthetic probe (sent by the gateway itself, not a client's request) ended. */
	public void endSyntheticProbe(boolean success, String detail) {
		endProbe(success, (success ? "synthetic probe succeeded: " : "synthetic probe failed: ") + detail, pool.now());
	}

	private void endProbe(boolean success, String reason, long now) {
		ReplicaStatus cur = status.get();
		if (cur.state() != PROBING) {
			return;
		}
		if (success) {
			// One passing probe readmits a replica on its first ejection. One ejected again soon after
			// (a gray replica that passes some probes while it still fails, or one that flaps) needs a
			// probe more per repeated ejection, up to MAX_PROBE_PASSES in a row: the same distrust
			// that doubles its ejection time, without slowing a replica that heals for good.
			int passes = cur.probePasses() + 1;
			int needed = Math.min(Math.max(1, cur.ejections()), MAX_PROBE_PASSES);
			if (passes >= needed) {
				readmit(cur, needed == 1 ? reason : reason + " (" + passes + " in a row)", now);
			}
			else {
				transition(cur, ReplicaStatus.ejected(reason + " (" + passes + " of " + needed + " in a row)", now,
						cur.untilNanos(), cur.ejections(), now + pool.policy().probeWaitNanos(0), 0, passes));
			}
		}
		else {
			// a replica that just failed its probe is not readmitted by its ejection timer: that would
			// send it real traffic knowing it fails. The ejection lasts until two probe intervals after
			// the last failed probe (so it still ends when no probe traffic comes at all).
			// The next probe backs off: a replica still failing gets fewer and fewer, down to one per
			// probe interval.
			int failures = cur.probeFailures() + 1;
			long wait = pool.policy().probeWaitNanos(failures);
			transition(cur, ReplicaStatus.ejected(reason, now, Math.max(cur.untilNanos(), now + 2 * wait),
					cur.ejections(), now + wait, failures, 0));
		}
	}

	/** Back into rotation, with slow start; a replica already in rotation stays as it is. */
	private boolean readmit(ReplicaStatus cur, String reason, long now) {
		if (cur.state().takesTraffic()) {
			return false;
		}
		if (!transition(cur, cur.readmitted(reason, now, pool.policy().slowStartWindow().toNanos()))) {
			return false;
		}
		resetDetection(); // start over with a clean record, whatever took it out of rotation
		load.forgetFailures(now);
		return true;
	}

	/** Time-driven transitions: ejection over, slow start complete. */
	void tick(long now) {
		ReplicaStatus cur = status.get();
		switch (cur.state()) {
			case EJECTED, PROBING -> {
				if (now >= cur.untilNanos()) {
					readmit(cur, "ejection time over", now);
				}
			}
			case RECOVERING -> {
				if (now >= cur.untilNanos()) {
					transition(cur, cur.healthy("slow start complete", now));
				}
			}
			default -> {
			}
		}
	}

	/**
	 * Whether this replica, marked down by its active checks, is due for a recheck. A replica out of
	 * rotation is checked on its own schedule rather than the pool's interval: soon after it went down,
	 * then backing off to one check per probe interval while it stays down, and again at once to
	 * confirm a first passing check, so a healed replica is back within a second.
	 */
	public boolean recheckDue(long now) {
		return state() == DOWN && now >= nextCheckNanos;
	}

	/** Whether its last active check failed: the next one comes soon, to confirm or clear it. */
	public synchronized boolean lastCheckFailed() {
		return checkFailures > 0;
	}

	/** Applies one active health check result. Checks of one replica never overlap. */
	public synchronized void onHealthCheck(HealthVerdict verdict, String detail) {
		long now = pool.now();
		HealthPolicy policy = pool.policy();
		ReplicaStatus cur = status.get();
		switch (verdict) {
			case UP -> {
				checkFailures = 0;
				checkPasses++;
				boolean back = cur.state() == DOWN || (cur.state() == DRAINED && !cur.adminDrained());
				if (back && checkPasses >= policy.healthyThreshold()) {
					readmit(cur, "health check UP " + checkPasses + " times in a row", now);
				}
				else if (back) {
					nextCheckNanos = now + policy.probeWaitNanos(0); // confirm soon
				}
			}
			case OUT_OF_SERVICE -> {
				checkPasses = 0;
				checkFailures = 0;
				if (cur.state() != DRAINED) {
					transition(cur, cur.checked(DRAINED, "health check says OUT_OF_SERVICE", now));
				}
			}
			case DOWN -> {
				checkPasses = 0;
				checkFailures++;
				if (checkFailures >= policy.unhealthyThreshold() && cur.state() != DOWN && !cur.adminDrained()) {
					transition(cur, cur.checked(DOWN, "health check failed " + checkFailures + " times in a row: " + detail,
							now));
				}
				nextCheckNanos = now + policy.probeWaitNanos(checkFailures - policy.unhealthyThreshold());
			}
		}
	}

	/** Operator: no new requests; in-flight ones finish. */
	public boolean drain(String by) {
		ReplicaStatus cur = status.get();
		return cur.state() != DRAINED && transition(cur, cur.drainedByOperator(by, pool.now()));
	}

	/** Operator: back into rotation (with slow start). */
	public boolean restore(String by) {
		ReplicaStatus cur = status.get();
		return readmit(cur, "restored by " + by, pool.now());
	}

	/** Operator: out of rotation for {@code nanos}, not counted against the max-ejection cap. */
	public boolean ejectFor(long nanos, String by) {
		long now = pool.now();
		ReplicaStatus cur = status.get();
		return transition(cur, ReplicaStatus.ejected("ejected by " + by + " for " + millis(nanos) + " ms", now, now + nanos,
				cur.ejections(), now + nanos));
	}

	/** @return whether this swap won; {@code false} when another thread changed the state first */
	private boolean transition(ReplicaStatus expected, ReplicaStatus next) {
		if (!LEGAL.get(expected.state()).contains(next.state())) {
			throw new IllegalStateException("illegal transition of replica " + replica.id() + " from " + expected.state()
					+ " to " + next.state() + " (" + next.reason() + ")");
		}
		if (!status.compareAndSet(expected, next)) {
			return false;
		}
		pool.transitioned(this, expected, next);
		return true;
	}

	private static long millis(long nanos) {
		return TimeUnit.NANOSECONDS.toMillis(nanos);
	}

	@Override
	public String toString() {
		return replica.id() + "[" + state() + "]";
	}

}
