package dev.resiliencegateway.health;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import dev.resiliencegateway.outcome.Outcome;

import static dev.resiliencegateway.health.ReplicaState.*;
import static org.assertj.core.api.Assertions.assertThat;

class ReplicaHealthTest {

	private final PoolFixture f = new PoolFixture(4, HealthPolicy.DEFAULTS);

	@Test
	void ejectsReplicaAfterFiveConsecutiveConnectFailures() {
		ReplicaHealth r = f.replica(0);
		f.fail(r, 4, Outcome.CONNECT_FAILURE);
		assertThat(r.state()).isEqualTo(HEALTHY);
		f.fail(r, 1, Outcome.CONNECT_FAILURE);
		assertThat(r.state()).isEqualTo(EJECTED);
		assertThat(r.status().reason()).contains("5 consecutive failures (last: CONNECT_FAILURE)");
		assertThat(f.pool.snapshot().routable()).doesNotContain(r);
	}

	@Test
	void aSuccessResetsTheConsecutiveFailureCount() {
		ReplicaHealth r = f.replica(0);
		f.fail(r, 4, Outcome.UPSTREAM_5XX);
		f.succeed(r, 1);
		f.fail(r, 4, Outcome.UPSTREAM_5XX);
		assertThat(r.state()).isEqualTo(HEALTHY);
	}

	@Test
	void cancelledAttemptsSayNothingAboutTheReplica() {
		ReplicaHealth r = f.replica(0);
		f.fail(r, 20, Outcome.CANCELLED);
		assertThat(r.state()).isEqualTo(HEALTHY);
	}

	@Test
	void aReplicaOutrunByHedgesAgainAndAgainIsEjected() {
		ReplicaHealth r = f.replica(0);
		f.fail(r, 5, Outcome.OUTRUN);
		assertThat(r.state()).isEqualTo(EJECTED);
		assertThat(r.status().reason()).contains("(last: OUTRUN)");
	}

	@Test
	void ejectsOnFailureRateFromTheReplicasCircuitBreaker() {
		ReplicaHealth r = f.replica(0);
		// alternate: never 5 in a row, but 50 % over the breaker's window of 20 (minimum 10 calls)
		for (int i = 0; i < 10; i++) {
			f.fail(r, 1, Outcome.UPSTREAM_5XX);
			f.succeed(r, 1);
		}
		assertThat(r.state()).isEqualTo(EJECTED);
		assertThat(r.status().reason()).contains("failure rate 50%");
	}

	@Test
	void ejectionTimeDoublesOnRepeatedEjectionAndIsCapped() {
		HealthPolicy p = HealthPolicy.DEFAULTS;
		assertThat(p.ejectionNanos(0, 0)).isEqualTo(Duration.ofSeconds(5).toNanos());
		assertThat(p.ejectionNanos(1, 0)).isEqualTo(Duration.ofSeconds(10).toNanos());
		assertThat(p.ejectionNanos(2, 0)).isEqualTo(Duration.ofSeconds(20).toNanos());
		assertThat(p.ejectionNanos(5, 0)).isEqualTo(Duration.ofMinutes(2).toNanos());
		assertThat(p.ejectionNanos(40, 0.99)).isEqualTo(Duration.ofMinutes(2).toNanos());
		// jitter adds at most 10 %
		assertThat(p.ejectionNanos(0, 0.5)).isEqualTo(Duration.ofMillis(5250).toNanos());
	}

	@Test
	void secondEjectionRightAfterReadmissionLastsTwiceAsLong() {
		ReplicaHealth r = f.replica(0);
		f.fail(r, 5, Outcome.CONNECT_FAILURE);
		long first = r.status().untilNanos() - r.status().sinceNanos();
		// t = ejection over: readmitted with slow start
		f.ticker.advance(Duration.ofNanos(first));
		f.pool.tick();
		assertThat(r.state()).isEqualTo(RECOVERING);
		f.fail(r, 5, Outcome.CONNECT_FAILURE);
		long second = r.status().untilNanos() - r.status().sinceNanos();
		assertThat(second).isGreaterThanOrEqualTo(2 * Duration.ofSeconds(5).toNanos());
		assertThat(first).isLessThan(second);
	}

