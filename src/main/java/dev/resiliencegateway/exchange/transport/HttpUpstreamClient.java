package dev.resiliencegateway.exchange.transport;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.impl.DefaultClientConnectionReuseStrategy;
import org.apache.hc.client5.http.impl.DefaultConnectionKeepAliveStrategy;
import org.apache.hc.client5.http.impl.IdleConnectionEvictor;
import org.apache.hc.client5.http.impl.io.ManagedHttpClientConnectionFactory;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManager;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.client5.http.io.ConnectionEndpoint;
import org.apache.hc.client5.http.io.ManagedHttpClientConnection;
import org.apache.hc.client5.http.io.LeaseRequest;
import org.apache.hc.client5.http.protocol.HttpClientContext;
import org.apache.hc.client5.http.protocol.RequestClientConnControl;
import org.apache.hc.client5.http.protocol.RequestValidateTrace;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.ConnectionRequestTimeoutException;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.HttpException;
import org.apache.hc.core5.http.io.HttpResponseInformationCallback;
import org.apache.hc.core5.http.ProtocolException;
import org.apache.hc.core5.http.config.Http1Config;
import org.apache.hc.core5.http.io.HttpConnectionFactory;
import org.apache.hc.core5.http.io.SocketConfig;
import org.apache.hc.core5.http.io.entity.InputStreamEntity;
import org.apache.hc.core5.http.protocol.DefaultHttpProcessor;
import org.apache.hc.core5.http.protocol.HttpProcessor;
import org.apache.hc.core5.http.protocol.RequestContent;
import org.apache.hc.core5.http.protocol.RequestTargetHost;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.pool.PoolConcurrencyPolicy;
import org.apache.hc.core5.pool.PoolReusePolicy;
import org.apache.hc.core5.util.TimeValue;
import org.apache.hc.core5.util.Timeout;

import dev.resiliencegateway.config.GatewayConfig.UpstreamSettings;
import dev.resiliencegateway.outcome.Outcome;
import dev.resiliencegateway.pool.Replica;

/**
 * The upstream hop: Apache HttpClient 5's classic (blocking) connection pool, connection operator,
 * message parser and writer, over keep-alive connections per replica. Blocking I/O costs nothing on
 * virtual threads (JDK 21+) and avoids the JDK client's thread-per-request completion on JDK 17.
 * Requests go straight to a leased connection ({@link #send}), not through HttpClient's execution
 * chain: the exchange decides about retries, there are no redirects, cookies, authentication or
 * decompression, and bytes pass through untouched.
 */
public final class HttpUpstreamClient implements UpstreamClient {

	/** A prepared request for one replica. */
	private record HttpCall(Replica replica, ReplicaEndpoint target, UpstreamRequest request, UpstreamTls tls, Timeout timeout)
			implements Call {

		@Override
		public void cancel() {
			request.cancel();
		}

	}

	/**
	 * Requests one upstream connection carries before it is closed: nginx's {@code keepalive_requests}
	 * default. A bound, because a replica that sends bytes after its answer once the next request is on
	 * its way leaves the connection one answer behind (no HTTP/1.1 proxy can tell those bytes from the
	 * answer, {@link UnsolicitedBytes}), and then every request on it gets the one before's answer
	 * until the connection closes.
	 */
	static final int MAX_REQUESTS_PER_CONNECTION = 1000;

	/** Sends of a request without a body again after {@link UpstreamFailures#closedWhileIdle the keep-alive race}. */
	static final int MAX_STALE_RESENDS = 2;

	private final int maxResponseHeaderSize;

	private final PoolingHttpClientConnectionManager connections;

	private final PoolingHttpClientConnectionManager checkedConnections;

	private final IdleConnectionEvictor evictor;

	private final IdleConnectionEvictor checkedEvictor;

	/** Each pool's TLS to its https replicas; {@code null} for the JDK's trusted CAs with host names checked. */
	private final Function<String, UpstreamTls> tlsOfPool;

	public HttpUpstreamClient(UpstreamSettings settings) {
		this(settings, pool -> null);
	}

	public HttpUpstreamClient(UpstreamSettings settings, Function<String, UpstreamTls> tlsOfPool) {
		this.maxResponseHeaderSize = settings.maxResponseHeaderSize();
		this.tlsOfPool = tlsOfPool;
		this.connections = connectionManager(settings, TimeValue.ofSeconds(2), false);
		this.evictor = evictor(settings, connections);
		// Requests that must not reach a replica twice get their own pool, whose connections are checked
		// for a close by the replica every time they are leased. A replica that crashed leaves closed
		// keep-alive connections behind; a POST sent on one fails in a way that cannot be told apart
		// from "executed, then crashed", so it could not be retried. Checked, it is never sent. The
		// check is a non-blocking read (PeekedConnections), not HttpClient's 1 ms wait.
		this.checkedConnections = connectionManager(settings, TimeValue.ZERO_MILLISECONDS, true);
		this.checkedEvictor = evictor(settings, checkedConnections);
	}

