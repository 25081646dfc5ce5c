package dev.resiliencegateway.retry;

import java.time.Duration;
import java.util.Random;

import org.junit.jupiter.api.Test;

import dev.resiliencegateway.clock.FakeTicker;
import dev.resiliencegateway.outcome.Outcome;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RetryBudgetTest {

	private final FakeTicker ticker = new FakeTicker();

	@Test
	void allowsTwentyPercentOfRequestsPlusTheFloor() {
		RetryBudget budget = new RetryBudget(0.2, 1, ticker);
		for (int i = 0; i < 1000; i++) {
			budget.onRequest();
		}
		int allowed = 0;
		while (budget.tryRetry()) {
			allowed++;
		}
		// 10 s window: floor 1/s x 10 + 20 % of 1000
		assertThat(allowed).isEqualTo(210);
	}

	@Test
	void aQuietRouteCanStillRetryUpToTheFloor() {
		RetryBudget budget = new RetryBudget(0.2, 3, ticker);
		budget.onRequest();
		int allowed = 0;
		while (budget.tryRetry()) {
			allowed++;
		}
		assertThat(allowed).isEqualTo(30);
	}

	@Test
	void theWindowSlidesSoOldRetriesStopCounting() {
		RetryBudget budget = new RetryBudget(0.0, 1, ticker);
		while (budget.tryRetry()) {
			// spend it
		}
		assertThat(budget.tryRetry()).isFalse();
		ticker.advance(Duration.ofSeconds(11));
		assertThat(budget.tryRetry()).isTrue();
	}

	@Test
	void rejectsNonsense() {
		assertThatThrownBy(() -> new RetryBudget(1.5, 0, ticker)).hasMessage("ratio: 1.5 (expected: >= 0 and <= 1)");
	}

	@Test
	void fullJitterBackoffStaysUnderTheDoublingCeilingAndTheCap() {
		Backoff b = Backoff.DEFAULT;
		Random r = new Random(3);
		for (int i = 0; i < 1000; i++) {
			assertThat(b.delayNanos(1, r)).isBetween(0L, Duration.ofMillis(25).toNanos());
			assertThat(b.delayNanos(2, r)).isBetween(0L, Duration.ofMillis(50).toNanos());
			assertThat(b.delayNanos(10, r)).isBetween(0L, Duration.ofMillis(250).toNanos());
		}
	}

	@Test
	void onlyConnectFailuresOfUntouchedBodiesAreRetriedForPost() {
		assertThat(RetryPolicy.mayRetry(Outcome.CONNECT_FAILURE, false, false, false)).isTrue();
		assertThat(RetryPolicy.mayRetry(Outcome.CONNECT_FAILURE, false, false, true)).isFalse();
		assertThat(RetryPolicy.mayRetry(Outcome.UPSTREAM_5XX, false, true, true)).isFalse();
		assertThat(RetryPolicy.mayRetry(Outcome.TIMEOUT, false, true, true)).isFalse();
		assertThat(RetryPolicy.mayRetry(Outcome.RESET, true, true, true)).isTrue();
		assertThat(RetryPolicy.mayRetry(Outcome.RESET, true, false, true)).isFalse();
		assertThat(RetryPolicy.isIdempotent("POST", true)).isTrue();
		assertThat(RetryPolicy.isIdempotent("POST", false)).isFalse();
		assertThat(RetryPolicy.isIdempotent("PUT", false)).isTrue();
		assertThat(RetryPolicy.mayRetry(Outcome.CANCELLED, true, true, false)).isFalse();
	}

}