	@Test
	void readmittedReplicaRampsFromTenPercentToFullWeightOverTheWindow() {
		ReplicaHealth r = f.replica(0);
		f.fail(r, 5, Outcome.CONNECT_FAILURE);
		f.ticker.advance(Duration.ofSeconds(6));
		f.pool.tick();
		assertThat(r.state()).isEqualTo(RECOVERING);
		long now = f.ticker.nanos();
		assertThat(r.effectiveWeight(now)).isCloseTo(0.1, org.assertj.core.data.Offset.offset(0.01));
		f.ticker.advance(Duration.ofSeconds(5));
		assertThat(r.effectiveWeight(f.ticker.nanos())).isCloseTo(0.55, org.assertj.core.data.Offset.offset(0.01));
		f.ticker.advance(Duration.ofSeconds(5));
		f.pool.tick();
		assertThat(r.state()).isEqualTo(HEALTHY);
		assertThat(r.effectiveWeight(f.ticker.nanos())).isEqualTo(1.0);
	}

	@Test
	void anEjectedReplicaIsProbedSoonThenOnABackoffAndReadmittedWhenTheProbeSucceeds() {
		ReplicaHealth r = f.replica(0);
		f.fail(r, 5, Outcome.UPSTREAM_5XX);
		f.ticker.advance(Duration.ofMillis(99));
		assertThat(r.claimProbe(f.ticker.nanos())).isFalse(); // not due yet
		f.ticker.advance(Duration.ofMillis(1));
		assertThat(r.claimProbe(f.ticker.nanos())).isTrue(); // 100 ms after the ejection
		assertThat(r.state()).isEqualTo(PROBING);
		assertThat(r.claimProbe(f.ticker.nanos())).isFalse(); // one probe at a time
		// each failed probe doubles the wait for the next, up to the probe interval (800 ms)
		for (long wait : new long[] { 200, 400, 800, 800, 800 }) {
			f.pool.record(r, Outcome.UPSTREAM_5XX, 1_000_000, true);
			assertThat(r.state()).isEqualTo(EJECTED);
			f.ticker.advance(Duration.ofMillis(wait - 1));
			assertThat(r.claimProbe(f.ticker.nanos())).as("%d ms after a failed probe", wait - 1).isFalse();
			f.ticker.advance(Duration.ofMillis(1));
			assertThat(r.claimProbe(f.ticker.nanos())).as("%d ms after a failed probe", wait).isTrue();
		}
		f.pool.record(r, Outcome.SUCCESS, 1_000_000, true);
		assertThat(r.state()).isEqualTo(RECOVERING);
		assertThat(r.status().reason()).isEqualTo("probe request succeeded");
		// readmitted with its failures forgotten: the balancer sees its usual 1 ms, not the failed
		// probes' penalty, so it gets its first request at once (slow start limits its share)
		assertThat(r.load().latencyNanos(f.ticker.nanos())).isLessThan(1.1e6);
	}

	@Test
	void aReplicaEjectedAgainSoonAfterNeedsMorePassingProbesInARow() {
		ReplicaHealth r = f.replica(0);
		f.fail(r, 5, Outcome.UPSTREAM_5XX);
		f.ticker.advance(Duration.ofMillis(100));
		assertThat(r.claimProbe(f.ticker.nanos())).isTrue();
		f.pool.record(r, Outcome.SUCCESS, 1_000_000, true);
		assertThat(r.state()).as("first ejection: one passing probe").isEqualTo(RECOVERING);
		f.fail(r, 5, Outcome.UPSTREAM_5XX); // ejected again at once: a gray replica that passed a probe
		f.ticker.advance(Duration.ofMillis(100));
		assertThat(r.claimProbe(f.ticker.nanos())).isTrue();
		f.pool.record(r, Outcome.SUCCESS, 1_000_000, true);
		assertThat(r.state()).isEqualTo(EJECTED);
		assertThat(r.status().reason()).isEqualTo("probe request succeeded (1 of 2 in a row)");
		f.ticker.advance(Duration.ofMillis(100)); // the next probe goes soon
		assertThat(r.claimProbe(f.ticker.nanos())).isTrue();
		f.pool.record(r, Outcome.UPSTREAM_5XX, 1_000_000, true); // a failure starts the count over
		f.ticker.advance(Duration.ofMillis(200));
		assertThat(r.claimProbe(f.ticker.nanos())).isTrue();
		f.pool.record(r, Outcome.SUCCESS, 1_000_000, true);
		assertThat(r.state()).isEqualTo(EJECTED);
		f.ticker.advance(Duration.ofMillis(100));
		assertThat(r.claimProbe(f.ticker.nanos())).isTrue();
		f.pool.record(r, Outcome.SUCCESS, 1_000_000, true);
		assertThat(r.state()).isEqualTo(RECOVERING);
		assertThat(r.status().reason()).isEqualTo("probe request succeeded (2 in a row)");
	}

