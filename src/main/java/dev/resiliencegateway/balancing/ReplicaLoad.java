package dev.resiliencegateway.balancing;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the balancer knows of one replica's load: requests in flight, a peak-EWMA of latency
 * (Finagle/Linkerd's "peak EWMA": jumps to a slower observation at once, decays towards faster
 * ones) and an EWMA of the success rate. A failure is observed as at least {@value #PENALTY_FACTOR}
 * times the replica's usual latency (an EWMA over its successes), at most {@code errorPenaltyNanos},
 * so a replica that fails fast does not look fast. The penalty is relative on purpose: a fixed 1 s
 * against healthy answers of 1.5 ms took ten decay times (about 3 s) to fade, and a replica that
 * had healed got no request in that time (P2C sends nothing to a candidate that loses every
 * comparison). Ten times its usual latency loses every comparison too, and fades within a second.
 *
 * <p>Written by hand because no library we use offers a time-decayed peak EWMA; updates are rare
 * enough per replica (one per completed attempt) that a monitor is cheaper than a CAS loop over
 * two doubles. The in-flight count and the sum of start times change together under one small
 * monitor, so their ratio is never read half-updated.
 */
public final class ReplicaLoad {

	/** A failure counts as this many times the replica's usual latency. */
	static final int PENALTY_FACTOR = 10;

	private final AtomicInteger inFlight = new AtomicInteger();

	private final double decayNanos;

	private final long errorPenaltyNanos;

	private volatile double latencyNanos;

	/** EWMA of the latency of successful attempts only: what "usual" means for the penalty. */
	private volatile double okLatencyNanos;

	private volatile double successRate = 1.0;

	private volatile long stampNanos;

	/** Sum of the start times of the attempts in flight; guarded by {@code inFlight}'s monitor. */
	private long startSum;

	public ReplicaLoad(long decayNanos, long errorPenaltyNanos, long initialLatencyNanos, long now) {
		this.decayNanos = decayNanos;
		this.errorPenaltyNanos = errorPenaltyNanos;
		this.latencyNanos = initialLatencyNanos;
		this.okLatencyNanos = initialLatencyNanos;
		this.stampNanos = now;
	}

	/** An attempt started at {@code now}. */
	public void begin(long now) {
		synchronized (inFlight) {
			inFlight.incrementAndGet();
			startSum += now;
		}
	}

	/** The attempt that {@link #begin began} at {@code startedAt} ended. */
	public void end(long startedAt) {
		synchronized (inFlight) {
			inFlight.decrementAndGet();
			startSum -= startedAt;
		}
	}

	/** Mean age of the attempts in flight: a lower bound on the replica's latency right now. */
	private double meanAgeNanos(long now) {
		synchronized (inFlight) {
			int n = inFlight.get();
			return n == 0 ? 0 : Math.max(0, now - (double) startSum / n);
		}
	}

	public int inFlight() {
		return inFlight.get();
	}

	/** When the last attempt was {@link #observe observed} (or its failures forgotten): the ticker's nanoseconds. */
	public long lastObservedNanos() {
		return stampNanos;
	}

	/** Records one finished attempt. {@code cancelled} attempts say nothing about the replica. */
	public synchronized void observe(long rttNanos, boolean success, long now) {
		double w = Math.exp(-Math.max(0, now - stampNanos) / decayNanos);
		double rtt = success ? rttNanos : Math.max(rttNanos, penaltyNanos());
		double current = latencyNanos;
		latencyNanos = rtt > current ? rtt : current * w + rtt * (1 - w);
		if (success) {
			// time-decayed like the rest, but each success moves it at least an eighth of the way (as
			// TCP's smoothed RTT), so a burst of answers in the same instant still counts
			okLatencyNanos += (rttNanos - okLatencyNanos) * Math.max(1 - w, 0.125);
		}
		successRate = successRate * w + (success ? 1 : 0) * (1 - w);
		stampNanos = now;
	}

	/** The latency a failure is observed as (at least): {@value #PENALTY_FACTOR} x the usual latency, capped. */
	double penaltyNanos() {
		return Math.min(errorPenaltyNanos, PENALTY_FACTOR * Math.max(1_000, okLatencyNanos));
	}

	/**
	 * Forgets the failures: the latency estimate goes back to the usual latency of its successes and
	 * the success rate to 1. For a replica readmitted to rotation, whose ejection has already answered
	 * its failures (slow start limits its share); otherwise the penalty of its last failed probe would
	 * keep it from its first request for as long as the penalty takes to fade.
	 */
	public synchronized void forgetFailures(long now) {
		latencyNanos = okLatencyNanos;
		successRate = 1.0;
		stampNanos = now;
	}

	/** Latency EWMA decayed to {@code now}: an idle replica's past slowness fades, so it gets re-tested. */
	public double latencyNanos(long now) {
		double w = Math.exp(-Math.max(0, now - stampNanos) / decayNanos);
		return latencyNanos * w;
	}

	public double successRate() {
		return successRate;
	}

	/**
	 * The balancer's cost: latency times (in flight + 1), lower is better. The latency is the decayed
	 * EWMA, or the mean age of the requests in flight when that is larger: a replica that stopped
	 * answering completes nothing, so its EWMA would not move, but its requests in flight keep ageing.
	 */
	public double cost(long now) {
		return Math.max(1, Math.max(latencyNanos(now), meanAgeNanos(now))) * (inFlight.get() + 1);
	}

}
