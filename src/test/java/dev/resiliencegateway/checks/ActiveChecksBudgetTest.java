package dev.resiliencegateway.checks;

import java.net.URI;
import java.time.Duration;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;

import dev.resiliencegateway.clock.FakeTicker;
import dev.resiliencegateway.health.HealthPolicy;
import dev.resiliencegateway.health.HealthVerdict;
import dev.resiliencegateway.health.PoolHealth;
import dev.resiliencegateway.health.ReplicaHealth;
import dev.resiliencegateway.health.ReplicaState;
import dev.resiliencegateway.pool.Replica;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;

import static org.assertj.core.api.Assertions.assertThat;

/** The replicas one round of checks asks, on a fake clock and without sockets. */
class ActiveChecksBudgetTest {

	private final FakeTicker ticker = new FakeTicker();

	private PoolHealth pool(int n) {
		List<Replica> replicas = IntStream.rangeClosed(1, n)
			.mapToObj(i -> Replica.of(URI.create("http://orders-" + i + ".internal:8080"), 1))
			.toList();
		return new PoolHealth("orders", HealthPolicy.DEFAULTS, PoolHealth.Environment.of(ticker, InstantSource.system(),
				new Random(1), e -> {
				}, CircuitBreaker::ofDefaults), replicas);
	}

	@Test
	void aPoolWithinTheBudgetIsAskedWholeEveryRound() {
		PoolHealth pool = pool(100);
		ActiveChecksBudget budget = new ActiveChecksBudget();
		for (int round = 0; round < 3; round++) {
			assertThat(budget.select(pool.replicas(), 100)).containsExactlyElementsOf(pool.replicas());
		}
	}

	@Test
	void inALargerPoolTheHealthyTakeTurnsAndEachIsAskedOncePerCycle() {
		PoolHealth pool = pool(1000);
		ActiveChecksBudget budget = new ActiveChecksBudget();
		Map<ReplicaHealth, Integer> asked = new HashMap<>();
		for (int round = 0; round < 10; round++) {
			List<ReplicaHealth> chosen = budget.select(pool.replicas(), 100);
			assertThat(chosen).hasSize(100).doesNotHaveDuplicates();
			chosen.forEach(r -> asked.merge(r, 1, Integer::sum));
		}
		assertThat(asked).hasSize(1000);
		assertThat(asked.values()).containsOnly(1);
		// and the next cycle starts over from the first
		assertThat(budget.select(pool.replicas(), 100).get(0)).isSameAs(pool.replicas().get(0));
	}

	@Test
	void replicasOutOfRotationAreAskedEveryRoundAndTheCheckedDownOnesAreLeftToTheirOwnSchedule() {
		PoolHealth pool = pool(300);
		ReplicaHealth ejected = pool.replicas().get(250);
		ReplicaHealth drained = pool.replicas().get(251);
		ReplicaHealth down = pool.replicas().get(252);
		ejected.ejectFor(Duration.ofSeconds(30).toNanos(), "test");
		drained.drain("test");
		for (int i = 0; i < HealthPolicy.DEFAULTS.unhealthyThreshold(); i++) {
			down.onHealthCheck(HealthVerdict.DOWN, "test");
		}
		assertThat(ejected.state()).isEqualTo(ReplicaState.EJECTED);
		assertThat(drained.state()).isEqualTo(ReplicaState.DRAINED);
		assertThat(down.state()).isEqualTo(ReplicaState.DOWN);
		ActiveChecksBudget budget = new ActiveChecksBudget();
		for (int round = 0; round < 5; round++) {
			List<ReplicaHealth> chosen = budget.select(pool.replicas(), 50);
			assertThat(chosen).hasSize(50).contains(ejected, drained).doesNotContain(down);
			assertThat(chosen.stream().filter(r -> r.state() == ReplicaState.HEALTHY)).hasSize(48);
		}
	}

	@Test
	void moreReplicasOutOfRotationThanTheBudgetAreAllAskedAndTheHealthyWait() {
		PoolHealth pool = pool(10);
		for (int i = 0; i < 6; i++) {
			pool.replicas().get(i).ejectFor(Duration.ofSeconds(30).toNanos(), "test");
		}
		List<ReplicaHealth> chosen = new ActiveChecksBudget().select(pool.replicas(), 4);
		assertThat(chosen).containsExactlyElementsOf(pool.replicas().subList(0, 6));
	}

	@Test
	void aPoolWithNoHealthyReplicaLeftIsAskedWholeWhateverItsSize() {
		PoolHealth pool = pool(10);
		pool.replicas().forEach(r -> r.ejectFor(Duration.ofSeconds(30).toNanos(), "test"));
		ActiveChecksBudget budget = new ActiveChecksBudget();
		for (int round = 0; round < 2; round++) {
			assertThat(budget.select(pool.replicas(), 4)).containsExactlyElementsOf(pool.replicas());
		}
	}

}