	@Test
	void aQuietRoutesOverdueProbeIsClaimedForASyntheticProbe() {
		ReplicaHealth r = f.replica(0);
		f.fail(r, 5, Outcome.UPSTREAM_5XX);
		f.ticker.advance(Duration.ofMillis(150)); // due at 100 ms, overdue by 50 ms: a request may still come
		assertThat(f.pool.claimOverdueProbes(Duration.ofMillis(100).toNanos())).isEmpty();
		f.ticker.advance(Duration.ofMillis(50));
		assertThat(f.pool.claimOverdueProbes(Duration.ofMillis(100).toNanos())).containsExactly(r);
		assertThat(r.state()).isEqualTo(PROBING);
		assertThat(r.claimProbe(f.ticker.nanos())).isFalse(); // a request cannot probe it at the same time
		r.endSyntheticProbe(false, "GET /ping answered 500");
		assertThat(r.state()).isEqualTo(EJECTED);
		assertThat(r.status().reason()).isEqualTo("synthetic probe failed: GET /ping answered 500");
		f.ticker.advance(Duration.ofMillis(300)); // next due 200 ms after the failure; overdue by 100 ms
		assertThat(f.pool.claimOverdueProbes(Duration.ofMillis(100).toNanos())).containsExactly(r);
		r.endSyntheticProbe(true, "GET /ping answered 200");
		assertThat(r.state()).isEqualTo(RECOVERING);
	}

	@Test
	void aReplicaMarkedDownIsRecheckedSoonThenOnABackoffAndConfirmedAtOnce() {
		ReplicaHealth r = f.replica(1);
		r.onHealthCheck(HealthVerdict.DOWN, "ConnectException");
		r.onHealthCheck(HealthVerdict.DOWN, "ConnectException");
		assertThat(r.state()).isEqualTo(DOWN);
		assertThat(f.pool.awaitsTime()).isTrue(); // the registry's ticks run for the rechecks
		// rechecks 100, 200, 400, 800, 800 ms after each failed one
		for (long wait : new long[] { 100, 200, 400, 800, 800 }) {
			f.ticker.advance(Duration.ofMillis(wait - 1));
			assertThat(f.pool.rechecksDue()).as("%d ms", wait - 1).isEmpty();
			f.ticker.advance(Duration.ofMillis(1));
			assertThat(f.pool.rechecksDue()).as("%d ms", wait).containsExactly(r);
			r.onHealthCheck(HealthVerdict.DOWN, "ConnectException");
		}
		f.ticker.advance(Duration.ofMillis(800));
		r.onHealthCheck(HealthVerdict.UP, "HTTP 200"); // healed: the confirming check goes 100 ms later
		assertThat(r.state()).isEqualTo(DOWN);
		f.ticker.advance(Duration.ofMillis(100));
		assertThat(f.pool.rechecksDue()).containsExactly(r);
		r.onHealthCheck(HealthVerdict.UP, "HTTP 200");
		assertThat(r.state()).isEqualTo(RECOVERING);
		assertThat(f.pool.rechecksDue()).isEmpty();
	}

	@Test
	void aGrayReplicaFailingAThirdOfItsCallsIsEjectedWhenItsPeersDoNotFail() {
		ReplicaHealth gray = f.replica(0);
		f.succeed(f.replica(1), 50);
		f.succeed(f.replica(2), 50);
		// 3 failures in every 10 calls, never 5 in a row and below the breaker's 50 %
		for (int i = 0; i < 10 && gray.state() == HEALTHY; i++) {
			f.succeed(gray, 7);
			f.fail(gray, 3, Outcome.UPSTREAM_5XX);
		}
		assertThat(gray.state()).isEqualTo(EJECTED);
		assertThat(gray.status().reason()).startsWith("failure rate 30% over the last 10 calls");
	}

