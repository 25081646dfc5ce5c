package dev.resiliencegateway.exchange;

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
 */
final class RequestBody {

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

	/**
	 * @param bufferLimit buffer up to this many bytes so the body can be replayed (0: never buffer)
	 */
	static RequestBody of(HttpServletRequest servlet, long bufferLimit) throws IOException {
		long length = servlet.getContentLengthLong();
		boolean chunked = servlet.getHeader("Transfer-Encoding") != null;
		if (length == 0 || (length < 0 && !chunked)) {
			return NONE;
		}
		InputStream in = servlet.getInputStream();
		String type = servlet.getContentType();
		if (bufferLimit > 0 && length >= 0 && length <= bufferLimit) {
			byte[] all = in.readNBytes((int) length);
			return new RequestBody(all, null, all.length, type);
		}
		if (bufferLimit > 0 && length < 0) {
			byte[] head = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, bufferLimit + 1));
			if (head.length <= bufferLimit) {
				return new RequestBody(head, null, head.length, type);
			}
			InputStream rest = new SequenceInputStream(new ByteArrayInputStream(head), in);
			return new RequestBody(null, new Tracked(rest, -1), -1, type);
		}
		return new RequestBody(null, new Tracked(in, length), length, type);
	}

	/** Whether every attempt can send the whole body again. */
	boolean replayable() {
		return stream == null;
	}

	/** Whether a byte of a streamed body may have left for a replica. */
	boolean touched() {
		return stream != null && stream.touched;
	}

	/** Whether the client's body has been read to its end, so its connection carries nothing more for now. */
	boolean fullyRead() {
		return stream == null || stream.ended;
	}

	/** A stream of the body for one attempt, or {@code null} without a body. */
	InputStream stream() {
		return buffered != null ? new ByteArrayInputStream(buffered) : stream;
	}

	long contentLength() {
		return contentLength;
	}

	String contentType() {
		return contentType;
	}

	private static final class Tracked extends FilterInputStream {

		private final long expected;

		private long count;

		volatile boolean touched;

		volatile boolean ended;

		Tracked(InputStream in, long expected) {
			super(in);
			this.expected = expected;
		}

		@Override
		public int read() throws IOException {
			touched = true;
			int b = super.read();
			counted(b < 0 ? -1 : 1);
			return b;
		}

		@Override
		public int read(byte[] b, int off, int len) throws IOException {
			touched = true;
			int n = super.read(b, off, len);
			counted(n);
			return n;
		}

		private void counted(int n) {
			if (n < 0) {
				ended = true;
				return;
			}
			count += n;
			if (expected >= 0 && count >= expected) {
				ended = true;
			}
		}

		@Override
		public void close() {
			// the servlet container owns the client's stream
		}

	}

}
