package dev.resiliencegateway.health;

import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.stream.IntStream;

import dev.resiliencegateway.clock.FakeTicker;
import dev.resiliencegateway.pool.Replica;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;

/** A pool of n replicas on a fake clock, with the events it published. */
final class PoolFixture {

	final FakeTicker ticker = new FakeTicker();

	final List<ReplicaEvent> events = new CopyOnWriteArrayList<>();

	final PoolHealth pool;

	PoolFixture(int n, HealthPolicy policy) {
		this(n, policy, (Consumer<ReplicaEvent>) null);
	}

	PoolFixture(int n, HealthPolicy policy, Consumer<ReplicaEvent> listener) {
		this(n, policy, CircuitBreakerConfig.custom()
			.slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
			.slidingWindowSize(20)
			.minimumNumberOfCalls(10)
			.failureRateThreshold(50)
			.automaticTransitionFromOpenToHalfOpenEnabled(false)
			.build(), listener);
	}

	PoolFixture(int n, HealthPolicy policy, CircuitBreakerConfig breaker) {
		this(n, policy, breaker, null);
	}

	/** @param listener also told of every event, after it is recorded in {@link #events} */
	PoolFixture(int n, HealthPolicy policy, CircuitBreakerConfig breaker, Consumer<ReplicaEvent> listener) {
		Consumer<ReplicaEvent> record = events::add;
		PoolHealth.Environment env = PoolHealth.Environment.of(ticker, InstantSource.fixed(Instant.EPOCH), new Random(42),
				listener == null ? record : record.andThen(listener), name -> CircuitBreaker.of(name, breaker));
		List<Replica> replicas = IntStream.rangeClosed(1, n)
			.mapToObj(i -> Replica.of(URI.create("http://orders-" + i + ".internal:8080"), 1))
			.toList();
		pool = new PoolHealth("orders", policy, env, replicas);
	}

	ReplicaHealth replica(int i) {
		return pool.replicas().get(i);
	}

	void fail(ReplicaHealth r, int times, dev.resiliencegateway.outcome.Outcome outcome) {
		for (int i = 0; i < times; i++) {
			pool.record(r, outcome, Duration.ofMillis(2).toNanos(), false);
		}
	}

	void succeed(ReplicaHealth r, int times) {
		for (int i = 0; i < times; i++) {
			pool.record(r, dev.resiliencegateway.outcome.Outcome.SUCCESS, Duration.ofMillis(2).toNanos(), false);
		}
	}

	List<ReplicaEvent.Transition> transitions() {
		return events.stream()
			.filter(ReplicaEvent.Transition.class::isInstance)
			.map(ReplicaEvent.Transition.class::cast)
			.toList();
	}

}
