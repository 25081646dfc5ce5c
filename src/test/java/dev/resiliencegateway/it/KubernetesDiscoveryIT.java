package dev.resiliencegateway.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.web.context.WebServerApplicationContext;
import org.springframework.cloud.client.discovery.DiscoveryClient;
import org.springframework.cloud.client.discovery.event.HeartbeatEvent;
import org.springframework.context.ApplicationListener;
import org.springframework.context.ConfigurableApplicationContext;

import dev.resiliencegateway.GatewayApplication;
import dev.resiliencegateway.TestConsole;
import dev.resiliencegateway.demo.DemoReplica;
import dev.resiliencegateway.wiring.PoolRegistry;
import io.fabric8.kubernetes.api.model.EndpointAddress;
import io.fabric8.kubernetes.api.model.EndpointAddressBuilder;
import io.fabric8.kubernetes.api.model.Endpoints;
import io.fabric8.kubernetes.api.model.EndpointsBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.NamespacedKubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;

/**
 * Kubernetes discovery as it runs in a cluster: Spring Cloud Kubernetes with the real fabric8
 * client, against fabric8's mock API server (CRUD mode: it keeps the objects the test writes). The
 * replicas are real, each on its own loopback address as pods have their own IPs, all on one port.
 * A route {@code lb://orders} with no pool configured follows the {@code orders} Service's
 * Endpoints.
 */
class KubernetesDiscoveryIT {

	private static final String NAMESPACE = "shop";

	private KubernetesMockServer api;

	private NamespacedKubernetesClient kubectl;

	private final List<DemoReplica> replicas = new ArrayList<>();

	private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

	private int port;

