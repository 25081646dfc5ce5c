package dev.resiliencegateway.health;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Successes and totals over the last {@value #SECONDS} seconds, in one-second buckets: a replica's
 * observed availability (the share of its attempts that succeeded) or a route's success as its
 * clients saw it. Lock-free; a bucket is recycled by the first record of a new second, and a record
 * racing that recycling may be lost, which a statistic can afford (a lock on every attempt could not).
 */
public final class AvailabilityWindow {

	public static final int SECONDS = 10;

	private static final long BUCKET = TimeUnit.SECONDS.toNanos(1);

	private final AtomicLongArray epochs = new AtomicLongArray(SECONDS);

	private final AtomicLongArray totals = new AtomicLongArray(SECONDS);

	private final AtomicLongArray successes = new AtomicLongArray(SECONDS);

	public AvailabilityWindow() {
		for (int i = 0; i < SECONDS; i++) {
			epochs.set(i, Long.MIN_VALUE);
		}
	}

	public void record(boolean success, long now) {
		long epoch = Math.floorDiv(now, BUCKET);
		int i = (int) Math.floorMod(epoch, SECONDS);
		long seen = epochs.get(i);
		if (seen != epoch && epochs.compareAndSet(i, seen, epoch)) {
			totals.set(i, 0);
			successes.set(i, 0);
		}
		totals.incrementAndGet(i);
		if (success) {
			successes.incrementAndGet(i);
		}
	}

	/** Calls recorded in the window. */
	public long total(long now) {
		return sum(totals, now);
	}

	/** The share of calls in the window that succeeded; NaN without any. */
	public double availability(long now) {
		long total = sum(totals, now);
		return total == 0 ? Double.NaN : (double) sum(successes, now) / total;
	}

	private long sum(AtomicLongArray values, long now) {
		long current = Math.floorDiv(now, BUCKET);
		long sum = 0;
		for (int i = 0; i < SECONDS; i++) {
			long epoch = epochs.get(i);
			if (epoch > current - SECONDS && epoch <= current) {
				sum += values.get(i);
			}
		}
		return sum;
	}

	/**
	 * What redundancy buys when failures are independent: a request fails only if every replica it
	 * may use fails, so R = 1 - (1 - p1)(1 - p2)...(1 - pk). Replicas without data (NaN) are left out;
	 * NaN when none has data.
	 */
	public static double predicted(double... replicaAvailabilities) {
		double allFail = 1;
		boolean any = false;
		for (double p : replicaAvailabilities) {
			if (!Double.isNaN(p)) {
				allFail *= 1 - p;
				any = true;
			}
		}
		return any ? 1 - allFail : Double.NaN;
	}

}
