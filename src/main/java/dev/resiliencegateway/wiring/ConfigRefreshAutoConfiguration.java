package dev.resiliencegateway.wiring;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.Objects;
import java.util.Set;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.ssl.SslBundles;
import org.springframework.cloud.autoconfigure.RefreshAutoConfiguration;
import org.springframework.cloud.client.discovery.DiscoveryClient;
import org.springframework.cloud.context.environment.EnvironmentChangeEvent;
import org.springframework.cloud.context.refresh.ConfigDataContextRefresher;
import org.springframework.cloud.context.scope.refresh.RefreshScope;
import org.springframework.cloud.util.ConditionalOnBootstrapDisabled;
import org.springframework.context.ApplicationListener;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.core.Ordered;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.Environment;
import org.springframework.core.env.MutablePropertySources;
import org.springframework.core.env.PropertySource;

import dev.resiliencegateway.config.GatewayConfig;
import dev.resiliencegateway.config.GatewayConfigValidator.RouteRef;
import dev.resiliencegateway.config.GatewayProperties;
import dev.resiliencegateway.config.GatewayRoutes;
import dev.resiliencegateway.config.InvalidConfigurationException;
import dev.resiliencegateway.exchange.ResilientExchange;

/**
 * Pools and route policies change without a restart: Spring Cloud's context refresh
 * ({@code POST /actuator/refresh} with the operator credential, or a Spring Cloud Kubernetes
 * ConfigMap reload) rereads the configuration; the gateway checks it exactly as at startup and
 * applies it, or refuses it whole.
 *
 * <p>A refused change must leave nothing behind: Spring Cloud updates the environment first and
 * then rebuilds refresh-scoped beans (Gateway MVC's routes among them) from it, so a change checked
 * only afterwards would have its routes built anyway. The context refresher here checks the new
 * environment before anyone sees it and puts the old property sources back when it is invalid; the
 * refresh then fails with the same message as at startup (problem+json 422 on the refresh
 * endpoint, one ERROR line) and the running configuration stays.
 */
@AutoConfiguration(before = RefreshAutoConfiguration.class, after = ExchangeAutoConfiguration.class)
@ConditionalOnClass(RefreshScope.class)
@ConditionalOnProperty(name = "spring.cloud.refresh.enabled", matchIfMissing = true)
public class ConfigRefreshAutoConfiguration {

	private static final Logger log = LoggerFactory.getLogger(ConfigRefreshAutoConfiguration.class);

	/** Gateway MVC's routes kept between refreshes, not looked up in the refresh scope per request. */
	@Bean
	static BeanPostProcessor routeTableSnapshot(ConfigurableApplicationContext context) {
		return RouteTableSnapshot.wrapper(context);
	}

	@Bean
	GatewayConfigReloader gatewayConfigReloader(GatewayConfig config, GatewayProperties properties,
			PoolRegistry pools, ObjectProvider<ResilientExchange> exchange, ObjectProvider<DiscoveryClient> discovery,
			ObjectProvider<SslBundles> bundles, Environment environment) {
		return new GatewayConfigReloader(config, properties, pools, exchange, discovery, bundles, environment);
	}

	/** {@code resilience.gateway.config-watch.enabled}: the configuration files' changes refresh by themselves. */
	@Bean
	@ConditionalOnProperty(name = "resilience.gateway.config-watch.enabled", havingValue = "true")
	ConfigFileWatch configFileWatch(GatewayProperties properties, Environment environment,
			org.springframework.cloud.context.refresh.ContextRefresher refresher) {
		java.time.Duration interval = properties.configWatch().interval();
		if (interval.isZero() || interval.isNegative()) {
			throw new InvalidConfigurationException("resilience.gateway.config-watch.interval", interval.toString(),
					"a positive duration such as 5s");
		}
		List<java.nio.file.Path> locations = new ArrayList<>();
		for (String key : List.of("spring.config.location", "spring.config.additional-location", "spring.config.import")) {
			String value = environment.getProperty(key);
			if (value == null) {
				continue;
			}
			for (String entry : value.split(",")) {
				String e = entry.trim();
				if (e.startsWith("optional:")) {
					e = e.substring("optional:".length());
				}
				if (e.startsWith("file:")) {
					e = e.substring("file:".length());
				}
				else if (e.isEmpty() || e.contains(":") && !e.matches("[A-Za-z]:\\\\.*")) {
					continue; // classpath:, configtree:, kubernetes: ... are not files to watch
				}
				locations.add(java.nio.file.Path.of(e));
			}
		}
		return new ConfigFileWatch(locations, interval, refresher);
	}

	/** Takes the place of Spring Cloud's own (same class, plus the check); not with a bootstrap context. */
	@Bean
	@ConditionalOnBootstrapDisabled
	ConfigDataContextRefresher configDataContextRefresher(ConfigurableApplicationContext context, RefreshScope scope,
			GatewayConfigReloader reloader) {
		return new CheckingContextRefresher(context, scope, reloader);
	}

	static final class CheckingContextRefresher extends ConfigDataContextRefresher {

		private final GatewayConfigReloader reloader;

		CheckingContextRefresher(ConfigurableApplicationContext context, RefreshScope scope,
				GatewayConfigReloader reloader) {
			super(context, scope);
			this.reloader = reloader;
		}

