package dev.resiliencegateway.exchange;

import static dev.resiliencegateway.exchange.ExchangeFixture.A;
import static dev.resiliencegateway.exchange.ExchangeFixture.B;
import static dev.resiliencegateway.exchange.ExchangeFixture.C;
import static dev.resiliencegateway.exchange.FakeUpstream.answer;
import static dev.resiliencegateway.exchange.FakeUpstream.fail;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.mock.web.MockHttpServletResponse;
import org.springframework.web.servlet.function.HandlerFunction;
import org.springframework.web.servlet.function.ServerResponse;

import dev.resiliencegateway.config.GatewayConfig;
import dev.resiliencegateway.config.GatewayConfig.RoutePolicy;
import dev.resiliencegateway.exchange.FakeUpstream.Sent;
import dev.resiliencegateway.outcome.Outcome;
import dev.resiliencegateway.pool.Replica;

/** The exchange loop (choose, send, ask the rule, act) against a scripted upstream on a fake clock. */
class ResilientExchangeTest {

	private final ExchangeFixture fx = new ExchangeFixture(A, B, C);

	private final RoutePolicy policy = GatewayConfig.DEFAULT_ROUTE.withBackoff(Duration.ZERO, Duration.ZERO);

	private final HandlerFunction<ServerResponse> route = fx.route(policy);

	@AfterEach
	void close() {
		fx.close();
	}

	@Test
	void aGoodAnswerIsRelayedOnceAndItsConnectionReleased() throws Exception {
		fx.upstream.scriptAll(answer(200, "order 1", "Content-Type", "text/plain", "Connection", "x-secret", "X-Secret",
				"1", "Keep-Alive", "timeout=5"));
		MockHttpServletResponse out = fx.send(route, "GET", "/orders/1?x=%41", null);
		assertThat(out.getStatus()).isEqualTo(200);
		assertThat(out.getContentAsString()).isEqualTo("order 1");
		assertThat(out.getHeader("Content-Type")).isEqualTo("text/plain");
		assertThat(out.getHeaderNames()).as("hop-by-hop and nominated headers stay behind")
			.doesNotContain("Connection", "X-Secret", "Keep-Alive");
		assertThat(out.getHeader("X-Gateway-Attempts")).isEqualTo("1");
		assertThat(fx.upstream.sent).singleElement()
			.satisfies(s -> assertThat(s.target()).isEqualTo("/orders/1?x=%41"));
		assertThat(fx.upstream.released).hasSize(1);
		assertThat(fx.upstream.aborted).isEmpty();
		Replica replica = replicaOf(fx.upstream.sent.get(0));
		assertThat(fx.attempts(replica, Outcome.SUCCESS)).isEqualTo(1);
		assertThat(fx.health(replica).load().inFlight()).isZero();
	}

	@Test
	void anAnswerThatIsNeverWrittenEndsItsAttemptWhenTheRequestEnds() throws Exception {
		fx.upstream.scriptAll(answer(200, "order 1"));
		ExchangeFixture.Handled handled = fx.handle(route, "GET", "/orders/1");
		Replica replica = replicaOf(fx.upstream.sent.get(0));
		assertThat(fx.health(replica).load().inFlight()).isEqualTo(1);
		// a route's response filter threw: Spring MVC answered with an error, this answer was never written
		handled.end();
		assertThat(fx.upstream.aborted).as("its connection closed, the body unread").hasSize(1);
		assertThat(fx.upstream.released).isEmpty();
		assertThat(fx.health(replica).load().inFlight()).isZero();
		assertThat(fx.attempts(replica, Outcome.SUCCESS)).isZero();
		handled.end(); // once only
		assertThat(fx.upstream.aborted).hasSize(1);
	}

	@Test
	void aWrittenAnswerIsNotEndedAgainWhenTheRequestEnds() throws Exception {
		fx.upstream.scriptAll(answer(200, "order 1"));
		ExchangeFixture.Handled handled = fx.handle(route, "GET", "/orders/1");
		assertThat(handled.write().getContentAsString()).isEqualTo("order 1");
		handled.end();
		Replica replica = replicaOf(fx.upstream.sent.get(0));
		assertThat(fx.upstream.released).hasSize(1);
		assertThat(fx.upstream.aborted).isEmpty();
		assertThat(fx.attempts(replica, Outcome.SUCCESS)).isEqualTo(1);
		assertThat(fx.health(replica).load().inFlight()).isZero();
	}

