package dev.resiliencegateway.exchange.transport;

import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.Header;

import dev.resiliencegateway.edge.EdgeRules;

/**
 * A replica's response head checked the strict way before any of it is relayed. Apache HttpClient
 * is lenient where a proxy must not be: it reads {@code Content-Length: +3} as 3, takes the first of
 * two different Content-Length values, and lets Transfer-Encoding win over a Content-Length without
 * closing the connection. A response whose length two parsers could read differently is refused
 * (502) and its connection closed, so no bytes of it can reach the next request on that connection.
 */
final class ResponseFraming {

	private ResponseFraming() {
	}

	private static String printable(String s) {
		return EdgeRules.printable(s, 32);
	}

	/** What is wrong with the response head, or {@code null} when it is sound. */
	static String violation(ClassicHttpResponse response, int maxHeaderSize) {
		Header[] lengths = response.getHeaders("Content-Length");
		Header[] codings = response.getHeaders("Transfer-Encoding");
		if (lengths.length > 1) {
			return "more than one Content-Length";
		}
		if (lengths.length == 1 && !digits(lengths[0].getValue())) {
			return "Content-Length '" + printable(lengths[0].getValue()) + "' is not a number";
		}
		if (codings.length > 0) {
			if (lengths.length > 0) {
				return "both Content-Length and Transfer-Encoding";
			}
			if (codings.length > 1 || !codings[0].getValue().trim().equalsIgnoreCase("chunked")) {
				return "Transfer-Encoding other than a single 'chunked'";
			}
		}
		int size = 0;
		for (Header h : response.getHeaders()) {
			size += h.getName().length() + h.getValue().length() + 4;
			if (!fieldValue(h.getValue())) {
				return "a control character in header field " + printable(h.getName());
			}
		}
		if (size > maxHeaderSize) {
			return "response header fields of " + size + " bytes (the limit is " + maxHeaderSize + ")";
		}
		return null;
	}

	private static boolean digits(String value) {
		if (value.isEmpty() || value.length() > 18) {
			return false;
		}
		for (int i = 0; i < value.length(); i++) {
			char c = value.charAt(i);
			if (c < '0' || c > '9') {
				return false;
			}
		}
		return true;
	}

	private static boolean fieldValue(String value) {
		for (int i = 0; i < value.length(); i++) {
			char c = value.charAt(i);
			if ((c < 0x20 && c != '\t') || c == 0x7f) {
				return false;
			}
		}
		return true;
	}

}
