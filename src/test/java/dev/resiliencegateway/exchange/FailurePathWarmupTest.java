package dev.resiliencegateway.exchange;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;

import dev.resiliencegateway.GatewayApplication;
import dev.resiliencegateway.demo.DemoReplica;

/**
 * The warm-up's requests never reach a user's replica, even behind a catch-all route: its own route
 * is consulted first.
 */
class FailurePathWarmupTest {

	@Test
	void aCatchAllRouteDoesNotTakeTheWarmUpRequests() throws Exception {
		try (DemoReplica replica = new DemoReplica("catch-all", 0).start()) {
			replica.recordRequests(true);
			String route = "--spring.cloud.gateway.server.webmvc.routes[0].";
			ConfigurableApplicationContext context = SpringApplication.run(GatewayApplication.class, "--server.port=0",
					"--management.server.port=0", "--spring.main.banner-mode=off", "--logging.level.root=OFF",
					route + "id=all", route + "uri=lb://all", route + "predicates[0]=Path=/**",
					"--resilience.gateway.pools.all.replicas[0].url=" + replica.url());
			try {
				assertThat(context.getBean(FailurePathWarmup.class).statuses())
					.containsExactly(504, 504, 503, 503, 504, 504, 503, 503);
				assertThat(replica.recorded()).as("requests that reached the user's replica").isEmpty();
			}
			finally {
				context.close();
			}
		}
	}

}
