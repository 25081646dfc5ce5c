package dev.resiliencegateway.wiring;

import java.util.ArrayList;
import java.util.List;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;

import dev.resiliencegateway.health.PoolHealth;
import dev.resiliencegateway.health.ReplicaHealth;
import dev.resiliencegateway.health.ReplicaState;
import dev.resiliencegateway.clock.Ticker;

/**
 * Per-replica gauges, refreshed every second from the pools (so replicas found by discovery appear
 * and leave): {@code gateway.replica.state} (1 for the replica's current state, 0 for the others),
 * {@code gateway.replica.ejections} (ejections so far), {@code gateway.replica.in.flight} and
 * {@code gateway.replica.latency.ewma} (seconds). The Resilience4j breaker of each replica reports
 * its own {@code resilience4j_circuitbreaker_*} series.
 */
final class ReplicaMeters {

	private final PoolRegistry pools;

	private final MultiGauge state;

	private final MultiGauge ejections;

	private final MultiGauge inFlight;

	private final MultiGauge latency;

	private final MultiGauge availability;

	ReplicaMeters(PoolRegistry pools, MeterRegistry registry) {
		this.pools = pools;
		this.state = MultiGauge.builder("gateway.replica.state").description("1 for the replica's current state").register(registry);
		this.ejections = MultiGauge.builder("gateway.replica.ejections").description("ejections of the replica so far").register(registry);
		this.inFlight = MultiGauge.builder("gateway.replica.in.flight").description("attempts in flight to the replica").register(registry);
		this.latency = MultiGauge.builder("gateway.replica.latency.ewma").baseUnit("seconds")
			.description("the balancer's peak-EWMA latency of the replica").register(registry);
		this.availability = MultiGauge.builder("gateway.replica.availability")
			.description("share of the replica's attempts that succeeded over the last 10 s (NaN without attempts)")
			.register(registry);
		refresh();
	}

	/** The replicas the gauges were last registered for, compared by identity. */
	private List<ReplicaHealth> registered = List.of();

	/**
	 * Re-registers the rows only when the set of replicas changed (discovery): MultiGauge replaces a
	 * row by removing and re-adding it, and a scrape that runs meanwhile can see the row twice
	 * (Prometheus then refuses the whole scrape with duplicate labels).
	 */
	synchronized void refresh() {
		List<ReplicaHealth> current = new ArrayList<>();
		for (PoolHealth pool : pools.pools().values()) {
			current.addAll(pool.replicas());
		}
		if (sameReplicas(current)) {
			return;
		}
		registered = current;
		List<MultiGauge.Row<?>> states = new ArrayList<>();
		List<MultiGauge.Row<?>> ej = new ArrayList<>();
		List<MultiGauge.Row<?>> in = new ArrayList<>();
		List<MultiGauge.Row<?>> lat = new ArrayList<>();
		List<MultiGauge.Row<?>> avail = new ArrayList<>();
		for (PoolHealth pool : pools.pools().values()) {
			for (ReplicaHealth r : pool.replicas()) {
				Tags tags = Tags.of("pool", pool.name(), "replica", r.replica().id());
				for (ReplicaState s : ReplicaState.values()) {
					states.add(MultiGauge.Row.of(tags.and("state", s.name()), r, x -> x.state() == s ? 1 : 0));
				}
				ej.add(MultiGauge.Row.of(tags, r, ReplicaHealth::ejectionsTotal));
				in.add(MultiGauge.Row.of(tags, r, x -> x.load().inFlight()));
				lat.add(MultiGauge.Row.of(tags, r, x -> x.load().latencyNanos(Ticker.SYSTEM.nanos()) / 1e9));
				avail.add(MultiGauge.Row.of(tags, r, x -> x.availability().availability(Ticker.SYSTEM.nanos())));
			}
		}
		state.register(states, true);
		ejections.register(ej, true);
		inFlight.register(in, true);
		latency.register(lat, true);
		availability.register(avail, true);
	}

	private boolean sameReplicas(List<ReplicaHealth> current) {
		if (current.size() != registered.size()) {
			return false;
		}
		for (int i = 0; i < current.size(); i++) {
			if (current.get(i) != registered.get(i)) {
				return false;
			}
		}
		return true;
	}

}