	@Test
	void aGetThatMeetsA500IsRetriedOnAnotherReplica() throws Exception {
		fx.upstream.scriptAll(answer(500, "boom"), answer(200, "ok"));
		MockHttpServletResponse out = fx.send(route, "GET", "/orders/1", null);
		assertThat(out.getStatus()).isEqualTo(200);
		assertThat(out.getContentAsString()).isEqualTo("ok");
		assertThat(out.getHeader("X-Gateway-Attempts")).isEqualTo("2");
		assertThat(fx.upstream.sent).hasSize(2);
		assertThat(fx.upstream.sent.get(0).replica()).isNotEqualTo(fx.upstream.sent.get(1).replica());
		assertThat(fx.upstream.aborted).as("the 500 is not read, its connection not reused").hasSize(1);
		assertThat(fx.attempts(replicaOf(fx.upstream.sent.get(0)), Outcome.UPSTREAM_5XX)).isEqualTo(1);
		assertThat(fx.attempts(replicaOf(fx.upstream.sent.get(1)), Outcome.SUCCESS)).isEqualTo(1);
	}

	@Test
	void aPostReachesOneReplicaOnceOnACheckedConnectionAndItsFailureIsRelayed() throws Exception {
		fx.upstream.scriptAll(answer(503, "busy"));
		MockHttpServletResponse out = fx.send(route, "POST", "/orders", "one order");
		assertThat(out.getStatus()).isEqualTo(503);
		assertThat(out.getContentAsString()).isEqualTo("busy");
		assertThat(fx.upstream.sent).singleElement().satisfies(s -> {
			assertThat(s.atMostOnce()).isTrue();
			assertThat(s.body()).isEqualTo("one order");
		});
	}

	@Test
	void aPostWhoseConnectionWasRefusedGoesToTheNextReplica() throws Exception {
		fx.upstream.scriptAll(fail(Outcome.CONNECT_FAILURE), answer(201, "created"));
		MockHttpServletResponse out = fx.send(route, "POST", "/orders", "one order");
		assertThat(out.getStatus()).isEqualTo(201);
		assertThat(fx.upstream.sent).extracting(Sent::body).containsExactly(null, "one order");
	}

	@Test
	void aPostThatTimedOutIsNotSentAgain() throws Exception {
		fx.upstream.scriptAll(fail(Outcome.TIMEOUT), answer(201, "created"));
		MockHttpServletResponse out = fx.send(route, "POST", "/orders", "one order");
		assertThat(out.getStatus()).isEqualTo(504);
		assertThat(out.getContentType()).isEqualTo("application/problem+json");
		assertThat(out.getContentAsString()).contains("scripted TIMEOUT").contains("after 1 attempt");
		assertThat(fx.upstream.sent).hasSize(1);
	}

	@Test
	void everyReplicaFailingEndsWithTheLastFailureAfterMaxAttempts() throws Exception {
		fx.upstream.scriptAll(fail(Outcome.RESET));
		MockHttpServletResponse out = fx.send(route, "GET", "/orders/1", null);
		assertThat(out.getStatus()).isEqualTo(502);
		assertThat(out.getContentAsString()).contains("after 3 attempts");
		assertThat(fx.upstream.sent).extracting(Sent::replica).containsExactlyInAnyOrder(A.id(), B.id(), C.id());
	}

	@Test
	void theRouteDeadlineStopsRetries() throws Exception {
		fx.upstream.scriptAll(call -> {
			fx.ticker.advance(Duration.ofSeconds(11)); // longer than the 10 s deadline
			return fail(Outcome.TIMEOUT).run(call);
		});
		MockHttpServletResponse out = fx.send(route, "GET", "/orders/1", null);
		assertThat(out.getStatus()).isEqualTo(504);
		assertThat(out.getContentAsString()).contains("route deadline of 10000 ms");
		assertThat(fx.upstream.sent).hasSize(1);
	}

	@Test
	void aRetryAfterLongerThanTheGatewayWaitsIsTheClientsToHear() throws Exception {
		fx.upstream.scriptAll(answer(503, "later", "Retry-After", "30"));
		MockHttpServletResponse out = fx.send(route, "GET", "/orders/1", null);
		assertThat(out.getStatus()).isEqualTo(503);
		assertThat(out.getHeader("Retry-After")).isEqualTo("30");
		assertThat(fx.upstream.sent).hasSize(1);
	}

