package dev.resiliencegateway.it.edge;

import java.time.Duration;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.resiliencegateway.exchange.transport.UpstreamClient;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Rows 16, 23 and 24 of the hardening catalogue: clients that stall. Here the read timeout is
 * {@link EdgeIT#READ_TIMEOUT} (2 s); the shipped default is 10 s ({@code server.tomcat.connection-timeout}).
 */
class SlowClientsIT extends EdgeIT {

	@ParameterizedTest(name = "row 16, a chunked body that stalls gets 408 and never completes upstream: {0}")
	@ValueSource(strings = { "POST", "PUT", "GET" })
	void row16StalledChunkedBody(String method) throws Exception {
		int mark = REPLICA.count();
		try (RawClient client = new RawClient(port)) {
			long start = System.nanoTime();
			client.send(method + " /r16 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
			RawClient.Response r = client.read();
			assertThat(r.status()).isEqualTo(408);
			assertThat(r.headers("Connection")).contains("close");
			assertThat(client.closedWithin(3000)).isTrue();
			assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(READ_TIMEOUT.multipliedBy(5));
		}
		assertThat(settled(mark)).as("no complete request").isEmpty();
	}

	@Test
	void row23AHeadThatStallsIsDroppedAndOthersAreServed() throws Exception {
		try (RawClient slow = new RawClient(port)) {
			slow.send("GET /r23 HTTP/1.1\r\nHost: x\r\nX-Slow: ");
			// meanwhile another client is served at once
			check(forwarded("GET /r23-other HTTP/1.1\r\nHost: x\r\n\r\n", r -> {
			}));
			assertThat(slow.closedWithin(READ_TIMEOUT.toMillis() * 3)).as("the stalled head is dropped").isTrue();
		}
	}

	@Autowired
	UpstreamClient upstream;

	@Test
	void row24AClientThatNeverReadsIsCutOffAndTheReplicaConnectionReleased() throws Exception {
		try (RawClient client = new RawClient(port)) {
			// 256 MB: far more than the socket buffers between client, gateway and replica hold
			client.send("GET /big/268435456 HTTP/1.1\r\nHost: x\r\n\r\n");
			Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> upstream.leasedConnections() > 0);
			// the client reads nothing; the gateway's write times out after the read timeout
			Awaitility.await().atMost(READ_TIMEOUT.multipliedBy(8)).until(() -> upstream.leasedConnections() == 0);
			long received = 0;
			try {
				byte[] buffer = new byte[1 << 16];
				int n;
				while ((n = client.input().read(buffer)) >= 0) {
					received += n;
				}
			}
			catch (java.io.IOException reset) {
				// cut off: as good as an end of stream
			}
			assertThat(received).as("the answer was cut off, not delivered whole").isLessThan(268435456L);
		}
	}

	@ParameterizedTest(name = "row 24, a Content-Length body that stalls gets 408: {0}")
	@ValueSource(strings = { "POST", "PUT" })
	void row24StalledBody(String method) throws Exception {
		int mark = REPLICA.count();
		try (RawClient client = new RawClient(port)) {
			client.send(method + " /r24 HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello");
			RawClient.Response r = client.read();
			assertThat(r.status()).isEqualTo(408);
			assertThat(client.closedWithin(3000)).isTrue();
		}
		assertThat(settled(mark)).as("no complete request").isEmpty();
	}

}
