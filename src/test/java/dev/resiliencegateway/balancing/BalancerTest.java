package dev.resiliencegateway.balancing;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class BalancerTest {

	private static final long NOW = 1_000_000_000_000L;

	private final Random random = new Random(7);

	/** A candidate with a fixed weight and its own load record. */
	record Fake(String name, double weight, ReplicaLoad load) implements Candidate {
		@Override
		public double effectiveWeight(long now) {
			return weight;
		}
	}

	private static Fake replica(String name, double weight) {
		return new Fake(name, weight, new ReplicaLoad(Duration.ofMillis(500).toNanos(), Duration.ofSeconds(1).toNanos(),
				Duration.ofMillis(1).toNanos(), NOW));
	}

	private Map<String, Integer> pick(List<Fake> replicas, int times) {
		Map<String, Integer> counts = new HashMap<>();
		for (int i = 0; i < times; i++) {
			Fake f = Balancer.choose(replicas, x -> false, NOW, random);
			counts.merge(f.name(), 1, Integer::sum);
		}
		return counts;
	}

	private static void observe(Fake f, Duration latency, boolean success, int times) {
		for (int i = 0; i < times; i++) {
			f.load().observe(latency.toNanos(), success, NOW);
		}
	}

	@Test
	void aCandidateExcludedBetweenThePassesIsNotChosenAndNothingThrows() {
		// the exclusion is asked once per pass; a replica reaching its in-flight limit in between
		List<Fake> replicas = List.of(replica("a", 1), replica("b", 1), replica("c", 1));
		for (int calls : new int[] { 3, 4, 5 }) {
			int[] asked = { 0 };
			Fake chosen = Balancer.choose(replicas, 1, r -> asked[0]++ >= calls, NOW, random);
			assertThat(chosen).as("all excluded after %d answers", calls).isIn(replicas.get(0), replicas.get(1), null);
		}
		int[] asked = { 0 };
		assertThat(Balancer.choose(replicas, 1, r -> asked[0]++ >= 3, NOW, random)).isNull();
	}

	@Test
	void spreadsEvenlyOverEqualReplicas() {
		List<Fake> three = List.of(replica("a", 1), replica("b", 1), replica("c", 1));
		Map<String, Integer> counts = pick(three, 3000);
		assertThat(counts.values()).allSatisfy(c -> assertThat(c).isBetween(850, 1150));
	}

	@Test
	void avoidsASlowReplica() {
		Fake slow = replica("slow", 1);
		List<Fake> three = List.of(replica("a", 1), replica("b", 1), slow);
		observe(three.get(0), Duration.ofMillis(2), true, 5);
		observe(three.get(1), Duration.ofMillis(2), true, 5);
		observe(slow, Duration.ofMillis(1500), true, 1);
		assertThat(pick(three, 3000).getOrDefault("slow", 0)).isZero();
	}

	@Test
	void anErroringReplicaThatFailsFastDoesNotLookFast() {
		Fake erroring = replica("erroring", 1);
		List<Fake> three = List.of(replica("a", 1), replica("b", 1), erroring);
		observe(three.get(0), Duration.ofMillis(5), true, 5);
		observe(three.get(1), Duration.ofMillis(5), true, 5);
		observe(erroring, Duration.ofMillis(5), true, 5);
		observe(erroring, Duration.ofMillis(1), false, 1); // a 1 ms 500
		assertThat(pick(three, 3000).getOrDefault("erroring", 0)).isZero();
	}

	@Test
	void aFailuresPenaltyIsRelativeToTheReplicasUsualLatencyAndFadesWithinASecond() {
		Fake erroring = replica("erroring", 1);
		List<Fake> three = List.of(replica("a", 1), replica("b", 1), erroring);
		three.forEach(f -> observe(f, Duration.ofMillis(2), true, 40));
		observe(erroring, Duration.ofMillis(1), false, 1);
		assertThat(erroring.load().latencyNanos(NOW)).isCloseTo(20e6, org.assertj.core.data.Percentage.withPercentage(1)); // 10 x its usual 2 ms
		// the peers keep answering in 2 ms; 900 ms later the failed replica is chosen again
		long later = NOW + Duration.ofMillis(900).toNanos();
		three.subList(0, 2).forEach(f -> f.load().observe(Duration.ofMillis(2).toNanos(), true, later));
		int chosen = 0;
		for (int i = 0; i < 3000; i++) {
			chosen += Balancer.choose(three, x -> false, later, random) == erroring ? 1 : 0;
		}
		assertThat(chosen).isGreaterThan(500);
		// a failure never costs more than the cap (1 s here), however slow the replica usually is
		Fake slow = replica("slow", 1);
		observe(slow, Duration.ofMillis(400), true, 40);
		slow.load().observe(Duration.ofMillis(1).toNanos(), false, NOW);
		assertThat(slow.load().latencyNanos(NOW)).isEqualTo(1e9);
	}

	@Test
	void forgettingFailuresReturnsToTheUsualLatency() {
		Fake f = replica("f", 1);
		observe(f, Duration.ofMillis(3), true, 40);
		long later = NOW + Duration.ofMillis(50).toNanos();
		for (int i = 0; i < 3; i++) {
			f.load().observe(Duration.ofMillis(1).toNanos(), false, later);
		}
		assertThat(f.load().latencyNanos(later)).isGreaterThan(25e6);
		assertThat(f.load().successRate()).isLessThan(1.0);
		f.load().forgetFailures(later);
		assertThat(f.load().latencyNanos(later)).isCloseTo(3e6, org.assertj.core.data.Percentage.withPercentage(1));
		assertThat(f.load().successRate()).isEqualTo(1.0);
	}

	@Test
	void avoidsAReplicaPilingUpRequestsInFlight() {
		Fake hanging = replica("hanging", 1);
		List<Fake> three = List.of(replica("a", 1), replica("b", 1), hanging);
		for (int i = 0; i < 5; i++) {
			hanging.load().begin(NOW); // sent, never answered
		}
		assertThat(pick(three, 3000).getOrDefault("hanging", 0)).isZero();
	}

	@Test
	void aReplicaWhoseOnlyRequestInFlightIsAgeingIsAvoidedBeforeItCompletes() {
		Fake hanging = replica("hanging", 1);
		List<Fake> three = List.of(replica("a", 1), replica("b", 1), hanging);
		three.forEach(f -> observe(f, Duration.ofMillis(1), true, 3));
		// one request in flight for 50 ms: its age says more than the 1 ms EWMA
		hanging.load().begin(NOW - Duration.ofMillis(50).toNanos());
		three.get(0).load().begin(NOW);
		assertThat(pick(three, 3000).getOrDefault("hanging", 0)).isZero();
		hanging.load().end(NOW - Duration.ofMillis(50).toNanos());
		assertThat(hanging.load().inFlight()).isZero();
	}

	@Test
	void aReplicaWithTenPercentWeightGetsAboutTenPercentOfItsShare() {
		List<Fake> three = List.of(replica("a", 1), replica("b", 1), replica("ramping", 0.1));
		int ramping = pick(three, 10_000).getOrDefault("ramping", 0);
		// full share would be 3333; at weight 0.1 it is drawn ~4.8 % of the time and wins half its pairs
		assertThat(ramping).isBetween(100, 700);
	}

	@Test
	void heavierReplicasGetMore() {
		List<Fake> two = List.of(replica("light", 1), replica("heavy", 3));
		Map<String, Integer> counts = pick(two, 4000);
		// with two replicas both are always drawn; equal costs are a tie, won by the first draw, which
		// is proportional to weight: the heavy one gets about 3/4
		assertThat(counts.get("heavy")).isBetween(2800, 3200);
		List<Fake> three = List.of(replica("light", 1), replica("heavy", 3), replica("other", 1));
		Map<String, Integer> c3 = pick(three, 5000);
		assertThat(c3.get("heavy")).isGreaterThan(c3.get("light"));
	}

	@Test
	void avoidsReplicasAlreadyTriedAndFallsBackWhenAllWere() {
		Fake a = replica("a", 1);
		Fake b = replica("b", 1);
		for (int i = 0; i < 200; i++) {
			assertThat(Balancer.choose(List.of(a, b), x -> x == a, NOW, random)).isSameAs(b);
			assertThat(Balancer.choose(List.of(a, b), x -> true, NOW, random)).isNotNull();
		}
		assertThat(Balancer.choose(List.<Fake>of(), x -> false, NOW, random)).isNull();
	}

	@Test
	void aSlowReplicasPenaltyFadesSoItIsTriedAgain() {
		Fake slow = replica("slow", 1);
		slow.load().observe(Duration.ofMillis(1500).toNanos(), true, NOW);
		long later = NOW + Duration.ofSeconds(5).toNanos();
		assertThat(slow.load().latencyNanos(later)).isLessThan(Duration.ofMillis(1).toNanos());
	}

	/** A candidate that counts how often its weight is computed. */
	record Counted(double weight, ReplicaLoad load, java.util.concurrent.atomic.AtomicLong looked) implements Candidate {
		@Override
		public double effectiveWeight(long now) {
			looked.incrementAndGet();
			return weight;
		}
	}

	/** A large pool is drawn by sampling: the same shares as the exact weighted draw, at a cost that does not grow with it. */
	@Test
	void aLargePoolIsSampledWithTheExactDrawsSharesAfterLookingAtAFewCandidates() {
		java.util.concurrent.atomic.AtomicLong looked = new java.util.concurrent.atomic.AtomicLong();
		List<Counted> pool = new java.util.ArrayList<>();
		for (int i = 0; i < 1000; i++) {
			double weight = i < 500 ? 1 : 3; // the heavy half should get 3/4 of first draws
			pool.add(new Counted(weight, replica("r" + i, weight).load(), looked));
		}
		int heavy = 0;
		int draws = 20_000;
		for (int i = 0; i < draws; i++) {
			Counted f = Balancer.choose(pool, 3.0, x -> false, NOW, random);
			heavy += f.weight() == 3 ? 1 : 0;
		}
		// with equal loads the first draw wins (a tie), so the shares are the weighted draw's: 3/4 heavy
		assertThat(heavy / (double) draws).isBetween(0.73, 0.77);
		assertThat(looked.get() / (double) draws).as("weights computed per choice").isLessThan(6);

		int exactHeavy = 0;
		looked.set(0);
		for (int i = 0; i < draws; i++) {
			exactHeavy += Balancer.choose(pool, x -> false, NOW, random).weight() == 3 ? 1 : 0;
		}
		assertThat(exactHeavy / (double) draws).isBetween(0.73, 0.77);
		assertThat(looked.get() / (double) draws).as("the exact draw computes every weight").isGreaterThanOrEqualTo(1000);
	}

	@Test
	void samplingFallsBackToTheExactDrawWhenAlmostEveryCandidateIsExcluded() {
		List<Fake> pool = new java.util.ArrayList<>();
		for (int i = 0; i < 1000; i++) {
			pool.add(replica("r" + i, 1));
		}
		Fake only = pool.get(617);
		for (int i = 0; i < 200; i++) {
			assertThat(Balancer.choose(pool, 1.0, x -> x != only, NOW, random)).isSameAs(only);
		}
		assertThat(Balancer.choose(pool, 1.0, x -> true, NOW, random)).as("all tried: any of them").isNotNull();
	}

}
