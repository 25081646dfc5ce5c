package dev.resiliencegateway.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.web.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

import dev.resiliencegateway.GatewayApplication;
import dev.resiliencegateway.admin.ReplicasEndpoint;
import dev.resiliencegateway.demo.DemoReplica;
import dev.resiliencegateway.health.PoolHealth;
import dev.resiliencegateway.health.ReplicaHealth;
import dev.resiliencegateway.wiring.PoolRegistry;

/**
 * Pools and routes changed at run time the way an operator does it: the configuration file is
 * rewritten, then {@code POST /actuator/refresh} with the operator credential. Real replicas, real
 * requests under steady load, before, during and after each change.
 */
class ConfigRefreshIT {

	private static final String PASSWORD = "refresh-secret";

	private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

	@TempDir
	Path dir;

	private int port;

	private int managementPort;


	private static String config(String replicas, String extra) {
		return """
				spring.cloud.gateway.server.webmvc.routes:
				  - id: orders
				    uri: lb://orders
				    predicates: [ "Path=/orders/**" ]
				%s
				resilience.gateway.pools.orders:
				  health-check.enabled: false
				  slow-start.window: 1s
				  replicas:
				%s
				""".formatted(extra, replicas);
	}

	private static String replica(DemoReplica r, int weight) {
		return "    - url: " + r.url() + "\n      weight: " + weight + "\n";
	}

