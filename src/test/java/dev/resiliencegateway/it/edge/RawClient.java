package dev.resiliencegateway.it.edge;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * One client connection on a raw socket: sends bytes exactly as written (the JDK client refuses most
 * of what an attacker sends) and reads responses by HTTP's framing rules.
 */
final class RawClient implements AutoCloseable {

	/** One response; {@code truncated} when its framing promised more than arrived before the close. */
	record Response(int status, String head, byte[] body, boolean truncated) {

		List<String> headers(String name) {
			List<String> values = new ArrayList<>();
			for (String line : head.split("\r\n")) {
				int colon = line.indexOf(':');
				if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase(name)) {
					values.add(line.substring(colon + 1).trim());
				}
			}
			return values;
		}

		String bodyText() {
			return new String(body, StandardCharsets.ISO_8859_1);
		}

		@Override
		public String toString() {
			return head + bodyText() + (truncated ? "<truncated>" : "");
		}

	}

	private final Socket socket;

	private final InputStream in;

	RawClient(int port) throws IOException {
		socket = new Socket("127.0.0.1", port);
		socket.setSoTimeout(15_000);
		in = socket.getInputStream();
	}

	RawClient send(String bytes) throws IOException {
		return send(bytes.getBytes(StandardCharsets.ISO_8859_1));
	}

	RawClient send(byte[] bytes) throws IOException {
		socket.getOutputStream().write(bytes);
		socket.getOutputStream().flush();
		return this;
	}

	InputStream input() {
		return in;
	}

	/** Half-closes: the client sends nothing more. */
	void shutdownOutput() throws IOException {
		socket.shutdownOutput();
	}

	/** The next response; null when the connection ended before a status line. */
	Response read() throws IOException {
		return read(false);
	}

	/** The next response, interim (1xx) ones included. */
	Response readInterim() throws IOException {
		return read(false, true);
	}

	Response read(boolean headRequest) throws IOException {
		return read(headRequest, false);
	}

	private Response read(boolean headRequest, boolean interim) throws IOException {
		String h;
		try {
			h = RecordingReplica.readHead(in);
		}
		catch (SocketException e) {
			return null; // reset before any response
		}
		if (h == null) {
			return null;
		}
		int status = Integer.parseInt(h.substring(9, 12));
		Response probe = new Response(status, h, new byte[0], false);
		if (status >= 100 && status < 200 && status != 101) {
			return interim ? probe : read(headRequest, false); // 100 Continue: the final answer follows
		}
		ByteArrayOutputStream body = new ByteArrayOutputStream();
		boolean truncated = false;
		try {
			if (headRequest || status == 204 || status == 304 || status == 101) {
				// no body
			}
			else if (probe.headers("Transfer-Encoding").stream().anyMatch(v -> v.equalsIgnoreCase("chunked"))) {
				truncated = !readChunked(body);
			}
			else if (!probe.headers("Content-Length").isEmpty()) {
				int length = Integer.parseInt(probe.headers("Content-Length").get(0));
				byte[] bytes = in.readNBytes(length);
				body.write(bytes);
				truncated = bytes.length < length;
			}
			else {
				body.write(in.readAllBytes());
			}
		}
		catch (SocketException e) {
			truncated = true;
		}
		return new Response(status, h, body.toByteArray(), truncated);
	}

	private boolean readChunked(ByteArrayOutputStream body) throws IOException {
		while (true) {
			String line = readLine();
			if (line == null) {
				return false;
			}
			int semi = line.indexOf(';');
			int size = Integer.parseInt((semi < 0 ? line : line.substring(0, semi)).trim(), 16);
			if (size == 0) {
				while (true) {
					String trailer = readLine();
					if (trailer == null) {
						return false;
					}
					if (trailer.isEmpty()) {
						return true;
					}
				}
			}
			byte[] chunk = in.readNBytes(size);
			body.write(chunk);
			if (chunk.length < size || readLine() == null) {
				return false;
			}
		}
	}

	private String readLine() throws IOException {
		StringBuilder sb = new StringBuilder();
		while (true) {
			int b = in.read();
			if (b < 0) {
				return null;
			}
			if (b == '\n') {
				return sb.toString().endsWith("\r") ? sb.substring(0, sb.length() - 1) : sb.toString();
			}
			sb.append((char) b);
		}
	}

	/**
	 * Whether the server closed the connection within the given time, with nothing more sent: any
	 * further byte would be an answer the client never asked for, so it fails the test at once.
	 */
	boolean closedWithin(long millis) throws IOException {
		socket.setSoTimeout((int) millis);
		try {
			int b = in.read();
			if (b >= 0) {
				byte[] rest = in.readNBytes(Math.min(in.available(), 4096));
				throw new AssertionError("unexpected bytes after the response: "
						+ (char) b + new String(rest, StandardCharsets.ISO_8859_1));
			}
			return true;
		}
		catch (SocketTimeoutException e) {
			return false;
		}
		catch (SocketException e) {
			return true; // reset
		}
		finally {
			socket.setSoTimeout(15_000);
		}
	}

	@Override
	public void close() throws IOException {
		socket.close();
	}

}
