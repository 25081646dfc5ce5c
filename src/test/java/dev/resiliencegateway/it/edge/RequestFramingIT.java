package dev.resiliencegateway.it.edge;

import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;

import dev.resiliencegateway.it.edge.RecordingReplica.Received;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/**
 * Rows 1-19 of the hardening catalogue (shared/hardening.md, a.1): how a request's length is framed.
 * One test per row, each with its variants (spellings, casing, whitespace, order); every variant
 * carries a smuggled request after its body, which must never reach the replica.
 */
class RequestFramingIT extends EdgeIT {

	static String post(String path, String... headers) {
		String[] lines = new String[headers.length + 2];
		lines[0] = "POST " + path + " HTTP/1.1";
		lines[1] = "Host: x";
		System.arraycopy(headers, 0, lines, 2, headers.length);
		return head(lines);
	}

	// ---- row 1: CL.TE / TE.CL -------------------------------------------------------------------

	/**
	 * Tomcat takes the RFC 9112 section 6.3 alternative to a 400: Transfer-Encoding wins, Content-Length
	 * is dropped, and the connection is closed after the answer, so whatever followed the chunked body
	 * is never read as a request. The replica gets one request, framed by its chunked body alone.
	 */
	static Case teWinsAndCloses(String request, String body) {
		return new Case(request, java.util.Set.of(200), Conn.CLOSES, 1, r -> {
			assertThat(r.get(0).bodyText()).isEqualTo(body);
			assertThat(r.get(0).headers("Content-Length")).allMatch(v -> v.equals(String.valueOf(body.length())));
		});
	}

