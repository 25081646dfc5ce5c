package dev.resiliencegateway.wiring;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.beans.factory.support.BeanDefinitionRegistry;
import org.springframework.beans.factory.support.BeanDefinitionRegistryPostProcessor;
import org.springframework.boot.actuate.health.CompositeHealthContributor;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.cloud.client.discovery.DiscoveryClient;
import org.springframework.cloud.client.discovery.composite.CompositeDiscoveryClient;
import org.springframework.cloud.client.discovery.simple.SimpleDiscoveryClient;
import org.springframework.cloud.gateway.server.mvc.common.MvcUtils;
import org.springframework.cloud.gateway.server.mvc.config.GatewayMvcProperties;
import org.springframework.cloud.gateway.server.mvc.config.RouteProperties;
import org.springframework.cloud.gateway.server.mvc.handler.HandlerFunctionDefinition;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.boot.context.event.ApplicationStartedEvent;
import org.springframework.boot.web.context.WebServerApplicationContext;
import org.springframework.context.ApplicationListener;
import org.springframework.context.event.ContextClosedEvent;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.core.env.Environment;
import org.springframework.web.servlet.function.HandlerFilterFunction;
import org.springframework.web.servlet.function.RouterFunction;
import org.springframework.web.servlet.function.ServerResponse;

import dev.resiliencegateway.admin.AdminCredentials;
import dev.resiliencegateway.admin.ReplicasEndpoint;
import dev.resiliencegateway.admin.StatusPageEndpoint;
import dev.resiliencegateway.config.GatewayConfig;
import dev.resiliencegateway.config.GatewayConfigValidator;
import dev.resiliencegateway.config.GatewayConfigValidator.RouteRef;
import dev.resiliencegateway.config.GatewayProperties;
import dev.resiliencegateway.exchange.ClientDisconnects;
import dev.resiliencegateway.exchange.FailurePathWarmup;
import dev.resiliencegateway.exchange.GatewayMetrics;
import dev.resiliencegateway.edge.RequestIds;
import dev.resiliencegateway.exchange.ResilientExchange;
import dev.resiliencegateway.exchange.UpstreamClient;
import dev.resiliencegateway.health.PoolHealth;
import dev.resiliencegateway.health.ReplicaEvent;
import dev.resiliencegateway.clock.Ticker;
import dev.resiliencegateway.support.VirtualThreads;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.micrometer.core.instrument.MeterRegistry;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;

/** Spring wiring of the gateway. Every decision lives in the plain-Java packages; this only connects them. */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(GatewayProperties.class)
public class GatewayConfiguration {

	private static final Logger log = LoggerFactory.getLogger(GatewayConfiguration.class);

	/** Name of the Resilience4j circuit breaker config used for replicas; define it to tune the rate rules. */
	public static final String REPLICA_BREAKER_CONFIG = "replica";

	/** Gateway MVC looks up "{scheme}HandlerFunctionDefinition"; ours takes over the lb scheme. */
	static final String LB_DEFINITION = "lbHandlerFunctionDefinition";

	static final String RESILIENT_LB_DEFINITION = "resilientLbHandlerFunctionDefinition";

	/**
	 * Gateway MVC registers its own {@code lbHandlerFunctionDefinition} (Spring Cloud LoadBalancer,
	 * round robin, no health model) unconditionally. Replace it with an alias to ours, so that
	 * {@code lb://POOL} routes go through the resilient exchange.
	 */
	@Bean
	static BeanDefinitionRegistryPostProcessor resilientLbTakeover() {
		return new BeanDefinitionRegistryPostProcessor() {
			@Override
			public void postProcessBeanDefinitionRegistry(BeanDefinitionRegistry registry) {
				if (registry.containsBeanDefinition(LB_DEFINITION)) {
					registry.removeBeanDefinition(LB_DEFINITION);
				}
				registry.registerAlias(RESILIENT_LB_DEFINITION, LB_DEFINITION);
			}

			@Override
			public void postProcessBeanFactory(ConfigurableListableBeanFactory beanFactory) {
			}
		};
	}

	@Bean
	GatewayConfig gatewayConfig(GatewayProperties properties, Environment environment,
			ObjectProvider<DiscoveryClient> discoveryClient) {
		DiscoveryClient discovery = discoveryClient.getIfAvailable();
		boolean isStatic = discovery == null || isStatic(discovery);
		GatewayConfig config = GatewayConfigValidator.validate(properties, routes(environment),
				service -> discovery != null && !discovery.getInstances(service).isEmpty(), isStatic);
		log.info("Resilience Gateway: {} pool(s) {}, {} thread(s) serve requests", config.pools().size(),
				config.pools().keySet(), Boolean.parseBoolean(environment.getProperty("spring.threads.virtual.enabled"))
						&& Runtime.version().feature() >= 21 ? "virtual" : "platform");
		return config;
	}

	private static boolean isStatic(DiscoveryClient discovery) {
		if (discovery instanceof CompositeDiscoveryClient composite) {
			return composite.getDiscoveryClients().stream().allMatch(SimpleDiscoveryClient.class::isInstance);
		}
		return discovery instanceof SimpleDiscoveryClient;
	}

