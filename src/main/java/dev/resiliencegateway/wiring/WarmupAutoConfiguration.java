package dev.resiliencegateway.wiring;

import java.io.IOException;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.event.ApplicationStartedEvent;
import org.springframework.boot.web.context.WebServerApplicationContext;
import org.springframework.context.ApplicationListener;
import org.springframework.context.annotation.Bean;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.core.env.Environment;
import org.springframework.web.servlet.function.RouterFunction;
import org.springframework.web.servlet.function.ServerResponse;

import dev.resiliencegateway.clock.Ticker;
import dev.resiliencegateway.config.GatewayConfig;
import dev.resiliencegateway.exchange.FailurePathWarmup;
import dev.resiliencegateway.exchange.transport.ClientDisconnects;
import dev.resiliencegateway.exchange.transport.UpstreamClient;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;

/**
 * Warms the failure paths up before readiness ({@link FailurePathWarmup}); off with
 * {@code resilience.gateway.warm-up.enabled=false} (the first failures then answer a few tens of ms
 * later, and startup is about half a second shorter).
 */
@AutoConfiguration(after = ExchangeAutoConfiguration.class)
@ConditionalOnProperty(prefix = "resilience.gateway.warm-up", name = "enabled", matchIfMissing = true)
public class WarmupAutoConfiguration {

	@Bean
	FailurePathWarmup failurePathWarmup(UpstreamClient client, GatewayConfig config, ClientDisconnects disconnects,
			Ticker ticker) throws IOException {
		// its pools publish no events and register no breakers: nothing of the warm-up shows
		return new FailurePathWarmup(client, config, disconnects, PoolRegistry.environment(ticker, event -> {
		}, CircuitBreaker::ofDefaults));
	}

	/** Consulted before the gateway's routes, so a catch-all route cannot take the warm-up's requests. */
	@Bean
	@Order(Ordered.HIGHEST_PRECEDENCE)
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

}
