package dev.resiliencegateway.exchange;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpStatusCode;
import org.springframework.web.servlet.function.ServerResponse;

import dev.resiliencegateway.clock.Ticker;
import dev.resiliencegateway.exchange.transport.Problems;
import dev.resiliencegateway.exchange.transport.RequestBody;
import dev.resiliencegateway.idempotency.Fingerprint;
import dev.resiliencegateway.idempotency.IdempotencyKey;
import dev.resiliencegateway.idempotency.IdempotencyPolicy;
import dev.resiliencegateway.idempotency.IdempotencyStore;
import dev.resiliencegateway.idempotency.StoredAnswer;

/**
 * {@code Idempotency-Key} on routes that keep keys: the first keyed POST or PATCH claims its key and
 * runs through the exchange; its answer is kept; a request with the same key later gets that answer
 * back ({@value #REPLAYED}: true) without reaching a replica. One arriving while the first is in
 * flight gets 409 (or waits for it), one with another body 422, a malformed key 400.
 *
 * <p>What is kept: a replica's answer (a 5xx only if the route says so; otherwise the key is freed
 * and a retry executes again); when the request may have reached a replica but no answer came back
 * (a timeout, a reset after sending), the gateway's own 502/504 as an <em>unknown outcome</em>, so a
 * retry is never sent blindly: the client learns that the first one may have executed. When no
 * attempt reached a replica (every connection refused, no replica to take it), the key is freed.
 */
final class KeptAnswers {

	static final String REPLAYED = "Idempotent-Replayed";

	private static final Logger log = LoggerFactory.getLogger(KeptAnswers.class);

	/** How often a request waiting for an in-flight key looks at the store again. */
	private static final long WAIT_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

	/** A claim older than the route's deadline plus this belongs to a gateway copy that stopped. */
	private static final long STALE_CLAIM_GRACE_MILLIS = 5_000;

	private final IdempotencyStore store;

	private final Ticker ticker;

	private final GatewayMetrics metrics;

	private final java.time.InstantSource wallClock;

	private final AtomicLong lastWarning = new AtomicLong(Long.MIN_VALUE);

	KeptAnswers(IdempotencyStore store, Ticker ticker, java.time.InstantSource wallClock, GatewayMetrics metrics) {
		this.store = store;
		this.ticker = ticker;
		this.wallClock = wallClock;
		this.metrics = metrics;
	}

	/** How a keyed request starts: answered at once, or sent with a ticket (null: not protected). */
	record Start(ServerResponse answer, Ticket ticket) {

		static final Start UNPROTECTED = new Start(null, null);

	}

