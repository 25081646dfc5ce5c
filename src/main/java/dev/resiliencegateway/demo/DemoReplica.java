package dev.resiliencegateway.demo;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import dev.resiliencegateway.support.Threads;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * A small, real HTTP replica whose behaviour can be switched at run time, for the demo, the tests
 * and the benchmark. Plain JDK (no Spring), so it starts in milliseconds and never leaks into the
 * gateway's beans.
 *
 * <ul>
 * <li>{@code GET /anything}: JSON hello with the replica id, the path and the request id</li>
 * <li>{@code POST /anything}: records the request id as executed, echoes the body</li>
 * <li>{@code GET /actuator/health}: Spring Boot style {@code {"status":"UP"}} (DOWN gives 503)</li>
 * <li>{@code POST /control/mode?mode=M[&rate=0.5][&delay=1500]}: healthy, failing (500 for a
 * fraction {@code rate} of requests), slow (+{@code delay} ms), hanging (never answers), reset (closes
 * the connection without answering), unhealthy (health DOWN, traffic fine), out-of-service, or
 * lying-health (health UP, every request 500)</li>
 * <li>{@code GET /control/stats}: requests served and POST executions per request id</li>
 * </ul>
 * Control and health requests bypass the traffic faults.
 */
public final class DemoReplica implements AutoCloseable {

	public enum Mode {
		HEALTHY, FAILING, SLOW, HANGING, RESET, UNHEALTHY, OUT_OF_SERVICE, LYING_HEALTH
	}

	/** A request as it reached this replica: for tests that check what the gateway forwarded. */
	public record Recorded(String method, String path, Map<String, List<String>> headers, String requestId) {
	}

	static {
		// the JDK server writes headers and body separately; without this Nagle + delayed ACK add 40 ms
		System.setProperty("sun.net.httpserver.nodelay", "true");
	}

	private final String id;

	private final int requestedPort;

	private HttpServer server;

	private volatile int boundPort;

	private volatile boolean running;

	private ExecutorService executor;

	private volatile Mode mode = Mode.HEALTHY;

	private volatile double failRate = 1.0;

	private volatile long delayMillis = 1500;

	private volatile CountDownLatch hang = new CountDownLatch(1);

	private final AtomicLong served = new AtomicLong();

	private final AtomicLong healthChecks = new AtomicLong();

	private final Map<String, AtomicInteger> executions = new ConcurrentHashMap<>();

	private final ConcurrentLinkedQueue<Recorded> recorded = new ConcurrentLinkedQueue<>();

	private volatile boolean record;

	private volatile ArrivalLog arrivals;

	/** Told of every traffic request that reaches the replica (for the benchmark's timelines). */
	@FunctionalInterface
	public interface ArrivalLog {
		void arrived(String replicaId);
	}

	public void setArrivalLog(ArrivalLog log) {
		this.arrivals = log;
	}

	private final String bindAddress;

	/** A replica on 127.0.0.1; port 0 picks a free one. */
	public DemoReplica(String id, int port) {
		this(id, port, "127.0.0.1");
	}

	public DemoReplica(String id, int port, String bindAddress) {
		this.id = id;
		this.requestedPort = port;
		this.bindAddress = bindAddress;
	}

	public String id() {
		return id;
	}

	/** Starts (or restarts, on the same port) the server. */
	public synchronized DemoReplica start() throws IOException {
		int port = boundPort > 0 ? boundPort : requestedPort;
		stopServer();
		server = HttpServer.create(new InetSocketAddress(bindAddress, port), 1024);
		boundPort = server.getAddress().getPort();
		executor = Threads.perTask("demo-replica"); // a hanging replica then costs no platform thread
		server.setExecutor(executor);
		server.createContext("/", this::handle);
		server.start();
		running = true;
		return this;
	}

	public boolean isRunning() {
		return running;
	}

	/** Stops accepting and drops open connections, like a crash: clients see connection refused. */
	public synchronized void crash() {
		stopServer();
	}

	private void stopServer() {
		running = false;
		if (server != null) {
			hang.countDown();
			server.stop(0);
			executor.shutdownNow();
			hang = new CountDownLatch(1);
		}
	}

	public int port() {
		return boundPort;
	}

	/** Its base URL: on its bind address (127.0.0.1 when bound to every interface). */
	public String url() {
		return "http://" + ("0.0.0.0".equals(bindAddress) ? "127.0.0.1" : bindAddress) + ":" + port();
	}

	public void setMode(Mode mode) {
		setMode(mode, 1.0, 1500);
	}

	public synchronized void setMode(Mode mode, double rate, long delayMillis) {
		this.failRate = rate;
		this.delayMillis = delayMillis;
		Mode previous = this.mode;
		this.mode = mode;
		if (previous == Mode.HANGING && mode != Mode.HANGING) {
			hang.countDown();
			hang = new CountDownLatch(1);
		}
	}

	public Mode mode() {
		return mode;
	}

	/** Traffic requests that reached this replica (answered or not). */
	public long served() {
		return served.get();
	}

	/** {@code GET /actuator/health} requests that reached this replica. */
	public long healthChecks() {
		return healthChecks.get();
	}

