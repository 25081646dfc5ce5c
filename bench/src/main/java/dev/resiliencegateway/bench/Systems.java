package dev.resiliencegateway.bench;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The systems under test, each started as its own process on loopback with its best open-source
 * resilience settings, all with the same 1 s connect and read timeouts and at most 3 attempts. Each
 * choice is explained where it is made.
 */
final class Systems {

	/** @param adminUrl the gateway's management base URL (its event log); {@code null} for the peers */
	record Running(String name, String baseUrl, Process process, String pidNote, String adminUrl) implements AutoCloseable {

		Running(String name, String baseUrl, Process process, String pidNote) {
			this(name, baseUrl, process, pidNote, null);
		}

		@Override
		public void close() {
			if (process != null) {
				process.descendants().forEach(ProcessHandle::destroyForcibly);
				process.destroyForcibly();
				try {
					process.waitFor();
				}
				catch (InterruptedException e) {
					Thread.currentThread().interrupt();
				}
			}
		}
	}

	private Systems() {
	}

	static Running start(String name, List<Integer> replicaPorts, int port, Path work, String javaHome, Path jar)
			throws Exception {
		Files.createDirectories(work);
		return switch (name) {
			case "resilience-gateway" -> gateway(name, replicaPorts, port, work, javaHome, jar, List.of());
			// the same jar started as the Docker image starts it: from the JDK's AOT cache that
			// docker/aot-cache.sh wrote next to it (target/aot; bench/run.sh --overhead builds it), required
			case "resilience-gateway-aot" -> {
				Path aot = jar.toAbsolutePath().getParent().resolve("aot");
				yield gateway(name, replicaPorts, port, work, javaHome, aot.resolve(jar.getFileName()), List.of(),
						List.of("-XX:AOTMode=on", "-XX:AOTCache=" + aot.resolve("app.aot")));
			}
			// the same on the generational Z garbage collector (pauses below a millisecond) instead of G1
			case "resilience-gateway-zgc" -> gateway(name, replicaPorts, port, work, javaHome, jar, List.of(),
					List.of("-XX:+UseZGC"));
			// the same, with hedging on for every route (GETs still waiting after the route's p95 get a second attempt)
			case "resilience-gateway-hedged" -> gateway(name, replicaPorts, port, work, javaHome, jar,
					List.of("--resilience.gateway.route-defaults.hedge.enabled=true"));
			// the same, with a cap on requests in flight below the overload benchmark's 200 workers, so it sheds
			case "resilience-gateway-keys" -> gateway(name, replicaPorts, port, work, javaHome, jar,
					List.of("--resilience.gateway.routes.demo.idempotency.enabled=true"));
			// the same, riding through a short total outage: requests wait up to 5 s for a replica to come back
			// (at 300 req/s, 1500 arrive in 5 s: max-waiting, and the edge's max-in-flight that waiting
			// requests count against, are sized above that)
			case "resilience-gateway-ride-through" -> gateway(name, replicaPorts, port, work, javaHome, jar,
					List.of("--resilience.gateway.routes.demo.ride-through.max-wait=5s",
							"--resilience.gateway.routes.demo.ride-through.max-waiting=2000",
							"--resilience.gateway.edge.max-in-flight=3000"));
			// the same, probing an ejected replica with a synthetic GET when no request comes to ride on (quiet routes)
			case "resilience-gateway-probing" -> gateway(name, replicaPorts, port, work, javaHome, jar,
					List.of("--resilience.gateway.pools.demo.outlier.probe-path=/demo/items/probe"));
			// the same with JVM options and arguments from the environment, for A/B runs of a setting beside the
			// shipped one in the same minutes: BENCH_VARIANT_JVM_OPTIONS, BENCH_VARIANT_ARGS (space-separated)
			case "resilience-gateway-variant" -> gateway(name, replicaPorts, port, work, javaHome, jar,
					words(System.getenv("BENCH_VARIANT_ARGS")), words(System.getenv("BENCH_VARIANT_JVM_OPTIONS")));
			case "resilience-gateway-shedding" -> gateway(name, replicaPorts, port, work, javaHome, jar,
					List.of("--resilience.gateway.edge.max-in-flight=100"));
			case "stock-scg" -> stock(replicaPorts, port, work, javaHome);
			case "nginx" -> nginx(replicaPorts, port, work);
			case "haproxy" -> haproxy(replicaPorts, port, work);
			case "caddy" -> caddy(replicaPorts, port, work);
			case "direct" -> new Running("direct", "http://127.0.0.1:" + replicaPorts.get(1), null, "");
			default -> throw new IllegalArgumentException("unknown system " + name);
		};
	}

	private static List<String> words(String s) {
		return s == null || s.isBlank() ? List.of() : List.of(s.trim().split("\\s+"));
	}

	private static Running gateway(String name, List<Integer> ports, int port, Path work, String javaHome, Path jar,
			List<String> extra) throws Exception {
		return gateway(name, ports, port, work, javaHome, jar, extra, List.of());
	}

