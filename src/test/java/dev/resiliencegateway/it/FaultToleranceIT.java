package dev.resiliencegateway.it;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import dev.resiliencegateway.demo.DemoReplica;
import dev.resiliencegateway.demo.DemoReplica.Mode;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One fault at a time on one of three real replicas, under concurrent GET load: clients keep
 * getting answers, the faulty replica's share drops (to about nothing once it is out), and once the
 * fault heals it gets traffic again. Request counts, not wall-clock speed, are asserted.
 */
class FaultToleranceIT extends GatewayIT {

	private static final ExecutorService CLIENTS = Executors.newFixedThreadPool(8);

	@AfterAll
	static void stopClients() {
		CLIENTS.shutdownNow();
	}

	/** Status codes of a batch of GETs sent by 8 concurrent clients (non-HTTP failures count as 0). */
	private Map<Integer, Integer> load(int requests) throws Exception {
		Map<Integer, Integer> statuses = new ConcurrentHashMap<>();
		AtomicInteger left = new AtomicInteger(requests);
		List<Future<?>> workers = new ArrayList<>();
		for (int t = 0; t < 8; t++) {
			workers.add(CLIENTS.submit(() -> {
				while (left.getAndDecrement() > 0) {
					int status;
					try {
						status = http.send(HttpRequest.newBuilder(gateway("/svc/work")).timeout(Duration.ofSeconds(10)).build(),
								HttpResponse.BodyHandlers.discarding()).statusCode();
					}
					catch (Exception e) {
						status = 0;
					}
					statuses.merge(status, 1, Integer::sum);
				}
				return null;
			}));
		}
		for (Future<?> w : workers) {
			w.get(120, TimeUnit.SECONDS);
		}
		return statuses;
	}

	private void survives(Consumer<DemoReplica> fault, Consumer<DemoReplica> heal) throws Exception {
		survives(fault, heal, false);
	}

	/** @param awaitActiveCheck wait for the active checks to take the replica out (they run every 200 ms) */
	private void survives(Consumer<DemoReplica> fault, Consumer<DemoReplica> heal, boolean awaitActiveCheck)
			throws Exception {
		DemoReplica victim = Replicas.SVC.get(0);
		assertThat(load(90)).containsOnlyKeys(200);
		assertThat(victim.served()).as("victim takes traffic before the fault").isPositive();

		fault.accept(victim);
		assertThat(load(300)).as("answers while the fault is being detected").containsOnlyKeys(200);

		if (awaitActiveCheck) {
			Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> !pools.pool("svc").replicas().get(0).state().takesTraffic());
		}
		victim.resetStats();
		Map<Integer, Integer> settled = load(400);
		assertThat(settled).as("answers once the fault is known").containsOnlyKeys(200);
		assertThat(victim.served()).as("faulty replica's share of 400 requests").isLessThanOrEqualTo(20);

		heal.accept(victim);
		victim.resetStats();
		long until = System.nanoTime() + Duration.ofSeconds(20).toNanos();
		while (victim.served() < 20 && System.nanoTime() < until) {
			assertThat(load(100)).as("answers while the replica heals").containsOnlyKeys(200);
		}
		assertThat(victim.served()).as("healed replica gets traffic again").isGreaterThanOrEqualTo(20);
	}

	private static Consumer<DemoReplica> mode(Mode mode) {
		return r -> r.setMode(mode, 1.0, 1500);
	}

	@Test
	void crashAndRestart() throws Exception {
		survives(DemoReplica::crash, r -> {
			try {
				r.start();
			}
			catch (java.io.IOException e) {
				throw new java.io.UncheckedIOException(e);
			}
		});
	}

	@Test
	void fiveHundredOnEveryRequest() throws Exception {
		survives(mode(Mode.FAILING), mode(Mode.HEALTHY));
	}

	@Test
	void fiveHundredOnHalfTheRequests() throws Exception {
		survives(r -> r.setMode(Mode.FAILING, 0.5, 0), mode(Mode.HEALTHY));
	}

	@Test
	void addedLatencyOfOneAndAHalfSeconds() throws Exception {
		survives(r -> r.setMode(Mode.SLOW, 1.0, 1500), mode(Mode.HEALTHY));
	}

	@Test
	void hangAcceptsAndNeverAnswers() throws Exception {
		survives(mode(Mode.HANGING), mode(Mode.HEALTHY));
	}

	@Test
	void healthDownWhileTrafficStillWorks() throws Exception {
		survives(mode(Mode.UNHEALTHY), mode(Mode.HEALTHY), true);
	}

	@Test
	void healthyHealthEndpointWhileTrafficFails() throws Exception {
		survives(mode(Mode.LYING_HEALTH), mode(Mode.HEALTHY));
	}

}
