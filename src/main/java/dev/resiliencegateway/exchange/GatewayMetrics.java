package dev.resiliencegateway.exchange;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import dev.resiliencegateway.outcome.Outcome;

/**
 * The exchange's decisions as Micrometer meters (Prometheus names in brackets):
 * {@code gateway.attempts} by route, replica and outcome [gateway_attempts_total];
 * {@code gateway.retries}, {@code gateway.hedges}, {@code gateway.retry.budget.exhausted} and
 * {@code gateway.rejected} (fail-fast 503s, by reason) by route; {@code gateway.idempotency} by route
 * and result [gateway_idempotency_total]; {@code gateway.requests} latency
 * timer by route and status class, with a histogram for Grafana percentiles. Meters are looked up
 * once per tag combination and cached, so the request path does no registry lookups.
 */
public final class GatewayMetrics {

	private final MeterRegistry registry;

	private final ConcurrentHashMap<String, Counter> counters = new ConcurrentHashMap<>();

	private final ConcurrentHashMap<String, Timer> timers = new ConcurrentHashMap<>();

	public GatewayMetrics(MeterRegistry registry) {
		this.registry = registry;
	}

	void attempt(String route, String replica, Outcome outcome) {
		counter("gateway.attempts", route, "replica", replica, "outcome", outcome.name()).increment();
	}

	void retry(String route) {
		counter("gateway.retries", route, null, null, null, null).increment();
	}

	void hedge(String route) {
		counter("gateway.hedges", route, null, null, null, null).increment();
	}

	void budgetExhausted(String route) {
		counter("gateway.retry.budget.exhausted", route, null, null, null, null).increment();
	}

	void fallback(String route, String kind) {
		counter("gateway.fallbacks", route, "kind", kind, null, null).increment();
	}

	void rejected(String route, String reason) {
		counter("gateway.rejected", route, "reason", reason, null, null).increment();
	}

	/** What the route's {@code Idempotency-Key} handling did: replayed, conflict, mismatch, kept, released, store-failure... */
	void idempotency(String route, String result) {
		counter("gateway.idempotency", route, "result", result, null, null).increment();
	}

	/** {@code gateway.route.availability{route, kind=predicted|measured}}: the route's availability model. */
	void availability(String routeId, java.util.function.Function<String, Route> routes) {
		// by id, not by object: a configuration change may replace the route (NaN once it is gone)
		io.micrometer.core.instrument.Gauge.builder("gateway.route.availability", routes,
				r -> r.apply(routeId) == null ? Double.NaN : r.apply(routeId).availabilityNow().predicted())
			.tags("route", routeId, "kind", "predicted")
			.strongReference(true)
			.description("1 - (1 - p1)...(1 - pk) over the replicas the route can use, p = each one's observed availability")
			.register(registry);
		io.micrometer.core.instrument.Gauge.builder("gateway.route.availability", routes,
				r -> r.apply(routeId) == null ? Double.NaN : r.apply(routeId).availabilityNow().measured())
			.tags("route", routeId, "kind", "measured")
			.strongReference(true)
			.description("share of the route's answers below 500 over the last 10 s")
			.register(registry);
	}

	/** A route's rate limit: allowed, refused or store-failure [gateway_rate_limit_total]. */
	/** How a ride-through wait ended: released, timed-out, full, gone. */
	void rideThrough(String route, String result) {
		counter("gateway.ride.through", route, "result", result, null, null).increment();
	}

	void rateLimit(String route, String result) {
		counter("gateway.rate.limit", route, "result", result, null, null).increment();
	}

	void request(String route, int status, long nanos) {
		timer(route, (status / 100) + "xx").record(nanos, TimeUnit.NANOSECONDS);
	}

	/**
	 * Registers a route's request timers up front: the series exist (at zero) before the first
	 * error, for alerts on their rate, and the first 5xx does not pay for building a histogram.
	 */
	void prepare(String route) {
		for (String statusClass : new String[] { "2xx", "3xx", "4xx", "5xx" }) {
			timer(route, statusClass);
		}
	}

	private Timer timer(String route, String statusClass) {
		return timers.computeIfAbsent(route + '|' + statusClass, k -> Timer.builder("gateway.requests")
			.description("Client requests through the gateway, by route and status class")
			.tag("route", route)
			.tag("status", statusClass)
			.publishPercentileHistogram()
			.register(registry));
	}

	private Counter counter(String name, String route, String k1, String v1, String k2, String v2) {
		String key = name + '|' + route + '|' + v1 + '|' + v2;
		Counter c = counters.get(key);
		if (c != null) {
			return c;
		}
		return counters.computeIfAbsent(key, k -> {
			Counter.Builder b = Counter.builder(name).tag("route", route);
			if (k1 != null) {
				b.tag(k1, v1);
			}
			if (k2 != null) {
				b.tag(k2, v2);
			}
			return b.register(registry);
		});
	}

}
