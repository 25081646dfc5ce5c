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
 * two doubles.
 */
public final class ReplicaLoad {

	private final AtomicInteger inFlight = new AtomicInteger();

	private final double decayNanos;

	private final long errorPenaltyNanos;

	private volatile double latencyNanos;

	private volatile double successRate = 1.0;

	private volatile long stampNanos;

	public ReplicaLoad(long decayNanos, long errorPenaltyNanos, long initialLatencyNanos, long now) {
		this.decayNanos = decayNanos;
		this.errorPenaltyNanos = errorPenaltyNanos;
		this.latencyNanos = initialLatencyNanos;
		this.stampNanos = now;
	}

	public void begin() {
		inFlight.incrementAndGet();
	}

	public void end() {
		inFlight.decrementAndGet();
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

	/** The balancer's cost: decayed latency times (in flight + 1). Lower is better. */
	public double cost(long now) {
		return Math.max(1, latencyNanos(now)) * (inFlight.get() + 1);
	}

}
