package dev.resiliencegateway.exchange.transport;

import java.io.IOException;
import java.io.InputStream;
import java.util.function.BiConsumer;

import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.http.io.EofSensorInputStream;

/**
 * A replica's answer on its leased connection: the body is read through an {@link EofSensorInputStream}
 * so that reading it to its end returns the connection ({@link UpstreamLease}), and anything else closes it.
 */
final class UpstreamResponse implements UpstreamClient.Response {

	private final ClassicHttpResponse response;

	private final UpstreamRequest request;

	private final UpstreamLease lease;

	private final InputStream body;

	UpstreamResponse(ClassicHttpResponse response, UpstreamRequest request, UpstreamLease lease) throws IOException {
		this.response = response;
		this.request = request;
		this.lease = lease;
		HttpEntity entity = response.getEntity();
		this.body = entity == null ? null : new EofSensorInputStream(entity.getContent(), lease);
		if (body == null) {
			lease.release(); // nothing to read: the connection is free now
		}
	}

	/** HttpClient's response, for {@link ResponseFraming}. */
	ClassicHttpResponse response() {
		return response;
	}

	@Override
	public int status() {
		return response.getCode();
	}

	@Override
	public String header(String name) {
		Header h = response.getFirstHeader(name);
		return h == null ? null : h.getValue();
	}

	@Override
	public void forEachHeader(BiConsumer<String, String> action) {
		for (Header h : response.getHeaders()) {
			action.accept(h.getName(), h.getValue());
		}
	}

	@Override
	public InputStream body() {
		return body;
	}

	@Override
	public void release() {
		// after the body's end the lease was released by the stream; before it, the connection closes
		lease.discard();
	}

	@Override
	public void abort() {
		request.cancel();
		lease.discard();
	}

}
