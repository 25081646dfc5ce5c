package dev.resiliencegateway.jmh;

import java.net.URI;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import dev.resiliencegateway.balancing.Balancer;
import dev.resiliencegateway.clock.Ticker;
import dev.resiliencegateway.health.HealthPolicy;
import dev.resiliencegateway.health.PoolHealth;
import dev.resiliencegateway.health.ReplicaHealth;
import dev.resiliencegateway.outcome.Outcome;
import dev.resiliencegateway.pool.Replica;
import dev.resiliencegateway.retry.RetryBudget;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;

/**
 * The decision path of one healthy request, as {@code ResilientExchange} walks it: the pool's
 * snapshot and the balancer's choice (P2C over peak-EWMA, with the exclusion rule the exchange
 * uses), the replica's load accounting and the outcome recorded into its health model, and the
 * retry budget's count and check. Run with the GC profiler to see allocation per operation:
 * <pre>
 * ./mvnw -B -Pjmh test-compile dependency:build-classpath -Dmdep.outputFile=target/jmh.cp
 * java -cp target/test-classes:target/classes:$(cat target/jmh.cp) org.openjdk.jmh.Main DecisionPath -prof gc
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class DecisionPathBenchmark {

	@Param({ "3", "1000" })
	int replicas;

	PoolHealth pool;

	RetryBudget budget;

	@Setup
	public void setUp() {
		List<Replica> list = new ArrayList<>();
		for (int i = 0; i < replicas; i++) {
			list.add(Replica.of(URI.create("http://orders-" + i + ".internal:8080"), 1));
		}
		pool = new PoolHealth("orders", HealthPolicy.DEFAULTS, PoolHealth.Environment.of(Ticker.SYSTEM,
				InstantSource.system(), new java.util.Random(1), event -> {
				}, CircuitBreaker::ofDefaults), list);
		budget = new RetryBudget(0.2, 10, Ticker.SYSTEM);
	}

	/** Choose a replica as the exchange does (nothing tried yet, no replica at its limit). */
	@Benchmark
	public ReplicaHealth choose() {
		long now = System.nanoTime();
		PoolHealth.Snapshot snapshot = pool.snapshot();
		return Balancer.choose(snapshot.routable(), snapshot.maxWeight(), r -> r.load().inFlight() >= 512, now,
				ThreadLocalRandom.current());
	}

	/** Choose, account the attempt's load, and record its successful outcome into the health model. */
	@Benchmark
	public ReplicaHealth chooseAndRecord() {
		long now = System.nanoTime();
		PoolHealth.Snapshot snapshot = pool.snapshot();
		ReplicaHealth chosen = Balancer.choose(snapshot.routable(), snapshot.maxWeight(),
				r -> r.load().inFlight() >= 512, now, ThreadLocalRandom.current());
		chosen.load().begin(now);
		chosen.load().end(now);
		pool.record(chosen, Outcome.SUCCESS, 1_000_000, false);
		return chosen;
	}

	/** The retry budget's per-request count and a retry's check. */
	@Benchmark
	public boolean budget() {
		budget.onRequest();
		return budget.tryRetry();
	}

}