	private static PoolingHttpClientConnectionManager connectionManager(UpstreamSettings settings,
			TimeValue validateAfterInactivity, boolean peeked) {
		// a response head line or field count beyond these fails the attempt (502); the total size
		// is checked after parsing (ResponseFraming), below Tomcat's buffer for relaying it; status and
		// field lines are read the strict way (StrictResponseHeads)
		Http1Config http1 = Http1Config.custom().setMaxLineLength(64 * 1024).setMaxHeaderCount(200).build();
		HttpConnectionFactory<ManagedHttpClientConnection> factory = ManagedHttpClientConnectionFactory.builder()
			.http1Config(http1)
			.responseParserFactory(StrictResponseHeads.parsers(http1))
			.build();
		return (peeked ? PeekedConnections.builder() : PoolingHttpClientConnectionManagerBuilder.create())
			.setMaxConnTotal(settings.maxConnections())
			.setMaxConnPerRoute(settings.maxConnectionsPerReplica())
			.setPoolConcurrencyPolicy(PoolConcurrencyPolicy.LAX)
			.setConnPoolPolicy(PoolReusePolicy.LIFO)
			.setDefaultSocketConfig(SocketConfig.custom().setTcpNoDelay(true).build())
			.setTlsSocketStrategy(new PerPoolTls())
			.setConnectionFactory(peeked ? PeekedConnections.of(factory) : factory)
			.setDefaultConnectionConfig(ConnectionConfig.custom()
				.setConnectTimeout(Timeout.of(settings.connectTimeout()))
				.setValidateAfterInactivity(validateAfterInactivity)
				.build())
			.build();
	}

	/** Closes pooled connections idle for longer than the upstream idle timeout. */
	private static IdleConnectionEvictor evictor(UpstreamSettings settings, PoolingHttpClientConnectionManager connections) {
		IdleConnectionEvictor evictor = new IdleConnectionEvictor(connections, TimeValue.of(settings.idleTimeout()),
				TimeValue.of(settings.idleTimeout()));
		evictor.start();
		return evictor;
	}

	@Override
	public Call prepare(Replica replica, String method, String target, List<String> headers, RequestBody body,
			long timeoutNanos) {
		return prepare(null, replica, method, target, headers, body, timeoutNanos);
	}

	@Override
	public Call prepare(String pool, Replica replica, String method, String target, List<String> headers,
			RequestBody body, long timeoutNanos) {
		if (!validTarget(target)) {
			return null;
		}
		ReplicaEndpoint to = ReplicaEndpoint.of(replica.uri());
		UpstreamRequest request = new UpstreamRequest(method, to, to.pathPrefix() + target);
		for (int i = 0; i < headers.size(); i += 2) {
			request.addHeader(headers.get(i), headers.get(i + 1));
		}
		InputStream in = body.stream();
		if (in != null) {
			String contentType = body.contentType();
			request.setEntity(new InputStreamEntity(in, body.contentLength(),
					contentType == null ? null : ContentType.parseLenient(contentType)));
		}
		UpstreamTls tls = pool != null && to.route().isSecure() ? tlsOfPool.apply(pool) : null;
		Timeout timeout = Timeout.of(Math.max(1, TimeUnit.NANOSECONDS.toMillis(timeoutNanos)), TimeUnit.MILLISECONDS);
		return new HttpCall(replica, to, request, tls, timeout);
	}

	/** An origin-form request target: starts with '/', visible ASCII only, nothing a URI would refuse. */
	static boolean validTarget(String target) {
		if (target.isEmpty() || target.charAt(0) != '/') {
			return false;
		}
		for (int i = 0; i < target.length(); i++) {
			char c = target.charAt(i);
			if (c <= ' ' || c >= 0x7f || c == '"' || c == '<' || c == '>' || c == '\\' || c == '^' || c == '`'
					|| c == '{' || c == '|' || c == '}') {
				return false;
			}
		}
		return true;
	}

	/**
	 * {@inheritDoc} A response head with ambiguous framing ({@link ResponseFraming}) has its
	 * connection closed, not pooled, and the attempt fails as a reset.
	 */
	@Override
	public Result execute(Call call, boolean atMostOnce) {
		HttpCall c = (HttpCall) call;
		UpstreamRequest request = c.request();
		HttpClientContext context = HttpClientContext.create();
		if (c.tls() != null) {
			context.setAttribute(PerPoolTls.ATTRIBUTE, c.tls());
		}
		context.setRoute(c.target().route());
		try {
			// once, not per send: a request sent again on another connection (the keep-alive race, a
			// connection with unsolicited bytes) goes out with the fields it was first given, none added twice
			PROCESSOR.process(request, request.getEntity(), context);
		}
		catch (IOException | HttpException | RuntimeException e) {
			return Result.failed(UpstreamFailures.classify(e), UpstreamFailures.describe(e));
		}
		for (int stale = 0;; stale++) {
			try {
				UpstreamResponse answer = send(atMostOnce ? checkedConnections : connections, c, context);
				String invalid = ResponseFraming.violation(answer.response(), maxResponseHeaderSize);
				if (invalid != null) {
					answer.abort();
					return Result.failed(Outcome.RESET, "invalid response: " + invalid);
				}
				return new Result(answer, null, null);
			}
			catch (IOException | HttpException | RuntimeException e) {
				if (!atMostOnce && stale < MAX_STALE_RESENDS && request.getEntity() == null && !request.isCancelled()
						&& UpstreamFailures.closedWhileIdle(e, context.getEndpointDetails())) {
					continue;
				}
				if (e instanceof UnsolicitedBytes.Found && stale < MAX_STALE_RESENDS && !request.isCancelled()) {
					continue; // nothing was sent on it: any request may take another connection
				}
				return Result.failed(UpstreamFailures.classify(e), UpstreamFailures.describe(e));
			}
		}
	}