	private static Running gateway(String name, List<Integer> ports, int port, Path work, String javaHome, Path jar,
			List<String> extra, List<String> jvmOptions) throws Exception {
		int mgmt = port + 1;
		// the shipped JVM settings (heap 64-512 MB, docker/jvm.options), as the Docker image runs it
		List<String> cmd = new ArrayList<>(List.of(javaHome + "/bin/java", "@" + shippedJvmOptions()));
		cmd.addAll(jvmOptions);
		cmd.addAll(List.of("-jar", jar.toString(),
				"--server.port=" + port, "--management.server.port=" + mgmt, "--logging.level.root=WARN",
				"--spring.cloud.gateway.server.webmvc.routes[0].id=demo",
				"--spring.cloud.gateway.server.webmvc.routes[0].uri=lb://demo",
				"--spring.cloud.gateway.server.webmvc.routes[0].predicates[0]=Path=/demo/**",
				// same per-try (read) timeout as the peers get
				"--resilience.gateway.route-defaults.per-try-timeout=1s"));
		for (int i = 0; i < ports.size(); i++) {
			cmd.add("--resilience.gateway.pools.demo.replicas[" + i + "].url=http://127.0.0.1:" + ports.get(i));
		}
		cmd.addAll(extra);
		Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(work.resolve("gateway.log").toFile()).start();
		awaitReady("http://127.0.0.1:" + mgmt + "/actuator/health/readiness", p);
		return new Running(name, "http://127.0.0.1:" + port, p, "", "http://127.0.0.1:" + mgmt);
	}

