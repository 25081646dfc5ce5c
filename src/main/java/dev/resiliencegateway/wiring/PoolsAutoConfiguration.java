package dev.resiliencegateway.wiring;

import java.time.Duration;
import java.util.Objects;
import java.util.function.Function;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.cloud.client.discovery.DiscoveryClient;
import org.springframework.cloud.client.discovery.composite.CompositeDiscoveryClient;
import org.springframework.cloud.client.discovery.simple.SimpleDiscoveryClient;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.ApplicationListener;
import org.springframework.context.annotation.Bean;
import org.springframework.context.event.ContextClosedEvent;
import org.springframework.boot.ssl.NoSuchSslBundleException;
import org.springframework.boot.ssl.SslBundles;
import org.springframework.core.env.Environment;

import dev.resiliencegateway.clock.Ticker;
import dev.resiliencegateway.config.GatewayConfig;
import dev.resiliencegateway.config.GatewayConfigValidator;
import dev.resiliencegateway.config.GatewayRoutes;
import dev.resiliencegateway.config.GatewayProperties;
import dev.resiliencegateway.config.InvalidConfigurationException;
import dev.resiliencegateway.exchange.transport.HttpUpstreamClient;
import dev.resiliencegateway.exchange.transport.UpstreamClient;
import dev.resiliencegateway.health.ReplicaEventSink;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;

/**
 * The pools: the validated configuration, one health model per replica, the background thread that
 * drives them, the upstream client that requests and health checks go through, and where the pools'
 * events go. Replaceable: the {@link Ticker}, the {@link ReplicaEventLog}, the {@link ReplicaEventSink}
 * and the {@link UpstreamClient} (define a bean of the type).
 */
@AutoConfiguration(afterName = {
		"io.github.resilience4j.springboot3.circuitbreaker.autoconfigure.CircuitBreakerAutoConfiguration",
		"org.springframework.cloud.client.discovery.simple.SimpleDiscoveryClientAutoConfiguration" })
@EnableConfigurationProperties(GatewayProperties.class)
public class PoolsAutoConfiguration {

	private static final Logger log = LoggerFactory.getLogger(PoolsAutoConfiguration.class);

	/** Name of the Resilience4j circuit breaker config used for replicas; define it to tune the rate rules. */
	public static final String REPLICA_BREAKER_CONFIG = "replica";

	@Bean
	GatewayConfig gatewayConfig(GatewayProperties properties, Environment environment,
			ObjectProvider<DiscoveryClient> discoveryClient, ObjectProvider<SslBundles> bundles) {
		GatewayConfig config = validate(properties, environment, discoveryClient.getIfAvailable(), bundles.getIfAvailable());
		log.info("Resilience Gateway: {} pool(s) {}, {} thread(s) serve requests", config.pools().size(),
				config.pools().keySet(), Boolean.parseBoolean(environment.getProperty("spring.threads.virtual.enabled"))
						&& Runtime.version().feature() >= 21 ? "virtual" : "platform");
		return config;
	}

	/** The same checks at startup and for every configuration change (GatewayConfigReloader). */
	static GatewayConfig validate(GatewayProperties properties, Environment environment, DiscoveryClient discovery,
			SslBundles bundles) {
		boolean isStatic = discovery == null || isStatic(discovery);
		GatewayConfig config = GatewayConfigValidator.validate(properties, GatewayRoutes.of(environment),
				service -> discovery != null && !discovery.getInstances(service).isEmpty(), isStatic);
		config.pools().forEach((name, pc) -> {
			String bundle = pc.tls().bundle();
			if (bundle != null) {
				try {
					Objects.requireNonNull(bundles, "no SSL bundles").getBundle(bundle);
				}
				catch (NoSuchSslBundleException | NullPointerException e) {
					throw new InvalidConfigurationException("resilience.gateway.pools." + name + ".tls.bundle", bundle,
							"the name of an SSL bundle defined under spring.ssl.bundle.pem.* or spring.ssl.bundle.jks.*");
				}
			}
		});
		return config;
	}

