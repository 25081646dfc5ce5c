package dev.resiliencegateway.edge;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Which first bytes the poller may answer 503 itself: only a request that is plainly complete; every
 * other byte sequence is put back for Tomcat's parser (null here), which has the final word on it.
 */
class EarlyRefusalTest {

	private static EarlyRefusal.Head parse(String request) {
		byte[] b = request.getBytes(StandardCharsets.ISO_8859_1);
		return EarlyRefusal.parse(b, 0, b.length);
	}

	@ParameterizedTest(name = "refused at once: {0}")
	@ValueSource(strings = { "GET /orders/7?x=1 HTTP/1.1\r\nHost: a\r\n\r\n", "GET / HTTP/1.0\r\n\r\n",
			"HEAD /h HTTP/1.1\r\nHost: a\r\n\r\n", "get /lower HTTP/1.1\r\nHost: a\r\n\r\n",
			"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
			"POST /p HTTP/1.1\r\nHost: a\r\ncontent-length:\t5 \r\n\r\nhello",
			"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
			// a pipelined request behind it: closed on after the answer, like Tomcat after a 503
			"GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n",
			"GET /u HTTP/1.1\r\nHost: a\r\nX_Under: 1\r\nX-Obs: caf\u00e9\r\n\r\n" })
	void aPlainlyCompleteRequestIsAnsweredOnThePoller(String request) {
		assertThat(parse(request)).isNotNull();
	}

	@ParameterizedTest(name = "left to Tomcat: {0}")
	@ValueSource(strings = { "", "GET", "GET /partial HTTP/1.1\r\nHost: a\r\n", "GET /partial HTTP/1.1\r\nHost: a\r\n\r",
			// the body is still on its way
			"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nhello",
			"POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
			"POST /p HTTP/1.1\r\nHost: a\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n",
			"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
			"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nhello",
			"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\nhello",
			"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\nhello",
			// bare LF, obs-fold, a space before the colon, a control character, no colon
			"GET /lf HTTP/1.1\nHost: a\n\n", "GET /lf HTTP/1.1\r\nHost: a\n\r\n",
			"GET /fold HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n 2\r\n\r\n", "GET /sp HTTP/1.1\r\nHost : a\r\n\r\n",
			"GET /ctl HTTP/1.1\r\nHost: a\u0001b\r\n\r\n", "GET /nocolon HTTP/1.1\r\nHost a\r\n\r\n",
			// targets and versions Tomcat decides on
			"GET http://a/abs HTTP/1.1\r\nHost: a\r\n\r\n", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
			"CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "GET /v HTTP/2.0\r\n\r\n",
			"GET /v HTTP/1.1 \r\n\r\n", "GET  /two-spaces HTTP/1.1\r\n\r\n", "GET /tab\tx HTTP/1.1\r\n\r\n",
			"G(T / HTTP/1.1\r\n\r\n", " GET / HTTP/1.1\r\n\r\n", "\r\nGET / HTTP/1.1\r\n\r\n" })
	void anythingElseIsLeftToTomcat(String request) {
		assertThat(parse(request)).isNull();
	}

	@Test
	void tooManyFieldsAreLeftToTomcat() {
		StringBuilder request = new StringBuilder("GET /many HTTP/1.1\r\n");
		for (int i = 0; i < 101; i++) {
			request.append("X-").append(i).append(": v\r\n");
		}
		assertThat(parse(request + "\r\n")).isNull();
	}

	@Test
	void theAnswerIsTheValvesCountedOnce() {
		AtomicInteger shed = new AtomicInteger();
		EarlyRefusal refusal = new EarlyRefusal(1, shed::incrementAndGet, false);
		byte[] request = "GET /orders/7?q=secret HTTP/1.1\r\nHost: a\r\nX-Request-Id: client-chosen\r\n\r\n"
			.getBytes(StandardCharsets.ISO_8859_1);
		EarlyRefusal.Answer a = refusal.answer(request, 0, request.length);
		assertThat(a.keepAlive()).isTrue();
		String answer = new String(a.bytes(), StandardCharsets.ISO_8859_1);
		assertThat(answer).startsWith("HTTP/1.1 503 Service Unavailable\r\n")
			.contains("\r\nRetry-After: 1\r\n", "\r\nContent-Type: application/problem+json\r\n",
					"\r\nContent-Length: " + LoadShedding.BODY.length + "\r\n")
			.doesNotContain("client-chosen", "Connection:")
			.endsWith("\r\n\r\n" + new String(LoadShedding.BODY, StandardCharsets.UTF_8));
		assertThat(answer).containsPattern("\r\nX-Request-Id: [0-9a-f]{32}\r\n");
		assertThat(shed).hasValue(1);

		byte[] partial = "GET /orders/7 HTTP/1.1\r\nHost: a\r\n".getBytes(StandardCharsets.ISO_8859_1);
		assertThat(refusal.answer(partial, 0, partial.length)).isNull();
		assertThat(shed).as("nothing counted for bytes put back").hasValue(1);
	}

	@Test
	void aHeadRequestGetsNoBody() {
		EarlyRefusal refusal = new EarlyRefusal(1, () -> {
		}, false);
		byte[] request = "HEAD /h HTTP/1.1\r\nHost: a\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);
		String answer = new String(refusal.answer(request, 0, request.length).bytes(), StandardCharsets.ISO_8859_1);
		assertThat(answer).endsWith("\r\n\r\n").contains("Content-Length: " + LoadShedding.BODY.length);
	}

	@ParameterizedTest(name = "the connection stays open: {0}")
	@ValueSource(strings = { "GET /k HTTP/1.1\r\nHost: a\r\n\r\n", "GET /k HTTP/1.1\r\nConnection: keep-alive\r\n\r\n",
			"POST /k HTTP/1.1\r\nContent-Length: 2\r\n\r\nab" })
	void http11KeepsTheConnection(String request) {
		assertThat(parse(request).keepAlive()).isTrue();
	}

	@ParameterizedTest(name = "closed after the answer: {0}")
	@ValueSource(strings = { "GET /c HTTP/1.1\r\nConnection: close\r\n\r\n", "GET /c HTTP/1.1\r\nconnection: Keep-Alive, CLOSE\r\n\r\n",
			"GET /c HTTP/1.0\r\n\r\n", "GET /c HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
			"GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n", "POST /k HTTP/1.1\r\nContent-Length: 2\r\n\r\nabc" })
	void otherwiseTheConnectionIsClosed(String request) {
		EarlyRefusal.Head head = parse(request);
		assertThat(head).isNotNull();
		assertThat(head.keepAlive()).isFalse();
		byte[] b = request.getBytes(StandardCharsets.ISO_8859_1);
		EarlyRefusal.Answer answer = new EarlyRefusal(1, () -> {
		}, false).answer(b, 0, b.length);
		assertThat(answer.keepAlive()).isFalse();
		assertThat(new String(answer.bytes(), StandardCharsets.ISO_8859_1)).contains("\r\nConnection: close\r\n");
	}

	@Test
	void theBytesAreReadWithinTheGivenRange() {
		byte[] b = "xxGET /in HTTP/1.1\r\n\r\nyy".getBytes(StandardCharsets.ISO_8859_1);
		EarlyRefusal.Head head = EarlyRefusal.parse(b, 2, b.length - 2);
		assertThat(head).isNotNull();
		assertThat(head.path()).isEqualTo("/in");
		assertThat(EarlyRefusal.parse(b, 2, b.length - 3)).isNull();
	}

}
