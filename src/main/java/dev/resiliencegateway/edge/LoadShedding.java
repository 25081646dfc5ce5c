package dev.resiliencegateway.edge;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.servlet.ServletException;

import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ValveBase;

/**
 * Sheds load beyond a cap on requests in flight on the traffic port: the request over the cap gets
 * a 503 with {@code Retry-After: 1} at once, before Spring MVC, the routes or a replica see it, so
 * an overloaded gateway keeps serving the requests it took at the speed it can (the cap bounds
 * their wait) instead of slowing every request down until all of them time out.
 *
 * <p>A static cap, like Envoy's per-cluster {@code max_requests} (1024 by default): the signal an
 * adaptive limit would learn from, request latency, is mostly the replicas' latency here, and a
 * slow replica must not make the gateway refuse requests to healthy ones. Requests waiting on a
 * slow or hanging replica are already bounded per route and per replica. A Tomcat valve rather than
 * a servlet filter because a refusal must cost as little as possible: under four times the load it
 * can serve, the gateway spends most of its time refusing.
 */
public final class LoadShedding extends ValveBase {

	static final byte[] BODY = ("{\"type\":\"about:blank\",\"title\":\"Service Unavailable\",\"status\":503,"
			+ "\"detail\":\"the gateway is at its limit of requests in flight; retry after a second\"}")
		.getBytes(StandardCharsets.UTF_8);

	private final int limit;

	private final AtomicInteger inFlight = new AtomicInteger();

	private final Runnable onShed;

	/**
	 * @param limit requests in flight beyond which new ones are refused
	 * @param onShed counts a refusal (a metric)
	 */
	public LoadShedding(int limit, Runnable onShed) {
		super(true);
		this.limit = limit;
		this.onShed = onShed;
	}

	@Override
	public void invoke(Request request, Response response) throws IOException, ServletException {
		if (inFlight.incrementAndGet() > limit) {
			inFlight.decrementAndGet();
			onShed.run();
			response.setStatus(503);
			response.setHeader("Retry-After", "1");
			response.setHeader(RequestIds.HEADER, RequestIds.generate());
			response.setContentType("application/problem+json");
			response.setContentLength(BODY.length);
			response.getOutputStream().write(BODY);
			return;
		}
		try {
			getNext().invoke(request, response);
		}
		finally {
			inFlight.decrementAndGet();
		}
	}

	/**
	 * The same cap enforced on Tomcat's poller thread ({@link SheddingNioProtocol}), counted in the same
	 * metric.
	 */
	public EarlyRefusal early(boolean logAccess) {
		return new EarlyRefusal(limit, onShed, logAccess);
	}

	/** Requests in flight now (a gauge). */
	public int inFlight() {
		return inFlight.get();
	}

}
