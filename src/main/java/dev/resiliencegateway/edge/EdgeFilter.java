package dev.resiliencegateway.edge;

import java.io.IOException;
import java.util.Enumeration;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import dev.resiliencegateway.config.GatewayConfig.EdgeSettings;
import dev.resiliencegateway.edge.EdgeRules.Rejection;

/**
 * Applies {@link EdgeRules} to every request on the traffic port before Spring MVC and the routes
 * see it. A refused request gets a problem+json answer (with {@code Connection: close} where the
 * connection can no longer be trusted) and reaches no replica.
 *
 * <p>A plain servlet filter, registered for the {@code REQUEST} dispatch only (EdgeAutoConfiguration):
 * that registration already makes it run once per request, so Spring's {@code OncePerRequestFilter}
 * would only add its request-attribute bookkeeping (a look-up, a set and a removal in Tomcat's
 * attribute map on every request).
 */
public final class EdgeFilter implements Filter {

	private final EdgeSettings settings;

	public EdgeFilter(EdgeSettings settings) {
		this.settings = settings;
	}

	@Override
	public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain) throws IOException, ServletException {
		HttpServletRequest request = (HttpServletRequest) req;
		HttpServletResponse response = (HttpServletResponse) res;
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
