package dev.resiliencegateway.exchange.transport;

import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpVersion;
import org.apache.hc.core5.http.ParseException;
import org.apache.hc.core5.http.config.Http1Config;
import org.apache.hc.core5.http.impl.io.DefaultHttpResponseParserFactory;
import org.apache.hc.core5.http.io.HttpMessageParserFactory;
import org.apache.hc.core5.http.message.BasicLineParser;
import org.apache.hc.core5.http.message.StatusLine;
import org.apache.hc.core5.util.CharArrayBuffer;

/**
 * Reads a replica's status line and header field lines the strict way. Apache HttpClient's own
 * response parser ({@code LenientHttpResponseParser}) skips any line it cannot read as a status line
 * and waits for one that it can: a replica answering {@code HTTP/1.1 200OK}, {@code http/1.1 200 OK}
 * or {@code ICY 200 OK} held its request until the per-try timeout, and a GET was tried three times
 * before its 504 (26 s, found 2026-12-04 with a replica sending them). HttpCore's parser, used here
 * instead, refuses such a line at once (502). Two checks neither parser makes, written here because
 * no library offers them as an option:
 *
 * <ul>
 * <li>a status outside 100-599 (RFC 9110 section 15: the only valid codes; the gateway's retry and
 * health rules could not classify one either);</li>
 * <li>a field name that is not a token (RFC 9110 section 5.1). HttpCore trims the name, so a line
 * that starts with whitespace right after the status line, which RFC 9112 section 2.2 says to
 * refuse or ignore, became a field: {@code " Transfer-Encoding: chunked"} was read as the body's
 * framing where a conforming reader would ignore the line. A name with a space or separator
 * ({@code X A}) was relayed to clients as it came.</li>
 * </ul>
 *
 * <p>A protocol version other than 1.x is refused as well ({@code HTTP/0.9} had no status line).
 * Field values are read as they came (HttpCore's {@code BasicLineParser}, not its lazy one, which
 * turns a bare CR into a space), so {@link ResponseFraming} still refuses control characters in them.
 */
final class StrictResponseHeads extends BasicLineParser {

	private StrictResponseHeads() {
	}

	/** The response parsers of the upstream connections. */
	static HttpMessageParserFactory<ClassicHttpResponse> parsers(Http1Config config) {
		return new DefaultHttpResponseParserFactory(config, new StrictResponseHeads(), null);
	}

	@Override
	public StatusLine parseStatusLine(CharArrayBuffer buffer) throws ParseException {
		StatusLine line = super.parseStatusLine(buffer);
		int status = line.getStatusCode();
		if (status < 100 || status > 599) {
			throw new ParseException("Status " + status + " outside 100-599", buffer, 0, buffer.length());
		}
		if (line.getProtocolVersion().getMajor() != HttpVersion.HTTP_1_1.getMajor()) {
			throw new ParseException("Not an HTTP/1.x status line", buffer, 0, buffer.length());
		}
		return line;
	}

	@Override
	public Header parseHeader(CharArrayBuffer buffer) throws ParseException {
		int colon = buffer.indexOf(':');
		for (int i = 0; i < colon; i++) {
			if (!tchar(buffer.charAt(i))) {
				throw new ParseException("Invalid header field name", buffer, 0, buffer.length(), i);
			}
		}
		if (colon == 0) {
			throw new ParseException("Empty header field name", buffer, 0, buffer.length(), 0);
		}
		return super.parseHeader(buffer); // no colon at all: HttpCore refuses the line
	}

	/** RFC 9110 section 5.6.2: the characters of a token. */
	static boolean tchar(char c) {
		return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
	}

}
