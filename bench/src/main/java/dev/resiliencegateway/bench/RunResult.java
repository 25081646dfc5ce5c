package dev.resiliencegateway.bench;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.HdrHistogram.Histogram;

/** What one run of one scenario against one system measured. */
public record RunResult(String system, Scenario scenario, LoadRun.Settings settings, long startNanos, long faultNanos,
		long healNanos, List<LoadRun.Sample> samples, List<LoadRun.Arrival> arrivals, Map<String, Integer> executions,
		String victim, int scheduled, long healWallMillis, Double readmittedSeconds, Double ejectedSeconds) {

	/**
	 * The same result with the time from healing until the gateway readmitted the replica (its own
	 * event log says so; peers do not tell).
	 */
	RunResult withReadmitted(Double seconds, Double ejected) {
		return new RunResult(system, scenario, settings, startNanos, faultNanos, healNanos, samples, arrivals, executions,
				victim, scheduled, healWallMillis, seconds, ejected);
	}

	/** POSTs that did not get a 2xx answer. */
	public long failedPosts() {
		return samples.stream().filter(s -> s.post() && !ok(s)).count();
	}

	/** The n slowest requests, as "t=SECONDS METHOD STATUS MS", to explain a maximum. */
	public String slowest(int n) {
		return samples.stream()
			.sorted(java.util.Comparator.comparingLong((LoadRun.Sample s) -> s.dueNanos() - s.endNanos()))
			.limit(n)
			.map(s -> String.format(java.util.Locale.ROOT, "t=%.2fs %s %s %.0fms", (s.dueNanos() - startNanos) / 1e9,
					s.post() ? "POST" : "GET", s.error() != null ? s.error() : String.valueOf(s.status()),
					(s.endNanos() - s.dueNanos()) / 1e6))
			.collect(java.util.stream.Collectors.joining(", "));
	}

	public Histogram latencies() {
		Histogram h = new Histogram(3_600_000_000L, 3);
		for (LoadRun.Sample s : samples) {
			h.recordValue(Math.max(1, (s.endNanos() - s.dueNanos()) / 1000));
		}
		return h;
	}

	/** p99 latency of the answers that were not 2xx (how fast a failure is told), null if none. */
	public Double failedP99Millis() {
		Histogram h = new Histogram(3_600_000_000L, 3);
		for (LoadRun.Sample s : samples) {
			if (!ok(s)) {
				h.recordValue(Math.max(1, (s.endNanos() - s.dueNanos()) / 1000));
			}
		}
		return h.getTotalCount() == 0 ? null : h.getValueAtPercentile(99) / 1000.0;
	}

	public static boolean ok(LoadRun.Sample s) {
		return s.status() >= 200 && s.status() < 300;
	}

	public double successPercent() {
		long ok = samples.stream().filter(RunResult::ok).count();
		return 100.0 * ok / scheduled;
	}

	/** Success percentage of the GETs alone (retried when they fail; POSTs may not be). */
	public double getSuccessPercent() {
		long gets = samples.stream().filter(s -> !s.post()).count();
		long ok = samples.stream().filter(s -> !s.post() && ok(s)).count();
		return gets == 0 ? 100.0 : 100.0 * ok / gets;
	}

	/** Non-2xx statuses and client-side errors, by code or kind. */
	public Map<String, Integer> failures() {
		Map<String, Integer> out = new TreeMap<>();
		for (LoadRun.Sample s : samples) {
			if (!ok(s)) {
				out.merge(s.error() != null ? s.error() : String.valueOf(s.status()), 1, Integer::sum);
			}
		}
		int missing = scheduled - samples.size();
		if (missing > 0) {
			out.put("no answer", missing);
		}
		return out;
	}

	/** POST ids executed more than once by the replicas. */
	public long duplicatedPosts() {
		return executions.values().stream().filter(n -> n > 1).count();
	}

	/** POSTs answered 2xx that no replica executed. */
	public long lostPosts() {
		return samples.stream().filter(s -> s.post() && ok(s) && !executions.containsKey(s.id())).count();
	}

	public double attemptsPerRequest() {
		return (double) arrivals.size() / scheduled;
	}

	/**
	 * Seconds from the fault until the faulty replica stops receiving traffic: the end of the last
	 * 100 ms slot in the fault window in which it still got 2 or more requests (single probes do not
	 * count). 0 when it got none at all after the fault.
	 */
	public Double stopSeconds() {
		if (!scenario.singleVictim()) {
			return null;
		}
		long slot = 100_000_000L;
		int slots = (int) ((healNanos - faultNanos) / slot);
		int[] counts = new int[slots];
		for (LoadRun.Arrival a : arrivals) {
			if (a.replica().equals(victim) && a.atNanos() >= faultNanos && a.atNanos() < healNanos) {
				counts[(int) ((a.atNanos() - faultNanos) / slot)]++;
			}
		}
		int last = -1;
		for (int i = 0; i < slots; i++) {
			if (counts[i] >= 2) {
				last = i;
			}
		}
		return (last + 1) * 0.1;
	}

	/** Seconds from healing until the replica gets a request again; null if it never did in the run. */
	public Double backSeconds() {
		if (!scenario.singleVictim() && !scenario.allDown()) {
			return null;
		}
		long first = Long.MAX_VALUE;
		for (LoadRun.Arrival a : arrivals) {
			if (a.replica().equals(victim) && a.atNanos() >= healNanos) {
				first = Math.min(first, a.atNanos());
			}
		}
		return first == Long.MAX_VALUE ? null : (first - healNanos) / 1e9;
	}

	/** Per second of the run: success percentage and p99 latency in ms (for the charts). */
	public double[][] perSecond() {
		int seconds = (int) settings.duration().toSeconds();
		double[][] out = new double[2][seconds];
		Histogram[] h = new Histogram[seconds];
		int[] okCount = new int[seconds];
		int[] all = new int[seconds];
		for (LoadRun.Sample s : samples) {
			int sec = (int) ((s.dueNanos() - startNanos) / 1_000_000_000L);
			if (sec < 0 || sec >= seconds) {
				continue;
			}
			if (h[sec] == null) {
				h[sec] = new Histogram(3_600_000_000L, 2);
			}
			h[sec].recordValue(Math.max(1, (s.endNanos() - s.dueNanos()) / 1000));
			all[sec]++;
			okCount[sec] += ok(s) ? 1 : 0;
		}
		for (int i = 0; i < seconds; i++) {
			out[0][i] = all[i] == 0 ? 0 : 100.0 * okCount[i] / all[i];
			out[1][i] = h[i] == null ? 0 : h[i].getValueAtPercentile(99) / 1000.0;
		}
		return out;
	}

}
