package dev.resiliencegateway.exchange;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

import jakarta.servlet.http.HttpServletRequest;

import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpEntity;
import org.springframework.cloud.gateway.server.mvc.common.MvcUtils;
import org.springframework.cloud.gateway.server.mvc.handler.GatewayServerResponse;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatusCode;
import org.springframework.web.servlet.function.HandlerFunction;
import org.springframework.web.servlet.function.ServerRequest;
import org.springframework.web.servlet.function.ServerResponse;
import org.springframework.web.util.UriComponentsBuilder;
import org.springframework.web.util.UriUtils;

import dev.resiliencegateway.balancing.Balancer;
import dev.resiliencegateway.config.GatewayConfig;
import dev.resiliencegateway.config.GatewayConfig.RoutePolicy;
import dev.resiliencegateway.health.PoolHealth;
import dev.resiliencegateway.health.ReplicaHealth;
import dev.resiliencegateway.health.Ticker;
import dev.resiliencegateway.outcome.Outcome;

/**
 * The single choke point every request to a pool goes through: choose a replica, send, classify,
 * record, and retry on a replica not tried yet when that is safe. Gateway MVC's predicates and
 * filters run before it unchanged; it replaces only the terminal "send to the uri" step for
 * {@code lb://POOL} routes.
 *
 * <p>Retry safety: a connect failure (nothing reached the replica) is retried for any method; a 5xx,
 * a reset or a timeout only for idempotent methods or requests with an {@code Idempotency-Key}, and
 * only when the body can be sent again.
 */
public final class ResilientExchange {

	private static final Set<String> IDEMPOTENT = Set.of("GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE");

	private static final int BUFFER = 16 * 1024;

	private final UpstreamClient client;

	private final GatewayConfig config;

	private final Ticker ticker;

	public ResilientExchange(UpstreamClient client, GatewayConfig config, Ticker ticker) {
		this.client = client;
		this.config = config;
		this.ticker = ticker;
	}

	/** The handler for one route to one pool. */
	public HandlerFunction<ServerResponse> handlerFor(String routeId, PoolHealth pool) {
		RoutePolicy policy = config.routePolicy(routeId);
		return request -> exchange(request, routeId, pool, policy);
	}

	private record Choice(ReplicaHealth replica, boolean probe) {
	}

	ServerResponse exchange(ServerRequest request, String routeId, PoolHealth pool, RoutePolicy policy)
			throws IOException {
		HttpServletRequest servlet = request.servletRequest();
		String requestId = RequestIds.of(servlet);
		String target = target(request);
		String method = request.method().name();
		HttpHeaders inbound = request.headers().asHttpHeaders();
		boolean idempotent = IDEMPOTENT.contains(method) || inbound.containsKey("Idempotency-Key");
		boolean preserveHost = Boolean.TRUE.equals(request.attributes().get(MvcUtils.PRESERVE_HOST_HEADER_ATTRIBUTE));
		List<String> headers = OutboundHeaders.build(inbound, servlet, config.trustedProxies(), requestId, preserveHost);
		RequestBody body = RequestBody.of(servlet);

		long start = ticker.nanos();
		long deadline = start + policy.deadline().toNanos();
		long perTry = policy.perTryTimeout().toNanos();
		List<ReplicaHealth> tried = new ArrayList<>(policy.maxAttempts());
		Outcome last = null;
		String lastDetail = null;
		int attempts = 0;
		while (attempts < policy.maxAttempts()) {
			long now = ticker.nanos();
			long remaining = deadline - now;
			if (remaining <= 0) {
				last = Outcome.TIMEOUT;
				lastDetail = "route deadline of " + policy.deadline().toMillis() + " ms passed";
				break;
			}
			boolean retriesLeft = attempts + 1 < policy.maxAttempts();
			Choice choice = choose(pool, tried, idempotent && body.replayable() && retriesLeft, now);
			if (choice == null) {
				break;
			}
			ReplicaHealth replica = choice.replica();
			tried.add(replica);
			attempts++;
			long t0 = ticker.nanos();
			replica.load().begin(t0);
			UpstreamClient.Result result = client.send(replica.replica(), method, target, headers, body.stream(),
					body.contentLength(), body.contentType(), Math.min(perTry, remaining), !idempotent);
			if (result.response() != null) {
				Outcome outcome = Outcome.ofStatus(result.status());
				boolean retry = outcome == Outcome.UPSTREAM_5XX && attempts < policy.maxAttempts() && idempotent
						&& body.replayable();
				if (!retry) {
					return relay(result, replica, choice.probe(), t0, requestId, attempts);
				}
				result.abort();
				finish(replica, outcome, t0, choice.probe());
				last = outcome;
				lastDetail = "replica " + replica.replica().id() + " answered " + result.status();
				continue;
			}
			finish(replica, result.failure(), t0, choice.probe());
			last = result.failure();
			lastDetail = "replica " + replica.replica().id() + ": " + result.detail();
			boolean nothingSent = last == Outcome.CONNECT_FAILURE && !body.touched();
			boolean safe = idempotent && body.replayable();
			if (!(nothingSent || safe)) {
				break;
			}
		}
		return failure(last, lastDetail, attempts, requestId, routeId, pool);
	}

	private Choice choose(PoolHealth pool, List<ReplicaHealth> tried, boolean mayProbe, long now) {
		PoolHealth.Snapshot snapshot = pool.snapshot();
		if (mayProbe) {
			for (ReplicaHealth r : snapshot.ejected()) {
				if (!tried.contains(r) && r.claimProbe(now)) {
					return new Choice(r, true);
				}
			}
		}
		ReplicaHealth chosen = Balancer.choose(snapshot.routable(), tried::contains, now, ThreadLocalRandom.current());
		return chosen == null ? null : new Choice(chosen, false);
	}

