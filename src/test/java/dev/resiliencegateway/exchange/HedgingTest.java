package dev.resiliencegateway.exchange;

import static dev.resiliencegateway.exchange.ExchangeFixture.A;
import static dev.resiliencegateway.exchange.ExchangeFixture.B;
import static dev.resiliencegateway.exchange.FakeUpstream.after;
import static dev.resiliencegateway.exchange.FakeUpstream.answer;
import static dev.resiliencegateway.exchange.FakeUpstream.answerEvenIfCancelled;
import static dev.resiliencegateway.exchange.FakeUpstream.hang;
import static dev.resiliencegateway.exchange.ResilientExchangeTest.replicaOf;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.mock.web.MockHttpServletResponse;
import org.springframework.web.servlet.function.HandlerFunction;
import org.springframework.web.servlet.function.ServerResponse;

import dev.resiliencegateway.config.GatewayConfig;
import dev.resiliencegateway.outcome.Outcome;
import dev.resiliencegateway.pool.Replica;

/**
 * The hedge race on a fake clock: the hedge delay passes when the test's attempts have settled, and
 * each attempt is scripted to answer, hang, or break. Three of these were bugs once (see each test).
 */
class HedgingTest {

	private final ExchangeFixture fx = new ExchangeFixture(A, B);

	/** Hedging with a fixed 50 ms delay, a budget that always has room. */
	private final HandlerFunction<ServerResponse> route = fx.route(GatewayConfig.DEFAULT_ROUTE
		.withHedging(true, Duration.ofMillis(50), Duration.ofMillis(10), 100));

	@AfterEach
	void close() {
		fx.close();
	}

	private Replica first() {
		return replicaOf(fx.upstream.sent.get(0));
	}

	private Replica second() {
		return replicaOf(fx.upstream.sent.get(1));
	}

	@Test
	void aFastAnswerIsNotHedged() throws Exception {
		fx.upstream.scriptAll(answer(200, "fast"));
		MockHttpServletResponse out = fx.send(route, "GET", "/orders/1", null);
		assertThat(out.getContentAsString()).isEqualTo("fast");
		assertThat(fx.upstream.sent).hasSize(1);
		assertThat(fx.meters.find("gateway.hedges").counter()).isNull();
	}

	/** Regression (32f2922): a first attempt outrun by its hedge counts against its replica. */
	@Test
	void aHangingFirstAttemptIsOutrunAndCountsAgainstItsReplica() throws Exception {
		fx.upstream.scriptAll(hang(), answer(200, "hedge"));
		MockHttpServletResponse out = fx.send(route, "GET", "/orders/1", null);
		assertThat(out.getStatus()).isEqualTo(200);
		assertThat(out.getContentAsString()).isEqualTo("hedge");
		assertThat(out.getHeader("X-Gateway-Attempts")).isEqualTo("2");
		assertThat(fx.attempts(first(), Outcome.OUTRUN)).isEqualTo(1);
		assertThat(fx.attempts(second(), Outcome.SUCCESS)).isEqualTo(1);
		assertThat(fx.health(first()).load().inFlight()).isZero();
		assertThat(fx.meters.find("gateway.hedges").counter().count()).isEqualTo(1);
	}

	/** Regression (eedb36b): a first attempt whose answer came just after its hedge won is judged by that answer. */
	@Test
	void aFirstAttemptAnsweringJustAfterItsHedgeIsJudgedByItsAnswer() throws Exception {
		fx.upstream.scriptAll(answerEvenIfCancelled(200, "late"), answer(200, "hedge"));
		MockHttpServletResponse out = fx.send(route, "GET", "/orders/1", null);
		assertThat(out.getContentAsString()).isEqualTo("hedge");
		assertThat(fx.attempts(first(), Outcome.SUCCESS)).isEqualTo(1);
		assertThat(fx.attempts(first(), Outcome.OUTRUN)).isZero();
		assertThat(fx.upstream.aborted).as("the late answer is dropped, its connection closed").hasSize(1);
	}

	/** Regression (c784bbf): an attempt that throws still ends the race, which then waits for the other. */
	@Test
	void anAttemptThatThrowsStillEndsTheRace() throws Exception {
		CountDownLatch release = new CountDownLatch(1);
		fx.upstream.scriptAll(after(release, answer(200, "first")), call -> {
			fx.upstream.release(release);
			throw new IllegalStateException("a bug in the upstream client");
		});
		MockHttpServletResponse out = fx.send(route, "GET", "/orders/1", null);
		assertThat(out.getStatus()).isEqualTo(200);
		assertThat(out.getContentAsString()).isEqualTo("first");
		// the hedge broke (RESET), or was cut off as the loser first (CANCELLED): either way it ended once
		assertThat(fx.attempts(second(), Outcome.RESET) + fx.attempts(second(), Outcome.CANCELLED)).isEqualTo(1);
		assertThat(fx.health(second()).load().inFlight()).isZero();
		assertThat(fx.attempts(first(), Outcome.SUCCESS)).isEqualTo(1);
	}

	@Test
	void aLosingHedgeIsNeutral() throws Exception {
		CountDownLatch release = new CountDownLatch(1);
		fx.upstream.scriptAll(after(release, answer(200, "first")), call -> {
			fx.upstream.release(release);
			return hang().run(call);
		});
		MockHttpServletResponse out = fx.send(route, "GET", "/orders/1", null);
		assertThat(out.getContentAsString()).isEqualTo("first");
		assertThat(fx.attempts(second(), Outcome.CANCELLED)).isEqualTo(1);
		assertThat(fx.health(second()).load().inFlight()).isZero();
	}

