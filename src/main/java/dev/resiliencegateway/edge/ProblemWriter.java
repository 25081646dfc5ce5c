package dev.resiliencegateway.edge;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

import jakarta.servlet.http.HttpServletResponse;

/**
 * Writes a problem+json answer straight to the servlet response, for the places that run before or
 * outside Spring MVC (the edge filter, the error dispatch, Tomcat's own refusals). Same shape as the
 * exchange's problems.
 */
final class ProblemWriter {

	private ProblemWriter() {
	}

	static void write(HttpServletResponse response, int status, String title, String detail, String requestId,
			boolean close) throws IOException {
		response.setStatus(status);
		response.setContentType("application/problem+json");
		if (!response.containsHeader(RequestIds.HEADER)) {
			// an error dispatch the request id filter did not see (Tomcat refused the request first)
			response.setHeader(RequestIds.HEADER, requestId);
		}
		if (close) {
			// Tomcat closes the connection after this answer and swallows no unread body
			response.setHeader("Connection", "close");
		}
		if (status == 405) {
			response.setHeader("Allow", EdgeRules.ALLOW);
		}
		String json = "{\"type\":\"about:blank\",\"title\":" + quote(title) + ",\"status\":" + status + ",\"detail\":"
				+ quote(detail) + ",\"requestId\":" + quote(requestId) + "}";
		byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
		response.setContentLength(bytes.length);
		response.getOutputStream().write(bytes);
	}

	/** The status's reason phrase as a problem title ("Method Not Allowed"), or "Error" for one Spring does not know. */
	static String title(int status) {
		org.springframework.http.HttpStatus known = org.springframework.http.HttpStatus.resolve(status);
		return known == null ? "Error" : known.getReasonPhrase();
	}

	private static String quote(String s) {
		if (s == null) {
			return "null";
		}
		StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
		for (int i = 0; i < s.length(); i++) {
			char c = s.charAt(i);
			if (c == '"' || c == '\\') {
				sb.append('\\').append(c);
			}
			else if (c < 0x20) {
				sb.append(String.format("\\u%04x", (int) c));
			}
			else {
				sb.append(c);
			}
		}
		return sb.append('"').toString();
	}

}
