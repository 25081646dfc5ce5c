package dev.resiliencegateway.exchange;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import jakarta.servlet.http.HttpServletRequest;

import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpEntity;
import org.springframework.cloud.gateway.server.mvc.common.MvcUtils;
import org.springframework.cloud.gateway.server.mvc.handler.GatewayServerResponse;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.web.servlet.function.HandlerFunction;
import org.springframework.web.servlet.function.ServerRequest;
import org.springframework.web.servlet.function.ServerResponse;
import org.springframework.web.util.UriComponentsBuilder;
import org.springframework.web.util.UriUtils;

import dev.resiliencegateway.balancing.Balancer;
import dev.resiliencegateway.config.GatewayConfig;
import dev.resiliencegateway.config.GatewayConfig.RoutePolicy;
import dev.resiliencegateway.edge.ConnectionAbort;
import dev.resiliencegateway.edge.RequestIds;
import dev.resiliencegateway.health.PoolHealth;
import dev.resiliencegateway.health.ReplicaHealth;
import dev.resiliencegateway.clock.Ticker;
import dev.resiliencegateway.outcome.Outcome;
import dev.resiliencegateway.retry.Backoff;
import dev.resiliencegateway.retry.LatencyWindow;
import dev.resiliencegateway.retry.RetryBudget;
import dev.resiliencegateway.retry.RetryPolicy;
import io.github.resilience4j.bulkhead.Bulkhead;
import io.github.resilience4j.bulkhead.BulkheadConfig;
import org.apache.hc.client5.http.classic.methods.HttpUriRequestBase;

/**
 * The single choke point every request to a pool goes through: choose a replica, send, classify,
 * record, and retry on a replica not tried yet when that is safe. Gateway MVC's predicates and
 * filters run before it unchanged; it replaces only the terminal "send to the uri" step for
 * {@code lb://POOL} routes.
 *
 * <p>Retry safety ({@link RetryPolicy}): a connect failure (nothing reached the replica) is retried
 * for any method; a 5xx, a reset or a timeout only for idempotent methods or requests with an
 * {@code Idempotency-Key}, and only when the body can be sent again (buffered up to the route's
 * limit). Retries wait a full-jitter backoff (or a replica's short {@code Retry-After}), stay within
 * the route deadline and draw on the route's retry budget. Hedges (opt-in per route, idempotent
 * requests only) draw on their own budget; the first good answer wins and the other is cancelled.
 */
public final class ResilientExchange {

	private static final int BUFFER = 16 * 1024;

	/** Hedge delay of a route that has not yet seen the 20 answers its p95 needs. */
	static final long HEDGE_DELAY_WITHOUT_P95 = TimeUnit.MILLISECONDS.toNanos(100);

	/** Set on a request forwarded to its route's fallback: it gets no second one. */
	static final String FALLBACK_ATTRIBUTE = ResilientExchange.class.getName() + ".fallback";

	/** On answers given by a route's fallback: the status the gateway would have answered. */
	public static final String FALLBACK_HEADER = "X-Gateway-Fallback";

	private final UpstreamClient client;

	private final GatewayConfig config;

	private final Ticker ticker;

	private final GatewayMetrics metrics;

	private final Executor hedgeExecutor;

	private final ClientDisconnects disconnects;

	public ResilientExchange(UpstreamClient client, GatewayConfig config, Ticker ticker, GatewayMetrics metrics,
			Executor hedgeExecutor, ClientDisconnects disconnects) {
		this.client = client;
		this.config = config;
		this.ticker = ticker;
		this.metrics = metrics;
		this.hedgeExecutor = hedgeExecutor;
		this.disconnects = disconnects;
	}

	/** The handler for one route to one pool. */
	public HandlerFunction<ServerResponse> handlerFor(String routeId, PoolHealth pool, int maxConcurrentPerReplica) {
		metrics.prepare(routeId);
		return handlerFor(routeId, pool, config.routePolicy(routeId), maxConcurrentPerReplica);
	}

	HandlerFunction<ServerResponse> handlerFor(String routeId, PoolHealth pool, RoutePolicy policy,
			int maxConcurrentPerReplica) {
		Route route = new Route(routeId, pool, policy, maxConcurrentPerReplica, ticker);
		return request -> exchange(request, route);
	}

