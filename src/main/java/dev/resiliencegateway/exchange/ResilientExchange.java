package dev.resiliencegateway.exchange;

import java.io.IOException;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import jakarta.servlet.http.HttpServletRequest;

import org.springframework.cloud.gateway.server.mvc.common.MvcUtils;
import org.springframework.http.HttpHeaders;
import org.springframework.web.servlet.function.HandlerFunction;
import org.springframework.web.servlet.function.ServerRequest;
import org.springframework.web.servlet.function.ServerResponse;

import dev.resiliencegateway.balancing.Balancer;
import dev.resiliencegateway.clock.Ticker;
import dev.resiliencegateway.config.GatewayConfig;
import dev.resiliencegateway.config.GatewayConfig.RoutePolicy;
import dev.resiliencegateway.edge.AccessLog;
import dev.resiliencegateway.edge.RequestIds;
import dev.resiliencegateway.exchange.transport.ClientBodyException;
import dev.resiliencegateway.exchange.transport.ClientDisconnects;
import dev.resiliencegateway.exchange.transport.OutboundHeaders;
import dev.resiliencegateway.exchange.transport.Problems;
import dev.resiliencegateway.exchange.transport.RequestBody;
import dev.resiliencegateway.exchange.transport.UpstreamClient;
import dev.resiliencegateway.health.AvailabilityWindow;
import dev.resiliencegateway.health.PoolHealth;
import dev.resiliencegateway.health.ReplicaHealth;
import dev.resiliencegateway.idempotency.IdempotencyKey;
import dev.resiliencegateway.idempotency.IdempotencyStore;
import dev.resiliencegateway.limits.RateLimiter;
import dev.resiliencegateway.outcome.Outcome;
import dev.resiliencegateway.retry.RetryDecision;
import dev.resiliencegateway.retry.RetryPolicy;
import dev.resiliencegateway.retry.RetryRule;

/**
 * The single choke point every request to a pool goes through: choose a replica, send, ask the
 * {@link RetryRule}, act (relay, retry on a replica not tried yet, or answer for the failure).
 * Gateway MVC's predicates and filters run before it unchanged; it replaces only the terminal "send
 * to the uri" step for {@code lb://POOL} routes.
 *
 * <p>Around that loop: the route's concurrency limit, reading the client's body (buffered up to the
 * route's limit when the request is idempotent, so it can be sent again), watching for a client
 * that leaves ({@link ClientDisconnects}), {@link Hedging} on routes that ask for it and for probes,
 * {@link ResponseRelay} for the answer and {@link Fallbacks} for the gateway's own failures.
 */
public final class ResilientExchange {

	private final UpstreamClient client;

	/** Route policies come from here; replaced by a configuration change ({@link #reconfigure}). */
	private volatile GatewayConfig config;

	private final Ticker ticker;

	private final GatewayMetrics metrics;

	private final ClientDisconnects disconnects;

	private final Hedging hedging;

	private final ResponseRelay relay;

	private final KeptAnswers kept;

	private final RateLimits limits;

	private final Map<String, Route> routes = new ConcurrentHashMap<>();

	private volatile AttemptTracing tracing = AttemptTracing.OFF;

	/** Spans for each attempt, for routes built from now on (the wiring sets it before the first). */
	public void setTracing(AttemptTracing tracing) {
		this.tracing = tracing;
	}

	public ResilientExchange(UpstreamClient client, GatewayConfig config, Ticker ticker, GatewayMetrics metrics,
			Executor hedgeExecutor, ClientDisconnects disconnects, IdempotencyStore keys, RateLimiter limiter) {
		this(client, config, ticker, metrics, new Hedging(client, hedgeExecutor, Hedging.WALL_CLOCK), disconnects, keys,
				InstantSource.system(), limiter);
	}