	@Test
	void aStaticFallbackReplacesOnlyTheGatewaysOwnFailure() throws Exception {
		HandlerFunction<ServerResponse> withFallback = fx.route(
				policy.withFallback(new GatewayConfig.Fallback(200, "{\"orders\":[]}", "application/json", null)));
		fx.upstream.scriptAll(fail(Outcome.CONNECT_FAILURE));
		MockHttpServletResponse out = fx.send(withFallback, "GET", "/orders", null);
		assertThat(out.getStatus()).isEqualTo(200);
		assertThat(out.getContentAsString()).isEqualTo("{\"orders\":[]}");
		assertThat(out.getHeader(Fallbacks.HEADER)).isEqualTo("503");

		fx.upstream.scriptAll(answer(500, "the replica's own"));
		MockHttpServletResponse relayed = fx.send(withFallback, "POST", "/orders", "x");
		assertThat(relayed.getStatus()).isEqualTo(500);
		assertThat(relayed.getContentAsString()).isEqualTo("the replica's own");
	}

	@Test
	void aRequestAtTheRouteLimitIsRefusedWithoutReachingAReplica() throws Exception {
		HandlerFunction<ServerResponse> none = fx.route(policy.withLimits(policy.bufferLimit(), 0, policy.maxBodySize()));
		MockHttpServletResponse out = fx.send(none, "GET", "/orders", null);
		assertThat(out.getStatus()).isEqualTo(503);
		assertThat(out.getContentAsString()).contains("is at its limit of 0 concurrent requests");
		assertThat(fx.upstream.sent).isEmpty();
	}

	@Test
	void replicasAtTheirConcurrencyLimitAreSkippedAndNoneLeftIsA503() throws Exception {
		HandlerFunction<ServerResponse> full = fx.route(policy, 1);
		// B and C are busy with a request each (their limit is 1): only A may take one
		fx.health(B).load().begin(fx.ticker.nanos());
		fx.health(C).load().begin(fx.ticker.nanos());
		fx.upstream.scriptAll(answer(200, "ok"));
		MockHttpServletResponse out = fx.send(full, "GET", "/orders/1", null);
		assertThat(out.getStatus()).isEqualTo(200);
		assertThat(fx.upstream.sent).extracting(Sent::replica).containsExactly(A.id());
		fx.health(A).load().begin(fx.ticker.nanos());
		MockHttpServletResponse none = fx.send(full, "GET", "/orders/2", null);
		assertThat(none.getStatus()).isEqualTo(503);
		assertThat(none.getHeader("Retry-After")).isEqualTo("1");
		assertThat(none.getContentAsString()).contains("no replica of pool 'orders' can take the request");
		assertThat(fx.upstream.sent).hasSize(1);
	}

	@Test
	void aPostAvoidsAReplicaOnProbationWhileGetsProveIt() throws Exception {
		// A was ejected and passed one probe: readmitted, in slow start, on probation
		dev.resiliencegateway.health.ReplicaHealth a = fx.health(A);
		for (int i = 0; i < 5; i++) {
			fx.pool.record(a, Outcome.UPSTREAM_5XX, 1_000_000, false);
		}
		fx.ticker.advance(Duration.ofMillis(100));
		assertThat(a.claimProbe(fx.ticker.nanos())).isTrue();
		fx.pool.record(a, Outcome.SUCCESS, 1_000_000, true);
		assertThat(a.onProbation()).isTrue();
		fx.upstream.scriptAll(answer(201, "ok"));
		for (int i = 0; i < 100; i++) {
			assertThat(fx.send(route, "POST", "/orders", "order " + i).getStatus()).isEqualTo(201);
		}
		assertThat(fx.upstream.sent).extracting(Sent::replica).doesNotContain(A.id());
		// A is in slow start with a fresh failure record, so each GET goes to it with a small
		// probability (the balancer draws at random): enough GETs that missing it is not luck
		for (int i = 0; i < 1000; i++) {
			fx.send(route, "GET", "/orders/" + i, null);
		}
		assertThat(fx.upstream.sent).extracting(Sent::replica).contains(A.id());
	}

	private HandlerFunction<ServerResponse> ridingThrough(Duration maxWait) {
		return fx.route(policy.withRideThrough(new GatewayConfig.RideThroughPolicy(maxWait, 10)));
	}

	private void allDown() {
		for (Replica r : new Replica[] { A, B, C }) {
			fx.health(r).onHealthCheck(dev.resiliencegateway.health.HealthVerdict.DOWN, "ConnectException");
			fx.health(r).onHealthCheck(dev.resiliencegateway.health.HealthVerdict.DOWN, "ConnectException");
		}
	}

