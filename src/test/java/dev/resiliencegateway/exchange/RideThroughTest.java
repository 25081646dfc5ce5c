package dev.resiliencegateway.exchange;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.IntStream;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.resiliencegateway.clock.FakeTicker;
import dev.resiliencegateway.config.GatewayConfig.RideThroughPolicy;
import dev.resiliencegateway.health.HealthPolicy;
import dev.resiliencegateway.health.HealthVerdict;
import dev.resiliencegateway.health.PoolHealth;
import dev.resiliencegateway.health.ReplicaHealth;
import dev.resiliencegateway.pool.Replica;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;

/**
 * The ride-through gate with real threads (each a request waiting) and a real pool on a fake clock:
 * the pool's comebacks release them, a few per replica back at a time, oldest first.
 */
class RideThroughTest {

	private static final long LONG = TimeUnit.SECONDS.toNanos(10);

	private final PoolHealth pool = new PoolHealth("orders", HealthPolicy.DEFAULTS.withSlowStart(Duration.ZERO),
			PoolHealth.Environment.of(new FakeTicker(), InstantSource.fixed(Instant.EPOCH), new Random(1), e -> {
			}, CircuitBreaker::ofDefaults),
			IntStream.rangeClosed(1, 2).mapToObj(i -> Replica.of(URI.create("http://orders-" + i + ".internal"), 1)).toList());

	private final ExecutorService threads = Executors.newCachedThreadPool();

	@AfterEach
	void stop() {
		threads.shutdownNow();
	}

	private RideThrough gate(int maxWaiting) {
		for (ReplicaHealth r : pool.replicas()) {
			r.onHealthCheck(HealthVerdict.DOWN, "ConnectException");
			r.onHealthCheck(HealthVerdict.DOWN, "ConnectException");
		}
		return new RideThrough(pool, new RideThroughPolicy(Duration.ofSeconds(10), maxWaiting));
	}

	private static void comeBack(ReplicaHealth r) {
		r.onHealthCheck(HealthVerdict.UP, "HTTP 200");
		r.onHealthCheck(HealthVerdict.UP, "HTTP 200");
	}

	/** Starts a waiter and returns once it waits (the gate counts it), so waiters queue in start order. */
	private CompletableFuture<RideThrough.Result> waiter(RideThrough gate, long nanos) {
		int before = gate.waiting();
		long seen = pool.comebacks();
		CompletableFuture<RideThrough.Result> f = CompletableFuture.supplyAsync(() -> gate.await(seen, nanos, () -> false),
				threads);
		Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> gate.waiting() > before || f.isDone());
		return f;
	}

	@Test
	void aWaitingRequestGoesWhenAReplicaComesBack() throws Exception {
		RideThrough gate = gate(10);
		CompletableFuture<RideThrough.Result> waiting = waiter(gate, LONG);
		Thread.sleep(100);
		assertThat(waiting).isNotDone();
		comeBack(pool.replicas().get(0));
		assertThat(waiting.get(5, TimeUnit.SECONDS)).isEqualTo(RideThrough.Result.RELEASED);
		assertThat(gate.waiting()).isZero();
	}

	@Test
	void aWaitEndsAfterItsTimeWhenNothingComesBack() throws Exception {
		RideThrough gate = gate(10);
		assertThat(waiter(gate, TimeUnit.MILLISECONDS.toNanos(50)).get(5, TimeUnit.SECONDS))
			.isEqualTo(RideThrough.Result.TIMED_OUT);
	}

	@Test
	void beyondMaxWaitingARequestDoesNotWaitAtAll() throws Exception {
		RideThrough gate = gate(2);
		waiter(gate, LONG);
		waiter(gate, LONG);
		assertThat(gate.await(pool.comebacks(), LONG, () -> false)).isEqualTo(RideThrough.Result.FULL);
	}

	@Test
	void waitersAreReleasedAFewPerReplicaBackOldestFirstAsEachAttemptEnds() throws Exception {
		RideThrough gate = gate(100);
		List<CompletableFuture<RideThrough.Result>> waiters = new ArrayList<>();
		for (int i = 0; i < 12; i++) {
			waiters.add(waiter(gate, LONG));
		}
		comeBack(pool.replicas().get(0)); // one replica back: four go
		Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> gate.waiting() == 8);
		Thread.sleep(100);
		assertThat(gate.waiting()).as("no more than four in flight on one replica").isEqualTo(8);
		assertThat(waiters.subList(0, 4)).allMatch(CompletableFuture::isDone);
		gate.done(); // one released attempt ended: the next oldest goes
		waiters.get(4).get(5, TimeUnit.SECONDS);
		Thread.sleep(100);
		assertThat(gate.waiting()).isEqualTo(7);
		comeBack(pool.replicas().get(1)); // a second replica back: four more slots
		Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> gate.waiting() == 3);
		assertThat(waiters.subList(0, 9)).allMatch(f -> f.getNow(null) == RideThrough.Result.RELEASED);
		assertThat(waiters.subList(9, 12)).noneMatch(CompletableFuture::isDone);
	}

	@Test
	void aClientThatLeavesStopsWaiting() throws Exception {
		RideThrough gate = gate(10);
		AtomicBoolean gone = new AtomicBoolean();
		long seen = pool.comebacks();
		CompletableFuture<RideThrough.Result> f = CompletableFuture.supplyAsync(() -> gate.await(seen, LONG, gone::get),
				threads);
		Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> gate.waiting() == 1);
		gone.set(true);
		gate.wakeEveryone();
		assertThat(f.get(5, TimeUnit.SECONDS)).isEqualTo(RideThrough.Result.GONE);
	}

}
