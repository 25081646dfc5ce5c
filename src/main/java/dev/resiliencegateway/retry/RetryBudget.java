package dev.resiliencegateway.retry;

import java.util.concurrent.atomic.AtomicLongArray;

import dev.resiliencegateway.clock.Ticker;

/**
 * Limits retries (or hedges) to a share of requests over a sliding window, with a small floor per
 * second so a quiet route can still retry: over the last {@code window} seconds, at most
 * {@code floorPerSecond x window + ratio x requests} retries. Finagle's and Envoy's retry budgets
 * work the same way; it is what keeps an outage of a whole pool from multiplying the load on it.
 *
 * <p>Lock-free: one slot per second (tagged with its second), requests and retries counted apart.
 * Written by hand because Resilience4j's Retry has no budget and its RateLimiter is not relative to
 * traffic.
 */
public final class RetryBudget {

	private static final int WINDOW = 10;

	private final double ratio;

	private final double floorPerSecond;

	private final Ticker ticker;

	/** Per slot: [second tag, requests, retries], interleaved. */
	private final AtomicLongArray slots = new AtomicLongArray(WINDOW * 3);

	public RetryBudget(double ratio, double floorPerSecond, Ticker ticker) {
		if (!(ratio >= 0 && ratio <= 1)) {
			throw new IllegalArgumentException("ratio: " + ratio + " (expected: >= 0 and <= 1)");
		}
		if (floorPerSecond < 0) {
			throw new IllegalArgumentException("floorPerSecond: " + floorPerSecond + " (expected: >= 0)");
		}
		this.ratio = ratio;
		this.floorPerSecond = floorPerSecond;
		this.ticker = ticker;
	}

	/** Counts one client request (its first attempt). */
	public void onRequest() {
		add(1, 1);
	}

	/** Takes one retry from the budget; {@code false} when it is spent. */
	public boolean tryRetry() {
		long requests = 0;
		long retries = 0;
		long second = second();
		for (int i = 0; i < WINDOW; i++) {
			long tag = slots.get(i * 3);
			if (tag > second - WINDOW && tag <= second) {
				requests += slots.get(i * 3 + 1);
				retries += slots.get(i * 3 + 2);
			}
		}
		if (retries + 1 > floorPerSecond * WINDOW + ratio * requests) {
			return false;
		}
		add(2, 1);
		return true;
	}

	private void add(int field, long n) {
		long second = second();
		int i = (int) Math.floorMod(second, WINDOW);
		long tag = slots.get(i * 3);
		if (tag != second) {
			// first touch of this slot in a new second: reset it (a lost race only loses a few counts)
			if (slots.compareAndSet(i * 3, tag, second)) {
				slots.set(i * 3 + 1, 0);
				slots.set(i * 3 + 2, 0);
			}
		}
		slots.addAndGet(i * 3 + field, n);
	}

	private long second() {
		return Math.floorDiv(ticker.nanos(), 1_000_000_000L);
	}

}
