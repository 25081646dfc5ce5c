package dev.resiliencegateway.balancing;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the balancer knows of one replica's load: requests in flight, a peak-EWMA of latency
 * (Finagle/Linkerd's "peak EWMA": jumps to a slower observation at once, decays towards faster
 * ones) and an EWMA of the success rate. Failures are observed as at least {@code errorPenaltyNanos}
 * of latency, so a replica that fails fast does not look fast.
 *
 * <p>Written by hand because no library we use offers a time-decayed peak EWMA; updates are rare
 * enough per replica (one per completed attempt) that a monitor is cheaper than a CAS loop over
 * two doubles. The in-flight count and the sum of start times change together under one small
 * monitor, so their ratio is never read half-updated.
 */
public final class ReplicaLoad {

	private final AtomicInteger inFlight = new AtomicInteger();

	private final double decayNanos;

	private final long errorPenaltyNanos;

	private volatile double latencyNanos;

	private volatile double successRate = 1.0;

	private volatile long stampNanos;

	/** Sum of the start times of the attempts in flight; guarded by {@code inFlight}'s monitor. */
	private long startSum;

	public ReplicaLoad(long decayNanos, long errorPenaltyNanos, long initialLatencyNanos, long now) {
		this.decayNanos = decayNanos;
		this.errorPenaltyNanos = errorPenaltyNanos;
		this.latencyNanos = initialLatencyNanos;
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

	/** Records one finished attempt. {@code cancelled} attempts say nothing about the replica. */
	public synchronized void observe(long rttNanos, boolean success, long now) {
		long rtt = success ? rttNanos : Math.max(rttNanos, errorPenaltyNanos);
		double w = Math.exp(-Math.max(0, now - stampNanos) / decayNanos);
		double current = latencyNanos;
		latencyNanos = rtt > current ? rtt : current * w + rtt * (1 - w);
		successRate = successRate * w + (success ? 1 : 0) * (1 - w);
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
