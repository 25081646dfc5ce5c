package dev.resiliencegateway.health;

import java.time.Duration;

/**
 * How a pool judges its replicas. Immutable; built from configuration, validated there.
 *
 * @param consecutiveFailures eject after this many failures in a row (default 5)
 * @param baseEjection first ejection's length (default 5 s); doubles on each repeated ejection
 * @param maxEjection cap on an ejection's length (default 2 min)
 * @param ejectionJitter up to this fraction is added at random to each ejection (default 0.1)
 * @param maxEjectionPercent never eject more than this share of the pool (default 50)
 * @param panicThresholdPercent below this share of replicas taking traffic, route to all of them (default 50)
 * @param detectOnly report "would eject" without ejecting (default false)
 * @param firstProbeInterval the first probe of an ejected replica, and the first recheck of one an active
 * check marked down, go this long after it left rotation (default 100 ms); each failed probe or check
 * doubles the wait, up to {@code probeInterval}
 * @param probeInterval the longest wait between probes (and rechecks) of a replica out of rotation
 * (default 800 ms: a healed replica is noticed within a second, and one still failing gets at most
 * 1.25 probes a second)
 * @param failureOutlierPercent eject a replica whose failure rate over its breaker's window reaches
 * this share while another replica in rotation fails at most half as often (default 25; 0 off)
 * @param slowStartWindow a readmitted replica ramps to full weight over this window (default 10 s)
 * @param slowStartInitialShare and starts at this share of its weight (default 0.1)
 * @param unhealthyThreshold failed active checks in a row to mark down (default 2)
 * @param healthyThreshold passed active checks in a row to mark up (default 2)
 */
public record HealthPolicy(int consecutiveFailures, Duration baseEjection, Duration maxEjection,
		double ejectionJitter, int maxEjectionPercent, int panicThresholdPercent, boolean detectOnly,
		Duration firstProbeInterval, Duration probeInterval, Duration slowStartWindow, double slowStartInitialShare,
		int unhealthyThreshold, int healthyThreshold, int failureOutlierPercent) {

	public static final HealthPolicy DEFAULTS = new HealthPolicy(5, Duration.ofSeconds(5), Duration.ofMinutes(2),
			0.1, 50, 50, false, Duration.ofMillis(100), Duration.ofMillis(800), Duration.ofSeconds(10), 0.1, 2, 2, 25);

	public HealthPolicy withDetectOnly(boolean detectOnly) {
		return new HealthPolicy(consecutiveFailures, baseEjection, maxEjection, ejectionJitter, maxEjectionPercent,
				panicThresholdPercent, detectOnly, firstProbeInterval, probeInterval, slowStartWindow,
				slowStartInitialShare, unhealthyThreshold, healthyThreshold, failureOutlierPercent);
	}

	public HealthPolicy withSlowStart(Duration window) {
		return new HealthPolicy(consecutiveFailures, baseEjection, maxEjection, ejectionJitter, maxEjectionPercent,
				panicThresholdPercent, detectOnly, firstProbeInterval, probeInterval, window, slowStartInitialShare,
				unhealthyThreshold, healthyThreshold, failureOutlierPercent);
	}

	/**
	 * Length of the next ejection: base x 2^ejections, capped, plus up to {@code ejectionJitter} of it
	 * at random (the cap holds after jitter too).
	 */
	long ejectionNanos(int previousEjections, double random01) {
		long base = baseEjection.toNanos();
		long max = maxEjection.toNanos();
		int shift = Math.min(previousEjections, 30);
		long length = base > (max >> shift) ? max : Math.min(max, base << shift);
		return Math.min(max, length + (long) (length * ejectionJitter * random01));
	}

	/**
	 * The wait before the next probe (or recheck) of a replica out of rotation after {@code failures}
	 * failed ones: the first interval doubled per failure, capped at the probe interval. Starting
	 * short catches a blip that heals at once; the cap bounds both how late a healed replica is
	 * noticed and how much probing a replica that is still failing gets.
	 */
	long probeWaitNanos(int failures) {
		long first = firstProbeInterval.toNanos();
		long max = probeInterval.toNanos();
		int shift = Math.min(Math.max(failures, 0), 30);
		return first > (max >> shift) ? max : Math.min(max, first << shift);
	}

	/** Share of full weight a replica gets {@code elapsed} nanos into its slow start. */
	double slowStartFactor(long elapsedNanos) {
		long window = slowStartWindow.toNanos();
		if (window <= 0 || elapsedNanos >= window) {
			return 1.0;
		}
		double progress = Math.max(0, elapsedNanos) / (double) window;
		return slowStartInitialShare + (1 - slowStartInitialShare) * progress;
	}

}
