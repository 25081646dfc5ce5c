package dev.resiliencegateway.exchange;

import java.io.IOException;
import java.util.List;

import jakarta.servlet.ServletException;
import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.springframework.cloud.gateway.server.mvc.handler.GatewayServerResponse;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatusCode;
import org.springframework.util.LinkedMultiValueMap;
import org.springframework.util.MultiValueMap;
import org.springframework.web.servlet.ModelAndView;

/**
 * A replica's answer as the route's handler returns it: its status, its end-to-end header fields and
 * a body that is streamed when the response is written.
 *
 * <p>Written by hand instead of {@code GatewayServerResponse.status(..).build(..)} for two reasons.
 * <ul>
 * <li>That response evaluates the client's conditional headers against the replica's answer before
 * writing it: a GET with {@code If-None-Match} matching the replica's {@code ETag} (or
 * {@code If-Modified-Since} after its {@code Last-Modified}) got a 304 from the gateway, and the body
 * writer, which streams the replica's body and then completes the attempt, never ran. Each such
 * request left its pooled connection leased and the replica's in-flight count raised for good (the
 * balancer then steered away from a healthy replica). A proxy does not answer for its replicas:
 * conditional requests are forwarded, and what the replica answers (304 or 200) is relayed as it is.
 * The body writer always runs.</li>
 * <li>Cost: it copied the fields twice into {@link HttpHeaders} (case-insensitive maps) and looked a
 * logger up per response (docs/performance.md, sixth pass). Here the fields go from the replica's
 * answer to the servlet response directly; a mutable {@link HttpHeaders} view is made only when a
 * route's response filter asks for {@link #headers()}, and is then what is written.</li>
 * </ul>
 * <p>An answer that is never written (a route's response filter threw) ends its attempt when the request
 * ends ({@link #abandonIfUnwritten}, from {@code edge.EdgeFilter}).
 *
 * <p>It is a {@link GatewayServerResponse}, so Gateway MVC's response filters ({@code SetStatus},
 * {@code AddResponseHeader} and the others) work on it as before.
 */
final class RelayedResponse implements GatewayServerResponse {

	/** Streams the body; runs exactly once, when the response is written. */
	@FunctionalInterface
	interface Body {

		ModelAndView write(HttpServletRequest request, HttpServletResponse response) throws Exception;

	}

	private HttpStatusCode status;

	private final int rawStatus;

	/** Name, value, name, value, ...: the fields as the replica sent them, minus those that stay behind. */
	private final List<String> fields;

	private final Body body;

	/** Ends the attempt when the answer is never written (see {@link #abandonIfUnwritten}). */
	private final Runnable abandon;

	/** Set on the request's thread, which also ends the request. */
	private boolean written;

	private HttpHeaders headers;

	private MultiValueMap<String, Cookie> cookies;

	RelayedResponse(int status, List<String> fields, Body body, Runnable abandon) {
		this.rawStatus = status;
		this.fields = fields;
		this.body = body;
		this.abandon = abandon;
	}

	/**
	 * The request is over: if this answer was never written (a route's response filter threw, so
	 * Spring MVC answered with an error instead), its attempt ends here, its connection closed.
	 */
	void abandonIfUnwritten() {
		if (!written) {
			written = true;
			abandon.run();
		}
	}

	@Override
	public HttpStatusCode statusCode() {
		if (status == null) {
			status = HttpStatusCode.valueOf(rawStatus);
		}
		return status;
	}

	@Override
	public void setStatusCode(HttpStatusCode statusCode) {
		this.status = statusCode;
	}

	@Override
	@Deprecated
	public int rawStatusCode() {
		return statusCode().value();
	}

	@Override
	public HttpHeaders headers() {
		if (headers == null) {
			HttpHeaders h = new HttpHeaders();
			for (int i = 0; i < fields.size(); i += 2) {
				h.add(fields.get(i), fields.get(i + 1));
			}
			headers = h;
		}
		return headers;
	}

	@Override
	public MultiValueMap<String, Cookie> cookies() {
		if (cookies == null) {
			cookies = new LinkedMultiValueMap<>();
		}
		return cookies;
	}

	@Override
	public ModelAndView writeTo(HttpServletRequest request, HttpServletResponse response, Context context)
			throws ServletException, IOException {
		written = true; // from here on the attempt ends below: in the body writer, or by abandon
		try {
			try {
				response.setStatus(status == null ? rawStatus : status.value());
				if (headers == null) {
					for (int i = 0; i < fields.size(); i += 2) {
						response.addHeader(fields.get(i), fields.get(i + 1));
					}
				}
				else {
					headers.forEach((name, values) -> {
						for (String value : values) {
							response.addHeader(name, value);
						}
					});
				}
				if (cookies != null) {
					cookies.values().forEach(list -> list.forEach(response::addCookie));
				}
			}
			catch (RuntimeException | Error e) {
				abandon.run(); // the body writer will not run
				throw e;
			}
			return body.write(request, response);
		}
		catch (ServletException | IOException e) {
			throw e;
		}
		catch (Throwable t) {
			// as Gateway MVC's own responses do with no error handler: the dispatcher's resolvers decide
			throw new ServletException(t);
		}
	}

}
