package dev.resiliencegateway.it.tls;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.web.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsExchange;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;

import dev.resiliencegateway.GatewayApplication;
import dev.resiliencegateway.health.ReplicaHealth;
import dev.resiliencegateway.wiring.PoolRegistry;

/**
 * TLS on both sides, with certificates made for the run: clients reach the gateway over HTTPS
 * (Spring Boot's SSL bundle on the traffic port), and the gateway reaches https replicas with each
 * pool's SSL bundle (trusted CA, client certificate for mutual TLS, host names checked). Replicas
 * whose certificate the gateway must refuse answer nothing: 502, and a failure of that replica.
 */
class TlsIT {

	@TempDir
	static Path dir;

	static TestCertificates.Identity ca;

	static final List<TlsReplica> replicas = new ArrayList<>();

	static TlsReplica mutual;

	static TlsReplica mutualForNoCert;

	static TlsReplica untrusted;

	static TlsReplica untrustedChecked;

	static TlsReplica wrongName;

	static TlsReplica wrongNameUnchecked;

	static ConfigurableApplicationContext context;

	static int port;

	static HttpClient client;

	/** An https replica (the JDK's HttpsServer) that answers its name and the client certificate it saw. */
	static final class TlsReplica implements AutoCloseable {

		final String name;

		final HttpsServer server;

		final ExecutorService executor = Executors.newCachedThreadPool();

		final ConcurrentLinkedQueue<String> seen = new ConcurrentLinkedQueue<>();

		TlsReplica(String name, SSLContext context, boolean needClientCertificate) throws IOException {
			this.name = name;
			server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
			server.setHttpsConfigurator(new HttpsConfigurator(context) {
				@Override
				public void configure(HttpsParameters params) {
					SSLParameters p = context.getDefaultSSLParameters();
					p.setNeedClientAuth(needClientCertificate);
					params.setSSLParameters(p);
				}
			});
			server.setExecutor(executor);
			server.createContext("/", exchange -> {
				String client = "none";
				SSLSession session = ((HttpsExchange) exchange).getSSLSession();
				try {
					client = session.getPeerPrincipal().getName();
				}
				catch (SSLPeerUnverifiedException none) {
					// no client certificate
				}
				String path = exchange.getRequestURI().getPath();
				seen.add(path + " " + client);
				byte[] body = (path.startsWith("/actuator/health") ? "{\"status\":\"UP\"}"
						: "{\"replica\":\"" + name + "\",\"client\":\"" + client + "\"}").getBytes(StandardCharsets.UTF_8);
				exchange.getResponseHeaders().add("Content-Type", "application/json");
				exchange.sendResponseHeaders(200, body.length);
				try (OutputStream out = exchange.getResponseBody()) {
					out.write(body);
				}
			});
			server.start();
			replicas.add(this);
		}

		String url() {
			return "https://127.0.0.1:" + server.getAddress().getPort();
		}

		@Override
		public void close() {
			server.stop(0);
			executor.shutdownNow();
		}

	}

