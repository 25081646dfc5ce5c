package dev.resiliencegateway.exchange;

import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import dev.resiliencegateway.config.GatewayConfig.RideThroughPolicy;
import dev.resiliencegateway.health.PoolHealth;
import dev.resiliencegateway.health.ReplicaHealth;

/**
 * Ride-through of one route: when no replica of its pool can take a request, the request waits (up
 * to the route's {@code max-wait}, and never past its deadline) for a replica to come back into
 * rotation, instead of getting 503 at once. What a service whose pods all restart at once (a bad
 * rollout, a node drain) needs; Caddy's {@code lb_try_duration} does the same by retrying every
 * waiting request on an interval. Here the waiting requests sleep until the pool reports a comeback
 * ({@link PoolHealth#onComeback}: a passing health check or probe, or a replica discovered), so a
 * long outage costs no connection attempts.
 *
 * <p>Released gradually: at most {@link #RELEASED_PER_REPLICA} released requests are in flight per
 * replica in rotation, the next waiter (oldest first) going as each one ends. A replica that just
 * restarted is not handed every request that piled up while it was gone (which could knock it over
 * again), and a fast one drains the queue fast: the release is clocked by its answers.
 *
 * <p>Bounded: at most {@code max-waiting} requests wait at once; beyond it, 503 at once.
 *
 * <p>No library does this (Resilience4j's bulkhead limits concurrency but does not wait for an
 * external event, and a Bulkhead's wait would admit everyone at once when the pool comes back), so it
 * is a lock and a condition, written here.
 */
final class RideThrough {

	/** Released requests in flight per replica in rotation, while older ones still wait. */
	static final int RELEASED_PER_REPLICA = 4;

	/** How a wait ended. */
	enum Result {

		/** A replica came back and this request may try again; {@link #done} when that attempt ends. */
		RELEASED,

		/** {@code max-wait} (or the deadline) passed first. */
		TIMED_OUT,

		/** {@code max-waiting} requests were already waiting: not waited at all. */
		FULL,

		/** The client left while waiting. */
		GONE

	}

	private final PoolHealth pool;

	private final RideThroughPolicy policy;

	private final ReentrantLock lock = new ReentrantLock();

	/** Waiting requests, oldest first; each sleeps on its own condition, so one can be woken alone. Under {@link #lock}. */
	private final ArrayDeque<Waiter> queue = new ArrayDeque<>();

	/** Released requests whose attempt has not ended. Under {@link #lock}. */
	private int released;

	private record Waiter(long seenComebacks, Condition wake) {
	}

	RideThrough(PoolHealth pool, RideThroughPolicy policy) {
		this.pool = pool;
		this.policy = policy;
		pool.onComeback(this::wakeNext);
	}

	RideThroughPolicy policy() {
		return policy;
	}

	/**
	 * Waits until a replica came into rotation after {@code seenComebacks} and it is this request's
	 * turn, for at most {@code maxNanos}.
	 *
	 * @param gone whether the client has left (checked on every wake-up; {@link #wakeEveryone} wakes it)
	 */
	Result await(long seenComebacks, long maxNanos, BooleanSupplier gone) {
		lock.lock();
		try {
			if (queue.size() >= policy.maxWaiting()) {
				return Result.FULL;
			}
			Waiter me = new Waiter(seenComebacks, lock.newCondition());
			queue.addLast(me);
			try {
				long left = maxNanos;
				while (true) {
					if (gone.getAsBoolean()) {
						return Result.GONE;
					}
					if (mayGo(me) && released < RELEASED_PER_REPLICA * inRotation()) {
						released++;
						return Result.RELEASED;
					}
					if (left <= 0) {
						return Result.TIMED_OUT;
					}
					left = me.wake().awaitNanos(left);
				}
			}
			finally {
				queue.remove(me);
			}
		}
		catch (InterruptedException e) {
			Thread.currentThread().interrupt();
			return Result.GONE;
		}
		finally {
			lock.unlock();
		}
	}

	/** A released request's attempt ended: the oldest waiter that may go goes. */
	void done() {
		lock.lock();
		try {
			released--;
		}
		finally {
			lock.unlock();
		}
		wakeNext();
	}

	/** Wakes the oldest waiters that may go, as many as there are free release slots. */
	private void wakeNext() {
		lock.lock();
		try {
			int slots = RELEASED_PER_REPLICA * inRotation() - released;
			for (Waiter w : queue) {
				if (slots <= 0) {
					break;
				}
				if (mayGo(w)) {
					w.wake().signal();
					slots--;
				}
			}
		}
		finally {
			lock.unlock();
		}
	}

	/** A waiting client left: every waiter looks again (rare). */
	void wakeEveryone() {
		lock.lock();
		try {
			queue.forEach(w -> w.wake().signal());
		}
		finally {
			lock.unlock();
		}
	}

	/** Requests waiting now. */
	int waiting() {
		lock.lock();
		try {
			return queue.size();
		}
		finally {
			lock.unlock();
		}
	}

	/** A replica came into rotation since the waiter last tried. */
	private boolean mayGo(Waiter w) {
		return pool.comebacks() != w.seenComebacks();
	}

	private int inRotation() {
		int n = 0;
		for (ReplicaHealth r : pool.snapshot().all()) {
			if (r.state().takesTraffic()) {
				n++;
			}
		}
		return n;
	}

	static long millis(long nanos) {
		return TimeUnit.NANOSECONDS.toMillis(nanos);
	}

}