	/**
	 * @param keys the request's {@code Idempotency-Key} values (the route covers its method)
	 * @param client the value of the route's client header, or {@code null}
	 */
	Start start(Route route, String requestId, String method, String target, List<String> keys, String client,
			RequestBody body, long deadline) {
		IdempotencyPolicy policy = route.policy.idempotency();
		String key;
		try {
			key = IdempotencyKey.parse(keys);
		}
		catch (IdempotencyKey.InvalidKeyException e) {
			metrics.idempotency(route.id, "invalid-key");
			return answer(Problems.badRequest(requestId, route.id, e.getMessage()));
		}
		byte[] bytes = body.bytes();
		if (bytes == null) {
			metrics.idempotency(route.id, "body-too-large");
			return answer(Problems.clientBody(413, requestId, route.id, "a request with an Idempotency-Key on route '"
					+ route.id + "' is kept whole to fingerprint it: its body may be at most " + route.policy.bufferLimit()
					+ " bytes (buffer-limit)"));
		}
		String scoped = route.id + ":" + (policy.clientHeader() == null ? "" : client == null ? "-" : Fingerprint.ofClient(client))
				+ ":" + key;
		String fingerprint = Fingerprint.of(method, target, bytes);
		String token = UUID.randomUUID().toString();
		IdempotencyStore.Claim claim;
		try {
			claim = store.claim(scoped, token, fingerprint, wallClock.millis(), policy.ttl());
			while (claim instanceof IdempotencyStore.InFlight f && policy.waitForInFlight() && fingerprint.equals(f.fingerprint())
					&& !stale(f, route) && ticker.nanos() + WAIT_POLL_NANOS < deadline) {
				sleep(WAIT_POLL_NANOS);
				claim = store.peek(scoped);
				if (claim == null) {
					// the first one's key was freed (nothing executed): this one may go ahead
					claim = store.claim(scoped, token, fingerprint, wallClock.millis(), policy.ttl());
				}
			}
		}
		catch (IdempotencyStore.StoreUnavailableException e) {
			metrics.idempotency(route.id, "store-failure");
			warn("the idempotency store failed (" + e.getMessage() + "); route '" + route.id + "' "
					+ (policy.failOpen() ? "forwards keyed requests without their key's protection" : "refuses keyed requests"));
			return policy.failOpen() ? Start.UNPROTECTED : answer(Problems.unavailable(requestId, route.id,
					"the store of Idempotency-Keys cannot be reached; the request was not forwarded", 1));
		}
		if (claim instanceof IdempotencyStore.Claimed) {
			metrics.idempotency(route.id, "claimed");
			return new Start(null, new Ticket(route, scoped, token, fingerprint));
		}
		if (claim instanceof IdempotencyStore.InFlight f) {
			if (!fingerprint.equals(f.fingerprint())) {
				return mismatch(route, requestId);
			}
			if (stale(f, route)) {
				metrics.idempotency(route.id, "replayed");
				return answer(replayUnknown(route, requestId, 502, "the gateway copy that forwarded the first request "
						+ "with this Idempotency-Key stopped before it ended"));
			}
			metrics.idempotency(route.id, "conflict");
			return answer(Problems.of(409, "Conflict", requestId, route.id, "a request with this Idempotency-Key is "
					+ "still in flight; retry after it has ended", Map.of("Retry-After", "1")));
		}
		StoredAnswer done = ((IdempotencyStore.Done) claim).answer();
		if (!fingerprint.equals(done.fingerprint())) {
			return mismatch(route, requestId);
		}
		metrics.idempotency(route.id, "replayed");
		return answer(replay(route, requestId, done));
	}

	private Start mismatch(Route route, String requestId) {
		metrics.idempotency(route.id, "mismatch");
		return answer(Problems.of(422, "Unprocessable content", requestId, route.id, "this Idempotency-Key was first "
				+ "used for a request with another method, target or body; a key names one request", Map.of()));
	}

	private boolean stale(IdempotencyStore.InFlight f, Route route) {
		return wallClock.millis() - f.startedMillis() > route.policy.deadline().toMillis() + STALE_CLAIM_GRACE_MILLIS;
	}

	private static Start answer(ServerResponse response) {
		return new Start(response, null);
	}

	private static ServerResponse replay(Route route, String requestId, StoredAnswer a) {
		return switch (a.kind()) {
			case ANSWER -> {
				ServerResponse.BodyBuilder b = ServerResponse.status(HttpStatusCode.valueOf(a.status()));
				List<String> h = a.headers();
				for (int i = 0; i + 1 < h.size(); i += 2) {
					b.header(h.get(i), h.get(i + 1));
				}
				b.header(REPLAYED, "true");
				yield a.body().length == 0 ? b.build() : b.body(a.body());
			}
			case TOO_LARGE -> Problems.of(409, "Conflict", requestId, route.id, "the first request with this "
					+ "Idempotency-Key ended with status " + a.status() + ", but its answer was not kept: " + a.detail(),
					Map.of(REPLAYED, "true"));
			case UNKNOWN -> replayUnknown(route, requestId, a.status(), a.detail());
		};
	}

