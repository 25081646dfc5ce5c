package dev.resiliencegateway.wiring;

import java.util.LinkedHashMap;
import java.util.Map;

import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.boot.actuate.health.Status;

import dev.resiliencegateway.admin.ReplicasEndpoint;
import dev.resiliencegateway.health.PoolHealth;
import dev.resiliencegateway.health.ReplicaState;

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
		ReplicasEndpoint.PoolView view = ReplicasEndpoint.view(pool);
		long taking = view.replicas().stream().filter(r -> ReplicaState.valueOf(r.state()).takesTraffic()).count();
		long healthy = view.replicas().stream().filter(r -> r.state().equals(ReplicaState.HEALTHY.name())).count();
		int all = view.replicas().size();
		Status status = all == 0 || taking == 0 ? Status.DOWN : healthy == all ? Status.UP : DEGRADED;
		Map<String, Object> details = new LinkedHashMap<>();
		for (ReplicasEndpoint.ReplicaView r : view.replicas()) {
			Map<String, Object> d = new LinkedHashMap<>();
			d.put("state", r.state());
			d.put("reason", r.reason());
			d.put("weightShare", r.weightShare());
			d.put("latencyEwmaMillis", r.latencyMillis());
			d.put("successRate", r.successRate());
			d.put("ejections", r.ejections());
			d.put("millisSinceLastTransition", r.sinceMillisAgo());
			details.put(r.id(), d);
		}
		return Health.status(status)
			.withDetail("panic", view.panic())
			.withDetail("detectOnly", view.detectOnly())
			.withDetail("replicas", details)
			.build();
	}

}
