package dev.resiliencegateway.exchange;

import static dev.resiliencegateway.exchange.ExchangeFixture.A;
import static dev.resiliencegateway.exchange.ExchangeFixture.B;
import static dev.resiliencegateway.exchange.ExchangeFixture.C;
import static dev.resiliencegateway.exchange.FakeUpstream.after;
import static dev.resiliencegateway.exchange.FakeUpstream.answer;
import static dev.resiliencegateway.exchange.FakeUpstream.fail;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.mock.web.MockHttpServletResponse;
import org.springframework.web.servlet.function.HandlerFunction;
import org.springframework.web.servlet.function.ServerResponse;

import dev.resiliencegateway.config.GatewayConfig;
import dev.resiliencegateway.config.GatewayConfig.RoutePolicy;
import dev.resiliencegateway.idempotency.IdempotencyPolicy;
import dev.resiliencegateway.outcome.Outcome;

/**
 * Idempotency-Key on a route that keeps keys, against a scripted upstream: the first request
 * executes, its answer is kept and replayed, and nothing with one key ever reaches a replica twice.
 */
class KeptAnswersTest {

	private static final IdempotencyPolicy KEEPS = new IdempotencyPolicy(true, Duration.ofHours(24), false, 1024, false,
			null, true);

	private final ExchangeFixture fx = new ExchangeFixture(A, B, C);

	private final RoutePolicy policy = GatewayConfig.DEFAULT_ROUTE.withBackoff(Duration.ZERO, Duration.ZERO)
		.withIdempotency(KEEPS);

	private final HandlerFunction<ServerResponse> route = fx.route(policy);

	@AfterEach
	void close() {
		fx.close();
	}

	private MockHttpServletResponse post(String key, String body, String... headers) throws Exception {
		String[] all = new String[headers.length + 2];
		all[0] = "Idempotency-Key";
		all[1] = key;
		System.arraycopy(headers, 0, all, 2, headers.length);
		return fx.send(route, "POST", "/orders", body, all);
	}

	@Test
	void theFirstRequestExecutesAndARetryGetsItsAnswerWithoutReachingAReplica() throws Exception {
		fx.upstream.scriptAll(answer(201, "order 7", "Content-Type", "text/plain", "Location", "/orders/7"));
		MockHttpServletResponse first = post("\"k-1\"", "one order");
		assertThat(first.getStatus()).isEqualTo(201);
		assertThat(first.getHeader(KeptAnswers.REPLAYED)).isNull();
		MockHttpServletResponse retry = post("k-1", "one order"); // the same key, bare or quoted
		assertThat(retry.getStatus()).isEqualTo(201);
		assertThat(retry.getContentAsString()).isEqualTo("order 7");
		assertThat(retry.getHeader("Location")).isEqualTo("/orders/7");
		assertThat(retry.getHeader("Content-Type")).isEqualTo("text/plain");
		assertThat(retry.getHeader(KeptAnswers.REPLAYED)).isEqualTo("true");
		assertThat(fx.upstream.sent).hasSize(1);
	}

	@Test
	void aTimeoutIsNotRetriedAndIsKeptAsAnUnknownOutcome() throws Exception {
		fx.upstream.scriptAll(fail(Outcome.TIMEOUT), answer(201, "order 8"));
		MockHttpServletResponse first = post("k-2", "one order");
		assertThat(first.getStatus()).isEqualTo(504);
		assertThat(fx.upstream.sent).as("the replica may have executed it: not sent again").hasSize(1);
		MockHttpServletResponse retry = post("k-2", "one order");
		assertThat(retry.getStatus()).isEqualTo(504);
		assertThat(retry.getContentType()).isEqualTo("application/problem+json");
		assertThat(retry.getContentAsString()).contains("may have executed");
		assertThat(retry.getHeader(KeptAnswers.REPLAYED)).isEqualTo("true");
		assertThat(fx.upstream.sent).hasSize(1);
	}

	@Test
	void onARouteThatDoesNotKeepKeysAKeyedPostIsStillRetriedAfterATimeout() throws Exception {
		HandlerFunction<ServerResponse> passThrough = fx.route(policy.withIdempotency(IdempotencyPolicy.OFF));
		fx.upstream.scriptAll(fail(Outcome.TIMEOUT), answer(201, "order 9"));
		MockHttpServletResponse out = fx.send(passThrough, "POST", "/orders", "one order", "Idempotency-Key", "k-3");
		assertThat(out.getStatus()).as("the key says the replica deduplicates").isEqualTo(201);
		assertThat(fx.upstream.sent).hasSize(2);
	}