	/** One route's runtime state: its budgets, its concurrency limit, its recent latencies. */
	static final class Route {

		final String id;

		final PoolHealth pool;

		final RoutePolicy policy;

		final int maxPerReplica;

		final RetryBudget retries;

		final RetryBudget hedges;

		final Bulkhead bulkhead;

		final LatencyWindow latencies;

		final Backoff backoff;

		Route(String id, PoolHealth pool, RoutePolicy policy, int maxPerReplica, Ticker ticker) {
			this.id = id;
			this.pool = pool;
			this.policy = policy;
			this.maxPerReplica = maxPerReplica;
			this.retries = new RetryBudget(policy.retryBudgetPercent() / 100.0, policy.retryBudgetFloor(), ticker);
			this.hedges = new RetryBudget(policy.hedgeBudgetPercent() / 100.0, 0, ticker);
			this.bulkhead = Bulkhead.of("route-" + id, BulkheadConfig.custom()
				.maxConcurrentCalls(policy.maxConcurrent())
				.maxWaitDuration(Duration.ZERO)
				.build());
			this.latencies = new LatencyWindow(ticker);
			this.backoff = new Backoff(policy.backoffBase(), policy.backoffCap());
		}

	}

	/** One attempt to one replica; its request is visible before it completes, so a hedge can cancel it. */
	static final class Attempt {

		final ReplicaHealth replica;

		final boolean probe;

		volatile long t0;

		volatile HttpUriRequestBase request;

		volatile boolean cancelled;

		UpstreamClient.Result result;

		Attempt(ReplicaHealth replica, boolean probe) {
			this.replica = replica;
			this.probe = probe;
		}

		boolean good() {
			return result.response() != null && result.status() < 500;
		}

		void cancel() {
			cancelled = true;
			HttpUriRequestBase r = request;
			if (r != null) {
				r.cancel();
			}
		}

	}

	/** What the retry loop carries from one attempt to the next. */
	private static final class Progress {

		final List<ReplicaHealth> tried = new ArrayList<>(4);

		int attempts;

		Outcome last;

		String lastDetail;

		boolean relayed;

		/** The client's body once read (null before). */
		RequestBody body;

		/** Attempts waiting for their replica now (two while hedged). */
		final Set<Attempt> live = java.util.concurrent.ConcurrentHashMap.newKeySet(2);

		volatile boolean clientGone;

		/** The client closed its connection: every attempt still waiting is cancelled, none is started. */
		void clientGone() {
			clientGone = true;
			for (Attempt a : live) {
				a.cancel();
			}
		}

	}

	ServerResponse exchange(ServerRequest request, Route route) throws IOException {
		HttpServletRequest servlet = request.servletRequest();
		String requestId = RequestIds.of(servlet);
		long start = ticker.nanos();
		if (!route.bulkhead.tryAcquirePermission()) {
			metrics.rejected(route.id, "route-limit");
			return orFallback(request, route, requestId, Problems.unavailable(requestId, route.id,
					"route '" + route.id + "' is at its limit of " + route.policy.maxConcurrent() + " concurrent requests", 1),
					null);
		}
		Progress progress = new Progress();
		try {
			ServerResponse response = attempts(request, servlet, route, requestId, start, progress);
			if (!progress.relayed) {
				// the route's own outcome; a fallback that replaces it is counted apart
				metrics.request(route.id, response.statusCode().value(), ticker.nanos() - start);
				response = orFallback(request, route, requestId, response, progress.body);
			}
			return response;
		}
		finally {
			if (!progress.relayed) {
				route.bulkhead.onComplete(); // else the relay releases it once the body is streamed
			}
		}
	}

