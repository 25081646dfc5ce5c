package dev.resiliencegateway.exchange;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;

import org.springframework.http.converter.HttpMessageConverter;
import org.springframework.http.converter.StringHttpMessageConverter;
import org.springframework.http.converter.json.MappingJackson2HttpMessageConverter;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;
import org.springframework.web.servlet.function.HandlerFunction;
import org.springframework.web.servlet.function.ServerRequest;
import org.springframework.web.servlet.function.ServerResponse;

import dev.resiliencegateway.clock.FakeTicker;
import dev.resiliencegateway.config.GatewayConfig;
import dev.resiliencegateway.config.GatewayConfig.RoutePolicy;
import dev.resiliencegateway.config.TrustedProxies;
import dev.resiliencegateway.edge.AccessLog;
import dev.resiliencegateway.edge.RequestEnd;
import dev.resiliencegateway.exchange.transport.ClientDisconnects;
import dev.resiliencegateway.health.HealthPolicy;
import dev.resiliencegateway.health.PoolHealth;
import dev.resiliencegateway.health.ReplicaEvent;
import dev.resiliencegateway.health.ReplicaHealth;
import dev.resiliencegateway.outcome.Outcome;
import dev.resiliencegateway.pool.Replica;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * The exchange on a fake clock against a {@link FakeUpstream}: no sockets, no Spring context. Three
 * replicas a, b, c; requests are mock servlet requests, answers are written to mock responses.
 */
final class ExchangeFixture implements AutoCloseable {

	static final Replica A = Replica.of(URI.create("http://a.test:8080"), 1);

	static final Replica B = Replica.of(URI.create("http://b.test:8080"), 1);

	static final Replica C = Replica.of(URI.create("http://c.test:8080"), 1);

	final FakeTicker ticker = new FakeTicker();

	final FakeUpstream upstream = new FakeUpstream();

	final SimpleMeterRegistry meters = new SimpleMeterRegistry();

	final List<ReplicaEvent> events = new CopyOnWriteArrayList<>();

	final PoolHealth pool;

	private final ClientDisconnects disconnects = ClientDisconnects.start();

	private final ResilientExchange exchange;

	private static final List<HttpMessageConverter<?>> CONVERTERS = List.of(
			new org.springframework.http.converter.ByteArrayHttpMessageConverter(), new StringHttpMessageConverter(),
			new MappingJackson2HttpMessageConverter());

	ExchangeFixture(Replica... replicas) {
		PoolHealth.Environment env = PoolHealth.Environment.of(ticker, InstantSource.fixed(Instant.EPOCH), new Random(7),
				events::add, CircuitBreaker::ofDefaults);
		this.pool = new PoolHealth("orders", HealthPolicy.DEFAULTS, env, List.of(replicas));
		GatewayConfig config = new GatewayConfig(TrustedProxies.NONE, true,
				new GatewayConfig.UpstreamSettings(Duration.ofSeconds(1), 16, 64, Duration.ofSeconds(30), 8192), Map.of(),
				GatewayConfig.DEFAULT_ROUTE, Map.of(), GatewayConfig.DEFAULT_EDGE);
		this.exchange = new ResilientExchange(upstream, config, ticker, new GatewayMetrics(meters),
				new Hedging(upstream, upstream.executor(), upstream.waitOnFakeClock(ticker)), disconnects,
				new dev.resiliencegateway.idempotency.InMemoryIdempotencyStore(1000), InstantSource.fixed(Instant.EPOCH),
				new dev.resiliencegateway.limits.LocalRateLimiter(1000, Duration.ofMinutes(1)));
	}

	/** Attempt spans for the routes made after this call. */
	void tracing(AttemptTracing tracing) {
		exchange.setTracing(tracing);
	}

	HandlerFunction<ServerResponse> route(RoutePolicy policy) {
		return route(policy, 512);
	}

	HandlerFunction<ServerResponse> route(RoutePolicy policy, int maxConcurrentPerReplica) {
		return exchange.handlerFor("orders", pool, policy, maxConcurrentPerReplica);
	}

	/** Sends one request through {@code route} and writes its answer out, as Spring MVC would. */
	MockHttpServletResponse send(HandlerFunction<ServerResponse> route, String method, String path, String body,
			String... headers) throws Exception {
		MockHttpServletRequest servlet = new MockHttpServletRequest(method, path);
		for (int i = 0; i < headers.length; i += 2) {
			servlet.addHeader(headers[i], headers[i + 1]);
		}
		if (body != null) {
			servlet.setContent(body.getBytes(StandardCharsets.UTF_8));
			servlet.setContentType("text/plain");
		}
		MockHttpServletResponse out = new MockHttpServletResponse();
		ServerResponse response = route.handle(ServerRequest.create(servlet, CONVERTERS));
		response.writeTo(servlet, out, () -> CONVERTERS);
		upstream.settle(); // a losing hedge ends on its own thread
		return out;
	}

	/** Hands one request to {@code route} and keeps its answer unwritten, with the request it came on. */
	Handled handle(HandlerFunction<ServerResponse> route, String method, String path) throws Exception {
		MockHttpServletRequest servlet = new MockHttpServletRequest(method, path);
		return new Handled(servlet, route.handle(ServerRequest.create(servlet, CONVERTERS)));
	}

	record Handled(MockHttpServletRequest servlet, ServerResponse response) {

		/** Writes the answer, as Spring MVC would. */
		MockHttpServletResponse write() throws Exception {
			MockHttpServletResponse out = new MockHttpServletResponse();
			response.writeTo(servlet, out, () -> CONVERTERS);
			return out;
		}

		/** The request's dispatch returned, as {@code edge.EdgeFilter} says it. */
		void end() {
			((RequestEnd) servlet.getAttribute(AccessLog.EXCHANGE)).requestEnded();
		}

	}

	List<ResilientExchange.RouteAvailability> availability() {
		return exchange.availability();
	}

	/** Attempts the metrics recorded for a replica and outcome. */
	long attempts(Replica replica, Outcome outcome) {
		Counter c = meters.find("gateway.attempts").tag("replica", replica.id()).tag("outcome", outcome.name()).counter();
		return c == null ? 0 : (long) c.count();
	}

	ReplicaHealth health(Replica replica) {
		return pool.replicas().stream().filter(r -> r.replica().equals(replica)).findFirst().orElseThrow();
	}

	@Override
	public void close() {
		disconnects.close();
	}

}
