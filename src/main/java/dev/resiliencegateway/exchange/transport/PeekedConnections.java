package dev.resiliencegateway.exchange.transport;

import java.io.IOException;
import java.net.Proxy;
import java.net.Socket;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;

import org.apache.hc.client5.http.DnsResolver;
import org.apache.hc.client5.http.SchemePortResolver;
import org.apache.hc.client5.http.impl.io.DefaultHttpClientConnectionOperator;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.client5.http.io.HttpClientConnectionOperator;
import org.apache.hc.client5.http.io.ManagedHttpClientConnection;
import org.apache.hc.client5.http.ssl.TlsSocketStrategy;
import org.apache.hc.core5.http.ClassicHttpRequest;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.EndpointDetails;
import org.apache.hc.core5.http.HttpException;
import org.apache.hc.core5.http.ProtocolVersion;
import org.apache.hc.core5.http.URIScheme;
import org.apache.hc.core5.http.config.RegistryBuilder;
import org.apache.hc.core5.http.io.HttpConnectionFactory;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.util.Timeout;

/**
 * The at-most-once pool's connections, checked for a close by the replica without waiting.
 *
 * <p>A request that must not reach a replica twice is only sent on a connection checked just now:
 * a replica that crashed or timed the connection out leaves it closed, and a POST sent on it fails
 * in a way that cannot be told from "executed, then crashed". HttpClient's check
 * ({@code validateAfterInactivity} 0) is a read with a 1 ms timeout, so on a healthy connection every
 * such request waited 1 ms for nothing (docs/performance.md). Java's blocking sockets cannot look
 * without waiting; a socket made from a {@link SocketChannel} can: switched to non-blocking for one
 * read, -1 means the replica closed it, 0 that nothing came, and a byte that nobody asked for (a
 * replica's early 408, garbage) makes the connection as unusable as a close. TLS connections keep
 * HttpClient's check (a raw read would take TLS records from under the TLS layer). No library
 * offers this check: HttpClient's is the 1 ms read, and its async client would replace the whole
 * transport.
 */
final class PeekedConnections {

	private PeekedConnections() {
	}

	/** A pool builder whose plain sockets come from {@link SocketChannel}s (otherwise as HttpClient builds it). */
	static PoolingHttpClientConnectionManagerBuilder builder() {
		return new PoolingHttpClientConnectionManagerBuilder() {
			@Override
			protected HttpClientConnectionOperator createConnectionOperator(SchemePortResolver ports, DnsResolver dns,
					TlsSocketStrategy tls) {
				return new DefaultHttpClientConnectionOperator(PeekedConnections::socket, ports, dns,
						RegistryBuilder.<TlsSocketStrategy>create().register(URIScheme.HTTPS.id, tls).build());
			}
		};
	}

	private static Socket socket(Proxy proxy) throws IOException {
		return proxy == null || proxy.type() == Proxy.Type.DIRECT ? SocketChannel.open().socket() : new Socket(proxy);
	}

	/** Wraps the connections a factory makes so that their stale check does not wait. */
	static HttpConnectionFactory<ManagedHttpClientConnection> of(HttpConnectionFactory<ManagedHttpClientConnection> factory) {
		return socket -> new Peeked(factory.createConnection(socket));
	}

	/**
	 * Whether a kept-alive connection can no longer carry a request, without waiting: {@code null} when
	 * the socket cannot be looked at that way (not channel-based, or TLS over it).
	 */
	static Boolean closedOrDirty(Socket socket) {
		SocketChannel channel = socket == null || socket instanceof SSLSocket ? null : socket.getChannel();
		if (channel == null) {
			return null;
		}
		try {
			synchronized (channel.blockingLock()) {
				channel.configureBlocking(false);
				try {
					return channel.read(ByteBuffer.allocate(1)) != 0;
				}
				finally {
					channel.configureBlocking(true);
				}
			}
		}
		catch (IOException e) {
			return true; // reset, or closed under us
		}
	}

	/** Delegates everything to HttpClient's connection, except the stale check. */
	static final class Peeked implements ManagedHttpClientConnection {

		private final ManagedHttpClientConnection delegate;

		Peeked(ManagedHttpClientConnection delegate) {
			this.delegate = delegate;
		}

		ManagedHttpClientConnection delegate() {
			return delegate;
		}

		@Override
		public boolean isStale() throws IOException {
			if (!delegate.isOpen()) {
				return true;
			}
			Boolean closed = closedOrDirty(delegate.getSocket());
			return closed != null ? closed : delegate.isStale();
		}

		@Override
		public void bind(Socket socket) throws IOException {
			delegate.bind(socket);
		}

		@Override
		public void bind(SSLSocket sslSocket, Socket socket) throws IOException {
			delegate.bind(sslSocket, socket);
		}

		@Override
		public Socket getSocket() {
			return delegate.getSocket();
		}

		@Override
		public SSLSession getSSLSession() {
			return delegate.getSSLSession();
		}

		@Override
		public void passivate() {
			delegate.passivate();
		}

		@Override
		public void activate() {
			delegate.activate();
		}

		@Override
		public boolean isConsistent() {
			return delegate.isConsistent();
		}

		@Override
		public void sendRequestHeader(ClassicHttpRequest request) throws HttpException, IOException {
			delegate.sendRequestHeader(request);
		}

		@Override
		public void terminateRequest(ClassicHttpRequest request) throws HttpException, IOException {
			delegate.terminateRequest(request);
		}

		@Override
		public void sendRequestEntity(ClassicHttpRequest request) throws HttpException, IOException {
			delegate.sendRequestEntity(request);
		}

		@Override
		public ClassicHttpResponse receiveResponseHeader() throws HttpException, IOException {
			return delegate.receiveResponseHeader();
		}

		@Override
		public void receiveResponseEntity(ClassicHttpResponse response) throws HttpException, IOException {
			delegate.receiveResponseEntity(response);
		}

		@Override
		public boolean isDataAvailable(Timeout timeout) throws IOException {
			return delegate.isDataAvailable(timeout);
		}

		@Override
		public void flush() throws IOException {
			delegate.flush();
		}

		@Override
		public void close() throws IOException {
			delegate.close();
		}

		@Override
		public void close(CloseMode mode) {
			delegate.close(mode);
		}

		@Override
		public EndpointDetails getEndpointDetails() {
			return delegate.getEndpointDetails();
		}

		@Override
		public SocketAddress getLocalAddress() {
			return delegate.getLocalAddress();
		}

		@Override
		public SocketAddress getRemoteAddress() {
			return delegate.getRemoteAddress();
		}

		@Override
		public ProtocolVersion getProtocolVersion() {
			return delegate.getProtocolVersion();
		}

		@Override
		public boolean isOpen() {
			return delegate.isOpen();
		}

		@Override
		public Timeout getSocketTimeout() {
			return delegate.getSocketTimeout();
		}

		@Override
		public void setSocketTimeout(Timeout timeout) {
			delegate.setSocketTimeout(timeout);
		}

		@Override
		public String toString() {
			return delegate.toString();
		}

	}

}