	/** POST executions per request id. */
	public Map<String, Integer> executions() {
		Map<String, Integer> out = new java.util.HashMap<>();
		executions.forEach((k, v) -> out.put(k, v.get()));
		return out;
	}

	public void recordRequests(boolean on) {
		this.record = on;
	}

	public List<Recorded> recorded() {
		return new ArrayList<>(recorded);
	}

	public void resetStats() {
		served.set(0);
		executions.clear();
		recorded.clear();
	}

	private void handle(HttpExchange ex) throws IOException {
		try (ex) {
			String path = ex.getRequestURI().getRawPath();
			if (path.startsWith("/control/")) {
				control(ex, path);
				return;
			}
			if (path.equals("/actuator/health")) {
				health(ex);
				return;
			}
			traffic(ex, path);
		}
	}

	private void traffic(HttpExchange ex, String path) throws IOException {
		served.incrementAndGet();
		ArrivalLog log = arrivals;
		if (log != null) {
			log.arrived(id);
		}
		byte[] body = DemoHttp.readAll(ex.getRequestBody());
		String requestId = ex.getRequestHeaders().getFirst("X-Request-Id");
		if (record) {
			recorded.add(new Recorded(ex.getRequestMethod(), ex.getRequestURI().toString(), DemoHttp.copy(ex.getRequestHeaders()),
					requestId));
		}
		Mode m = mode;
		switch (m) {
			case HANGING -> {
				try {
					hang.await(10, TimeUnit.MINUTES);
				}
				catch (InterruptedException e) {
					Thread.currentThread().interrupt();
				}
				return; // closes without an answer once released
			}
			case RESET -> {
				return; // closing the exchange without a response drops the connection
			}
			case SLOW -> DemoHttp.sleep(delayMillis);
			default -> {
			}
		}
		boolean fail = (m == Mode.FAILING && ThreadLocalRandom.current().nextDouble() < failRate)
				|| m == Mode.LYING_HEALTH;
		if (fail) {
			DemoHttp.send(ex, 500, "{\"replica\":\"" + id + "\",\"error\":\"injected failure\"}");
			return;
		}
		if (ex.getRequestMethod().equals("POST") && requestId != null) {
			executions.computeIfAbsent(requestId, k -> new AtomicInteger()).incrementAndGet();
		}
		if (ex.getRequestMethod().equals("POST") || ex.getRequestMethod().equals("PUT")) {
			ex.getResponseHeaders().set("Content-Type", "application/octet-stream");
			ex.sendResponseHeaders(200, body.length == 0 ? -1 : body.length);
			try (OutputStream out = ex.getResponseBody()) {
				out.write(body);
			}
			return;
		}
		DemoHttp.send(ex, 200, "{\"replica\":\"" + id + "\",\"path\":\"" + DemoHttp.escape(path) + "\",\"requestId\":\""
				+ DemoHttp.escape(String.valueOf(requestId)) + "\"}");
	}

	private void health(HttpExchange ex) throws IOException {
		healthChecks.incrementAndGet();
		String status = switch (mode) {
			case UNHEALTHY -> "DOWN";
			case OUT_OF_SERVICE -> "OUT_OF_SERVICE";
			default -> "UP";
		};
		DemoHttp.send(ex, status.equals("UP") ? 200 : 503, "{\"status\":\"" + status + "\"}");
	}

	private void control(HttpExchange ex, String path) throws IOException {
		DemoHttp.readAll(ex.getRequestBody());
		Map<String, String> q = DemoHttp.query(ex.getRequestURI().getRawQuery());
		switch (path) {
			case "/control/mode" -> {
				try {
					Mode m = Mode.valueOf(q.getOrDefault("mode", "healthy").toUpperCase(Locale.ROOT).replace('-', '_'));
					setMode(m, Double.parseDouble(q.getOrDefault("rate", "1.0")),
							Long.parseLong(q.getOrDefault("delay", "1500")));
					DemoHttp.send(ex, 200, "{\"replica\":\"" + id + "\",\"mode\":\"" + m + "\"}");
				}
				catch (IllegalArgumentException e) {
					DemoHttp.send(ex, 400, "{\"error\":\"mode is one of healthy, failing, slow, hanging, reset, unhealthy, out-of-service, lying-health; rate 0..1; delay in ms\"}");
				}
			}
			case "/control/stats" -> {
				StringBuilder sb = new StringBuilder("{\"replica\":\"").append(id).append("\",\"mode\":\"").append(mode)
					.append("\",\"served\":").append(served.get()).append(",\"executions\":{");
				boolean first = true;
				for (Map.Entry<String, AtomicInteger> e : executions.entrySet()) {
					sb.append(first ? "" : ",").append('"').append(DemoHttp.escape(e.getKey())).append("\":").append(e.getValue().get());
					first = false;
				}
				DemoHttp.send(ex, 200, sb.append("}}").toString());
			}
			case "/control/reset-stats" -> {
				resetStats();
				DemoHttp.send(ex, 200, "{\"replica\":\"" + id + "\",\"reset\":true}");
			}
			default -> DemoHttp.send(ex, 404, "{\"error\":\"unknown control path\"}");
		}
	}

	@Override
	public void close() {
		crash();
	}

}
