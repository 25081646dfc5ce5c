package dev.resiliencegateway.retry;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.random.RandomGenerator;

import org.junit.jupiter.api.Test;

import dev.resiliencegateway.outcome.Outcome;
import dev.resiliencegateway.retry.RetryDecision.GiveUp;
import dev.resiliencegateway.retry.RetryDecision.Retry;
import dev.resiliencegateway.retry.RetryRule.Ended;

/** The retry rule as a table: how an attempt ended, what the request is, what the rule decides. */
class RetryRuleTest {

	private static final long MS = 1_000_000L;

	private static final long NOW = 1_000 * MS;

	/** 3 attempts, Retry-After honoured up to 1 s, backoff 25 ms doubling to 250 ms. */
	private final RetryRule rule = new RetryRule(3, 1_000 * MS, Backoff.DEFAULT);

	/** Half of the ceiling, every time: backoff before retry n is then ceiling(n) / 2. */
	private final RandomGenerator half = () -> Long.MIN_VALUE;

	private final AtomicInteger spent = new AtomicInteger();

	private final RetryRule.Budget plenty = () -> {
		spent.incrementAndGet();
		return true;
	};

	private static final RetryRule.Request GET = new RetryRule.Request(true, true, false, 1, NOW + 10_000 * MS);

	private static final RetryRule.Request POST = new RetryRule.Request(false, true, false, 1, NOW + 10_000 * MS);

	/** A POST whose streamed body has started to leave. */
	private static final RetryRule.Request POST_STREAMED = new RetryRule.Request(false, false, true, 1, NOW + 10_000 * MS);

	/** A PUT whose streamed body was never read: not replayable, nothing sent yet. */
	private static final RetryRule.Request PUT_STREAMED_UNSENT = new RetryRule.Request(true, false, false, 1, NOW + 10_000 * MS);

	private RetryDecision decide(Ended ended, RetryRule.Request request) {
		return rule.decide(ended, request, NOW, plenty, half);
	}

	private static Ended status(int status) {
		return Ended.answered(status, -1);
	}

	private static Ended failed(Outcome outcome) {
		return Ended.failed(outcome);
	}

	@Test
	void answersBelow500AreRelayedWithoutSpendingBudget() {
		for (int status : new int[] { 200, 204, 301, 400, 404, 409 }) {
			assertThat(decide(status(status), GET)).as("GET %s", status).isEqualTo(RetryDecision.RELAY);
			assertThat(decide(status(status), POST)).as("POST %s", status).isEqualTo(RetryDecision.RELAY);
		}
		assertThat(spent).hasValue(0);
	}

	@Test
	void fiveHundredsAreRetriedOnlyWhenIdempotentAndReplayable() {
		assertThat(decide(status(500), GET)).isEqualTo(new Retry(12_500_000));
		assertThat(decide(status(502), GET)).isEqualTo(new Retry(12_500_000));
		assertThat(decide(status(500), POST)).isEqualTo(RetryDecision.RELAY); // may have executed
		assertThat(decide(status(500), PUT_STREAMED_UNSENT)).isEqualTo(RetryDecision.RELAY); // body cannot be sent again
		assertThat(decide(status(503), new RetryRule.Request(true, true, false, 1, NOW + 10_000 * MS)))
			.as("POST with Idempotency-Key (idempotent)").isEqualTo(new Retry(12_500_000));
		assertThat(spent).hasValue(3);
	}

	@Test
	void tooManyRequestsIsRetriedLikeA503() {
		assertThat(decide(status(429), GET)).isEqualTo(new Retry(12_500_000));
		assertThat(decide(status(429), POST)).isEqualTo(RetryDecision.RELAY);
	}

	@Test
	void retryAfterIsWaitedOutUpToTheLimitElseRelayed() {
		assertThat(decide(Ended.answered(503, 1_000 * MS), GET)).isEqualTo(new Retry(1_000 * MS));
		assertThat(decide(Ended.answered(429, 0), GET)).isEqualTo(new Retry(0));
		assertThat(decide(Ended.answered(503, 1_001 * MS), GET)).as("longer than the gateway waits")
			.isEqualTo(RetryDecision.RELAY);
		assertThat(spent).as("no token spent on the relayed one").hasValue(2);
	}

