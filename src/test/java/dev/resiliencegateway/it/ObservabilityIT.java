package dev.resiliencegateway.it;

import java.net.http.HttpResponse;
import java.time.Duration;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

import dev.resiliencegateway.demo.DemoReplica;

import static org.assertj.core.api.Assertions.assertThat;

/** Actuator health per pool and replica, and the per-replica Prometheus series, over real HTTP. */
class ObservabilityIT extends GatewayIT {

	@org.springframework.beans.factory.annotation.Autowired
	org.springframework.context.ApplicationContext context;

	@Test
	void noFilterRunsThatNothingNeeds() {
		// tracing off (the default): no server observation; never Spring's RequestContextFilter
		java.util.List<Class<?>> registered = new java.util.ArrayList<>();
		context.getBeansOfType(org.springframework.boot.web.servlet.FilterRegistrationBean.class).values().forEach(r -> {
			if (r.isEnabled()) {
				registered.add(r.getFilter().getClass());
			}
		});
		context.getBeansOfType(jakarta.servlet.Filter.class).values().forEach(f -> registered.add(f.getClass()));
		assertThat(registered).isNotEmpty()
			.noneMatch(c -> org.springframework.web.filter.ServerHttpObservationFilter.class.isAssignableFrom(c))
			.noneMatch(c -> org.springframework.web.filter.RequestContextFilter.class.isAssignableFrom(c));
	}

	@Test
	void redisIsLeftOutWhileNoStoreUsesIt() {
		// both stores in memory (the default): no Redis client at all (RedisSwitch); not checked by
		// thread names, which other test classes' Lettuce clients may leave behind for a while
		assertThat(context.getBeanNamesForType(org.springframework.data.redis.connection.RedisConnectionFactory.class)).isEmpty();
		assertThat(context.getBeanNamesForType(io.lettuce.core.resource.ClientResources.class)).isEmpty();
		assertThat(context.getBean(dev.resiliencegateway.idempotency.IdempotencyStore.class))
			.isInstanceOf(dev.resiliencegateway.idempotency.InMemoryIdempotencyStore.class);
	}

	@Test
	void theLibrariesPartsNothingUsesAreLeftOut() {
		// application.yml's spring.autoconfigure.exclude: Resilience4j's breakers stay (the replicas'
		// detectors), its other modules, AOP and the reactive client stack do not start
		assertThat(context.getBeanNamesForType(io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry.class)).isNotEmpty();
		assertThat(context.getBeanNamesForType(io.github.resilience4j.retry.RetryRegistry.class)).isEmpty();
		assertThat(context.getBeanNamesForType(io.github.resilience4j.timelimiter.TimeLimiterRegistry.class)).isEmpty();
		assertThat(context.getBeanNamesForType(io.github.resilience4j.bulkhead.BulkheadRegistry.class)).isEmpty();
		assertThat(context.getBeanNamesForType(io.github.resilience4j.ratelimiter.RateLimiterRegistry.class)).isEmpty();
		assertThat(context.containsBean("org.springframework.aop.config.internalAutoProxyCreator")).isFalse();
		assertThat(context.getBeanNamesForType(org.springframework.boot.autoconfigure.reactor.ReactorProperties.class)).isEmpty();
	}

	@Test
	void aCrashedReplicaShowsInThePoolsHealthAndTheHealOnlyAfter() throws Exception {
		DemoReplica victim = Replicas.SVC.get(0);
		String id = "127.0.0.1:" + victim.port();
		victim.crash();
		// the active checks (every 200 ms here, 2 failures) take it down with no traffic at all
		Awaitility.await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
			HttpResponse<String> h = management("/actuator/health/pools/svc");
			assertThat(h.statusCode()).isEqualTo(200);
			assertThat(h.body()).contains("\"status\":\"DEGRADED\"").contains("\"" + id + "\":{\"state\":\"DOWN\"");
		});
		victim.start();
		Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(
				management("/actuator/health/pools/svc").body()).contains("\"status\":\"UP\""));
	}

	@Test
	void aPoolWithNoReplicaTakingTrafficIsDownAndLivenessAndReadinessDoNotCare() throws Exception {
		Awaitility.await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
			HttpResponse<String> dead = management("/actuator/health/pools/dead");
			assertThat(dead.statusCode()).isEqualTo(503);
			assertThat(dead.body()).contains("\"status\":\"DOWN\"");
		});
		assertThat(management("/actuator/health/liveness").statusCode()).isEqualTo(200);
		assertThat(management("/actuator/health/readiness").statusCode()).isEqualTo(200);
	}

	@Test
	void prometheusHasPerReplicaSeries() throws Exception {
		get("/svc/x");
		HttpResponse<String> p = management("/actuator/prometheus");
		assertThat(p.statusCode()).isEqualTo(200);
		String id = "127.0.0.1:" + Replicas.SVC.get(1).port();
		assertThat(p.body())
			.contains("gateway_replica_state{pool=\"svc\",replica=\"" + id + "\",state=\"HEALTHY\"} 1.0")
			.contains("gateway_replica_ejections{pool=\"svc\",replica=\"" + id + "\"}")
			.contains("gateway_attempts_total{outcome=\"SUCCESS\"")
			.contains("gateway_requests_seconds_bucket{route=\"svc\",status=\"2xx\"")
			.contains("resilience4j_circuitbreaker_state{name=\"svc@" + id + "\"")
			// the overload panel's series (docker/grafana)
			.contains("gateway_connections_busy ").contains("gateway_in_flight ").contains("gateway_shed_total ");
	}

}
