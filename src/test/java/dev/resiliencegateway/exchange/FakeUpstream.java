package dev.resiliencegateway.exchange;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;

import dev.resiliencegateway.clock.FakeTicker;
import dev.resiliencegateway.exchange.transport.RequestBody;
import dev.resiliencegateway.exchange.transport.UpstreamClient;
import dev.resiliencegateway.outcome.Outcome;
import dev.resiliencegateway.pool.Replica;

/**
 * A scripted upstream for the exchange's unit tests: each replica answers from its own script, or
 * all from one shared script, in order (the last step repeats). No sockets. It also keeps the hedge delay on the fake clock: {@link #waitOnFakeClock}
 * lets the attempts run until each has answered or is parked on a step that waits, then moves the clock.
 */
final class FakeUpstream implements UpstreamClient {

	/** What a replica does with one attempt. */
	interface Step {

		Result run(FakeCall call) throws InterruptedException;

	}

	/** One call as the replica saw it. */
	record Sent(String replica, String method, String target, boolean atMostOnce, String body) {
	}

	static Step answer(int status, String body, String... headers) {
		return call -> new Result(call.new FakeResponse(status, body, headers), null, null);
	}

	/** A failure; a connect failure happens before the body is read (nothing reached the replica). */
	static Step fail(Outcome outcome) {
		return outcome == Outcome.CONNECT_FAILURE ? new Refused() : call -> Result.failed(outcome, "scripted " + outcome);
	}

	private record Refused() implements Step {

		@Override
		public Result run(FakeCall call) {
			return Result.failed(Outcome.CONNECT_FAILURE, "scripted CONNECT_FAILURE");
		}

	}

	/** Waits until the attempt is cancelled (a hang), then fails as the HTTP client does. */
	static Step hang() {
		return call -> {
			call.park(call.cancelled);
			return Result.failed(Outcome.RESET, "cancelled");
		};
	}

	/** Waits for {@code release} (or a cancel), then runs {@code then}. */
	static Step after(CountDownLatch release, Step then) {
		return call -> {
			call.park(release);
			return call.cancelled.getCount() == 0 ? Result.failed(Outcome.RESET, "cancelled") : then.run(call);
		};
	}

	/** Answers after {@code millis} of real time (a slow replica), unless cancelled first. */
	static Step slow(long millis, int status, String body) {
		return call -> {
			call.park(new CountDownLatch(1), millis);
			return call.cancelled.getCount() == 0 ? Result.failed(Outcome.RESET, "cancelled") : answer(status, body).run(call);
		};
	}

	static Step explode() {
		return call -> {
			throw new IllegalStateException("a bug in the upstream client");
		};
	}

	/** Parks until cancelled, then returns the answer anyway: a response already on its way when cut off. */
	static Step answerEvenIfCancelled(int status, String body) {
		return call -> {
			call.park(call.cancelled);
			return answer(status, body).run(call);
		};
	}

	private final Map<String, Deque<Step>> scripts = new ConcurrentHashMap<>();

	final List<Sent> sent = new CopyOnWriteArrayList<>();

	final List<FakeCall.FakeResponse> released = new CopyOnWriteArrayList<>();

	final List<FakeCall.FakeResponse> aborted = new CopyOnWriteArrayList<>();

	private final java.util.Set<FakeCall> calls = ConcurrentHashMap.newKeySet();

	/** Opens {@code latch} for the calls parked on it, counting them busy first. */
	void release(CountDownLatch latch) {
		for (FakeCall c : calls) {
			if (c.waitingOn == latch) {
				c.unpark();
			}
		}
		latch.countDown();
	}

	/** Attempts running and not parked (plus tasks queued on {@link #executor}). */
	private final AtomicInteger busy = new AtomicInteger();

	/** Steps taken in order by whichever replica is sent to (for replicas without a script of their own). */
	private volatile Deque<Step> shared;

	FakeUpstream scriptAll(Step... steps) {
		shared = new ArrayDeque<>(List.of(steps));
		return this;
	}

	FakeUpstream script(Replica replica, Step... steps) {
		scripts.put(replica.id(), new ArrayDeque<>(List.of(steps)));
		return this;
	}

	/** An executor for the hedged attempts whose tasks count as busy until they end or park. */
	Executor executor() {
		return task -> {
			busy.incrementAndGet();
			Thread t = new Thread(() -> {
				try {
					task.run();
				}
				finally {
					busy.decrementAndGet();
				}
			}, "fake-upstream-attempt");
			t.setDaemon(true);
			t.start();
		};
	}

