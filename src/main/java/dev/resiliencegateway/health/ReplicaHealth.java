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
 * The one health model of one replica. The request path only writes outcomes here; the rules
 * (consecutive failures, the replica's Resilience4j circuit breaker for failure and slow-call rates)
 * ask the pool to eject; the pool decides (max-ejection cap, detect-only). Active health checks and
 * operators write here too. State is an immutable {@link ReplicaStatus} swapped by compare-and-set
 * along a table of legal transitions; only the winner of a swap publishes its event.
 */
public final class ReplicaHealth implements Candidate {

	private static final Map<ReplicaState, Set<ReplicaState>> LEGAL = new EnumMap<>(ReplicaState.class);

	static {
		LEGAL.put(HEALTHY, EnumSet.of(EJECTED, DOWN, DRAINED));
		LEGAL.put(RECOVERING, EnumSet.of(HEALTHY, EJECTED, DOWN, DRAINED));
		LEGAL.put(EJECTED, EnumSet.of(PROBING, RECOVERING, DOWN, DRAINED, EJECTED));
		LEGAL.put(PROBING, EnumSet.of(RECOVERING, EJECTED, DOWN, DRAINED));
		LEGAL.put(DOWN, EnumSet.of(RECOVERING, DRAINED, EJECTED));
		LEGAL.put(DRAINED, EnumSet.of(RECOVERING, DOWN, EJECTED));
	}

	private final Replica replica;

	private final PoolHealth pool;

	private final ReplicaLoad load;

	private final CircuitBreaker breaker;

	private final AtomicReference<ReplicaStatus> status;

	private final AtomicInteger consecutiveFailures = new AtomicInteger();

	private final AtomicLong ejectionsTotal = new AtomicLong();

	private int checkPasses;

	private int checkFailures;

	ReplicaHealth(Replica replica, PoolHealth pool, ReplicaLoad load, CircuitBreaker breaker, ReplicaStatus initial) {
		this.replica = replica;
		this.pool = pool;
		this.load = load;
		this.breaker = breaker;
		this.status = new AtomicReference<>(initial);
		breaker.getEventPublisher().onStateTransition(event -> {
			if (event.getStateTransition().getToState() == CircuitBreaker.State.OPEN) {
				CircuitBreaker.Metrics m = breaker.getMetrics();
				pool.requestEjection(this, String.format("failure rate %.0f%% / slow-call rate %.0f%% over the last %d calls",
						m.getFailureRate(), m.getSlowCallRate(), m.getNumberOfBufferedCalls()));
			}
		});
	}

	public Replica replica() {
		return replica;
	}

	public ReplicaStatus status() {
		return status.get();
	}

	public ReplicaState state() {
		return status.get().state();
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
	 * Records how an attempt ended. Called once per attempt, from the request path.
	 *
	 * @param probe the attempt was this replica's probe request while ejected
	 */
	public void onOutcome(Outcome outcome, long latencyNanos, boolean probe) {
		long now = pool.ticker().nanos();
		if (outcome == Outcome.CANCELLED) {
			if (probe) {
				endProbe(false, "probe request cancelled", now);
			}
			return;
		}
		boolean failure = outcome.isFailure();
		load.observe(latencyNanos, !failure, now);
		if (probe) {
			endProbe(!failure, failure ? "probe request failed: " + outcome : "probe request succeeded", now);
			return;
		}
		if (!state().takesTraffic()) {
			return; // a straggler from before the ejection: the verdict is already in
		}
		if (failure) {
			breaker.onError(latencyNanos, TimeUnit.NANOSECONDS, OutcomeFailure.of(outcome));
			int n = consecutiveFailures.incrementAndGet();
			if (n == pool.policy().consecutiveFailures()) {
				pool.requestEjection(this, n + " consecutive failures (last: " + outcome + ")");
			}
		}
		else {
			breaker.onSuccess(latencyNanos, TimeUnit.NANOSECONDS);
			if (consecutiveFailures.get() != 0) {
				consecutiveFailures.set(0);
			}
		}
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
		ReplicaStatus next = new ReplicaStatus(EJECTED, reason + "; ejected for " + millis(length) + " ms", now,
				now + length, previous + 1, now + policy.probeInterval().toNanos(), false);
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
		ReplicaStatus next = new ReplicaStatus(PROBING, "probing with one request", now, cur.untilNanos(),
				cur.ejections(), now + pool.policy().probeInterval().toNanos(), false);
		return transition(cur, next);
	}

	private void endProbe(boolean success, String reason, long now) {
		ReplicaStatus cur = status.get();
		if (cur.state() != PROBING) {
			return;
		}
		if (success) {
			readmit(cur, reason, now);
		}
		else {
			// a replica that just failed its probe is not readmitted by its ejection timer: that would
			// send it real traffic knowing it fails. The ejection lasts until two probe intervals after
			// the last failed probe (so it still ends when no probe traffic comes at all).
			long interval = pool.policy().probeInterval().toNanos();
			transition(cur, new ReplicaStatus(EJECTED, reason, now, Math.max(cur.untilNanos(), now + 2 * interval),
					cur.ejections(), now + interval, false));
		}
	}

	private boolean readmit(ReplicaStatus cur, String reason, long now) {
		long window = pool.policy().slowStartWindow().toNanos();
		ReplicaStatus next = window > 0
				? new ReplicaStatus(RECOVERING, reason, now, now + window, cur.ejections(), 0, false)
				: new ReplicaStatus(HEALTHY, reason, now, 0, cur.ejections(), 0, false);
		if (cur.state() == HEALTHY && next.state() == HEALTHY) {
			return false;
		}
		return transition(cur, next);
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
					transition(cur, new ReplicaStatus(HEALTHY, "slow start complete", now, 0, cur.ejections(), 0, false));
				}
			}
			default -> {
			}
		}
	}

	/** Applies one active health check result. Checks of one replica never overlap. */
	public synchronized void onHealthCheck(HealthVerdict verdict, String detail) {
		long now = pool.ticker().nanos();
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
			}
			case OUT_OF_SERVICE -> {
				checkPasses = 0;
				checkFailures = 0;
				if (cur.state() != DRAINED) {
					transition(cur, cur.to(DRAINED, "health check says OUT_OF_SERVICE", now, 0));
				}
			}
			case DOWN -> {
				checkPasses = 0;
				checkFailures++;
				if (checkFailures >= policy.unhealthyThreshold() && cur.state() != DOWN && !cur.adminDrained()) {
					transition(cur, cur.to(DOWN, "health check failed " + checkFailures + " times in a row: " + detail,
							now, 0));
				}
			}
		}
	}

	/** Operator: no new requests; in-flight ones finish. */
	public boolean drain(String by) {
		long now = pool.ticker().nanos();
		ReplicaStatus cur = status.get();
		return transition(cur, new ReplicaStatus(DRAINED, "drained by " + by, now, 0, cur.ejections(), 0, true));
	}

	/** Operator: back into rotation (with slow start). */
	public boolean restore(String by) {
		ReplicaStatus cur = status.get();
		return readmit(cur, "restored by " + by, pool.ticker().nanos());
	}

	/** Operator: out of rotation for {@code nanos}, not counted against the max-ejection cap. */
	public boolean ejectFor(long nanos, String by) {
		long now = pool.ticker().nanos();
		ReplicaStatus cur = status.get();
		return transition(cur, new ReplicaStatus(EJECTED, "ejected by " + by + " for " + millis(nanos) + " ms", now,
				now + nanos, cur.ejections(), now + nanos, false));
	}

	private boolean transition(ReplicaStatus expected, ReplicaStatus next) {
		if (!LEGAL.get(expected.state()).contains(next.state())) {
			return false;
		}
		if (!status.compareAndSet(expected, next)) {
			return false;
		}
		pool.published(this, expected, next);
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