	private void finish(ReplicaHealth replica, Outcome outcome, long t0, boolean probe) {
		replica.load().end(t0);
		replica.onOutcome(outcome, ticker.nanos() - t0, probe);
	}

	private ServerResponse failure(Outcome last, String detail, int attempts, String requestId, String routeId,
			PoolHealth pool) {
		if (last == null) {
			return Problems.unavailable(requestId, routeId, "no replica of pool '" + pool.name() + "' can take the request",
					1);
		}
		String tail = " (after " + attempts + (attempts == 1 ? " attempt)" : " attempts)");
		return switch (last) {
			case CONNECT_FAILURE -> Problems.unavailable(requestId, routeId,
					"no replica of pool '" + pool.name() + "' accepted a connection; last: " + detail + tail, 1);
			case TIMEOUT -> Problems.timeout(requestId, routeId, detail + tail);
			case CANCELLED -> Problems.badRequest(requestId, routeId, "the request could not be forwarded: " + detail);
			default -> Problems.badGateway(requestId, routeId, detail + tail);
		};
	}

	/** Streams the replica's answer to the client; the attempt's outcome is recorded when the body ends. */
	private ServerResponse relay(UpstreamClient.Result result, ReplicaHealth replica, boolean probe, long t0,
			String requestId, int attempts) {
		ClassicHttpResponse response = result.response();
		Outcome outcome = Outcome.ofStatus(response.getCode());
		return GatewayServerResponse.status(HttpStatusCode.valueOf(response.getCode())).headers(h -> {
			copyResponseHeaders(response, h);
			h.set(RequestIds.HEADER, requestId);
			if (config.decisionHeaders()) {
				h.set("X-Gateway-Replica", replica.replica().id());
				h.set("X-Gateway-Attempts", String.valueOf(attempts));
			}
		}).build((req, res) -> {
			Outcome end = outcome;
			boolean clientGone = false;
			try {
				HttpEntity entity = response.getEntity();
				if (entity != null) {
					InputStream in = entity.getContent();
					OutputStream out = res.getOutputStream();
					byte[] buffer = new byte[BUFFER];
					int n;
					while (true) {
						try {
							n = in.read(buffer);
						}
						catch (IOException e) {
							end = Outcome.RESET;
							throw new UpstreamTruncatedException(replica.replica().id(), e);
						}
						if (n < 0) {
							break;
						}
						try {
							out.write(buffer, 0, n);
							if (in.available() == 0) {
								out.flush();
							}
						}
						catch (IOException e) {
							clientGone = true;
							end = Outcome.CANCELLED;
							return null;
						}
					}
				}
			}
			finally {
				if (end == Outcome.SUCCESS || end == Outcome.UPSTREAM_5XX) {
					result.release();
				}
				else {
					result.abort();
				}
				finish(replica, end, t0, probe);
			}
			return null;
		});
	}

	private static void copyResponseHeaders(ClassicHttpResponse response, HttpHeaders into) {
		Set<String> nominated = Set.of();
		Header[] connection = response.getHeaders(HttpHeaders.CONNECTION);
		if (connection.length > 0) {
			nominated = new java.util.HashSet<>();
			for (Header c : connection) {
				HopByHop.addTokens(c.getValue(), nominated);
			}
		}
		for (Header h : response.getHeaders()) {
			String lower = h.getName().toLowerCase(Locale.ROOT);
			if (!HopByHop.isHopByHop(lower) && !nominated.contains(lower)) {
				into.add(h.getName(), h.getValue());
			}
		}
	}

	/**
	 * The path and query to send: the request's raw ones, so percent-encoding and parameter order stay
	 * as the client sent them. When a route filter added query parameters (Gateway MVC keeps those in
	 * {@code params()}, not in the URI), they are appended, encoded. Form posts are left alone: asking
	 * for their parameters would consume the body.
	 */
	private static String target(ServerRequest request) {
		java.net.URI uri = request.uri();
		String path = uri.getRawPath();
		String query = uri.getRawQuery();
		StringBuilder sb = new StringBuilder(path == null || path.isEmpty() ? "/" : path);
		if (query != null && !query.isEmpty()) {
			sb.append('?').append(query);
		}
		if (request.getClass().getSimpleName().startsWith("Built") && !isForm(request)) {
			var inQuery = UriComponentsBuilder.newInstance().query(query).build().getQueryParams().keySet();
			var added = new org.springframework.util.LinkedMultiValueMap<String, String>();
			request.params().forEach((k, v) -> {
				if (!inQuery.contains(UriUtils.encode(k, StandardCharsets.UTF_8))) {
					added.put(k, v);
				}
			});
			if (!added.isEmpty()) {
				String extra = UriComponentsBuilder.newInstance()
					.queryParams(MvcUtils.encodeQueryParams(added))
					.build(true)
					.getQuery();
				sb.append(query == null || query.isEmpty() ? '?' : '&').append(extra);
			}
		}
		return sb.toString();
	}

	private static boolean isForm(ServerRequest request) {
		String type = request.headers().firstHeader(HttpHeaders.CONTENT_TYPE);
		return type != null && (type.startsWith("application/x-www-form-urlencoded") || type.startsWith("multipart/"));
	}

	/** The replica broke off mid-body: the client's connection is aborted so the truncation shows. */
	static final class UpstreamTruncatedException extends RuntimeException {

		UpstreamTruncatedException(String replica, IOException cause) {
			super("replica " + replica + " broke off the response body: " + cause.getMessage(), cause, false, false);
		}

	}

}
