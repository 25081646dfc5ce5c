package dev.resiliencegateway.edge;

import java.io.CharArrayWriter;

import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.AbstractAccessLogValve;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The access log: one line per request, written when its response is complete (so status, bytes
 * and duration are the client's), to logger {@value #LOGGER} at INFO:
 *
 * <pre>
 * 2026-12-03T07:01:02.345Z GET /orders/7 route=orders pool=orders replicas=orders-1.internal:8080,orders-2.internal:8080 attempts=2 hedged=false status=200 bytes=512 duration_ms=14 id=9f1c... trace=4bf92f3577b34da6a3ce929d0e0e4736
 * </pre>
 *
 * Tomcat's {@link AbstractAccessLogValve} does the work: its pattern language, the time, the
 * response's bytes and the duration, and request attributes by name (the exchange leaves one,
 * {@value #EXCHANGE}, that prints the route's part, "-" for a request no route took). Written by
 * hand is only where the line goes (SLF4J rather than a file of Tomcat's, so it follows the
 * application's logging: JSON in the kubernetes profile, levels, appenders) and the trace id, the
 * second field of a W3C {@code traceparent} header. The query string is left out: it may carry
 * credentials.
 */
public final class AccessLog extends AbstractAccessLogValve {

	public static final String LOGGER = "resilience.gateway.access";

	/** Request attribute the exchange sets to an object whose {@code toString()} is the route's fields. */
	public static final String EXCHANGE = "resilience.gateway.exchange";

	/** Request attribute with the request's trace id when tracing is on (else the client's traceparent's is used). */
	public static final String TRACE = "resilience.gateway.trace";

	static final String PATTERN = "%{begin:yyyy-MM-dd'T'HH:mm:ss.SSSXXX}t %m %U %{" + EXCHANGE + "}r status=%s bytes=%B"
			+ " duration_ms=%{ms}T id=%{X-Request-Id}o trace=%{" + TRACE + "}r";

	private static final Logger log = LoggerFactory.getLogger(LOGGER);

	public AccessLog() {
		setPattern(PATTERN);
		setAsyncSupported(true);
	}

	@Override
	public void log(Request request, Response response, long time) {
		if (!log.isInfoEnabled()) {
			return;
		}
		if (request.getAttribute(TRACE) == null) {
			String trace = traceId(request.getHeader("traceparent"));
			if (trace != null) {
				request.setAttribute(TRACE, trace);
			}
		}
		super.log(request, response, time);
	}

	/** The trace id of a W3C {@code traceparent} ({@code 00-<32 hex>-<16 hex>-<2 hex>}), or null. */
	static String traceId(String traceparent) {
		if (traceparent == null || traceparent.length() < 55 || traceparent.charAt(2) != '-'
				|| traceparent.charAt(35) != '-') {
			return null;
		}
		for (int i = 3; i < 35; i++) {
			char c = traceparent.charAt(i);
			if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f')) {
				return null;
			}
		}
		String id = traceparent.substring(3, 35);
		return id.equals("00000000000000000000000000000000") ? null : id;
	}

	@Override
	protected void log(CharArrayWriter message) {
		log.info(message.toString());
	}

}
