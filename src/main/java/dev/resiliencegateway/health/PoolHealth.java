package dev.resiliencegateway.health;

import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.random.RandomGenerator;

import dev.resiliencegateway.balancing.ReplicaLoad;
import dev.resiliencegateway.clock.Ticker;
import dev.resiliencegateway.outcome.Outcome;
import dev.resiliencegateway.pool.Replica;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;

/**
 * The replicas of one pool and the pool-wide rules: the max-ejection cap, detect-only mode and panic
 * mode. Publishes an immutable {@link Snapshot} after every transition; the request path reads only
 * the snapshot and never waits on this object's lock, which is taken on transitions alone.
 */
public final class PoolHealth {

	/**
	 * What the balancer reads.
	 *
	 * @param all every replica
	 * @param routable the replicas that take normal traffic; in panic, every replica not drained
	 * @param ejected the passively ejected replicas (candidates for a probe request)
	 * @param panic too few replicas take traffic, so all of them get it
	 * @param maxWeight the largest static weight among the routable replicas (a bound on their
	 * effective weights, for the balancer's sampling)
	 */
	public record Snapshot(List<ReplicaHealth> all, List<ReplicaHealth> routable, List<ReplicaHealth> ejected,
			boolean panic, double maxWeight) {
	}

	/**
	 * Everything a pool needs from outside; one per gateway.
	 *
	 * @param latencyDecayNanos time constant of a replica's latency EWMA (the balancer's cost)
	 * @param errorPenaltyNanos a failure counts as at least this much latency, so a replica that fails fast does not look fast
	 * @param initialLatencyNanos a new replica's latency before its first answer
	 */
	public record Environment(Ticker ticker, InstantSource wallClock, RandomGenerator random,
			Consumer<ReplicaEvent> listener, Function<String, CircuitBreaker> breakers, long latencyDecayNanos,
			long errorPenaltyNanos, long initialLatencyNanos) {

		public static final Duration LATENCY_DECAY = Duration.ofMillis(500);

		public static final Duration ERROR_PENALTY = Duration.ofSeconds(1);

		public static final Duration INITIAL_LATENCY = Duration.ofMillis(1);

		/**
		 * The same environment, with {@code also} told of every event first: a listener that throws
		 * (a user's event sink) cannot keep it from hearing.
		 */
		public Environment alsoTelling(Consumer<ReplicaEvent> also) {
			return new Environment(ticker, wallClock, random, also.andThen(listener), breakers, latencyDecayNanos,
					errorPenaltyNanos, initialLatencyNanos);
		}

		/** The gateway's environment with the default latency constants. */
		public static Environment of(Ticker ticker, InstantSource wallClock, RandomGenerator random,
				Consumer<ReplicaEvent> listener, Function<String, CircuitBreaker> breakers) {
			return new Environment(ticker, wallClock, random, listener, breakers, LATENCY_DECAY.toNanos(),
					ERROR_PENALTY.toNanos(), INITIAL_LATENCY.toNanos());
		}

	}

	private static final System.Logger LOG = System.getLogger(PoolHealth.class.getName());

	private final String name;

	private final Environment env;

	private volatile HealthPolicy policy;

	private volatile List<ReplicaHealth> replicas = List.of();

	private volatile Snapshot snapshot = new Snapshot(List.of(), List.of(), List.of(), false, 0);

	/** Guarded by this pool's lock; read without it. */
	private volatile long comebacks;

	private final List<Runnable> comebackListeners = new java.util.concurrent.CopyOnWriteArrayList<>();

	/** Comeback listeners to run once this pool's lock is released. */
	private final Queue<Runnable> pendingComeback = new ConcurrentLinkedQueue<>();

	/** Events waiting to be published once this pool's lock is released. */
	private final Queue<ReplicaEvent> pending = new ConcurrentLinkedQueue<>();

	/** What the replicas see of their pool. */
	private final ReplicaHealth.Pool view = new ReplicaHealth.Pool() {

		@Override
		public HealthPolicy policy() {
			return policy;
		}

		@Override
		public long now() {
			return env.ticker().nanos();
		}

		@Override
		public void transitioned(ReplicaHealth replica, ReplicaStatus from, ReplicaStatus to) {
			rebuild();
			if (!from.state().takesTraffic() && to.state().takesTraffic()) {
				synchronized (PoolHealth.this) {
					cameBack();
				}
			}
			publish(new ReplicaEvent.Transition(name, replica.replica().id(), from.state(), to.state(), to.reason(),
					env.wallClock().instant()));
		}

	};

