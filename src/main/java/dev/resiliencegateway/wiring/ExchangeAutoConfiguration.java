package dev.resiliencegateway.wiring;

import java.util.List;
import java.util.function.Function;

import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.beans.factory.support.BeanDefinitionRegistry;
import org.springframework.beans.factory.support.BeanDefinitionRegistryPostProcessor;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.cloud.gateway.server.mvc.common.MvcUtils;
import org.springframework.cloud.gateway.server.mvc.config.RouteProperties;
import org.springframework.cloud.gateway.server.mvc.handler.HandlerFunctionDefinition;
import org.springframework.context.annotation.Bean;
import org.springframework.web.servlet.function.HandlerFilterFunction;
import org.springframework.web.servlet.function.ServerResponse;

import dev.resiliencegateway.clock.Ticker;
import dev.resiliencegateway.config.GatewayConfig;
import dev.resiliencegateway.config.RoutePolicyFilters;
import dev.resiliencegateway.exchange.GatewayMetrics;
import dev.resiliencegateway.exchange.ResilientExchange;
import dev.resiliencegateway.exchange.transport.ClientDisconnects;
import dev.resiliencegateway.exchange.transport.HttpUpstreamClient;
import dev.resiliencegateway.exchange.transport.UpstreamClient;
import dev.resiliencegateway.support.Threads;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * The resilient exchange, and its takeover of Gateway MVC's {@code lb://} scheme. Replaceable: the
 * {@link UpstreamClient} (define a bean of the type).
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
	@ConditionalOnMissingBean
	UpstreamClient upstreamClient(GatewayConfig config) {
		return new HttpUpstreamClient(config.upstream());
	}

	@Bean(destroyMethod = "close")
	ClientDisconnects clientDisconnects() {
		return ClientDisconnects.start();
	}

	@Bean
	ResilientExchange resilientExchange(UpstreamClient client, GatewayConfig config, Ticker ticker, MeterRegistry meters,
			ClientDisconnects disconnects) {
		return new ResilientExchange(client, config, ticker, new GatewayMetrics(meters),
				Threads.perTask("gateway-hedge"), disconnects);
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
