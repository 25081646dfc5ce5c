package dev.resiliencegateway.exchange.transport;

import java.util.Iterator;
import java.util.Locale;
import java.util.Set;

/**
 * Hop-by-hop fields (RFC 9110 section 7.6.1) never cross the gateway in either direction:
 * Connection and every field it names, Keep-Alive, Proxy-Connection, TE, Trailer, Transfer-Encoding,
 * Upgrade, Proxy-Authenticate, Proxy-Authorization, and HTTP2-Settings (only ever meaningful with an
 * h2c Upgrade, which the gateway never performs). Content-Length and Host are re-derived by the
 * HTTP client for the next hop; Expect was answered by the servlet container already.
 */
public final class HopByHop {

	private static final Set<String> ALWAYS = Set.of("connection", "keep-alive", "proxy-connection", "te", "trailer",
			"transfer-encoding", "upgrade", "proxy-authenticate", "proxy-authorization", "http2-settings");

	private static final Set<String> REDERIVED = Set.of("content-length", "host", "expect");

	private HopByHop() {
	}

	public static boolean isHopByHop(String lowerCaseName) {
		return ALWAYS.contains(lowerCaseName);
	}

	static boolean isRederived(String lowerCaseName) {
		return REDERIVED.contains(lowerCaseName);
	}

	/** The field names (lower case) nominated by the Connection header values, or an empty set. */
	public static Set<String> nominated(Iterator<String> connectionValues) {
		if (connectionValues == null || !connectionValues.hasNext()) {
			return Set.of();
		}
		java.util.HashSet<String> names = new java.util.HashSet<>();
		while (connectionValues.hasNext()) {
			addTokens(connectionValues.next(), names);
		}
		return names;
	}

	private static void addTokens(String value, Set<String> into) {
		for (String token : value.split(",")) {
			String t = token.trim().toLowerCase(Locale.ROOT);
			if (!t.isEmpty()) {
				into.add(t);
			}
		}
	}

}