	public PoolHealth(String name, HealthPolicy policy, Environment env, List<Replica> initial) {
		this.name = name;
		this.policy = policy;
		this.env = env;
		setReplicas(initial, ReplicaState.HEALTHY);
	}

	public String name() {
		return name;
	}

	public HealthPolicy policy() {
		return policy;
	}

	public Snapshot snapshot() {
		return snapshot;
	}

	public List<ReplicaHealth> replicas() {
		return replicas;
	}

	/**
	 * A configuration change: the new health policy (ejection lengths, thresholds, slow start) and
	 * replica list at once. Replicas kept keep their state and statistics (a new weight included),
	 * removed ones are drained (their requests in flight finish; none are sent new), new ones join in
	 * slow start.
	 */
	public void reconfigure(HealthPolicy next, List<Replica> latest) {
		synchronized (this) {
			this.policy = next;
		}
		setReplicas(latest, ReplicaState.RECOVERING);
	}

	/** Switches between enforcing and detect-only. */
	public synchronized void setDetectOnly(boolean detectOnly) {
		this.policy = policy.withDetectOnly(detectOnly);
	}

	/**
	 * Replaces the replica list (discovery): replicas already known keep their state, new ones join
	 * in {@code joinState} (RECOVERING after startup, so they ramp up), missing ones leave.
	 */
	public void setReplicas(List<Replica> latest, ReplicaState joinState) {
		replaceReplicas(latest, joinState);
		flush();
	}

	private synchronized void replaceReplicas(List<Replica> latest, ReplicaState joinState) {
		Map<String, ReplicaHealth> known = new LinkedHashMap<>();
		replicas.forEach(r -> known.put(r.replica().id(), r));
		List<ReplicaHealth> next = new ArrayList<>();
		long now = env.ticker().nanos();
		for (Replica r : latest) {
			ReplicaHealth existing = known.get(r.id());
			if (existing != null && existing.replica().uri().equals(r.uri())) {
				// the same replica, perhaps with a new weight: it keeps its health and statistics
				if (existing.replica().weight() != r.weight()) {
					existing.reweigh(r);
				}
				next.add(existing);
				continue;
			}
			long until = joinState == ReplicaState.RECOVERING ? now + policy.slowStartWindow().toNanos() : 0;
			ReplicaLoad load = new ReplicaLoad(env.latencyDecayNanos(), env.errorPenaltyNanos(),
					env.initialLatencyNanos(), now);
			next.add(new ReplicaHealth(r, view, load, env.breakers().apply(name + "@" + r.id()),
					ReplicaStatus.initial(joinState, existing != null ? "changed" : "joined the pool", now, until)));
			if (joinState.takesTraffic()) {
				cameBack();
			}
		}
		replicas = List.copyOf(next);
		rebuild();
	}

	/**
	 * Records how an attempt to {@code replica} ended: its load, its breaker and its rules learn it;
	 * when the rules ask for an ejection, the pool decides. Called once per attempt, from the request
	 * path; never blocks on anything but this pool's short lock, and never throws an event listener's
	 * failure into the request.
	 *
	 * @param probe the attempt was this replica's probe request while ejected
	 */
	public void record(ReplicaHealth replica, Outcome outcome, long latencyNanos, boolean probe) {
		EjectionRequest request = replica.observe(outcome, latencyNanos, probe);
		if (request != null) {
			decide(request);
		}
	}

	/** Decides on a rule's request to eject: detect-only and the max-ejection cap may hold it back. */
	void decide(EjectionRequest request) {
		synchronized (this) {
			decideLocked(request.replica(), request.reason(), request.evidence());
		}
		flush();
	}

