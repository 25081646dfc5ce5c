package dev.resiliencegateway.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.cloud.gateway.server.mvc.config.GatewayMvcProperties;
import org.springframework.cloud.gateway.server.mvc.config.RouteProperties;
import org.springframework.core.env.Environment;

import org.springframework.cloud.gateway.server.mvc.config.FilterProperties;

import dev.resiliencegateway.config.GatewayConfigValidator.PolicyFilter;
import dev.resiliencegateway.config.GatewayConfigValidator.RouteRef;

/** The Gateway MVC routes the validator checks, read from the environment as Gateway MVC reads them. */
public final class GatewayRoutes {

	private GatewayRoutes() {
	}

	/** Gateway MVC's routes as configured (list form), with their property paths for error messages. */
	public static List<RouteRef> of(Environment environment) {
		List<RouteRef> refs = new ArrayList<>();
		for (String prefix : List.of(GatewayMvcProperties.PREFIX, "spring.cloud.gateway.mvc")) {
			GatewayMvcProperties props = Binder.get(environment).bindOrCreate(prefix, GatewayMvcProperties.class);
			List<RouteProperties> list = props.getRoutes();
			for (int i = 0; i < list.size(); i++) {
				String key = prefix + ".routes[" + i + "]";
				refs.add(new RouteRef(key, list.get(i).getId(), list.get(i).getUri(), policyFilters(key, list.get(i))));
			}
			props.getRoutesMap()
				.forEach((name, r) -> refs.add(new RouteRef(prefix + ".routes-map." + name,
						r.getId() != null ? r.getId() : name, r.getUri(), policyFilters(prefix + ".routes-map." + name, r))));
			if (!refs.isEmpty()) {
				break;
			}
		}
		return refs;
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
