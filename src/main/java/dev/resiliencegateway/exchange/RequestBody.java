package dev.resiliencegateway.exchange;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

import jakarta.servlet.http.HttpServletRequest;

/**
 * The client's request body as the attempts see it. A request without a body can be sent any
 * number of times; a streamed body only once, and the exchange must know whether the client
 * library started reading it (then the request may have reached the replica).
 */
final class RequestBody {

	private static final RequestBody NONE = new RequestBody(null, 0, null);

	private final Tracked stream;

	private final long contentLength;

	private final String contentType;

	private RequestBody(Tracked stream, long contentLength, String contentType) {
		this.stream = stream;
		this.contentLength = contentLength;
		this.contentType = contentType;
	}

	static RequestBody of(HttpServletRequest servlet) throws IOException {
		long length = servlet.getContentLengthLong();
		boolean chunked = servlet.getHeader("Transfer-Encoding") != null;
		if (length == 0 || (length < 0 && !chunked)) {
			return NONE;
		}
		return new RequestBody(new Tracked(servlet.getInputStream()), length, servlet.getContentType());
	}

	/** Whether every attempt can send the whole body again. */
	boolean replayable() {
		return stream == null;
	}

	/** Whether a byte of the body may have left for a replica. */
	boolean touched() {
		return stream != null && stream.touched;
	}

	InputStream stream() {
		return stream;
	}

	long contentLength() {
		return contentLength;
	}

	String contentType() {
		return contentType;
	}

	private static final class Tracked extends FilterInputStream {

		volatile boolean touched;

		Tracked(InputStream in) {
			super(in);
		}

		@Override
		public int read() throws IOException {
			touched = true;
			return super.read();
		}

		@Override
		public int read(byte[] b, int off, int len) throws IOException {
			touched = true;
			return super.read(b, off, len);
		}

		@Override
		public void close() {
			// the servlet container owns the client's stream
		}

	}

}
