package dev.resiliencegateway.edge;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Set;

import dev.resiliencegateway.config.GatewayConfig.EdgeSettings;

/**
 * The gateway's own checks of a request head, after Tomcat parsed it and before any route sees it.
 * Tomcat already rejects broken framing and field syntax; these rules add what a proxy needs on top:
 * one interpretation of the method and the path for the gateway and every replica behind it, the
 * limits with their precise statuses, and HTTP/1.0 framing that could desynchronise a connection.
 *
 * <p>Plain Java over strings, so every rule is a table row in a unit test.
 */
public final class EdgeRules {

	/** Methods forwarded without configuration (RFC 9110 section 9 plus PATCH), exactly as spelled. */
	public static final Set<String> STANDARD_METHODS = Set.of("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS");

	static final String ALLOW = "GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS";

	/** Why a request is refused; {@code close} asks for {@code Connection: close} on the answer. */
	public record Rejection(int status, String title, String detail, boolean close) {
	}

	private EdgeRules() {
	}

	/** The method rule: TRACE and CONNECT 405, anything not standard or configured 501 (case-sensitive). */
	public static Rejection method(String method, EdgeSettings settings) {
		if (method.equals("TRACE") || method.equals("CONNECT")) {
			return new Rejection(405, "Method not allowed", "the gateway does not forward " + method, false);
		}
		if (!STANDARD_METHODS.contains(method) && !settings.extraMethods().contains(method)) {
			String hint = STANDARD_METHODS.contains(method.toUpperCase(Locale.ROOT))
					? " (methods are case-sensitive: did you mean " + method.toUpperCase(Locale.ROOT) + "?)" : "";
			return new Rejection(501, "Method not implemented", "method '" + printable(method) + "' is not forwarded"
					+ hint, false);
		}
		return null;
	}

	/** Request line length: method, target and version, as they arrived. */
	public static Rejection requestLine(int length, EdgeSettings settings) {
		if (length > settings.maxRequestLine()) {
			return new Rejection(414, "URI too long", "the request line has " + length + " bytes; the limit is "
					+ settings.maxRequestLine(), true);
		}
		return null;
	}

	/** Header count and total size (name, value and the four bytes of ": " and CRLF per field). */
	public static Rejection headerTotals(int count, int size, EdgeSettings settings) {
		if (count > settings.maxHeaderCount()) {
			return new Rejection(431, "Request header fields too large", "the request has " + count
					+ " header fields; the limit is " + settings.maxHeaderCount(), true);
		}
		if (size > settings.maxHeaderSize()) {
			return new Rejection(431, "Request header fields too large", "the request's header fields have " + size
					+ " bytes; the limit is " + settings.maxHeaderSize(), true);
		}
		return null;
	}

	/** A field name with {@code _}: rejected unless the gateway drops such fields. */
	public static Rejection headerName(String name, EdgeSettings settings) {
		if (name.indexOf('_') >= 0 && !settings.dropUnderscoreHeaders()) {
			return new Rejection(400, "Bad request", "header field '" + printable(name)
					+ "' has an underscore, which backends may read as '-'", true);
		}
		return null;
	}

	/**
	 * HTTP/1.0 has no chunked framing: a Transfer-Encoding there is faulty framing (RFC 9112 section
	 * 6.1), and whatever follows on the connection could be read as another request.
	 */
	public static Rejection framing(String protocol, boolean hasTransferEncoding) {
		if (hasTransferEncoding && !"HTTP/1.1".equals(protocol)) {
			return new Rejection(400, "Bad request", "Transfer-Encoding in an " + protocol + " request", true);
		}
		return null;
	}

	/** Only {@code 100-continue} is a known expectation (RFC 9110 section 10.1.1); HTTP/1.0 ignores Expect. */
	public static Rejection expect(String protocol, String expect) {
		if (expect != null && "HTTP/1.1".equals(protocol) && !expect.trim().equalsIgnoreCase("100-continue")) {
			return new Rejection(417, "Expectation failed", "unknown expectation '" + printable(expect) + "'", false);
		}
		return null;
	}

	/** RFC 9110 section 9.3.7: an OPTIONS request with content must say what the content is. */
	public static Rejection optionsBody(String method, boolean hasBody, String contentType) {
		if (method.equals("OPTIONS") && hasBody && contentType == null) {
			return new Rejection(400, "Bad request", "an OPTIONS request with content needs a Content-Type", true);
		}
		return null;
	}

