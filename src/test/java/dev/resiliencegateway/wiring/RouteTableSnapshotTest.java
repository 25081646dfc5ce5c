package dev.resiliencegateway.wiring;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import org.junit.jupiter.api.Test;
import org.springframework.cloud.context.scope.refresh.RefreshScopeRefreshedEvent;
import org.springframework.context.support.GenericApplicationContext;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.web.servlet.function.HandlerFunction;
import org.springframework.web.servlet.function.RouterFunction;
import org.springframework.web.servlet.function.RouterFunctions;
import org.springframework.web.servlet.function.ServerRequest;
import org.springframework.web.servlet.function.ServerResponse;

import static org.assertj.core.api.Assertions.assertThat;

class RouteTableSnapshotTest {

	/** Stands in for Gateway MVC's delegate: answers from a holder that a refresh replaces. */
	private static final class Refreshable implements RouterFunction<ServerResponse> {

		final AtomicInteger lookups = new AtomicInteger();

		volatile String path = "/orders";

		@Override
		public Optional<HandlerFunction<ServerResponse>> route(ServerRequest request) {
			throw new AssertionError("asked per request");
		}

		@Override
		public RouterFunction<ServerResponse> withAttributes(Consumer<Map<String, Object>> attributesConsumer) {
			lookups.incrementAndGet();
			String p = path;
			return RouterFunctions.route(r -> r.path().equals(p), r -> ServerResponse.ok().build());
		}

	}

	private static ServerRequest get(String path) {
		return ServerRequest.create(new MockHttpServletRequest("GET", path), java.util.List.of());
	}

	@Test
	void routesAreLookedUpOnceAndAgainAfterEachRefreshTheContextPublishes() {
		Refreshable holder = new Refreshable();
		GenericApplicationContext context = new GenericApplicationContext();
		RouteTableSnapshot routes = (RouteTableSnapshot) RouteTableSnapshot.wrapper(context)
			.postProcessAfterInitialization(holder, RouteTableSnapshot.BEAN_NAME);
		context.refresh();
		for (int i = 0; i < 100; i++) {
			assertThat(routes.route(get("/orders"))).isPresent();
		}
		assertThat(holder.lookups).hasValue(1);

		holder.path = "/billing";
		assertThat(routes.route(get("/billing"))).as("kept until the refresh scope says otherwise").isEmpty();
		context.publishEvent(new RefreshScopeRefreshedEvent());
		assertThat(routes.route(get("/billing"))).isPresent();
		assertThat(routes.route(get("/orders"))).isEmpty();
		assertThat(holder.lookups).hasValue(2);
	}

	@Test
	void otherBeansAreLeftAlone() {
		RouterFunction<ServerResponse> other = RouterFunctions.route(r -> true, r -> ServerResponse.ok().build());
		assertThat(RouteTableSnapshot.wrapper(new GenericApplicationContext())
			.postProcessAfterInitialization(other, "failurePathWarmupRoute")).isSameAs(other);
	}

}
