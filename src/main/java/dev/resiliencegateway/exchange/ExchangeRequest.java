package dev.resiliencegateway.exchange;

import java.util.ArrayList;
import java.util.List;

import dev.resiliencegateway.edge.RequestEnd;
import dev.resiliencegateway.exchange.transport.RequestBody;
import dev.resiliencegateway.health.ReplicaHealth;
import dev.resiliencegateway.outcome.Outcome;
import dev.resiliencegateway.retry.RetryRule;

/**
 * One client request on its way through the exchange: what was asked (route, id, method, target,
 * headers, body), by when (deadline), and what has been tried (replicas, attempts, the last failure).
 */
final class ExchangeRequest implements RequestEnd {

	final Route route;

	final String id;

	final long start;

	final long deadline;

	final String method;

	final String target;

	final List<String> headers;

	/** May be sent again after an attempt that may have reached a replica (timeout, reset, 5xx). */
	final boolean idempotent;

	/**
	 * May run on two replicas at once (hedged, or as an ejected replica's probe): idempotent by its
	 * method. A POST with an {@code Idempotency-Key} may be retried where the replica deduplicates,
	 * but never raced: two concurrent copies would both execute before either was recorded.
	 */
	final boolean raceable;

	final RequestBody body;

	/** The claimed {@code Idempotency-Key} of a route that keeps keys, or {@code null}. */
	final KeptAnswers.Ticket ticket;

	/** Some attempt may have reached a replica (anything but a refused connection). */
	boolean maybeSent;

	/** Replicas tried so far: a retry or a hedge goes to another one. */
	final List<ReplicaHealth> tried = new ArrayList<>(4);

	/**
	 * Attempts waiting for their replica now (two while hedged); guarded by itself. A list under a lock
	 * nobody else wants: only a gone client's watcher reads it from another thread, so a concurrent set
	 * per request was paying for contention that does not happen.
	 */
	private final List<Attempt> live = new ArrayList<>(2);

	int attempts;

	Outcome last;

	String lastDetail;

	/** The answer handed to Spring MVC to write, once there is one. */
	RelayedResponse relayedResponse;

	/**
	 * The answer is being relayed: the relay ends the request (bulkhead, metrics). Read from the
	 * relayed answer itself rather than kept as a flag set before it exists, so a relay that fails
	 * before its answer is built leaves the request for the exchange to end.
	 */
	boolean relayed() {
		return relayedResponse != null;
	}

	volatile boolean clientGone;

	/** The pool's comebacks when this request last started trying replicas (see {@link RideThrough}). */
	long seenComebacks;

	/** Time spent waiting for a replica to come back, in all. */
	long rideThroughNanos;

	/** Released by ride-through: its attempt holds a release slot until it ends. */
	boolean rideThroughSlot;

	/** Why ride-through did not save the request, for its problem detail; {@code null} when it did not wait. */
	String rideThroughNote;

	/** Waiting for a replica to come back now. */
	volatile boolean riding;

	ExchangeRequest(Route route, String id, long start, String method, String target, List<String> headers,
			boolean idempotent, boolean raceable, RequestBody body, KeptAnswers.Ticket ticket) {
		this.route = route;
		this.id = id;
		this.start = start;
		this.deadline = start + route.policy.deadline().toNanos();
		this.method = method;
		this.target = target;
		this.headers = headers;
		this.idempotent = idempotent;
		this.raceable = raceable && idempotent;
		this.body = body;
		this.ticket = ticket;
		this.seenComebacks = route.pool.comebacks();
	}

	/** The dispatch returned: an answer that was never written ends its attempt now. */
	@Override
	public void requestEnded() {
		RelayedResponse r = relayedResponse;
		if (r != null) {
			r.abandonIfUnwritten();
		}
	}

	/** An attempt to {@code a}'s replica starts (first try, retry or hedge). */
	void started(Attempt a) {
		tried.add(a.replica);
		attempts++;
		a.number = attempts;
		a.kind = a.probe ? "probe" : attempts == 1 ? "first" : "retry";
	}

	/** The request's trace context when tracing is on (the parent of each attempt's span), else {@code null}. */
	Object traceContext;

	/** Whether a hedge was sent (the access log's {@code hedged}). */
	volatile boolean hedged;

	/**
	 * The route's part of the access log line ({@code edge.AccessLog}): route, pool, the replicas
	 * tried (since the last ride-through release, which starts the choice over), attempts, hedged.
	 * Built only when a line is written.
	 */
	@Override
	public String toString() {
		StringBuilder b = new StringBuilder(128).append("route=").append(route.id).append(" pool=")
			.append(route.pool.name()).append(" replicas=");
		List<ReplicaHealth> replicas = List.copyOf(tried);
		if (replicas.isEmpty()) {
			b.append('-');
		}
		for (int i = 0; i < replicas.size(); i++) {
			b.append(i == 0 ? "" : ",").append(replicas.get(i).replica().id());
		}
		return b.append(" attempts=").append(attempts).append(" hedged=").append(hedged).toString();
	}

	/** Whether the request may be sent to more replicas than have been tried. */
	boolean attemptsLeft() {
		return attempts < route.policy.maxAttempts();
	}

	/** The attempt failed (no answer, or one not relayed): the client's answer stands for the last one. */
	void failed(Outcome outcome, String detail) {
		this.last = outcome;
		this.lastDetail = detail;
	}

	/** What the retry rule needs to know of this request now. */
	RetryRule.Request forRule() {
		return new RetryRule.Request(idempotent, body.replayable(), body.touched(), attempts, deadline);
	}

	/** {@code a} now waits for its replica: a gone client cancels it. */
	void waiting(Attempt a) {
		synchronized (live) {
			live.add(a);
		}
	}

	/** {@code a} no longer waits for its replica. */
	void answered(Attempt a) {
		synchronized (live) {
			live.remove(a);
		}
	}

	/** The client closed its connection: every attempt still waiting is cancelled, none is started. */
	void clientGone() {
		clientGone = true;
		Attempt[] waitingNow;
		synchronized (live) {
			waitingNow = live.toArray(new Attempt[0]);
		}
		for (Attempt a : waitingNow) {
			a.cancel();
		}
		if (riding) {
			route.rideThrough.wakeEveryone();
		}
	}

}
