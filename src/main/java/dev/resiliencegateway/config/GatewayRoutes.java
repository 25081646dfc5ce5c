package dev.resiliencegateway.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.ConfigurationProperty;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertySource;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.boot.context.properties.source.IterableConfigurationPropertySource;
import org.springframework.cloud.gateway.server.mvc.config.GatewayMvcProperties;
import org.springframework.cloud.gateway.server.mvc.config.RouteProperties;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.Environment;

import org.springframework.cloud.gateway.server.mvc.config.FilterProperties;

import dev.resiliencegateway.config.GatewayConfigValidator.PolicyFilter;
import dev.resiliencegateway.config.GatewayConfigValidator.RouteRef;

/** The Gateway MVC routes the validator checks, read from the environment as Gateway MVC reads them. */
public final class GatewayRoutes {

	/** Gateway MVC's settings' prefix before 4.3. */
	static final String LEGACY_PREFIX = "spring.cloud.gateway.mvc";

	private GatewayRoutes() {
	}

	/** Gateway MVC's routes as configured (list form), with their property paths for error messages. */
	public static List<RouteRef> of(Environment environment) {
		refuseLegacyPrefix(environment);
		String prefix = GatewayMvcProperties.PREFIX;
		GatewayMvcProperties props = Binder.get(environment).bindOrCreate(prefix, GatewayMvcProperties.class);
		List<RouteRef> refs = new ArrayList<>();
		List<RouteProperties> list = props.getRoutes();
		for (int i = 0; i < list.size(); i++) {
			String key = prefix + ".routes[" + i + "]";
			refs.add(new RouteRef(key, list.get(i).getId(), list.get(i).getUri(), policyFilters(key, list.get(i))));
		}
		props.getRoutesMap()
			.forEach((name, r) -> refs.add(new RouteRef(prefix + ".routes-map." + name,
					r.getId() != null ? r.getId() : name, r.getUri(), policyFilters(prefix + ".routes-map." + name, r))));
		return refs;
	}

	/**
	 * Gateway MVC 4.3 renamed {@code spring.cloud.gateway.mvc} to {@code spring.cloud.gateway.server.webmvc}
	 * (its HTTP client settings to {@code spring.http.client}). Its starter brings Spring Boot's
	 * properties migrator to map the old keys at runtime; the gateway leaves the migrator out (it
	 * re-reads every jar's metadata at each start), so a setting under the old prefix, routes
	 * included, would be silently ignored: it stops startup instead, naming the new key.
	 */
	private static void refuseLegacyPrefix(Environment environment) {
		if (!(environment instanceof ConfigurableEnvironment configurable)) {
			return;
		}
		ConfigurationPropertyName legacy = ConfigurationPropertyName.of(LEGACY_PREFIX);
		for (ConfigurationPropertySource source : ConfigurationPropertySources.get(configurable)) {
			if (source instanceof IterableConfigurationPropertySource iterable) {
				ConfigurationPropertyName name = iterable.stream().filter(legacy::isAncestorOf).findFirst().orElse(null);
				if (name != null) {
					ConfigurationProperty property = iterable.getConfigurationProperty(name);
					String key = name.toString();
					String renamed = key.startsWith(LEGACY_PREFIX + ".http-client.") ? "spring.http.client.*"
							: GatewayMvcProperties.PREFIX + key.substring(LEGACY_PREFIX.length());
					throw new InvalidConfigurationException(key, property == null ? null : property.getValue(),
							"the setting under " + renamed + " (Gateway MVC 4.3 renamed " + LEGACY_PREFIX + ")");
				}
			}
		}
	}

	/** The route's {@link RoutePolicyFilters}, in order, each with its property path and its one value. */
	private static List<PolicyFilter> policyFilters(String routeKey, RouteProperties route) {
		List<PolicyFilter> out = new ArrayList<>();
		List<FilterProperties> filters = route.getFilters();
		for (int i = 0; i < filters.size(); i++) {
			FilterProperties f = filters.get(i);
			if (RoutePolicyFilters.NAMES.contains(f.getName())) {
				Map<String, String> args = f.getArgs();
				String value = args.size() == 1 ? args.values().iterator().next() : null;
				out.add(new PolicyFilter(routeKey + ".filters[" + i + "]", f.getName(), value));
			}
		}
		return out;
	}

}
