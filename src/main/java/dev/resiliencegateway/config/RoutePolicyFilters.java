package dev.resiliencegateway.config;

import java.util.Set;

import org.springframework.cloud.gateway.server.mvc.common.Shortcut;
import org.springframework.cloud.gateway.server.mvc.filter.SimpleFilterSupplier;
import org.springframework.web.servlet.function.HandlerFilterFunction;
import org.springframework.web.servlet.function.ServerResponse;

/**
 * A route's resilience policy written beside the route, as Gateway MVC filters (the way Spring Cloud
 * Gateway's own {@code Retry=3} is written):
 *
 * <pre>
 * routes:
 *   - id: orders
 *     uri: lb://orders
 *     predicates: [ Path=/orders/** ]
 *     filters:
 *       - MaxAttempts=2
 *       - PerTryTimeout=500ms
 *       - Deadline=3s
 *       - Hedge=50ms          # or p95 (the route's observed p95), or off
 *       - MaxConcurrent=200
 *       - MaxBodySize=1MB
 * </pre>
 *
 * They do nothing per request: {@link GatewayRoutes} reads them at startup and the validator folds
 * them into the route's policy, over {@code resilience.gateway.routes.ID.*} and the route defaults,
 * with the same checks and messages. Only {@code lb://} routes take them.
 */
public final class RoutePolicyFilters {

	/** The filter names, as written in {@code application.yml}. */
	public static final Set<String> NAMES = Set.of("MaxAttempts", "PerTryTimeout", "Deadline", "Hedge", "MaxConcurrent",
			"MaxBodySize");

	private static final HandlerFilterFunction<ServerResponse, ServerResponse> READ_AT_STARTUP = (request,
			next) -> next.handle(request);

	private RoutePolicyFilters() {
	}

	@Shortcut
	public static HandlerFilterFunction<ServerResponse, ServerResponse> maxAttempts(String attempts) {
		return READ_AT_STARTUP;
	}

	@Shortcut
	public static HandlerFilterFunction<ServerResponse, ServerResponse> perTryTimeout(String timeout) {
		return READ_AT_STARTUP;
	}

	@Shortcut
	public static HandlerFilterFunction<ServerResponse, ServerResponse> deadline(String deadline) {
		return READ_AT_STARTUP;
	}

	@Shortcut
	public static HandlerFilterFunction<ServerResponse, ServerResponse> hedge(String delay) {
		return READ_AT_STARTUP;
	}

	@Shortcut
	public static HandlerFilterFunction<ServerResponse, ServerResponse> maxConcurrent(String requests) {
		return READ_AT_STARTUP;
	}

	@Shortcut
	public static HandlerFilterFunction<ServerResponse, ServerResponse> maxBodySize(String size) {
		return READ_AT_STARTUP;
	}

	/** Makes the filters known to Gateway MVC (a bean of this type). */
	public static class FilterSupplier extends SimpleFilterSupplier {

		public FilterSupplier() {
			super(RoutePolicyFilters.class);
		}

	}

}
