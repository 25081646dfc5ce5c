package dev.resiliencegateway.health;

import java.time.Duration;

import org.junit.jupiter.api.Test;

import dev.resiliencegateway.checks.CheckRounds;
import dev.resiliencegateway.outcome.Outcome;

import static org.assertj.core.api.Assertions.assertThat;

/** A pool's rounds of active checks slow down while it is quiet and whole, on a fake clock. */
class QuietPoolChecksTest {

	private final PoolFixture f = new PoolFixture(3, HealthPolicy.DEFAULTS);

	private final CheckRounds rounds = new CheckRounds(Duration.ofSeconds(1), Duration.ofSeconds(10));

	/** Offers a round every second for {@code seconds} seconds; how many ran. */
	private int offer(int seconds, Runnable eachSecond) {
		int ran = 0;
		for (int i = 0; i < seconds; i++) {
			f.ticker.advance(Duration.ofSeconds(1));
			eachSecond.run();
			if (rounds.due(f.pool.now(), f.pool::quietSince)) {
				ran++;
			}
		}
		return ran;
	}

	@Test
	void aQuietWholePoolIsCheckedOnceEveryNoTrafficInterval() {
		assertThat(rounds.due(f.pool.now(), f.pool::quietSince)).as("the first round, at start").isTrue();
		assertThat(offer(30, () -> { })).isEqualTo(3);
	}

	@Test
	void aPoolWithTrafficIsCheckedEveryInterval() {
		rounds.due(f.pool.now(), f.pool::quietSince);
		assertThat(offer(30, () -> f.succeed(f.replica(1), 1))).isEqualTo(30);
	}

	@Test
	void aRequestStillInFlightIsTraffic() {
		rounds.due(f.pool.now(), f.pool::quietSince);
		f.replica(2).load().begin(f.pool.now()); // a request that hangs: nothing is observed, it is in flight
		assertThat(offer(5, () -> { })).isEqualTo(5);
	}

	@Test
	void theFirstRequestAfterAQuietSpellBringsTheNextRoundBack() {
		rounds.due(f.pool.now(), f.pool::quietSince);
		assertThat(offer(4, () -> { })).isZero();
		f.succeed(f.replica(0), 1);
		assertThat(offer(1, () -> { })).as("the round after the request").isEqualTo(1);
		assertThat(offer(4, () -> { })).as("quiet again").isZero();
	}

	@Test
	void aPoolWithAReplicaOutOfRotationIsCheckedEveryInterval() {
		rounds.due(f.pool.now(), f.pool::quietSince);
		f.fail(f.replica(0), 5, Outcome.CONNECT_FAILURE);
		assertThat(f.replica(0).state()).isEqualTo(ReplicaState.EJECTED);
		// the failures were traffic; after them nothing comes, but the pool is not whole
		assertThat(offer(3, () -> { })).isEqualTo(3);
		f.replica(1).drain("ops");
		assertThat(offer(3, () -> { })).isEqualTo(3);
	}

	@Test
	void aFailedCheckIsConfirmedAtTheNextInterval() {
		rounds.due(f.pool.now(), f.pool::quietSince);
		f.replica(1).onHealthCheck(HealthVerdict.DOWN, "connection refused");
		assertThat(f.replica(1).state()).as("one failed check is not enough").isEqualTo(ReplicaState.HEALTHY);
		assertThat(offer(1, () -> { })).isEqualTo(1);
		f.replica(1).onHealthCheck(HealthVerdict.UP, "HTTP 200");
		assertThat(offer(4, () -> { })).as("cleared: quiet again").isZero();
	}

	@Test
	void withoutANoTrafficIntervalEveryRoundRuns() {
		CheckRounds every = new CheckRounds(Duration.ofSeconds(1), Duration.ofSeconds(1));
		int ran = 0;
		for (int i = 0; i < 10; i++) {
			f.ticker.advance(Duration.ofMillis(990 + i % 3 * 10)); // the schedule's own jitter
			ran += every.due(f.pool.now(), f.pool::quietSince) ? 1 : 0;
		}
		assertThat(ran).isEqualTo(10);
	}

}