	@Test
	void withRideThroughAGetWaitsForAReplicaToComeBackAndGoesToIt() throws Exception {
		HandlerFunction<ServerResponse> riding = ridingThrough(Duration.ofSeconds(5));
		allDown();
		java.util.concurrent.atomic.AtomicBoolean aUp = new java.util.concurrent.atomic.AtomicBoolean();
		fx.upstream.scriptAll(fail(Outcome.CONNECT_FAILURE));
		fx.upstream.script(A, call -> aUp.get() ? answer(200, "back").run(call) : fail(Outcome.CONNECT_FAILURE).run(call));
		java.util.concurrent.CompletableFuture<MockHttpServletResponse> out = java.util.concurrent.CompletableFuture
			.supplyAsync(() -> {
				try {
					return fx.send(riding, "GET", "/orders/1", null);
				}
				catch (Exception e) {
					throw new IllegalStateException(e);
				}
			});
		org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> !fx.upstream.sent.isEmpty());
		Thread.sleep(200);
		assertThat(out).as("waiting for a replica to come back").isNotDone();
		aUp.set(true);
		fx.health(A).onHealthCheck(dev.resiliencegateway.health.HealthVerdict.UP, "HTTP 200");
		fx.health(A).onHealthCheck(dev.resiliencegateway.health.HealthVerdict.UP, "HTTP 200");
		MockHttpServletResponse answered = out.get(5, java.util.concurrent.TimeUnit.SECONDS);
		assertThat(answered.getStatus()).isEqualTo(200);
		assertThat(answered.getContentAsString()).isEqualTo("back");
		assertThat(fx.upstream.sent.get(fx.upstream.sent.size() - 1).replica()).isEqualTo(A.id());
		assertThat(fx.meters.counter("gateway.ride.through", "route", "orders", "result", "released").count()).isEqualTo(1);
	}

	@Test
	void aRideThroughWaitEndsIn503NamingItWhenNothingComesBack() throws Exception {
		HandlerFunction<ServerResponse> riding = ridingThrough(Duration.ofMillis(100));
		allDown();
		fx.upstream.scriptAll(fail(Outcome.CONNECT_FAILURE));
		MockHttpServletResponse out = fx.send(riding, "GET", "/orders/1", null);
		assertThat(out.getStatus()).isEqualTo(503);
		// the wait is real time (ride-through waits on a condition, not on the fake clock): 100 ms and a little
		assertThat(out.getContentAsString()).containsPattern("waited 1\\d\\d ms for a replica to come back \\(ride-through\\)");
	}

	@Test
	void aPostThatMayHaveReachedAReplicaNeverWaits() throws Exception {
		HandlerFunction<ServerResponse> riding = ridingThrough(Duration.ofSeconds(5));
		fx.upstream.scriptAll(fail(Outcome.TIMEOUT));
		long before = System.nanoTime();
		MockHttpServletResponse out = fx.send(riding, "POST", "/orders", "one order");
		assertThat(out.getStatus()).isEqualTo(504);
		assertThat(out.getContentAsString()).doesNotContain("ride-through");
		assertThat(fx.upstream.sent).hasSize(1);
		assertThat(fx.meters.find("gateway.ride.through").counter()).as("no wait at all").isNull();
		assertThat(System.nanoTime() - before).as("not the 5 s wait").isLessThan(java.util.concurrent.TimeUnit.SECONDS.toNanos(4));
	}

	@Test
	void aPostWhoseConnectionsWereAllRefusedWaitsAndIsSentOnce() throws Exception {
		HandlerFunction<ServerResponse> riding = ridingThrough(Duration.ofSeconds(5));
		allDown();
		fx.upstream.scriptAll(fail(Outcome.CONNECT_FAILURE));
		java.util.concurrent.CompletableFuture<MockHttpServletResponse> out = java.util.concurrent.CompletableFuture
			.supplyAsync(() -> {
				try {
					return fx.send(riding, "POST", "/orders", "one order");
				}
				catch (Exception e) {
					throw new IllegalStateException(e);
				}
			});
		org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> !fx.upstream.sent.isEmpty());
		Thread.sleep(200);
		assertThat(out).isNotDone();
		fx.upstream.script(B, answer(201, "created"));
		fx.health(B).onHealthCheck(dev.resiliencegateway.health.HealthVerdict.UP, "HTTP 200");
		fx.health(B).onHealthCheck(dev.resiliencegateway.health.HealthVerdict.UP, "HTTP 200");
		assertThat(out.get(5, java.util.concurrent.TimeUnit.SECONDS).getStatus()).isEqualTo(201);
		assertThat(fx.upstream.sent.stream().filter(s -> s.body() != null).toList())
			.as("the body reached a replica once").singleElement()
			.satisfies(s -> assertThat(s.replica()).isEqualTo(B.id()));
	}

	static Replica replicaOf(Sent sent) {
		for (Replica r : new Replica[] { A, B, C }) {
			if (r.id().equals(sent.replica())) {
				return r;
			}
		}
		throw new AssertionError(sent);
	}

}
