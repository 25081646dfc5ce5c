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
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

import dev.resiliencegateway.GatewayApplication;
import dev.resiliencegateway.demo.DemoReplica;
import io.micrometer.core.instrument.MeterRegistry;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Beyond its cap on requests in flight the gateway answers 503 with Retry-After at once, reaching no
 * replica, and serves again as soon as requests finish (hardening c.3 C10; the goodput it keeps under
 * overload is measured by {@code bench/run.sh --overload}).
 */
class LoadSheddingIT {

	@Test
	void requestsOverTheCapGetA503AtOnceAndServiceResumes() throws Exception {
		try (DemoReplica slow = new DemoReplica("shed-1", 0).start()) {
			slow.setMode(DemoReplica.Mode.SLOW, 1.0, 1500);
			try (ConfigurableApplicationContext context = new SpringApplicationBuilder(GatewayApplication.class)
				.web(WebApplicationType.SERVLET)
				.run("--server.port=0", "--management.server.port=0", "--resilience.gateway.edge.max-in-flight=3",
						"--spring.cloud.gateway.server.webmvc.routes[0].id=shed",
						"--spring.cloud.gateway.server.webmvc.routes[0].uri=lb://shed",
						"--spring.cloud.gateway.server.webmvc.routes[0].predicates[0]=Path=/**",
						"--resilience.gateway.pools.shed.replicas[0].url=" + slow.url(),
						"--resilience.gateway.pools.shed.health-check.enabled=false",
						"--resilience.gateway.routes.shed.per-try-timeout=5s")) {
				int port = ((WebServerApplicationContext) context).getWebServer().getPort();
				HttpClient http = HttpClient.newHttpClient();
				long servedBefore = slow.served();
				List<CompletableFuture<HttpResponse<String>>> held = new ArrayList<>();
				for (int i = 0; i < 3; i++) {
					held.add(http.sendAsync(get(port, "/held/" + i), HttpResponse.BodyHandlers.ofString()));
				}
				Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> slow.served() - servedBefore >= 3);

				HttpResponse<String> shed = http.send(get(port, "/over"), HttpResponse.BodyHandlers.ofString());
				assertThat(shed.statusCode()).isEqualTo(503);
				assertThat(shed.headers().firstValue("Retry-After")).contains("1");
				assertThat(shed.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("application/problem+json"));
				assertThat(shed.headers().allValues("X-Request-Id")).hasSize(1);
				assertThat(slow.served() - servedBefore).as("the refused request reached no replica").isEqualTo(3);
				assertThat(context.getBean(MeterRegistry.class).get("gateway.shed").counter().count()).isEqualTo(1.0);

				for (CompletableFuture<HttpResponse<String>> f : held) {
					assertThat(f.get().statusCode()).isEqualTo(200);
				}
				assertThat(http.send(get(port, "/after"), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
			}
		}
	}

	private static HttpRequest get(int port, String path) {
		return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(20)).build();
	}

}