	private void decideLocked(ReplicaHealth replica, String reason, EjectionRequest.Evidence evidence) {
		if (!replica.state().takesTraffic()) {
			return;
		}
		if (evidence == EjectionRequest.Evidence.TIMEOUT && !slowerThanItsPeers(replica)) {
			return; // every replica times out: the pool is overloaded (asked again on every timeout: no event)
		}
		if (evidence == EjectionRequest.Evidence.FAILURE_OUTLIER && !failsMoreThanItsPeers(replica)) {
			// the whole pool fails this often (a shared dependency): ejecting would only load the rest;
			// no event, as this is asked again on every failure while it lasts
			return;
		}
		HealthPolicy p = policy;
		if (p.detectOnly()) {
			publish(new ReplicaEvent.WouldEject(name, replica.replica().id(), reason, "the pool is in detect-only mode",
					env.wallClock().instant()));
			replica.resetDetection();
			return;
		}
		if (evidence == EjectionRequest.Evidence.SLOW_CALLS && !slowerThanItsPeers(replica)) {
			publish(new ReplicaEvent.WouldEject(name, replica.replica().id(), reason,
					"no other replica in rotation is " + SLOW_OUTLIER_FACTOR + "x faster: the pool is overloaded, not this replica",
					env.wallClock().instant()));
			replica.resetSlowDetection();
			return;
		}
		int out = 0;
		for (ReplicaHealth r : replicas) {
			if (r.state().isOut()) {
				out++;
			}
		}
		if ((out + 1) * 100 > p.maxEjectionPercent() * replicas.size()) {
			publish(new ReplicaEvent.WouldEject(name, replica.replica().id(), reason,
					"the max-ejection cap of " + p.maxEjectionPercent() + "% is reached", env.wallClock().instant()));
			replica.resetDetection();
			return;
		}
		replica.eject(reason, env.ticker().nanos(), env.random().nextDouble());
	}

	/**
	 * Slowness the whole pool shares is overload, not a fault of one replica: ejecting one replica of
	 * an overloaded pool sends its share to the others, who slow down in turn and are ejected next (a
	 * burst of 2000 requests at once did that to a pool of three healthy replicas). A replica is ejected
	 * for slow calls only when some other replica in rotation answers at least this many times faster
	 * (peak-EWMA latency); failures eject regardless. Envoy's success-rate outlier detection is
	 * relative to the pool in the same way.
	 */
	static final double SLOW_OUTLIER_FACTOR = 2.0;

	private boolean slowerThanItsPeers(ReplicaHealth replica) {
		long now = env.ticker().nanos();
		double own = replica.load().latencyNanos(now);
		for (ReplicaHealth r : replicas) {
			if (r != replica && r.state().takesTraffic() && r.load().latencyNanos(now) * SLOW_OUTLIER_FACTOR <= own) {
				return true;
			}
		}
		return false;
	}

	/**
	 * A gray replica (Envoy's success-rate outlier detection is relative in the same way): its recent
	 * failure rate is at least twice the failure share some other replica in rotation showed over the
	 * last seconds. When every replica fails as often, the cause is shared and no ejection helps.
	 */
	private boolean failsMoreThanItsPeers(ReplicaHealth replica) {
		long now = env.ticker().nanos();
		double own = replica.recentFailurePercent() / 100.0;
		for (ReplicaHealth r : replicas) {
			if (r != replica && r.state().takesTraffic()) {
				double p = r.availability().availability(now);
				if (!Double.isNaN(p) && (1 - p) * 2 <= own) {
					return true;
				}
			}
		}
		return false;
	}

	/** Now, on the pool's ticker (what {@link #quietSince} compares with). */
	public long now() {
		return env.ticker().nanos();
	}

	/**
	 * Whether the pool was quiet and whole since {@code sinceNanos}: every replica healthy with its
	 * last check passed, none with an attempt in flight or observed since then. Such a pool's active
	 * checks can slow down ({@code health-check.no-traffic-interval}).
	 */
	public boolean quietSince(long sinceNanos) {
		for (ReplicaHealth r : replicas) {
			ReplicaLoad load = r.load();
			if (r.state() != ReplicaState.HEALTHY || load.inFlight() > 0 || load.lastObservedNanos() - sinceNanos > 0
					|| r.lastCheckFailed()) {
				return false;
			}
		}
		return true;
	}

