package dev.resiliencegateway.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

import dev.resiliencegateway.demo.DemoReplica;
import dev.resiliencegateway.health.PoolHealth;
import dev.resiliencegateway.health.ReplicaHealth;
import dev.resiliencegateway.health.ReplicaState;

/**
 * Recovery with real replicas on loopback: a route that rides through a restart of every replica of
 * its pool, and a quiet route whose healed replica is readmitted by a synthetic probe with no client
 * request to ride on.
 */
class RecoveryIT extends GatewayIT {

	private HttpRequest.Builder request(String path) {
		return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(15));
	}

	private static ReplicaHealth health(PoolHealth pool, DemoReplica replica) {
		return pool.replicas().stream().filter(r -> r.replica().uri().getPort() == replica.port()).findFirst().orElseThrow();
	}

	/** Crashes both replicas of pool "riding" and waits until the health checks mark both down: nothing in rotation. */
	private static void crashEveryRidingReplica(PoolHealth pool) {
		Replicas.RIDE.forEach(DemoReplica::crash);
		Awaitility.await().atMost(Duration.ofSeconds(10))
			.until(() -> pool.replicas().stream().allMatch(r -> r.state() == ReplicaState.DOWN));
	}

	private static void restartRidingReplicas() throws java.io.IOException {
		for (DemoReplica r : Replicas.RIDE) {
			if (!r.isRunning()) {
				r.start();
			}
		}
	}

	@Test
	void requestsRideThroughARestartOfEveryReplicaAndAPostExecutesOnce() throws Exception {
		PoolHealth pool = pools.pool("riding");
		try {
			crashEveryRidingReplica(pool);
			CompletableFuture<HttpResponse<String>> get = http.sendAsync(request("/riding/items/7").GET().build(),
					HttpResponse.BodyHandlers.ofString());
			CompletableFuture<HttpResponse<String>> post = http.sendAsync(request("/riding/orders")
				.header("X-Request-Id", "ride-through-order-1")
				.POST(HttpRequest.BodyPublishers.ofString("{\"order\":1}"))
				.build(), HttpResponse.BodyHandlers.ofString());
			Thread.sleep(500);
			assertThat(get).as("waiting for a replica to come back, not answered 503").isNotDone();
			assertThat(post).isNotDone();
			DemoReplica first = Replicas.RIDE.get(0);
			first.start();
			HttpResponse<String> got = get.get(10, TimeUnit.SECONDS);
			HttpResponse<String> posted = post.get(10, TimeUnit.SECONDS);
			assertThat(got.statusCode()).isEqualTo(200);
			assertThat(got.body()).contains("\"replica\":\"ride-1\"");
			assertThat(posted.statusCode()).isEqualTo(200);
			assertThat(first.executions()).containsEntry("ride-through-order-1", 1);
			assertThat(Replicas.RIDE.get(1).executions()).doesNotContainKey("ride-through-order-1");
			assertThat(health(pool, first).state()).isIn(ReplicaState.RECOVERING, ReplicaState.HEALTHY);
		}
		finally {
			restartRidingReplicas();
		}
	}

	@Test
	void aRideThroughWaitThatNothingEndsIsA503NamingTheWait() throws Exception {
		PoolHealth pool = pools.pool("riding");
		try {
			crashEveryRidingReplica(pool);
			HttpResponse<String> out = http.send(request("/riding/items/8").GET().build(), HttpResponse.BodyHandlers.ofString());
			assertThat(out.statusCode()).isEqualTo(503);
			assertThat(out.headers().firstValue("Content-Type")).hasValue("application/problem+json");
			assertThat(out.body()).containsPattern("waited 5\\d{3} ms for a replica to come back \\(ride-through\\)")
				.contains("\"requestId\"");
		}
		finally {
			restartRidingReplicas();
		}
	}

	@Test
	void aQuietRoutesHealedReplicaIsReadmittedByASyntheticProbe() throws Exception {
		PoolHealth pool = pools.pool("quiet");
		DemoReplica bad = Replicas.QUIET.get(0);
		ReplicaHealth badHealth = health(pool, bad);
		try {
			bad.setMode(DemoReplica.Mode.FAILING, 1.0, 0);
			// bounded by time, not by a count: after its first failure the balancer avoids the failing replica
			// until the failure's latency penalty (10x) fades with the 500 ms decay, about a second; 500
			// requests at a millisecond each could all pass before its second failure (seen once in CI)
			long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
			for (int i = 0; System.nanoTime() < deadline && badHealth.state() != ReplicaState.EJECTED; i++) {
				HttpResponse<String> out = http.send(request("/quiet/items/" + i).GET().build(),
						HttpResponse.BodyHandlers.ofString());
				assertThat(out.statusCode()).as("retried on the other replica").isEqualTo(200);
			}
			assertThat(badHealth.state()).isEqualTo(ReplicaState.EJECTED);
			// no more client requests: while it still fails, the synthetic probes fail and back off
			bad.recordRequests(true);
			Awaitility.await().atMost(Duration.ofSeconds(5))
				.until(() -> badHealth.status().reason().startsWith("synthetic probe failed: GET /ping answered 500"));
			bad.setMode(DemoReplica.Mode.HEALTHY);
			Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> badHealth.state().takesTraffic());
			assertThat(badHealth.status().reason()).isEqualTo("synthetic probe succeeded: GET /ping answered 200");
			assertThat(bad.recorded()).allSatisfy(r -> {
				assertThat(r.method()).isEqualTo("GET");
				assertThat(r.path()).isEqualTo("/ping");
			});
		}
		finally {
			bad.setMode(DemoReplica.Mode.HEALTHY);
			bad.recordRequests(false);
			if (!badHealth.state().takesTraffic()) {
				badHealth.restore("test cleanup");
			}
		}
	}

}
