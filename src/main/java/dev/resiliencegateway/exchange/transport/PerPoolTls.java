package dev.resiliencegateway.exchange.transport;

import java.io.IOException;
import java.net.Socket;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import javax.net.ssl.SSLSocket;

import org.apache.hc.client5.http.ssl.DefaultClientTlsStrategy;
import org.apache.hc.client5.http.ssl.HostnameVerificationPolicy;
import org.apache.hc.client5.http.ssl.NoopHostnameVerifier;
import org.apache.hc.client5.http.ssl.TlsSocketStrategy;
import org.apache.hc.core5.http.protocol.HttpContext;

/**
 * The TLS handshake of a new connection, with the settings of the pool whose request opens it:
 * HttpClient takes one TLS strategy per connection manager, the gateway has one manager for every
 * pool. (A pooled connection is keyed by host and port: two pools that name the same replica
 * address with different TLS settings would share connections.)
 */
final class PerPoolTls implements TlsSocketStrategy {

	/** Where {@link HttpUpstreamClient#execute} leaves the attempt's {@link UpstreamTls} for this strategy. */
	static final String ATTRIBUTE = "resilience.gateway.upstream-tls";

	/**
	 * The JDK's default TLS context, made on the first TLS connection of a pool without TLS settings
	 * rather than at start: loading the default trust store was most of the 83 ms the upstream client
	 * took to make (docs/performance.md, "Start"), for pools that mostly speak plain HTTP.
	 */
	private static final class Standard {

		static final TlsSocketStrategy STRATEGY = DefaultClientTlsStrategy.createDefault();

	}

	private final Map<UpstreamTls, TlsSocketStrategy> strategies = new ConcurrentHashMap<>();

	@Override
	public SSLSocket upgrade(Socket socket, String target, int port, Object attachment, HttpContext context)
			throws IOException {
		Object tls = context == null ? null : context.getAttribute(ATTRIBUTE);
		TlsSocketStrategy strategy = tls instanceof UpstreamTls t ? strategies.computeIfAbsent(t,
				k -> k.verifyHostname() ? new DefaultClientTlsStrategy(k.context())
						: new DefaultClientTlsStrategy(k.context(), HostnameVerificationPolicy.CLIENT,
								NoopHostnameVerifier.INSTANCE))
				: Standard.STRATEGY;
		return strategy.upgrade(socket, target, port, attachment, context);
	}

}