	private static boolean isStatic(DiscoveryClient discovery) {
		if (discovery instanceof CompositeDiscoveryClient composite) {
			return composite.getDiscoveryClients().stream().allMatch(SimpleDiscoveryClient.class::isInstance);
		}
		return discovery instanceof SimpleDiscoveryClient;
	}

	/** The clock of every decision (ejection times, budgets, latencies); a test may replace it. */
	@Bean
	@ConditionalOnMissingBean
	Ticker gatewayTicker() {
		return Ticker.SYSTEM;
	}

	@Bean
	@ConditionalOnMissingBean
	ReplicaEventLog replicaEventLog(ApplicationEventPublisher publisher) {
		ReplicaEventLog events = new ReplicaEventLog(500);
		events.setPublisher(publisher);
		return events;
	}

	/** Where the pools' events go: the event log, unless the application defines its own sink. */
	@Bean
	@ConditionalOnMissingBean
	ReplicaEventSink replicaEventSink(ReplicaEventLog events) {
		return events::accept;
	}

	/** Each pool's TLS to its https replicas, from its SSL bundle, for the upstream client (requests, health checks and probes). */
	@Bean
	UpstreamTlsSettings upstreamTlsSettings(ObjectProvider<SslBundles> bundles) {
		return new UpstreamTlsSettings(bundles.getIfAvailable());
	}

	/** The hop to the replicas: requests, health checks and probes. */
	@Bean(destroyMethod = "close")
	@ConditionalOnMissingBean
	UpstreamClient upstreamClient(GatewayConfig config, UpstreamTlsSettings tls) {
		return new HttpUpstreamClient(config.upstream(), tls::forPool);
	}

	@Bean
	PoolRegistry poolRegistry(GatewayConfig config, Ticker ticker, ReplicaEventSink events,
			CircuitBreakerRegistry breakers, ObjectProvider<DiscoveryClient> discovery, UpstreamTlsSettings tls,
			UpstreamClient upstream) {
		if (breakers.getConfiguration(REPLICA_BREAKER_CONFIG).isEmpty()) {
			breakers.addConfiguration(REPLICA_BREAKER_CONFIG, defaultReplicaBreaker());
		}
		Function<String, CircuitBreaker> factory = name -> breakers.circuitBreaker(name, REPLICA_BREAKER_CONFIG);
		PoolRegistry pools = new PoolRegistry(config, PoolRegistry.environment(ticker, events, factory),
				discovery.getIfAvailable(), upstream);
		tls.setPools(pools);
		return pools;
	}

	/**
	 * Gateway defaults for the per-replica breaker, tuned for ejecting one replica rather than
	 * guarding a route: over the last 20 calls (at least 10), 50 % failures or 80 % calls slower than
	 * 1 s. The breaker only detects; ejection, its length and readmission belong to the health model,
	 * so the breaker never moves to half-open by itself.
	 */
	static CircuitBreakerConfig defaultReplicaBreaker() {
		return CircuitBreakerConfig.custom()
			.slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
			.slidingWindowSize(20)
			.minimumNumberOfCalls(10)
			.failureRateThreshold(50)
			.slowCallRateThreshold(80)
			.slowCallDurationThreshold(Duration.ofSeconds(1))
			.automaticTransitionFromOpenToHalfOpenEnabled(false)
			.writableStackTraceEnabled(false)
			.build();
	}

	/**
	 * Readiness goes DOWN as soon as shutdown starts (before the web server stops taking requests and
	 * drains the ones in flight), so load balancers stop sending new requests first.
	 */
	@Bean
	ApplicationListener<ContextClosedEvent> readinessDownOnShutdown() {
		return event -> AvailabilityChangeEvent.publish(event.getApplicationContext(), ReadinessState.REFUSING_TRAFFIC);
	}

}