	private HttpResponse<String> get(String path) throws Exception {
		return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
			.timeout(Duration.ofSeconds(10))
			.build(), HttpResponse.BodyHandlers.ofString());
	}

	private HttpResponse<String> refresh(String password) throws Exception {
		HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + managementPort + "/actuator/refresh"))
			.timeout(Duration.ofSeconds(20))
			.POST(HttpRequest.BodyPublishers.noBody());
		if (password != null) {
			b.header("Authorization", "Basic "
					+ Base64.getEncoder().encodeToString(("admin:" + password).getBytes(StandardCharsets.UTF_8)));
		}
		return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
	}

	private ConfigurableApplicationContext start(Path file, String... extra) {
		List<String> args = new ArrayList<>(List.of("--server.port=0",
				"--management.server.port=0", "--spring.main.banner-mode=off", "--logging.level.root=OFF",
				"--resilience.gateway.decision-headers=true", "--resilience.gateway.admin.password={noop}" + PASSWORD,
				"--spring.config.import=file:" + file));
		args.addAll(List.of(extra));
		ConfigurableApplicationContext context = SpringApplication.run(GatewayApplication.class, args.toArray(String[]::new));
		port = ((WebServerApplicationContext) context).getWebServer().getPort();
		managementPort = Integer.parseInt(context.getEnvironment().getProperty("local.management.port"));
		return context;
	}

	@Test
	void aChangedPoolAndRouteApplyUnderLoadWithoutAFailedRequest() throws Exception {
		try (DemoReplica a = new DemoReplica("a", 0).start(); DemoReplica b = new DemoReplica("b", 0).start();
				DemoReplica c = new DemoReplica("c", 0).start()) {
			Path file = dir.resolve("gateway.yml");
			Files.writeString(file, config(replica(a, 1) + replica(b, 1), ""));
			try (ConfigurableApplicationContext context = start(file)) {
				PoolRegistry pools = context.getBean(PoolRegistry.class);
				PoolHealth orders = pools.pool("orders");
				ReplicaHealth kept = orders.replicas().get(0);
				assertThat(get("/billing/1").statusCode()).as("no billing route yet").isEqualTo(404);

				SteadyLoad load = SteadyLoad.start(20_000, i -> get("/orders/" + i));
				Thread.sleep(800);
				long keptRequests = kept.availability().total(System.nanoTime());

				// a slow request on b is in flight when b leaves the configuration: it must finish
				CountDownLatch onB = new CountDownLatch(1);
				b.setMode(DemoReplica.Mode.SLOW, 1.0, 1200);
				b.setArrivalLog(id -> onB.countDown());
				assertThat(onB.await(5, TimeUnit.SECONDS)).as("a request reached b").isTrue();
				b.setArrivalLog(null);

				// b leaves, c joins, a weighs 3; a new pool and route; the orders route takes a body limit
				Files.writeString(file, config(replica(a, 3) + replica(c, 1), """
						  - id: billing
						    uri: lb://billing
						    predicates: [ "Path=/billing/**" ]
						resilience.gateway.routes.orders.max-body-size: 16B
						resilience.gateway.pools.billing:
						  health-check.enabled: false
						  replicas:
						    - url: %s
						""".formatted(c.url())));
				assertThat(refresh(null).statusCode()).as("a refresh is a write: the operator's credential").isEqualTo(401);
				long event = System.nanoTime();
				HttpResponse<String> refreshed = refresh(PASSWORD);
				long applied = System.nanoTime();
				assertThat(refreshed.statusCode()).isEqualTo(200);
				assertThat(refreshed.body()).contains("resilience.gateway.pools.orders.replicas[1].url");

				Thread.sleep(1500);

				List<SteadyLoad.Sent> all = load.stop();
				assertThat(all).hasSizeGreaterThan(100);
				assertThat(all).as("no failed request while the configuration changed")
					.allSatisfy(r -> assertThat(r.status()).isEqualTo(200));
				String removed = "127.0.0.1:" + b.port();
				assertThat(all).as("a request in flight to the removed replica finished after the refresh, with 200")
					.anyMatch(r -> r.replica().equals(removed) && r.atNanos() < event && r.doneNanos() > applied);
				long lastToRemoved = all.stream()
					.filter(r -> r.replica().equals(removed))
					.mapToLong(SteadyLoad.Sent::atNanos)
					.max()
					.orElse(event);
				assertThat(lastToRemoved).as("the removed replica gets no request sent after the refresh answered")
					.isLessThan(applied);
				assertThat(all.stream().filter(r -> r.atNanos() > event + 500_000_000L))
					.as("the added replica takes traffic (slow start)")
					.anyMatch(r -> r.replica().equals("127.0.0.1:" + c.port()))
					.noneMatch(r -> r.replica().equals(removed));

				assertThat(pools.pool("orders")).as("the pool object stays").isSameAs(orders);
				assertThat(orders.replicas()).as("the replica kept keeps its health model and statistics").contains(kept);
				assertThat(kept.availability().total(System.nanoTime())).isGreaterThanOrEqualTo(keptRequests);
				ReplicasEndpoint.PoolView view = ReplicasEndpoint.view(orders);
				assertThat(view.replicas()).extracting(ReplicasEndpoint.ReplicaView::weight).containsExactly(3, 1);

				HttpResponse<String> billing = get("/billing/1");
				assertThat(billing.statusCode()).as("the new route and pool serve").isEqualTo(200);
				assertThat(billing.headers().firstValue("X-Gateway-Replica")).hasValue("127.0.0.1:" + c.port());
				HttpResponse<String> tooLarge = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/orders/1"))
					.POST(HttpRequest.BodyPublishers.ofString("x".repeat(100)))
					.build(), HttpResponse.BodyHandlers.ofString());
				assertThat(tooLarge.statusCode()).as("the route's new body limit applies").isEqualTo(413);
				HttpResponse<String> health = http.send(HttpRequest.newBuilder(
						URI.create("http://127.0.0.1:" + managementPort + "/actuator/health/pools/billing")).build(),
						HttpResponse.BodyHandlers.ofString());
				assertThat(health.statusCode()).as("the new pool has its health").isEqualTo(200);
				dev.resiliencegateway.TestConsole.warn(String.format(
						"refresh: %d requests under steady load, none failed; the refresh took %.1f ms; the removed replica's last new request was sent %.1f ms after it began",
						all.size(), (applied - event) / 1e6, (lastToRemoved - event) / 1e6));
			}
		}
	}

	@Test
	void anInvalidChangeIsRefusedWithTheStartupMessageAndTheRunningConfigurationStays() throws Exception {
		try (DemoReplica a = new DemoReplica("a", 0).start(); DemoReplica b = new DemoReplica("b", 0).start()) {
			Path file = dir.resolve("gateway.yml");
			Files.writeString(file, config(replica(a, 1), ""));
			try (ConfigurableApplicationContext context = start(file)) {
				PoolHealth orders = context.getBean(PoolRegistry.class).pool("orders");
				assertThat(get("/orders/1").statusCode()).isEqualTo(200);

				// a bad URL for the new replica, and a route to a pool nobody defined
				Files.writeString(file, config(replica(a, 1) + "    - url: ftp://orders-2.internal\n", ""));
				HttpResponse<String> refused = refresh(PASSWORD);
				assertThat(refused.statusCode()).isEqualTo(422);
				assertThat(refused.headers().firstValue("Content-Type")).hasValueSatisfying(
						v -> assertThat(v).startsWith("application/problem+json"));
				assertThat(refused.body()).contains("resilience.gateway.pools.orders.replicas[1].url")
					.contains("ftp://orders-2.internal")
					.contains("the running configuration stays");
				// refused again while the file stays wrong: nothing of it was kept in the environment
				assertThat(refresh(PASSWORD).statusCode()).isEqualTo(422);
				assertThat(context.getEnvironment().getProperty("resilience.gateway.pools.orders.replicas[1].url")).isNull();

				Files.writeString(file, config(replica(a, 1), """
						  - id: billing
						    uri: lb://billing
						    predicates: [ "Path=/billing/**" ]
						"""));
				HttpResponse<String> unknownPool = refresh(PASSWORD);
				assertThat(unknownPool.statusCode()).isEqualTo(422);
				assertThat(unknownPool.body()).contains("lb://billing");

				Files.writeString(file, config(replica(a, 1), "resilience.gateway.routes.orders.max-attempts: lots\n"));
				HttpResponse<String> mistyped = refresh(PASSWORD);
				assertThat(mistyped.statusCode()).isEqualTo(422);
				assertThat(mistyped.body()).contains("resilience.gateway.routes.orders.max-attempts").contains("lots");

				for (int i = 0; i < 20; i++) {
					HttpResponse<String> r = get("/orders/" + i);
					assertThat(r.statusCode()).as("the running configuration serves on").isEqualTo(200);
					assertThat(r.headers().firstValue("X-Gateway-Replica")).hasValue("127.0.0.1:" + a.port());
				}
				assertThat(get("/billing/1").statusCode()).isEqualTo(404);
				assertThat(context.getBean(PoolRegistry.class).pool("orders")).isSameAs(orders);
				assertThat(orders.replicas()).hasSize(1);

				// fixed: applied
				Files.writeString(file, config(replica(a, 1) + replica(b, 1), ""));
				assertThat(refresh(PASSWORD).statusCode()).isEqualTo(200);
				assertThat(orders.replicas()).hasSize(2);
			}
		}
	}

	@Test
	void withConfigWatchAChangedFileAppliesByItselfAndAnInvalidOneIsRefused() throws Exception {
		try (DemoReplica a = new DemoReplica("a", 0).start(); DemoReplica b = new DemoReplica("b", 0).start()) {
			Path file = dir.resolve("gateway.yml");
			Files.writeString(file, config(replica(a, 1), ""));
			try (ConfigurableApplicationContext context = start(file, "--resilience.gateway.config-watch.enabled=true",
					"--resilience.gateway.config-watch.interval=100ms")) {
				PoolHealth orders = context.getBean(PoolRegistry.class).pool("orders");
				assertThat(orders.replicas()).hasSize(1);

				// what the kubelet does to a mounted ConfigMap: the file changes, nobody calls the gateway
				Files.writeString(file, config(replica(a, 1) + replica(b, 1), ""));
				awaitReplicas(orders, 2);

				Files.writeString(file, config(replica(a, 1) + "    - url: ftp://orders-3.internal\n", ""));
				Thread.sleep(1000);
				assertThat(orders.replicas()).as("an invalid file is refused; the running configuration stays").hasSize(2);
				assertThat(get("/orders/1").statusCode()).isEqualTo(200);

				Files.writeString(file, config(replica(b, 1), ""));
				awaitReplicas(orders, 1);
				assertThat(orders.replicas().get(0).replica().id()).isEqualTo("127.0.0.1:" + b.port());
			}
		}
	}

	private static void awaitReplicas(PoolHealth pool, int n) throws InterruptedException {
		long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
		while (pool.replicas().size() != n && System.nanoTime() < deadline) {
			Thread.sleep(50);
		}
		assertThat(pool.replicas()).hasSize(n);
	}

	@Test
	void aConfigWatchIntervalThatIsNotPositiveStopsStartupNamingTheKey() throws Exception {
		Path file = dir.resolve("gateway.yml");
		Files.writeString(file, config("    - url: http://orders-1.internal:8080\n", ""));
		org.assertj.core.api.Assertions.assertThatThrownBy(() -> start(file, "--resilience.gateway.config-watch.enabled=true",
				"--resilience.gateway.config-watch.interval=0s"))
			.rootCause()
			.hasMessageContaining("resilience.gateway.config-watch.interval: 'PT0S'")
			.hasMessageContaining("a positive duration");
	}

}
