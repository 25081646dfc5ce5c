package dev.resiliencegateway.it;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import dev.resiliencegateway.demo.DemoReplica;
import dev.resiliencegateway.demo.DemoReplica.Mode;
import dev.resiliencegateway.health.ReplicaHealth;
import dev.resiliencegateway.health.ReplicaState;
import dev.resiliencegateway.outcome.Outcome;
import io.micrometer.core.instrument.MeterRegistry;

import static org.assertj.core.api.Assertions.assertThat;

/** What reached the replicas when attempts fail: retries only when safe, each on a replica not tried yet. */
class RetriesIT extends GatewayIT {

	@Autowired
	MeterRegistry meters;

	/** Request id to the replicas it reached, in order. */
	private static Map<String, List<String>> reached(List<DemoReplica> replicas) {
		Map<String, List<String>> out = new LinkedHashMap<>();
		for (DemoReplica r : replicas) {
			for (DemoReplica.Recorded rec : r.recorded()) {
				out.computeIfAbsent(rec.requestId(), k -> new ArrayList<>()).add(r.id());
			}
		}
		return out;
	}

	private void getIsRetriedOnAnotherReplica(Mode fault) throws Exception {
		Replicas.SVC.forEach(r -> r.recordRequests(true));
		Replicas.SVC.get(0).setMode(fault);
		Replicas.SVC.get(1).setMode(fault);
		int reachedFaulty = 0;
		for (int i = 0; i < 300 && reachedFaulty < 3; i++) {
			String id = "retry-" + fault + "-" + i;
			HttpResponse<String> r = http.send(HttpRequest.newBuilder(gateway("/retrying/x")).header("X-Request-Id", id).build(),
					HttpResponse.BodyHandlers.ofString());
			assertThat(r.statusCode()).isEqualTo(200);
			List<String> path = reached(Replicas.SVC).get(id);
			if (fault == Mode.RESET) {
				// a reset on a reused keep-alive connection cannot be told from the replica closing it while
				// idle, so the client sends a bodyless GET once more on a fresh connection to the same replica
				// (UpstreamFailures.closedWhileIdle) before the exchange counts an attempt: drop such repeats
				List<String> distinct = new ArrayList<>();
				for (String replica : path) {
					if (distinct.isEmpty() || !distinct.get(distinct.size() - 1).equals(replica)) {
						distinct.add(replica);
					}
				}
				path = distinct;
			}
			assertThat(path).doesNotHaveDuplicates().last().isEqualTo("svc-3");
			assertThat(r.headers().firstValue("X-Gateway-Attempts")).contains(String.valueOf(path.size()));
			if (path.size() > 1) {
				reachedFaulty++;
			}
			if (i % 20 == 19) {
				Thread.sleep(600); // let the faulty replicas' latency penalty fade so they are tried again
			}
		}
		assertThat(reachedFaulty).as("requests that met a faulty replica first").isGreaterThanOrEqualTo(3);
	}

	@Test
	void getIsRetriedOnADifferentReplicaAfterA500() throws Exception {
		getIsRetriedOnAnotherReplica(Mode.FAILING);
	}

	@Test
	void getIsRetriedOnADifferentReplicaAfterAReset() throws Exception {
		getIsRetriedOnAnotherReplica(Mode.RESET);
	}

	@Test
	void postIsNotRetriedAfterA500() throws Exception {
		Replicas.SVC.forEach(r -> {
			r.recordRequests(true);
			r.setMode(Mode.FAILING);
		});
		for (int i = 0; i < 10; i++) {
			HttpResponse<String> r = post("/svc/orders", "x", "X-Request-Id", "post-500-" + i);
			assertThat(r.statusCode()).isEqualTo(500);
			assertThat(reached(Replicas.SVC).get("post-500-" + i)).hasSize(1);
		}
	}

	@Test
	void postIsNotRetriedAfterATimeout() throws Exception {
		Replicas.HANG.recordRequests(true);
		try {
			HttpResponse<String> r = post("/hang/orders", "x", "X-Request-Id", "post-timeout-1");
			assertThat(r.statusCode()).isEqualTo(504);
			assertThat(r.body()).contains("(after 1 attempt)");
			assertThat(reached(List.of(Replicas.HANG)).get("post-timeout-1")).hasSize(1);
		}
		finally {
			Replicas.HANG.recordRequests(false);
		}
	}

	@Test
	void postIsRetriedAfterAConnectionRefusalAndExecutedOnce() throws Exception {
		Replicas.SPARE.resetStats();
		for (int i = 0; i < 20; i++) {
			HttpResponse<String> r = post("/halfdead/orders", "order-" + i, "X-Request-Id", "refused-" + i);
			assertThat(r.statusCode()).isEqualTo(200);
		}
		assertThat(Replicas.SPARE.executions()).hasSize(20).allSatisfy((id, n) -> assertThat(n).isEqualTo(1));
		// with every replica known to be down, one attempt (panic mode) and then 503 at once, no retry
		Awaitility.await().atMost(Duration.ofSeconds(5))
			.until(() -> pools.pool("dead").replicas().stream().noneMatch(r -> r.state().takesTraffic()));
		HttpResponse<String> none = post("/dead/orders", "x");
		assertThat(none.statusCode()).isEqualTo(503);
		assertThat(none.body()).contains("accepted a connection").contains("(after 1 attempt)");
	}