	@BeforeEach
	void startApiServer() throws IOException {
		api = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), new KubernetesCrudDispatcher(),
				false);
		api.init(InetAddress.getByName("127.0.0.1"), 0);
		kubectl = api.createClient();
	}

	@AfterEach
	void stop() {
		replicas.forEach(DemoReplica::close);
		kubectl.close();
		api.destroy();
	}

	/** Three "pods" on 127.0.0.2..4, one port: a free port on the first address, tried on the others. */
	private void startPods() throws IOException {
		for (int attempt = 0; attempt < 20 && replicas.size() < 3; attempt++) {
			replicas.forEach(DemoReplica::close);
			replicas.clear();
			DemoReplica first = new DemoReplica("orders-0", 0, "127.0.0.2").start();
			replicas.add(first);
			try {
				replicas.add(new DemoReplica("orders-1", first.port(), "127.0.0.3").start());
				replicas.add(new DemoReplica("orders-2", first.port(), "127.0.0.4").start());
			}
			catch (IOException taken) {
				// that port is in use on another loopback address: pick another
			}
		}
		assertThat(replicas).hasSize(3);
	}

	private static EndpointAddress pod(DemoReplica r) {
		return new EndpointAddressBuilder().withIp(r.url().replaceAll("http://([0-9.]+):.*", "$1"))
			.withNewTargetRef()
			.withKind("Pod")
			.withName(r.id())
			.withNamespace(NAMESPACE)
			.endTargetRef()
			.build();
	}

	private Endpoints endpoints(List<DemoReplica> ready, List<DemoReplica> notReady) {
		return new EndpointsBuilder().withNewMetadata()
			.withName("orders")
			.withNamespace(NAMESPACE)
			.endMetadata()
			.addNewSubset()
			.withAddresses(ready.stream().map(KubernetesDiscoveryIT::pod).toList())
			.withNotReadyAddresses(notReady.stream().map(KubernetesDiscoveryIT::pod).toList())
			.addNewPort()
			.withName("http")
			.withPort(replicas.get(0).port())
			.withProtocol("TCP")
			.endPort()
			.endSubset()
			.build();
	}

	private HttpResponse<String> get(String path) throws Exception {
		return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
			.timeout(Duration.ofSeconds(10))
			.build(), HttpResponse.BodyHandlers.ofString());
	}


	@Test
	void lbServiceFollowsTheServicesReadyEndpointsUnderLoadWithoutAFailedRequest() throws Exception {
		startPods();
		DemoReplica a = replicas.get(0);
		DemoReplica b = replicas.get(1);
		DemoReplica c = replicas.get(2);
		kubectl.services()
			.inNamespace(NAMESPACE)
			.resource(new ServiceBuilder().withNewMetadata()
				.withName("orders")
				.withNamespace(NAMESPACE)
				.endMetadata()
				.withNewSpec()
				.addNewPort()
				.withName("http")
				.withPort(a.port())
				.endPort()
				.endSpec()
				.build())
			.create();
		kubectl.endpoints().inNamespace(NAMESPACE).resource(endpoints(List.of(a, b), List.of(c))).create();

		AtomicLong heartbeat = new AtomicLong();
		SpringApplication app = new SpringApplication(GatewayApplication.class);
		app.addListeners((ApplicationListener<HeartbeatEvent>) e -> heartbeat.compareAndSet(0, System.nanoTime()));
		try (ConfigurableApplicationContext context = app.run("--server.port=0", "--management.server.port=0",
				"--spring.main.banner-mode=off", "--logging.level.root=OFF", "--resilience.gateway.decision-headers=true",
				// what Spring Boot detects from the pod's environment, and where the API server is
				"--spring.main.cloud-platform=kubernetes",
				"--spring.cloud.kubernetes.client.master-url=" + kubectl.getConfiguration().getMasterUrl(),
				"--spring.cloud.kubernetes.client.namespace=" + NAMESPACE,
				"--spring.cloud.kubernetes.client.trust-certs=true",
				"--spring.cloud.gateway.server.webmvc.routes[0].id=orders",
				"--spring.cloud.gateway.server.webmvc.routes[0].uri=lb://orders",
				"--spring.cloud.gateway.server.webmvc.routes[0].predicates[0]=Path=/orders/**",
				// no polling in this test: only the catalog watch's change event can move traffic
				"--resilience.gateway.pools.orders.discovery-refresh=10m",
				"--resilience.gateway.pools.orders.slow-start.window=1s")) {
			port = ((WebServerApplicationContext) context).getWebServer().getPort();
			assertThat(context.getBean(DiscoveryClient.class).getInstances("orders")).as("the real Kubernetes client")
				.hasSize(2);
			assertThat(context.getBean(PoolRegistry.class).pool("orders").replicas())
				.extracting(r -> r.replica().id())
				.containsExactlyInAnyOrder("127.0.0.2:" + a.port(), "127.0.0.3:" + b.port());
			for (int i = 0; i < 40; i++) {
				HttpResponse<String> r = get("/orders/" + i);
				assertThat(r.statusCode()).isEqualTo(200);
				assertThat(r.body()).contains("\"path\":\"/orders/" + i + "\"");
			}
			assertThat(a.served()).as("both ready endpoints take traffic").isPositive();
			assertThat(b.served()).isPositive();
			assertThat(c.served()).as("a pod that is not ready gets nothing").isZero();

			SteadyLoad load = SteadyLoad.start(20_000, i -> get("/orders/" + i));
			Thread.sleep(1500); // the catalog watch has its first state
			// b's pod is deleted (its address leaves the Endpoints); c becomes ready
			heartbeat.set(0);
			long change = System.nanoTime();
			kubectl.endpoints().inNamespace(NAMESPACE).resource(endpoints(List.of(a, c), List.of())).update();
			Thread.sleep(3000);

			List<SteadyLoad.Sent> all = load.stop();
			assertThat(all).hasSizeGreaterThan(100);
			assertThat(all).as("no failed request while one endpoint left and another joined")
				.allSatisfy(r -> assertThat(r.status()).isEqualTo(200));
			long event = heartbeat.get();
			assertThat(event).as("the catalog watch published the change").isGreaterThan(change);
			String removed = "127.0.0.3:" + b.port();
			long last = all.stream().filter(r -> r.replica().equals(removed)).mapToLong(SteadyLoad.Sent::atNanos).max().orElseThrow();
			TestConsole.warn(String.format("kubernetes discovery: change event %.0f ms after the Endpoints update; the removed "
					+ "endpoint's last new request was sent %.0f ms after the update, %.1f ms after the event (%d requests, none failed)",
					(event - change) / 1e6, (last - change) / 1e6, (last - event) / 1e6, all.size()));
			assertThat((last - event) / 1e6).as("no new request to the removed endpoint 1 s after the event").isLessThan(1000);
			assertThat(all.stream().filter(r -> r.atNanos() > event + 500_000_000L))
				.as("the endpoint that became ready takes traffic (slow start)")
				.anyMatch(r -> r.replica().equals("127.0.0.4:" + c.port()))
				.noneMatch(r -> r.replica().equals(removed));
		}
	}

}
