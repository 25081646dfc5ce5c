package dev.resiliencegateway.edge;

import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;

import org.apache.tomcat.util.http.FastHttpDateFormat;
import org.apache.tomcat.util.http.parser.HttpParser;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The 503 for a request over the traffic port's cap, given by Tomcat's poller thread from the bytes it
 * has just read, before the connection is handed to the virtual-thread scheduler
 * ({@link SheddingNioProtocol}). Under a burst the scheduler's queue is where a refusal waited: every
 * request there was parsed and only then refused by {@link LoadShedding}, in microseconds, after
 * hundreds of milliseconds in the queue (docs/benchmarks.md, "Where a refusal's time goes").
 *
 * <p>Only for a request that is plainly there: a complete head in the bytes read, an origin-form
 * target, HTTP/1.0 or 1.1, CRLF line ends, field names that are tokens, no {@code Transfer-Encoding},
 * at most one {@code Content-Length} and all of that body already read, so closing after the answer
 * leaves no unread bytes behind (which would reset the connection and could destroy the answer before
 * the client reads it). Anything else, and every TLS connection, goes the normal way: Tomcat parses
 * it (and answers a malformed one with its 400) and {@link LoadShedding} refuses it. The answer is
 * the valve's: 503, {@code Retry-After: 1}, a fresh {@code X-Request-Id}, the same problem+json body.
 * Unlike Tomcat, which closes the connection after every 503, the connection stays open for the
 * client's next request when HTTP/1.1 allows it: under a burst, closing turned each refusal into a
 * reconnect on a saturated core (96 % of the refusals came on new connections, the listen queue
 * overflowed; docs/benchmarks.md), and the next request on a kept connection is refused, or served,
 * at the poller's speed.
 *
 * <p>Written by hand because nothing in Tomcat acts before its request parser has run on a request
 * thread: a valve, a filter and every connector setting come after that queue.
 */
public final class EarlyRefusal {

	private static final Logger accessLog = LoggerFactory.getLogger(AccessLog.LOGGER);

	private static final DateTimeFormatter LOG_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSXXX");

	/** A header block longer than this many fields is left to Tomcat (which counts them against its limits). */
	private static final int MAX_FIELDS = 100;

	/**
	 * What the head says that the answer needs; {@code keepAlive} when the connection may carry the
	 * client's next request (HTTP/1.1, no {@code Connection: close}, no bytes after this request).
	 */
	record Head(String method, String path, String traceparent, boolean keepAlive) {
	}

	/** The answer's bytes, and whether the connection stays open after it. */
	record Answer(byte[] bytes, boolean keepAlive) {
	}

	private final int limit;

	private final Runnable onShed;

	private final boolean logAccess;

	/**
	 * @param limit connections being served at or beyond which a new request is refused
	 * @param onShed counts a refusal (the same metric as {@link LoadShedding}'s)
	 * @param logAccess write the access log's line for each refusal (when the access log is on)
	 */
	public EarlyRefusal(int limit, Runnable onShed, boolean logAccess) {
		this.limit = limit;
		this.onShed = onShed;
		this.logAccess = logAccess;
	}

	int limit() {
		return limit;
	}

	/**
	 * The answer to a request whose bytes are {@code bytes[from, to)}, or null when those bytes are not
	 * plainly one complete request (then nothing was counted or logged and the caller puts them back).
	 */
	Answer answer(byte[] bytes, int from, int to) {
		Head head = parse(bytes, from, to);
		if (head == null) {
			return null;
		}
		onShed.run();
		String id = RequestIds.generate();
		byte[] body = LoadShedding.BODY;
		boolean withBody = !head.method().equals("HEAD");
		String fields = "HTTP/1.1 503 Service Unavailable\r\nDate: " + FastHttpDateFormat.getCurrentDate()
				+ "\r\nRetry-After: 1\r\n" + RequestIds.HEADER + ": " + id
				+ "\r\nContent-Type: application/problem+json\r\nContent-Length: " + body.length
				+ (head.keepAlive() ? "\r\n\r\n" : "\r\nConnection: close\r\n\r\n");
		byte[] fieldBytes = fields.getBytes(StandardCharsets.ISO_8859_1);
		byte[] answer = new byte[fieldBytes.length + (withBody ? body.length : 0)];
		System.arraycopy(fieldBytes, 0, answer, 0, fieldBytes.length);
		if (withBody) {
			System.arraycopy(body, 0, answer, fieldBytes.length, body.length);
		}
		if (logAccess && accessLog.isInfoEnabled()) {
			// the line AccessLog writes for a request no route took (AccessLog.PATTERN)
			String trace = AccessLog.traceId(head.traceparent());
			accessLog.info(LOG_TIME.format(OffsetDateTime.now()) + " " + head.method() + " " + head.path() + " - status=503 bytes="
					+ (withBody ? body.length : 0) + " duration_ms=0 id=" + id + " trace=" + (trace == null ? "-" : trace));
		}
		return new Answer(answer, head.keepAlive());
	}