	private ServerResponse attempts(ServerRequest request, HttpServletRequest servlet, Route route, String requestId,
			long start, Progress progress) throws IOException {
		RoutePolicy policy = route.policy;
		String target = target(request);
		String method = request.method().name();
		HttpHeaders inbound = request.headers().asHttpHeaders();
		boolean idempotent = RetryPolicy.isIdempotent(method, inbound.containsKey("Idempotency-Key"));
		boolean preserveHost = Boolean.TRUE.equals(request.attributes().get(MvcUtils.PRESERVE_HOST_HEADER_ATTRIBUTE));
		List<String> headers = OutboundHeaders.build(inbound, servlet, config.trustedProxies(), requestId, preserveHost,
				config.edge().dropUnderscoreHeaders());
		RequestBody body;
		try {
			body = RequestBody.of(servlet, idempotent ? policy.bufferLimit() : 0, policy.maxBodySize());
		}
		catch (ClientBodyException e) {
			// too large, too slow, or broken off while buffered: nothing was sent to a replica
			return Problems.clientBody(e.status(), requestId, route.id, e.getMessage());
		}
		progress.body = body;
		route.retries.onRequest();
		route.hedges.onRequest();
		try (ClientDisconnects.Watch watch = disconnects.watch(servlet, body::fullyRead, progress::clientGone)) {
			return tryReplicas(route, requestId, start, progress, method, target, headers, idempotent, body);
		}
	}

	/** The retry loop: one attempt (or a hedged pair) per turn, until an answer can be relayed or no retry is left. */
	private ServerResponse tryReplicas(Route route, String requestId, long start, Progress progress, String method,
			String target, List<String> headers, boolean idempotent, RequestBody body) {
		RoutePolicy policy = route.policy;
		long deadline = start + policy.deadline().toNanos();
		while (true) {
			if (progress.clientGone) {
				return Problems.clientClosed(requestId, route.id);
			}
			long now = ticker.nanos();
			long remaining = deadline - now;
			if (remaining <= 0) {
				progress.last = Outcome.TIMEOUT;
				progress.lastDetail = "route deadline of " + policy.deadline().toMillis() + " ms passed";
				break;
			}
			boolean retriesLeft = progress.attempts + 1 < policy.maxAttempts();
			Attempt first = choose(route, progress.tried, idempotent && body.replayable() && retriesLeft, now);
			if (first == null) {
				if (progress.attempts == 0) {
					metrics.rejected(route.id, "no-replica");
				}
				break;
			}
			progress.tried.add(first.replica);
			progress.attempts++;
			long perTry = Math.min(policy.perTryTimeout().toNanos(), remaining);
			// a probe of an ejected replica is hedged even on a route that does not hedge: if the replica
			// still hangs, the client waits the hedge delay, not the per-try timeout (probes are
			// idempotent with a replayable body by construction)
			boolean hedgeable = (policy.hedge() || first.probe) && idempotent && body.replayable();
			Attempt done = hedgeable ? hedged(route, first, progress, method, target, headers, body, perTry, deadline)
					: send(route, first, progress, method, target, headers, body, perTry, !idempotent);
			UpstreamClient.Result result = done.result;
			ClientBodyException clientFailure = body.clientFailure();
			if (clientFailure != null) {
				// the client's streamed body failed: its upstream request was aborted before completion
				if (result.response() != null) {
					result.abort();
				}
				finish(route, done, Outcome.CANCELLED); // not the replica's failure
				return Problems.clientBody(clientFailure.status(), requestId, route.id, clientFailure.getMessage());
			}
			if (progress.clientGone) {
				if (result.response() != null) {
					result.abort();
				}
				finish(route, done, Outcome.CANCELLED); // not the replica's failure
				return Problems.clientClosed(requestId, route.id);
			}
			long retryAfterNanos = -1;
			if (result.response() != null) {
				int status = result.status();
				Outcome outcome = Outcome.ofStatus(status);
				boolean retryable = outcome == Outcome.UPSTREAM_5XX || status == 429;
				if (retryable && (status == 503 || status == 429)) {
					retryAfterNanos = retryAfter(result.response());
					if (retryAfterNanos > policy.maxRetryAfter().toNanos()) {
						retryable = false; // the replica asks for longer than we may wait: tell the client
					}
				}
				boolean retry = retryable && RetryPolicy.mayRetry(Outcome.UPSTREAM_5XX, idempotent, body.replayable(), true)
						&& progress.attempts < policy.maxAttempts() && retryBudget(route);
				if (!retry) {
					progress.relayed = true;
					return relay(done, route, progress.attempts, start);
				}
				result.abort();
				finish(route, done, outcome);
				progress.last = outcome;
				progress.lastDetail = "replica " + done.replica.replica().id() + " answered " + status;
			}
			else {
				finish(route, done, result.failure());
				progress.last = result.failure();
				progress.lastDetail = "replica " + done.replica.replica().id() + ": " + result.detail();
				if (!RetryPolicy.mayRetry(progress.last, idempotent, body.replayable(), body.touched())
						|| progress.attempts >= policy.maxAttempts() || !retryBudget(route)) {
					break;
				}
			}
			metrics.retry(route.id);
			// A connect failure put no load on anyone: the next replica is tried at once. Other failures
			// may have loaded a replica, so they wait a full-jitter backoff (or the replica's Retry-After).
			long wait = retryAfterNanos >= 0 ? retryAfterNanos
					: progress.last == Outcome.CONNECT_FAILURE ? 0
							: route.backoff.delayNanos(progress.attempts, ThreadLocalRandom.current());
			if (ticker.nanos() + wait >= deadline) {
				progress.last = Outcome.TIMEOUT;
				progress.lastDetail = "route deadline of " + policy.deadline().toMillis() + " ms would pass before the next retry";
				break;
			}
			sleep(wait);
		}
		return failure(progress, requestId, route);
	}

