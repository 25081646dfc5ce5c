package dev.resiliencegateway.wiring;

import java.util.Locale;
import java.util.Set;

import org.springframework.boot.autoconfigure.AutoConfigurationImportFilter;
import org.springframework.boot.autoconfigure.AutoConfigurationMetadata;
import org.springframework.context.EnvironmentAware;
import org.springframework.core.env.Environment;

/**
 * Redis only when a store uses it ({@code resilience.gateway.idempotency.store} or
 * {@code resilience.gateway.rate-limits.store} set to {@code redis}). Spring Boot configures Redis
 * whenever Spring Data Redis is on the classpath: a Lettuce client with its Netty event loops and a
 * timer thread, about 1,000 of the 14,000 classes loaded at start, whether or not anything ever
 * sends a command. Left out while both stores are {@code memory} (the default), start to ready was
 * 0.7 s shorter (three starts each) and the idle process lost Lettuce's timer ticks
 * (docs/performance.md, "Third pass"). With a store on Redis, the auto-configurations run as Boot
 * ships them.
 */
public final class RedisSwitch implements AutoConfigurationImportFilter, EnvironmentAware {

	/** What Spring Boot configures for Redis: the client, its templates, its health and its metrics. */
	static final Set<String> REDIS = Set.of("org.springframework.boot.autoconfigure.data.redis.RedisAutoConfiguration",
			"org.springframework.boot.autoconfigure.data.redis.RedisReactiveAutoConfiguration",
			"org.springframework.boot.autoconfigure.data.redis.RedisRepositoriesAutoConfiguration",
			"org.springframework.boot.actuate.autoconfigure.data.redis.RedisHealthContributorAutoConfiguration",
			"org.springframework.boot.actuate.autoconfigure.data.redis.RedisReactiveHealthContributorAutoConfiguration",
			"org.springframework.boot.actuate.autoconfigure.metrics.redis.LettuceMetricsAutoConfiguration");

	/** The gateway's settings that put something in Redis. */
	static final Set<String> STORES = Set.of("resilience.gateway.idempotency.store", "resilience.gateway.rate-limits.store");

	private Environment environment;

	@Override
	public void setEnvironment(Environment environment) {
		this.environment = environment;
	}

	@Override
	public boolean[] match(String[] autoConfigurationClasses, AutoConfigurationMetadata metadata) {
		boolean redis = environment == null || STORES.stream().anyMatch(this::isRedis);
		boolean[] match = new boolean[autoConfigurationClasses.length];
		for (int i = 0; i < match.length; i++) {
			String c = autoConfigurationClasses[i];
			match[i] = c == null || redis || !REDIS.contains(c);
		}
		return match;
	}

	private boolean isRedis(String key) {
		String value = environment.getProperty(key);
		return value != null && value.strip().toLowerCase(Locale.ROOT).equals("redis");
	}

}