	/** The head of the one request in {@code b[from, to)}, or null unless it is plainly complete (class comment). */
	static Head parse(byte[] b, int from, int to) {
		int i = from;
		int m = i;
		while (i < to && tchar(b[i])) {
			i++;
		}
		if (i == m || i - m > 32 || i >= to || b[i] != ' ') {
			return null;
		}
		String method = ascii(b, m, i);
		int t = ++i;
		if (i >= to || b[i] != '/') {
			return null;
		}
		int query = -1;
		while (i < to && b[i] > 0x20 && b[i] < 0x7f) {
			if (b[i] == '?' && query < 0) {
				query = i;
			}
			i++;
		}
		if (i >= to || b[i] != ' ') {
			return null;
		}
		String path = ascii(b, t, query < 0 ? i : query);
		i++;
		if (to - i < 10 || !matches(b, i, "HTTP/1.") || (b[i + 7] != '0' && b[i + 7] != '1') || b[i + 8] != '\r'
				|| b[i + 9] != '\n') {
			return null;
		}
		boolean keepAlive = b[i + 7] == '1';
		i += 10;
		long contentLength = 0;
		boolean lengthSeen = false;
		String traceparent = null;
		int fields = 0;
		while (true) {
			if (to - i < 2) {
				return null;
			}
			if (b[i] == '\r') {
				if (b[i + 1] != '\n') {
					return null;
				}
				i += 2;
				break;
			}
			if (++fields > MAX_FIELDS) {
				return null;
			}
			int n = i;
			while (i < to && tchar(b[i])) {
				i++;
			}
			if (i == n || i >= to || b[i] != ':') {
				return null;
			}
			int nameEnd = i++;
			int v = i;
			while (i < to && (b[i] == '\t' || ((b[i] & 0xff) >= 0x20 && b[i] != 0x7f))) {
				i++;
			}
			if (to - i < 2 || b[i] != '\r' || b[i + 1] != '\n') {
				return null;
			}
			int valueEnd = i;
			i += 2;
			if (named(b, n, nameEnd, "content-length")) {
				if (lengthSeen) {
					return null;
				}
				lengthSeen = true;
				contentLength = digits(b, v, valueEnd);
				if (contentLength < 0) {
					return null;
				}
			}
			else if (named(b, n, nameEnd, "transfer-encoding")) {
				return null;
			}
			else if (named(b, n, nameEnd, "connection")) {
				keepAlive &= !ascii(b, v, valueEnd).toLowerCase(java.util.Locale.ROOT).contains("close");
			}
			else if (named(b, n, nameEnd, "traceparent")) {
				traceparent = ascii(b, v, valueEnd).trim();
			}
		}
		if (to - i < contentLength) {
			return null; // the body is still on its way: Tomcat reads it (and swallows it) before closing
		}
		// bytes after this request (pipelined): closed on after the answer, as Tomcat does after its 503
		return new Head(method, path, traceparent, keepAlive && to - i == contentLength);
	}

	/** RFC 9110's tchar, as Tomcat's own parser reads the same bytes. */
	private static boolean tchar(byte c) {
		return HttpParser.isToken(c & 0xff);
	}

	private static boolean matches(byte[] b, int at, String ascii) {
		for (int k = 0; k < ascii.length(); k++) {
			if (b[at + k] != ascii.charAt(k)) {
				return false;
			}
		}
		return true;
	}

	/** Whether {@code b[from, to)} is the lower-case {@code name}, ignoring ASCII case. */
	private static boolean named(byte[] b, int from, int to, String name) {
		if (to - from != name.length()) {
			return false;
		}
		for (int k = 0; k < name.length(); k++) {
			int c = b[from + k];
			if (c >= 'A' && c <= 'Z') {
				c += 'a' - 'A';
			}
			if (c != name.charAt(k)) {
				return false;
			}
		}
		return true;
	}

	/** The decimal value of {@code b[from, to)} without surrounding blanks; -1 unless 1 to 18 digits. */
	private static long digits(byte[] b, int from, int to) {
		while (from < to && (b[from] == ' ' || b[from] == '\t')) {
			from++;
		}
		while (to > from && (b[to - 1] == ' ' || b[to - 1] == '\t')) {
			to--;
		}
		if (to == from || to - from > 18) {
			return -1;
		}
		long value = 0;
		for (int k = from; k < to; k++) {
			if (b[k] < '0' || b[k] > '9') {
				return -1;
			}
			value = value * 10 + (b[k] - '0');
		}
		return value;
	}

	private static String ascii(byte[] b, int from, int to) {
		return new String(b, from, to - from, StandardCharsets.ISO_8859_1);
	}

}
