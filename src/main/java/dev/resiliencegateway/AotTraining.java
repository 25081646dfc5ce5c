package dev.resiliencegateway;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.web.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

import dev.resiliencegateway.demo.DemoReplica;

/**
 * The training run of the JDK's AOT cache (JEP 483/514/515; {@code docker/aot-cache.sh}): the whole
 * start up to readiness, as the gateway starts in production (both ports, the failure-path
 * warm-up), then a few hundred requests through the exchange to a replica on loopback, then a
 * normal exit, at which the JVM writes the cache. A run that stopped once the context had refreshed
 * ({@code spring.context.exit=onRefresh}, Spring Boot's advice for CDS) left out everything after it:
 * both web servers' start, the management port's context and the request path; from this fuller
 * training the gateway became ready about half a second sooner (docs/performance.md, "Start").
 *
 * <p>Arguments are the gateway's; this class adds a pool {@code training} whose one replica is a
 * {@link DemoReplica} on 127.0.0.1, and a route {@code /training/**} to it. Nothing leaves the machine.
 * Not for production use: it exits as soon as its requests are answered.
 */
public final class AotTraining {

	private static final int REQUESTS = 300;

	private AotTraining() {
	}

	public static void main(String[] args) throws Exception {
		try (DemoReplica replica = new DemoReplica("training", 0).start()) {
			List<String> all = new ArrayList<>(List.of(args));
			String route = "--spring.cloud.gateway.server.webmvc.routes[0].";
			all.add(route + "id=training");
			all.add(route + "uri=lb://training");
			all.add(route + "predicates[0]=Path=/training/**");
			all.add("--resilience.gateway.pools.training.replicas[0].url=" + replica.url());
			ConfigurableApplicationContext context = SpringApplication.run(GatewayApplication.class, all.toArray(String[]::new));
			int port = ((WebServerApplicationContext) context).getWebServer().getPort();
			int ok = 0;
			for (int i = 0; i < REQUESTS; i++) {
				boolean post = i % 4 == 3;
				ok += request(port, post ? "POST" : "GET", "/training/item/" + i, post ? "{\"n\":" + i + "}" : null) ? 1 : 0;
			}
			System.out.println("AOT training: " + ok + " of " + REQUESTS + " requests answered 2xx");
			int status = SpringApplication.exit(context);
			System.exit(status != 0 ? status : ok == REQUESTS ? 0 : 1);
		}
	}

	/** One request on its own connection (the gateway's client side stays out of the cache's classes). */
	private static boolean request(int port, String method, String path, String body) throws IOException {
		try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
			socket.setSoTimeout(5000);
			byte[] content = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
			String head = method + " " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
					+ (body == null ? "" : "Content-Type: application/json\r\nContent-Length: " + content.length + "\r\n")
					+ "\r\n";
			OutputStream out = socket.getOutputStream();
			out.write(head.getBytes(StandardCharsets.US_ASCII));
			out.write(content);
			out.flush();
			InputStream in = socket.getInputStream();
			byte[] status = in.readNBytes(12); // "HTTP/1.1 200"
			in.transferTo(OutputStream.nullOutputStream());
			return status.length == 12 && status[9] == '2';
		}
	}

}