	/** The hedge delay on the fake clock: let the attempts settle, then let {@code nanos} pass if still waiting. */
	/** The hedge delay last waited (on the fake clock), in nanos. */
	volatile long lastHedgeWait = -1;

	Hedging.Wait waitOnFakeClock(FakeTicker ticker) {
		return (attempt, nanos) -> {
			lastHedgeWait = nanos;
			settle();
			if (attempt.isDone()) {
				return true;
			}
			ticker.advance(java.time.Duration.ofNanos(nanos));
			return false;
		};
	}

	/** Waits (bounded) until every attempt has answered or is parked. */
	void settle() throws InterruptedException {
		for (int i = 0; i < 5_000 && busy.get() > 0; i++) {
			Thread.sleep(1);
		}
		if (busy.get() > 0) {
			throw new AssertionError("attempts did not settle");
		}
	}

	@Override
	public Call prepare(Replica replica, String method, String target, List<String> headers, RequestBody body,
			long timeoutNanos) {
		return new FakeCall(replica, method, target, body);
	}

	@Override
	public Result execute(Call call, boolean atMostOnce) {
		FakeCall c = (FakeCall) call;
		Deque<Step> script = scripts.getOrDefault(c.replica.id(), shared);
		Step step;
		synchronized (script) {
			step = script.size() > 1 ? script.poll() : script.peek();
		}
		// the HTTP client reads the body only once it has a connection
		sent.add(new Sent(c.replica.id(), c.method, c.target, atMostOnce, step instanceof Refused ? null : read(c.body)));
		try {
			return step.run(c);
		}
		catch (InterruptedException e) {
			Thread.currentThread().interrupt();
			return Result.failed(Outcome.RESET, "interrupted");
		}
	}

	private static String read(RequestBody body) {
		try (InputStream in = body.stream()) {
			return in == null ? null : new String(in.readAllBytes(), StandardCharsets.UTF_8);
		}
		catch (IOException e) {
			return "<unreadable: " + e + ">";
		}
	}

	@Override
	public void close() {
	}

	final class FakeCall implements Call {

		final Replica replica;

		final String method;

		final String target;

		final RequestBody body;

		final CountDownLatch cancelled = new CountDownLatch(1);

		/** Parked on a latch: not busy until the latch opens or the call is cancelled. */
		private final java.util.concurrent.atomic.AtomicBoolean parked = new java.util.concurrent.atomic.AtomicBoolean();

		private volatile CountDownLatch waitingOn;

		FakeCall(Replica replica, String method, String target, RequestBody body) {
			this.replica = replica;
			this.method = method;
			this.target = target;
			this.body = body;
		}

		@Override
		public Replica replica() {
			return replica;
		}

		@Override
		public void cancel() {
			unpark();
			cancelled.countDown();
		}

		/** Counts the call busy again before it wakes, so {@link #settle} cannot miss what it does next. */
		private void unpark() {
			if (parked.compareAndSet(true, false)) {
				busy.incrementAndGet();
			}
		}

		/** Parks until {@code latch} opens or the call is cancelled; a parked attempt is not busy. */
		void park(CountDownLatch latch) throws InterruptedException {
			park(latch, 10_000);
		}

		/** As {@link #park(CountDownLatch)}, for at most {@code millis}. */
		void park(CountDownLatch latch, long millis) throws InterruptedException {
			waitingOn = latch;
			calls.add(this);
			parked.set(true);
			busy.decrementAndGet();
			try {
				for (long i = 0; i < millis && latch.getCount() > 0 && cancelled.getCount() > 0; i++) {
					latch.await(1, TimeUnit.MILLISECONDS);
				}
			}
			finally {
				unpark();
				calls.remove(this);
			}
		}


		final class FakeResponse implements Response {

			final int status;

			final String body;

			final String[] headers;

			FakeResponse(int status, String body, String... headers) {
				this.status = status;
				this.body = body;
				this.headers = headers;
			}

			@Override
			public int status() {
				return status;
			}

			@Override
			public String header(String name) {
				for (int i = 0; i < headers.length; i += 2) {
					if (headers[i].equalsIgnoreCase(name)) {
						return headers[i + 1];
					}
				}
				return null;
			}

			@Override
			public void forEachHeader(BiConsumer<String, String> action) {
				for (int i = 0; i < headers.length; i += 2) {
					action.accept(headers[i], headers[i + 1]);
				}
			}

			@Override
			public InputStream body() {
				return body == null ? null : new ByteArrayInputStream(body.getBytes(StandardCharsets.UTF_8));
			}

			@Override
			public void release() {
				released.add(this);
			}

			@Override
			public void abort() {
				aborted.add(this);
			}

		}

	}

}
