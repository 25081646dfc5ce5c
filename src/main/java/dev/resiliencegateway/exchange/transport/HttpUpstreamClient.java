package dev.resiliencegateway.exchange.transport;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.Socket;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

import javax.net.ssl.SSLSocket;
import java.util.function.BiConsumer;
import java.util.concurrent.TimeUnit;

import org.apache.hc.client5.http.ConnectTimeoutException;
import org.apache.hc.client5.http.classic.methods.HttpUriRequestBase;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.protocol.HttpClientContext;
import org.apache.hc.client5.http.ssl.DefaultClientTlsStrategy;
import org.apache.hc.client5.http.ssl.HostnameVerificationPolicy;
import org.apache.hc.client5.http.ssl.NoopHostnameVerifier;
import org.apache.hc.client5.http.ssl.TlsSocketStrategy;
import org.apache.hc.core5.http.protocol.HttpContext;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.ManagedHttpClientConnectionFactory;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManager;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.EndpointDetails;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.http.HttpHost;
import org.apache.hc.core5.http.NoHttpResponseException;
import org.apache.hc.core5.http.config.Http1Config;
import org.apache.hc.core5.http.io.SocketConfig;
import org.apache.hc.core5.http.io.entity.InputStreamEntity;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.pool.PoolConcurrencyPolicy;
import org.apache.hc.core5.pool.PoolReusePolicy;
import org.apache.hc.core5.util.TimeValue;
import org.apache.hc.core5.util.Timeout;

import dev.resiliencegateway.config.GatewayConfig.UpstreamSettings;
import dev.resiliencegateway.outcome.Outcome;
import dev.resiliencegateway.pool.Replica;

/**
 * The upstream hop: Apache HttpClient 5 (classic, blocking) over a pool of keep-alive connections
 * per replica. Blocking I/O costs nothing on virtual threads (JDK 21+) and avoids the JDK client's
 * thread-per-request completion on JDK 17. Automatic retries, redirects, cookies and decompression
 * are off: the exchange decides about retries, and bytes pass through untouched.
 */
public final class HttpUpstreamClient implements UpstreamClient {

	/** A prepared request for one replica. */
	private record HttpCall(Replica replica, HttpUriRequestBase request, UpstreamTls tls) implements Call {

		@Override
		public void cancel() {
			request.cancel();
		}

	}

	private record HttpResponse(ClassicHttpResponse response, HttpUriRequestBase request) implements Response {

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
		public InputStream body() throws IOException {
			HttpEntity entity = response.getEntity();
			return entity == null ? null : entity.getContent();
		}

		@Override
		public void release() {
			closeQuietly(response);
		}

		@Override
		public void abort() {
			request.cancel();
			closeQuietly(response);
		}

		private static void closeQuietly(ClassicHttpResponse response) {
			try {
				response.close();
			}
			catch (IOException ignored) {
				// closing a connection we give up on: nothing left to do
			}
		}

	}

	/** Sends of a request without a body again after {@link #closedWhileIdle the keep-alive race}. */
	static final int MAX_STALE_RESENDS = 2;

	private final int maxResponseHeaderSize;

	private final PoolingHttpClientConnectionManager connections;

	private final CloseableHttpClient client;

	private final PoolingHttpClientConnectionManager checkedConnections;

	private final CloseableHttpClient checkedClient;

	/** Each pool's TLS to its https replicas; {@code null} for the JDK's trusted CAs with host names checked. */
	private final Function<String, UpstreamTls> tlsOfPool;

	public HttpUpstreamClient(UpstreamSettings settings) {
		this(settings, pool -> null);
	}

	public HttpUpstreamClient(UpstreamSettings settings, Function<String, UpstreamTls> tlsOfPool) {
		this.maxResponseHeaderSize = settings.maxResponseHeaderSize();
		this.tlsOfPool = tlsOfPool;
		this.connections = connectionManager(settings, TimeValue.ofSeconds(2));
		this.client = client(settings, connections);
		// Requests that must not reach a replica twice get their own pool, whose connections are checked
		// for a close by the replica every time they are leased (a 1 ms read). A replica that crashed
		// leaves closed keep-alive connections behind; a POST sent on one fails in a way that cannot be
		// told apart from "executed, then crashed", so it could not be retried. Checked, it is never sent.
		this.checkedConnections = connectionManager(settings, TimeValue.ZERO_MILLISECONDS);
		this.checkedClient = client(settings, checkedConnections);
	}

