package dev.resiliencegateway.exchange;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.springframework.web.servlet.function.HandlerFunction;
import org.springframework.web.servlet.function.RouterFunction;
import org.springframework.web.servlet.function.RouterFunctions;
import org.springframework.web.servlet.function.ServerRequest;
import org.springframework.web.servlet.function.ServerResponse;

import dev.resiliencegateway.config.GatewayConfig;
import dev.resiliencegateway.config.GatewayConfig.RoutePolicy;
import dev.resiliencegateway.exchange.transport.ClientDisconnects;
import dev.resiliencegateway.exchange.transport.RequestBody;
import dev.resiliencegateway.exchange.transport.UpstreamClient;
import dev.resiliencegateway.idempotency.InMemoryIdempotencyStore;
import dev.resiliencegateway.health.HealthPolicy;
import dev.resiliencegateway.health.PoolHealth;
import dev.resiliencegateway.clock.Ticker;
import dev.resiliencegateway.pool.Replica;
import dev.resiliencegateway.support.Threads;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * Runs the gateway's failure paths once, through Tomcat and Spring MVC, before the gateway reports
 * ready: a 504 from a replica that never answers and a 503 from one that refuses connections, for
 * a POST and a GET. Ordinary traffic warms the happy path; failures are rare by nature, so their
 * code stays cold, and the first client to meet one after startup paid for loading and
 * interpreting it: in the benchmark its 504 came 40-50 ms after the per-try timeout, against 3-7 ms
 * for the next ones.
 *
 * <p>The warm-up requests go to the gateway's own port over loopback, to a router function that
 * matches only its path with a random per-process token, from loopback, until the warm-up is
 * over. Their replicas are a loopback socket that accepts connections and never answers and a port
 * nothing listens on, in a throwaway pool with its own meter registry: nothing of it shows in
 * health, metrics or events. Any failure of the warm-up itself is logged and ignored.
 */
public final class FailurePathWarmup {

	private static final Log log = LogFactory.getLog(FailurePathWarmup.class);

	static final String PATH = "/.resilience-gateway/warm-up";

	static final String TOKEN_HEADER = "X-Warm-Up-Token";

	private final String token = UUID.randomUUID().toString();

	private static final byte[] WARM_UP_BODY = "warm-up".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

	private static final long REQUEST_TIMEOUT = Duration.ofSeconds(5).toNanos();

	/**
	 * The per-try timeout of the requests to the replica that never answers: the 504 path runs the
	 * same however long it waits, and the four such requests are waited for in turn before readiness.
	 */
	private static final long HANG_MILLIS = 10;

	private final List<Integer> statuses = new CopyOnWriteArrayList<>();

	private final UpstreamClient client;

	private final ServerSocket silent;

	private final HandlerFunction<ServerResponse> hang;

	private final HandlerFunction<ServerResponse> refuse;

	private volatile boolean open = true;

	/** @param environment for the throwaway pools: it should publish no events and register no breakers */
	public FailurePathWarmup(UpstreamClient client, GatewayConfig config, ClientDisconnects disconnects,
			PoolHealth.Environment environment) throws IOException {
		this.client = client;
		// a listening socket that is never accepted from: the kernel completes connections, nobody answers
		this.silent = new ServerSocket();
		this.silent.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
		int nobody;
		try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
			nobody = s.getLocalPort();
		}
		ResilientExchange exchange = new ResilientExchange(client, config, Ticker.SYSTEM,
				new GatewayMetrics(new SimpleMeterRegistry()), Threads.perTask("warm-up-hedge"), disconnects,
				new InMemoryIdempotencyStore(1), new dev.resiliencegateway.limits.LocalRateLimiter(1, Duration.ofSeconds(1)));
		RoutePolicy policy = GatewayConfig.DEFAULT_ROUTE.withAttempts(1, Duration.ofMillis(HANG_MILLIS), Duration.ofSeconds(1))
			.withLimits(1024 * 1024, 100, 0);
		this.hang = exchange.handlerFor("warm-up", pool("http://127.0.0.1:" + silent.getLocalPort(), environment),
				policy, 100);
		this.refuse = exchange.handlerFor("warm-up", pool("http://127.0.0.1:" + nobody, environment), policy, 100);
	}

	private static PoolHealth pool(String url, PoolHealth.Environment environment) {
		return new PoolHealth("warm-up", HealthPolicy.DEFAULTS, environment, List.of(Replica.of(URI.create(url), 1)));
	}

	/** The warm-up's route; it matches nothing once {@link #run} is over. */
	public RouterFunction<ServerResponse> routes() {
		return RouterFunctions.route(this::matches,
				request -> (request.param("fault").filter("hang"::equals).isPresent() ? hang : refuse).handle(request));
	}

	private boolean matches(ServerRequest request) {
		if (!open || !PATH.equals(request.path()) || !token.equals(request.headers().firstHeader(TOKEN_HEADER))) {
			return false;
		}
		try {
			return InetAddress.getByName(request.servletRequest().getRemoteAddr()).isLoopbackAddress();
		}
		catch (IOException e) {
			return false;
		}
	}

	/**
	 * Sends the warm-up requests to {@code baseUrl} (the gateway's own port) and closes the route.
	 * Called once the web server listens and before the gateway reports ready.
	 */
	public void run(String baseUrl) {
		long start = System.nanoTime();
		// sent with the gateway's own upstream client (its classes are loaded anyway; the JDK's HTTP
		// client would be loaded for these eight requests only), to the gateway itself as the "replica"
		Replica self = Replica.of(URI.create(baseUrl), 1);
		try {
			for (int round = 0; round < 2; round++) {
				for (String fault : new String[] { "hang", "refuse" }) {
					for (boolean post : new boolean[] { true, false }) {
						String target = PATH + "?fault=" + fault;
						UpstreamClient.Call call = client.prepare(self, post ? "POST" : "GET", target,
								List.of(TOKEN_HEADER, token),
								post ? RequestBody.of(WARM_UP_BODY, "text/plain") : RequestBody.none(), REQUEST_TIMEOUT);
						if (call == null) {
							throw new IOException("the upstream client refused " + target);
						}
						UpstreamClient.Result result = client.execute(call, false);
						if (!result.answered()) {
							throw new IOException(baseUrl + target + ": " + result.failure() + " " + result.detail());
						}
						try (InputStream body = result.response().body()) {
							if (body != null) {
								body.transferTo(OutputStream.nullOutputStream());
							}
						}
						result.release();
						statuses.add(result.status());
					}
				}
			}
			log.debug("Failure paths warmed up in " + (System.nanoTime() - start) / 1_000_000 + " ms: " + statuses);
		}
		catch (IOException | RuntimeException e) {
			log.info("Warming up the failure paths did not complete (the gateway works the same, only its first "
					+ "failure answers more slowly): " + e);
		}
		finally {
			open = false;
			try {
				silent.close();
			}
			catch (IOException e) {
				// nothing to do
			}
		}
	}

	/** The per-process token the warm-up route asks for (it matches nothing once the warm-up is over). */
	public String token() {
		return token;
	}

	/** The statuses the warm-up requests got (504s from the silent replica, 503s from the refusing one). */
	public List<Integer> statuses() {
		return List.copyOf(statuses);
	}

}
