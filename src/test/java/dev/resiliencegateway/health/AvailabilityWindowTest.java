package dev.resiliencegateway.health;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.Duration;

import org.junit.jupiter.api.Test;

import dev.resiliencegateway.clock.FakeTicker;

class AvailabilityWindowTest {

	@Test
	void theShareOfSuccessesOverTheLastTenSeconds() {
		FakeTicker t = new FakeTicker();
		AvailabilityWindow w = new AvailabilityWindow();
		assertThat(w.availability(t.nanos())).isNaN();
		for (int i = 0; i < 10; i++) {
			w.record(i % 4 != 0, t.nanos()); // 3 of 4 succeed
		}
		assertThat(w.availability(t.nanos())).isCloseTo(0.7, within(1e-9)); // 0, 4, 8 failed
		t.advance(Duration.ofSeconds(5));
		w.record(false, t.nanos());
		assertThat(w.total(t.nanos())).isEqualTo(11);
		t.advance(Duration.ofMillis(5_500)); // the first ten left the window
		assertThat(w.total(t.nanos())).isEqualTo(1);
		assertThat(w.availability(t.nanos())).isZero();
		t.advance(Duration.ofSeconds(11));
		assertThat(w.availability(t.nanos())).isNaN();
	}

	@Test
	void redundancyPredictsOneMinusTheProductOfFailures() {
		// by hand: 1 - (1 - 0.9)(1 - 0.8)(1 - 0.5) = 1 - 0.1 * 0.2 * 0.5 = 0.99
		assertThat(AvailabilityWindow.predicted(0.9, 0.8, 0.5)).isCloseTo(0.99, within(1e-12));
		assertThat(AvailabilityWindow.predicted(0.99, 0.99, 0.99)).isCloseTo(0.999999, within(1e-12));
		assertThat(AvailabilityWindow.predicted(0.9, Double.NaN)).as("no data: left out").isCloseTo(0.9, within(1e-12));
		assertThat(AvailabilityWindow.predicted()).isNaN();
		assertThat(AvailabilityWindow.predicted(0, 0)).isZero();
	}

}
