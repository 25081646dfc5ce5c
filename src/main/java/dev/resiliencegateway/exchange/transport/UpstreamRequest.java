package dev.resiliencegateway.exchange.transport;

import java.util.concurrent.atomic.AtomicReference;

import org.apache.hc.core5.concurrent.Cancellable;
import org.apache.hc.core5.concurrent.CancellableDependency;
import org.apache.hc.core5.http.message.BasicClassicHttpRequest;

/**
 * A request to one replica that can be cancelled while it waits for a connection, connects, sends
 * or waits for the answer (the hedge's loser, a client that left): what HttpClient's
 * {@code HttpUriRequestBase} does, without parsing a {@code java.net.URI} per attempt.
 */
final class UpstreamRequest extends BasicClassicHttpRequest implements CancellableDependency {

	private final AtomicReference<Cancellable> dependency = new AtomicReference<>();

	private volatile boolean cancelled;

	UpstreamRequest(String method, ReplicaEndpoint to, String path) {
		super(method, to.host().getSchemeName(), to.authority(), path);
	}

	@Override
	public void setDependency(Cancellable cancellable) {
		dependency.set(cancellable);
		if (cancelled) {
			cancel();
		}
	}

	@Override
	public boolean cancel() {
		cancelled = true;
		Cancellable c = dependency.getAndSet(null);
		return c == null || c.cancel();
	}

	@Override
	public boolean isCancelled() {
		return cancelled;
	}

}
