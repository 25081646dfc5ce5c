package dev.resiliencegateway.exchange.transport;

import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManager;
import org.apache.hc.client5.http.io.ConnectionEndpoint;
import org.apache.hc.client5.http.io.ManagedHttpClientConnection;
import org.apache.hc.core5.http.EndpointDetails;
import org.apache.hc.core5.http.io.EofSensorWatcher;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.util.TimeValue;

/**
 * One attempt's leased connection: back to the pool once the body was read to its end (when the
 * response allows reuse), closed in every other case: a body abandoned or cut off, an attempt
 * aborted or cancelled.
 */
final class UpstreamLease implements EofSensorWatcher {

	private final PoolingHttpClientConnectionManager manager;

	private final ConnectionEndpoint endpoint;

	private final AtomicBoolean ended = new AtomicBoolean();

	private volatile TimeValue keepAlive; // null: the connection may not be reused

	/** The connection the request went out on, once known. */
	private volatile ManagedHttpClientConnection connection;

	UpstreamLease(PoolingHttpClientConnectionManager manager, ConnectionEndpoint endpoint) {
		this.manager = manager;
		this.endpoint = endpoint;
	}

	void connectedTo(ManagedHttpClientConnection connection) {
		this.connection = connection;
	}

	void reusableFor(TimeValue keepAlive) {
		this.keepAlive = keepAlive;
	}

	/**
	 * Returns the connection: pooled when the response allowed it, the replica sent nothing beyond it
	 * ({@link UnsolicitedBytes}) and it has not carried {@link HttpUpstreamClient#MAX_REQUESTS_PER_CONNECTION} requests,
	 * else closed.
	 */
	void release() {
		TimeValue k = keepAlive;
		ManagedHttpClientConnection c = connection;
		// only HttpClient's buffer here: bytes in the socket stay there until the connection's next
		// lease, which looks at the socket before anything is sent on it
		if (k == null || c != null && (UnsolicitedBytes.buffered(c) || worn(c))) {
			discard();
		}
		else if (ended.compareAndSet(false, true)) {
			manager.release(endpoint, null, k);
		}
	}

	private static boolean worn(ManagedHttpClientConnection c) {
		EndpointDetails details = c.getEndpointDetails();
		return details != null && details.getRequestCount() >= HttpUpstreamClient.MAX_REQUESTS_PER_CONNECTION;
	}

	/** Closes the connection, never to be reused. */
	void discard() {
		if (ended.compareAndSet(false, true)) {
			endpoint.close(CloseMode.IMMEDIATE);
			manager.release(endpoint, null, TimeValue.ZERO_MILLISECONDS);
		}
	}

	@Override
	public boolean eofDetected(InputStream wrapped) throws IOException {
		try {
			wrapped.close(); // a chunked body's trailers
			release();
		}
		catch (IOException | RuntimeException e) {
			discard();
			throw e;
		}
		return false;
	}

	@Override
	public boolean streamClosed(InputStream wrapped) {
		discard(); // closed before its end: the rest is never read into a pooled connection
		return false;
	}

	@Override
	public boolean streamAbort(InputStream wrapped) {
		discard();
		return false;
	}

}
