package dev.resiliencegateway.wiring;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.boot.actuate.health.Status;

import dev.resiliencegateway.health.PoolHealth;
import dev.resiliencegateway.health.ReplicaHealth;
import dev.resiliencegateway.health.ReplicaState;
import dev.resiliencegateway.health.ReplicaStatus;
import dev.resiliencegateway.health.Ticker;

/**
 * Actuator health of one pool ({@code /actuator/health/pools/NAME}): {@code UP} when every replica is
 * healthy, {@code DEGRADED} when some are out but the pool still serves, {@code DOWN} only when no
 * replica can take traffic; one detail entry per replica. Not part of the liveness or readiness
 * groups: a gateway whose replicas are down should still answer (fast 503s), not be restarted or
 * taken out of its load balancer.
 */
final class PoolHealthIndicators {

	/** Some replicas are out, the pool still serves. Mapped to HTTP 200. */
	static final Status DEGRADED = new Status("DEGRADED", "some replicas are out of rotation; the pool still serves");

	private PoolHealthIndicators() {
	}

	static HealthIndicator of(PoolHealth pool) {
		return () -> health(pool);
	}

	static Health health(PoolHealth pool) {
		long now = Ticker.SYSTEM.nanos();
		List<ReplicaHealth> replicas = pool.replicas();
		double totalWeight = 0;
		int taking = 0;
		int healthy = 0;
		for (ReplicaHealth r : replicas) {
			if (r.state().takesTraffic()) {
				taking++;
				totalWeight += r.effectiveWeight(now);
			}
			healthy += r.state() == ReplicaState.HEALTHY ? 1 : 0;
		}
		Status status = replicas.isEmpty() || taking == 0 ? Status.DOWN : healthy == replicas.size() ? Status.UP : DEGRADED;
		Health.Builder builder = Health.status(status);
		builder.withDetail("panic", pool.snapshot().panic());
		builder.withDetail("detectOnly", pool.policy().detectOnly());
		Map<String, Object> details = new LinkedHashMap<>();
		for (ReplicaHealth r : replicas) {
			ReplicaStatus s = r.status();
			Map<String, Object> d = new LinkedHashMap<>();
			d.put("state", s.state().name());
			d.put("reason", s.reason());
			d.put("weightShare", s.state().takesTraffic() && totalWeight > 0
					? Math.round(r.effectiveWeight(now) / totalWeight * 1000) / 1000.0 : 0.0);
			d.put("latencyEwmaMillis", Math.round(r.load().latencyNanos(now) / 10_000.0) / 100.0);
			d.put("successRate", Math.round(r.load().successRate() * 1000) / 1000.0);
			d.put("ejections", r.ejectionsTotal());
			d.put("millisSinceLastTransition", TimeUnit.NANOSECONDS.toMillis(now - s.sinceNanos()));
			details.put(r.replica().id(), d);
		}
		builder.withDetail("replicas", details);
		return builder.build();
	}

}
