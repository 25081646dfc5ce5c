package dev.resiliencegateway.wiring;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.resiliencegateway.exchange.AttemptTracing;
import dev.resiliencegateway.outcome.Outcome;
import io.micrometer.tracing.Span;
import io.micrometer.tracing.TraceContext;
import io.micrometer.tracing.Tracer;
import io.micrometer.tracing.propagation.Propagator;

/**
 * Attempt spans with Micrometer Tracing: a client span per attempt under the request's server span
 * (Spring Boot's {@code http.server.requests} observation), named for why it was sent ({@code attempt
 * first}, {@code attempt retry}, {@code attempt hedge}, {@code attempt probe}) and tagged with the
 * route, pool, replica, attempt number, outcome and status. The attempt's own context goes to the
 * replica in the propagation headers (W3C {@code traceparent} by default), replacing the client's, so
 * the replica's spans hang under the attempt that reached it.
 */
final class MicrometerAttemptTracing implements AttemptTracing {

	private final Tracer tracer;

	private final Propagator propagator;

	MicrometerAttemptTracing(Tracer tracer, Propagator propagator) {
		this.tracer = tracer;
		this.propagator = propagator;
	}

	@Override
	public Object requestContext() {
		Span current = tracer.currentSpan();
		return current == null ? null : current.context();
	}

	@Override
	public String traceId(Object context) {
		return context instanceof TraceContext c ? c.traceId() : null;
	}

	@Override
	public AttemptSpan start(Object parent, String route, String pool, String replica, int number, String kind) {
		Span span = tracer.spanBuilder()
			.setParent((TraceContext) parent)
			.name("attempt " + kind)
			.kind(Span.Kind.CLIENT)
			.tag("gateway.route", route)
			.tag("gateway.pool", pool)
			.tag("gateway.replica", replica)
			.tag("gateway.attempt", number)
			.tag("gateway.attempt.kind", kind)
			.start();
		return new AttemptSpan() {
			@Override
			public List<String> headers(List<String> base) {
				Map<String, String> injected = new LinkedHashMap<>();
				propagator.inject(span.context(), injected, Map::put);
				List<String> out = new ArrayList<>(base.size() + 2 * injected.size());
				for (int i = 0; i < base.size(); i += 2) {
					if (!contains(injected, base.get(i))) {
						out.add(base.get(i));
						out.add(base.get(i + 1));
					}
				}
				injected.forEach((name, value) -> {
					out.add(name);
					out.add(value);
				});
				return out;
			}

			@Override
			public void end(Outcome outcome, int status) {
				span.tag("gateway.outcome", outcome.name());
				if (status > 0) {
					span.tag("http.response.status_code", status);
				}
				if (outcome.isFailure()) {
					span.event("failed: " + outcome.name());
				}
				span.end();
			}
		};
	}

	private static boolean contains(Map<String, String> injected, String name) {
		for (String key : injected.keySet()) {
			if (key.equalsIgnoreCase(name)) {
				return true;
			}
		}
		return false;
	}

}
