package dev.resiliencegateway.exchange;

import java.io.InputStream;

import jakarta.servlet.http.HttpServletRequest;

import org.springframework.cloud.gateway.server.mvc.handler.GatewayServerResponse;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.web.servlet.function.ServerRequest;
import org.springframework.web.servlet.function.ServerResponse;

import dev.resiliencegateway.config.GatewayConfig;
import dev.resiliencegateway.exchange.transport.ReplayedRequest;
import dev.resiliencegateway.exchange.transport.RequestBody;

/**
 * A route's fallback in place of the gateway's own 502, 503 or 504, when it has one: a static
 * response, or a forward to another path of this gateway with the client's body (when it was
 * buffered or never read; a body already streamed to a replica cannot be forwarded, and then the
 * failure stands). A request that is itself a fallback gets no second one, so forwards cannot loop.
 * A replica's own 5xx is relayed, never replaced: that answer is the replica's to give.
 */
final class Fallbacks {

	/** Set on a request forwarded to its route's fallback: it gets no second one. */
	static final String ATTRIBUTE = Fallbacks.class.getName() + ".fallback";

	/** On answers given by a route's fallback: the status the gateway would have answered. */
	static final String HEADER = "X-Gateway-Fallback";

	private Fallbacks() {
	}

	/** @param body the client's body as read so far, or {@code null} when it was never read */
	static ServerResponse orFallback(ServerRequest request, Route route, ServerResponse failure, RequestBody body) {
		GatewayConfig.Fallback fallback = route.policy.fallback();
		int status = failure.statusCode().value();
		HttpServletRequest servlet = request.servletRequest();
		if (fallback == null || (status != 502 && status != 503 && status != 504)
				|| servlet.getAttribute(ATTRIBUTE) != null) {
			return failure;
		}
		if (!fallback.forwards()) {
			route.metrics.fallback(route.id, "static");
			return ServerResponse.status(fallback.status())
				.contentType(MediaType.parseMediaType(fallback.contentType()))
				.header(HEADER, String.valueOf(status))
				.body(fallback.body());
		}
		if (body != null && body.touched()) {
			return failure;
		}
		route.metrics.fallback(route.id, "forward");
		servlet.setAttribute(ATTRIBUTE, route.id);
		InputStream replay = body == null ? null : body.stream();
		HttpServletRequest forwarded = replay == null ? servlet : new ReplayedRequest(servlet, replay);
		return GatewayServerResponse.status(HttpStatusCode.valueOf(status)).build((req, res) -> {
			res.setHeader(HEADER, String.valueOf(status));
			servlet.getRequestDispatcher(fallback.forward()).forward(forwarded, res);
			return null;
		});
	}

}