	static Stream<Arguments> row01() {
		return Stream.of(
				arguments("CL then TE", teWinsAndCloses(post("/r01", "Content-Length: 4", "Transfer-Encoding: chunked")
						+ "0\r\n\r\n" + SMUGGLED, "")),
				arguments("TE then CL", teWinsAndCloses(post("/r01", "Transfer-Encoding: chunked", "Content-Length: 40")
						+ "0\r\n\r\n" + SMUGGLED, "")),
				arguments("TE upper case, CL zero", teWinsAndCloses(post("/r01", "Content-Length: 0", "Transfer-Encoding: CHUNKED")
						+ "5\r\nhello\r\n0\r\n\r\n" + SMUGGLED, "hello")),
				arguments("GET with both", teWinsAndCloses("GET /r01 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
						+ "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + SMUGGLED, "")));
	}

	@ParameterizedTest(name = "row 1, CL.TE / TE.CL: {0}")
	@MethodSource
	void row01(String variant, Case c) throws Exception {
		check(c);
	}

	// ---- rows 2-4: Content-Length values ------------------------------------------------------------

	static Stream<Arguments> row02() {
		return Stream.of(
				arguments("two lines 5 and 6", rejected(post("/r02", "Content-Length: 5", "Content-Length: 6") + "hello!" + SMUGGLED, 400)),
				arguments("one line 5, 6", rejected(post("/r02", "Content-Length: 5, 6") + "hello!" + SMUGGLED, 400)),
				arguments("6 then 5", rejected(post("/r02", "Content-Length: 6", "Content-Length: 5") + "hello!" + SMUGGLED, 400)));
	}

	@ParameterizedTest(name = "row 2, duplicate Content-Length, different: {0}")
	@MethodSource
	void row02(String variant, Case c) throws Exception {
		check(c);
	}

	static Stream<Arguments> row03() {
		return Stream.of(
				arguments("two lines 5", rejected(post("/r03", "Content-Length: 5", "Content-Length: 5") + "hello" + SMUGGLED, 400)),
				arguments("one line 5, 5", rejected(post("/r03", "Content-Length: 5, 5") + "hello" + SMUGGLED, 400)),
				arguments("one line 5,5", rejected(post("/r03", "Content-Length: 5,5") + "hello" + SMUGGLED, 400)));
	}

	@ParameterizedTest(name = "row 3, duplicate Content-Length, identical: {0}")
	@MethodSource
	void row03(String variant, Case c) throws Exception {
		check(c);
	}

	static Stream<Arguments> row04() {
		return Stream.of("+5", "-1", "0x5", "5 5", "", "18446744073709551616", "99999999999999999999", "5a", "5.0",
				"\u00b5", "0005x")
			.map(v -> arguments("Content-Length: '" + v + "'", rejected(post("/r04", "Content-Length: " + v) + "hello"
					+ SMUGGLED, 400)));
	}

	@ParameterizedTest(name = "row 4, malformed Content-Length: {0}")
	@MethodSource
	void row04(String variant, Case c) throws Exception {
		check(c);
	}

	// ---- rows 5-8: Transfer-Encoding ---------------------------------------------------------------

	static Case badCoding(String path, String... te) {
		return rejected(post(path, te) + "5\r\nhello\r\n0\r\n\r\n" + SMUGGLED, 400, 501);
	}

	static Stream<Arguments> row05() {
		return Stream.of(arguments("chunked, gzip", badCoding("/r05", "Transfer-Encoding: chunked, gzip")),
				arguments("gzip", badCoding("/r05", "Transfer-Encoding: gzip")),
				arguments("chunked then gzip lines", badCoding("/r05", "Transfer-Encoding: chunked", "Transfer-Encoding: gzip")),
				arguments("deflate", badCoding("/r05", "Transfer-Encoding: deflate")));
	}

	@ParameterizedTest(name = "row 5, chunked not final: {0}")
	@MethodSource
	void row05(String variant, Case c) throws Exception {
		check(c);
	}

	static Stream<Arguments> row06() {
		return Stream.of(arguments("chunked, chunked", badCoding("/r06", "Transfer-Encoding: chunked, chunked")),
				arguments("two lines", badCoding("/r06", "Transfer-Encoding: chunked", "Transfer-Encoding: chunked")),
				arguments("two lines, mixed case", badCoding("/r06", "Transfer-Encoding: chunked", "transfer-encoding: Chunked")));
	}

	@ParameterizedTest(name = "row 6, chunked twice: {0}")
	@MethodSource
	void row06(String variant, Case c) throws Exception {
		check(c);
	}

	static Stream<Arguments> row07() {
		return Stream.of("gzip, chunked", "identity", "xchunked", "chunked;x=1", "chunkedx", "chunk", "\"chunked\"",
				"identity, chunked")
			.map(v -> arguments(v, badCoding("/r07", "Transfer-Encoding: " + v)));
	}

	@ParameterizedTest(name = "row 7, unknown coding: {0}")
	@MethodSource
	void row07(String variant, Case c) throws Exception {
		check(c);
	}

	static Stream<Arguments> row08() {
		return Stream.of(
				arguments("space before colon", rejected(post("/r08", "Transfer-Encoding : chunked") + "5\r\nhello\r\n0\r\n\r\n" + SMUGGLED, 400)),
				arguments("tab before colon", rejected(post("/r08", "Transfer-Encoding\t: chunked") + "5\r\nhello\r\n0\r\n\r\n" + SMUGGLED, 400)),
				arguments("vertical tab", rejected(post("/r08", "Transfer-Encoding: \u000bchunked") + "5\r\nhello\r\n0\r\n\r\n" + SMUGGLED, 400)),
				arguments("form feed", rejected(post("/r08", "Transfer-Encoding: \fchunked") + "5\r\nhello\r\n0\r\n\r\n" + SMUGGLED, 400)),
				// RFC 9112 section 5.2: a proxy may replace obs-fold with SP before interpreting; Tomcat does,
				// so the gateway reads one chunked body and re-frames it for the replica: one interpretation
				arguments("obs-fold, unfolded", new Case(post("/r08", "Transfer-Encoding:", " chunked") + "5\r\nhello\r\n0\r\n\r\n",
						java.util.Set.of(200), Conn.KEEPS, 1, r -> assertThat(r.get(0).bodyText()).isEqualTo("hello"))),
				arguments("underscore name", rejected(post("/r08", "Transfer_Encoding: chunked") + "5\r\nhello\r\n0\r\n\r\n" + SMUGGLED, 400)),
				arguments("leading space in name", rejected(post("/r08", " Transfer-Encoding: chunked") + "5\r\nhello\r\n0\r\n\r\n" + SMUGGLED, 400)),
				// optional whitespace and case are valid: one interpretation, a chunked body, forwarded whole
				arguments("tab as OWS, upper case", new Case(post("/r08", "Transfer-Encoding:\tCHUNKED ") + "5\r\nhello\r\n0\r\n\r\n",
						java.util.Set.of(200), Conn.KEEPS, 1, r -> assertThat(r.get(0).bodyText()).isEqualTo("hello"))));
	}

	@ParameterizedTest(name = "row 8, TE obfuscation: {0}")
	@MethodSource
	void row08(String variant, Case c) throws Exception {
		check(c);
	}

	// ---- row 9: HTTP/1.0 with Transfer-Encoding ------------------------------------------------------

	static Stream<Arguments> row09() {
		String te = "POST /r09 HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n";
		return Stream.of(arguments("TE, keep-alive", rejected(te + "\r\n5\r\nhello\r\n0\r\n\r\n" + SMUGGLED, 400)),
				arguments("TE and CL, keep-alive", rejected(te + "Content-Length: 28\r\n\r\n5\r\nhello\r\n0\r\n\r\n" + SMUGGLED, 400)),
				arguments("TE only, no keep-alive", rejected("POST /r09 HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"
						+ "5\r\nhello\r\n0\r\n\r\n" + SMUGGLED, 400)));
	}

	@ParameterizedTest(name = "row 9, HTTP/1.0 with TE: {0}")
	@MethodSource
	void row09(String variant, Case c) throws Exception {
		check(c);
	}

	// ---- rows 10-13: field syntax -------------------------------------------------------------------------

	/** RFC 9112 section 5.2 lets a proxy replace obs-fold with SP: the replica gets one line, one value. */
	static Case unfolded(String request, String name, String value) {
		return new Case(request, java.util.Set.of(200), Conn.KEEPS, 1, r -> {
			assertThat(r.get(0).headers(name)).singleElement().asString().matches(value.replace(" ", "[ \t]+"));
			assertThat(r.get(0).head()).doesNotContain("\r\n ").doesNotContain("\r\n\t");
		});
	}

	static Stream<Arguments> row10() {
		return Stream.of(arguments("space", unfolded(head("GET /r10 HTTP/1.1", "Host: x", "X-A: 1", " folded"), "X-A", "1 folded")),
				arguments("tab", unfolded(head("GET /r10 HTTP/1.1", "Host: x", "X-A: 1", "\tfolded"), "X-A", "1 folded")),
				arguments("fold of Host", rejected(head("GET /r10 HTTP/1.1", "Host: x", " y") + SMUGGLED, 400)));
	}

	@ParameterizedTest(name = "row 10, obs-fold: {0}")
	@MethodSource
	void row10(String variant, Case c) throws Exception {
		check(c);
	}

	static Stream<Arguments> row11() {
		return Stream.of(arguments("space before colon", rejected(head("GET /r11 HTTP/1.1", "Host: x", "X-A : 1") + SMUGGLED, 400)),
				arguments("no colon", rejected(head("GET /r11 HTTP/1.1", "Host: x", "Bogus") + SMUGGLED, 400)),
				arguments("empty name", rejected(head("GET /r11 HTTP/1.1", "Host: x", ": v") + SMUGGLED, 400)),
				arguments("non-token name", rejected(head("GET /r11 HTTP/1.1", "Host: x", "X(A): 1") + SMUGGLED, 400)),
				arguments("space inside name", rejected(head("GET /r11 HTTP/1.1", "Host: x", "X A: 1") + SMUGGLED, 400)));
	}

	@ParameterizedTest(name = "row 11, field name syntax: {0}")
	@MethodSource
	void row11(String variant, Case c) throws Exception {
		check(c);
	}

	static Stream<Arguments> row12() {
		return Stream.of("\u0000", "\r", "\u0001", "\u007f", "\u001b")
			.map(ch -> arguments(String.format("U+%04X in a value", (int) ch.charAt(0)),
					rejected(head("GET /r12 HTTP/1.1", "Host: x", "X-A: a" + ch + "b") + SMUGGLED, 400)));
	}

	@ParameterizedTest(name = "row 12, control characters: {0}")
	@MethodSource
	void row12(String variant, Case c) throws Exception {
		check(c);
	}

	/**
	 * Tomcat accepts a bare LF as the end of a request-line or header line (RFC 9112 section 2.2 MAY);
	 * the gateway never passes raw bytes on, it writes a new request with CRLF, so no parser behind it
	 * sees a bare LF (docs/security.md). In chunked framing a bare LF is refused.
	 */
	static Case relinedWithCrlf(String request) {
		return new Case(request, java.util.Set.of(200), Conn.KEEPS, 1,
				r -> assertThat(r.get(0).head().replace("\r\n", "")).doesNotContain("\n"));
	}

	static Stream<Arguments> row13() {
		return Stream.of(arguments("all head lines", relinedWithCrlf("GET /r13 HTTP/1.1\nHost: x\n\n")),
				arguments("one header line", relinedWithCrlf("GET /r13 HTTP/1.1\r\nHost: x\nX-A: 1\r\n\r\n")),
				arguments("chunk size line", rejected(post("/r13", "Transfer-Encoding: chunked") + "5\nhello\r\n0\r\n\r\n" + SMUGGLED, 400)),
				arguments("after chunk data", rejected(post("/r13", "Transfer-Encoding: chunked") + "5\r\nhello\n0\r\n\r\n" + SMUGGLED, 400)),
				arguments("last chunk", rejected(post("/r13", "Transfer-Encoding: chunked") + "5\r\nhello\r\n0\n\n" + SMUGGLED, 400)));
	}

	@ParameterizedTest(name = "row 13, bare LF: {0}")
	@MethodSource
	void row13(String variant, Case c) throws Exception {
		check(c);
	}

	// ---- rows 14-17: chunked bodies -----------------------------------------------------------------------

	static Stream<Arguments> row14() {
		return Stream.of("100000004", "ffffffffffffffff5", "-1", "0x5", " 5", "+5", "5_0", "", "g")
			.map(size -> arguments("size '" + size + "'",
					rejected(post("/r14", "Transfer-Encoding: chunked") + size + "\r\nhello\r\n0\r\n\r\n" + SMUGGLED, 400, 413)));
	}

	@ParameterizedTest(name = "row 14, chunk size abuse: {0}")
	@MethodSource
	void row14(String variant, Case c) throws Exception {
		check(c);
	}

	static Stream<Arguments> row15() {
		return Stream.of(
				arguments("bare CR in extension", rejected(post("/r15", "Transfer-Encoding: chunked") + "5;a=\rb\r\nhello\r\n0\r\n\r\n" + SMUGGLED, 400)),
				arguments("control char", rejected(post("/r15", "Transfer-Encoding: chunked") + "5;a\u0001\r\nhello\r\n0\r\n\r\n" + SMUGGLED, 400)),
				arguments("huge extension", rejected(post("/r15", "Transfer-Encoding: chunked") + "5;a=" + "x".repeat(9000)
						+ "\r\nhello\r\n0\r\n\r\n" + SMUGGLED, 400, 413)),
				// a valid unknown extension is ignored; the body is forwarded whole
				arguments("valid extension ignored", new Case(post("/r15", "Transfer-Encoding: chunked") + "5;name=value\r\nhello\r\n0\r\n\r\n",
						java.util.Set.of(200), Conn.KEEPS, 1, r -> assertThat(r.get(0).bodyText()).isEqualTo("hello"))));
	}

	@ParameterizedTest(name = "row 15, chunk extensions: {0}")
	@MethodSource
	void row15(String variant, Case c) throws Exception {
		check(c);
	}

	static Stream<Arguments> row17() {
		String body = "5\r\nhello\r\n0\r\n";
		return Stream.of(
				arguments("framing and auth fields in trailers are not merged", new Case(post("/r17", "Transfer-Encoding: chunked")
						+ body + "Content-Length: 50\r\nTransfer-Encoding: chunked\r\nHost: evil\r\nAuthorization: Bearer evil\r\n"
						+ "X-Trailer: t\r\n\r\n", java.util.Set.of(200), Conn.KEEPS, 1, r -> {
							assertThat(r.get(0).bodyText()).isEqualTo("hello");
							assertThat(r.get(0).headers("Authorization")).isEmpty();
							assertThat(r.get(0).headers("X-Trailer")).isEmpty();
							assertThat(r.get(0).head()).doesNotContain("evil");
						})),
				arguments("oversized trailers", rejected(post("/r17", "Transfer-Encoding: chunked") + body + "X-Big: "
						+ "t".repeat(10_000) + "\r\n\r\n" + SMUGGLED, 400, 413, 431)));
	}

	@ParameterizedTest(name = "row 17, trailers: {0}")
	@MethodSource
	void row17(String variant, Case c) throws Exception {
		check(c);
	}

	// ---- rows 18-19: bodies on GET, pipelining, no framing -----------------------------------------

	static Stream<Arguments> row18() {
		String inner = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
		return Stream.of(
				arguments("GET with a Content-Length body shaped like a request", forwarded(
						"GET /r18 HTTP/1.1\r\nHost: x\r\nContent-Length: " + inner.length() + "\r\n\r\n" + inner,
						r -> assertThat(r.get(0).bodyText()).isEqualTo(inner))),
				arguments("OPTIONS with a typed body", forwarded("OPTIONS /r18 HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
						+ "Content-Length: 5\r\n\r\nhello", r -> assertThat(r.get(0).bodyText()).isEqualTo("hello"))),
				// RFC 9110 section 9.3.7: content in OPTIONS MUST come with a Content-Type
				arguments("OPTIONS with an untyped body", rejected("OPTIONS /r18 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", 400)),
				arguments("HEAD with a body", new Case("HEAD /r18 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
						java.util.Set.of(200), Conn.KEEPS, 1)),
				arguments("DELETE with a body", forwarded("DELETE /r18 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
						r -> assertThat(r.get(0).bodyText()).isEqualTo("hello"))));
	}

	@ParameterizedTest(name = "row 18, bodies on GET/HEAD/OPTIONS: {0}")
	@MethodSource
	void row18(String variant, Case c) throws Exception {
		check(c);
	}

	@org.junit.jupiter.api.Test
	void row18PipelinedRequestsAreAnsweredInOrder() throws Exception {
		int mark = REPLICA.count();
		try (RawClient client = new RawClient(port)) {
			client.send("GET /r18-p1 HTTP/1.1\r\nHost: x\r\n\r\nPOST /r18-p2 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
					+ "GET /r18-p3 HTTP/1.1\r\nHost: x\r\n\r\n");
			assertThat(client.read().bodyText()).isEqualTo("rec GET /r18-p1 body=0");
			assertThat(client.read().bodyText()).isEqualTo("rec POST /r18-p2 body=3");
			assertThat(client.read().bodyText()).isEqualTo("rec GET /r18-p3 body=0");
		}
		assertThat(settled(mark)).extracting(Received::target).containsExactly("/r18-p1", "/r18-p2", "/r18-p3");
	}

	@org.junit.jupiter.api.Test
	void row19PostWithoutFramingHasAnEmptyBody() throws Exception {
		check(new Case("POST /r19 HTTP/1.1\r\nHost: x\r\n\r\n", java.util.Set.of(200, 411), Conn.KEEPS, 1,
				r -> assertThat(r.get(0).body()).isEmpty()));
	}

}
