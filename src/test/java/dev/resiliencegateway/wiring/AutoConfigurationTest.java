package dev.resiliencegateway.wiring;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import dev.resiliencegateway.clock.Ticker;
import dev.resiliencegateway.exchange.FailurePathWarmup;
import dev.resiliencegateway.exchange.ResilientExchange;
import dev.resiliencegateway.exchange.transport.HttpUpstreamClient;
import dev.resiliencegateway.exchange.transport.RequestBody;
import dev.resiliencegateway.exchange.transport.UpstreamClient;
import dev.resiliencegateway.health.ReplicaEvent;
import dev.resiliencegateway.health.ReplicaEventSink;
import dev.resiliencegateway.outcome.Outcome;
import dev.resiliencegateway.pool.Replica;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/** Each area's auto-configuration alone, and what a user may replace with a bean of their own. */
class AutoConfigurationTest {

	/** One pool on a loopback port nothing listens on, health checks off: nothing leaves the machine. */
	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(PoolsAutoConfiguration.class, ExchangeAutoConfiguration.class,
				ObservabilityAutoConfiguration.class, WarmupAutoConfiguration.class))
		.withBean(MeterRegistry.class, SimpleMeterRegistry::new)
		.withBean(CircuitBreakerRegistry.class, CircuitBreakerRegistry::ofDefaults)
		.withPropertyValues("resilience.gateway.pools.orders.replicas[0].url=http://127.0.0.1:1",
				"resilience.gateway.pools.orders.health-check.enabled=false",
				"spring.cloud.gateway.server.webmvc.routes[0].id=orders",
				"spring.cloud.gateway.server.webmvc.routes[0].uri=lb://orders",
				"spring.cloud.gateway.server.webmvc.routes[0].predicates[0]=Path=/orders/**");

	@Test
	void theDefaults() {
		runner.run(context -> {
			assertThat(context).hasNotFailed();
			assertThat(context).getBean(UpstreamClient.class).isInstanceOf(HttpUpstreamClient.class);
			context.getBean(ReplicaEventSink.class).publish(new ReplicaEvent.AdminAction("orders", null, "look", "test", "ok",
					java.time.Instant.EPOCH));
			assertThat(context.getBean(ReplicaEventLog.class).recent()).as("the default sink is the event log").hasSize(1);
			assertThat(context).getBean(Ticker.class).isSameAs(Ticker.SYSTEM);
			assertThat(context).hasSingleBean(ResilientExchange.class).hasSingleBean(PoolRegistry.class)
				.hasSingleBean(FailurePathWarmup.class);
			assertThat(context).hasBean(ExchangeAutoConfiguration.RESILIENT_LB_DEFINITION);
		});
	}

	@Test
	void aUserBeanReplacesTheUpstreamClient() {
		UpstreamClient mine = new NoUpstream();
		runner.withBean("myUpstream", UpstreamClient.class, () -> mine).run(context -> {
			assertThat(context).hasNotFailed();
			assertThat(context).getBean(UpstreamClient.class).isSameAs(mine);
			assertThat(context).doesNotHaveBean(HttpUpstreamClient.class);
			assertThat(context).hasSingleBean(ResilientExchange.class);
		});
	}

	@Test
	void aUserBeanReplacesTheEventSinkAndGetsThePoolsEvents() {
		List<ReplicaEvent> seen = new CopyOnWriteArrayList<>();
		runner.withBean("mySink", ReplicaEventSink.class, () -> seen::add).run(context -> {
			assertThat(context).hasNotFailed();
			context.getBean(PoolRegistry.class).pool("orders").replicas().get(0).drain("test");
			assertThat(seen).singleElement().satisfies(e -> assertThat(e.toString()).contains("went from HEALTHY to DRAINED"));
			assertThat(context.getBean(ReplicaEventLog.class).recent()).as("the log is bypassed").isEmpty();
		});
	}

	@Test
	void aUserTickerDrivesThePools() {
		Ticker frozen = () -> 42L;
		runner.withBean("myTicker", Ticker.class, () -> frozen).run(context -> {
			assertThat(context).getBean(Ticker.class).isSameAs(frozen);
			context.getBean(PoolRegistry.class).pool("orders").replicas().get(0).drain("test");
			assertThat(context.getBean(PoolRegistry.class).pool("orders").replicas().get(0).status().sinceNanos())
				.isEqualTo(42L);
		});
	}

	@Test
	void theWarmUpCanBeSwitchedOff() {
		runner.withPropertyValues("resilience.gateway.warm-up.enabled=false").run(context -> {
			assertThat(context).hasNotFailed();
			assertThat(context).doesNotHaveBean(FailurePathWarmup.class);
			assertThat(context).hasSingleBean(ResilientExchange.class);
		});
	}

	@Test
	void theEdgeAloneNeedsOnlyTheConfigurationAndMetrics() {
		new ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(PoolsAutoConfiguration.class, EdgeAutoConfiguration.class))
			.withBean(MeterRegistry.class, SimpleMeterRegistry::new)
			.withBean(CircuitBreakerRegistry.class, CircuitBreakerRegistry::ofDefaults)
			.run(context -> {
				assertThat(context).hasNotFailed();
				assertThat(context).hasBean("edgeFilter").hasBean("requestIdFilter").hasBean("loadShedding");
			});
	}

	@Test
	void aSinkThatThrowsDoesNotStopThePoolTicks() {
		runner.withBean("brokenSink", ReplicaEventSink.class, () -> event -> {
			throw new IllegalStateException("a broken sink");
		}).run(context -> {
			var replica = context.getBean(PoolRegistry.class).pool("orders").replicas().get(0);
			Thread.sleep(300); // all healthy: the ticks have stopped
			assertThat(replica.ejectFor(java.time.Duration.ofMillis(200).toNanos(), "test")).isTrue();
			for (int i = 0; i < 100 && replica.state() == dev.resiliencegateway.health.ReplicaState.EJECTED; i++) {
				Thread.sleep(20);
			}
			assertThat(replica.state()).isEqualTo(dev.resiliencegateway.health.ReplicaState.RECOVERING);
		});
	}

	@Test
	void poolTicksResumeWhenAReplicaWaitsForItsEjectionToEnd() {
		runner.run(context -> {
			var replica = context.getBean(PoolRegistry.class).pool("orders").replicas().get(0);
			Thread.sleep(300); // all healthy: the ticks have stopped
			assertThat(replica.ejectFor(java.time.Duration.ofMillis(200).toNanos(), "test")).isTrue();
			for (int i = 0; i < 100 && replica.state() == dev.resiliencegateway.health.ReplicaState.EJECTED; i++) {
				Thread.sleep(20);
			}
			assertThat(replica.state()).as("readmitted by a tick after its ejection")
				.isEqualTo(dev.resiliencegateway.health.ReplicaState.RECOVERING);
		});
	}

	/** An upstream that refuses every attempt, as a user's own client might be swapped in. */
	private static final class NoUpstream implements UpstreamClient {

		@Override
		public Call prepare(Replica replica, String method, String target, List<String> headers, RequestBody body,
				long timeoutNanos) {
			return new Call() {
				@Override
				public Replica replica() {
					return replica;
				}

				@Override
				public void cancel() {
				}
			};
		}

		@Override
		public Result execute(Call call, boolean atMostOnce) {
			return Result.failed(Outcome.CONNECT_FAILURE, "refused");
		}

		@Override
		public void close() {
		}

	}

}
