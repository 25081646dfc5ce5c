package dev.resiliencegateway.wiring;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.actuate.health.CompositeHealthContributor;
import org.springframework.boot.actuate.health.HealthContributor;
import org.springframework.boot.actuate.health.NamedContributor;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.context.annotation.Bean;

import dev.resiliencegateway.admin.AdminCredentials;
import dev.resiliencegateway.admin.ReplicasEndpoint;
import dev.resiliencegateway.admin.StatusPageEndpoint;
import dev.resiliencegateway.config.GatewayProperties;
import dev.resiliencegateway.exchange.ResilientExchange;
import dev.resiliencegateway.health.PoolHealth;
import dev.resiliencegateway.health.ReplicaEvent;
import dev.resiliencegateway.health.ReplicaEventSink;
import io.micrometer.core.instrument.MeterRegistry;

/** What the pools show: actuator health per pool, replica gauges, the replicas endpoint and the status page. */
@AutoConfiguration(after = PoolsAutoConfiguration.class)
public class ObservabilityAutoConfiguration {

	private static final Logger log = LoggerFactory.getLogger(ObservabilityAutoConfiguration.class);

	/** {@code /actuator/health/pools/NAME}: one health indicator per pool. */
	@Bean
	CompositeHealthContributor pools(PoolRegistry pools) {
		// read at each call, not once: a configuration change may add or remove pools
		return new CompositeHealthContributor() {
			@Override
			public HealthContributor getContributor(String name) {
				PoolHealth pool = pools.pools().get(name);
				return pool == null ? null : PoolHealthIndicators.of(pool);
			}

			@Override
			public java.util.Iterator<NamedContributor<HealthContributor>> iterator() {
				return pools.pools().entrySet().stream()
					.map(e -> NamedContributor.<HealthContributor>of(e.getKey(), PoolHealthIndicators.of(e.getValue())))
					.iterator();
			}
		};
	}

	@Bean
	ReplicaMeters replicaMeters(PoolRegistry pools, MeterRegistry meters) {
		ReplicaMeters replicaMeters = new ReplicaMeters(pools, meters);
		pools.everySecond(replicaMeters::refresh);
		return replicaMeters;
	}

	/** Operators' actions are events like the pools' own: they go to the same sink. */
	@Bean
	ReplicasEndpoint replicasEndpoint(PoolRegistry pools, ReplicaEventLog events, ReplicaEventSink sink,
			ObjectProvider<ResilientExchange> exchange) {
		return new ReplicasEndpoint(new ReplicasEndpoint.Pools() {
			@Override
			public Map<String, PoolHealth> all() {
				return pools.pools();
			}

			@Override
			public List<ReplicaEvent> recentEvents() {
				return events.recent();
			}

			@Override
			public void record(ReplicaEvent event) {
				sink.publish(event);
			}

			@Override
			public List<ReplicasEndpoint.RouteView> routes() {
				ResilientExchange e = exchange.getIfAvailable();
				if (e == null) {
					return List.of();
				}
				List<ReplicasEndpoint.RouteView> views = new java.util.ArrayList<>();
				for (ResilientExchange.RouteAvailability a : e.availability()) {
					Map<String, Double> replicas = new LinkedHashMap<>();
					a.replicas().forEach((id, p) -> replicas.put(id, ReplicasEndpoint.share(p)));
					views.add(new ReplicasEndpoint.RouteView(a.route(), a.pool(), ReplicasEndpoint.share(a.predicted()),
							ReplicasEndpoint.share(a.measured()), replicas));
				}
				return views;
			}
		});
	}

	@Bean
	StatusPageEndpoint statusPageEndpoint() {
		return new StatusPageEndpoint();
	}

	@Bean
	AdminCredentials adminCredentials(GatewayProperties properties) {
		AdminCredentials credentials = AdminCredentials.of(properties.admin().username(), properties.admin().password());
		if (!credentials.configured()) {
			log.info("Admin writes (drain, eject, restore) are refused: set resilience.gateway.admin.password to enable them");
		}
		return credentials;
	}

}
