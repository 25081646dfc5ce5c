package dev.resiliencegateway.wiring;

import java.time.Duration;
import java.util.List;
import java.util.function.Function;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.beans.factory.support.BeanDefinitionRegistry;
import org.springframework.beans.factory.support.BeanDefinitionRegistryPostProcessor;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.data.redis.LettuceClientConfigurationBuilderCustomizer;
import org.springframework.cloud.gateway.server.mvc.common.MvcUtils;
import org.springframework.cloud.gateway.server.mvc.config.RouteProperties;
import org.springframework.cloud.gateway.server.mvc.handler.HandlerFunctionDefinition;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.web.servlet.function.HandlerFilterFunction;
import org.springframework.web.servlet.function.ServerResponse;

import dev.resiliencegateway.clock.Ticker;
import dev.resiliencegateway.config.GatewayConfig;
import dev.resiliencegateway.config.GatewayProperties;
import dev.resiliencegateway.config.InvalidConfigurationException;
import dev.resiliencegateway.config.RoutePolicyFilters;
import dev.resiliencegateway.exchange.GatewayMetrics;
import dev.resiliencegateway.exchange.ResilientExchange;
import dev.resiliencegateway.exchange.transport.ClientDisconnects;
import dev.resiliencegateway.exchange.transport.UpstreamClient;
import dev.resiliencegateway.idempotency.IdempotencyStore;
import dev.resiliencegateway.idempotency.InMemoryIdempotencyStore;
import dev.resiliencegateway.idempotency.RedisIdempotencyStore;
import dev.resiliencegateway.limits.LocalRateLimiter;
import dev.resiliencegateway.limits.RateLimiter;
import dev.resiliencegateway.limits.RedisRateLimiter;
import dev.resiliencegateway.support.Threads;
import io.lettuce.core.ClientOptions;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.tracing.Tracer;
import io.micrometer.tracing.propagation.Propagator;

/**
 * The resilient exchange, and its takeover of Gateway MVC's {@code lb://} scheme. The
 * {@link UpstreamClient} it sends with comes from {@link PoolsAutoConfiguration} (the health checks
 * use it too), replaceable there.
 */
@AutoConfiguration(after = PoolsAutoConfiguration.class)
public class ExchangeAutoConfiguration {

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

	/** {@code MaxAttempts=2}, {@code Hedge=50ms}, ...: a route's policy written among its filters (RoutePolicyFilters). */
	@Bean
	static RoutePolicyFilters.FilterSupplier routePolicyFilters() {
		return new RoutePolicyFilters.FilterSupplier();
	}

	@Bean(destroyMethod = "close")
	ClientDisconnects clientDisconnects() {
		return ClientDisconnects.start();
	}

	/**
	 * Where routes that keep {@code Idempotency-Key}s keep them: this gateway's memory, or Redis
	 * ({@code resilience.gateway.idempotency.store: redis} and {@code spring.data.redis.*}).
	 */
	@Bean
	@ConditionalOnMissingBean
	IdempotencyStore idempotencyStore(GatewayProperties properties, ObjectProvider<StringRedisTemplate> redis) {
		GatewayProperties.KeyStore keys = properties.idempotency();
		if (keys.store() == GatewayProperties.Store.REDIS) {
			return new RedisIdempotencyStore(redis.getObject(), keys.keyPrefix());
		}
		if (keys.maxKeys() < 1) {
			throw new InvalidConfigurationException("resilience.gateway.idempotency.max-keys", keys.maxKeys(), ">= 1");
		}
		return new InMemoryIdempotencyStore(keys.maxKeys());
	}

	/**
	 * Redis commands fail at once while the connection is down (instead of queueing until their
	 * timeout), so a route's {@code on-store-failure} answer comes without a wait; the timeouts
	 * themselves are short ({@code spring.data.redis.timeout}, application.yml).
	 */
	@Bean
	@ConditionalOnClass(LettuceClientConfigurationBuilderCustomizer.class)
	LettuceClientConfigurationBuilderCustomizer failFastWhileRedisIsDown() {
		return builder -> builder.clientOptions(ClientOptions.builder()
			.disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
			.autoReconnect(true)
			.build());
	}

	/**
	 * Where routes' per-client rate limits keep their buckets: this gateway's memory, or Redis
	 * ({@code resilience.gateway.rate-limits.store: redis}), so N copies enforce one limit.
	 */
	@Bean
	@ConditionalOnMissingBean
	RateLimiter rateLimiter(GatewayProperties properties, ObjectProvider<RedisConnectionFactory> redis,
			Environment environment) {
		GatewayProperties.LimitStore limits = properties.rateLimits();
		if (limits.store() == GatewayProperties.Store.REDIS) {
			if (!(redis.getObject() instanceof LettuceConnectionFactory lettuce)) {
				throw new InvalidConfigurationException("resilience.gateway.rate-limits.store", "redis",
						"Spring Data Redis with Lettuce (spring-boot-starter-data-redis, the default client)");
			}
			return new RedisRateLimiter(lettuce, limits.keyPrefix(),
					environment.getProperty("spring.data.redis.timeout", Duration.class, Duration.ofMillis(250)));
		}
		if (limits.maxKeys() < 1) {
			throw new InvalidConfigurationException("resilience.gateway.rate-limits.max-keys", limits.maxKeys(), ">= 1");
		}
		return new LocalRateLimiter(limits.maxKeys(), Duration.ofMinutes(10));
	}

	@Bean
	ResilientExchange resilientExchange(UpstreamClient client, GatewayConfig config, Ticker ticker, MeterRegistry meters,
			ClientDisconnects disconnects, IdempotencyStore keys, RateLimiter limiter, ObjectProvider<Tracer> tracer,
			ObjectProvider<Propagator> propagator) {
		ResilientExchange exchange = new ResilientExchange(client, config, ticker, new GatewayMetrics(meters),
				Threads.perTask("gateway-hedge"), disconnects, keys, limiter);
		// tracing on (management.tracing.enabled): a span per attempt; off, no Tracer or the no-op one
		Tracer t = tracer.getIfAvailable();
		Propagator p = propagator.getIfAvailable();
		if (t != null && t != Tracer.NOOP && p != null && p != Propagator.NOOP) {
			exchange.setTracing(new MicrometerAttemptTracing(t, p));
		}
		return exchange;
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

}