	ResilientExchange(UpstreamClient client, GatewayConfig config, Ticker ticker, GatewayMetrics metrics,
			Hedging hedging, ClientDisconnects disconnects, IdempotencyStore keys, InstantSource wallClock,
			RateLimiter limiter) {
		this.client = client;
		this.config = config;
		this.ticker = ticker;
		this.metrics = metrics;
		this.disconnects = disconnects;
		this.hedging = hedging;
		this.relay = new ResponseRelay(config.decisionHeaders());
		this.kept = new KeptAnswers(keys, ticker, wallClock, metrics);
		this.limits = new RateLimits(limiter, config.trustedProxies(), metrics);
	}

	/** The handler for one route to one pool. */
	public HandlerFunction<ServerResponse> handlerFor(String routeId, PoolHealth pool, int maxConcurrentPerReplica) {
		metrics.prepare(routeId);
		return handlerFor(routeId, pool, config.routePolicy(routeId), maxConcurrentPerReplica);
	}

	HandlerFunction<ServerResponse> handlerFor(String routeId, PoolHealth pool, RoutePolicy policy,
			int maxConcurrentPerReplica) {
		Route existing = routes.get(routeId);
		// Gateway MVC builds its routes again after every configuration refresh: a route whose pool
		// and policy did not change keeps its budgets, latencies and concurrency limit
		Route route = existing != null && existing.pool == pool && existing.policy.equals(policy)
				&& existing.maxPerReplica == maxConcurrentPerReplica && existing.tracing == tracing ? existing
						: new Route(routeId, pool, policy, maxConcurrentPerReplica, ticker, metrics);
		route.tracing = tracing;
		if (routes.put(routeId, route) == null) {
			metrics.availability(routeId, routes::get);
		}
		return request -> exchange(request, route);
	}

	/**
	 * A configuration change: route policies are read from {@code next} as Gateway MVC rebuilds its
	 * routes; routes no longer configured leave the availability view. Requests in flight finish
	 * with the route they started on. (Edge, upstream and trusted-proxy settings are read at startup.)
	 */
	public void reconfigure(GatewayConfig next, java.util.Set<String> routeIds) {
		this.config = next;
		routes.keySet().retainAll(routeIds);
	}

	/**
	 * One route's availability, live: each replica's observed availability p (the share of its
	 * attempts that succeeded over the last {@value AvailabilityWindow#SECONDS} s), what redundancy
	 * predicts from them for independent failures, R = 1 - (1 - p1)...(1 - pk) over the replicas the
	 * route can use now, and the route's success as its clients saw it over the same window (NaN
	 * where there is no data). docs/availability.md explains what a gap between the two means.
	 */
	public record RouteAvailability(String route, String pool, double predicted, double measured,
			Map<String, Double> replicas) {
	}

	public List<RouteAvailability> availability() {
		List<RouteAvailability> out = new ArrayList<>();
		for (Route route : routes.values()) {
			out.add(route.availabilityNow());
		}
		return out;
	}