	@Test
	void whenNoReplicaWasReachedTheKeyIsFreedAndARetryExecutes() throws Exception {
		fx.upstream.scriptAll(fail(Outcome.CONNECT_FAILURE), fail(Outcome.CONNECT_FAILURE), fail(Outcome.CONNECT_FAILURE),
				answer(201, "order 10"));
		assertThat(post("k-4", "one order").getStatus()).isEqualTo(503);
		int refused = fx.upstream.sent.size();
		MockHttpServletResponse retry = post("k-4", "one order");
		assertThat(retry.getStatus()).isEqualTo(201);
		assertThat(retry.getHeader(KeptAnswers.REPLAYED)).isNull();
		assertThat(fx.upstream.sent).hasSize(refused + 1);
	}

	@Test
	void aReplicas5xxFreesTheKeyByDefault() throws Exception {
		fx.upstream.scriptAll(answer(500, "boom"), answer(201, "order 11"));
		assertThat(post("k-5", "one order").getStatus()).isEqualTo(500);
		assertThat(fx.upstream.sent).as("a POST's 5xx is not retried").hasSize(1);
		assertThat(post("k-5", "one order").getStatus()).isEqualTo(201);
		assertThat(fx.upstream.sent).hasSize(2);
	}

	@Test
	void theSameKeyWithAnotherBodyIs422() throws Exception {
		fx.upstream.scriptAll(answer(201, "order 12"));
		post("k-6", "one order");
		MockHttpServletResponse other = post("k-6", "two orders");
		assertThat(other.getStatus()).isEqualTo(422);
		assertThat(other.getContentType()).isEqualTo("application/problem+json");
		assertThat(fx.upstream.sent).hasSize(1);
	}

	@Test
	void aDuplicateWhileTheFirstIsInFlightGets409() throws Exception {
		CountDownLatch release = new CountDownLatch(1);
		fx.upstream.scriptAll(after(release, answer(201, "order 13")));
		CompletableFuture<MockHttpServletResponse> first = CompletableFuture.supplyAsync(() -> {
			try {
				return post("k-7", "one order");
			}
			catch (Exception e) {
				throw new IllegalStateException(e);
			}
		});
		for (int i = 0; i < 5_000 && fx.upstream.sent.isEmpty(); i++) {
			Thread.sleep(1);
		}
		MockHttpServletResponse duplicate = post("k-7", "one order");
		assertThat(duplicate.getStatus()).isEqualTo(409);
		assertThat(duplicate.getHeader("Retry-After")).isEqualTo("1");
		fx.upstream.release(release);
		assertThat(first.get(5, TimeUnit.SECONDS).getStatus()).isEqualTo(201);
		assertThat(fx.upstream.sent).hasSize(1);
		assertThat(post("k-7", "one order").getHeader(KeptAnswers.REPLAYED)).isEqualTo("true");
	}

	@Test
	void withInFlightWaitADuplicateWaitsForTheFirstAnswer() throws Exception {
		HandlerFunction<ServerResponse> waits = fx.route(policy.withIdempotency(
				new IdempotencyPolicy(true, Duration.ofHours(24), true, 1024, false, null, true)));
		CountDownLatch release = new CountDownLatch(1);
		fx.upstream.scriptAll(after(release, answer(201, "order 14")));
		CompletableFuture<MockHttpServletResponse> first = CompletableFuture
			.supplyAsync(() -> send(waits, "k-8"));
		for (int i = 0; i < 5_000 && fx.upstream.sent.isEmpty(); i++) {
			Thread.sleep(1);
		}
		CompletableFuture<MockHttpServletResponse> duplicate = CompletableFuture.supplyAsync(() -> send(waits, "k-8"));
		Thread.sleep(100);
		assertThat(duplicate).as("waiting for the first").isNotDone();
		fx.upstream.release(release);
		assertThat(first.get(5, TimeUnit.SECONDS).getStatus()).isEqualTo(201);
		MockHttpServletResponse replayed = duplicate.get(5, TimeUnit.SECONDS);
		assertThat(replayed.getStatus()).isEqualTo(201);
		assertThat(replayed.getContentAsString()).isEqualTo("order 14");
		assertThat(replayed.getHeader(KeptAnswers.REPLAYED)).isEqualTo("true");
		assertThat(fx.upstream.sent).hasSize(1);
	}

	private MockHttpServletResponse send(HandlerFunction<ServerResponse> route, String key) {
		try {
			return fx.send(route, "POST", "/orders", "one order", "Idempotency-Key", key);
		}
		catch (Exception e) {
			throw new IllegalStateException(e);
		}
	}