	/** Stock Spring Cloud Gateway Server MVC (bench/stock-scg): Retry filter, LoadBalancer health checks. */
	/** docker/jvm.options of this repository, from the repository or from bench/ (the smoke test's directory). */
	static Path shippedJvmOptions() {
		for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
			Path options = dir.resolve("docker/jvm.options");
			if (Files.isRegularFile(options)) {
				return options;
			}
		}
		throw new IllegalStateException("docker/jvm.options not found above " + Path.of("").toAbsolutePath());
	}

	private static Running stock(List<Integer> ports, int port, Path work, String javaHome) throws Exception {
		int mgmt = port + 1;
		List<String> cmd = new ArrayList<>(List.of(javaHome + "/bin/java", "-Xms256m", "-Xmx512m", "-jar",
				"bench/stock-scg/target/stock-scg.jar", "--server.port=" + port, "--management.server.port=" + mgmt,
				"--logging.level.root=WARN"));
		for (int i = 0; i < ports.size(); i++) {
			cmd.add("--spring.cloud.discovery.client.simple.instances.demo[" + i + "].uri=http://127.0.0.1:" + ports.get(i));
		}
		Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(work.resolve("stock.log").toFile()).start();
		awaitReady("http://127.0.0.1:" + mgmt + "/actuator/health", p);
		return new Running("stock-scg", "http://127.0.0.1:" + port, p, "");
	}

	private static Running nginx(List<Integer> ports, int port, Path work) throws Exception {
		StringBuilder servers = new StringBuilder();
		for (int p : ports) {
			// passive health: one failure takes a server out for 1 s (nginx OSS has no active checks)
			servers.append("    server 127.0.0.1:").append(p).append(" max_fails=1 fail_timeout=1s;\n");
		}
		String conf = """
				worker_processes 1;
				error_log %1$s/error.log error;
				pid %1$s/nginx.pid;
				events { worker_connections 4096; }
				http {
				  access_log off;
				  upstream demo {
				%2$s    keepalive 64;
				  }
				  server {
				    listen 127.0.0.1:%3$d;
				    location / {
				      proxy_pass http://demo;
				      proxy_http_version 1.1;
				      proxy_set_header Connection "";
				      proxy_connect_timeout 1s;
				      proxy_read_timeout 1s;
				      # try the next replica on errors, timeouts and 5xx; POSTs only when nothing was sent
				      # (non_idempotent is deliberately not listed: it would duplicate writes)
				      proxy_next_upstream error timeout http_500 http_502 http_503 http_504;
				      proxy_next_upstream_tries 3;
				    }
				  }
				}
				""".formatted(work, servers, port);
		Files.writeString(work.resolve("nginx.conf"), conf);
		Process p = new ProcessBuilder("nginx", "-p", work.toString(), "-c", work.resolve("nginx.conf").toString(), "-g",
				"daemon off;").redirectErrorStream(true).redirectOutput(work.resolve("nginx.out").toFile()).start();
		awaitListening(port, p);
		return new Running("nginx", "http://127.0.0.1:" + port, p, "");
	}

	private static Running haproxy(List<Integer> ports, int port, Path work) throws Exception {
		StringBuilder servers = new StringBuilder();
		for (int i = 0; i < ports.size(); i++) {
			// active checks every 1 s (2 to fall, 2 to rise) plus passive: 5 consecutive errors mark it down
			servers.append("  server r").append(i).append(" 127.0.0.1:").append(ports.get(i))
				.append(" check inter 1s fall 2 rise 2 observe layer7 error-limit 5 on-error mark-down\n");
		}
		String cfg = """
				global
				  maxconn 4096
				defaults
				  mode http
				  timeout connect 1s
				  timeout client 30s
				  timeout server 1s
				  # up to 2 retries on another server (redispatch); POSTs are not retried after being sent
				  retries 2
				  option redispatch 1
				  retry-on conn-failure empty-response response-timeout 500 502 503 504
				  http-reuse safe
				frontend fe
				  bind 127.0.0.1:%d
				  default_backend be
				backend be
				  balance leastconn
				  http-request disable-l7-retry if METH_POST
				  option httpchk GET /actuator/health
				  http-check expect status 200
				%s""".formatted(port, servers);
		Files.writeString(work.resolve("haproxy.cfg"), cfg);
		Process p = new ProcessBuilder("haproxy", "-db", "-f", work.resolve("haproxy.cfg").toString()).redirectErrorStream(true)
			.redirectOutput(work.resolve("haproxy.out").toFile())
			.start();
		awaitListening(port, p);
		return new Running("haproxy", "http://127.0.0.1:" + port, p, "");
	}

	private static Running caddy(List<Integer> ports, int port, Path work) throws Exception {
		StringBuilder upstreams = new StringBuilder();
		for (int p : ports) {
			upstreams.append(" 127.0.0.1:").append(p);
		}
		String caddyfile = """
				{
				  admin off
				  auto_https off
				}
				http://127.0.0.1:%d {
				  reverse_proxy%s {
				    lb_policy least_conn
				    # retry other upstreams for up to 2 s (GETs after a failed response; POSTs only on dial errors)
				    lb_try_duration 2s
				    lb_try_interval 50ms
				    # passive: a failure or a 5xx takes an upstream out for 1 s
				    fail_duration 1s
				    max_fails 1
				    unhealthy_status 5xx
				    # active: GET /actuator/health every 1 s
				    health_uri /actuator/health
				    health_interval 1s
				    health_timeout 1s
				    transport http {
				      dial_timeout 1s
				      response_header_timeout 1s
				    }
				  }
				}
				""".formatted(port, upstreams);
		Files.writeString(work.resolve("Caddyfile"), caddyfile);
		Process p = new ProcessBuilder("caddy", "run", "--config", work.resolve("Caddyfile").toString(), "--adapter",
				"caddyfile").redirectErrorStream(true).redirectOutput(work.resolve("caddy.out").toFile()).start();
		awaitListening(port, p);
		return new Running("caddy", "http://127.0.0.1:" + port, p, "");
	}

	private static void awaitReady(String url, Process p) throws Exception {
		HttpClient http = HttpClient.newHttpClient();
		long until = System.nanoTime() + Duration.ofSeconds(60).toNanos();
		while (System.nanoTime() < until && p.isAlive()) {
			try {
				if (http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.discarding())
					.statusCode() == 200) {
					return;
				}
			}
			catch (IOException notYet) {
				// starting
			}
			Thread.sleep(20); // often enough to time the start to a few tens of ms (Benchmark's start table)
		}
		throw new IllegalStateException(p.isAlive() ? "not ready within 60 s: " + url
				: "exited with status " + p.exitValue() + " before it was ready (" + url + "); its output is in the system's work directory");
	}

	private static void awaitListening(int port, Process p) throws Exception {
		long until = System.nanoTime() + Duration.ofSeconds(20).toNanos();
		while (System.nanoTime() < until && p.isAlive()) {
			try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
				return;
			}
			catch (IOException notYet) {
				Thread.sleep(10);
			}
		}
		throw new IllegalStateException("not listening on " + port + (p.isAlive() ? "" : " (exited " + p.exitValue() + ")"));
	}

	/** CPU seconds (user + system) the process and its children (nginx's workers) have used so far, from /proc. */
	static double cpuSeconds(Process p) {
		double total = cpuSeconds(p.pid());
		for (ProcessHandle child : p.descendants().toList()) {
			total += Math.max(0, cpuSeconds(child.pid()));
		}
		return total;
	}

	private static double cpuSeconds(long pid) {
		try {
			String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
			String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
			return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0; // utime, stime in clock ticks (USER_HZ 100)
		}
		catch (IOException | RuntimeException e) {
			return 0;
		}
	}

	static long rssKb(Process p) {
		try {
			for (String line : Files.readAllLines(new File("/proc/" + p.pid() + "/status").toPath())) {
				if (line.startsWith("VmRSS:")) {
					return Long.parseLong(line.replaceAll("[^0-9]", ""));
				}
			}
		}
		catch (IOException e) {
			return -1;
		}
		return -1;
	}

}
