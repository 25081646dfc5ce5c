package dev.resiliencegateway.it.edge;

import java.util.Set;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/**
 * Rows 20-40 of the hardening catalogue (shared/hardening.md, a.1): sizes, methods, request targets,
 * paths, hop-by-hop and forwarding fields, Host, Expect, HTTP/1.0.
 */
class RequestHeadIT extends EdgeIT {

	static String get(String target, String... headers) {
		String[] lines = new String[headers.length + 2];
		lines[0] = "GET " + target + " HTTP/1.1";
		lines[1] = "Host: x";
		System.arraycopy(headers, 0, lines, 2, headers.length);
		return head(lines);
	}

	// ---- rows 20-22: limits -----------------------------------------------------------------------------

	static Stream<Arguments> row20() {
		return Stream.of(arguments("10 KB path", rejected(get("/r20/" + "a".repeat(10_000)), 414)),
				arguments("10 KB query", rejected(get("/r20?q=" + "a".repeat(10_000)), 414)),
				// beyond Tomcat's 64 KB head buffer, Tomcat itself refuses (docs/security.md)
				arguments("100 KB path", rejected(get("/r20/" + "a".repeat(100_000)), 414, 400)));
	}

	@ParameterizedTest(name = "row 20, oversized request line: {0}")
	@MethodSource
	void row20(String variant, Case c) throws Exception {
		check(c);
	}

	static Stream<Arguments> row21() {
		String[] many = new String[101];
		for (int i = 0; i < many.length; i++) {
			many[i] = "X-H" + i + ": v";
		}
		String[] big = new String[3];
		for (int i = 0; i < big.length; i++) {
			big[i] = "X-Big" + i + ": " + "b".repeat(6000);
		}
		return Stream.of(arguments("one 20 KB field", rejected(get("/r21", "X-Big: " + "b".repeat(20_000)), 431)),
				arguments("101 fields", rejected(get("/r21", many), 431)),
				arguments("18 KB over three fields", rejected(get("/r21", big), 431)),
				arguments("100 KB field", rejected(get("/r21", "X-Big: " + "b".repeat(100_000)), 431, 400)));
	}

	@ParameterizedTest(name = "row 21, oversized headers: {0}")
	@MethodSource
	void row21(String variant, Case c) throws Exception {
		check(c);
	}

	static Stream<Arguments> row22() {
		String post = "POST /limited/r22 HTTP/1.1\r\nHost: x\r\n";
		return Stream.of(
				arguments("Content-Length over the route's 1KB", rejected(post + "Content-Length: 2000\r\n\r\n" + "z".repeat(2000), 413)),
				arguments("10 GiB Content-Length, nothing sent", rejected(post + "Content-Length: 10737418240\r\n\r\n", 413)),
				arguments("PUT over the limit", rejected("PUT /limited/r22 HTTP/1.1\r\nHost: x\r\nContent-Length: 1025\r\n\r\n"
						+ "z".repeat(1025), 413)),
				arguments("chunked body growing past the limit", rejected(post + "Transfer-Encoding: chunked\r\n\r\n"
						+ "400\r\n" + "z".repeat(1024) + "\r\n400\r\n" + "z".repeat(1024) + "\r\n0\r\n\r\n", 413)),
				arguments("exactly at the limit", new Case(post + "Content-Length: 1024\r\n\r\n" + "z".repeat(1024),
						Set.of(200), Conn.KEEPS, 1, r -> assertThat(r.get(0).body()).hasSize(1024))));
	}

	@ParameterizedTest(name = "row 22, oversized body: {0}")
	@MethodSource
	void row22(String variant, Case c) throws Exception {
		check(c);
	}

	@Test
	void row22OversizedBodyWithExpectContinueGets413WithoutA100() throws Exception {
		int mark = REPLICA.count();
		try (RawClient client = new RawClient(port)) {
			client.send("POST /limited/r22e HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n");
			RawClient.Response r = client.read();
			assertThat(r.head()).startsWith("HTTP/1.1 413").doesNotContain(" 100 ");
			assertThat(client.closedWithin(3000)).isTrue();
		}
		assertThat(settled(mark)).isEmpty();
	}

	// ---- rows 25-28: methods and request targets ---------------------------------------------------------

	static Stream<Arguments> row25() {
		return Stream.of("G ET", "GE\u0000T", "GE(T", "G@T", "\"GET\"", "GE/T")
			.map(m -> arguments("'" + m.replace("\u0000", "\\0") + "'", rejected(m + " /r25 HTTP/1.1\r\nHost: x\r\n\r\n" + SMUGGLED, 400)));
	}