	/**
	 * Whether a retry may be taken: some replica of the pool still takes traffic (when every one is
	 * down or ejected, panic mode still lets the first attempt through, but retrying onto known-dead
	 * replicas would only delay the 503), and the route's retry budget has a token.
	 */
	private boolean retryBudget(Route route) {
		boolean anyHealthy = false;
		for (ReplicaHealth r : route.pool.snapshot().routable()) {
			if (r.state().takesTraffic()) {
				anyHealthy = true;
				break;
			}
		}
		if (!anyHealthy) {
			return false;
		}
		if (route.retries.tryRetry()) {
			return true;
		}
		metrics.budgetExhausted(route.id);
		return false;
	}

	/** A probe for an ejected replica that is due, else the balancer's pick among replicas below their limit. */
	private Attempt choose(Route route, List<ReplicaHealth> tried, boolean mayProbe, long now) {
		PoolHealth.Snapshot snapshot = route.pool.snapshot();
		if (mayProbe) {
			for (ReplicaHealth r : snapshot.ejected()) {
				if (!tried.contains(r) && r.claimProbe(now)) {
					return new Attempt(r, true);
				}
			}
		}
		int limit = route.maxPerReplica;
		ReplicaHealth chosen = Balancer.choose(snapshot.routable(),
				r -> tried.contains(r) || r.load().inFlight() >= limit, now, ThreadLocalRandom.current());
		if (chosen == null || chosen.load().inFlight() >= limit) {
			return null;
		}
		return new Attempt(chosen, false);
	}

	/** Sends one attempt on the calling thread and waits for the response headers. */
	private Attempt send(Route route, Attempt a, Progress progress, String method, String target, List<String> headers,
			RequestBody body, long timeoutNanos, boolean atMostOnce) {
		a.t0 = ticker.nanos();
		a.replica.load().begin(a.t0);
		HttpUriRequestBase request = client.prepare(a.replica.replica(), method, target, headers, body.stream(),
				body.contentLength(), body.contentType(), timeoutNanos);
		if (request == null) {
			a.result = new UpstreamClient.Result(null, null, Outcome.CANCELLED, "malformed request target " + target);
			return a;
		}
		a.request = request;
		body.feeding(request);
		progress.live.add(a);
		if (a.cancelled || progress.clientGone) {
			request.cancel();
		}
		try {
			a.result = client.execute(request, a.replica.replica(), atMostOnce);
		}
		finally {
			progress.live.remove(a);
		}
		if (a.result.response() != null && a.result.status() < 500) {
			route.latencies.record(ticker.nanos() - a.t0);
		}
		return a;
	}

	/** {@link #send} for the hedging executor: always completes with an attempt, so the race below always ends. */
	private Attempt sendSafely(Route route, Attempt a, Progress progress, String method, String target,
			List<String> headers, RequestBody body, long timeoutNanos) {
		try {
			return send(route, a, progress, method, target, headers, body, timeoutNanos, false);
		}
		catch (RuntimeException e) {
			a.result = new UpstreamClient.Result(null, a.request, Outcome.RESET, e.toString());
			return a;
		}
	}

