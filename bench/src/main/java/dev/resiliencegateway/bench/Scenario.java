package dev.resiliencegateway.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

import dev.resiliencegateway.demo.DemoReplica;
import dev.resiliencegateway.demo.DemoReplica.Mode;

/** A fault applied to the first replica (or all of them) at the fault start, healed at the fault end. */
public enum Scenario {

	HEALTHY("healthy"), CRASH("crash and restart"), FAIL_ALL("500 on every request"),
	FAIL_HALF("500 on half the requests"), FAIL_30("500 on 30 % of the requests (a gray replica)"),
	SLOW("+1.5 s latency"), HANG("hang (accepts, never answers)"),
	LYING_HEALTH("health UP while traffic fails"), ALL_DOWN("all replicas down, then back"),
	ALL_DOWN_5S("all replicas down for 5 s (a restart of every pod at once)"),
	FLAPPING("flapping (500s on and off every 2 s)"),
	FREEZE_WRITES("all replicas freeze: execute, answer after 1.5 s; clients retry failed POSTs with their Idempotency-Key");

	final String title;

	private ScheduledFuture<?> flapper;

	Scenario(String title) {
		this.title = title;
	}

	/**
	 * Whether clients send each POST with an {@code Idempotency-Key} (its request id) and send a POST
	 * that failed (5xx or no answer) again with the same key, up to twice, unless the answer says it
	 * was a replay: what a careful payment client does.
	 */
	boolean clientsRetryKeyedPosts() {
		return this == FREEZE_WRITES;
	}

	/** Whether one replica is faulty (so its traffic share is measured). */
	boolean singleVictim() {
		return this != HEALTHY && this != ALL_DOWN && this != ALL_DOWN_5S && this != FREEZE_WRITES;
	}

	/** Whether every replica is down for the fault (so the first replica back is measured). */
	boolean allDown() {
		return this == ALL_DOWN || this == ALL_DOWN_5S;
	}

	/** When the fault heals: at the run's fault end, or 5 s after the fault for {@link #ALL_DOWN_5S}. */
	java.time.Duration healAt(LoadRun.Settings s) {
		return this == ALL_DOWN_5S ? s.faultStart().plusSeconds(5) : s.faultEnd();
	}

	void apply(List<DemoReplica> replicas, ScheduledExecutorService timer) {
		DemoReplica victim = replicas.get(0);
		switch (this) {
			case HEALTHY -> {
			}
			case CRASH -> victim.crash();
			case FAIL_ALL -> victim.setMode(Mode.FAILING, 1.0, 0);
			case FAIL_HALF -> victim.setMode(Mode.FAILING, 0.5, 0);
			case FAIL_30 -> victim.setMode(Mode.FAILING, 0.3, 0);
			case SLOW -> victim.setMode(Mode.SLOW, 1.0, 1500);
			// every replica, so no balancer can route around it: each POST meets the freeze
			case FREEZE_WRITES -> replicas.forEach(r -> r.setMode(Mode.SLOW, 1.0, 1500));
			case HANG -> victim.setMode(Mode.HANGING);
			case LYING_HEALTH -> victim.setMode(Mode.LYING_HEALTH);
			case ALL_DOWN, ALL_DOWN_5S -> replicas.forEach(DemoReplica::crash);
			case FLAPPING -> {
				victim.setMode(Mode.FAILING, 1.0, 0);
				flapper = timer.scheduleAtFixedRate(() -> victim.setMode(
						victim.mode() == Mode.FAILING ? Mode.HEALTHY : Mode.FAILING, 1.0, 0), 2, 2, TimeUnit.SECONDS);
			}
		}
	}

	void heal(List<DemoReplica> replicas) {
		if (flapper != null) {
			flapper.cancel(false);
			flapper = null;
		}
		for (DemoReplica r : replicas) {
			r.setMode(Mode.HEALTHY);
			if (!r.isRunning()) {
				try {
					r.start();
				}
				catch (IOException e) {
					throw new UncheckedIOException(e);
				}
			}
		}
	}

}
