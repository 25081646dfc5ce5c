package dev.resiliencegateway.exchange.transport;

import java.io.IOException;
import java.lang.reflect.Field;
import java.net.Socket;

import org.apache.hc.core5.http.io.BHttpConnection;
import org.apache.hc.core5.http.impl.io.SessionInputBufferImpl;

/**
 * Bytes a replica sent that no request asked for: more than its {@code Content-Length}, a body after
 * the head of an answer that has none (to a HEAD, a 204, a 304), or anything at all on an idle
 * kept-alive connection. HttpClient reads exactly the framed length and pools the connection; the
 * next request sent on it would take those bytes as its answer, so one client would get bytes the
 * replica meant as (or sent after) another client's answer. A connection holding such bytes is
 * closed, never reused: when its answer ends (bytes already in HttpClient's buffer) and before a
 * request is sent on it (bytes in the kernel's buffer), as nginx does ("upstream sent more data than
 * specified"). Bytes that arrive after a request was sent cannot be told from its answer, for any
 * HTTP/1.1 proxy that reuses connections.
 *
 * <p>HttpClient keeps its input buffer to itself ({@code BHttpConnectionBase.inBuffer} is
 * package-private, and its only public look, {@code isDataAvailable}, waits on the socket when the
 * buffer is empty), so the buffer is read by reflection; where that fails (another HttpClient
 * version), only the kernel's buffer is looked at, and the startup log says so.
 */
final class UnsolicitedBytes {

	private static final Field IN_BUFFER = inBuffer();

	private UnsolicitedBytes() {
	}

	private static Field inBuffer() {
		try {
			Field f = Class.forName("org.apache.hc.core5.http.impl.io.BHttpConnectionBase").getDeclaredField("inBuffer");
			f.setAccessible(true);
			return f;
		}
		catch (ReflectiveOperationException | RuntimeException e) {
			System.getLogger(UnsolicitedBytes.class.getName()).log(System.Logger.Level.WARNING,
					"Bytes a replica sends beyond its answer are noticed only once they reach the socket "
							+ "(HttpClient's input buffer cannot be read: " + e + ")");
			return null;
		}
	}

	/** Whether HttpClient has read bytes from {@code connection} beyond the answer it parsed. */
	static boolean buffered(BHttpConnection connection) {
		BHttpConnection c = connection instanceof PeekedConnections.Peeked p ? p.delegate() : connection;
		if (IN_BUFFER == null || !IN_BUFFER.getDeclaringClass().isInstance(c)) {
			return false;
		}
		try {
			return ((SessionInputBufferImpl) IN_BUFFER.get(c)).hasBufferedData();
		}
		catch (IllegalAccessException | ClassCastException e) {
			// not HttpClient's own buffer after all: the kernel's is still looked at
			return false;
		}
	}

	/**
	 * Whether bytes wait in the kernel's buffer of {@code socket}, or the socket is broken; asked
	 * without reading or waiting (FIONREAD). For TLS, the bytes already decrypted.
	 */
	static boolean waiting(Socket socket) {
		return socket != null && available(socket) != 0;
	}

	/**
	 * Bytes readable from {@code socket} without blocking (FIONREAD: nothing is read, nothing waited
	 * for); 0 at end of stream, -1 when the socket is broken or closed. Its stream is never closed
	 * here: that would close the socket (Tomcat's, for {@link ClientDisconnects}).
	 */
	static int available(Socket socket) {
		try {
			return socket.getInputStream().available();
		}
		catch (IOException e) {
			return -1;
		}
	}

	/** Thrown before a request is sent on a connection with bytes no request asked for: nothing was sent. */
	static final class Found extends IOException {

		private static final long serialVersionUID = 1L;

		Found() {
			super("the replica sent bytes no request asked for on an idle kept-alive connection");
		}

	}

}
