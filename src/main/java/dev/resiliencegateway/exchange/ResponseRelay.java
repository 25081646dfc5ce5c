package dev.resiliencegateway.exchange;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import org.springframework.http.HttpHeaders;
import org.springframework.web.servlet.function.ServerResponse;

import dev.resiliencegateway.edge.ConnectionAbort;
import dev.resiliencegateway.exchange.transport.HopByHop;
import dev.resiliencegateway.exchange.transport.UpstreamClient;
import dev.resiliencegateway.outcome.Outcome;

/**
 * Streams a replica's answer to the client. The attempt is completed, and the route's concurrency
 * permit returned, when the body has been streamed (or broke off).
 *
 * <p>Once a byte has gone to the client nothing else may write to its response: a replica that breaks
 * off mid-body cuts the client's connection ({@link ConnectionAbort}), so the client sees a truncated
 * answer, never one padded by a second attempt or an error page.
 */
final class ResponseRelay {

	private static final int BUFFER = 16 * 1024;

	private final boolean decisionHeaders;

	ResponseRelay(boolean decisionHeaders) {
		this.decisionHeaders = decisionHeaders;
	}

	ServerResponse relay(Attempt a, ExchangeRequest request) {
		UpstreamClient.Result result = a.result;
		UpstreamClient.Response response = result.response();
		int status = response.status();
		Outcome outcome = Outcome.ofStatus(status);
		KeptAnswers.Ticket ticket = request.ticket;
		List<String> kept = ticket == null ? null : new ArrayList<>();
		// the request id header was set by the RequestIds filter
		List<String> fields = endToEnd(response, decisionHeaders ? 4 : 0);
		if (kept != null) {
			kept.addAll(KeptAnswers.flatten(fields));
		}
		if (decisionHeaders) {
			fields.add("X-Gateway-Replica");
			fields.add(a.replica.replica().id());
			fields.add("X-Gateway-Attempts");
			fields.add(String.valueOf(request.attempts));
		}
		RelayedResponse relayed = new RelayedResponse(status, fields, (req, res) -> {
			Outcome end = outcome;
			BoundedCopy copy = ticket == null ? null : new BoundedCopy(ticket.maxAnswerSize());
			try {
				InputStream in = response.body();
				if (in == null) {
					return null;
				}
				OutputStream out = res.getOutputStream();
				byte[] buffer = new byte[bufferFor(response.header(HttpHeaders.CONTENT_LENGTH))];
				if (copy != null) {
					// A keyed request's answer is read whole (up to the route's limit) and kept before the
					// client gets any of it: a retry sent the moment the answer arrives finds it kept.
					boolean whole;
					try {
						whole = copy.fill(in, buffer);
					}
					catch (IOException e) {
						end = Outcome.RESET;
						return brokeOff(req, out, e, a, ticket, status);
					}
					if (whole) {
						ticket.answered(status, kept, copy.bytes());
					}
					try {
						out.write(copy.prefix());
						out.flush();
					}
					catch (IOException e) {
						if (!whole) {
							end = Outcome.CANCELLED; // the client went away: stop reading from the replica
							ticket.answered(status, kept, null); // executed, its answer too large to keep
						}
						return null;
					}
					if (whole) {
						return null;
					}
				}
				int n;
				while (true) {
					try {
						n = in.read(buffer);
					}
					catch (IOException e) {
						end = Outcome.RESET;
						return brokeOff(req, out, e, a, ticket, status);
					}
					if (n < 0) {
						break;
					}
					try {
						out.write(buffer, 0, n);
						if (in.available() == 0) {
							out.flush();
						}
					}
					catch (IOException e) {
						end = Outcome.CANCELLED; // the client went away: stop reading from the replica
						if (ticket != null) {
							ticket.answered(status, kept, null); // executed, its answer too large to keep
						}
						return null;
					}
				}
			}
			finally {
				if (ticket != null && (end == Outcome.SUCCESS || end == Outcome.UPSTREAM_5XX)) {
					ticket.answered(status, kept, copy.bytes()); // once: a no-op when already kept
				}
				finish(a, request, status, end);
			}
			return null;
		}, () -> abandoned(a, request, status));
		request.relayedResponse = relayed;
		return relayed;
	}

	/**
	 * The answer was never written (a route's response filter failed and Spring MVC answered with an
	 * error instead): the attempt ends as cancelled, which is not the replica's failure, and its
	 * connection is closed with the body unread.
	 */
	private static void abandoned(Attempt a, ExchangeRequest request, int status) {
		if (request.ticket != null) {
			request.ticket.unknown(502, "replica " + a.replica.replica().id() + " answered " + status
					+ ", and the answer was never written to the client");
		}
		finish(a, request, status, Outcome.CANCELLED);
	}