	private static PoolingHttpClientConnectionManager connectionManager(UpstreamSettings settings,
			TimeValue validateAfterInactivity) {
		return PoolingHttpClientConnectionManagerBuilder.create()
			.setMaxConnTotal(settings.maxConnections())
			.setMaxConnPerRoute(settings.maxConnectionsPerReplica())
			.setPoolConcurrencyPolicy(PoolConcurrencyPolicy.LAX)
			.setConnPoolPolicy(PoolReusePolicy.LIFO)
			.setDefaultSocketConfig(SocketConfig.custom().setTcpNoDelay(true).build())
			.setTlsSocketStrategy(new PerPoolTls())
			// a response head line or field count beyond these fails the attempt (502); the total size
			// is checked after parsing (ResponseFraming), below Tomcat's buffer for relaying it
			.setConnectionFactory(ManagedHttpClientConnectionFactory.builder()
				.http1Config(Http1Config.custom().setMaxLineLength(64 * 1024).setMaxHeaderCount(200).build())
				.build())
			.setDefaultConnectionConfig(ConnectionConfig.custom()
				.setConnectTimeout(Timeout.of(settings.connectTimeout()))
				.setValidateAfterInactivity(validateAfterInactivity)
				.build())
			.build();
	}

	private static CloseableHttpClient client(UpstreamSettings settings, PoolingHttpClientConnectionManager connections) {
		return HttpClients.custom()
			.setConnectionManager(connections)
			.disableAutomaticRetries()
			.disableRedirectHandling()
			.disableCookieManagement()
			.disableContentCompression()
			.disableAuthCaching()
			.disableConnectionState()
			.disableDefaultUserAgent()
			.evictIdleConnections(TimeValue.of(settings.idleTimeout()))
			.setDefaultRequestConfig(RequestConfig.custom()
				.setConnectionRequestTimeout(Timeout.of(settings.connectTimeout()))
				.build())
			.build();
	}

	@Override
	public Call prepare(Replica replica, String method, String target, List<String> headers, RequestBody body,
			long timeoutNanos) {
		return prepare(null, replica, method, target, headers, body, timeoutNanos);
	}

	@Override
	public Call prepare(String pool, Replica replica, String method, String target, List<String> headers,
			RequestBody body, long timeoutNanos) {
		HttpUriRequestBase request;
		try {
			request = new HttpUriRequestBase(method, URI.create(replica.uri().toString() + target));
		}
		catch (IllegalArgumentException e) {
			return null;
		}
		for (int i = 0; i < headers.size(); i += 2) {
			request.addHeader(headers.get(i), headers.get(i + 1));
		}
		InputStream in = body.stream();
		if (in != null) {
			String contentType = body.contentType();
			request.setEntity(new InputStreamEntity(in, body.contentLength(),
					contentType == null ? null : ContentType.parseLenient(contentType)));
		}
		Timeout timeout = Timeout.of(Math.max(1, TimeUnit.NANOSECONDS.toMillis(timeoutNanos)), TimeUnit.MILLISECONDS);
		request.setConfig(RequestConfig.custom().setResponseTimeout(timeout).setConnectionRequestTimeout(timeout).build());
		UpstreamTls tls = pool != null && "https".equalsIgnoreCase(replica.uri().getScheme()) ? tlsOfPool.apply(pool) : null;
		return new HttpCall(replica, request, tls);
	}

	/**
	 * {@inheritDoc} A response head with ambiguous framing ({@link ResponseFraming}) has its
	 * connection closed, not pooled, and the attempt fails as a reset.
	 */
	@Override
	public Result execute(Call call, boolean atMostOnce) {
		HttpUriRequestBase request = ((HttpCall) call).request();
		HttpHost host = HttpHost.create(call.replica().uri());
		HttpClientContext context = HttpClientContext.create();
		UpstreamTls tls = ((HttpCall) call).tls();
		if (tls != null) {
			context.setAttribute(TLS_ATTRIBUTE, tls);
		}
		for (int stale = 0;; stale++) {
			try {
				ClassicHttpResponse response = (atMostOnce ? checkedClient : client).executeOpen(host, request, context);
				HttpResponse answer = new HttpResponse(response, request);
				String invalid = ResponseFraming.violation(response, maxResponseHeaderSize);
				if (invalid != null) {
					answer.abort();
					return Result.failed(Outcome.RESET, "invalid response: " + invalid);
				}
				return new Result(answer, null, null);
			}
			catch (IOException | RuntimeException e) {
				if (!atMostOnce && stale < MAX_STALE_RESENDS && request.getEntity() == null && !request.isCancelled()
						&& closedWhileIdle(e, context.getEndpointDetails())) {
					continue;
				}
				return Result.failed(classify(e), describe(e));
			}
		}
	}

