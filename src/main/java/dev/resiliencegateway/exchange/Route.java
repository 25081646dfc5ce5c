package dev.resiliencegateway.exchange;

import java.time.Duration;

import dev.resiliencegateway.clock.Ticker;
import dev.resiliencegateway.config.GatewayConfig.RoutePolicy;
import dev.resiliencegateway.health.AvailabilityWindow;
import dev.resiliencegateway.health.PoolHealth;
import dev.resiliencegateway.retry.Backoff;
import dev.resiliencegateway.retry.LatencyWindow;
import dev.resiliencegateway.retry.RetryBudget;
import dev.resiliencegateway.retry.RetryRule;
import io.github.resilience4j.bulkhead.Bulkhead;
import io.github.resilience4j.bulkhead.BulkheadConfig;

/** One route's runtime state: its pool, rule, budgets, concurrency limit and recent latencies. */
final class Route {

	final String id;

	final PoolHealth pool;

	final RoutePolicy policy;

	final int maxPerReplica;

	final RetryRule rule;

	final RetryBudget retries;

	final RetryBudget hedges;

	final Bulkhead bulkhead;

	final LatencyWindow latencies;

	/** Waiting for a replica to come back when none can take a request; {@code null} when the route does not. */
	final RideThrough rideThrough;

	/** Answers as the route's clients saw them: success is any status below 500. */
	final AvailabilityWindow served = new AvailabilityWindow();

	final Ticker ticker;

	final GatewayMetrics metrics;

	/** Spans for attempts ({@link AttemptTracing#OFF} unless tracing is on); set once, before the route serves. */
	AttemptTracing tracing = AttemptTracing.OFF;

	/** The access log's fields for a request the route answered before trying a replica (429, at its limit). */
	final String accessLogUntried;

	Route(String id, PoolHealth pool, RoutePolicy policy, int maxPerReplica, Ticker ticker, GatewayMetrics metrics) {
		this.id = id;
		this.accessLogUntried = "route=" + id + " pool=" + pool.name() + " replicas=- attempts=0 hedged=false";
		this.pool = pool;
		this.policy = policy;
		this.maxPerReplica = maxPerReplica;
		this.rule = new RetryRule(policy.maxAttempts(), policy.maxRetryAfter().toNanos(),
				new Backoff(policy.backoffBase(), policy.backoffCap()));
		this.retries = new RetryBudget(policy.retryBudgetPercent() / 100.0, policy.retryBudgetFloor(), ticker);
		this.hedges = new RetryBudget(policy.hedgeBudgetPercent() / 100.0, 0, ticker);
		this.bulkhead = Bulkhead.of("route-" + id, BulkheadConfig.custom()
			.maxConcurrentCalls(policy.maxConcurrent())
			.maxWaitDuration(Duration.ZERO)
			.build());
		this.latencies = new LatencyWindow(ticker);
		this.rideThrough = policy.rideThrough().enabled() ? new RideThrough(pool, policy.rideThrough()) : null;
		this.ticker = ticker;
		this.metrics = metrics;
	}

	/** The route's availability model now ({@link ResilientExchange.RouteAvailability}). */
	ResilientExchange.RouteAvailability availabilityNow() {
		long now = ticker.nanos();
		java.util.List<dev.resiliencegateway.health.ReplicaHealth> usable = pool.snapshot().routable();
		double[] p = new double[usable.size()];
		for (int i = 0; i < p.length; i++) {
			p[i] = usable.get(i).availability().availability(now);
		}
		java.util.Map<String, Double> replicas = new java.util.LinkedHashMap<>();
		for (dev.resiliencegateway.health.ReplicaHealth r : pool.replicas()) {
			replicas.put(r.replica().id(), r.availability().availability(now));
		}
		return new ResilientExchange.RouteAvailability(id, pool.name(), AvailabilityWindow.predicted(p),
				served.availability(now), replicas);
	}

	/** The route's answer to a client, for its metrics and its measured availability. */
	void answered(int status, long startNanos) {
		long now = ticker.nanos();
		served.record(status < 500, now);
		metrics.request(id, status, now - startNanos);
	}

}