	@ParameterizedTest(name = "row 25, invalid method token: {0}")
	@MethodSource
	void row25(String variant, Case c) throws Exception {
		check(c);
	}

	@Test
	void row25TabAfterTheMethodIsReadAsWhitespace() throws Exception {
		// RFC 9112 section 3 lets a recipient split the request line on whitespace; Tomcat does, and the
		// replica gets a new request line with single spaces: one interpretation
		check(forwarded("GET\t/r25 HTTP/1.1\r\nHost: x\r\n\r\n", r -> assertThat(r.get(0).requestLine()).isEqualTo("GET /r25 HTTP/1.1")));
	}

	static Stream<Arguments> row26() {
		return Stream.of("FOO", "get", "Post", "PROPFIND", "M".repeat(200), "BREW")
			.map(m -> arguments(m.length() > 20 ? "200-character method" : m,
					new Case(m + " /r26 HTTP/1.1\r\nHost: x\r\n\r\n", Set.of(501, 400), Conn.EITHER, 0)));
	}

	@ParameterizedTest(name = "row 26, unknown method: {0}")
	@MethodSource
	void row26(String variant, Case c) throws Exception {
		check(c);
	}

	static Stream<Arguments> row27() {
		return Stream.of(arguments("TRACE", new Case("TRACE /r27 HTTP/1.1\r\nHost: x\r\n\r\n", Set.of(405), Conn.EITHER, 0)),
				arguments("CONNECT authority", new Case("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
						Set.of(405, 400, 501), Conn.EITHER, 0)),
				// Tomcat answers CONNECT itself with 501 before any filter runs
				arguments("CONNECT path", new Case("CONNECT /r27 HTTP/1.1\r\nHost: x\r\n\r\n", Set.of(405, 400, 501), Conn.EITHER, 0)));
	}

	@ParameterizedTest(name = "row 27, TRACE and CONNECT: {0}")
	@MethodSource
	void row27(String variant, Case c) throws Exception {
		check(c);
	}

	static Stream<Arguments> row28() {
		return Stream.of(arguments("asterisk with GET", rejected("GET * HTTP/1.1\r\nHost: x\r\n\r\n", 400)),
				arguments("authority-form with GET", rejected("GET example.com:80 HTTP/1.1\r\nHost: x\r\n\r\n", 400)),
				arguments("relative", rejected("GET admin HTTP/1.1\r\nHost: x\r\n\r\n", 400)),
				arguments("fragment", rejected("GET /r28#frag HTTP/1.1\r\nHost: x\r\n\r\n", 400)));
	}

	@ParameterizedTest(name = "row 28, request-target forms: {0}")
	@MethodSource
	void row28(String variant, Case c) throws Exception {
		check(c);
	}

	// ---- rows 29-31: paths ----------------------------------------------------------------------------------

	static Stream<Arguments> row29() {
		return Stream.of("/api/../admin", "/api/%2e%2e/admin", "/api/%2E%2e/admin", "/api/.%2e/admin", "/api/..;x=y/admin",
				"/admin/.", "/admin/./x", "/api/..", "/api/%2e/admin", "/..;/admin")
			.map(p -> arguments(p, rejected(get(p), 400)));
	}

	@ParameterizedTest(name = "row 29, path traversal: {0}")
	@MethodSource
	void row29(String variant, Case c) throws Exception {
		check(c);
	}

	static Stream<Arguments> row30() {
		return Stream.of("/api%2Fadmin", "/api%2fadmin", "/api%5Cadmin", "/api\\admin", "/api/%252e%252e/admin", "/api/%252F",
				"/api/%c0%ae%c0%ae/admin", "/api/%e0%80%ae", "/api/%ff")
			.map(p -> arguments(p, rejected(get(p), 400)));
	}

	@ParameterizedTest(name = "row 30, encoded slash, backslash, double and overlong encoding: {0}")
	@MethodSource
	void row30(String variant, Case c) throws Exception {
		check(c);
	}