	/**
	 * Whether a failure is the keep-alive race rather than the replica failing: the request went out
	 * on a connection that had already carried a response, and the connection was closed or reset
	 * before a byte of the answer came back. A server may close an idle keep-alive connection at any
	 * time (RFC 9112 section 9.3.1; the JDK's HttpServer closes idle connections beyond 200 at once,
	 * others after their keep-alive timeout or request count), and a request sent as the close is in
	 * flight meets it. Such a failure says nothing about the replica, so a request without a body
	 * that may be repeated is sent again, on the next pooled or a new connection, and nothing is
	 * recorded against the replica. HttpClient's own retry strategy cannot tell a reused connection
	 * from a new one, and the exchange's retries would count the failure and move to another replica.
	 */
	static boolean closedWhileIdle(Throwable e, EndpointDetails connection) {
		if (connection == null || connection.getRequestCount() < 2
				|| connection.getResponseCount() >= connection.getRequestCount()) {
			return false;
		}
		if (e instanceof NoHttpResponseException) {
			return true;
		}
		String message = e.getMessage();
		return e instanceof SocketException && !(e instanceof ConnectException) && message != null
				&& (message.contains("reset") || message.contains("Broken pipe"));
	}

	/**
	 * Maps a failure of the upstream hop to an outcome; connect failures are only those where nothing
	 * was sent. A failed TLS handshake (an untrusted certificate, a name that does not match) comes
	 * before any byte of the request too. (A client certificate the replica refuses shows only after
	 * the request went out, in TLS 1.3: a reset.)
	 */
	static Outcome classify(Throwable e) {
		if (e instanceof javax.net.ssl.SSLHandshakeException || e instanceof javax.net.ssl.SSLPeerUnverifiedException) {
			return Outcome.TLS_FAILURE;
		}
		if (e instanceof ConnectTimeoutException || e instanceof ConnectException || e instanceof NoRouteToHostException
				|| e instanceof UnknownHostException
				|| e instanceof org.apache.hc.core5.http.ConnectionRequestTimeoutException) {
			return Outcome.CONNECT_FAILURE;
		}
		if (e instanceof SocketTimeoutException || (e instanceof InterruptedIOException && !(e.getCause() instanceof IOException))) {
			return Outcome.TIMEOUT;
		}
		return Outcome.RESET;
	}

	private static String describe(Throwable e) {
		String msg = e.getMessage();
		return e.getClass().getSimpleName() + (msg == null ? "" : ": " + msg);
	}

	/** Where {@link #execute} leaves the attempt's {@link UpstreamTls} for {@link PerPoolTls}. */
	private static final String TLS_ATTRIBUTE = "resilience.gateway.upstream-tls";

	/**
	 * The TLS handshake of a new connection, with the settings of the pool whose request opens it:
	 * HttpClient takes one TLS strategy per connection manager, the gateway has one manager for every
	 * pool. (A pooled connection is keyed by host and port: two pools that name the same replica
	 * address with different TLS settings would share connections.)
	 */
	private static final class PerPoolTls implements TlsSocketStrategy {

		private final TlsSocketStrategy standard = DefaultClientTlsStrategy.createDefault();

		private final Map<UpstreamTls, TlsSocketStrategy> strategies = new ConcurrentHashMap<>();

		@Override
		public SSLSocket upgrade(Socket socket, String target, int port, Object attachment, HttpContext context)
				throws IOException {
			Object tls = context == null ? null : context.getAttribute(TLS_ATTRIBUTE);
			TlsSocketStrategy strategy = tls instanceof UpstreamTls t ? strategies.computeIfAbsent(t,
					k -> k.verifyHostname() ? new DefaultClientTlsStrategy(k.context())
							: new DefaultClientTlsStrategy(k.context(), HostnameVerificationPolicy.CLIENT,
									NoopHostnameVerifier.INSTANCE))
					: standard;
			return strategy.upgrade(socket, target, port, attachment, context);
		}

	}

	@Override
	public int leasedConnections() {
		return connections.getTotalStats().getLeased() + checkedConnections.getTotalStats().getLeased();
	}

	@Override
	public void close() {
		client.close(CloseMode.GRACEFUL);
		checkedClient.close(CloseMode.GRACEFUL);
	}

}