	/**
	 * Sends the first attempt and, if it has not answered within the hedge delay, a second one to
	 * another replica; the first good answer (a response below 500) wins, the other is cancelled.
	 */
	private Attempt hedged(Route route, Attempt first, Progress progress, String method, String target,
			List<String> headers, RequestBody body, long perTry, long deadline) {
		long delay = hedgeDelay(route);
		CompletableFuture<Attempt> fa = CompletableFuture.supplyAsync(
				() -> sendSafely(route, first, progress, method, target, headers, body, perTry), hedgeExecutor);
		if (delay >= perTry) {
			return fa.join();
		}
		try {
			return fa.get(delay, TimeUnit.NANOSECONDS);
		}
		catch (TimeoutException slow) {
			// fall through to the hedge
		}
		catch (InterruptedException e) {
			Thread.currentThread().interrupt();
			first.cancel();
			return fa.join();
		}
		catch (ExecutionException e) {
			throw new IllegalStateException(e.getCause());
		}
		long now = ticker.nanos();
		Attempt second = progress.attempts < route.policy.maxAttempts() ? choose(route, progress.tried, false, now) : null;
		// a probe's hedge does not draw on the hedge budget: probes are already limited to one per
		// probe interval per ejected replica, and a quiet route's budget (5 % of few requests) would
		// otherwise leave the probe's client waiting for the whole per-try timeout
		if (second == null || progress.clientGone || !(first.probe || route.hedges.tryRetry())) {
			return fa.join();
		}
		progress.tried.add(second.replica);
		progress.attempts++;
		metrics.hedge(route.id);
		long secondTimeout = Math.min(route.policy.perTryTimeout().toNanos(), deadline - now);
		CompletableFuture<Attempt> fb = CompletableFuture.supplyAsync(
				() -> sendSafely(route, second, progress, method, target, headers, body, secondTimeout), hedgeExecutor);
		CompletableFuture<Attempt> winner = new CompletableFuture<>();
		java.util.concurrent.atomic.AtomicInteger finished = new java.util.concurrent.atomic.AtomicInteger();
		java.util.function.BiConsumer<Attempt, Throwable> onDone = (a, err) -> {
			if (a != null && a.good()) {
				winner.complete(a);
			}
			if (finished.incrementAndGet() == 2) {
				// neither was good: the later one stands for both (the earlier is recorded below)
				winner.complete(a != null ? a : fa.getNow(null));
			}
		};
		fa.whenComplete(onDone);
		fb.whenComplete(onDone);
		Attempt won = winner.join();
		Attempt lost = won == first ? second : first;
		CompletableFuture<Attempt> loser = won == first ? fb : fa;
		if (!loser.isDone() || (loser.join().good())) {
			lost.cancel();
		}
		loser.whenComplete((a, err) -> {
			if (a == null) {
				return;
			}
			if (a.result.response() != null) {
				a.result.abort();
			}
			// an attempt that got its answer (just too late to be used) is judged by it; one cut off
			// without an answer is OUTRUN if it was the first (it had the head start), else CANCELLED
			Outcome o = a.result.response() != null ? Outcome.ofStatus(a.result.status())
					: !a.cancelled ? a.result.failure()
							: a == first && !progress.clientGone ? Outcome.OUTRUN : Outcome.CANCELLED;
			if (o == Outcome.CANCELLED) {
				// a hedge that lost: not a failure, but it was at least this slow, and the balancer should know
				long now2 = ticker.nanos();
				a.replica.load().observe(now2 - a.t0, true, now2);
			}
			finish(route, a, o);
		});
		return won;
	}

	/**
	 * The configured hedge delay, else the route's recent p95 (at least {@code min-delay}); before the
	 * route has seen enough answers for a p95, {@link #HEDGE_DELAY_WITHOUT_P95} (at least min-delay).
	 */
	private long hedgeDelay(Route route) {
		if (route.policy.hedgeDelay() != null) {
			return route.policy.hedgeDelay().toNanos();
		}
		long p95 = route.latencies.p95();
		return Math.max(p95 < 0 ? HEDGE_DELAY_WITHOUT_P95 : p95, route.policy.hedgeMinDelay().toNanos());
	}

