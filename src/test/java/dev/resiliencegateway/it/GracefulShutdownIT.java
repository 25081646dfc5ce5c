package dev.resiliencegateway.it;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.availability.ApplicationAvailability;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

import dev.resiliencegateway.GatewayApplication;
import dev.resiliencegateway.demo.DemoReplica;
import dev.resiliencegateway.wiring.PoolRegistry;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Shutdown under load (hardening c.2 I5, scenario C12), on a gateway of its own: closing the context
 * is what the JVM's shutdown hook does on SIGTERM. Readiness goes DOWN at once, every request in
 * flight finishes with its replica's answer, and the pools' background work keeps running through
 * the drain.
 */
class GracefulShutdownIT {

	@Test
	void inFlightRequestsFinishAndReadinessGoesDownFirst() throws Exception {
		try (DemoReplica slow = new DemoReplica("drain-1", 0).start()) {
			slow.setMode(DemoReplica.Mode.SLOW, 1.0, 1500);
			ConfigurableApplicationContext context = new SpringApplicationBuilder(GatewayApplication.class)
				.web(WebApplicationType.SERVLET)
				.run("--server.port=0", "--management.server.port=0",
						"--spring.cloud.gateway.server.webmvc.routes[0].id=drain",
						"--spring.cloud.gateway.server.webmvc.routes[0].uri=lb://drain",
						"--spring.cloud.gateway.server.webmvc.routes[0].predicates[0]=Path=/**",
						"--resilience.gateway.pools.drain.replicas[0].url=" + slow.url(),
						"--resilience.gateway.pools.drain.health-check.enabled=false",
						"--resilience.gateway.routes.drain.per-try-timeout=5s");
			int port = ((WebServerApplicationContext) context).getWebServer().getPort();
			PoolRegistry pools = context.getBean(PoolRegistry.class);
			ApplicationAvailability availability = context.getBean(ApplicationAvailability.class);
			HttpClient http = HttpClient.newHttpClient();
			List<CompletableFuture<HttpResponse<String>>> inFlight = new ArrayList<>();
			java.util.concurrent.atomic.AtomicLong lastTick = new java.util.concurrent.atomic.AtomicLong();
			pools.everySecond(() -> lastTick.set(System.nanoTime()));
			for (int i = 0; i < 40; i++) {
				inFlight.add(http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/work/" + i))
					.timeout(Duration.ofSeconds(20))
					.POST(HttpRequest.BodyPublishers.ofString("order-" + i))
					.build(), HttpResponse.BodyHandlers.ofString()));
			}
			// every request has reached the replica (which answers after 1.5 s), then SIGTERM
			Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> slow.served() >= 40);
			long closeStarted = System.nanoTime();
			CompletableFuture<Void> closing = CompletableFuture.runAsync(context::close);
			Awaitility.await().atMost(Duration.ofSeconds(2))
				.until(() -> availability.getReadinessState() == ReadinessState.REFUSING_TRAFFIC);
			for (CompletableFuture<HttpResponse<String>> f : inFlight) {
				HttpResponse<String> r = f.get();
				assertThat(r.statusCode()).isEqualTo(200);
				assertThat(r.body()).startsWith("order-");
			}
			closing.get();
			// the drain lasted over a second (the replica answers after 1.5 s): the pools' once-a-second
			// work ran during it, rather than stopping when shutdown began
			assertThat(lastTick.get()).as("a pool tick after shutdown began").isGreaterThan(closeStarted);
			assertThat(slow.executions().values()).hasSize(40).allMatch(n -> n == 1);
		}
	}

}
