package dev.resiliencegateway.edge;

import java.io.IOException;
import java.util.concurrent.ThreadLocalRandom;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * Gives every request on the traffic port an {@code X-Request-Id}: the client's when it is
 * well-formed (1-128 characters of letters, digits and {@code . _ : -}), a fresh random one
 * otherwise. The id goes to the replica and back to the client, and into every problem response.
 */
public final class RequestIds implements Filter {

	public static final String HEADER = "X-Request-Id";

	static final String ATTRIBUTE = RequestIds.class.getName();

	private static final char[] HEX = "0123456789abcdef".toCharArray();

	@Override
	public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain)
			throws IOException, ServletException {
		HttpServletRequest request = (HttpServletRequest) req;
		String id = request.getHeader(HEADER);
		if (!isWellFormed(id)) {
			id = generate();
		}
		request.setAttribute(ATTRIBUTE, id);
		((HttpServletResponse) res).setHeader(HEADER, id);
		chain.doFilter(req, res);
	}

	/** The request's id; generates one if the filter did not run (e.g. a forward). */
	public static String of(HttpServletRequest request) {
		Object id = request.getAttribute(ATTRIBUTE);
		if (id instanceof String s) {
			return s;
		}
		String fresh = generate();
		request.setAttribute(ATTRIBUTE, fresh);
		return fresh;
	}

	static boolean isWellFormed(String id) {
		if (id == null || id.isEmpty() || id.length() > 128) {
			return false;
		}
		for (int i = 0; i < id.length(); i++) {
			char c = id.charAt(i);
			boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.'
					|| c == '_' || c == ':' || c == '-';
			if (!ok) {
				return false;
			}
		}
		return true;
	}

	/** 128 random bits as 32 hex digits; ThreadLocalRandom, not UUID's SecureRandom, to stay off a shared lock. */
	static String generate() {
		ThreadLocalRandom r = ThreadLocalRandom.current();
		char[] out = new char[32];
		long a = r.nextLong();
		long b = r.nextLong();
		for (int i = 0; i < 16; i++) {
			out[i] = HEX[(int) (a >>> (60 - 4 * i)) & 0xf];
			out[16 + i] = HEX[(int) (b >>> (60 - 4 * i)) & 0xf];
		}
		return new String(out);
	}

}
