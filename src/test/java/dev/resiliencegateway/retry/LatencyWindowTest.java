package dev.resiliencegateway.retry;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;

import org.junit.jupiter.api.Test;

import dev.resiliencegateway.clock.FakeTicker;

class LatencyWindowTest {

	private final FakeTicker ticker = new FakeTicker(); // a positive clock, as System.nanoTime() is on Linux

	@Test
	void noP95BeforeTwentySamples() {
		LatencyWindow w = new LatencyWindow(ticker);
		for (int i = 0; i < 19; i++) {
			w.record(1_000_000);
		}
		assertThat(w.p95()).isEqualTo(-1);
	}

	@Test
	void theFirstAskComputesTheP95() {
		LatencyWindow w = new LatencyWindow(ticker);
		for (int i = 1; i <= 100; i++) {
			w.record(i * 1_000_000L); // 1..100 ms
		}
		assertThat(w.p95()).isEqualTo(95_000_000L);
	}

	@Test
	void theP95IsRecomputedAtMostOnceASecond() {
		LatencyWindow w = new LatencyWindow(ticker);
		for (int i = 0; i < 100; i++) {
			w.record(2_000_000);
		}
		assertThat(w.p95()).isEqualTo(2_000_000);
		for (int i = 0; i < 1024; i++) {
			w.record(50_000_000);
		}
		assertThat(w.p95()).as("same second: the cached value").isEqualTo(2_000_000);
		ticker.advance(Duration.ofSeconds(1));
		assertThat(w.p95()).isEqualTo(50_000_000);
	}

}
