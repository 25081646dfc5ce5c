package dev.resiliencegateway.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import dev.resiliencegateway.demo.DemoReplica;
import dev.resiliencegateway.health.ReplicaHealth;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * A client that gives up while the gateway waits for a replica cancels the upstream attempt. The
 * "abandon" route waits up to 20 s for a replica that never answers, so an attempt that ends within
 * the test's bounds ended because it was cancelled, and the attempt counter says so.
 */
class ClientDisconnectIT extends GatewayIT {

	@Autowired
	MeterRegistry meters;

	@Test
	void aGetWaitingForAHangingReplicaIsCancelledWhenTheClientCloses() throws Exception {
		abandon("GET /abandon/slow HTTP/1.1\r\nHost: gw\r\n\r\n");
	}

	@Test
	void aStreamedPostIsCancelledOnceItsBodyWasSentAndTheClientCloses() throws Exception {
		abandon("POST /abandon/orders HTTP/1.1\r\nHost: gw\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello");
	}

	@Test
	void theWatcherWakesAgainForEachRequestAfterGoingIdle() throws Exception {
		// between these the watcher has nothing to watch and sleeps without a timeout: a request that
		// then waits must wake it, or it is never watched and its attempt runs to the route's 20 s
		for (int i = 0; i < 3; i++) {
			abandon("GET /abandon/slow-" + i + " HTTP/1.1\r\nHost: gw\r\n\r\n");
			Thread.sleep(300);
		}
	}

	private void abandon(String request) throws Exception {
		ReplicaHealth replica = pools.pool("abandon").replicas().get(0);
		double cancelledBefore = cancelled();
		try (Socket client = new Socket("127.0.0.1", port)) {
			OutputStream out = client.getOutputStream();
			out.write(request.getBytes(StandardCharsets.ISO_8859_1));
			out.flush();
			Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> replica.load().inFlight() == 1);
		}
		// the route would wait 20 s: within 10 s only a cancellation ends the attempt
		Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> replica.load().inFlight() == 0);
		Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> cancelled() == cancelledBefore + 1);
		assertThat(replica.state().takesTraffic()).as("a cancelled attempt is not the replica's failure").isTrue();
	}

	@Test
	void aWatchedKeepAliveConnectionServesItsNextRequest() throws Exception {
		Replicas.SVC.forEach(r -> r.setMode(DemoReplica.Mode.SLOW, 1, 200)); // long enough to be watched
		try (Socket client = new Socket("127.0.0.1", port)) {
			client.setSoTimeout(10_000);
			for (int i = 0; i < 3; i++) {
				client.getOutputStream().write(("GET /svc/item/" + i + " HTTP/1.1\r\nHost: gw\r\n\r\n")
					.getBytes(StandardCharsets.ISO_8859_1));
				client.getOutputStream().flush();
				String response = RawHttp.readResponse(client.getInputStream());
				assertThat(response).startsWith("HTTP/1.1 200");
			}
		}
	}

	private double cancelled() {
		Counter c = meters.find("gateway.attempts").tag("route", "abandon").tag("outcome", "CANCELLED").counter();
		return c == null ? 0 : c.count();
	}

}