	static Stream<Arguments> row31() {
		return Stream.of(arguments("//admin", rejected(get("//admin"), 400)),
				arguments("/api//admin", rejected(get("/api//admin"), 400)),
				arguments("%00", rejected(get("/api/%00"), 400)),
				arguments("%0a", rejected(get("/api/a%0ab"), 400)),
				// path parameters and case are forwarded as sent, and matched as Spring matches them
				arguments(";jsessionid kept", forwarded(get("/r31;jsessionid=1"),
						r -> assertThat(r.get(0).target()).isEqualTo("/r31;jsessionid=1"))),
				arguments("/ADMIN as sent", forwarded(get("/ADMIN"), r -> assertThat(r.get(0).target()).isEqualTo("/ADMIN"))),
				arguments("UTF-8 kept encoded", forwarded(get("/caf%C3%A9?q=%20"),
						r -> assertThat(r.get(0).target()).isEqualTo("/caf%C3%A9?q=%20"))));
	}

	@ParameterizedTest(name = "row 31, slashes, parameters, case, NUL: {0}")
	@MethodSource
	void row31(String variant, Case c) throws Exception {
		check(c);
	}

	// ---- rows 32-38: fields the gateway rewrites or refuses ---------------------------------------------------

	@Test
	void row32HopByHopFieldsAreNeverForwarded() throws Exception {
		check(forwarded(get("/r32", "Connection: keep-alive, X-Drop", "Keep-Alive: timeout=5", "Proxy-Connection: keep-alive",
				"TE: trailers", "Trailer: X-T", "Upgrade: websocket", "Proxy-Authorization: Basic eA==", "X-Drop: 1",
				"X-Keep: 2"), r -> {
					String head = r.get(0).head().toLowerCase();
					assertThat(head).doesNotContain("keep-alive: ").doesNotContain("proxy-connection").doesNotContain("\r\nte:")
						.doesNotContain("trailer:").doesNotContain("upgrade:").doesNotContain("proxy-authorization")
						.doesNotContain("x-drop");
					assertThat(r.get(0).headers("X-Keep")).containsExactly("2");
				}));
	}

	@Test
	void row33FieldsNominatedByConnectionGoButTheGatewaysOwnStay() throws Exception {
		check(forwarded(get("/r33", "Connection: X-Api-Key, X-Forwarded-For, Forwarded", "X-Api-Key: secret",
				"X-Forwarded-For: 6.6.6.6"), r -> {
					assertThat(r.get(0).headers("X-Api-Key")).isEmpty();
					assertThat(r.get(0).headers("X-Forwarded-For")).containsExactly("127.0.0.1");
					assertThat(r.get(0).headers("Forwarded")).hasSize(1);
				}));
	}

	@Test
	void row34H2cAndWebSocketUpgradesAreStripped() throws Exception {
		check(forwarded(get("/r34", "Connection: Upgrade, HTTP2-Settings", "Upgrade: h2c", "HTTP2-Settings: AAMAAABkAAQAAP__"),
				r -> assertThat(r.get(0).head().toLowerCase()).doesNotContain("upgrade").doesNotContain("http2-settings")));
		check(forwarded(get("/r34", "Connection: Upgrade", "Upgrade: websocket", "Sec-WebSocket-Version: 13"),
				r -> assertThat(r.get(0).head().toLowerCase()).doesNotContain("upgrade:")));
	}

	@Test
	void row35SpoofedForwardingFieldsFromAnUntrustedPeerAreReplaced() throws Exception {
		check(forwarded(get("/r35", "X-Forwarded-For: 1.2.3.4", "X-Forwarded-Host: evil.example", "X-Forwarded-Proto: https",
				"X-Forwarded-Port: 443", "X-Forwarded-Prefix: /evil", "Forwarded: for=1.2.3.4;host=evil.example"), r -> {
					assertThat(r.get(0).headers("X-Forwarded-For")).containsExactly("127.0.0.1");
					assertThat(r.get(0).headers("X-Forwarded-Proto")).containsExactly("http");
					assertThat(r.get(0).headers("X-Forwarded-Prefix")).isEmpty();
					assertThat(r.get(0).head()).doesNotContain("evil").doesNotContain("1.2.3.4");
				}));
	}

