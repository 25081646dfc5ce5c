package dev.resiliencegateway.exchange.transport;

import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.web.servlet.function.ServerResponse;

/** The gateway's own error answers: RFC 9457 {@code application/problem+json}, always with the request id. */
public final class Problems {

	private Problems() {
	}

	/** 502: the replica failed (reset, garbled answer). */
	public static ServerResponse badGateway(String requestId, String route, String detail) {
		return of(HttpStatus.BAD_GATEWAY, "Upstream failed", requestId, route, detail, null);
	}

	/** 503: no replica could take the request; comes with {@code Retry-After}. */
	public static ServerResponse unavailable(String requestId, String route, String detail, int retryAfterSeconds) {
		return of(HttpStatus.SERVICE_UNAVAILABLE, "No replica available", requestId, route, detail,
				String.valueOf(retryAfterSeconds));
	}

	/** 504: the replica did not answer in time. */
	public static ServerResponse timeout(String requestId, String route, String detail) {
		return of(HttpStatus.GATEWAY_TIMEOUT, "Upstream timed out", requestId, route, detail, null);
	}

	/** 400: a request the gateway cannot forward as sent. */
	public static ServerResponse badRequest(String requestId, String route, String detail) {
		return of(HttpStatus.BAD_REQUEST, "Bad request", requestId, route, detail, null);
	}

	/**
	 * 400, 408 or 413: the client's body could not be taken. The connection is closed after the
	 * answer: unread body bytes may still be on it.
	 */
	public static ServerResponse clientBody(int status, String requestId, String route, String detail) {
		String title = status == 408 ? "Request timeout" : status == 413 ? "Content too large" : "Bad request";
		return of(HttpStatusCode.valueOf(status), title, requestId, route, detail, null, true, java.util.Map.of());
	}

	/**
	 * 499 (nginx's "client closed request"): the client went away while the gateway waited for a
	 * replica. Nobody reads it; it exists so logs and metrics show what happened.
	 */
	public static ServerResponse clientClosed(String requestId, String route) {
		return of(HttpStatusCode.valueOf(499), "Client closed request", requestId, route,
				"the client closed its connection before a replica answered; the upstream attempt was cancelled", null);
	}

	/**
	 * Any other problem the gateway answers itself (an {@code Idempotency-Key} conflict, a replayed
	 * unknown outcome), with extra header fields.
	 */
	public static ServerResponse of(int status, String title, String requestId, String route, String detail,
			java.util.Map<String, String> headers) {
		return of(HttpStatusCode.valueOf(status), title, requestId, route, detail, null, false, headers);
	}

	private static ServerResponse of(HttpStatusCode status, String title, String requestId, String route, String detail,
			String retryAfter) {
		return of(status, title, requestId, route, detail, retryAfter, false, java.util.Map.of());
	}

	private static ServerResponse of(HttpStatusCode status, String title, String requestId, String route, String detail,
			String retryAfter, boolean close, java.util.Map<String, String> headers) {
		ProblemDetail problem = ProblemDetail.forStatusAndDetail(status, detail);
		problem.setProperty("error", title);
		problem.setProperty("requestId", requestId);
		problem.setProperty("route", route);
		// the request id header itself was set by the RequestIds filter
		ServerResponse.BodyBuilder builder = ServerResponse.status(status).contentType(MediaType.APPLICATION_PROBLEM_JSON);
		if (retryAfter != null) {
			builder.header("Retry-After", retryAfter);
		}
		if (close) {
			builder.header("Connection", "close");
		}
		headers.forEach(builder::header);
		return builder.body(problem);
	}

}
