package dev.resiliencegateway.admin;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.actuate.endpoint.SecurityContext;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;
import org.springframework.boot.actuate.endpoint.web.WebEndpointResponse;
import org.springframework.lang.Nullable;

import dev.resiliencegateway.health.PoolHealth;
import dev.resiliencegateway.health.ReplicaEvent;
import dev.resiliencegateway.health.ReplicaHealth;
import dev.resiliencegateway.health.ReplicaStatus;
import dev.resiliencegateway.clock.Ticker;

/**
 * {@code /actuator/replicas}: read every pool and replica and the recent events; with the operator's
 * credential (role ADMIN), drain, eject for a while, or restore a replica, and switch a pool between
 * enforcing and detect-only. Every write is audit-logged and kept in the event log.
 *
 * <pre>
 * GET  /actuator/replicas                     all pools, replicas, recent events
 * GET  /actuator/replicas/{pool}              one pool
 * POST /actuator/replicas/{pool}/{replica}    {"action":"drain"} | {"action":"restore"} | {"action":"eject","seconds":60}
 * POST /actuator/replicas/{pool}              {"detectOnly":true}
 * </pre>
 */
@Endpoint(id = "replicas")
public class ReplicasEndpoint {

	private static final Logger audit = LoggerFactory.getLogger("dev.resiliencegateway.audit");

	/** Where the endpoint finds pools and records events; the wiring package provides it. */
	public interface Pools {

		Map<String, PoolHealth> all();

		List<ReplicaEvent> recentEvents();

		/** Each route's availability model (predicted and measured); none without routes. */
		default List<RouteView> routes() {
			return List.of();
		}

		void record(ReplicaEvent event);

	}

	private final Pools pools;

	public ReplicasEndpoint(Pools pools) {
		this.pools = pools;
	}

	public record ReplicaView(String id, String url, int weight, String state, String reason, long sinceMillisAgo,
			int inFlight, double latencyMillis, double successRate, long ejections, String breaker, double weightShare,
			Double availability) {
	}

	/**
	 * A route's availability model: each replica's observed availability p over the last 10 s, the
	 * availability redundancy predicts for independent failures, R = 1 - (1 - p1)...(1 - pk) over the
	 * replicas the route can use, and the share of the route's answers below 500 as clients saw them.
	 * {@code null} without data. docs/availability.md.
	 */
	public record RouteView(String route, String pool, Double predicted, Double measured, Map<String, Double> replicas) {
	}

	public record PoolView(String name, boolean panic, boolean detectOnly, List<ReplicaView> replicas) {
	}

	public record EventView(Instant at, String pool, String replica, String type, String from, String to, String text) {
	}

	@ReadOperation
	public Map<String, Object> all() {
		Map<String, Object> out = new LinkedHashMap<>();
		List<PoolView> views = new ArrayList<>();
		pools.all().values().forEach(p -> views.add(view(p)));
		out.put("pools", views);
		out.put("routes", pools.routes());
		List<EventView> events = new ArrayList<>();
		for (ReplicaEvent e : pools.recentEvents()) {
			String from = e instanceof ReplicaEvent.Transition t ? t.from().name() : null;
			String to = e instanceof ReplicaEvent.Transition t ? t.to().name() : null;
			events.add(new EventView(e.at(), e.pool(), e.replica(), e.getClass().getSimpleName(), from, to, e.toString()));
		}
		out.put("events", events);
		return out;
	}

	@ReadOperation
	public WebEndpointResponse<PoolView> pool(@Selector String pool) {
		PoolHealth p = pools.all().get(pool);
		return p == null ? new WebEndpointResponse<>(404) : new WebEndpointResponse<>(view(p));
	}