	static Stream<Arguments> row36() {
		return Stream.of(arguments("missing in HTTP/1.1", rejected("GET /r36 HTTP/1.1\r\n\r\n", 400)),
				arguments("twice", rejected("GET /r36 HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400)),
				arguments("space", rejected("GET /r36 HTTP/1.1\r\nHost: a b\r\n\r\n", 400)),
				arguments("slash", rejected("GET /r36 HTTP/1.1\r\nHost: a/b\r\n\r\n", 400)),
				arguments("userinfo", rejected("GET /r36 HTTP/1.1\r\nHost: user@x\r\n\r\n", 400)),
				arguments("port twice", rejected("GET /r36 HTTP/1.1\r\nHost: x:80:80\r\n\r\n", 400)));
	}

	@ParameterizedTest(name = "row 36, Host: {0}")
	@MethodSource
	void row36(String variant, Case c) throws Exception {
		check(c);
	}

	@Test
	void row36AbsoluteFormIsForwardedAsAnOriginFormPath() throws Exception {
		check(forwarded("GET http://x/r36?q=1 HTTP/1.1\r\nHost: x\r\n\r\n",
				r -> assertThat(r.get(0).target()).isEqualTo("/r36?q=1")));
		// an absolute-form authority that disagrees with Host: Tomcat refuses it
		check(rejected("GET http://a.example/r36 HTTP/1.1\r\nHost: b.example\r\n\r\n", 400));
	}

	static Stream<Arguments> row37() {
		return Stream.of("X_Api_Key: 1", "Transfer_Encoding: chunked", "Content_Length: 5", "X_Forwarded_For: 6.6.6.6")
			.map(h -> arguments(h, rejected(get("/r37", h) + SMUGGLED, 400)));
	}

	@ParameterizedTest(name = "row 37, underscores in names: {0}")
	@MethodSource
	void row37(String variant, Case c) throws Exception {
		check(c);
	}

	@Test
	void row38EncodedCrLfInThePathIsRefused() throws Exception {
		check(rejected(get("/r38%0d%0aX-Injected:%201"), 400));
		check(rejected(get("/r38%0AX-Injected:%201"), 400));
	}

	@Test
	void row38EncodedCrLfInTheQueryStaysEncodedAndInjectsNoField() throws Exception {
		check(forwarded(get("/r38?q=%0d%0aX-Also:%201"), r -> {
			assertThat(r.get(0).target()).isEqualTo("/r38?q=%0d%0aX-Also:%201");
			assertThat(r.get(0).headers("X-Also")).isEmpty();
		}));
	}

	// ---- rows 39-40: Expect and HTTP/1.0 ------------------------------------------------------------------------

	@Test
	void row39ExpectContinueIsAnsweredWhenTheBodyIsRead() throws Exception {
		int mark = REPLICA.count();
		try (RawClient client = new RawClient(port)) {
			client.send("POST /r39 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
			RawClient.Response r = client.readInterim();
			assertThat(r.status()).isEqualTo(100);
			client.send("hello");
			assertThat(client.read().bodyText()).isEqualTo("rec POST /r39 body=5");
		}
		assertThat(settled(mark)).hasSize(1).allSatisfy(r -> assertThat(r.headers("Expect")).isEmpty());
	}

	static Stream<Arguments> row39() {
		return Stream.of(arguments("unknown expectation", new Case("POST /r39 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: teapot\r\n\r\nhello",
				Set.of(417), Conn.EITHER, 0)),
				arguments("HTTP/1.0 ignores Expect", new Case("POST /r39 HTTP/1.0\r\nContent-Length: 5\r\nExpect: teapot\r\n\r\nhello",
						Set.of(200), Conn.CLOSES, 1)));
	}

	@ParameterizedTest(name = "row 39, Expect: {0}")
	@MethodSource
	void row39(String variant, Case c) throws Exception {
		check(c);
	}

	@Test
	void row40Http10ClientGetsANonChunkedAnswerAndAClose() throws Exception {
		int mark = REPLICA.count();
		try (RawClient client = new RawClient(port)) {
			client.send("GET /r40 HTTP/1.0\r\n\r\n");
			RawClient.Response r = client.read();
			assertThat(r.status()).isEqualTo(200);
			assertThat(r.headers("Transfer-Encoding")).isEmpty();
			assertThat(r.bodyText()).isEqualTo("rec GET /r40 body=0");
			assertThat(client.closedWithin(3000)).isTrue();
		}
		assertThat(settled(mark)).hasSize(1).allSatisfy(r -> assertThat(r.requestLine()).endsWith("HTTP/1.1"));
	}

	@Test
	void row43Http2PriorKnowledgeIsNotSpoken() throws Exception {
		// HTTP/2 is not enabled: the preface is not a request, Tomcat drops the connection
		int mark = REPLICA.count();
		try (RawClient client = new RawClient(port)) {
			client.send("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
			RawClient.Response r = client.read();
			assertThat(r == null || r.status() == 400 || r.status() == 505).as("%s", r).isTrue();
			assertThat(client.closedWithin(3000)).isTrue();
		}
		assertThat(settled(mark)).isEmpty();
	}

}