	/**
	 * Ends a relayed attempt, once: its connection back to the pool after a body read to its end (a
	 * success or a relayed 5xx), closed otherwise; then its outcome, the route's permit and latency.
	 */
	private static void finish(Attempt a, ExchangeRequest request, int status, Outcome end) {
		if (end == Outcome.SUCCESS || end == Outcome.UPSTREAM_5XX) {
			a.result.release();
		}
		else {
			a.result.abort();
		}
		a.complete(end);
		a.route.bulkhead.onComplete();
		a.route.answered(status, request.start);
	}

	/**
	 * The relay buffer: as large as a body of known length (most answers are a few hundred bytes), at
	 * most {@link #BUFFER}. A 16 KB buffer per answer was half of all the bytes the gateway allocated
	 * (docs/performance.md, third pass); a body that has all its bytes reads to its end without more.
	 */
	static int bufferFor(String contentLength) {
		if (contentLength != null && !contentLength.isEmpty() && contentLength.length() <= 5) {
			int n = 0;
			for (int i = 0; i < contentLength.length(); i++) {
				char c = contentLength.charAt(i);
				if (c < '0' || c > '9') {
					return BUFFER;
				}
				n = n * 10 + (c - '0');
			}
			return Math.max(1, Math.min(n, BUFFER));
		}
		return BUFFER;
	}

	/**
	 * The replica broke off mid-body. Bytes may have gone to the client: no other attempt may write
	 * here, and the client must see a truncated answer, not a finished one.
	 */
	private static org.springframework.web.servlet.ModelAndView brokeOff(jakarta.servlet.http.HttpServletRequest req, OutputStream out, IOException e,
			Attempt a, KeptAnswers.Ticket ticket, int status) {
		if (ticket != null) {
			ticket.unknown(502, "replica " + a.replica.replica().id() + " broke off its answer (" + status + ") mid-body");
		}
		try {
			out.flush();
		}
		catch (IOException gone) {
			// the client is gone too
		}
		if (ConnectionAbort.abort(req)) {
			return null;
		}
		throw new UpstreamTruncatedException(a.replica.replica().id(), e);
	}

	/** The first bytes of a keyed request's answer, read whole if it fits the route's limit. */
	private static final class BoundedCopy {

		private final long limit;

		private final java.io.ByteArrayOutputStream read = new java.io.ByteArrayOutputStream();

		private boolean overflowed;

		BoundedCopy(long limit) {
			this.limit = limit;
		}

		/** Reads until the end (true) or until past the limit (false). */
		boolean fill(InputStream in, byte[] buffer) throws IOException {
			int n;
			while ((n = in.read(buffer)) >= 0) {
				read.write(buffer, 0, n);
				if (read.size() > limit) {
					overflowed = true;
					return false;
				}
			}
			return true;
		}

		/** Everything read so far, to relay. */
		byte[] prefix() {
			return read.toByteArray();
		}

		/** The whole answer, or {@code null} when it is larger than the limit. */
		byte[] bytes() {
			return overflowed ? null : read.toByteArray();
		}

	}

	/**
	 * End-to-end header fields only, in the replica's order and spelling (name, value, ...): hop-by-hop
	 * ones, those the replica's Connection names, and its request id stay behind.
	 */
	static List<String> endToEnd(UpstreamClient.Response response, int room) {
		List<String> connection = new ArrayList<>(1);
		int[] count = new int[1];
		response.forEachHeader((name, value) -> {
			count[0]++;
			if (name.equalsIgnoreCase(HttpHeaders.CONNECTION)) {
				connection.add(value);
			}
		});
		Set<String> nominated = HopByHop.nominated(connection.iterator());
		List<String> fields = new ArrayList<>(count[0] * 2 + room);
		response.forEachHeader((name, value) -> {
			String lower = name.toLowerCase(Locale.ROOT);
			if (!HopByHop.isHopByHop(lower) && !nominated.contains(lower) && !lower.equals("x-request-id")) {
				fields.add(name);
				fields.add(value);
			}
		});
		return fields;
	}

	/** The replica broke off mid-body: the client's connection is aborted so the truncation shows. */
	static final class UpstreamTruncatedException extends RuntimeException {

		UpstreamTruncatedException(String replica, IOException cause) {
			super("replica " + replica + " broke off the response body: " + cause.getMessage(), cause, false, false);
		}

	}

}