	@BeforeAll
	static void start() throws Exception {
		ca = TestCertificates.authority("Resilience Gateway test CA");
		TestCertificates.Identity rogue = TestCertificates.authority("someone else");
		TestCertificates.Identity replicaCert = TestCertificates.issue(ca, "orders", List.of("127.0.0.1", "localhost"));
		TestCertificates.Identity otherName = TestCertificates.issue(ca, "billing", List.of("billing-1.internal"));
		TestCertificates.Identity selfMade = TestCertificates.issue(rogue, "orders", List.of("127.0.0.1"));
		TestCertificates.Identity gatewayClient = TestCertificates.issue(ca, "gateway", List.of());
		TestCertificates.Identity edge = TestCertificates.issue(ca, "gateway.example", List.of("127.0.0.1", "localhost"));

		mutual = new TlsReplica("mutual", replicaCert.sslContext(ca.certificate()), true);
		mutualForNoCert = new TlsReplica("mutual-2", replicaCert.sslContext(ca.certificate()), true);
		untrusted = new TlsReplica("untrusted", selfMade.sslContext(null), false);
		untrustedChecked = new TlsReplica("untrusted-checked", selfMade.sslContext(null), false);
		wrongName = new TlsReplica("wrong-name", otherName.sslContext(null), false);
		wrongNameUnchecked = new TlsReplica("wrong-name-unchecked", otherName.sslContext(null), false);

		Path[] edgeFiles = edge.writePem(dir, "edge");
		Path[] clientFiles = gatewayClient.writePem(dir, "gateway-client");
		Path caFile = ca.writePem(dir, "ca")[0];
		List<String> args = new ArrayList<>(List.of("--server.port=0", "--management.server.port=0",
				"--spring.main.banner-mode=off", "--logging.level.root=OFF", "--resilience.gateway.decision-headers=true",
				// the traffic port speaks TLS only
				"--server.ssl.bundle=edge",
				"--spring.ssl.bundle.pem.edge.keystore.certificate=file:" + edgeFiles[0],
				"--spring.ssl.bundle.pem.edge.keystore.private-key=file:" + edgeFiles[1],
				// to replicas: the CA, and the gateway's client certificate
				"--spring.ssl.bundle.pem.replicas.truststore.certificate=file:" + caFile,
				"--spring.ssl.bundle.pem.replicas.keystore.certificate=file:" + clientFiles[0],
				"--spring.ssl.bundle.pem.replicas.keystore.private-key=file:" + clientFiles[1],
				"--spring.ssl.bundle.pem.trust-only.truststore.certificate=file:" + caFile));
		pool(args, 0, "mutual", mutual, "replicas", null, true);
		pool(args, 1, "nocert", mutualForNoCert, "trust-only", null, false);
		pool(args, 2, "untrusted", untrusted, "replicas", null, false);
		pool(args, 5, "untrustedchecked", untrustedChecked, "replicas", null, true);
		pool(args, 3, "wrongname", wrongName, "replicas", null, false);
		pool(args, 4, "unchecked", wrongNameUnchecked, "replicas", false, false);
		context = SpringApplication.run(GatewayApplication.class, args.toArray(String[]::new));
		port = ((WebServerApplicationContext) context).getWebServer().getPort();
		client = HttpClient.newBuilder().sslContext(TestCertificates.trusting(ca.certificate())).build();
	}

	private static void pool(List<String> args, int i, String name, TlsReplica replica, String bundle, Boolean verify,
			boolean checked) {
		String r = "--spring.cloud.gateway.server.webmvc.routes[" + i + "].";
		args.add(r + "id=" + name);
		args.add(r + "uri=lb://" + name);
		args.add(r + "predicates[0]=Path=/" + name + "/**");
		String p = "--resilience.gateway.pools." + name + ".";
		args.add(p + "replicas[0].url=" + replica.url());
		args.add(p + "tls.bundle=" + bundle);
		args.add(p + "health-check.enabled=" + checked);
		args.add(p + "health-check.interval=200ms");
		if (verify != null) {
			args.add(p + "tls.verify-hostname=" + verify);
		}
	}

	@AfterAll
	static void stop() {
		if (context != null) {
			context.close();
		}
		replicas.forEach(TlsReplica::close);
	}

