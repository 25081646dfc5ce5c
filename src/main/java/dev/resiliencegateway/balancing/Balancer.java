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

	/**
	 * Weighted P2C over every candidate. No array of weights: pools of a few replicas are the common
	 * case, and computing a weight again costs less than an allocation per request (JMH: 40 B per
	 * choice with 3 replicas before, none after; docs/performance.md). The exclusion is asked again
	 * in each pass; a candidate whose answer changed in between (its in-flight limit reached) is
	 * simply not drawn, and a draw that finds none gives {@code null} (first) or the first (second).
	 */
	private static <C extends Candidate> C exact(List<C> candidates, Predicate<? super C> excluded, long now,
			RandomGenerator random) {
		int n = candidates.size();
		if (n == 0) {
			return null;
		}
		double total = 0;
		int allowed = 0;
		for (int i = 0; i < n; i++) {
			C c = candidates.get(i);
			if (!excluded.test(c)) {
				total += c.effectiveWeight(now);
				allowed++;
			}
		}
		Predicate<? super C> skip = excluded;
		if (allowed == 0) {
			// every candidate was tried: fall back to all of them
			skip = null;
			for (int i = 0; i < n; i++) {
				total += candidates.get(i).effectiveWeight(now);
			}
			allowed = n;
		}
		int first = draw(candidates, skip, -1, total, now, random);
		if (first < 0) {
			return null;
		}
		if (allowed == 1) {
			return candidates.get(first);
		}
		int second = draw(candidates, skip, first, total - candidates.get(first).effectiveWeight(now), now, random);
		if (second < 0) {
			return candidates.get(first);
		}
		return better(candidates.get(first), candidates.get(second), now);
	}

	/** One weighted draw among the candidates not skipped and other than {@code not}; -1 when none has weight. */
	private static <C extends Candidate> int draw(List<C> candidates, Predicate<? super C> skip, int not, double total,
			long now, RandomGenerator random) {
		double x = random.nextDouble() * total;
		int last = -1;
		for (int i = 0; i < candidates.size(); i++) {
			if (i == not) {
				continue;
			}
			C c = candidates.get(i);
			if (skip != null && skip.test(c)) {
				continue;
			}
			double w = c.effectiveWeight(now);
			if (w > 0) {
				last = i;
				x -= w;
				if (x < 0) {
					return i;
				}
			}
		}
		return last;
	}

}