	@Test
	void oneTimeoutEjectsAReplicaSlowerThanItsPeersButNotWhenThePoolIsSlow() {
		long second = Duration.ofSeconds(1).toNanos();
		ReplicaHealth slow = f.replica(0);
		f.succeed(f.replica(1), 5);
		f.succeed(slow, 5);
		f.pool.record(slow, Outcome.TIMEOUT, second, false);
		assertThat(slow.state()).isEqualTo(EJECTED); // probed 100 ms on, not shunned for seconds unnoticed
		assertThat(slow.status().reason()).startsWith("no answer within the per-try timeout; ejected for");

		// the whole pool answers slowly and every replica times out: overload, nobody is ejected for it
		PoolFixture g = new PoolFixture(3, HealthPolicy.DEFAULTS);
		for (int i = 0; i < 3; i++) {
			g.pool.record(g.replica(i), Outcome.SUCCESS, second * 8 / 10, false);
		}
		for (int i = 0; i < 3; i++) {
			g.pool.record(g.replica(i), Outcome.TIMEOUT, second, false);
		}
		g.pool.record(g.replica(0), Outcome.TIMEOUT, second, false);
		for (int i = 0; i < 3; i++) {
			assertThat(g.replica(i).state()).isEqualTo(HEALTHY);
		}
	}

	@Test
	void anAttemptOutrunByItsHedgeIsSlowToTheBalancerButAFailureToHealth() {
		ReplicaHealth r = f.replica(0);
		f.succeed(r, 40);
		f.pool.record(r, Outcome.OUTRUN, Duration.ofMillis(12).toNanos(), false);
		assertThat(r.load().latencyNanos(f.ticker.nanos())).isEqualTo(12e6); // its latency, not 10x its usual
		assertThat(r.load().successRate()).isEqualTo(1.0);
		f.fail(r, 4, Outcome.OUTRUN);
		assertThat(r.state()).isEqualTo(EJECTED); // 5 in a row: a replica hanging behind hedges
	}

	@Test
	void aFailureRateThePoolSharesEjectsNobody() {
		// a shared dependency fails a third of every replica's calls: ejecting one would only load the rest
		for (int round = 0; round < 10; round++) {
			for (int i = 0; i < 4; i++) {
				f.succeed(f.replica(i), 7);
				f.fail(f.replica(i), 3, Outcome.UPSTREAM_5XX);
			}
		}
		for (int i = 0; i < 4; i++) {
			assertThat(f.replica(i).state()).isEqualTo(HEALTHY);
		}
		assertThat(f.events).isEmpty();
	}

	@Test
	void failingProbesKeepAReplicaEjectedPastItsEjectionTime() {
		ReplicaHealth r = f.replica(0);
		f.fail(r, 5, Outcome.TIMEOUT);
		for (int second = 0; second < 30; second++) { // far past the ejection time
			f.ticker.advance(Duration.ofSeconds(1));
			f.pool.tick();
			assertThat(r.state()).as("second %d", second).isEqualTo(EJECTED);
			assertThat(r.claimProbe(f.ticker.nanos())).isTrue();
			f.pool.record(r, Outcome.OUTRUN, 10_000_000, true);
		}
		// no more probe traffic: the ejection ends two probe intervals after the last failed probe
		f.ticker.advance(Duration.ofMillis(1500));
		f.pool.tick();
		assertThat(r.state()).isEqualTo(EJECTED);
		f.ticker.advance(Duration.ofMillis(600));
		f.pool.tick();
		assertThat(r.state()).isEqualTo(RECOVERING);
		assertThat(r.status().reason()).isEqualTo("ejection time over");
	}

	@Test
	void activeChecksMarkDownAfterTwoFailuresAndUpAfterTwoPasses() {
		ReplicaHealth r = f.replica(1);
		r.onHealthCheck(HealthVerdict.DOWN, "status DOWN");
		assertThat(r.state()).isEqualTo(HEALTHY);
		r.onHealthCheck(HealthVerdict.DOWN, "status DOWN");
		assertThat(r.state()).isEqualTo(DOWN);
		r.onHealthCheck(HealthVerdict.UP, "HTTP 200");
		assertThat(r.state()).isEqualTo(DOWN);
		r.onHealthCheck(HealthVerdict.UP, "HTTP 200");
		assertThat(r.state()).isEqualTo(RECOVERING);
	}

