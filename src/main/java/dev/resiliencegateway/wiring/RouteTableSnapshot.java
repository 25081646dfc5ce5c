package dev.resiliencegateway.wiring;

import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.cloud.context.scope.refresh.RefreshScopeRefreshedEvent;
import org.springframework.context.ApplicationListener;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.web.servlet.function.HandlerFunction;
import org.springframework.web.servlet.function.RouterFunction;
import org.springframework.web.servlet.function.RouterFunctions;
import org.springframework.web.servlet.function.ServerRequest;
import org.springframework.web.servlet.function.ServerResponse;

/**
 * Gateway MVC's configured routes without a refresh-scope lookup per request. Gateway MVC keeps
 * them in a refresh-scoped holder behind a scoped proxy, and its router function asks that proxy on
 * every request: a read lock and a bean lookup in Spring Cloud's scope, 3 % of the gateway's CPU
 * samples under load (docs/performance.md). This wrapper asks once and keeps the answer until Spring
 * Cloud says the refresh scope was refreshed; then the next request asks again, so a route that a
 * refresh added, changed or removed applies from that request on, exactly as before.
 *
 * <p>Written by hand because Gateway MVC offers no hook for it: the holder is package-private, and
 * opting its routes out of the refresh scope would lose the routes' reload ({@code ConfigRefreshIT}).
 * The current routes come from the delegate's public API ({@link RouterFunction#withAttributes},
 * which Gateway MVC's delegate answers from the holder).
 */
final class RouteTableSnapshot implements RouterFunction<ServerResponse>, ApplicationListener<RefreshScopeRefreshedEvent> {

	/** Gateway MVC's bean for the routes of {@code spring.cloud.gateway.server.webmvc.routes}. */
	static final String BEAN_NAME = "gatewayCompositeRouterFunction";

	private final RouterFunction<ServerResponse> delegate;

	/** Counts refreshes; a kept table from an earlier count is not used. */
	private final AtomicLong refreshes = new AtomicLong();

	private volatile Kept kept;

	private record Kept(long refreshes, RouterFunction<ServerResponse> routes) {
	}

	RouteTableSnapshot(RouterFunction<ServerResponse> delegate) {
		this.delegate = delegate;
	}

	/**
	 * Wraps Gateway MVC's routes bean and tells {@code context} to tell the wrapper of refreshes
	 * (Spring's listener detection goes by the bean's declared type, Gateway MVC's, so it would not);
	 * leaves every other bean alone.
	 */
	static BeanPostProcessor wrapper(ConfigurableApplicationContext context) {
		return new BeanPostProcessor() {
			@Override
			@SuppressWarnings("unchecked")
			public Object postProcessAfterInitialization(Object bean, String beanName) {
				if (!BEAN_NAME.equals(beanName) || !(bean instanceof RouterFunction<?> routes)) {
					return bean;
				}
				RouteTableSnapshot snapshot = new RouteTableSnapshot((RouterFunction<ServerResponse>) routes);
				context.addApplicationListener(snapshot);
				return snapshot;
			}
		};
	}

	/** The routes as they are now: kept, or asked of the delegate once after a refresh. */
	RouterFunction<ServerResponse> current() {
		long n = refreshes.get();
		Kept k = kept;
		if (k != null && k.refreshes() == n) {
			return k.routes();
		}
		// read the count before asking: a refresh in between makes this answer stale at once
		RouterFunction<ServerResponse> routes = delegate.withAttributes(attributes -> {
		});
		kept = new Kept(n, routes);
		return routes;
	}

	@Override
	public void onApplicationEvent(RefreshScopeRefreshedEvent event) {
		refreshes.incrementAndGet();
	}

	@Override
	public Optional<HandlerFunction<ServerResponse>> route(ServerRequest request) {
		return current().route(request);
	}

	@Override
	public void accept(RouterFunctions.Visitor visitor) {
		current().accept(visitor);
	}

	@Override
	public String toString() {
		return delegate.toString();
	}

}
