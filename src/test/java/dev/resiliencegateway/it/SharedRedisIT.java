package dev.resiliencegateway.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

import com.sun.net.httpserver.HttpServer;

import dev.resiliencegateway.GatewayApplication;
import dev.resiliencegateway.idempotency.RedisServer;

/**
 * Two gateway copies (two Spring contexts in this JVM, as two pods would be) share one real Redis
 * and one replica that counts what it executes. A client's POST with an Idempotency-Key executes
 * once, whichever copy its retries reach: after a gateway-side timeout the retry gets the kept
 * unknown outcome (504) instead of a second order; duplicates in flight get 409; another body 422;
 * with Redis gone a fail-open route still forwards and a fail-closed one answers 503, both at once.
 * A rate limit of 10 per second per client holds across both copies (each alone would allow twice
 * as many: with the memory store this test saw 24 pass), and with Redis gone it lets requests through.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SharedRedisIT {

	private static RedisServer redis;

	private static HttpServer replica;

	/** Executions per request path and body, as the replica saw them. */
	private static final Map<String, AtomicInteger> EXECUTED = new ConcurrentHashMap<>();

	private static final List<ConfigurableApplicationContext> COPIES = new ArrayList<>();

	private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

	@BeforeAll
	static void start() throws Exception {
		redis = RedisServer.start();
		replica = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 100);
		replica.setExecutor(Executors.newCachedThreadPool());
		replica.createContext("/", exchange -> {
			String path = exchange.getRequestURI().getPath();
			byte[] body = exchange.getRequestBody().readAllBytes();
			int n = EXECUTED.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
			try {
				if (path.contains("/slow/")) {
					Thread.sleep(Long.parseLong(path.substring(path.lastIndexOf('/') + 1)));
				}
			}
			catch (InterruptedException e) {
				Thread.currentThread().interrupt();
			}
			byte[] answer = ("{\"order\":\"" + path + "\",\"execution\":" + n + ",\"bytes\":" + body.length + "}")
				.getBytes(StandardCharsets.UTF_8);
			exchange.getResponseHeaders().set("Content-Type", "application/json");
			exchange.getResponseHeaders().set("Location", path);
			try {
				exchange.sendResponseHeaders(201, answer.length);
				exchange.getResponseBody().write(answer);
			}
			catch (IOException e) {
				// the gateway gave up on this one (its per-try timeout): the order was executed anyway
			}
			exchange.close();
		});
		replica.start();
		COPIES.add(copy());
		COPIES.add(copy());
	}

	private static ConfigurableApplicationContext copy() {
		String r = "--spring.cloud.gateway.server.webmvc.routes";
		return new SpringApplicationBuilder(GatewayApplication.class).run("--server.port=0", "--management.server.port=0",
				"--resilience.gateway.warm-up.enabled=false",
				"--resilience.gateway.pools.orders.replicas[0].url=http://127.0.0.1:" + replica.getAddress().getPort(),
				"--resilience.gateway.pools.orders.health-check.enabled=false",
				r + "[0].id=orders", r + "[0].uri=lb://orders", r + "[0].predicates[0]=Path=/orders/**",
				r + "[1].id=payments", r + "[1].uri=lb://orders", r + "[1].predicates[0]=Path=/payments/**",
				r + "[2].id=limited", r + "[2].uri=lb://orders", r + "[2].predicates[0]=Path=/limited/**",
				"--resilience.gateway.routes.limited.rate-limit.requests=10",
				"--resilience.gateway.routes.limited.rate-limit.period=1s",
				"--resilience.gateway.routes.limited.rate-limit.key-header=X-Api-Key",
				"--resilience.gateway.rate-limits.store=redis",
				"--resilience.gateway.routes.orders.per-try-timeout=500ms",
				"--resilience.gateway.routes.orders.idempotency.enabled=true",
				"--resilience.gateway.routes.payments.idempotency.enabled=true",
				"--resilience.gateway.routes.payments.idempotency.on-store-failure=closed",
				"--resilience.gateway.idempotency.store=redis",
				"--spring.data.redis.host=127.0.0.1", "--spring.data.redis.port=" + redis.port());
	}

	@AfterAll
	static void stop() throws Exception {
		COPIES.forEach(ConfigurableApplicationContext::close);
		if (replica != null) {
			replica.stop(0);
		}
		if (redis != null) {
			redis.close();
		}
	}

	private static HttpResponse<String> post(int copy, String path, String key, String body) throws Exception {
		int port = ((WebServerApplicationContext) COPIES.get(copy)).getWebServer().getPort();
		HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
			.timeout(Duration.ofSeconds(10))
			.header("Content-Type", "application/json")
			.POST(HttpRequest.BodyPublishers.ofString(body));
		if (key != null) {
			request.header("Idempotency-Key", key);
		}
		return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
	}

	private static int executed(String path) {
		AtomicInteger n = EXECUTED.get(path);
		return n == null ? 0 : n.get();
	}

	@Test
	@Order(1)
	void aRetryThroughTheOtherCopyGetsTheKeptAnswer() throws Exception {
		HttpResponse<String> first = post(0, "/orders/a", "\"key-a\"", "{\"item\":1}");
		assertThat(first.statusCode()).isEqualTo(201);
		HttpResponse<String> retry = post(1, "/orders/a", "\"key-a\"", "{\"item\":1}");
		assertThat(retry.statusCode()).isEqualTo(201);
		assertThat(retry.body()).isEqualTo(first.body());
		assertThat(retry.headers().firstValue("Location")).hasValue("/orders/a");
		assertThat(retry.headers().firstValue("Idempotent-Replayed")).hasValue("true");
		assertThat(executed("/orders/a")).isEqualTo(1);
	}

	@Test
	@Order(2)
	void aPostThatTimedOutAtTheGatewayButExecutedIsNotExecutedAgainThroughTheOtherCopy() throws Exception {
		HttpResponse<String> first = post(0, "/orders/slow/1200", "key-b", "{\"item\":2}");
		assertThat(first.statusCode()).as("the per-try timeout (500 ms) passed").isEqualTo(504);
		Thread.sleep(1_000); // the replica finishes executing it
		assertThat(executed("/orders/slow/1200")).isEqualTo(1);
		HttpResponse<String> retry = post(1, "/orders/slow/1200", "key-b", "{\"item\":2}");
		assertThat(retry.statusCode()).isEqualTo(504);
		assertThat(retry.headers().firstValue("Content-Type")).hasValue("application/problem+json");
		assertThat(retry.headers().firstValue("Idempotent-Replayed")).hasValue("true");
		assertThat(retry.body()).contains("may have executed");
		assertThat(executed("/orders/slow/1200")).as("the order was placed once").isEqualTo(1);
	}

	@Test
	@Order(3)
	void aDuplicateInFlightOnTheOtherCopyGets409() throws Exception {
		CompletableFuture<HttpResponse<String>> first = CompletableFuture.supplyAsync(() -> {
			try {
				return post(0, "/orders/slow/300", "key-c", "{\"item\":3}");
			}
			catch (Exception e) {
				throw new IllegalStateException(e);
			}
		});
		for (int i = 0; i < 200 && executed("/orders/slow/300") == 0; i++) {
			Thread.sleep(10);
		}
		HttpResponse<String> duplicate = post(1, "/orders/slow/300", "key-c", "{\"item\":3}");
		assertThat(duplicate.statusCode()).isEqualTo(409);
		assertThat(first.get().statusCode()).isEqualTo(201);
		assertThat(post(1, "/orders/slow/300", "key-c", "{\"item\":3}").headers().firstValue("Idempotent-Replayed"))
			.hasValue("true");
		assertThat(executed("/orders/slow/300")).isEqualTo(1);
	}

	@Test
	@Order(4)
	void theSameKeyWithAnotherBodyGets422OnEitherCopy() throws Exception {
		assertThat(post(0, "/orders/d", "key-d", "{\"item\":4}").statusCode()).isEqualTo(201);
		assertThat(post(1, "/orders/d", "key-d", "{\"item\":5}").statusCode()).isEqualTo(422);
		assertThat(post(0, "/orders/d", "key-d", "{\"item\":5}").statusCode()).isEqualTo(422);
		assertThat(executed("/orders/d")).isEqualTo(1);
	}

	@Test
	@Order(5)
	void aMalformedKeyGets400AndReachesNoReplica() throws Exception {
		HttpResponse<String> out = post(0, "/orders/e", "\"unterminated", "{}");
		assertThat(out.statusCode()).isEqualTo(400);
		assertThat(out.body()).contains("closing quote");
		assertThat(executed("/orders/e")).isZero();
	}

	private static HttpResponse<String> limited(int copy, String apiKey) throws Exception {
		int port = ((WebServerApplicationContext) COPIES.get(copy)).getWebServer().getPort();
		return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/limited/x"))
			.timeout(Duration.ofSeconds(10)).header("X-Api-Key", apiKey).GET().build(), HttpResponse.BodyHandlers.ofString());
	}

	@Test
	@Order(10)
	void aRateLimitHoldsAcrossBothCopies() throws Exception {
		limited(0, "warm-up");
		limited(1, "warm-up");
		int allowed = 0;
		HttpResponse<String> refused = null;
		long start = System.nanoTime();
		for (int i = 0; i < 40; i++) {
			HttpResponse<String> r = limited(i % 2, "client-a");
			if (r.statusCode() == 201) {
				allowed++;
			}
			else {
				assertThat(r.statusCode()).isEqualTo(429);
				refused = r;
			}
		}
		double seconds = (System.nanoTime() - start) / 1e9;
		// 10 at once, then one every 100 ms: per copy alone it would be 20 and more
		assertThat(allowed).as("allowed %d in %.2f s", allowed, seconds)
			.isBetween(10, 10 + (int) Math.ceil(seconds * 10) + 1);
		assertThat(refused).isNotNull();
		assertThat(refused.headers().firstValue("Content-Type")).hasValue("application/problem+json");
		assertThat(refused.headers().firstValue("Retry-After")).hasValue("1");
		assertThat(refused.headers().firstValue("RateLimit-Limit")).hasValue("10");
		assertThat(refused.headers().firstValue("RateLimit-Remaining")).hasValue("0");
		assertThat(limited(0, "client-b").statusCode()).as("another client has its own bucket").isEqualTo(201);
	}

	/** Last: it stops Redis. */
	@Test
	@Order(99)
	void withRedisGoneFailOpenForwardsAndFailClosedRefusesWithoutWaiting() throws Exception {
		redis.stop();
		long start = System.nanoTime();
		HttpResponse<String> open = post(0, "/orders/f", "key-f", "{}");
		HttpResponse<String> closed = post(1, "/payments/f", "key-f", "{}");
		Duration took = Duration.ofNanos(System.nanoTime() - start);
		assertThat(open.statusCode()).as("fail-open: forwarded without the key's protection").isEqualTo(201);
		assertThat(closed.statusCode()).as("fail-closed").isEqualTo(503);
		assertThat(closed.body()).contains("Idempotency-Keys");
		assertThat(executed("/payments/f")).isZero();
		assertThat(took).as("neither waited on Redis").isLessThan(Duration.ofSeconds(3));
		var metrics = COPIES.get(0).getBean(io.micrometer.core.instrument.MeterRegistry.class)
			.find("gateway.idempotency").tag("result", "store-failure").counter();
		assertThat(metrics).isNotNull();
		assertThat(metrics.count()).isPositive();
		// a rate limit whose store is gone lets requests through rather than refusing them all
		for (int i = 0; i < 15; i++) {
			assertThat(limited(i % 2, "client-c").statusCode()).isEqualTo(201);
		}
	}

}
