package dev.resiliencegateway.it;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import org.junit.jupiter.api.Test;

import dev.resiliencegateway.demo.DemoReplica;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Pool "idle" runs the shipped health-check cadence: a round every second while requests come, one
 * every ten seconds while none does (docs/performance.md, "Idle"), counted at the replica.
 */
class QuietPoolChecksIT extends GatewayIT {

	@Test
	void aQuietPoolIsCheckedSeldomAndEverySecondOnceRequestsCome() throws Exception {
		DemoReplica replica = Replicas.IDLE;
		long before = replica.healthChecks();
		Thread.sleep(3_000);
		assertThat(replica.healthChecks() - before).as("checks in 3 s without a request").isLessThanOrEqualTo(1);

		before = replica.healthChecks();
		HttpRequest get = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/idle/items/1")).build();
		for (int i = 0; i < 16; i++) {
			assertThat(http.send(get, HttpResponse.BodyHandlers.discarding()).statusCode()).isEqualTo(200);
			Thread.sleep(200);
		}
		assertThat(replica.healthChecks() - before).as("checks in 3.2 s with a request every 200 ms").isGreaterThanOrEqualTo(2);
	}

}
