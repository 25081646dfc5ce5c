package dev.resiliencegateway.checks;

import java.util.ArrayList;
import java.util.List;

import dev.resiliencegateway.health.ReplicaHealth;
import dev.resiliencegateway.health.ReplicaState;

/**
 * Which replicas one round of a pool's active checks asks ({@code health-check.max-per-interval}).
 * Every replica out of rotation or ramping up (ejected, probing, drained, recovering) is asked each
 * round, since its way back goes through its checks; the healthy ones share what is left of the
 * budget in turns, from where the last round stopped, so in a pool larger than the budget each is
 * asked every {@code ceil(healthy / room)} rounds. Replicas the checks marked down are left to their
 * own schedule ({@link ReplicaHealth}), as before. A healthy replica that fails between its turns is
 * still found by the passive detection as soon as requests meet it; what the budget bounds is the
 * checks' own cost: a 1000-replica pool asked every replica every second, 1000 checks a second from
 * every copy of the gateway, and its CPU per request was 1.36x a 3-replica pool's against 1.21x with
 * the budget, side by side (docs/performance.md, "Cost does not grow with the pool").
 *
 * <p>Written by hand: Envoy, nginx and HAProxy check every host every interval; none offers a budget to
 * borrow. Used by the pools' background thread only.
 */
public final class ActiveChecksBudget {

	/** Where the next round starts among the healthy replicas. */
	private int next;

	/** The replicas to ask this round, at most {@code max} unless more than that are out of rotation. */
	public List<ReplicaHealth> select(List<ReplicaHealth> replicas, int max) {
		List<ReplicaHealth> chosen = new ArrayList<>();
		List<ReplicaHealth> healthy = new ArrayList<>();
		for (ReplicaHealth replica : replicas) {
			ReplicaState state = replica.state();
			if (state == ReplicaState.DOWN) {
				continue;
			}
			(state == ReplicaState.HEALTHY ? healthy : chosen).add(replica);
		}
		int n = healthy.size();
		if (n == 0 || chosen.size() + n <= max) {
			chosen.addAll(healthy);
			return chosen;
		}
		int turns = Math.min(Math.max(0, max - chosen.size()), n);
		int from = next < n ? next : 0;
		for (int i = 0; i < turns; i++) {
			chosen.add(healthy.get((from + i) % n));
		}
		next = (from + turns) % n;
		return chosen;
	}

}