	/**
	 * The route's fallback in place of the gateway's own 502, 503 or 504, when it has one: a static
	 * response, or a forward to another path of this gateway with the client's body (when it was
	 * buffered or never read; a body already streamed to a replica cannot be forwarded, and then the
	 * failure stands). A request that is itself a fallback gets no second one, so forwards cannot loop.
	 */
	private ServerResponse orFallback(ServerRequest request, Route route, String requestId, ServerResponse failure,
			RequestBody body) {
		GatewayConfig.Fallback fallback = route.policy.fallback();
		int status = failure.statusCode().value();
		HttpServletRequest servlet = request.servletRequest();
		if (fallback == null || (status != 502 && status != 503 && status != 504)
				|| servlet.getAttribute(FALLBACK_ATTRIBUTE) != null) {
			return failure;
		}
		if (!fallback.forwards()) {
			metrics.fallback(route.id, "static");
			return ServerResponse.status(fallback.status())
				.contentType(MediaType.parseMediaType(fallback.contentType()))
				.header(FALLBACK_HEADER, String.valueOf(status))
				.body(fallback.body());
		}
		if (body != null && body.touched()) {
			return failure;
		}
		metrics.fallback(route.id, "forward");
		servlet.setAttribute(FALLBACK_ATTRIBUTE, route.id);
		InputStream replay = body == null ? null : body.stream();
		HttpServletRequest forwarded = replay == null ? servlet : new ReplayedRequest(servlet, replay);
		return GatewayServerResponse.status(HttpStatusCode.valueOf(status)).build((req, res) -> {
			res.setHeader(FALLBACK_HEADER, String.valueOf(status));
			servlet.getRequestDispatcher(fallback.forward()).forward(forwarded, res);
			return null;
		});
	}

	/** Seconds of a {@code Retry-After: N} in nanos; -1 without one (HTTP dates are not honoured). */
	private static long retryAfter(ClassicHttpResponse response) {
		Header h = response.getFirstHeader("Retry-After");
		if (h == null) {
			return -1;
		}
		try {
			return TimeUnit.SECONDS.toNanos(Long.parseLong(h.getValue().trim()));
		}
		catch (NumberFormatException e) {
			return -1;
		}
	}

	private static void sleep(long nanos) {
		if (nanos <= 0) {
			return;
		}
		try {
			TimeUnit.NANOSECONDS.sleep(nanos);
		}
		catch (InterruptedException e) {
			Thread.currentThread().interrupt();
		}
	}

	private void finish(Route route, Attempt a, Outcome outcome) {
		a.replica.load().end(a.t0);
		a.replica.onOutcome(outcome, ticker.nanos() - a.t0, a.probe);
		metrics.attempt(route.id, a.replica.replica().id(), outcome);
	}

	private ServerResponse failure(Progress p, String requestId, Route route) {
		String pool = route.pool.name();
		if (p.last == null) {
			return Problems.unavailable(requestId, route.id, "no replica of pool '" + pool + "' can take the request", 1);
		}
		String tail = " (after " + p.attempts + (p.attempts == 1 ? " attempt)" : " attempts)");
		return switch (p.last) {
			case CONNECT_FAILURE -> Problems.unavailable(requestId, route.id,
					"no replica of pool '" + pool + "' accepted a connection; last: " + p.lastDetail + tail, 1);
			case TIMEOUT -> Problems.timeout(requestId, route.id, p.lastDetail + tail);
			case CANCELLED -> Problems.badRequest(requestId, route.id, "the request could not be forwarded: " + p.lastDetail);
			default -> Problems.badGateway(requestId, route.id, p.lastDetail + tail);
		};
	}

