package dev.resiliencegateway.exchange.transport;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.mock.web.MockHttpServletRequest;

import dev.resiliencegateway.config.GatewayConfig.UpstreamSettings;
import dev.resiliencegateway.outcome.Outcome;
import dev.resiliencegateway.pool.Replica;

/**
 * The keep-alive race on real sockets: a replica that answers each connection's first request as
 * keep-alive and then closes the connection (with a FIN, or a reset), as a server does when it
 * closes idle connections beyond its limit or after its keep-alive timeout. The request sent on such
 * a connection never reached the replica; a request without a body is sent again on a new
 * connection and answered, a request with a body is not sent again by the transport.
 */
class KeepAliveRaceTest {

	private ServerSocket server;

	private final AtomicInteger answered = new AtomicInteger();

	private volatile boolean reset;

	private HttpUpstreamClient client;

	@BeforeEach
	void start() throws IOException {
		server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
		Thread t = new Thread(this::serve, "closing-replica");
		t.setDaemon(true);
		t.start();
		client = new HttpUpstreamClient(
				new UpstreamSettings(Duration.ofSeconds(1), 16, 64, Duration.ofSeconds(30), 64 * 1024));
	}

	@AfterEach
	void stop() throws IOException {
		client.close();
		server.close();
	}

	/** One request per connection, answered as keep-alive, then the connection is closed. */
	private void serve() {
		while (!server.isClosed()) {
			try (Socket s = server.accept()) {
				s.setSoTimeout(5_000);
				InputStream in = s.getInputStream();
				String head = readHead(in);
				if (head == null) {
					continue;
				}
				int length = contentLength(head);
				in.readNBytes(length);
				OutputStream out = s.getOutputStream();
				out.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(StandardCharsets.ISO_8859_1));
				out.flush();
				answered.incrementAndGet();
				if (reset) {
					s.setSoLinger(true, 0);
				}
			}
			catch (IOException e) {
				// the next connection
			}
		}
	}

	private UpstreamClient.Result send(String method, String body) throws Exception {
		return send(method, body, false);
	}

	private UpstreamClient.Result send(String method, String body, boolean atMostOnce) throws Exception {
		MockHttpServletRequest servlet = new MockHttpServletRequest(method, "/orders");
		if (body != null) {
			servlet.setContent(body.getBytes(StandardCharsets.ISO_8859_1));
		}
		RequestBody requestBody = RequestBody.of(servlet, 1024, 0);
		Replica replica = Replica.of(URI.create("http://127.0.0.1:" + server.getLocalPort()), 1);
		UpstreamClient.Call call = client.prepare(replica, method, "/orders", List.of("Host", "orders"), requestBody,
				TimeUnit.SECONDS.toNanos(2));
		UpstreamClient.Result result = client.execute(call, atMostOnce);
		if (result.answered()) {
			result.response().body().readAllBytes();
			result.response().release();
		}
		return result;
	}

	@ParameterizedTest
	@ValueSource(booleans = { false, true })
	void aRequestWithoutABodyMeetingAClosedKeepAliveConnectionIsSentAgainAndAnswered(boolean withReset)
			throws Exception {
		reset = withReset;
		for (int i = 0; i < 5; i++) {
			UpstreamClient.Result result = send("GET", null);
			assertThat(result.answered()).as("request %d: %s", i, result.detail()).isTrue();
			assertThat(result.status()).isEqualTo(200);
			Thread.sleep(50); // the replica's close reaches the pooled connection before the next lease
		}
		assertThat(answered).hasValue(5);
	}

	@ParameterizedTest
	@ValueSource(booleans = { false, true })
	void aRequestWithABodyIsNotSentAgainByTheTransport(boolean withReset) throws Exception {
		reset = withReset;
		assertThat(send("PUT", "one order").answered()).isTrue();
		Thread.sleep(50);
		UpstreamClient.Result second = send("PUT", "one order");
		assertThat(second.answered()).as("the body went out on a closed connection: the exchange decides").isFalse();
		assertThat(second.failure()).isEqualTo(Outcome.RESET);
		assertThat(answered).hasValue(1);
	}

	@ParameterizedTest
	@ValueSource(booleans = { false, true })
	void aRequestThatMustNotReachAReplicaTwiceIsNeverSentOnAConnectionTheReplicaClosed(boolean withReset)
			throws Exception {
		reset = withReset;
		for (int i = 0; i < 5; i++) {
			UpstreamClient.Result result = send("POST", "order " + i, true);
			assertThat(result.answered()).as("request %d: %s", i, result.detail()).isTrue();
			assertThat(result.status()).isEqualTo(200);
			Thread.sleep(50); // the replica's close reaches the pooled connection before the next lease
		}
		assertThat(answered).hasValue(5);
	}

	@org.junit.jupiter.api.Test
	void aFailureOnANewConnectionIsNotTakenForTheRace() {
		assertThat(UpstreamFailures.closedWhileIdle(new org.apache.hc.core5.http.NoHttpResponseException("x"), null))
			.isFalse();
	}

	private static String readHead(InputStream in) throws IOException {
		StringBuilder head = new StringBuilder();
		int state = 0;
		while (state < 4) {
			int b = in.read();
			if (b < 0) {
				return null;
			}
			head.append((char) b);
			state = (b == '\r' && (state == 0 || state == 2)) || (b == '\n' && (state == 1 || state == 3)) ? state + 1 : 0;
		}
		return head.toString();
	}

	private static int contentLength(String head) {
		for (String line : head.split("\r\n")) {
			if (line.regionMatches(true, 0, "Content-Length:", 0, 15)) {
				return Integer.parseInt(line.substring(15).trim());
			}
		}
		return 0;
	}

}
