package dev.resiliencegateway.edge;

import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import dev.resiliencegateway.config.GatewayConfig;
import dev.resiliencegateway.config.GatewayConfig.EdgeSettings;
import dev.resiliencegateway.edge.EdgeRules.Rejection;

import static org.assertj.core.api.Assertions.assertThat;

/** The edge rules as table rows: no servlet, no socket. */
class EdgeRulesTest {

	private static final EdgeSettings DEFAULTS = GatewayConfig.DEFAULT_EDGE;

	private static final EdgeSettings WEBDAV = new EdgeSettings(8192, 16384, 100, true, Set.of("PROPFIND"), 1024);

	private static Integer status(Rejection r) {
		return r == null ? null : r.status();
	}

	@ParameterizedTest(name = "path {0} is accepted")
	@ValueSource(strings = { "/", "/a", "/a/", "/a/b.c", "/a/..b", "/a/b..", "/a/.well-known", "/caf%C3%A9", "/a;b=c",
			"/files/100%25", "/a%20b", "/%7Euser" })
	void acceptsPathsWithOneMeaning(String path) {
		assertThat(EdgeRules.path(path)).isNull();
	}

	@ParameterizedTest(name = "path {0} is refused")
	@ValueSource(strings = { "/a/../b", "/a/..", "/..", "/.", "/a/./b", "/a/%2e%2E/b", "/a/.%2e", "/a/..;x=y/b", "/a/%2e;x",
			"//a", "/a//b", "/a/b//", "/a%2Fb", "/a%2fb", "/a%5cb", "/a\\b", "/a%00", "/a%0d%0a", "/a%7f", "/a%252e",
			"/a%252F", "/a%c0%ae", "/a%e0%80%ae", "/a%ff", "/a%zz", "/a%4", "a/b", "*", "/a b" })
	void refusesPathsThatCouldMeanTwoThings(String path) {
		Rejection r = EdgeRules.path(path);
		assertThat(r).isNotNull();
		assertThat(r.status()).isEqualTo(400);
		assertThat(r.close()).isTrue();
	}

	@ParameterizedTest(name = "method {0} -> {1}")
	@CsvSource(nullValues = "ok", value = { "GET, ok", "PATCH, ok", "OPTIONS, ok", "TRACE, 405", "CONNECT, 405", "get, 501",
			"Post, 501", "FOO, 501", "PROPFIND, 501" })
	void methodsAreCaseSensitiveAndListed(String method, Integer expected) {
		assertThat(status(EdgeRules.method(method, DEFAULTS))).isEqualTo(expected);
	}

	@Test
	void configuredExtraMethodsPassExactlyAsSpelled() {
		assertThat(EdgeRules.method("PROPFIND", WEBDAV)).isNull();
		assertThat(status(EdgeRules.method("propfind", WEBDAV))).isEqualTo(501);
	}

	@Test
	void lowerCaseStandardMethodsGetAHint() {
		assertThat(EdgeRules.method("get", DEFAULTS).detail()).contains("did you mean GET");
	}

	@Test
	void limitsHaveTheirOwnStatuses() {
		assertThat(EdgeRules.requestLine(8192, DEFAULTS)).isNull();
		assertThat(status(EdgeRules.requestLine(8193, DEFAULTS))).isEqualTo(414);
		assertThat(EdgeRules.headerTotals(100, 16384, DEFAULTS)).isNull();
		assertThat(status(EdgeRules.headerTotals(101, 10, DEFAULTS))).isEqualTo(431);
		assertThat(status(EdgeRules.headerTotals(5, 16385, DEFAULTS))).isEqualTo(431);
	}

	@Test
	void underscoresAreRefusedUnlessDropped() {
		assertThat(status(EdgeRules.headerName("X_Api_Key", DEFAULTS))).isEqualTo(400);
		assertThat(EdgeRules.headerName("X_Api_Key", WEBDAV)).isNull();
		assertThat(EdgeRules.headerName("X-Api-Key", DEFAULTS)).isNull();
	}

	@Test
	void transferEncodingOutsideHttp11IsFaultyFraming() {
		assertThat(status(EdgeRules.framing("HTTP/1.0", true))).isEqualTo(400);
		assertThat(EdgeRules.framing("HTTP/1.0", false)).isNull();
		assertThat(EdgeRules.framing("HTTP/1.1", true)).isNull();
	}

	@Test
	void onlyHundredContinueIsAnExpectation() {
		assertThat(EdgeRules.expect("HTTP/1.1", "100-continue")).isNull();
		assertThat(EdgeRules.expect("HTTP/1.1", "100-Continue")).isNull();
		assertThat(status(EdgeRules.expect("HTTP/1.1", "teapot"))).isEqualTo(417);
		assertThat(EdgeRules.expect("HTTP/1.0", "teapot")).isNull();
		assertThat(EdgeRules.expect("HTTP/1.1", null)).isNull();
	}

	@Test
	void optionsContentNeedsAType() {
		assertThat(status(EdgeRules.optionsBody("OPTIONS", true, null))).isEqualTo(400);
		assertThat(EdgeRules.optionsBody("OPTIONS", true, "text/plain")).isNull();
		assertThat(EdgeRules.optionsBody("OPTIONS", false, null)).isNull();
		assertThat(EdgeRules.optionsBody("POST", true, null)).isNull();
	}

	@Test
	void detailsEchoNoControlCharacters() {
		assertThat(EdgeRules.method("G\u0001T\r\n", DEFAULTS).detail()).doesNotContain("\r").doesNotContain("\u0001");
	}

}