	/**
	 * One exchange on a pooled connection: lease, connect if new, send the head and body, read the
	 * response head. This is what HttpClient's {@code MinimalHttpClient} does, written here because
	 * that client adds a {@code User-Agent} and cannot be configured, and the full client's execution
	 * chain (authentication, redirects, protocol upgrade, retries, all switched off) cost about 10 % of
	 * the gateway's CPU per request (docs/performance.md). The request interceptors are the ones the
	 * full client ran for this configuration, in its order, so replicas see the same bytes.
	 */
	private UpstreamResponse send(PoolingHttpClientConnectionManager manager, HttpCall call, HttpClientContext context)
			throws IOException, HttpException {
		UpstreamRequest request = call.request();
		Timeout timeout = call.timeout();
		LeaseRequest leaseRequest = manager.lease(LEASE_ID, call.target().route(), timeout, null);
		request.setDependency(leaseRequest);
		ConnectionEndpoint endpoint;
		try {
			endpoint = leaseRequest.get(timeout);
		}
		catch (TimeoutException e) {
			throw new ConnectionRequestTimeoutException("Timeout waiting for connection from pool");
		}
		catch (ExecutionException e) {
			throw e.getCause() instanceof IOException io ? io : new InterruptedIOException("Request aborted");
		}
		catch (InterruptedException | CancellationException e) {
			if (e instanceof InterruptedException) {
				Thread.currentThread().interrupt();
			}
			throw new InterruptedIOException("Request aborted");
		}
		UpstreamLease lease = new UpstreamLease(manager, endpoint);
		request.setDependency(() -> {
			lease.discard();
			return true;
		});
		try {
			if (request.isCancelled()) {
				throw new InterruptedIOException("Request aborted");
			}
			context.setRoute(call.target().route());
			if (!endpoint.isConnected()) {
				manager.connect(endpoint, null, context);
			}
			endpoint.setSocketTimeout(timeout);
			ClassicHttpResponse response = endpoint.execute(LEASE_ID, request, (req, connection, ctx) -> {
				if (connection instanceof ManagedHttpClientConnection managed) {
					lease.connectedTo(managed);
					// the at-most-once pool's connections were just looked at the same way (PeekedConnections)
					if (!(managed instanceof PeekedConnections.Peeked) && UnsolicitedBytes.waiting(managed.getSocket())) {
						throw new UnsolicitedBytes.Found();
					}
				}
				return UpstreamExecutor.execute(req, connection, NO_SWITCHING, ctx);
			}, context);
			// an answer that came before the whole body was sent leaves the replica waiting for the rest
			if (context.getAttribute(UpstreamExecutor.BODY_CUT) == null && REUSE.keepAlive(request, response, context)) {
				lease.reusableFor(KEEP_ALIVE.getKeepAliveDuration(response, context));
			}
			return new UpstreamResponse(response, request, lease);
		}
		catch (IOException | HttpException | RuntimeException e) {
			lease.discard();
			throw e;
		}
	}

	private static final String LEASE_ID = "upstream";

	/** HttpClient's request interceptors for this configuration, in its order (its builder's defaults). */
	private static final HttpProcessor PROCESSOR = new DefaultHttpProcessor(new RequestTargetHost(),
			new RequestValidateTrace(), new RequestContent(), new RequestClientConnControl());

	/**
	 * A 1xx answer other than 100 Continue is passed over, except 101 Switching Protocols: the gateway
	 * never asks a replica to switch (Upgrade is a hop-by-hop field), so bytes after a 101 are not an
	 * HTTP answer to this request; the attempt fails and the connection is closed.
	 */
	private static final HttpResponseInformationCallback NO_SWITCHING = (response, connection, context) -> {
		if (response.getCode() == 101) {
			throw new ProtocolException("unexpected 101 Switching Protocols");
		}
	};

	private static final DefaultClientConnectionReuseStrategy REUSE = DefaultClientConnectionReuseStrategy.INSTANCE;

	private static final DefaultConnectionKeepAliveStrategy KEEP_ALIVE = DefaultConnectionKeepAliveStrategy.INSTANCE;

	@Override
	public int leasedConnections() {
		return connections.getTotalStats().getLeased() + checkedConnections.getTotalStats().getLeased();
	}

	@Override
	public void close() {
		evictor.shutdown();
		checkedEvictor.shutdown();
		connections.close(CloseMode.GRACEFUL);
		checkedConnections.close(CloseMode.GRACEFUL);
	}

}