	ServerResponse exchange(ServerRequest request, Route route) throws IOException {
		HttpServletRequest servlet = request.servletRequest();
		String requestId = RequestIds.of(servlet);
		long start = ticker.nanos();
		servlet.setAttribute(AccessLog.EXCHANGE, route.accessLogUntried);
		if (route.policy.rateLimit().enabled()) {
			ServerResponse refused = limits.check(route, servlet, requestId);
			if (refused != null) {
				route.answered(429, start);
				return refused;
			}
		}
		if (!route.bulkhead.tryAcquirePermission()) {
			metrics.rejected(route.id, "route-limit");
			return Fallbacks.orFallback(request, route, Problems.unavailable(requestId, route.id, "route '" + route.id
					+ "' is at its limit of " + route.policy.maxConcurrent() + " concurrent requests", 1), null);
		}
		ExchangeRequest exchange = null;
		KeptAnswers.Ticket ticket = null;
		try {
			String method = request.method().name();
			HttpHeaders inbound = request.headers().asHttpHeaders();
			List<String> keys = inbound.get(IdempotencyKey.HEADER);
			// on a route that keeps keys, a keyed POST or PATCH is re-sent only when nothing reached a
			// replica: the gateway, not the replica, makes it happen once; elsewhere a key says the
			// replica deduplicates, so it may be retried like an idempotent request
			boolean keeps = keys != null && route.policy.idempotency().covers(method);
			boolean idempotent = !keeps && RetryPolicy.isIdempotent(method, keys != null);
			List<String> headers = OutboundHeaders.build(inbound, servlet, config.trustedProxies(), requestId,
					Boolean.TRUE.equals(request.attributes().get(MvcUtils.PRESERVE_HOST_HEADER_ATTRIBUTE)),
					config.edge().dropUnderscoreHeaders());
			String target = Targets.of(request);
			ServerResponse response = null;
			RequestBody body = null;
			try {
				body = RequestBody.of(servlet, idempotent || keeps ? route.policy.bufferLimit() : 0, route.policy.maxBodySize());
			}
			catch (ClientBodyException e) {
				// too large, too slow, or broken off while buffered: nothing was sent to a replica
				response = Problems.clientBody(e.status(), requestId, route.id, e.getMessage());
			}
			if (body != null && keeps) {
				String client = route.policy.idempotency().clientHeader() == null ? null
						: inbound.getFirst(route.policy.idempotency().clientHeader());
				KeptAnswers.Start begun = kept.start(route, requestId, method, target, keys, client, body,
						start + route.policy.deadline().toNanos());
				response = begun.answer();
				ticket = begun.ticket();
			}
			if (body != null && response == null) {
				exchange = new ExchangeRequest(route, requestId, start, method, target, headers, idempotent,
						RetryPolicy.isIdempotent(method, false), body, ticket);
				servlet.setAttribute(AccessLog.EXCHANGE, exchange); // printed by the access log, if on
				if (route.tracing != AttemptTracing.OFF) {
					exchange.traceContext = route.tracing.requestContext();
					String traceId = route.tracing.traceId(exchange.traceContext);
					if (traceId != null) {
						servlet.setAttribute(AccessLog.TRACE, traceId); // the server span's, even without a client traceparent
					}
				}
				route.retries.onRequest();
				route.hedges.onRequest();
				try (ClientDisconnects.Watch watch = disconnects.watch(servlet, body::fullyRead, exchange::clientGone)) {
					response = tryReplicas(exchange);
				}
				finally {
					endRideThroughSlot(exchange);
				}
				if (ticket != null && !exchange.relayed()) {
					if (exchange.maybeSent) {
						int status = response.statusCode().value();
						ticket.unknown(status == 504 ? 504 : 502, exchange.lastDetail == null
								? "the gateway answered " + status : exchange.lastDetail);
					}
					else {
						ticket.release();
					}
				}
			}
			if (exchange == null || !exchange.relayed()) {
				// the route's own outcome; a fallback that replaces it is counted apart
				route.answered(response.statusCode().value(), start);
				if (exchange != null || body == null) {
					// not for the answers of the key handling: a replayed answer is the answer
					response = Fallbacks.orFallback(request, route, response, body);
				}
			}
			return response;
		}
		finally {
			if (exchange == null || !exchange.relayed()) {
				route.bulkhead.onComplete(); // else the relay releases it once the body is streamed
				if (ticket != null && !ticket.ended()) {
					// an unexpected failure: keep the key unless nothing can have reached a replica
					if (exchange != null && exchange.maybeSent) {
						ticket.unknown(502, "the gateway failed while the request was in flight");
					}
					else {
						ticket.release();
					}
				}
			}
		}
	}