	@Test
	void postWithAnIdempotencyKeyIsRetried() throws Exception {
		Replicas.SVC.forEach(r -> r.recordRequests(true));
		Replicas.SVC.get(0).setMode(Mode.FAILING);
		Replicas.SVC.get(1).setMode(Mode.FAILING);
		int retried = 0;
		for (int i = 0; i < 200 && retried < 3; i++) {
			String id = "keyed-" + i;
			HttpResponse<String> r = post("/svc/orders", "order-" + i, "X-Request-Id", id, "Idempotency-Key", "k-" + i);
			assertThat(r.statusCode()).isEqualTo(200);
			retried += reached(Replicas.SVC).get(id).size() > 1 ? 1 : 0;
			if (i % 20 == 19) {
				Thread.sleep(600);
			}
		}
		assertThat(retried).isGreaterThanOrEqualTo(3);
		Map<String, Integer> executions = new HashMap<>();
		Replicas.SVC.forEach(r -> r.executions().forEach((k, v) -> executions.merge(k, v, Integer::sum)));
		assertThat(executions.values()).allSatisfy(n -> assertThat(n).isEqualTo(1));
	}

	@Test
	void aWholePoolFailingCannotMultiplyTheLoad() throws Exception {
		Replicas.SVC.forEach(r -> r.setMode(Mode.FAILING));
		int requests = 300;
		for (int i = 0; i < requests; i++) {
			assertThat(get("/budget/x").statusCode()).isEqualTo(500);
		}
		long attempts = Replicas.SVC.stream().mapToLong(DemoReplica::served).sum();
		// 20 % of requests plus a floor of 3 retries/s over the 10 s window
		assertThat(attempts).isGreaterThanOrEqualTo(requests).isLessThanOrEqualTo((long) (requests * 1.2) + 30);
		assertThat(meters.get("gateway.retry.budget.exhausted").tag("route", "budget").counter().count()).isPositive();
	}

	@Test
	void theRouteDeadlineWinsOverThePerTryTimeout() throws Exception {
		HttpResponse<String> r = get("/deadline/x");
		assertThat(r.statusCode()).isEqualTo(504);
		assertThat(r.body()).contains("(after 1 attempt)");
		HttpResponse<String> perTry = get("/hang/x");
		assertThat(perTry.statusCode()).isEqualTo(504);
		assertThat(perTry.body()).contains("(after 3 attempts)");
	}

	@Test
	void hedgingTurnsAHangingReplicaIntoAnAnswerAndCancelsTheLoser() throws Exception {
		boolean hedged = false;
		for (int i = 0; i < 40 && !hedged; i++) {
			HttpResponse<String> r = get("/hedged/x");
			assertThat(r.statusCode()).isEqualTo(200);
			assertThat(r.body()).contains("spare-2");
			hedged = r.headers().firstValue("X-Gateway-Attempts").orElse("1").equals("2");
			if (!hedged) {
				Thread.sleep(300);
			}
		}
		assertThat(hedged).as("one request hedged away from the hanging replica").isTrue();
		ReplicaHealth hanging = pools.pool("hedgepool").replicas().get(0);
		Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> hanging.load().inFlight() == 0);
		assertThat(meters.get("gateway.attempts").tag("route", "hedged").tag("outcome", "OUTRUN").counter().count())
			.as("the hanging first attempt, outrun by its hedge and cancelled").isPositive();
		assertThat(meters.get("gateway.hedges").tag("route", "hedged").counter().count()).isPositive();
	}

	@Test
	void aProbeOfAnEjectedReplicaIsHedgedOnARouteThatDoesNotHedge() throws Exception {
		ReplicaHealth hanging = pools.pool("hedgepool").replicas().get(0);
		hanging.restore("test setup"); // the hedging test may have left it ejected, or mid-probe
		try {
			for (int i = 0; i < 5; i++) { // what real traffic would report: five timeouts in a row
				pools.pool("hedgepool").record(hanging, Outcome.TIMEOUT, Duration.ofSeconds(1).toNanos(), false);
			}
			assertThat(hanging.state()).isEqualTo(ReplicaState.EJECTED);
			boolean probed = false;
			for (int i = 0; i < 40 && !probed; i++) {
				// the route waits 20 s per try; the client gives up after 10 s: only a hedge answers in time
				HttpResponse<String> r = get("/probing/x");
				assertThat(r.statusCode()).isEqualTo(200);
				assertThat(r.body()).contains("spare-2");
				probed = r.headers().firstValue("X-Gateway-Attempts").orElse("1").equals("2");
				if (!probed) {
					Thread.sleep(100);
				}
			}
			assertThat(probed).as("a probe went to the hanging replica and was hedged").isTrue();
			assertThat(meters.get("gateway.hedges").tag("route", "probing").counter().count()).isPositive();
			assertThat(hanging.state()).as("a cancelled probe does not readmit").isNotIn(ReplicaState.HEALTHY,
					ReplicaState.RECOVERING);
		}
		finally {
			hanging.restore("test cleanup");
		}
	}

	@Test
	void failsFastWith503WhenNoReplicaCanTakeTheRequest() throws Exception {
		pools.pool("svc").replicas().forEach(r -> r.drain("test"));
		long before = Replicas.SVC.stream().mapToLong(DemoReplica::served).sum();
		HttpResponse<String> r = get("/svc/x");
		assertThat(r.statusCode()).isEqualTo(503);
		assertThat(r.headers().firstValue("Retry-After")).contains("1");
		assertThat(r.body()).contains("can take the request");
		assertThat(Replicas.SVC.stream().mapToLong(DemoReplica::served).sum()).isEqualTo(before);
	}

}
