package dev.resiliencegateway.exchange.transport;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import jakarta.servlet.http.HttpServletRequest;

import org.springframework.http.HttpHeaders;
import org.springframework.http.InvalidMediaTypeException;
import org.springframework.http.MediaType;

import dev.resiliencegateway.config.TrustedProxies;
import dev.resiliencegateway.edge.RequestIds;

/**
 * The header fields sent to the replica: the client's (after route filters), minus hop-by-hop
 * fields and the ones Connection names, with {@code X-Forwarded-*} and {@code Forwarded} rebuilt
 * from the real peer. Forwarding headers that came with the request are kept (and appended to) only
 * when the peer is a trusted proxy; from anyone else they are dropped, so a client cannot spoof its
 * address to the replicas (CVE-2025-41235).
 */
public final class OutboundHeaders {

	private static final Set<String> FORWARDING = Set.of("forwarded", "x-forwarded-for", "x-forwarded-host",
			"x-forwarded-proto", "x-forwarded-port", "x-forwarded-prefix");

	private OutboundHeaders() {
	}

	/** Returns name/value pairs, flattened. */
	public static List<String> build(HttpHeaders in, HttpServletRequest servlet, TrustedProxies trustedProxies,
			String requestId, boolean preserveHost) {
		return build(in, servlet, trustedProxies, requestId, preserveHost, false);
	}

	/**
	 * @param dropUnderscores leave out fields whose name has {@code _} (the edge rejects them unless
	 * configured to drop them)
	 */
	public static List<String> build(HttpHeaders in, HttpServletRequest servlet, TrustedProxies trustedProxies,
			String requestId, boolean preserveHost, boolean dropUnderscores) {
		var connection = servlet.getHeaders(HttpHeaders.CONNECTION);
		Set<String> nominated = HopByHop.nominated(connection == null ? null : connection.asIterator());
		boolean trusted = trustedProxies.trusts(servlet.getRemoteAddr());
		Fields f = new Fields(new ArrayList<>(in.size() * 2 + 12), servlet, nominated, trusted, dropUnderscores);
		// forEach, not headerSet(): the request's headers are already one entry per name (a case-insensitive
		// map), and headerSet() builds a second case-insensitive set of the names per request (docs/performance.md)
		in.forEach(f);
		List<String> out = f.out;
		String peer = servlet.getRemoteAddr();
		String proto = servlet.getScheme();
		String host = servlet.getHeader(HttpHeaders.HOST);
		if (preserveHost && host != null) {
			out.add(HttpHeaders.HOST);
			out.add(host);
		}
		add(out, "X-Forwarded-For", f.xff == null ? peer : f.xff + ", " + peer);
		add(out, "X-Forwarded-Proto", f.xfProto != null ? f.xfProto : proto);
		if (f.xfHost != null || host != null) {
			add(out, "X-Forwarded-Host", f.xfHost != null ? f.xfHost : host);
		}
		add(out, "X-Forwarded-Port", f.xfPort != null ? f.xfPort : String.valueOf(servlet.getLocalPort()));
		if (f.xfPrefix != null) {
			add(out, "X-Forwarded-Prefix", f.xfPrefix);
		}
		StringBuilder element = new StringBuilder("for=").append(node(peer)).append(";proto=").append(proto);
		if (host != null) {
			element.append(";host=\"").append(host.replace("\"", "")).append('"');
		}
		add(out, "Forwarded", f.forwarded == null ? element.toString() : f.forwarded + ", " + element);
		add(out, RequestIds.HEADER, requestId);
		return out;
	}

	/** The end-to-end fields, copied one header name at a time; the forwarding fields kept aside. */
	private static final class Fields implements java.util.function.BiConsumer<String, List<String>> {

		final List<String> out;

		private final HttpServletRequest servlet;

		private final Set<String> nominated;

		private final boolean trusted;

		private final boolean dropUnderscores;

		String xff, xfProto, xfHost, xfPort, xfPrefix, forwarded;

		Fields(List<String> out, HttpServletRequest servlet, Set<String> nominated, boolean trusted,
				boolean dropUnderscores) {
			this.out = out;
			this.servlet = servlet;
			this.nominated = nominated;
			this.trusted = trusted;
			this.dropUnderscores = dropUnderscores;
		}

		@Override
		public void accept(String name, List<String> values) {
			String lower = name.toLowerCase(Locale.ROOT);
			if (HopByHop.isHopByHop(lower) || HopByHop.isRederived(lower) || nominated.contains(lower)
					|| lower.equals("x-request-id") || (dropUnderscores && lower.indexOf('_') >= 0)) {
				return;
			}
			if (FORWARDING.contains(lower)) {
				if (trusted) {
					String joined = String.join(", ", values);
					switch (lower) {
						case "x-forwarded-for" -> xff = joined;
						case "x-forwarded-proto" -> xfProto = joined;
						case "x-forwarded-host" -> xfHost = joined;
						case "x-forwarded-port" -> xfPort = joined;
						case "x-forwarded-prefix" -> xfPrefix = joined;
						default -> forwarded = joined;
					}
				}
				return;
			}
			if (lower.equals("content-type")) {
				// Spring's view of the request appends ";charset=UTF-8" once the character encoding
				// filter has set the request's encoding: the replica gets the client's field as sent,
				// unless a route filter changed it
				String raw = servlet.getHeader(HttpHeaders.CONTENT_TYPE);
				if (raw != null && values.size() == 1 && charsetAddedTo(raw, values.get(0))) {
					out.add(name);
					out.add(raw);
					return;
				}
			}
			for (String v : values) {
				out.add(name);
				out.add(v);
			}
		}

	}

	/** Whether {@code value} is {@code raw} as Spring reads it: the same, or with only a charset added. */
	static boolean charsetAddedTo(String raw, String value) {
		if (raw.equals(value)) {
			return true;
		}
		try {
			MediaType sent = MediaType.parseMediaType(raw);
			MediaType seen = MediaType.parseMediaType(value);
			if (sent.getCharset() != null || !sent.equalsTypeAndSubtype(seen)) {
				return false;
			}
			Map<String, String> rest = new java.util.HashMap<>(seen.getParameters());
			rest.remove("charset");
			return rest.equals(sent.getParameters());
		}
		catch (InvalidMediaTypeException e) {
			return false;
		}
	}

	/** RFC 7239 node: IPv6 addresses are bracketed and quoted. */
	private static String node(String address) {
		return address != null && address.indexOf(':') >= 0 ? "\"[" + address + "]\"" : address;
	}

	private static void add(List<String> out, String name, String value) {
		out.add(name);
		out.add(value);
	}

}