		@Override
		protected void updateEnvironment() {
			ConfigurableEnvironment environment = getContext().getEnvironment();
			MutablePropertySources sources = environment.getPropertySources();
			List<PropertySource<?>> before = sources.stream().toList();
			super.updateEnvironment();
			try {
				reloader.checked(reloader.load(environment));
			}
			catch (InvalidConfigurationException rejected) {
				List<PropertySource<?>> after = new ArrayList<>(sources.stream().toList());
				after.forEach(source -> sources.remove(source.getName()));
				before.forEach(sources::addLast);
				log.error("Configuration change refused; the running configuration stays: {}", rejected.getMessage());
				throw rejected;
			}
		}

	}

	/**
	 * Applies a changed configuration (after the environment changed, before Gateway MVC rebuilds
	 * its routes): the pools take their new replicas and policies, the exchange its new route
	 * policies. Settings read once at startup (Tomcat's limits, the upstream connection pool, trusted
	 * proxies, stores, admin credential, access log) are logged as waiting for a restart.
	 */
	public static final class GatewayConfigReloader implements ApplicationListener<EnvironmentChangeEvent>, Ordered {

		private final PoolRegistry pools;

		private final ObjectProvider<ResilientExchange> exchange;

		private final ObjectProvider<DiscoveryClient> discovery;

		private final ObjectProvider<SslBundles> bundles;

		private final Environment environment;

		/** What startup ran with, bound and validated: the base for "applies at the next restart". */
		private final Loaded startup;

		private volatile GatewayConfig current;

		/** What the checking refresher validated for the event it is about to publish (taken by that event). */
		private volatile Loaded checked;

		GatewayConfigReloader(GatewayConfig config, GatewayProperties properties, PoolRegistry pools,
				ObjectProvider<ResilientExchange> exchange, ObjectProvider<DiscoveryClient> discovery,
				ObjectProvider<SslBundles> bundles, Environment environment) {
			this.startup = new Loaded(properties, config);
			this.bundles = bundles;
			this.current = config;
			this.pools = pools;
			this.exchange = exchange;
			this.discovery = discovery;
			this.environment = environment;
		}

		/** The configuration running now. */
		public GatewayConfig current() {
			return current;
		}

		/** The configuration as bound from the environment and as validated from that. */
		record Loaded(GatewayProperties properties, GatewayConfig config) {
		}

		/** Binds and checks the configuration as the environment holds it now; throws as startup would. */
		Loaded load(Environment env) {
			GatewayProperties properties = bind(env);
			return new Loaded(properties,
					PoolsAutoConfiguration.validate(properties, env, discovery.getIfAvailable(), bundles.getIfAvailable()));
		}

		void checked(Loaded loaded) {
			this.checked = loaded;
		}

		private static GatewayProperties bind(Environment env) {
			try {
				return Binder.get(env).bindOrCreate("resilience.gateway", GatewayProperties.class);
			}
			catch (BindException e) {
				Throwable cause = e.getCause();
				while (cause != null && cause.getCause() != null) {
					cause = cause.getCause();
				}
				String key = e.getProperty() != null ? e.getProperty().getName().toString() : e.getName().toString();
				Object value = e.getProperty() != null ? e.getProperty().getValue() : null;
				throw new InvalidConfigurationException(key, value,
						"a value of type " + e.getTarget().getType() + (cause != null ? " (" + cause.getMessage() + ")" : ""));
			}
		}

		@Override
		public int getOrder() {
			return Ordered.HIGHEST_PRECEDENCE; // before Spring Cloud's rebinder and anything else that reads it
		}

		@Override
		public synchronized void onApplicationEvent(EnvironmentChangeEvent event) {
			Loaded loaded = checked;
			checked = null;
			try {
				if (loaded == null) {
					loaded = load(environment);
				}
			}
			catch (InvalidConfigurationException rejected) {
				// only with a context refresher that did not check first (a bootstrap context): failing
				// here still stops the refresh before Gateway MVC rebuilds its routes
				log.error("Configuration change refused; the running configuration stays: {}", rejected.getMessage());
				throw rejected;
			}
			GatewayConfig next = loaded.config();
			Set<String> routeIds = new LinkedHashSet<>();
			for (RouteRef route : GatewayRoutes.of(environment)) {
				routeIds.add(route.id());
			}
			pools.apply(next);
			ResilientExchange e = exchange.getIfAvailable();
			if (e != null) {
				e.reconfigure(next, routeIds);
			}
			restartOnly(loaded).forEach(key -> log.warn(
					"Configuration change: {} changed; it is read at startup and applies at the next restart", key));
			log.info("Configuration change applied: {} pool(s) {}, {} route(s)", next.pools().size(), next.pools().keySet(),
					routeIds.size());
			current = next;
		}

		/** Settings read once at startup: their keys, and how to read each from the bound and validated configuration. */
		private static final Map<String, BiFunction<GatewayProperties, GatewayConfig, Object>> READ_AT_STARTUP = Map.of(
				"trusted-proxies", (p, c) -> p.trustedProxies(), "decision-headers", (p, c) -> c.decisionHeaders(),
				"upstream", (p, c) -> c.upstream(), "edge", (p, c) -> c.edge(), "admin", (p, c) -> p.admin(),
				"idempotency", (p, c) -> p.idempotency(), "rate-limits", (p, c) -> p.rateLimits(),
				"access-log", (p, c) -> p.accessLog(), "config-watch", (p, c) -> p.configWatch());

		/** The keys that changed since startup but are only read then. */
		private List<String> restartOnly(Loaded next) {
			List<String> keys = new ArrayList<>();
			READ_AT_STARTUP.forEach((key, read) -> {
				if (!Objects.equals(read.apply(next.properties(), next.config()),
						read.apply(startup.properties(), startup.config()))) {
					keys.add("resilience.gateway." + key);
				}
			});
			keys.sort(null);
			return keys;
		}

	}

}
