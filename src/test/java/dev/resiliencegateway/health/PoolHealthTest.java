package dev.resiliencegateway.health;

import org.junit.jupiter.api.Test;

import dev.resiliencegateway.outcome.Outcome;

import static dev.resiliencegateway.health.ReplicaState.*;
import static org.assertj.core.api.Assertions.assertThat;

class PoolHealthTest {

	@Test
	void neverEjectsMoreThanHalfThePool() {
		PoolFixture f = new PoolFixture(4, HealthPolicy.DEFAULTS);
		f.fail(f.replica(0), 5, Outcome.CONNECT_FAILURE);
		f.fail(f.replica(1), 5, Outcome.CONNECT_FAILURE);
		f.fail(f.replica(2), 5, Outcome.CONNECT_FAILURE);
		assertThat(f.replica(0).state()).isEqualTo(EJECTED);
		assertThat(f.replica(1).state()).isEqualTo(EJECTED);
		assertThat(f.replica(2).state()).isEqualTo(HEALTHY);
		assertThat(f.events).anySatisfy(e -> assertThat(e.toString())
			.contains("orders-3.internal:8080 of pool orders would be ejected").contains("max-ejection cap of 50% is reached"));
	}

	@Test
	void threeReplicaPoolEjectsOneAndKeepsTwo() {
		PoolFixture f = new PoolFixture(3, HealthPolicy.DEFAULTS);
		f.fail(f.replica(0), 5, Outcome.CONNECT_FAILURE);
		f.fail(f.replica(1), 5, Outcome.CONNECT_FAILURE);
		assertThat(f.pool.snapshot().routable()).hasSize(2);
		assertThat(f.pool.snapshot().panic()).isFalse();
	}

	@Test
	void panicRoutesToEveryReplicaWhenTooFewAreHealthy() {
		PoolFixture f = new PoolFixture(3, HealthPolicy.DEFAULTS);
		// active checks take two replicas down: 1 of 3 left, below the 50 % panic threshold
		for (int i = 0; i < 2; i++) {
			f.replica(0).onHealthCheck(HealthVerdict.DOWN, "x");
			f.replica(1).onHealthCheck(HealthVerdict.DOWN, "x");
		}
		PoolHealth.Snapshot s = f.pool.snapshot();
		assertThat(s.panic()).isTrue();
		assertThat(s.routable()).hasSize(3);
	}

	@Test
	void drainedReplicasStayOutEvenInPanic() {
		PoolFixture f = new PoolFixture(3, HealthPolicy.DEFAULTS);
		f.replica(2).drain("ops");
		for (int i = 0; i < 2; i++) {
			f.replica(0).onHealthCheck(HealthVerdict.DOWN, "x");
			f.replica(1).onHealthCheck(HealthVerdict.DOWN, "x");
		}
		assertThat(f.pool.snapshot().panic()).isTrue();
		assertThat(f.pool.snapshot().routable()).containsExactly(f.replica(0), f.replica(1));
	}

	@Test
	void detectOnlyReportsWouldEjectAndKeepsTheReplica() {
		PoolFixture f = new PoolFixture(3, HealthPolicy.DEFAULTS.withDetectOnly(true));
		f.fail(f.replica(0), 5, Outcome.UPSTREAM_5XX);
		assertThat(f.replica(0).state()).isEqualTo(HEALTHY);
		assertThat(f.events).singleElement().isInstanceOf(ReplicaEvent.WouldEject.class);
		assertThat(f.events.get(0).toString()).contains("detect-only");
		// switched to enforcing at run time, the next run of failures ejects
		f.pool.setDetectOnly(false);
		f.fail(f.replica(0), 5, Outcome.UPSTREAM_5XX);
		assertThat(f.replica(0).state()).isEqualTo(EJECTED);
	}

	@Test
	void newlyDiscoveredReplicasJoinWithSlowStartAndKnownOnesKeepTheirState() {
		PoolFixture f = new PoolFixture(2, HealthPolicy.DEFAULTS);
		f.fail(f.replica(0), 5, Outcome.CONNECT_FAILURE);
		var latest = new java.util.ArrayList<>(f.pool.replicas().stream().map(ReplicaHealth::replica).toList());
		latest.add(dev.resiliencegateway.pool.Replica.of(java.net.URI.create("http://orders-9.internal:8080"), 1));
		f.pool.setReplicas(latest, RECOVERING);
		assertThat(f.pool.replicas()).hasSize(3);
		assertThat(f.replica(0).state()).isEqualTo(EJECTED);
		assertThat(f.replica(2).state()).isEqualTo(RECOVERING);
	}

	@Test
	void aConfigurationChangeKeepsTheReplicasItKeepsWithANewWeightAndPolicy() {
		PoolFixture f = new PoolFixture(3, HealthPolicy.DEFAULTS);
		ReplicaHealth ejected = f.replica(0);
		ReplicaHealth kept = f.replica(1);
		f.fail(ejected, 5, Outcome.CONNECT_FAILURE);
		f.succeed(kept, 7);
		var one = ejected.replica();
		var two = kept.replica();
		var reweighed = new dev.resiliencegateway.pool.Replica(two.id(), two.uri(), 4);
		var added = dev.resiliencegateway.pool.Replica.of(java.net.URI.create("http://orders-9.internal:8080"), 1);
		HealthPolicy stricter = HealthPolicy.DEFAULTS.withSlowStart(java.time.Duration.ofSeconds(3));

		f.pool.reconfigure(stricter, java.util.List.of(one, reweighed, added));

		assertThat(f.pool.policy()).isEqualTo(stricter);
		assertThat(f.pool.replicas()).hasSize(3);
		assertThat(f.replica(0)).as("same health model").isSameAs(ejected);
		assertThat(ejected.state()).as("an ejection outlives the change").isEqualTo(EJECTED);
		assertThat(f.replica(1)).isSameAs(kept);
		assertThat(kept.replica().weight()).isEqualTo(4);
		assertThat(kept.availability().total(f.ticker.nanos())).as("statistics stay").isEqualTo(7);
		assertThat(f.replica(2).state()).as("a new replica joins in slow start").isEqualTo(RECOVERING);
		assertThat(f.pool.replicas()).extracting(r -> r.replica().id()).doesNotContain("orders-3.internal:8080");
		assertThat(f.pool.snapshot().routable()).doesNotContain(ejected);
	}

}
