package dev.resiliencegateway.exchange.transport;

import java.io.ByteArrayInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;

import jakarta.servlet.http.HttpServletRequest;

/**
 * The client's request body as the attempts see it. A request without a body, or with a body
 * buffered in memory, can be sent any number of times. A streamed body only once, and the exchange
 * must know whether the HTTP client started reading it (then the request may have reached a replica).
 *
 * <p>Only a body read to its proper end is ever completed upstream. A streamed body whose client
 * breaks off, stalls, sends malformed chunks or grows past the route's limit first aborts the
 * upstream request it feeds (the HTTP client would otherwise close it properly, with a last chunk
 * that makes a partial body look whole), then fails with a {@link ClientBodyException}.
 */
public final class RequestBody {

	private static final RequestBody NONE = new RequestBody(null, null, 0, null);

	private final byte[] buffered;

	private final Tracked stream;

	private final long contentLength;

	private final String contentType;

	private RequestBody(byte[] buffered, Tracked stream, long contentLength, String contentType) {
		this.buffered = buffered;
		this.stream = stream;
		this.contentLength = contentLength;
		this.contentType = contentType;
	}

	/** No body (a health check's GET, a probe). */
	public static RequestBody none() {
		return NONE;
	}

	/** A body the gateway makes itself (the failure-path warm-up's POST). */
	public static RequestBody of(byte[] bytes, String contentType) {
		return new RequestBody(bytes.clone(), null, bytes.length, contentType);
	}

	/**
	 * @param bufferLimit buffer up to this many bytes so the body can be replayed (0: never buffer)
	 * @param maxBody the route's largest body (0: no limit)
	 * @throws ClientBodyException the body is too large, or its buffered part could not be read whole
	 */
	public static RequestBody of(HttpServletRequest servlet, long bufferLimit, long maxBody) throws ClientBodyException {
		long length = servlet.getContentLengthLong();
		boolean chunked = servlet.getHeader("Transfer-Encoding") != null;
		if (length == 0 || (length < 0 && !chunked)) {
			return NONE;
		}
		if (maxBody > 0 && length > maxBody) {
			throw tooLarge(maxBody);
		}
		String type = servlet.getHeader("Content-Type"); // the field as sent
		try {
			InputStream in = servlet.getInputStream();
			if (bufferLimit > 0 && length >= 0 && length <= bufferLimit) {
				byte[] all = in.readNBytes((int) length);
				if (all.length < length) {
					throw new ClientBodyException(400, "the request body ended after " + all.length + " of its "
							+ length + " bytes");
				}
				return new RequestBody(all, null, all.length, type);
			}
			if (bufferLimit > 0 && length < 0) {
				long want = maxBody > 0 ? Math.min(bufferLimit, maxBody) + 1 : bufferLimit + 1;
				byte[] head = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, want));
				if (head.length <= bufferLimit && (maxBody == 0 || head.length <= maxBody)) {
					return new RequestBody(head, null, head.length, type);
				}
				if (maxBody > 0 && head.length > maxBody) {
					throw tooLarge(maxBody);
				}
				InputStream rest = new SequenceInputStream(new ByteArrayInputStream(head), in);
				return new RequestBody(null, new Tracked(rest, -1, maxBody), -1, type);
			}
			return new RequestBody(null, new Tracked(in, length, maxBody), length, type);
		}
		catch (IOException e) {
			throw ClientBodyException.of(e);
		}
	}

	private static ClientBodyException tooLarge(long maxBody) {
		return new ClientBodyException(413, "the request body is larger than the route's limit of " + maxBody + " bytes");
	}

	/** Whether every attempt can send the whole body again. */
	public boolean replayable() {
		return stream == null;
	}

	/** The whole body when it is buffered (empty without a body); {@code null} when it streams. */
	public byte[] bytes() {
		return stream != null ? null : buffered != null ? buffered : new byte[0];
	}

	/** Whether a byte of a streamed body may have left for a replica. */
	public boolean touched() {
		return stream != null && stream.touched;
	}

	/** Whether the client's body has been read to its end, so its connection carries nothing more for now. */
	public boolean fullyRead() {
		return stream == null || stream.ended;
	}

	/** Why the streamed body failed on the client's side, or {@code null}. */
	public ClientBodyException clientFailure() {
		return stream == null ? null : stream.failure;
	}

	/** The upstream request this (streamed) body feeds: aborted if the client's side fails. */
	public void feeding(UpstreamClient.Call upstream) {
		if (stream != null) {
			stream.upstream = upstream;
		}
	}

	/** A stream of the body for one attempt, or {@code null} without a body. */
	public InputStream stream() {
		return buffered != null ? new ByteArrayInputStream(buffered) : stream;
	}

	public long contentLength() {
		return contentLength;
	}

	public String contentType() {
		return contentType;
	}

	private static final class Tracked extends FilterInputStream {

		private final long expected;

		private final long max;

		private long count;

		volatile boolean touched;

		volatile boolean ended;

		volatile ClientBodyException failure;

		volatile UpstreamClient.Call upstream;

		Tracked(InputStream in, long expected, long max) {
			super(in);
			this.expected = expected;
			this.max = max;
		}

		@Override
		public int read() throws IOException {
			byte[] one = new byte[1];
			int n = read(one, 0, 1);
			return n < 0 ? -1 : one[0] & 0xff;
		}

		@Override
		public int read(byte[] b, int off, int len) throws IOException {
			touched = true;
			if (failure != null) {
				throw failure;
			}
			int n;
			try {
				n = super.read(b, off, len);
			}
			catch (IOException e) {
				throw fail(ClientBodyException.of(e));
			}
			if (n < 0) {
				if (expected >= 0 && count < expected) {
					throw fail(new ClientBodyException(400, "the request body ended after " + count + " of its "
							+ expected + " bytes"));
				}
				ended = true;
				return -1;
			}
			count += n;
			if (max > 0 && count > max) {
				throw fail(tooLarge(max));
			}
			if (expected >= 0 && count >= expected) {
				ended = true;
			}
			return n;
		}

		/** Aborts the upstream request first, so the HTTP client cannot finish it with a last chunk. */
		private ClientBodyException fail(ClientBodyException e) {
			failure = e;
			UpstreamClient.Call u = upstream;
			if (u != null) {
				u.cancel();
			}
			return e;
		}

		@Override
		public void close() {
			// the servlet container owns the client's stream
		}

	}

}