	@Test
	void whenNeitherAnswersWellBothCountAndTheRequestIsRetried() throws Exception {
		CountDownLatch release = new CountDownLatch(1);
		fx.upstream.scriptAll(after(release, answer(502, "first")), call -> {
			fx.upstream.release(release);
			return answer(500, "hedge").run(call);
		}, answer(200, "third"));
		MockHttpServletResponse out = fx.send(route, "GET", "/orders/1", null);
		assertThat(out.getStatus()).isEqualTo(200);
		assertThat(out.getContentAsString()).isEqualTo("third");
		assertThat(out.getHeader("X-Gateway-Attempts")).isEqualTo("3");
		assertThat(fx.attempts(A, Outcome.UPSTREAM_5XX) + fx.attempts(B, Outcome.UPSTREAM_5XX)).isEqualTo(2);
		assertThat(fx.upstream.aborted).as("neither 5xx was read or its connection reused").hasSize(2);
	}

	@Test
	void aPostIsNeverHedged() throws Exception {
		fx.upstream.scriptAll(call -> {
			fx.ticker.advance(Duration.ofSeconds(1));
			return answer(201, "created").run(call);
		});
		MockHttpServletResponse out = fx.send(route, "POST", "/orders", "one order");
		assertThat(out.getStatus()).isEqualTo(201);
		assertThat(fx.upstream.sent).hasSize(1);
	}


	@Test
	void withoutAFixedDelayTheHedgeWaitsTheRoutesP95() throws Exception {
		HandlerFunction<ServerResponse> p95Route = fx.route(GatewayConfig.DEFAULT_ROUTE
			.withHedging(true, null, Duration.ofMillis(10), 100));
		fx.upstream.scriptAll(call -> {
			fx.ticker.advance(Duration.ofMillis(30)); // every answer takes 30 ms on the fake clock
			return answer(200, "ok").run(call);
		});
		fx.send(p95Route, "GET", "/orders/0", null);
		assertThat(fx.upstream.lastHedgeWait).as("before 20 answers: the fixed first delay")
			.isEqualTo(Hedging.DELAY_WITHOUT_P95);
		for (int i = 1; i < 20; i++) {
			fx.send(p95Route, "GET", "/orders/" + i, null);
		}
		fx.ticker.advance(Duration.ofSeconds(1)); // the p95 is recomputed at most once a second
		fx.send(p95Route, "GET", "/orders/20", null);
		assertThat(fx.upstream.lastHedgeWait).isEqualTo(Duration.ofMillis(30).toNanos());
	}

	@Test
	void hedgesStopWhenTheirBudgetIsSpent() throws Exception {
		// every attempt answers after 30 ms of real time, so every request is slow enough to hedge
		fx.upstream.scriptAll(FakeUpstream.slow(30, 200, "slow"));
		HandlerFunction<ServerResponse> half = fx.route(GatewayConfig.DEFAULT_ROUTE
			.withHedging(true, Duration.ofMillis(5), Duration.ofMillis(1), 50));
		for (int i = 0; i < 4; i++) {
			assertThat(fx.send(half, "GET", "/orders/" + i, null).getStatus()).isEqualTo(200);
		}
		// a 50 % budget: no hedge for the 1st request (0.5 of a token), one for the 2nd, none for the 3rd, one for the 4th
		assertThat(fx.meters.find("gateway.hedges").counter().count()).isEqualTo(2);
	}

	@Test
	void aDefaultFivePercentBudgetDoesNotHedgeAQuietRoute() throws Exception {
		fx.upstream.scriptAll(FakeUpstream.slow(30, 200, "slow"));
		HandlerFunction<ServerResponse> fivePercent = fx.route(GatewayConfig.DEFAULT_ROUTE
			.withHedging(true, Duration.ofMillis(5), Duration.ofMillis(1), 5));
		for (int i = 0; i < 4; i++) {
			fx.send(fivePercent, "GET", "/orders/" + i, null);
		}
		assertThat(fx.meters.find("gateway.hedges").counter()).isNull();
		assertThat(fx.upstream.sent).hasSize(4);
	}

	/** A span per attempt, named for why it was sent: what a trace shows of a hedged and a retried request. */
	@Test
	void eachAttemptsSpanSaysWhetherItWasTheFirstAHedgeOrARetry() throws Exception {
		List<String> spans = new java.util.concurrent.CopyOnWriteArrayList<>();
		fx.tracing(new AttemptTracing() {
			@Override
			public Object requestContext() {
				return "request";
			}

			@Override
			public AttemptSpan start(Object parent, String route, String pool, String replica, int number, String kind) {
				return new AttemptSpan() {
					@Override
					public List<String> headers(List<String> base) {
						List<String> out = new java.util.ArrayList<>(base);
						out.add("traceparent");
						out.add(kind);
						return out;
					}

					@Override
					public void end(Outcome outcome, int status) {
						spans.add(parent + " " + number + " " + kind + " " + outcome + " " + status);
					}
				};
			}
		});
		HandlerFunction<ServerResponse> traced = fx.route(GatewayConfig.DEFAULT_ROUTE
			.withHedging(true, Duration.ofMillis(50), Duration.ofMillis(10), 100));

		fx.upstream.scriptAll(hang(), answer(200, "hedge"));
		assertThat(fx.send(traced, "GET", "/orders/1", null).getStatus()).isEqualTo(200);
		assertThat(spans).containsExactlyInAnyOrder("request 1 first OUTRUN 0", "request 2 hedge SUCCESS 200");

		spans.clear();
		fx.upstream.scriptAll(answer(503, "busy"), answer(200, "ok"));
		assertThat(fx.send(traced, "GET", "/orders/2", null).getStatus()).isEqualTo(200);
		assertThat(spans).containsExactly("request 1 first UPSTREAM_5XX 503", "request 2 retry SUCCESS 200");
	}

}