	@Test
	void connectFailuresAreRetriedAtOnceForEveryMethodUnlessStreamedBodyLeft() {
		assertThat(decide(failed(Outcome.CONNECT_FAILURE), GET)).isEqualTo(new Retry(0));
		assertThat(decide(failed(Outcome.CONNECT_FAILURE), POST)).isEqualTo(new Retry(0));
		assertThat(decide(failed(Outcome.CONNECT_FAILURE), PUT_STREAMED_UNSENT)).isEqualTo(new Retry(0));
		assertThat(decide(failed(Outcome.CONNECT_FAILURE), POST_STREAMED))
			.isEqualTo(new GiveUp(Outcome.CONNECT_FAILURE, false));
	}

	@Test
	void timeoutsAndResetsAreRetriedOnlyWhenIdempotent() {
		for (Outcome o : new Outcome[] { Outcome.TIMEOUT, Outcome.RESET }) {
			assertThat(decide(failed(o), GET)).as("GET %s", o).isEqualTo(new Retry(12_500_000));
			assertThat(decide(failed(o), POST)).as("POST %s", o).isEqualTo(new GiveUp(o, false));
			assertThat(decide(failed(o), PUT_STREAMED_UNSENT)).as("streamed PUT %s", o).isEqualTo(new GiveUp(o, false));
		}
	}

	@Test
	void cancelledAndOutrunAttemptsAreNeverRetried() {
		assertThat(decide(failed(Outcome.CANCELLED), GET)).isEqualTo(new GiveUp(Outcome.CANCELLED, false));
		assertThat(decide(failed(Outcome.OUTRUN), GET)).isEqualTo(new GiveUp(Outcome.OUTRUN, false));
		assertThat(spent).hasValue(0);
	}

	@Test
	void backoffGrowsWithTheAttemptsUpToItsCap() {
		assertThat(decide(failed(Outcome.TIMEOUT), new RetryRule.Request(true, true, false, 2, NOW + 10_000 * MS)))
			.isEqualTo(new Retry(25 * MS));
		RetryRule many = new RetryRule(10, 0, Backoff.DEFAULT);
		assertThat(many.decide(failed(Outcome.TIMEOUT), new RetryRule.Request(true, true, false, 9, NOW + 10_000 * MS), NOW,
				plenty, half)).isEqualTo(new Retry(125 * MS));
	}

	@Test
	void noAttemptLeftOrNoBudgetEndsTheRequest() {
		RetryRule.Request last = new RetryRule.Request(true, true, false, 3, NOW + 10_000 * MS);
		assertThat(decide(status(500), last)).isEqualTo(RetryDecision.RELAY);
		assertThat(decide(failed(Outcome.TIMEOUT), last)).isEqualTo(new GiveUp(Outcome.TIMEOUT, false));
		assertThat(spent).as("the budget is not asked when no attempt is left").hasValue(0);
		RetryRule.Budget empty = () -> false;
		assertThat(rule.decide(status(500), GET, NOW, empty, half)).isEqualTo(RetryDecision.RELAY);
		assertThat(rule.decide(failed(Outcome.RESET), GET, NOW, empty, half)).isEqualTo(new GiveUp(Outcome.RESET, false));
	}

	@Test
	void aRetryTheDeadlineWouldNotAllowIsATimeout() {
		RetryRule.Request closeToDeadline = new RetryRule.Request(true, true, false, 1, NOW + 10 * MS);
		assertThat(decide(failed(Outcome.RESET), closeToDeadline)).isEqualTo(new GiveUp(Outcome.TIMEOUT, true));
		assertThat(decide(Ended.answered(503, 500 * MS), closeToDeadline)).isEqualTo(new GiveUp(Outcome.TIMEOUT, true));
		assertThat(decide(failed(Outcome.CONNECT_FAILURE), closeToDeadline)).as("no wait needed").isEqualTo(new Retry(0));
		assertThat(decide(failed(Outcome.CONNECT_FAILURE), new RetryRule.Request(true, true, false, 1, NOW)))
			.as("deadline now").isEqualTo(new GiveUp(Outcome.TIMEOUT, true));
	}

}
