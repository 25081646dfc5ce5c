package dev.resiliencegateway.exchange;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import java.util.function.Supplier;

import dev.resiliencegateway.exchange.transport.UpstreamClient;
import dev.resiliencegateway.exchange.transport.UpstreamClient.Result;
import dev.resiliencegateway.outcome.Outcome;

/**
 * Sends an idempotent request's first attempt and, if it has not answered within the hedge delay,
 * a second one to another replica; the first good answer (below 500) wins and the other is
 * cancelled ("The Tail at Scale"). The executor runs the attempts; {@link Wait} is how the hedge
 * delay passes, so the races run on a fake clock in HedgingTest.
 *
 * <p>How the attempts end, whatever the order they finish in:
 * <ul>
 * <li>the winner is ended by whoever relays it or retries after it;</li>
 * <li>a loser that got an answer (just too late to be used) is judged by that answer;</li>
 * <li>a first attempt cut off by its hedge is {@code OUTRUN}, a failure of its replica (it had the
 * head start); a cut-off hedge, or any attempt cut off because the client left, is {@code CANCELLED};</li>
 * <li>when neither answered well, the later one stands for both and the earlier is judged by its own
 * result.</li>
 * </ul>
 */
final class Hedging {

	/** Hedge delay of a route that has not yet seen the 20 answers its p95 needs. */
	static final long DELAY_WITHOUT_P95 = TimeUnit.MILLISECONDS.toNanos(100);

	/** Waits for an attempt up to the hedge delay. */
	@FunctionalInterface
	interface Wait {

		/** @return whether {@code attempt} is done; false when {@code nanos} passed first */
		boolean upTo(CompletableFuture<?> attempt, long nanos) throws InterruptedException;

	}

	/** The real clock: blocks the request's thread for up to the delay. */
	static final Wait WALL_CLOCK = (attempt, nanos) -> {
		try {
			attempt.get(nanos, TimeUnit.NANOSECONDS);
			return true;
		}
		catch (TimeoutException slow) {
			return false;
		}
		catch (ExecutionException e) {
			throw new IllegalStateException(e.getCause());
		}
	};

	private final UpstreamClient client;

	private final Executor executor;

	private final Wait wait;

	Hedging(UpstreamClient client, Executor executor, Wait wait) {
		this.client = client;
		this.executor = executor;
		this.wait = wait;
	}

	/**
	 * The configured hedge delay, else the route's recent p95 (at least {@code min-delay}); before the
	 * route has seen enough answers for a p95, {@link #DELAY_WITHOUT_P95} (at least min-delay).
	 */
	static long delay(Route route) {
		if (route.policy.hedgeDelay() != null) {
			return route.policy.hedgeDelay().toNanos();
		}
		long p95 = route.latencies.p95();
		return Math.max(p95 < 0 ? DELAY_WITHOUT_P95 : p95, route.policy.hedgeMinDelay().toNanos());
	}

	/**
	 * Runs {@code first}, hedged by the replica {@code second} chooses if it is slow.
	 *
	 * @return the attempt whose result the exchange acts on (not yet completed)
	 */
	Attempt race(ExchangeRequest request, Attempt first, long perTry, Supplier<Attempt> second) {
		Route route = request.route;
		long delay = delay(route);
		CompletableFuture<Attempt> fa = start(request, first, perTry);
		if (delay >= perTry) {
			return fa.join();
		}
		try {
			if (wait.upTo(fa, delay)) {
				return fa.join();
			}
		}
		catch (InterruptedException e) {
			Thread.currentThread().interrupt();
			first.cancel();
			return fa.join();
		}
		long now = route.ticker.nanos();
		Attempt hedge = request.attemptsLeft() ? second.get() : null;
		// a probe's hedge does not draw on the hedge budget: probes are already limited to one per
		// probe interval per ejected replica, and a quiet route's budget (5 % of few requests) would
		// otherwise leave the probe's client waiting for the whole per-try timeout
		if (hedge == null || request.clientGone || !(first.probe || route.hedges.tryRetry())) {
			return fa.join();
		}
		request.started(hedge);
		hedge.kind = "hedge";
		request.hedged = true;
		route.metrics.hedge(route.id);
		CompletableFuture<Attempt> fb = start(request, hedge,
				Math.min(route.policy.perTryTimeout().toNanos(), request.deadline - now));
		Attempt won = firstGood(fa, fb);
		Attempt lost = won == first ? hedge : first;
		CompletableFuture<Attempt> loser = won == first ? fb : fa;
		if (!loser.isDone() || loser.join().good()) {
			lost.cancel();
		}
		loser.thenAccept(a -> endLoser(request, first, a));
		return won;
	}

	/** The attempt runs on the executor and always ends with a result, so the race always ends. */
	private CompletableFuture<Attempt> start(ExchangeRequest request, Attempt a, long timeoutNanos) {
		return CompletableFuture.supplyAsync(() -> {
			try {
				return a.send(client, request, timeoutNanos, false);
			}
			catch (RuntimeException e) {
				a.result = Result.failed(Outcome.RESET, e.toString());
				return a;
			}
		}, executor);
	}

	/** The first attempt with a good answer; when neither has one, the one that ended last. */
	private static Attempt firstGood(CompletableFuture<Attempt> fa, CompletableFuture<Attempt> fb) {
		CompletableFuture<Attempt> winner = new CompletableFuture<>();
		AtomicInteger finished = new AtomicInteger();
		BiConsumer<Attempt, Throwable> onDone = (a, err) -> {
			if (a != null && a.good()) {
				winner.complete(a);
			}
			if (finished.incrementAndGet() == 2) {
				winner.complete(a != null ? a : fa.getNow(null));
			}
		};
		fa.whenComplete(onDone);
		fb.whenComplete(onDone);
		return winner.join();
	}

	private static void endLoser(ExchangeRequest request, Attempt first, Attempt a) {
		Result result = a.result;
		result.abort();
		Outcome o = result.answered() ? Outcome.ofStatus(result.status())
				: !a.cancelled ? result.failure()
						: a == first && !request.clientGone ? Outcome.OUTRUN : Outcome.CANCELLED;
		if (o == Outcome.CANCELLED) {
			// a hedge that lost: not a failure, but it was at least this slow, and the balancer should know
			long now = a.route.ticker.nanos();
			a.replica.load().observe(now - a.t0, true, now);
		}
		a.complete(o);
	}

}