	/** Gateway MVC's routes as configured (list form), with their property paths for error messages. */
	static List<RouteRef> routes(Environment environment) {
		List<RouteRef> refs = new ArrayList<>();
		for (String prefix : List.of(GatewayMvcProperties.PREFIX, "spring.cloud.gateway.mvc")) {
			GatewayMvcProperties props = Binder.get(environment).bindOrCreate(prefix, GatewayMvcProperties.class);
			List<RouteProperties> list = props.getRoutes();
			for (int i = 0; i < list.size(); i++) {
				refs.add(new RouteRef(prefix + ".routes[" + i + "]", list.get(i).getId(), list.get(i).getUri()));
			}
			props.getRoutesMap()
				.forEach((key, r) -> refs.add(new RouteRef(prefix + ".routes-map." + key,
						r.getId() != null ? r.getId() : key, r.getUri())));
			if (!refs.isEmpty()) {
				break;
			}
		}
		return refs;
	}

	@Bean
	ReplicaEventLog replicaEventLog(ApplicationEventPublisher publisher) {
		ReplicaEventLog log = new ReplicaEventLog(500);
		log.setPublisher(publisher);
		return log;
	}

	@Bean
	PoolRegistry poolRegistry(GatewayConfig config, ReplicaEventLog events, CircuitBreakerRegistry breakers,
			ObjectProvider<DiscoveryClient> discovery) {
		if (breakers.getConfiguration(REPLICA_BREAKER_CONFIG).isEmpty()) {
			breakers.addConfiguration(REPLICA_BREAKER_CONFIG, defaultReplicaBreaker());
		}
		Function<String, CircuitBreaker> factory = name -> breakers.circuitBreaker(name, REPLICA_BREAKER_CONFIG);
		return new PoolRegistry(config, PoolRegistry.environment(events, factory), discovery.getIfAvailable());
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

	@Bean(destroyMethod = "close")
	UpstreamClient upstreamClient(GatewayConfig config) {
		return new UpstreamClient(config.upstream());
	}

	@Bean(destroyMethod = "close")
	ClientDisconnects clientDisconnects() {
		return ClientDisconnects.start();
	}

	@Bean
	ResilientExchange resilientExchange(UpstreamClient client, GatewayConfig config, MeterRegistry meters,
			ClientDisconnects disconnects) {
		return new ResilientExchange(client, config, Ticker.SYSTEM, new GatewayMetrics(meters),
				VirtualThreads.perTask("gateway-hedge"), disconnects);
	}

	@Bean(RESILIENT_LB_DEFINITION)
	Function<RouteProperties, HandlerFunctionDefinition> resilientLbHandlerFunctionDefinition(ResilientExchange exchange,
			PoolRegistry pools) {
		return route -> {
			String routeId = route.getId();
			String pool = route.getUri().getHost();
			HandlerFilterFunction<ServerResponse, ServerResponse> setRouteId = (request, next) -> {
				MvcUtils.setRouteId(request, routeId);
				return next.handle(request);
			};
			return new HandlerFunctionDefinition.Default("lb",
					exchange.handlerFor(routeId, pools.pool(pool), pools.config(pool).maxConcurrentPerReplica()),
					List.of(setRouteId), List.of());
		};
	}

	@Bean
	FilterRegistrationBean<RequestIds> requestIdFilter() {
		FilterRegistrationBean<RequestIds> registration = new FilterRegistrationBean<>(new RequestIds());
		registration.setOrder(Ordered.HIGHEST_PRECEDENCE);
		return registration;
	}

	/** {@code /actuator/health/pools/NAME}: one health indicator per pool. */
	@Bean
	CompositeHealthContributor pools(PoolRegistry pools) {
		Map<String, HealthIndicator> indicators = new LinkedHashMap<>();
		pools.pools().forEach((name, pool) -> indicators.put(name, PoolHealthIndicators.of(pool)));
		return CompositeHealthContributor.fromMap(indicators);
	}

	@Bean
	ReplicaMeters replicaMeters(PoolRegistry pools, MeterRegistry meters) {
		ReplicaMeters replicaMeters = new ReplicaMeters(pools, meters);
		pools.everySecond(replicaMeters::refresh);
		return replicaMeters;
	}

	@Bean
	ReplicasEndpoint replicasEndpoint(PoolRegistry pools, ReplicaEventLog events) {
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
				events.accept(event);
			}
		});
	}

	/**
	 * Readiness goes DOWN as soon as shutdown starts (before the web server stops taking requests and
	 * drains the ones in flight), so load balancers stop sending new requests first.
	 */
	@Bean
	ApplicationListener<ContextClosedEvent> readinessDownOnShutdown() {
		return event -> AvailabilityChangeEvent.publish(event.getApplicationContext(), ReadinessState.REFUSING_TRAFFIC);
	}

	@Bean
	FailurePathWarmup failurePathWarmup(UpstreamClient client, GatewayConfig config, ClientDisconnects disconnects)
			throws java.io.IOException {
		// its pools publish no events and register no breakers: nothing of the warm-up shows
		return new FailurePathWarmup(client, config, disconnects,
				PoolRegistry.environment(event -> {
				}, CircuitBreaker::ofDefaults));
	}

	/** Consulted before the gateway's routes, so a catch-all route cannot take the warm-up's requests. */
	@Bean
	@org.springframework.core.annotation.Order(org.springframework.core.Ordered.HIGHEST_PRECEDENCE)
	RouterFunction<ServerResponse> failurePathWarmupRoute(FailurePathWarmup warmup) {
		return warmup.routes();
	}

	/** Once the web server listens, before readiness: the first real failure then runs warm code. */
	@Bean
	ApplicationListener<ApplicationStartedEvent> failurePathWarmupRun(FailurePathWarmup warmup, Environment environment) {
		return event -> {
			if (event.getApplicationContext() instanceof WebServerApplicationContext web && web.getWebServer() != null) {
				String contextPath = environment.getProperty("server.servlet.context-path", "");
				warmup.run("http://127.0.0.1:" + web.getWebServer().getPort() + contextPath);
			}
		};
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
