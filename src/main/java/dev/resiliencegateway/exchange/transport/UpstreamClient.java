package dev.resiliencegateway.exchange.transport;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.function.BiConsumer;

import dev.resiliencegateway.outcome.Outcome;
import dev.resiliencegateway.pool.Replica;

/**
 * The upstream hop as the exchange sees it: prepare one attempt (so it can be cancelled before it
 * answers), send it, get a response head or a classified failure. {@link HttpUpstreamClient} is the
 * product's (Apache HttpClient 5); a bean of this type replaces it, and the exchange's unit tests
 * script a fake one.
 */
public interface UpstreamClient extends AutoCloseable {

	/**
	 * Builds one attempt; {@code null} when the target is not a valid URI.
	 *
	 * @param headers name/value pairs, already filtered
	 * @param body the request body ({@link RequestBody#stream()} is read by the attempt)
	 * @param timeoutNanos longest wait for the response to start (and longest silence while it streams)
	 */
	Call prepare(Replica replica, String method, String target, List<String> headers, RequestBody body,
			long timeoutNanos);

	/** The same for a replica of the named pool, with that pool's TLS settings (the default ignores the pool). */
	default Call prepare(String pool, Replica replica, String method, String target, List<String> headers,
			RequestBody body, long timeoutNanos) {
		return prepare(replica, method, target, headers, body, timeoutNanos);
	}

	/**
	 * Sends a prepared attempt and waits for the response head. Never throws: a failure comes back as
	 * a result with its {@link Outcome}. A response with ambiguous framing is never handed out.
	 *
	 * @param atMostOnce the request must not reach a replica twice: use a connection checked just now
	 */
	Result execute(Call call, boolean atMostOnce);

	/** Connections handed out and not yet returned (0 when the client does not pool). */
	default int leasedConnections() {
		return 0;
	}

	@Override
	void close();

	/** One prepared attempt: cancelling it makes a waiting or streaming attempt fail at once. */
	interface Call {

		Replica replica();

		void cancel();

	}

	/** A replica's response whose head has arrived; its body may still be streaming. */
	interface Response {

		int status();

		/** The first value of a header, or {@code null}. */
		String header(String name);

		/** Every header in the order received. */
		void forEachHeader(BiConsumer<String, String> action);

		/** The body, or {@code null} without one. */
		InputStream body() throws IOException;

		/** Ends the attempt after the body was read to the end; the connection may be reused. */
		void release();

		/** Ends the attempt without reading the rest of the body; the connection is closed, never reused. */
		void abort();

	}

	/** One attempt's result: a response (head read, body still streaming), or a classified failure. */
	record Result(Response response, Outcome failure, String detail) {

		public static Result failed(Outcome failure, String detail) {
			return new Result(null, failure, detail);
		}

		public boolean answered() {
			return response != null;
		}

		/** A response below 500: an answer worth relaying. */
		public boolean good() {
			return response != null && response.status() < 500;
		}

		public int status() {
			return response.status();
		}

		/** Ends the attempt without reading the rest of the body (no-op without a response). */
		public void abort() {
			if (response != null) {
				response.abort();
			}
		}

		/** Ends the attempt after its body was read to the end. */
		public void release() {
			if (response != null) {
				response.release();
			}
		}

	}

}