	private static HttpResponse<String> get(String path) throws Exception {
		return client.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + path))
			.timeout(Duration.ofSeconds(10))
			.build(), HttpResponse.BodyHandlers.ofString());
	}

	private static ReplicaHealth replica(String pool) {
		return context.getBean(PoolRegistry.class).pool(pool).replicas().get(0);
	}

	@Test
	void httpsAtTheEdgeAndMutualTlsToTheReplica() throws Exception {
		HttpResponse<String> r = get("/mutual/orders/1");
		assertThat(r.statusCode()).isEqualTo(200);
		assertThat(r.body()).as("the replica saw the gateway's client certificate")
			.contains("\"replica\":\"mutual\"")
			.contains("CN=gateway");
		assertThat(r.headers().firstValue("X-Request-Id")).isPresent();
	}

	@Test
	void healthChecksUseThePoolsTlsToo() throws Exception {
		long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
		while (mutual.seen.stream().noneMatch(s -> s.startsWith("/actuator/health")) && System.nanoTime() < deadline) {
			Thread.sleep(50);
		}
		assertThat(mutual.seen).anyMatch(s -> s.equals("/actuator/health CN=gateway"));
		assertThat(replica("mutual").state().name()).isEqualTo("HEALTHY");
		// the untrusted replica's checks fail at the handshake: marked down with that reason
		while (!replica("untrustedchecked").state().name().equals("DOWN") && System.nanoTime() < deadline) {
			Thread.sleep(50);
		}
		assertThat(replica("untrustedchecked").state().name()).isEqualTo("DOWN");
		assertThat(replica("untrustedchecked").status().reason()).contains("SSLHandshakeException");
		assertThat(untrustedChecked.seen).as("nothing reached it").isEmpty();
	}

	@Test
	void anUntrustedCertificateIs502AndTheReplicasFailure() throws Exception {
		assertRefused("untrusted", untrusted, "SSLHandshakeException");
	}

	@Test
	void aCertificateForAnotherHostIs502WhileHostNamesAreChecked() throws Exception {
		assertRefused("wrongname", wrongName, "SSLPeerUnverifiedException");
		HttpResponse<String> unchecked = get("/unchecked/1");
		assertThat(unchecked.statusCode()).as("verify-hostname: false still checks the chain, not the name").isEqualTo(200);
		assertThat(unchecked.body()).contains("wrong-name-unchecked");
	}

	@Test
	void aReplicaThatWantsAClientCertificateRefusesAPoolWithout() throws Exception {
		// TLS 1.3: the replica refuses the missing certificate after the client's handshake is done, so
		// the request may have left: a reset (a GET is retried; a POST would not be)
		assertRefused("nocert", mutualForNoCert, "nocert");
	}

	private static void assertRefused(String pool, TlsReplica replica, String detail) throws Exception {
		HttpResponse<String> r = get("/" + pool + "/orders/1");
		assertThat(r.statusCode()).isEqualTo(502);
		assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).contains("problem+json"));
		assertThat(r.body()).contains("requestId").contains(detail);
		assertThat(replica.seen).as("no request reached the replica").noneMatch(s -> s.startsWith("/" + pool));
		ReplicaHealth health = replica(pool);
		assertThat(health.availability().total(System.nanoTime())).as("counted as that replica's attempt").isPositive();
		assertThat(health.availability().availability(System.nanoTime())).as("a failed one").isEqualTo(0.0);
	}

	@Test
	void plainHttpToTheTlsPortReachesNoReplica() throws Exception {
		int before = mutual.seen.size();
		try (Socket s = new Socket("127.0.0.1", port)) {
			s.setSoTimeout(5000);
			s.getOutputStream().write("GET /mutual/x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
			InputStream in = s.getInputStream();
			String answer = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
			assertThat(answer).startsWith("HTTP/1.1 400");
		}
		assertThat(mutual.seen.stream().filter(x -> x.startsWith("/mutual/x"))).isEmpty();
		assertThat(mutual.seen.size()).isGreaterThanOrEqualTo(before);
	}

	@Test
	void aMissingBundleOrAPlainTextReplicaBehindABundleStopsStartupNamingTheKey() {
		String pool = "--resilience.gateway.pools.p.";
		org.assertj.core.api.Assertions.assertThatThrownBy(() -> SpringApplication.run(GatewayApplication.class,
				"--server.port=0", "--management.server.port=0", "--spring.main.banner-mode=off", "--logging.level.root=OFF",
				pool + "replicas[0].url=https://orders-1.internal:8443", pool + "tls.bundle=nope"))
			.rootCause()
			.hasMessageContaining("resilience.gateway.pools.p.tls.bundle: 'nope'")
			.hasMessageContaining("SSL bundle");
		org.assertj.core.api.Assertions.assertThatThrownBy(() -> SpringApplication.run(GatewayApplication.class,
				"--server.port=0", "--management.server.port=0", "--spring.main.banner-mode=off", "--logging.level.root=OFF",
				"--spring.ssl.bundle.pem.replicas.truststore.certificate=file:" + dir.resolve("ca.crt"),
				pool + "replicas[0].url=http://orders-1.internal:8080", pool + "tls.bundle=replicas"))
			.rootCause()
			.hasMessageContaining("resilience.gateway.pools.p.replicas[0].url: 'http://orders-1.internal:8080'")
			.hasMessageContaining("an https URL");
	}

}
