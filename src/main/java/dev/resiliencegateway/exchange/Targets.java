package dev.resiliencegateway.exchange;

import java.net.URI;
import java.nio.charset.StandardCharsets;

import jakarta.servlet.http.HttpServletRequest;

import org.springframework.cloud.gateway.server.mvc.common.MvcUtils;
import org.springframework.http.HttpHeaders;
import org.springframework.util.LinkedMultiValueMap;
import org.springframework.web.servlet.function.ServerRequest;
import org.springframework.web.util.UriComponentsBuilder;
import org.springframework.web.util.UriUtils;

/** The path and query an attempt sends to its replica. */
final class Targets {

	private Targets() {
	}

	/**
	 * The request's raw path and query, so percent-encoding and parameter order stay as the client
	 * sent them. When a route filter added query parameters (Gateway MVC keeps those in
	 * {@code params()}, not in the URI), they are appended, encoded. Form posts are left alone: asking
	 * for their parameters would consume the body.
	 */
	static String of(ServerRequest request) {
		boolean rebuilt = request.getClass().getSimpleName().startsWith("Built");
		if (!rebuilt) {
			// no route filter changed the request: the servlet request's raw path and query are the
			// client's, without building and parsing a java.net.URI (3 % of the CPU of a GET)
			HttpServletRequest servlet = request.servletRequest();
			String path = servlet.getRequestURI();
			String query = servlet.getQueryString();
			String target = path == null || path.isEmpty() ? "/" : path;
			return query == null || query.isEmpty() ? target : target + '?' + query;
		}
		URI uri = request.uri();
		String path = uri.getRawPath();
		String query = uri.getRawQuery();
		String sent = request.servletRequest().getQueryString();
		if (sent != null && query != null && sameBytes(sent, query)) {
			// a filter that rebuilt the URI (StripPrefix, RewritePath) re-encodes the query: "%zz"
			// becomes "%25zz"; the client's spelling goes out when the bytes it stands for are the same
			query = sent;
		}
		StringBuilder sb = new StringBuilder(path == null || path.isEmpty() ? "/" : path);
		if (query != null && !query.isEmpty()) {
			sb.append('?').append(query);
		}
		if (!isForm(request)) {
			var inQuery = UriComponentsBuilder.newInstance().query(query).build().getQueryParams().keySet();
			var added = new LinkedMultiValueMap<String, String>();
			request.params().forEach((k, v) -> {
				if (!inQuery.contains(UriUtils.encode(k, StandardCharsets.UTF_8))) {
					added.put(k, v);
				}
			});
			if (!added.isEmpty()) {
				String extra = UriComponentsBuilder.newInstance()
					.queryParams(MvcUtils.encodeQueryParams(added))
					.build(true)
					.getQuery();
				sb.append(query == null || query.isEmpty() ? '?' : '&').append(extra);
			}
		}
		return sb.toString();
	}

	/** Whether two spellings of a query stand for the same bytes (valid %XX decoded, anything else literal). */
	static boolean sameBytes(String a, String b) {
		return a.equals(b) || java.util.Arrays.equals(bytes(a), bytes(b));
	}

	private static byte[] bytes(String s) {
		java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(s.length());
		for (int i = 0; i < s.length(); i++) {
			char c = s.charAt(i);
			int hi = i + 2 < s.length() && c == '%' ? Character.digit(s.charAt(i + 1), 16) : -1;
			int lo = hi >= 0 ? Character.digit(s.charAt(i + 2), 16) : -1;
			if (lo >= 0) {
				out.write(hi * 16 + lo);
				i += 2;
			}
			else {
				byte[] raw = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
				out.write(raw, 0, raw.length);
			}
		}
		return out.toByteArray();
	}

	private static boolean isForm(ServerRequest request) {
		String type = request.headers().firstHeader(HttpHeaders.CONTENT_TYPE);
		return type != null && (type.startsWith("application/x-www-form-urlencoded") || type.startsWith("multipart/"));
	}

}
