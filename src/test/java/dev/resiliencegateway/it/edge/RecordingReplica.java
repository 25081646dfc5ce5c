package dev.resiliencegateway.it.edge;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A replica on a raw socket that keeps the exact bytes of every request it receives, and can answer
 * with broken HTTP. It parses requests the strict way (one Content-Length of digits, or chunked), so
 * what it records is what a careful backend would have read: a request whose body never ended is
 * recorded as incomplete, never as a request.
 *
 * <p>Answers by path: {@code /broken/NAME} sends one of the broken responses of {@link #broken};
 * anything else gets {@code 200} with {@code rec METHOD TARGET body=N} (keep-alive), so a test can
 * see which request an answer belongs to.
 */
final class RecordingReplica implements AutoCloseable {

	/** One request as it arrived: the head as sent (CRLFs and all), the body bytes, and whether it ended. */
	record Received(String head, byte[] body, boolean complete) {

		String requestLine() {
			return head.substring(0, head.indexOf("\r\n"));
		}

		String target() {
			return requestLine().split(" ")[1];
		}

		String method() {
			return requestLine().split(" ")[0];
		}

		/** Values of a header (case-insensitive name), in order. */
		List<String> headers(String name) {
			List<String> values = new ArrayList<>();
			for (String line : head.split("\r\n")) {
				int colon = line.indexOf(':');
				if (colon > 0 && line.substring(0, colon).equalsIgnoreCase(name)) {
					values.add(line.substring(colon + 1).trim());
				}
			}
			return values;
		}

		String bodyText() {
			return new String(body, StandardCharsets.ISO_8859_1);
		}

	}

	private final ServerSocket server;

	private final List<Received> received = new CopyOnWriteArrayList<>();

	private final List<Socket> open = new CopyOnWriteArrayList<>();

	private volatile boolean closed;

	/** The most requests received on one connection since {@link #resetMostOnOneConnection}. */
	private final java.util.concurrent.atomic.AtomicInteger mostOnOneConnection = new java.util.concurrent.atomic.AtomicInteger();

	RecordingReplica() throws IOException {
		server = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
		daemon("recording-replica", this::acceptLoop);
	}

	private static void daemon(String name, Runnable task) {
		Thread t = new Thread(task, name);
		t.setDaemon(true);
		t.start();
	}

	String url() {
		return "http://127.0.0.1:" + server.getLocalPort();
	}

	/** Everything received so far (complete requests and bodies that never ended). */
	List<Received> received() {
		return List.copyOf(received);
	}

	/** Received requests from index {@code from} on. */
	List<Received> since(int from) {
		List<Received> all = received();
		return all.subList(Math.min(from, all.size()), all.size());
	}

	int count() {
		return received.size();
	}

	/** The most requests any connection carried since the last reset (connections open then count from 0 too). */
	int mostOnOneConnection() {
		return mostOnOneConnection.get();
	}

	void resetMostOnOneConnection() {
		mostOnOneConnection.set(0);
		epoch.incrementAndGet();
	}

	private final java.util.concurrent.atomic.AtomicInteger epoch = new java.util.concurrent.atomic.AtomicInteger();

	private void acceptLoop() {
		while (!closed) {
			try {
				Socket s = server.accept();
				s.setTcpNoDelay(true); // answers go out in several writes: no Nagle wait between them
				open.add(s);
				daemon("recording-replica-conn", () -> serve(s));
			}
			catch (IOException e) {
				return;
			}
		}
	}

	private void serve(Socket socket) {
		try (socket) {
			socket.setSoTimeout(30_000);
			InputStream in = socket.getInputStream();
			OutputStream out = socket.getOutputStream();
			int seenEpoch = epoch.get();
			int carried = 0;
			while (true) {
				String head = readHead(in);
				if (head == null) {
					return;
				}
				if (seenEpoch != epoch.get()) {
					seenEpoch = epoch.get();
					carried = 0;
				}
				mostOnOneConnection.accumulateAndGet(++carried, Math::max);
				if (head.contains(" /refuse-early/")) {
					// refuses the upload as soon as it has the head, and closes with the body unread (a reset)
					received.add(new Received(head, new byte[0], false));
					out.write("HTTP/1.1 413 Payload Too Large\r\nContent-Length: 9\r\nConnection: close\r\n\r\ntoo large"
						.getBytes(StandardCharsets.ISO_8859_1));
					out.flush();
					return;
				}
				ByteArrayOutputStream body = new ByteArrayOutputStream();
				boolean complete = readBody(head, in, body);
				Received r = new Received(head, body.toByteArray(), complete);
				received.add(r);
				if (!complete) {
					return;
				}
				String target = r.target();
				if (target.startsWith("/broken/")) {
					if (!broken(target.substring("/broken/".length()), out)) {
						return;
					}
					continue;
				}
				if (target.startsWith("/big/")) {
					// a large answer, for clients that never read it
					long n = Long.parseLong(target.substring("/big/".length()));
					out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + n + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
					byte[] chunk = new byte[64 * 1024];
					for (long sent = 0; sent < n; sent += chunk.length) {
						out.write(chunk, 0, (int) Math.min(chunk.length, n - sent));
					}
					out.flush();
					continue;
				}
				if (target.startsWith("/tagged/") || target.startsWith("/filtered/") || target.startsWith("/throwing/")) {
					// a replica that ignores conditional request headers: always 200, with validators,
					// and fields whose order and spelling the relay keeps (two Set-Cookie around another field)
					byte[] answer = ("tagged " + target).getBytes(StandardCharsets.ISO_8859_1);
					out.write(("HTTP/1.1 200 OK\r\nETag: \"v1\"\r\nLast-Modified: Mon, 01 Jan 2024 00:00:00 GMT\r\n"
							+ "set-cookie: a=1\r\nX-Between: yes\r\nSet-Cookie: b=2\r\nContent-Type: text/plain\r\n"
							+ "Content-Length: " + answer.length + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
					out.write(answer);
					out.flush();
					continue;
				}
				if (target.startsWith("/slow/")) {
					Thread.sleep(Long.parseLong(target.substring("/slow/".length())));
				}
				byte[] answer = ("rec " + r.method() + " " + target + " body=" + r.body().length)
					.getBytes(StandardCharsets.ISO_8859_1);
				out.write(("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + answer.length
						+ "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
				out.write(answer);
				out.flush();
			}
		}
		catch (IOException | InterruptedException | RuntimeException e) {
			// the gateway closed or reset the connection: that is what some cases expect
		}
		finally {
			open.remove(socket);
		}
	}

	/**
	 * Writes one broken answer; returns whether the connection stays open for the next request.
	 * Each answer is followed, on the same connection, by bytes shaped like a second response, so
	 * that a gateway that reuses the connection would hand them to the next client.
	 */
	private static boolean broken(String name, OutputStream out) throws IOException {
		String smuggled = "HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nSMUGGLED";
		String big = "X-Big: " + "a".repeat(70_000) + "\r\n";
		String many = "X-Many: 1\r\n".repeat(300);
		String answer = switch (name) {
			// the body ends before its Content-Length, then the replica closes
			case "short-body" -> "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + "partial-1 ";
			// a chunked body without its last chunk, then the replica closes
			case "no-last-chunk" -> "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\na\r\npartial-2 \r\n";
			case "cl-plus" -> "HTTP/1.1 200 OK\r\nContent-Length: +3\r\n\r\nabc" + smuggled;
			case "cl-minus" -> "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nabc" + smuggled;
			case "cl-hex" -> "HTTP/1.1 200 OK\r\nContent-Length: 0x3\r\n\r\nabc" + smuggled;
			case "cl-space" -> "HTTP/1.1 200 OK\r\nContent-Length: 3 3\r\n\r\nabc" + smuggled;
			case "cl-empty" -> "HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\nabc" + smuggled;
			case "cl-list" -> "HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\nabc" + smuggled;
			case "cl-dup" -> "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 45\r\n\r\nabc" + smuggled;
			case "cl-dup-same" -> "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc" + smuggled;
			case "cl-te" -> "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
					+ smuggled;
			case "te-gzip" -> "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nabc" + smuggled;
			case "te-chunked-gzip" -> "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
					+ smuggled;
			case "te-twice" -> "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"
					+ "3\r\nabc\r\n0\r\n\r\n" + smuggled;
			case "te-space" -> "HTTP/1.1 200 OK\r\nTransfer-Encoding : chunked\r\nContent-Length: 3\r\n\r\nabc" + smuggled;
			case "obs-fold" -> "HTTP/1.1 200 OK\r\nX-Folded: one\r\n two\r\nContent-Length: 3\r\n\r\nabc";
			case "bad-chunk" -> "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n" + smuggled;
			case "big-header" -> "HTTP/1.1 200 OK\r\n" + big + "Content-Length: 3\r\n\r\nabc";
			case "many-headers" -> "HTTP/1.1 200 OK\r\n" + many + "Content-Length: 3\r\n\r\nabc";
			case "switching" -> "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
					+ smuggled;
			case "crlf-header" -> "HTTP/1.1 200 OK\r\nX-Bad: a\rb\r\nContent-Length: 3\r\n\r\nabc" + smuggled;
			// well framed, then bytes no request asked for: more than the Content-Length (all of it, to a
			// HEAD), a body after answers that have none, or bytes that come once the connection is idle
			// status lines HttpClient's lenient parser skipped as garbage, waiting for a valid one until the timeout
			case "status-no-space" -> "HTTP/1.1 200OK\r\nContent-Length: 3\r\n\r\nabc" + smuggled;
			case "status-lower-case" -> "http/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc" + smuggled;
			case "status-icy" -> "ICY 200 OK\r\nContent-Length: 3\r\n\r\nabc" + smuggled;
			case "status-four-digits" -> "HTTP/1.1 2000 OK\r\nContent-Length: 3\r\n\r\nabc" + smuggled;
			case "status-signed" -> "HTTP/1.1 +200 OK\r\nContent-Length: 3\r\n\r\nabc" + smuggled;
			case "status-two-digits" -> "HTTP/1.1 20 OK\r\nContent-Length: 3\r\n\r\nabc" + smuggled;
			// status lines it read and relayed
			case "status-long" -> "HTTP/1.1 20x " + "x".repeat(60_000) + "\r\nContent-Length: 3\r\n\r\nabc" + smuggled;
			case "status-600" -> "HTTP/1.1 600 Beyond\r\nContent-Length: 3\r\n\r\nabc" + smuggled;
			case "status-999" -> "HTTP/1.1 999 Beyond\r\nContent-Length: 3\r\n\r\nabc" + smuggled;
			case "status-http09" -> "HTTP/0.9 200 OK\r\nContent-Length: 3\r\n\r\nabc" + smuggled;
			// a whitespace-led line right after the status line (RFC 9112 section 2.2: refuse or ignore it) was a field
			case "lead-space-cl" -> "HTTP/1.1 200 OK\r\n Content-Length: 3\r\n\r\nabc" + smuggled;
			case "lead-tab-te" -> "HTTP/1.1 200 OK\r\n\tTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" + smuggled;
			// field names that are not tokens were relayed to clients as they came
			case "name-space" -> "HTTP/1.1 200 OK\r\nX A: b\r\nContent-Length: 3\r\n\r\nabc" + smuggled;
			case "name-separator" -> "HTTP/1.1 200 OK\r\nX(A): b\r\nContent-Length: 3\r\n\r\nabc" + smuggled;
			case "name-empty" -> "HTTP/1.1 200 OK\r\n: b\r\nContent-Length: 3\r\n\r\nabc" + smuggled;
			case "extra" -> "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc" + smuggled;
			case "extra-chunked" -> "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" + smuggled;
			case "extra-204" -> "HTTP/1.1 204 No Content\r\n\r\n" + smuggled;
			case "extra-304" -> "HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\n\r\n" + smuggled;
			case "extra-late" -> "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc";
			default -> "HTTP/1.1 404 Not Found\r\nContent-Length: 7\r\n\r\nunknown";
		};
		out.write(answer.getBytes(StandardCharsets.ISO_8859_1));
		out.flush();
		if (name.equals("extra-late")) {
			try {
				Thread.sleep(150); // long after the answer was relayed: the connection is back in the pool
			}
			catch (InterruptedException e) {
				Thread.currentThread().interrupt();
			}
			out.write(smuggled.getBytes(StandardCharsets.ISO_8859_1));
			out.flush();
		}
		// truncations close; the others keep the connection open, so reuse would leak their extra bytes
		return !name.equals("short-body") && !name.equals("no-last-chunk");
	}

	/** A message head up to and including the blank line; null when the connection ends first. */
	static String readHead(InputStream in) throws IOException {
		ByteArrayOutputStream head = new ByteArrayOutputStream();
		int state = 0;
		while (state < 4) {
			int b = in.read();
			if (b < 0) {
				return null;
			}
			head.write(b);
			state = (b == '\r' && (state == 0 || state == 2)) || (b == '\n' && (state == 1 || state == 3)) ? state + 1 : 0;
			if (head.size() > 256 * 1024) {
				throw new IOException("request head too large");
			}
		}
		return head.toString(StandardCharsets.ISO_8859_1);
	}

	/** Reads the body the strict way; false when it did not end properly. */
	private static boolean readBody(String head, InputStream in, ByteArrayOutputStream body) throws IOException {
		Received probe = new Received(head, new byte[0], true);
		List<String> te = probe.headers("Transfer-Encoding");
		List<String> cl = probe.headers("Content-Length");
		try {
			if (!te.isEmpty()) {
				if (te.size() != 1 || !te.get(0).equalsIgnoreCase("chunked") || !cl.isEmpty()) {
					return false;
				}
				while (true) {
					String sizeLine = readLine(in);
					int semi = sizeLine.indexOf(';');
					int size = Integer.parseInt(semi < 0 ? sizeLine : sizeLine.substring(0, semi), 16);
					if (size == 0) {
						while (!readLine(in).isEmpty()) {
							// trailers: not part of the body
						}
						return true;
					}
					byte[] chunk = in.readNBytes(size);
					body.write(chunk);
					if (chunk.length < size || !readLine(in).isEmpty()) {
						return false;
					}
				}
			}
			if (cl.size() > 1) {
				return false;
			}
			long length = cl.isEmpty() ? 0 : Long.parseLong(cl.get(0));
			byte[] bytes = in.readNBytes((int) length);
			body.write(bytes);
			return bytes.length == length;
		}
		catch (IOException | NumberFormatException e) {
			return false;
		}
	}

	private static String readLine(InputStream in) throws IOException {
		StringBuilder sb = new StringBuilder();
		while (true) {
			int b = in.read();
			if (b < 0) {
				throw new IOException("connection ended inside a line");
			}
			if (b == '\r') {
				if (in.read() != '\n') {
					throw new IOException("bare CR");
				}
				return sb.toString();
			}
			sb.append((char) b);
		}
	}

	@Override
	public void close() throws IOException {
		closed = true;
		server.close();
		for (Socket s : open) {
			s.close();
		}
	}

	static String lower(String s) {
		return s.toLowerCase(Locale.ROOT);
	}

}