	/** Choose, send, ask the rule, act: one attempt (or a hedged pair) per turn. */
	private ServerResponse tryReplicas(ExchangeRequest r) {
		Route route = r.route;
		RoutePolicy policy = route.policy;
		while (true) {
			if (r.clientGone) {
				return Problems.clientClosed(r.id, route.id);
			}
			long now = ticker.nanos();
			long remaining = r.deadline - now;
			if (remaining <= 0) {
				r.failed(Outcome.TIMEOUT, "route deadline of " + policy.deadline().toMillis() + " ms passed");
				return failure(r);
			}
			// a probe is hedged, so only a request that may run on two replicas at once may be one
			Attempt attempt = choose(r, r.raceable && r.body.replayable() && r.attempts + 1 < policy.maxAttempts(), now);
			if (attempt == null) {
				if (rideThrough(r)) {
					continue;
				}
				if (r.attempts == 0) {
					metrics.rejected(route.id, "no-replica");
				}
				return failure(r);
			}
			r.started(attempt);
			long perTry = Math.min(policy.perTryTimeout().toNanos(), remaining);
			// a probe of an ejected replica is hedged even on a route that does not hedge: if the replica
			// still hangs, the client waits the hedge delay, not the per-try timeout
			Attempt done = (policy.hedge() || attempt.probe) && r.raceable && r.body.replayable()
					? hedging.race(r, attempt, perTry, () -> choose(r, false, ticker.nanos()))
					: attempt.send(client, r, perTry, !r.idempotent);
			UpstreamClient.Result result = done.result;
			if (result.answered() || (result.failure() != Outcome.CONNECT_FAILURE && result.failure() != Outcome.TLS_FAILURE)) {
				r.maybeSent = true;
			}
			ClientBodyException clientFailure = r.body.clientFailure();
			if (clientFailure != null || r.clientGone) {
				// the client's body failed (its upstream request was aborted before completion), or the
				// client left: not the replica's failure
				result.abort();
				done.complete(Outcome.CANCELLED);
				return clientFailure != null
						? Problems.clientBody(clientFailure.status(), r.id, route.id, clientFailure.getMessage())
						: Problems.clientClosed(r.id, route.id);
			}
			RetryRule.Ended ended = result.answered() ? RetryRule.Ended.answered(result.status(), retryAfter(result))
					: RetryRule.Ended.failed(result.failure());
			RetryDecision decision = route.rule.decide(ended, r.forRule(), ticker.nanos(), () -> retryBudget(route),
					ThreadLocalRandom.current());
			if (decision instanceof RetryDecision.Relay) {
				return relay.relay(done, r);
			}
			result.abort();
			done.complete(ended.outcome());
			String replica = done.replica.replica().id();
			r.failed(ended.outcome(), result.answered() ? "replica " + replica + " answered " + result.status()
					: "replica " + replica + ": " + result.detail());
			if (decision instanceof RetryDecision.GiveUp giveUp) {
				if (!giveUp.deadline() && rideThrough(r)) {
					continue;
				}
				if (giveUp.deadline()) {
					r.failed(Outcome.TIMEOUT, "route deadline of " + policy.deadline().toMillis()
							+ " ms would pass before the next retry");
				}
				return failure(r);
			}
			metrics.retry(route.id);
			sleep(((RetryDecision.Retry) decision).waitNanos());
		}
	}

