package dev.resiliencegateway.health;

import static dev.resiliencegateway.health.ReplicaState.EJECTED;
import static dev.resiliencegateway.health.ReplicaState.HEALTHY;
import static dev.resiliencegateway.health.ReplicaState.RECOVERING;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

import dev.resiliencegateway.outcome.Outcome;

/**
 * Health flows one way: outcomes go to the pool, the replica's rules answer with an ejection
 * request, the pool decides and applies it, and events are published after the pool's lock is
 * released, through a sink that never throws into the request that caused them.
 */
class HealthFlowTest {

	@Test
	void eventsArePublishedAfterThePoolsLockIsReleased() {
		List<Boolean> underLock = new ArrayList<>();
		AtomicReference<PoolHealth> pool = new AtomicReference<>();
		PoolFixture f = new PoolFixture(4, HealthPolicy.DEFAULTS, e -> underLock.add(Thread.holdsLock(pool.get())));
		pool.set(f.pool);
		f.fail(f.replica(0), 5, Outcome.CONNECT_FAILURE);
		assertThat(f.replica(0).state()).isEqualTo(EJECTED);
		f.fail(f.replica(1), 5, Outcome.CONNECT_FAILURE);
		f.fail(f.replica(2), 5, Outcome.CONNECT_FAILURE); // held back by the max-ejection cap: WouldEject
		assertThat(f.events).hasSize(3);
		assertThat(underLock).containsExactly(false, false, false);
	}

	@Test
	void aListenerThatThrowsDoesNotReachTheRequest() {
		PoolFixture f = new PoolFixture(4, HealthPolicy.DEFAULTS, e -> {
			throw new IllegalStateException("a broken listener");
		});
		f.fail(f.replica(0), 5, Outcome.TIMEOUT); // would throw out of record() if the sink let it
		assertThat(f.replica(0).state()).isEqualTo(EJECTED);
		assertThat(f.events).hasSize(1);
		f.ticker.advance(Duration.ofSeconds(6));
		f.pool.tick();
		assertThat(f.replica(0).state()).isEqualTo(RECOVERING);
	}

	@Test
	void withSlowStartOffAnEjectedReplicaComesBackHealthy() {
		PoolFixture f = new PoolFixture(4, HealthPolicy.DEFAULTS.withSlowStart(Duration.ZERO));
		ReplicaHealth r = f.replica(0);
		f.fail(r, 5, Outcome.UPSTREAM_5XX);
		assertThat(r.state()).isEqualTo(EJECTED);
		f.ticker.advance(Duration.ofSeconds(6));
		f.pool.tick();
		assertThat(r.state()).as("readmitted straight to full weight").isEqualTo(HEALTHY);
		assertThat(f.transitions()).extracting(ReplicaEvent.Transition::to).containsExactly(EJECTED, HEALTHY);
	}

	@Test
	void aProbeThatSucceedsWithSlowStartOffReadmitsAtOnce() {
		PoolFixture f = new PoolFixture(4, HealthPolicy.DEFAULTS.withSlowStart(Duration.ZERO));
		ReplicaHealth r = f.replica(0);
		f.fail(r, 5, Outcome.UPSTREAM_5XX);
		f.ticker.advance(Duration.ofSeconds(1));
		assertThat(r.claimProbe(f.ticker.nanos())).isTrue();
		f.pool.record(r, Outcome.SUCCESS, 1_000_000, true);
		assertThat(r.state()).isEqualTo(HEALTHY);
	}

	@Test
	void operatorActionsThatChangeNothingAreQuietRefusals() {
		PoolFixture f = new PoolFixture(4, HealthPolicy.DEFAULTS);
		ReplicaHealth r = f.replica(0);
		assertThat(r.restore("op")).as("already in rotation").isFalse();
		assertThat(r.drain("op")).isTrue();
		assertThat(r.drain("op")).as("already drained").isFalse();
		assertThat(r.restore("op")).isTrue();
		assertThat(f.transitions()).extracting(ReplicaEvent.Transition::to).containsExactly(ReplicaState.DRAINED, RECOVERING);
	}

	@Test
	void aBreakerThatOpenedIsResetOnReadmissionSoItsOldRecordDoesNotEjectAgain() {
		PoolFixture f = new PoolFixture(4, HealthPolicy.DEFAULTS);
		ReplicaHealth r = f.replica(0);
		for (int i = 0; i < 10; i++) { // 50 % failures, never 5 in a row: the breaker's rate rule ejects
			f.fail(r, 1, Outcome.UPSTREAM_5XX);
			f.succeed(r, 1);
		}
		assertThat(r.state()).isEqualTo(EJECTED);
		assertThat(r.status().reason()).contains("failure rate");
		f.ticker.advance(Duration.ofSeconds(6));
		f.pool.tick();
		f.succeed(r, 1);
		assertThat(r.state()).isEqualTo(RECOVERING);
	}


	private static PoolFixture withSlowCallRule(int n) {
		return new PoolFixture(n, HealthPolicy.DEFAULTS, io.github.resilience4j.circuitbreaker.CircuitBreakerConfig.custom()
			.slidingWindowType(io.github.resilience4j.circuitbreaker.CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
			.slidingWindowSize(20)
			.minimumNumberOfCalls(10)
			.failureRateThreshold(50)
			.slowCallRateThreshold(80)
			.slowCallDurationThreshold(Duration.ofSeconds(1))
			.automaticTransitionFromOpenToHalfOpenEnabled(false)
			.build());
	}

	private static void answer(PoolFixture f, ReplicaHealth r, int times, Duration latency) {
		for (int i = 0; i < times; i++) {
			f.ticker.advance(Duration.ofMillis(10));
			f.pool.record(r, Outcome.SUCCESS, latency.toNanos(), false);
		}
	}

	@Test
	void slownessThePoolSharesIsOverloadAndEjectsNoReplica() {
		PoolFixture f = withSlowCallRule(3);
		for (int round = 0; round < 20; round++) {
			for (int i = 0; i < 3; i++) {
				answer(f, f.replica(i), 1, Duration.ofMillis(1500));
			}
		}
		assertThat(f.transitions()).as("no ejection while every replica is as slow").isEmpty();
		assertThat(f.events).filteredOn(ReplicaEvent.WouldEject.class::isInstance)
			.extracting(e -> ((ReplicaEvent.WouldEject) e).heldBy())
			.isNotEmpty()
			.allMatch(why -> why.contains("overloaded"));
	}

	@Test
	void aReplicaSlowerThanItsPeersIsStillEjected() {
		PoolFixture f = withSlowCallRule(3);
		for (int round = 0; round < 20; round++) {
			answer(f, f.replica(0), 1, Duration.ofMillis(1500));
			answer(f, f.replica(1), 1, Duration.ofMillis(20));
			answer(f, f.replica(2), 1, Duration.ofMillis(20));
		}
		assertThat(f.replica(0).state()).isEqualTo(EJECTED);
		assertThat(f.replica(1).state()).isEqualTo(HEALTHY);
	}

	@Test
	void failuresEjectEvenWhenThePoolIsSlow() {
		PoolFixture f = withSlowCallRule(3);
		for (int i = 0; i < 3; i++) {
			answer(f, f.replica(i), 9, Duration.ofMillis(1500)); // one call short of the breaker's minimum
		}
		f.fail(f.replica(0), 5, Outcome.RESET);
		assertThat(f.replica(0).state()).isEqualTo(EJECTED);
	}
}