	@Test
	void outOfServiceDrainsAtOnceAndUpBringsItBack() {
		ReplicaHealth r = f.replica(1);
		r.onHealthCheck(HealthVerdict.OUT_OF_SERVICE, "");
		assertThat(r.state()).isEqualTo(DRAINED);
		r.onHealthCheck(HealthVerdict.UP, "");
		r.onHealthCheck(HealthVerdict.UP, "");
		assertThat(r.state()).isEqualTo(RECOVERING);
	}

	@Test
	void anOperatorsDrainIsNotUndoneByAHealthyCheck() {
		ReplicaHealth r = f.replica(1);
		r.drain("ops");
		r.onHealthCheck(HealthVerdict.UP, "");
		r.onHealthCheck(HealthVerdict.UP, "");
		assertThat(r.state()).isEqualTo(DRAINED);
		r.restore("ops");
		assertThat(r.state()).isEqualTo(RECOVERING);
	}

	@Test
	void aHealthyHealthEndpointDoesNotReadmitAReplicaThatTrafficEjected() {
		ReplicaHealth r = f.replica(0);
		f.fail(r, 5, Outcome.UPSTREAM_5XX);
		r.onHealthCheck(HealthVerdict.UP, "");
		r.onHealthCheck(HealthVerdict.UP, "");
		assertThat(r.state()).isEqualTo(EJECTED);
	}

	@Test
	void eachTransitionIsPublishedOnceWithItsReason() {
		ReplicaHealth r = f.replica(0);
		f.fail(r, 5, Outcome.RESET);
		assertThat(f.transitions()).hasSize(1);
		ReplicaEvent.Transition t = f.transitions().get(0);
		assertThat(t.from()).isEqualTo(HEALTHY);
		assertThat(t.to()).isEqualTo(EJECTED);
		assertThat(t.toString()).startsWith("Replica orders-1.internal:8080 of pool orders went from HEALTHY to EJECTED: 5 consecutive failures");
	}

	@Test
	void concurrentFailuresEjectOnceAndPublishOneTransition() throws Exception {
		ExecutorService pool = Executors.newFixedThreadPool(8);
		try {
			for (int round = 0; round < 50; round++) {
				PoolFixture fixture = new PoolFixture(4, HealthPolicy.DEFAULTS);
				ReplicaHealth r = fixture.replica(0);
				CountDownLatch go = new CountDownLatch(1);
				List<Future<?>> futures = new ArrayList<>();
				for (int t = 0; t < 8; t++) {
					futures.add(pool.submit(() -> {
						go.await();
						fixture.fail(r, 10, Outcome.CONNECT_FAILURE);
						return null;
					}));
				}
				go.countDown();
				for (Future<?> fu : futures) {
					fu.get(10, TimeUnit.SECONDS);
				}
				assertThat(r.state()).isEqualTo(EJECTED);
				assertThat(fixture.transitions()).hasSize(1);
				assertThat(r.ejectionsTotal()).isEqualTo(1);
			}
		}
		finally {
			pool.shutdownNow();
		}
	}

	@Test
	void concurrentProbeClaimsLetExactlyOneThrough() throws Exception {
		ReplicaHealth r = f.replica(0);
		f.fail(r, 5, Outcome.CONNECT_FAILURE);
		f.ticker.advance(Duration.ofSeconds(1));
		ExecutorService pool = Executors.newFixedThreadPool(8);
		try {
			List<Future<Boolean>> claims = new ArrayList<>();
			for (int i = 0; i < 64; i++) {
				claims.add(pool.submit(() -> r.claimProbe(f.ticker.nanos())));
			}
			int won = 0;
			for (Future<Boolean> c : claims) {
				won += c.get(10, TimeUnit.SECONDS) ? 1 : 0;
			}
			assertThat(won).isEqualTo(1);
		}
		finally {
			pool.shutdownNow();
		}
	}

}