	/**
	 * Ride-through: no replica could take the request (none left to choose, or every attempt failed
	 * without an answer), so on a route that rides through it waits for a replica to come back, then
	 * tries again on any replica, those tried before included. A request that may have reached a
	 * replica waits only if it may be sent again (idempotent, body replayable); a POST only if nothing
	 * of it was sent. The wait is bounded by the route's max-wait in all and by its deadline.
	 *
	 * @return whether to try again (released); {@code false}: answer the failure now
	 */
	private boolean rideThrough(ExchangeRequest r) {
		RideThrough gate = r.route.rideThrough;
		endRideThroughSlot(r);
		if (gate == null || r.clientGone || (r.maybeSent && !r.idempotent) || (!r.body.replayable() && r.body.touched())) {
			return false;
		}
		long now = ticker.nanos();
		long max = Math.min(gate.policy().maxWait().toNanos() - r.rideThroughNanos, r.deadline - now);
		if (max <= 0) {
			return false;
		}
		r.riding = true;
		RideThrough.Result result;
		long began = System.nanoTime(); // the wait is in real time (a condition's), whatever the ticker
		try {
			result = gate.await(r.seenComebacks, max, () -> r.clientGone);
		}
		finally {
			r.riding = false;
		}
		r.rideThroughNanos += Math.max(1, System.nanoTime() - began);
		metrics.rideThrough(r.route.id, result.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'));
		switch (result) {
			case RELEASED -> {
				r.rideThroughSlot = true;
				r.seenComebacks = r.route.pool.comebacks();
				r.tried.clear(); // the replica back may be one tried before
				return true;
			}
			case TIMED_OUT -> r.rideThroughNote = "; waited " + RideThrough.millis(r.rideThroughNanos)
					+ " ms for a replica to come back (ride-through)";
			case FULL -> r.rideThroughNote = "; not waiting for a replica to come back: " + gate.policy().maxWaiting()
					+ " requests already wait (ride-through)";
			case GONE -> {
			}
		}
		return false;
	}

	private static void endRideThroughSlot(ExchangeRequest r) {
		if (r.rideThroughSlot) {
			r.rideThroughSlot = false;
			r.route.rideThrough.done();
		}
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
	private static Attempt choose(ExchangeRequest r, boolean mayProbe, long now) {
		Route route = r.route;
		List<ReplicaHealth> tried = r.tried;
		PoolHealth.Snapshot snapshot = route.pool.snapshot();
		if (mayProbe) {
			for (ReplicaHealth replica : snapshot.ejected()) {
				if (!tried.contains(replica) && replica.claimProbe(now)) {
					return new Attempt(route, replica, true);
				}
			}
		}
		int limit = route.maxPerReplica;
		// a request released by ride-through goes to a replica back in rotation, not to one still down
		// that panic mode would offer
		boolean inRotationOnly = r.rideThroughNanos > 0 && snapshot.panic();
		// a request that may not be sent again avoids a replica on probation while another can take it
		// (if every replica is excluded, the balancer falls back to all of them; in panic, a replica
		// on probation is still better than one that is down)
		boolean trustedOnly = !r.idempotent && !snapshot.panic();
		ReplicaHealth chosen = Balancer.choose(snapshot.routable(), snapshot.maxWeight(), replica -> tried.contains(replica)
				|| replica.load().inFlight() >= limit || (inRotationOnly && !replica.state().takesTraffic())
				|| (trustedOnly && replica.onProbation()), now, ThreadLocalRandom.current());
		if (chosen == null || chosen.load().inFlight() >= limit) {
			return null;
		}
		return new Attempt(route, chosen, false);
	}

	/** Seconds of a 503's or 429's {@code Retry-After: N} in nanos; -1 without one (HTTP dates are not honoured). */
	private static long retryAfter(UpstreamClient.Result result) {
		int status = result.status();
		String value = status == 503 || status == 429 ? result.response().header("Retry-After") : null;
		if (value == null) {
			return -1;
		}
		try {
			return TimeUnit.SECONDS.toNanos(Long.parseLong(value.trim()));
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

	/** The gateway's own answer for a request that got no answer to relay. */
	private static ServerResponse failure(ExchangeRequest r) {
		String route = r.route.id;
		String pool = r.route.pool.name();
		String note = r.rideThroughNote == null ? "" : r.rideThroughNote;
		if (r.last == null) {
			return Problems.unavailable(r.id, route, "no replica of pool '" + pool + "' can take the request" + note, 1);
		}
		String tail = " (after " + r.attempts + (r.attempts == 1 ? " attempt)" : " attempts)") + note;
		return switch (r.last) {
			case CONNECT_FAILURE -> Problems.unavailable(r.id, route,
					"no replica of pool '" + pool + "' accepted a connection; last: " + r.lastDetail + tail, 1);
			case TIMEOUT -> Problems.timeout(r.id, route, r.lastDetail + tail);
			case CANCELLED -> Problems.badRequest(r.id, route, "the request could not be forwarded: " + r.lastDetail);
			default -> Problems.badGateway(r.id, route, r.lastDetail + tail);
		};
	}

}
