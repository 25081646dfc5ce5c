package dev.resiliencegateway.wiring;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.springframework.mock.env.MockEnvironment;

class RedisSwitchTest {

	private static final String[] CANDIDATES = { "org.springframework.boot.autoconfigure.data.redis.RedisAutoConfiguration",
			"org.springframework.boot.actuate.autoconfigure.metrics.redis.LettuceMetricsAutoConfiguration",
			"org.springframework.boot.actuate.autoconfigure.data.redis.RedisHealthContributorAutoConfiguration",
			"org.springframework.boot.autoconfigure.web.servlet.WebMvcAutoConfiguration", null };

	private static boolean[] match(MockEnvironment environment) {
		RedisSwitch filter = new RedisSwitch();
		filter.setEnvironment(environment);
		return filter.match(CANDIDATES, null);
	}

	@Test
	void withBothStoresInMemoryRedisIsLeftOutAndNothingElse() {
		assertThat(match(new MockEnvironment())).containsExactly(false, false, false, true, true);
		assertThat(match(new MockEnvironment().withProperty("resilience.gateway.idempotency.store", "memory")
			.withProperty("spring.data.redis.host", "redis.internal"))).containsExactly(false, false, false, true, true);
	}

	@Test
	void eitherStoreOnRedisKeepsIt() {
		assertThat(match(new MockEnvironment().withProperty("resilience.gateway.idempotency.store", "redis")))
			.containsExactly(true, true, true, true, true);
		assertThat(match(new MockEnvironment().withProperty("resilience.gateway.rate-limits.store", " REDIS ")))
			.containsExactly(true, true, true, true, true);
	}

	@Test
	void theStoreIsReadAsSpringBootBindsIt() {
		// as the application's environment is: Boot's relaxed names attached (camelCase, env variables)
		for (org.springframework.core.env.PropertySource<?> source : java.util.List.of(
				new org.springframework.core.env.MapPropertySource("yaml",
						java.util.Map.of("resilience.gateway.rateLimits.store", "redis")),
				new org.springframework.core.env.SystemEnvironmentPropertySource("env",
						java.util.Map.of("RESILIENCE_GATEWAY_IDEMPOTENCY_STORE", "redis")))) {
			org.springframework.core.env.StandardEnvironment environment = new org.springframework.core.env.StandardEnvironment();
			environment.getPropertySources().addFirst(source);
			org.springframework.boot.context.properties.source.ConfigurationPropertySources.attach(environment);
			RedisSwitch filter = new RedisSwitch();
			filter.setEnvironment(environment);
			assertThat(filter.match(CANDIDATES, null)).as(source.getName()).containsExactly(true, true, true, true, true);
		}
	}

	@Test
	void withoutAnEnvironmentNothingIsLeftOut() {
		assertThat(new RedisSwitch().match(CANDIDATES, null)).containsExactly(true, true, true, true, true);
	}

}
