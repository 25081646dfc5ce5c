package dev.resiliencegateway.exchange;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import org.springframework.cloud.gateway.server.mvc.handler.GatewayServerResponse;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatusCode;
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
		Route route = a.route;
		UpstreamClient.Result result = a.result;
		UpstreamClient.Response response = result.response();
		int status = response.status();
		Outcome outcome = Outcome.ofStatus(status);
		return GatewayServerResponse.status(HttpStatusCode.valueOf(status)).headers(h -> {
			copyHeaders(response, h); // the request id header was set by the RequestIds filter
			if (decisionHeaders) {
				h.set("X-Gateway-Replica", a.replica.replica().id());
				h.set("X-Gateway-Attempts", String.valueOf(request.attempts));
			}
		}).build((req, res) -> {
			Outcome end = outcome;
			try {
				InputStream in = response.body();
				if (in != null) {
					OutputStream out = res.getOutputStream();
					byte[] buffer = new byte[BUFFER];
					int n;
					while (true) {
						try {
							n = in.read(buffer);
						}
						catch (IOException e) {
							// The replica broke off mid-body. Bytes have gone to the client: no other attempt
							// may write here, and the client must see a truncated answer, not a finished one.
							end = Outcome.RESET;
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
							return null;
						}
					}
				}
			}
			finally {
				if (end == Outcome.SUCCESS || end == Outcome.UPSTREAM_5XX) {
					result.release();
				}
				else {
					result.abort();
				}
				a.complete(end);
				route.bulkhead.onComplete();
				route.metrics.request(route.id, status, route.ticker.nanos() - request.start);
			}
			return null;
		});
	}

	/** End-to-end headers only: hop-by-hop ones, those the replica's Connection names, and its request id stay behind. */
	private static void copyHeaders(UpstreamClient.Response response, HttpHeaders into) {
		List<String> connection = new ArrayList<>(1);
		response.forEachHeader((name, value) -> {
			if (name.equalsIgnoreCase(HttpHeaders.CONNECTION)) {
				connection.add(value);
			}
		});
		Set<String> nominated = HopByHop.nominated(connection.iterator());
		response.forEachHeader((name, value) -> {
			String lower = name.toLowerCase(Locale.ROOT);
			if (!HopByHop.isHopByHop(lower) && !nominated.contains(lower) && !lower.equals("x-request-id")) {
				into.add(name, value);
			}
		});
	}

	/** The replica broke off mid-body: the client's connection is aborted so the truncation shows. */
	static final class UpstreamTruncatedException extends RuntimeException {

		UpstreamTruncatedException(String replica, IOException cause) {
			super("replica " + replica + " broke off the response body: " + cause.getMessage(), cause, false, false);
		}

	}

}
