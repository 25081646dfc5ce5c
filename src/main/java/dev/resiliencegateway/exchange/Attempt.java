package dev.resiliencegateway.exchange;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import dev.resiliencegateway.exchange.transport.UpstreamClient;
import dev.resiliencegateway.exchange.transport.UpstreamClient.Result;
import dev.resiliencegateway.health.ReplicaHealth;
import dev.resiliencegateway.outcome.Outcome;

/**
 * One attempt to one replica. Its call is visible before it answers, so a hedge or a gone client can
 * cancel it; it {@link #complete completes} exactly once, whichever path ends it.
 */
final class Attempt {

	final Route route;

	final ReplicaHealth replica;

	/** Sent to an ejected replica to find out whether it has healed. */
	final boolean probe;

	volatile long t0;

	private volatile UpstreamClient.Call call;

	volatile boolean cancelled;

	volatile Result result;

	private final AtomicBoolean completed = new AtomicBoolean();

	/** Its number within the request and why it was sent (first, retry, hedge, probe): for its span. */
	int number = 1;

	String kind = "first";

	/** Its span while tracing is on, else {@code null}. */
	private volatile AttemptTracing.AttemptSpan span;

	Attempt(Route route, ReplicaHealth replica, boolean probe) {
		this.route = route;
		this.replica = replica;
		this.probe = probe;
	}

	/** Sends the attempt on the calling thread and waits for the response head (or the failure). */
	Attempt send(UpstreamClient client, ExchangeRequest request, long timeoutNanos, boolean atMostOnce) {
		t0 = route.ticker.nanos();
		replica.load().begin(t0);
		List<String> headers = request.headers;
		if (request.traceContext != null) {
			AttemptTracing.AttemptSpan s = route.tracing.start(request.traceContext, route.id, route.pool.name(),
					replica.replica().id(), number, kind);
			if (s != null) {
				span = s;
				headers = s.headers(headers);
			}
		}
		UpstreamClient.Call c = client.prepare(route.pool.name(), replica.replica(), request.method, request.target,
				headers, request.body, timeoutNanos);
		if (c == null) {
			result = Result.failed(Outcome.CANCELLED, "malformed request target " + request.target);
			return this;
		}
		call = c;
		request.body.feeding(c);
		request.waiting(this);
		if (cancelled || request.clientGone) {
			c.cancel();
		}
		try {
			result = client.execute(c, atMostOnce);
		}
		finally {
			request.answered(this);
		}
		if (result.good()) {
			route.latencies.record(route.ticker.nanos() - t0);
		}
		return this;
	}

	boolean good() {
		return result.good();
	}

	void cancel() {
		cancelled = true;
		UpstreamClient.Call c = call;
		if (c != null) {
			c.cancel();
		}
	}

	/**
	 * Ends the attempt: the replica's load, its health model and the metrics learn the outcome.
	 * Only the first call counts, so paths that may meet (a relay, a hedge race, a gone client) need
	 * not agree on who ends it.
	 *
	 * @return whether this call ended it
	 */
	boolean complete(Outcome outcome) {
		if (!completed.compareAndSet(false, true)) {
			return false;
		}
		replica.load().end(t0);
		route.pool.record(replica, outcome, route.ticker.nanos() - t0, probe);
		route.metrics.attempt(route.id, replica.replica().id(), outcome);
		AttemptTracing.AttemptSpan s = span;
		if (s != null) {
			Result r = result;
			s.end(outcome, r != null && r.answered() ? r.status() : 0);
		}
		return true;
	}

}