	@Test
	void aClientHeaderScopesKeysToTheClient() throws Exception {
		HandlerFunction<ServerResponse> scoped = fx.route(policy.withIdempotency(
				new IdempotencyPolicy(true, Duration.ofHours(24), false, 1024, false, "X-Api-Key", true)));
		fx.upstream.scriptAll(answer(201, "order"));
		fx.send(scoped, "POST", "/orders", "one order", "Idempotency-Key", "k-9", "X-Api-Key", "alice");
		MockHttpServletResponse bob = fx.send(scoped, "POST", "/orders", "one order", "Idempotency-Key", "k-9",
				"X-Api-Key", "bob");
		assertThat(bob.getHeader(KeptAnswers.REPLAYED)).as("bob never gets alice's answer").isNull();
		MockHttpServletResponse alice = fx.send(scoped, "POST", "/orders", "one order", "Idempotency-Key", "k-9",
				"X-Api-Key", "alice");
		assertThat(alice.getHeader(KeptAnswers.REPLAYED)).isEqualTo("true");
		assertThat(fx.upstream.sent).hasSize(2);
	}

	@Test
	void anAnswerLargerThanTheLimitIsRelayedAndARetryLearnsItWasNotKept() throws Exception {
		String big = "x".repeat(2000); // the policy keeps 1024 bytes
		fx.upstream.scriptAll(answer(201, big));
		assertThat(post("k-10", "one order").getContentAsString()).isEqualTo(big);
		MockHttpServletResponse retry = post("k-10", "one order");
		assertThat(retry.getStatus()).isEqualTo(409);
		assertThat(retry.getContentAsString()).contains("201").contains("not kept");
		assertThat(fx.upstream.sent).hasSize(1);
	}

	@ParameterizedTest
	@ValueSource(strings = { "", "\"\"", "a b", "\"unterminated", "k\u00e9y", "\"a\\nb\"", "a,b" })
	void aMalformedKeyGets400AndReachesNoReplica(String key) throws Exception {
		fx.upstream.scriptAll(answer(201, "order"));
		MockHttpServletResponse out = post(key, "one order");
		assertThat(out.getStatus()).isEqualTo(400);
		assertThat(out.getContentType()).isEqualTo("application/problem+json");
		assertThat(fx.upstream.sent).isEmpty();
	}

	@Test
	void aKeyTooLongOrSentTwiceGets400() throws Exception {
		fx.upstream.scriptAll(answer(201, "order"));
		assertThat(post("k".repeat(256), "one order").getStatus()).isEqualTo(400);
		assertThat(post("k".repeat(255), "one order").getStatus()).isEqualTo(201);
		assertThat(fx.send(route, "POST", "/orders", "x", "Idempotency-Key", "a", "Idempotency-Key", "b").getStatus())
			.isEqualTo(400);
		assertThat(fx.upstream.sent).hasSize(1);
	}

	@Test
	void aKeyedPostIsNeverHedged() throws Exception {
		HandlerFunction<ServerResponse> hedged = fx.route(policy.withIdempotency(IdempotencyPolicy.OFF)
			.withHedging(true, Duration.ofMillis(10), Duration.ofMillis(10), 100));
		fx.upstream.scriptAll(answer(201, "order"));
		fx.send(hedged, "POST", "/orders", "one order", "Idempotency-Key", "k-11");
		assertThat(fx.upstream.lastHedgeWait).as("no hedge was even considered").isEqualTo(-1);
		fx.send(hedged, "GET", "/orders/1", null);
		assertThat(fx.upstream.lastHedgeWait).as("a GET on the same route is hedged").isPositive();
	}

	@Test
	void aKeyedPostIsNeverTheProbeOfAnEjectedReplica() throws Exception {
		HandlerFunction<ServerResponse> passThrough = fx.route(policy.withIdempotency(IdempotencyPolicy.OFF));
		for (int i = 0; i < 5; i++) {
			fx.pool.record(fx.health(A), Outcome.CONNECT_FAILURE, 1_000_000, false);
		}
		assertThat(fx.health(A).state().takesTraffic()).isFalse();
		fx.ticker.advance(Duration.ofSeconds(2)); // its probe is due
		fx.upstream.scriptAll(answer(201, "order"));
		for (int i = 0; i < 10; i++) {
			fx.send(passThrough, "POST", "/orders", "one order", "Idempotency-Key", "k-p" + i);
		}
		assertThat(fx.upstream.sent).noneMatch(s -> s.replica().equals(A.id()));
	}

}
