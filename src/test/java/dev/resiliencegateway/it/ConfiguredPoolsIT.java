package dev.resiliencegateway.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.web.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

import dev.resiliencegateway.GatewayApplication;
import dev.resiliencegateway.admin.ReplicasEndpoint;
import dev.resiliencegateway.demo.DemoReplica;
import dev.resiliencegateway.wiring.PoolRegistry;

/** Pools as users configure them, each with real requests: from discovery, and with static weights. */
class ConfiguredPoolsIT {

	private static final String ROUTE = "--spring.cloud.gateway.server.webmvc.routes[0].";

	private final HttpClient http = HttpClient.newHttpClient();

	private static List<String> args(String... extra) {
		List<String> args = new ArrayList<>(List.of("--server.port=0", "--management.server.port=0",
				"--spring.main.banner-mode=off", "--logging.level.root=OFF", "--resilience.gateway.decision-headers=true"));
		args.addAll(List.of(extra));
		return args;
	}

	private HttpResponse<String> get(ConfigurableApplicationContext context, String path) throws Exception {
		int port = ((WebServerApplicationContext) context).getWebServer().getPort();
		return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
				HttpResponse.BodyHandlers.ofString());
	}

	@Test
	void aPoolFoundByDiscoveryServesRequests() throws Exception {
		try (DemoReplica one = new DemoReplica("users-1", 0).start(); DemoReplica two = new DemoReplica("users-2", 0).start()) {
			List<String> args = args(ROUTE + "id=users", ROUTE + "uri=lb://users", ROUTE + "predicates[0]=Path=/users/**",
					"--spring.cloud.discovery.client.simple.instances.users[0].uri=" + one.url(),
					"--spring.cloud.discovery.client.simple.instances.users[1].uri=" + two.url());
			try (ConfigurableApplicationContext context = SpringApplication.run(GatewayApplication.class,
					args.toArray(String[]::new))) {
				assertThat(context.getBean(PoolRegistry.class).pool("users").replicas()).hasSize(2);
				for (int i = 0; i < 40; i++) {
					HttpResponse<String> r = get(context, "/users/" + i);
					assertThat(r.statusCode()).isEqualTo(200);
					assertThat(r.body()).contains("\"path\":\"/users/" + i + "\"");
				}
				assertThat(one.served() + two.served()).isEqualTo(40);
				assertThat(one.served()).as("both discovered replicas take traffic").isPositive();
				assertThat(two.served()).isPositive();
			}
		}
	}


	@Test
	void aDiscoveryChangeEventMovesTrafficAtOnceWithoutAFailedRequest() throws Exception {
		try (DemoReplica one = new DemoReplica("users-1", 0).start(); DemoReplica two = new DemoReplica("users-2", 0).start();
				DemoReplica three = new DemoReplica("users-3", 0).start()) {
			List<String> args = args(ROUTE + "id=users", ROUTE + "uri=lb://users", ROUTE + "predicates[0]=Path=/users/**",
					"--spring.cloud.discovery.client.simple.instances.users[0].uri=" + one.url(),
					"--spring.cloud.discovery.client.simple.instances.users[1].uri=" + two.url(),
					// no polling in this test: only the change event can move traffic
					"--resilience.gateway.pools.users.discovery-refresh=10m",
					"--resilience.gateway.pools.users.slow-start.window=1s");
			try (ConfigurableApplicationContext context = SpringApplication.run(GatewayApplication.class,
					args.toArray(String[]::new))) {
				// bounded, but enough to outlast the 3 s below: requests here take 0.3-0.5 ms, and a load that
				// ran out of requests early once left too little after the slow-start window to see users-3
				SteadyLoad load = SteadyLoad.start(40_000, i -> get(context, "/users/" + i));
				Thread.sleep(1000);
				// the registry drops users-2 (its pod deleted) and lists users-3, then says so
				var simple = context.getBean(org.springframework.cloud.client.discovery.simple.SimpleDiscoveryProperties.class);
				simple.getInstances().put("users", List.of(
						new org.springframework.cloud.client.DefaultServiceInstance("users-1", "users", "127.0.0.1", one.port(), false),
						new org.springframework.cloud.client.DefaultServiceInstance("users-3", "users", "127.0.0.1", three.port(), false)));
				long event = System.nanoTime();
				context.publishEvent(new org.springframework.cloud.client.discovery.event.HeartbeatEvent(this, 1L));
				Thread.sleep(2000);

				List<SteadyLoad.Sent> all = load.stop();
				assertThat(all).hasSizeGreaterThan(100);
				assertThat(all).as("no failed request while one replica left and another joined")
					.allSatisfy(r -> assertThat(r.status()).isEqualTo(200));
				String removed = "127.0.0.1:" + two.port();
				long lastToRemoved = all.stream().filter(r -> r.replica().equals(removed)).mapToLong(SteadyLoad.Sent::atNanos).max().orElseThrow();
				double millis = (lastToRemoved - event) / 1e6;
				dev.resiliencegateway.TestConsole.warn(String.format(
						"discovery: the removed replica's last new request was sent %.1f ms after the change event", millis));
				assertThat(millis).as("the removed replica gets no new request 1 s after the event").isLessThan(1000);
				assertThat(all.get(all.size() - 1).atNanos()).as("the load ran past the slow-start window")
					.isGreaterThan(event + 1_500_000_000L);
				java.util.Map<String, Long> after = all.stream().filter(r -> r.atNanos() > event + 1_000_000_000L)
					.collect(java.util.stream.Collectors.groupingBy(SteadyLoad.Sent::replica, java.util.stream.Collectors.counting()));
				assertThat(after).as("requests per replica after the slow-start window: the added replica takes traffic")
					.containsKey("127.0.0.1:" + three.port());
				assertThat(context.getBean(PoolRegistry.class).pool("users").replicas()).hasSize(2);
			}
		}
	}

	@Test
	void aStaticWeightShiftsTraffic() throws Exception {
		try (DemoReplica light = new DemoReplica("light", 0).start(); DemoReplica heavy = new DemoReplica("heavy", 0).start()) {
			String pool = "--resilience.gateway.pools.orders.";
			List<String> args = args(ROUTE + "id=orders", ROUTE + "uri=lb://orders", ROUTE + "predicates[0]=Path=/orders/**",
					pool + "replicas[0].url=" + light.url(), pool + "replicas[1].url=" + heavy.url(),
					pool + "replicas[1].weight=4", pool + "health-check.enabled=false");
			try (ConfigurableApplicationContext context = SpringApplication.run(GatewayApplication.class,
					args.toArray(String[]::new))) {
				for (int i = 0; i < 200; i++) {
					assertThat(get(context, "/orders/" + i).statusCode()).isEqualTo(200);
				}
				// The configured weight reaches the balancer: the weight shares the pool shows. How traffic then
				// splits is BalancerTest's (on a fake clock): here on loopback, one latency spike of a replica
				// (a GC or JIT pause in this shared JVM) holds its peak-EWMA cost up for seconds, and under the
				// full suite's load that once turned a 4:1 weight into a 390:610 split of 1000 requests.
				ReplicasEndpoint.PoolView view = ReplicasEndpoint.view(context.getBean(PoolRegistry.class).pool("orders"));
				assertThat(view.replicas()).extracting(ReplicasEndpoint.ReplicaView::weight).containsExactly(1, 4);
				assertThat(view.replicas()).extracting(ReplicasEndpoint.ReplicaView::weightShare).containsExactly(0.2, 0.8);
				assertThat(heavy.served()).as("both take traffic").isPositive();
				assertThat(light.served()).isPositive();
			}
		}
	}

}
