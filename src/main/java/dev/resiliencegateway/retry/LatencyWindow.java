package dev.resiliencegateway.retry;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

import dev.resiliencegateway.clock.Ticker;

/**
 * The route's recent latencies (the last 1024 successful attempts) and their p95, recomputed at most
 * once a second by whichever request asks first. Feeds the hedge delay. Written by hand: a sorted
 * copy of 1024 longs once a second is cheaper on the request path than a shared histogram.
 */
public final class LatencyWindow {

	private static final int SIZE = 1024;

	private final AtomicLongArray samples = new AtomicLongArray(SIZE);

	private final AtomicInteger next = new AtomicInteger();

	/** When p95 was last computed; {@code NEVER} before the first time (not a time: compared apart). */
	private final AtomicLong computedAt = new AtomicLong(NEVER);

	private static final long NEVER = Long.MIN_VALUE;

	private final Ticker ticker;

	private volatile long p95 = -1;

	public LatencyWindow(Ticker ticker) {
		this.ticker = ticker;
	}

	public void record(long nanos) {
		samples.set(Math.floorMod(next.getAndIncrement(), SIZE), nanos);
	}

	/** The p95 of the window in nanos, or -1 before 20 samples. */
	public long p95() {
		long now = ticker.nanos();
		long at = computedAt.get();
		// "now - NEVER" would overflow (to a negative number whenever nanoTime is positive), so the
		// first computation is tested for apart
		if ((at == NEVER || now - at >= 1_000_000_000L) && computedAt.compareAndSet(at, now)) {
			int written = next.get();
			int n = written < 0 ? SIZE : Math.min(written, SIZE); // negative once the counter wrapped: the window is full
			if (n >= 20) {
				long[] copy = new long[n];
				for (int i = 0; i < n; i++) {
					copy[i] = samples.get(i);
				}
				Arrays.sort(copy);
				p95 = copy[(int) Math.ceil(n * 0.95) - 1];
			}
		}
		return p95;
	}

}
