package dev.resiliencegateway.exchange;

import java.util.List;

import dev.resiliencegateway.outcome.Outcome;

/**
 * A span per attempt, child of the request's span, and the attempt's {@code traceparent} on the
 * request to the replica. {@link #OFF} (the default, and what tracing switched off gives) costs a
 * field read per attempt and leaves a client's {@code traceparent} to pass through untouched.
 */
public interface AttemptTracing {

	AttemptTracing OFF = new AttemptTracing() {
		@Override
		public Object requestContext() {
			return null;
		}

		@Override
		public AttemptSpan start(Object parent, String route, String pool, String replica, int number, String kind) {
			return null;
		}
	};

	/** The trace context of the request being handled, read on its thread; {@code null} without one. */
	Object requestContext();

	/** The trace id of a context {@link #requestContext} gave (for the access log), or {@code null}. */
	default String traceId(Object context) {
		return null;
	}

	/**
	 * Starts the span of one attempt.
	 *
	 * @param parent what {@link #requestContext} gave for the request
	 * @param number the attempt's number within the request (1 = the first)
	 * @param kind {@code first}, {@code retry}, {@code hedge} or {@code probe}
	 * @return the span, or {@code null} when this request is not traced
	 */
	AttemptSpan start(Object parent, String route, String pool, String replica, int number, String kind);

	/** One attempt's span. */
	interface AttemptSpan {

		/** The attempt's request headers: {@code base} with this span's trace context in place of the client's. */
		List<String> headers(List<String> base);

		/** Ends the span with how the attempt ended and the replica's status (0 without an answer). */
		void end(Outcome outcome, int status);

	}

}
