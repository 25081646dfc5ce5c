package dev.resiliencegateway.edge;

import java.io.IOException;
import java.util.Enumeration;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.springframework.web.filter.OncePerRequestFilter;

import dev.resiliencegateway.config.GatewayConfig.EdgeSettings;
import dev.resiliencegateway.edge.EdgeRules.Rejection;

/**
 * Applies {@link EdgeRules} to every request on the traffic port before Spring MVC and the routes
 * see it. A refused request gets a problem+json answer (with {@code Connection: close} where the
 * connection can no longer be trusted) and reaches no replica.
 */
public final class EdgeFilter extends OncePerRequestFilter {

	private final EdgeSettings settings;

	public EdgeFilter(EdgeSettings settings) {
		this.settings = settings;
	}

	@Override
	protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
			throws ServletException, IOException {
		Rejection rejection = check(request);
		if (rejection != null) {
			ProblemWriter.write(response, rejection.status(), rejection.title(), rejection.detail(), RequestIds.of(request),
					rejection.close());
			return;
		}
		try {
			chain.doFilter(request, response);
		}
		finally {
			if (request.getAttribute(AccessLog.EXCHANGE) instanceof RequestEnd end) {
				end.requestEnded();
			}
		}
	}

	private Rejection check(HttpServletRequest request) {
		String method = request.getMethod();
		String protocol = request.getProtocol();
		String uri = request.getRequestURI();
		String query = request.getQueryString();
		int line = method.length() + 1 + uri.length() + (query == null ? 0 : query.length() + 1) + 1 + protocol.length();
		Rejection r = EdgeRules.requestLine(line, settings);
		if (r != null) {
			return r;
		}
		int count = 0;
		int size = 0;
		for (Enumeration<String> names = request.getHeaderNames(); names.hasMoreElements();) {
			String name = names.nextElement();
			if ((r = EdgeRules.headerName(name, settings)) != null) {
				return r;
			}
			for (Enumeration<String> values = request.getHeaders(name); values.hasMoreElements();) {
				count++;
				size += name.length() + values.nextElement().length() + 4;
			}
		}
		if ((r = EdgeRules.headerTotals(count, size, settings)) != null) {
			return r;
		}
		boolean chunked = request.getHeader("Transfer-Encoding") != null;
		if ((r = EdgeRules.framing(protocol, chunked)) != null || (r = EdgeRules.method(method, settings)) != null
				|| (r = EdgeRules.expect(protocol, request.getHeader("Expect"))) != null
				|| (r = EdgeRules.optionsBody(method, chunked || request.getContentLengthLong() > 0,
						request.getContentType())) != null) {
			return r;
		}
		return EdgeRules.path(uri);
	}

}
