package dev.resiliencegateway.edge;

import java.io.IOException;
import java.net.SocketTimeoutException;

import jakarta.servlet.FilterChain;
import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.springframework.web.filter.OncePerRequestFilter;


/**
 * Answers the servlet container's error dispatch itself, so that it never reaches a route: with a
 * catch-all route, Boot's {@code /error} page would otherwise be proxied to a replica, carrying the
 * failed request's method and headers, and (for a response already started) its answer appended to
 * the bytes already sent. Here a started response is cut off instead; anything else gets a
 * problem+json answer and {@code Connection: close}, because a request that failed in the servlet
 * layer may have left unread bytes on its connection.
 */
public final class ErrorDispatchFilter extends OncePerRequestFilter {

	@Override
	protected boolean shouldNotFilterErrorDispatch() {
		return false;
	}

	@Override
	protected boolean shouldNotFilter(HttpServletRequest request) {
		return request.getDispatcherType() != jakarta.servlet.DispatcherType.ERROR;
	}

	@Override
	protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
			throws ServletException, IOException {
		if (response.isCommitted()) {
			ConnectionAbort.abort(request);
			return;
		}
		Throwable error = (Throwable) request.getAttribute(RequestDispatcher.ERROR_EXCEPTION);
		Object code = request.getAttribute(RequestDispatcher.ERROR_STATUS_CODE);
		int status = code instanceof Integer i && i >= 400 ? i : 500;
		String detail = "the request failed in the servlet layer";
		for (Throwable t = error; t != null; t = t.getCause()) {
			if (t instanceof SocketTimeoutException) {
				status = 408;
				detail = "the client sent its request too slowly";
				break;
			}
			if (t instanceof IOException) {
				status = 400;
				detail = "the request could not be read: " + EdgeRules.printable(String.valueOf(t.getMessage()));
				break;
			}
		}
		response.resetBuffer();
		ProblemWriter.write(response, status, ProblemWriter.title(status), detail, RequestIds.of(request), true);
	}

}
