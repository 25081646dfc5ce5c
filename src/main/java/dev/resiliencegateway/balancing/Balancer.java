package dev.resiliencegateway.balancing;

import java.util.List;
import java.util.function.Predicate;
import java.util.random.RandomGenerator;

/**
 * Power of two choices: draw two distinct candidates with probability proportional to their
 * effective weight (static weight x health x slow start), keep the one with the lower
 * {@link ReplicaLoad#cost cost} (peak-EWMA latency x (in flight + 1)).
 *
 * <p>Costs within a factor of {@value #TIE} of each other count as a tie, won by the first draw: sub-
 * millisecond differences between healthy replicas are noise, and sending all light traffic to the
 * one that happens to be fastest would leave the others cold and unobserved, which blinds passive
 * detection. A replica twice as slow, or with one more request in flight than an idle peer, loses.
 *
 * <p>A pure function of its arguments: the caller passes an immutable candidate list, the time and
 * the random source; nothing here reads a clock or takes a lock.
 */
public final class Balancer {

	/** Cost ratio below which two candidates are equally good. */
	static final double TIE = 2.0;

	private Balancer() {
	}

	/**
	 * @param candidates replicas that may take the request
	 * @param excluded replicas not to use (already tried); ignored when it would exclude every candidate
	 * @return the chosen candidate, or {@code null} when there are none
	 */
	public static <C extends Candidate> C choose(List<C> candidates, Predicate<? super C> excluded, long now,
			RandomGenerator random) {
		return exact(candidates, excluded, now, random);
	}

	/** Pools above this size draw by sampling; at or below it every weight is computed (exact, and cheap). */
	static final int SAMPLE_ABOVE = 16;

	/** Rejected draws after which sampling gives up and every weight is computed. */
	static final int MAX_DRAWS = 64;

	/**
	 * The same choice, in time that does not grow with the pool: a draw picks a candidate uniformly
	 * and keeps it with probability effective weight / {@code maxWeight} (rejection sampling), which
	 * gives each candidate exactly the probability the weighted draw gives it, after looking at one
	 * or two candidates when weights are alike. Where draws keep failing (most candidates excluded or
	 * very light) it falls back to computing every weight. Written here because no balancing
	 * library offers weighted P2C over candidates whose weights change per request.
	 *
	 * @param maxWeight an upper bound on every candidate's effective weight (their largest static weight)
	 */
	public static <C extends Candidate> C choose(List<C> candidates, double maxWeight, Predicate<? super C> excluded,
			long now, RandomGenerator random) {
		int n = candidates.size();
		if (n > SAMPLE_ABOVE && maxWeight > 0) {
			int first = sample(candidates, maxWeight, excluded, -1, now, random);
			if (first >= 0) {
				int second = sample(candidates, maxWeight, excluded, first, now, random);
				if (second >= 0) {
					return better(candidates.get(first), candidates.get(second), now);
				}
			}
		}
		return exact(candidates, excluded, now, random);
	}

	/** One weighted draw by rejection, other than {@code not}; -1 after {@link #MAX_DRAWS} rejections. */
	private static <C extends Candidate> int sample(List<C> candidates, double maxWeight, Predicate<? super C> excluded,
			int not, long now, RandomGenerator random) {
		int n = candidates.size();
		for (int draw = 0; draw < MAX_DRAWS; draw++) {
			int i = random.nextInt(n);
			if (i == not) {
				continue;
			}
			C c = candidates.get(i);
			if (!excluded.test(c) && random.nextDouble() * maxWeight < c.effectiveWeight(now)) {
				return i;
			}
		}
		return -1;
	}

	private static <C extends Candidate> C better(C a, C b, long now) {
		double costA = a.load().cost(now);
		double costB = b.load().cost(now);
		if (costA < costB * TIE && costB < costA * TIE) {
			return a;
		}
		return costA < costB ? a : b;
	}

	private static <C extends Candidate> C exact(List<C> candidates, Predicate<? super C> excluded, long now,
			RandomGenerator random) {
		int n = candidates.size();
		if (n == 0) {
			return null;
		}
		double[] weights = new double[n];
		double total = 0;
		int allowed = 0;
		for (int i = 0; i < n; i++) {
			C c = candidates.get(i);
			if (!excluded.test(c)) {
				weights[i] = c.effectiveWeight(now);
				total += weights[i];
				allowed++;
			}
		}
		if (allowed == 0) {
			// every candidate was tried: fall back to all of them
			for (int i = 0; i < n; i++) {
				weights[i] = candidates.get(i).effectiveWeight(now);
				total += weights[i];
			}
			allowed = n;
		}
		int first = draw(weights, total, random);
		if (allowed == 1) {
			return candidates.get(first);
		}
		double firstWeight = weights[first];
		weights[first] = 0;
		int second = draw(weights, total - firstWeight, random);
		weights[first] = firstWeight;
		return better(candidates.get(first), candidates.get(second), now);
	}

	private static int draw(double[] weights, double total, RandomGenerator random) {
		double x = random.nextDouble() * total;
		int last = -1;
		for (int i = 0; i < weights.length; i++) {
			if (weights[i] > 0) {
				last = i;
				x -= weights[i];
				if (x < 0) {
					return i;
				}
			}
		}
		return last;
	}

}