	private static ServerResponse replayUnknown(Route route, String requestId, int status, String detail) {
		return Problems.of(status, status == 504 ? "Upstream timed out" : "Upstream failed", requestId, route.id,
				"the first request with this Idempotency-Key may have executed, but its answer never came back ("
						+ detail + "); it is not sent again: check its effect before retrying with a new key",
				Map.of(REPLAYED, "true"));
	}

	private void warn(String message) {
		long now = ticker.nanos();
		long last = lastWarning.get();
		if ((last == Long.MIN_VALUE || now - last > TimeUnit.SECONDS.toNanos(10)) && lastWarning.compareAndSet(last, now)) {
			log.warn(message);
		}
	}

	private static void sleep(long nanos) {
		try {
			TimeUnit.NANOSECONDS.sleep(nanos);
		}
		catch (InterruptedException e) {
			Thread.currentThread().interrupt();
		}
	}

	/** A claimed key: ends exactly once, with an answer kept, an unknown outcome kept, or the key freed. */
	final class Ticket {

		private final Route route;

		private final String key;

		private final String token;

		private final String fingerprint;

		private final AtomicBoolean ended = new AtomicBoolean();

		Ticket(Route route, String key, String token, String fingerprint) {
			this.route = route;
			this.key = key;
			this.token = token;
			this.fingerprint = fingerprint;
		}

		long maxAnswerSize() {
			return route.policy.idempotency().maxAnswerSize();
		}

		/**
		 * The replica answered, and its answer went to the client whole.
		 *
		 * @param headers the end-to-end header fields relayed, name and value alternating
		 * @param body the body, or {@code null} when it was larger than {@link #maxAnswerSize}
		 */
		void answered(int status, List<String> headers, byte[] body) {
			if (status >= 500 && !route.policy.idempotency().store5xx()) {
				release();
				return;
			}
			keep(body == null
					? StoredAnswer.tooLarge(fingerprint, status, "its body was larger than the " + maxAnswerSize()
							+ " bytes this route keeps (idempotency.max-answer-size)")
					: StoredAnswer.answer(fingerprint, status, headers, body), "kept");
		}

		/** The request may have reached a replica, and no whole answer came back. */
		void unknown(int status, String detail) {
			keep(StoredAnswer.unknown(fingerprint, status, detail), "kept-unknown");
		}

		/** Nothing reached a replica: a retry may execute it. */
		void release() {
			if (!ended.compareAndSet(false, true)) {
				return;
			}
			try {
				store.release(key, token);
				metrics.idempotency(route.id, "released");
			}
			catch (IdempotencyStore.StoreUnavailableException e) {
				failed(e);
			}
		}

		boolean ended() {
			return ended.get();
		}

		private void keep(StoredAnswer answer, String result) {
			if (!ended.compareAndSet(false, true)) {
				return;
			}
			try {
				store.complete(key, token, answer, route.policy.idempotency().ttl());
				metrics.idempotency(route.id, result);
			}
			catch (IdempotencyStore.StoreUnavailableException e) {
				failed(e);
			}
		}

		private void failed(IdempotencyStore.StoreUnavailableException e) {
			metrics.idempotency(route.id, "store-failure");
			warn("the idempotency store failed to record the end of a keyed request on route '" + route.id + "' ("
					+ e.getMessage() + "); the key stays claimed until its TTL");
		}

	}

	/**
	 * The end-to-end header fields of a relayed answer (name, value, ...), as kept: without
	 * {@code Set-Cookie} (a replay may go to another client than the one the cookie was set for) and without the replay marker.
	 */
	static List<String> flatten(List<String> fields) {
		List<String> flat = new ArrayList<>(fields.size());
		for (int i = 0; i < fields.size(); i += 2) {
			String name = fields.get(i);
			if (!name.equalsIgnoreCase(REPLAYED) && !name.equalsIgnoreCase("Set-Cookie")) {
				flat.add(name);
				flat.add(fields.get(i + 1));
			}
		}
		return flat;
	}

}