	/** Drain, eject (for {@code seconds}, default 60) or restore one replica. */
	@WriteOperation
	public WebEndpointResponse<Map<String, Object>> replica(@Selector String pool, @Selector String replica, String action,
			@Nullable Integer seconds, SecurityContext security) {
		if (!security.isUserInRole(AdminAuthFilter.ROLE)) {
			return refused();
		}
		PoolHealth p = pools.all().get(pool);
		ReplicaHealth r = p == null ? null : p.replicas().stream().filter(x -> x.replica().id().equals(replica)).findFirst().orElse(null);
		if (r == null) {
			return new WebEndpointResponse<>(Map.of("detail", "no replica '" + replica + "' in pool '" + pool + "'"), 404);
		}
		String by = security.getPrincipal().getName();
		int s = seconds == null ? 60 : seconds;
		if (!List.of("drain", "restore", "eject").contains(String.valueOf(action)) || s < 1 || s > 86_400) {
			return new WebEndpointResponse<>(
					Map.of("detail", "action is one of drain, eject, restore; seconds (for eject) 1 to 86400"), 400);
		}
		boolean changed = switch (action) {
			case "drain" -> r.drain(by);
			case "restore" -> r.restore(by);
			default -> r.ejectFor(Duration.ofSeconds(s).toNanos(), by);
		};
		String result = changed ? "now " + r.state() : "no change, it is " + r.state();
		audit(new ReplicaEvent.AdminAction(pool, replica, action + (seconds != null ? " " + seconds + "s" : ""), by, result,
				Instant.now()));
		return new WebEndpointResponse<>(Map.of("replica", replica, "state", r.state().name(), "changed", changed));
	}

	/** Switches a pool between enforcing ({@code false}) and detect-only ({@code true}). */
	@WriteOperation
	public WebEndpointResponse<Map<String, Object>> mode(@Selector String pool, boolean detectOnly, SecurityContext security) {
		if (!security.isUserInRole(AdminAuthFilter.ROLE)) {
			return refused();
		}
		PoolHealth p = pools.all().get(pool);
		if (p == null) {
			return new WebEndpointResponse<>(Map.of("detail", "no pool '" + pool + "'"), 404);
		}
		p.setDetectOnly(detectOnly);
		audit(new ReplicaEvent.AdminAction(pool, null, detectOnly ? "switch to detect-only" : "switch to enforcing",
				security.getPrincipal().getName(), "done", Instant.now()));
		return new WebEndpointResponse<>(Map.of("pool", pool, "detectOnly", detectOnly));
	}

	private void audit(ReplicaEvent.AdminAction action) {
		audit.info("{}", action);
		pools.record(action);
	}

	/** Without the filter's principal (e.g. management on the traffic port), writes fail closed. */
	private static WebEndpointResponse<Map<String, Object>> refused() {
		return new WebEndpointResponse<>(Map.of("detail", "admin credentials required"), 401);
	}

	/**
	 * The one view of a pool that the endpoint, the status page and actuator health show. A replica's
	 * weight share is its part of the effective weight of the replicas the balancer picks from.
	 */
	public static PoolView view(PoolHealth pool) {
		long now = Ticker.SYSTEM.nanos();
		double total = 0;
		for (ReplicaHealth r : pool.snapshot().routable()) {
			total += r.effectiveWeight(now);
		}
		List<ReplicaView> replicas = new ArrayList<>();
		for (ReplicaHealth r : pool.replicas()) {
			ReplicaStatus s = r.status();
			boolean routable = pool.snapshot().routable().contains(r);
			replicas.add(new ReplicaView(r.replica().id(), r.replica().uri().toString(), r.replica().weight(),
					s.state().name(), s.reason(), TimeUnit.NANOSECONDS.toMillis(now - s.sinceNanos()),
					r.load().inFlight(), Math.round(r.load().latencyNanos(now) / 10_000.0) / 100.0,
					Math.round(r.load().successRate() * 1000) / 1000.0, r.ejectionsTotal(), r.breaker().getState().name(),
					routable && total > 0 ? Math.round(r.effectiveWeight(now) / total * 1000) / 1000.0 : 0.0,
					share(r.availability().availability(now))));
		}
		return new PoolView(pool.name(), pool.snapshot().panic(), pool.policy().detectOnly(), replicas);
	}

	/** A share rounded to 6 decimals (99.9999 % stays visible), {@code null} for no data (JSON has no NaN). */
	public static Double share(double value) {
		return Double.isNaN(value) ? null : Math.round(value * 1_000_000) / 1_000_000.0;
	}

}
