package dev.resiliencegateway.wiring;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;

import dev.resiliencegateway.health.PoolHealth;
import dev.resiliencegateway.health.ReplicaEvent;
import dev.resiliencegateway.health.ReplicaHealth;
import dev.resiliencegateway.health.ReplicaStatus;
import dev.resiliencegateway.health.Ticker;

/**
 * Read-only view of every pool and replica ({@code /actuator/replicas}) and of the recent events.
 * Not exposed by default; the demo profile exposes it.
 */
@Endpoint(id = "replicas")
public class ReplicasEndpoint {

	private final PoolRegistry pools;

	private final ReplicaEventLog events;

	public ReplicasEndpoint(PoolRegistry pools, ReplicaEventLog events) {
		this.pools = pools;
		this.events = events;
	}

	public record ReplicaView(String id, String url, int weight, String state, String reason, long sinceMillisAgo,
			int inFlight, double latencyMillis, double successRate, long ejections, String breaker) {
	}

	public record PoolView(String name, boolean panic, boolean detectOnly, List<ReplicaView> replicas) {
	}

	@ReadOperation
	public Map<String, Object> all() {
		Map<String, Object> out = new LinkedHashMap<>();
		List<PoolView> views = new ArrayList<>();
		pools.pools().values().forEach(p -> views.add(view(p)));
		out.put("pools", views);
		out.put("events", events.recent().stream().map(ReplicaEvent::toString).toList());
		return out;
	}

	@ReadOperation
	public PoolView pool(@Selector String pool) {
		return view(pools.pool(pool));
	}

	static PoolView view(PoolHealth pool) {
		long now = Ticker.SYSTEM.nanos();
		List<ReplicaView> replicas = new ArrayList<>();
		for (ReplicaHealth r : pool.replicas()) {
			ReplicaStatus s = r.status();
			replicas.add(new ReplicaView(r.replica().id(), r.replica().uri().toString(), r.replica().weight(),
					s.state().name(), s.reason(), TimeUnit.NANOSECONDS.toMillis(now - s.sinceNanos()),
					r.load().inFlight(), Math.round(r.load().latencyNanos(now) / 10_000.0) / 100.0,
					Math.round(r.load().successRate() * 1000) / 1000.0, r.ejectionsTotal(), r.breaker().getState().name()));
		}
		PoolHealth.Snapshot snap = pool.snapshot();
		return new PoolView(pool.name(), snap.panic(), pool.policy().detectOnly(), replicas);
	}

}