	/** Streams the replica's answer to the client; the attempt's outcome is recorded when the body ends. */
	private ServerResponse relay(Attempt a, Route route, int attempts, long start) {
		UpstreamClient.Result result = a.result;
		ClassicHttpResponse response = result.response();
		int status = response.getCode();
		Outcome outcome = Outcome.ofStatus(status);
		return GatewayServerResponse.status(HttpStatusCode.valueOf(status)).headers(h -> {
			copyResponseHeaders(response, h); // the request id header was set by the RequestIds filter
			if (config.decisionHeaders()) {
				h.set("X-Gateway-Replica", a.replica.replica().id());
				h.set("X-Gateway-Attempts", String.valueOf(attempts));
			}
		}).build((req, res) -> {
			Outcome end = outcome;
			try {
				HttpEntity entity = response.getEntity();
				if (entity != null) {
					InputStream in = entity.getContent();
					OutputStream out = res.getOutputStream();
					byte[] buffer = new byte[BUFFER];
					int n;
					while (true) {
						try {
							n = in.read(buffer);
						}
						catch (IOException e) {
							// The replica broke off mid-body. Bytes have gone to the client: no other attempt
							// may write here, and the client must see a truncated answer, not a finished one.
							end = Outcome.RESET;
							try {
								out.flush();
							}
							catch (IOException gone) {
								// the client is gone too
							}
							if (ConnectionAbort.abort(req)) {
								return null;
							}
							throw new UpstreamTruncatedException(a.replica.replica().id(), e);
						}
						if (n < 0) {
							break;
						}
						try {
							out.write(buffer, 0, n);
							if (in.available() == 0) {
								out.flush();
							}
						}
						catch (IOException e) {
							end = Outcome.CANCELLED; // the client went away: stop reading from the replica
							return null;
						}
					}
				}
			}
			finally {
				if (end == Outcome.SUCCESS || end == Outcome.UPSTREAM_5XX) {
					result.release();
				}
				else {
					result.abort();
				}
				finish(route, a, end);
				route.bulkhead.onComplete();
				metrics.request(route.id, status, ticker.nanos() - start);
			}
			return null;
		});
	}

	private static void copyResponseHeaders(ClassicHttpResponse response, HttpHeaders into) {
		Set<String> nominated = HopByHop.nominated(
				java.util.Arrays.stream(response.getHeaders(HttpHeaders.CONNECTION)).map(Header::getValue).iterator());
		for (Header h : response.getHeaders()) {
			String lower = h.getName().toLowerCase(Locale.ROOT);
			if (!HopByHop.isHopByHop(lower) && !nominated.contains(lower) && !lower.equals("x-request-id")) {
				into.add(h.getName(), h.getValue());
			}
		}
	}

	/**
	 * The path and query to send: the request's raw ones, so percent-encoding and parameter order stay
	 * as the client sent them. When a route filter added query parameters (Gateway MVC keeps those in
	 * {@code params()}, not in the URI), they are appended, encoded. Form posts are left alone: asking
	 * for their parameters would consume the body.
	 */
	private static String target(ServerRequest request) {
		java.net.URI uri = request.uri();
		String path = uri.getRawPath();
		String query = uri.getRawQuery();
		StringBuilder sb = new StringBuilder(path == null || path.isEmpty() ? "/" : path);
		if (query != null && !query.isEmpty()) {
			sb.append('?').append(query);
		}
		if (request.getClass().getSimpleName().startsWith("Built") && !isForm(request)) {
			var inQuery = UriComponentsBuilder.newInstance().query(query).build().getQueryParams().keySet();
			var added = new org.springframework.util.LinkedMultiValueMap<String, String>();
			request.params().forEach((k, v) -> {
				if (!inQuery.contains(UriUtils.encode(k, StandardCharsets.UTF_8))) {
					added.put(k, v);
				}
			});
			if (!added.isEmpty()) {
				String extra = UriComponentsBuilder.newInstance()
					.queryParams(MvcUtils.encodeQueryParams(added))
					.build(true)
					.getQuery();
				sb.append(query == null || query.isEmpty() ? '?' : '&').append(extra);
			}
		}
		return sb.toString();
	}

	private static boolean isForm(ServerRequest request) {
		String type = request.headers().firstHeader(HttpHeaders.CONTENT_TYPE);
		return type != null && (type.startsWith("application/x-www-form-urlencoded") || type.startsWith("multipart/"));
	}

	/** The replica broke off mid-body: the client's connection is aborted so the truncation shows. */
	static final class UpstreamTruncatedException extends RuntimeException {

		UpstreamTruncatedException(String replica, IOException cause) {
			super("replica " + replica + " broke off the response body: " + cause.getMessage(), cause, false, false);
		}

	}

}