	/**
	 * Whether some replica waits for a time to pass (its ejection or its slow start to end, its next
	 * recheck while down): ticks are needed.
	 */
	public boolean awaitsTime() {
		for (ReplicaHealth r : replicas) {
			ReplicaState s = r.state();
			if (s == ReplicaState.EJECTED || s == ReplicaState.PROBING || s == ReplicaState.RECOVERING
					|| s == ReplicaState.DOWN) {
				return true;
			}
		}
		return false;
	}

	/** The replicas marked down by their active checks whose recheck is due now. */
	public List<ReplicaHealth> rechecksDue() {
		long now = env.ticker().nanos();
		List<ReplicaHealth> due = new ArrayList<>(0);
		for (ReplicaHealth r : replicas) {
			if (r.recheckDue(now)) {
				due.add(r);
			}
		}
		return due;
	}

	/**
	 * Claims the probes of ejected replicas that have been due for {@code graceNanos} with no request
	 * to ride on (a quiet route); the caller sends each a synthetic probe and reports how it ended
	 * ({@link ReplicaHealth#endSyntheticProbe}).
	 */
	public List<ReplicaHealth> claimOverdueProbes(long graceNanos) {
		long now = env.ticker().nanos();
		List<ReplicaHealth> claimed = new ArrayList<>(0);
		for (ReplicaHealth r : snapshot.ejected()) {
			if (r.claimOverdueProbe(now, graceNanos)) {
				claimed.add(r);
			}
		}
		return claimed;
	}

	/**
	 * Counts replicas coming into rotation (readmitted, or joined by discovery): a request waiting
	 * for a replica to come back ({@code ride-through}) waits for this number to change.
	 */
	public long comebacks() {
		return comebacks;
	}

	/** Runs {@code listener} (off this pool's lock, on the thread of the change) whenever {@link #comebacks} grows. */
	public void onComeback(Runnable listener) {
		comebackListeners.add(listener);
	}

	private void cameBack() {
		comebacks++;
		for (Runnable l : comebackListeners) {
			pendingComeback.add(l);
		}
	}

	/** Time-driven transitions; called every few hundred milliseconds off the request path. */
	public void tick() {
		long now = env.ticker().nanos();
		for (ReplicaHealth r : replicas) {
			r.tick(now);
		}
	}

	/** Queues an event; it is delivered at once, or when this pool's lock is released. */
	private void publish(ReplicaEvent event) {
		pending.add(event);
		if (!Thread.holdsLock(this)) {
			flush();
		}
	}

	/** Delivers the queued events outside the pool's lock; a listener that throws is logged, never rethrown. */
	private void flush() {
		Runnable comeback;
		while ((comeback = pendingComeback.poll()) != null) {
			try {
				comeback.run();
			}
			catch (RuntimeException e) {
				LOG.log(System.Logger.Level.WARNING, "a comeback listener failed", e);
			}
		}
		ReplicaEvent event;
		while ((event = pending.poll()) != null) {
			try {
				env.listener().accept(event);
			}
			catch (RuntimeException e) {
				LOG.log(System.Logger.Level.WARNING, "a replica event listener failed on: " + event, e);
			}
		}
	}

	private synchronized void rebuild() {
		List<ReplicaHealth> all = replicas;
		List<ReplicaHealth> taking = new ArrayList<>();
		List<ReplicaHealth> notDrained = new ArrayList<>();
		List<ReplicaHealth> ejected = new ArrayList<>();
		for (ReplicaHealth r : all) {
			ReplicaState s = r.state();
			if (s.takesTraffic()) {
				taking.add(r);
			}
			if (s != ReplicaState.DRAINED) {
				notDrained.add(r);
			}
			if (s == ReplicaState.EJECTED || s == ReplicaState.PROBING) {
				ejected.add(r);
			}
		}
		boolean panic = !notDrained.isEmpty() && taking.size() * 100 < policy.panicThresholdPercent() * notDrained.size();
		List<ReplicaHealth> routable = List.copyOf(panic ? notDrained : taking);
		double maxWeight = 0;
		for (ReplicaHealth r : routable) {
			maxWeight = Math.max(maxWeight, r.replica().weight());
		}
		snapshot = new Snapshot(all, routable, List.copyOf(ejected), panic, maxWeight);
	}

}
