package dev.resiliencegateway.checks;

import java.time.Duration;

/**
 * When a pool's next round of active checks is due. The rounds are offered every
 * {@code health-check.interval}; one runs when the pool carried traffic since the last round or has a
 * replica out of rotation, and otherwise only once every {@code no-traffic-interval} (Envoy's
 * {@code no_traffic_interval}). A quiet pool's replicas are not asked every second about a health
 * nobody is using, and an idle gateway costs next to nothing (docs/performance.md, "Idle"); the first
 * request after a quiet spell still finds the passive detection and the retries in place, and brings
 * the next round back to {@code interval}. Asked only from the pools' background thread.
 */
public final class CheckRounds {

	private final long quietNanos;

	/** Half an interval of slack: a fixed-rate schedule fires a little early as often as late. */
	private final long slackNanos;

	private long lastRound;

	private boolean started;

	public CheckRounds(Duration interval, Duration noTrafficInterval) {
		this.quietNanos = noTrafficInterval.toNanos();
		this.slackNanos = interval.toNanos() / 2;
	}

	/**
	 * Whether the round offered at {@code now} runs (and if so it counts from now).
	 *
	 * @param quiet whether the pool was quiet and whole since the last round that ran
	 * ({@link dev.resiliencegateway.health.PoolHealth#quietSince})
	 */
	public boolean due(long now, QuietSince quiet) {
		if (started && now - lastRound + slackNanos < quietNanos && quiet.since(lastRound)) {
			return false;
		}
		started = true;
		lastRound = now;
		return true;
	}

	/** The pool's answer to "quiet and whole since then?". */
	@FunctionalInterface
	public interface QuietSince {

		boolean since(long nanos);

	}

}
