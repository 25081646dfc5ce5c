package dev.resiliencegateway.wiring;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.event.ApplicationStartedEvent;
import org.springframework.boot.web.servlet.context.ServletWebServerInitializedEvent;
import org.springframework.context.ApplicationEvent;
import org.springframework.context.annotation.Bean;
import org.springframework.context.event.SmartApplicationListener;
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
 * later; readiness comes sooner only by the part of the warm-up that outlasts the rest of the start,
 * a few hundred ms at most).
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

	/**
	 * Once the traffic port listens, alongside the rest of the start (the management port's context):
	 * the warm-up then costs readiness only what is left of it when the application has started, and
	 * readiness still waits for it, so the first real failure runs warm code.
	 */
	@Bean
	SmartApplicationListener failurePathWarmupRun(FailurePathWarmup warmup, Environment environment) {
		return new WarmupRun(warmup, environment);
	}

	/** Listens to the two events it needs only (not to every request's event), and holds no lock while it waits. */
	static final class WarmupRun implements SmartApplicationListener {

		private final FailurePathWarmup warmup;

		private final Environment environment;

		private final AtomicReference<Thread> running = new AtomicReference<>();

		WarmupRun(FailurePathWarmup warmup, Environment environment) {
			this.warmup = warmup;
			this.environment = environment;
		}

		@Override
		public boolean supportsEventType(Class<? extends ApplicationEvent> eventType) {
			return ServletWebServerInitializedEvent.class.isAssignableFrom(eventType)
					|| ApplicationStartedEvent.class.isAssignableFrom(eventType);
		}

		@Override
		public void onApplicationEvent(ApplicationEvent event) {
			// the management port's server is announced here too (a child context's events reach its
			// parent); its namespace is "management", the traffic port's none
			if (event instanceof ServletWebServerInitializedEvent initialized
					&& initialized.getApplicationContext().getServerNamespace() == null) {
				String contextPath = environment.getProperty("server.servlet.context-path", "");
				String baseUrl = "http://127.0.0.1:" + initialized.getWebServer().getPort() + contextPath;
				Thread thread = new Thread(() -> warmup.run(baseUrl), "failure-path-warm-up");
				thread.setDaemon(true); // a start that fails later does not wait for it
				if (running.compareAndSet(null, thread)) {
					thread.start();
				}
			}
			else if (event instanceof ApplicationStartedEvent) {
				Thread thread = running.get();
				if (thread != null) {
					try {
						// bounded: its requests time out after at most 5 s each, and any failure only logs
						thread.join(Duration.ofSeconds(60).toMillis());
					}
					catch (InterruptedException e) {
						Thread.currentThread().interrupt();
					}
				}
			}
		}

	}

}
