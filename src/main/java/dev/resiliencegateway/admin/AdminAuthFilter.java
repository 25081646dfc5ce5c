package dev.resiliencegateway.admin;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.Principal;
import java.util.Base64;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;

/**
 * HTTP Basic for the management port only. A request with the operator's credential becomes a
 * principal in role {@value #ROLE} (which actuator's {@code show-details: when-authorized} and the
 * write operations check); wrong credentials get 401; a write (POST, PUT, PATCH, DELETE) without
 * them gets 401, or 403 when no credential is configured at all, so writes are never open.
 *
 * <p>Hand-written rather than Spring Security's filter chain because Spring Boot shares that chain
 * between the management port and the traffic port, where it would run on every proxied request;
 * the password check itself is Spring Security's ({@link AdminCredentials}).
 */
public final class AdminAuthFilter implements Filter {

	public static final String ROLE = "ADMIN";

	private final AdminCredentials credentials;

	public AdminAuthFilter(AdminCredentials credentials) {
		this.credentials = credentials;
	}

	@Override
	public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain) throws IOException, ServletException {
		HttpServletRequest request = (HttpServletRequest) req;
		HttpServletResponse response = (HttpServletResponse) res;
		String header = request.getHeader("Authorization");
		if (header != null && header.regionMatches(true, 0, "Basic ", 0, 6)) {
			String user = null;
			String password = null;
			try {
				String decoded = new String(Base64.getDecoder().decode(header.substring(6).trim()), StandardCharsets.UTF_8);
				int colon = decoded.indexOf(':');
				if (colon > 0) {
					user = decoded.substring(0, colon);
					password = decoded.substring(colon + 1);
				}
			}
			catch (IllegalArgumentException malformed) {
				// falls through to 401
			}
			if (!credentials.matches(user, password)) {
				challenge(response, HttpServletResponse.SC_UNAUTHORIZED, "wrong credentials");
				return;
			}
			String name = user;
			chain.doFilter(new Authenticated(request, () -> name), res);
			return;
		}
		if (isWrite(request.getMethod())) {
			if (!credentials.configured()) {
				challenge(response, HttpServletResponse.SC_FORBIDDEN,
						"admin writes are disabled until resilience.gateway.admin.password is set");
			}
			else {
				challenge(response, HttpServletResponse.SC_UNAUTHORIZED, "admin credentials required");
			}
			return;
		}
		chain.doFilter(req, res);
	}

	private static boolean isWrite(String method) {
		return !(method.equals("GET") || method.equals("HEAD") || method.equals("OPTIONS"));
	}

	private static void challenge(HttpServletResponse response, int status, String detail) throws IOException {
		response.setStatus(status);
		if (status == HttpServletResponse.SC_UNAUTHORIZED) {
			response.setHeader("WWW-Authenticate", "Basic realm=\"resilience-gateway\", charset=\"UTF-8\"");
		}
		response.setContentType("application/problem+json");
		response.getWriter().write("{\"status\":" + status + ",\"title\":\"" + (status == 401 ? "Unauthorized" : "Forbidden")
				+ "\",\"detail\":\"" + detail + "\"}");
	}

	private static final class Authenticated extends HttpServletRequestWrapper {

		private final Principal principal;

		Authenticated(HttpServletRequest request, Principal principal) {
			super(request);
			this.principal = principal;
		}

		@Override
		public Principal getUserPrincipal() {
			return principal;
		}

		@Override
		public String getRemoteUser() {
			return principal.getName();
		}

		@Override
		public boolean isUserInRole(String role) {
			return ROLE.equals(role);
		}

		@Override
		public String getAuthType() {
			return HttpServletRequest.BASIC_AUTH;
		}

	}

}