	/**
	 * The path, raw as it arrived (percent-encoded, before Tomcat's normalisation): the gateway
	 * forwards it as it is, so it must mean the same to the route matcher and to every replica.
	 * Rejected: dot-segments in any spelling ({@code ..}, {@code %2e%2E}, {@code ..;x}), empty
	 * segments ({@code //}), encoded or raw slashes and backslashes inside a segment, double
	 * encoding of those, NUL and control characters, and percent-encoding that is not valid UTF-8
	 * (such as the overlong {@code %c0%ae}). The way Spring Security's StrictHttpFirewall does it.
	 */
	public static Rejection path(String rawPath) {
		if (rawPath == null || !rawPath.startsWith("/")) {
			return bad("the request target must be an absolute path");
		}
		byte[] decoded = null; // only when the path has percent-encoding: most have none
		int n = 0;
		boolean highBytes = false;
		for (int i = 0; i < rawPath.length(); i++) {
			char c = rawPath.charAt(i);
			if (c == '\\' || c < 0x21 || c == 0x7f) {
				return bad("the path has a backslash, a space or a control character");
			}
			if (c == '%') {
				if (i + 2 >= rawPath.length() || hex(rawPath.charAt(i + 1)) < 0 || hex(rawPath.charAt(i + 2)) < 0) {
					return bad("the path has a malformed percent-encoding");
				}
				int b = hex(rawPath.charAt(i + 1)) * 16 + hex(rawPath.charAt(i + 2));
				if (b == '/' || b == '\\' || b < 0x20 || b == 0x7f) {
					return bad("the path encodes a slash, a backslash or a control character");
				}
				if (b == '%' && i + 4 < rawPath.length() && hex(rawPath.charAt(i + 3)) >= 0 && hex(rawPath.charAt(i + 4)) >= 0) {
					return bad("the path is percent-encoded twice");
				}
				if (decoded == null) {
					decoded = new byte[rawPath.length()];
					for (int j = 0; j < i; j++) {
						decoded[n++] = (byte) rawPath.charAt(j);
					}
				}
				decoded[n++] = (byte) b;
				highBytes |= b >= 0x80;
				i += 2;
			}
			else if (decoded != null) {
				decoded[n++] = (byte) c;
			}
		}
		if (highBytes) {
			try {
				StandardCharsets.UTF_8.newDecoder()
					.onMalformedInput(CodingErrorAction.REPORT)
					.onUnmappableCharacter(CodingErrorAction.REPORT)
					.decode(ByteBuffer.wrap(decoded, 0, n));
			}
			catch (CharacterCodingException e) {
				return bad("the path's percent-encoding is not valid UTF-8");
			}
		}
		String path = rawPath.length() > 1 && rawPath.endsWith("/") ? rawPath.substring(1, rawPath.length() - 1)
				: rawPath.substring(1);
		if (rawPath.length() > 1 && path.isEmpty()) {
			return bad("the path has an empty segment (//)");
		}
		for (String segment : path.split("/", -1)) {
			if (segment.isEmpty() && rawPath.length() > 1) {
				return bad("the path has an empty segment (//)");
			}
			int semicolon = segment.indexOf(';');
			String value = (semicolon >= 0 ? segment.substring(0, semicolon) : segment).replace("%2e", ".").replace("%2E", ".");
			if (value.equals(".") || value.equals("..")) {
				return bad("the path has a dot-segment (. or ..)");
			}
		}
		return null;
	}

	private static Rejection bad(String detail) {
		return new Rejection(400, "Bad request", detail, true);
	}

	private static int hex(char c) {
		return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
	}

	/** A value safe to echo in a problem detail: printable ASCII, at most 64 characters. */
	static String printable(String s) {
		return printable(s, 64);
	}

	/** A value safe to echo in a message: printable ASCII (others as '?'), at most {@code max} characters. */
	public static String printable(String s, int max) {
		StringBuilder sb = new StringBuilder();
		for (int i = 0; i < s.length() && sb.length() < max; i++) {
			char c = s.charAt(i);
			sb.append(c >= 0x20 && c < 0x7f && c != '"' && c != '\\' ? c : '?');
		}
		return sb.toString();
	}

}
